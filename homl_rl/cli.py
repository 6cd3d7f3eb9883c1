"""Command line: ``python -m homl_rl figures [--list] [--only ID ...] [--long] [--out DIR]``,
``python -m homl_rl crosscheck PATH`` and the other subcommands below."""

import argparse
import sys


def _figures(args):
    from homl_rl.figures import UnknownFigureError, all_figures, make_figures, select_figures

    if args.list:
        for spec in all_figures().values():
            long_run = " [long run: made by --long or --only]" if spec.long_run else ""
            print(f"{spec.fig_id:40s} {spec.kind:9s} {spec.description}{long_run}")
        return 0
    try:
        select_figures(args.only, args.long)
    except UnknownFigureError as error:
        print(f"homl-rl figures: error: {error}", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    for spec in make_figures(args.only, out_dir=args.out, progress=not args.quiet,
                             long_runs=args.long):
        print(f"made {spec.fig_id}")
    if not (args.only or args.long):
        skipped = [spec.fig_id for spec in select_figures(long_runs=True)]
        print(f"not made: the long runs {', '.join(skipped)} (hours of training, resumable; "
              "their committed files come from that run): `figures --long` makes them")
    return 0


def _studies(args):
    import matplotlib

    matplotlib.use("Agg")
    from homl_rl.plotting import FIGURES_DIR, use_book_style
    from homl_rl.studies import FULL_GRIDS, FULL_SEEDS, QUICK_SEEDS, run_dqn_study, study_plot

    use_book_style()
    for parameter in args.parameter or list(FULL_GRIDS):
        values = FULL_GRIDS[parameter] if args.full else None
        seeds = FULL_SEEDS if args.full else QUICK_SEEDS
        runs, results = run_dqn_study(parameter, values, seeds, n_episodes=args.episodes,
                                      jobs=args.jobs, progress=not args.quiet)
        study_plot(parameter, runs, results, args.out or FIGURES_DIR)
        print(f"made the {parameter} study ({len(runs)} runs)")
    return 0


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _tf_agents(args):
    from homl_rl.tf_agents_pipeline.cli import tutorial_command

    return tutorial_command(args)


def _breakout_tf_agents(args):
    from homl_rl.tf_agents_pipeline.cli import breakout_command

    return breakout_command(args)


def _breakout(args):
    from homl_rl.breakout import breakout_command

    return breakout_command(args)


def _add_breakout_parser(commands):
    """``breakout train|play``: exercise 9's Keras Double Dueling DQN (homl_rl.breakout)."""
    breakout = commands.add_parser(
        "breakout", help="exercise 9: Keras Double Dueling DQN on Breakout: train "
                         "(checkpointed, --resume) or play (GIF)")
    breakout.add_argument("action", choices=["train", "play"])
    breakout.add_argument("--steps", type=_positive_int, default=1_000_000,
                          help="train: total env steps of the run (a resumed run continues to it)")
    breakout.add_argument("--resume", action="store_true",
                          help="train: continue from DIR/checkpoint.npz")
    breakout.add_argument("--out", metavar="DIR", default="runs/breakout",
                          help="train: where checkpoint.npz goes (default: runs/breakout)")
    breakout.add_argument("--env", default="ALE/Breakout-v5", help="train: an ALE/... game id")
    breakout.add_argument("--seed", type=int, default=42)
    breakout.add_argument("--replay-capacity", type=_positive_int, default=100_000,
                          help="train: transitions kept (~7.1 KB each)")
    breakout.add_argument("--checkpoint", metavar="DIR", default="runs/breakout",
                          help="play: the run directory to load")
    breakout.add_argument("--gif", default="breakout.gif", help="play: the GIF's path")
    breakout.add_argument("--max-steps", type=_positive_int, default=2_000,
                          help="play: steps at most")
    breakout.add_argument("--quiet", action="store_true", help="no progress bar")
    breakout.set_defaults(run=_breakout)


def _compare(args):
    from homl_rl.tf_agents_pipeline.cli import compare_command

    return compare_command(args)


def _add_tf_agents_parsers(commands):
    """The ``tf-agents`` and ``breakout-tf-agents`` subcommands (TF-Agents, 2nd edition)."""
    tutorial = commands.add_parser(
        "tf-agents", help="the TF-Agents DQN tutorial on Gymnasium's CartPole (plot, videos)")
    tutorial.add_argument("--replay-buffer", choices=["reverb", "tf_uniform"], default="reverb",
                          help="Reverb (the tutorial's, nondeterministic sampling) or "
                               "TFUniformReplayBuffer (deterministic at a seed)")
    tutorial.add_argument("--iterations", type=_positive_int, default=20_000,
                          help="training iterations (the tutorial's 20,000)")
    tutorial.add_argument("--eval-interval", type=_positive_int, default=1_000)
    tutorial.add_argument("--num-eval-episodes", type=_positive_int, default=10)
    tutorial.add_argument("--env", default="CartPole-v0", help="Gymnasium id (the tutorial's v0)")
    tutorial.add_argument("--seed", type=int, default=42)
    tutorial.add_argument("--out", metavar="DIR", default="runs/tf_agents",
                          help="where the plot, history and videos go (default: runs/tf_agents)")
    tutorial.add_argument("--no-videos", action="store_true", help="skip the MP4/GIF videos")
    tutorial.add_argument("--quiet", action="store_true", help="no progress bar")
    tutorial.set_defaults(run=_tf_agents)

    breakout = commands.add_parser(
        "breakout-tf-agents", help="the 2nd edition's TF-Agents DQN on Breakout: train "
                                   "(checkpointed, resumable) or play (GIF)")
    breakout.add_argument("action", choices=["train", "play"])
    breakout.add_argument("--checkpoint-dir", metavar="DIR", default="runs/breakout_tf_agents",
                          help="checkpoints and the saved policy (train resumes from here)")
    breakout.add_argument("--iterations", type=_positive_int, default=50_000,
                          help="training iterations this call (4 env steps each)")
    breakout.add_argument("--replay-capacity", type=_positive_int, default=100_000,
                          help="replay buffer capacity (100,000 needs ~3 GB of RAM)")
    breakout.add_argument("--initial-collect-steps", type=_positive_int, default=20_000)
    breakout.add_argument("--checkpoint-interval", type=_positive_int, default=10_000)
    breakout.add_argument("--checkpoint-replay-buffer", action="store_true",
                          help="checkpoint the replay buffer too (GBs); otherwise a resumed "
                               "run refills it with its collect policy")
    breakout.add_argument("--log-interval", type=_positive_int, default=1_000)
    breakout.add_argument("--repeat-action-probability", type=float, default=0.0,
                          help="sticky actions (0 as in the 2nd edition; ALE v5 uses 0.25)")
    breakout.add_argument("--seed", type=int, default=42)
    breakout.add_argument("--steps", type=_positive_int, default=1_000,
                          help="play: steps to play")
    breakout.add_argument("--frames", type=_positive_int, default=300,
                          help="play: frames kept in the GIF")
    breakout.add_argument("--out", default="breakout_tf_agents.gif", help="play: the GIF's path")
    breakout.add_argument("--quiet", action="store_true", help="no progress bar")
    breakout.set_defaults(run=_breakout_tf_agents)

    compare = commands.add_parser(
        "compare", help="TF-Agents' DQN vs our Keras DQN variants on CartPole-v1: "
                        "plot tf_agents_vs_keras_dqn_plot and a results table")
    compare.add_argument("--env-steps", type=_positive_int, default=50_000,
                         help="budget of environment steps per run (default: 50,000)")
    compare.add_argument("--eval-interval", type=_positive_int, default=5_000,
                         help="environment steps between two evaluations")
    compare.add_argument("--eval-episodes", type=_positive_int, default=100,
                         help="episodes per evaluation (default: 100)")
    compare.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44],
                         help="one run per agent and seed (default: 42 43 44)")
    compare.add_argument("--agents", nargs="+", default=None,
                         choices=["tf_agents", "dqn", "fixed_q_targets", "double_dqn",
                                  "dueling_double_dqn"], help="default: all five")
    compare.add_argument("--jobs", type=_positive_int, default=None,
                         help="parallel processes (default: one per core)")
    compare.add_argument("--out", metavar="DIR", default=None,
                         help="where the plot and its data go (default: ./figures)")
    compare.add_argument("--results", metavar="FILE",
                         default="benchmarks/results_tf_agents_vs_keras_dqn.md",
                         help="the results table (Markdown)")
    compare.add_argument("--cache-dir", metavar="DIR", default=".cache/compare",
                         help="finished runs are kept here and not rerun")
    compare.add_argument("--fresh", action="store_true", help="ignore (and replace) cached runs")
    compare.add_argument("--quiet", action="store_true", help="no progress bar")
    compare.set_defaults(run=_compare)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="homl-rl",
        description="Reference implementation of chapter 18 (Reinforcement Learning) "
                    "of Hands-On Machine Learning.")
    commands = parser.add_subparsers(dest="command", required=True)
    figures = commands.add_parser("figures", help="regenerate the chapter's figures and animations")
    figures.add_argument("--list", action="store_true", help="list every figure id and exit")
    figures.add_argument("--only", nargs="+", metavar="ID", help="only these figure ids")
    figures.add_argument("--out", metavar="DIR", default=None,
                         help="output directory (default: ./figures)")
    figures.add_argument("--long", action="store_true",
                         help="make the long runs instead (hours of training; resumable)")
    figures.add_argument("--quiet", action="store_true", help="no progress bar")
    figures.set_defaults(run=_figures)

    studies = commands.add_parser(
        "studies", help="the DQN lecture's hyper-parameter studies (cached, parallel, resumable)")
    studies.add_argument("--full", action="store_true",
                         help="the lecture's full grids (7 values x 3 seeds) instead of the quick ones")
    studies.add_argument("--parameter", nargs="+",
                         choices=["replay_buffer_size", "target_update_period", "batch_size"],
                         help="only these studies")
    studies.add_argument("--jobs", type=_positive_int, default=None,
                         help="parallel processes (default: one per core)")
    studies.add_argument("--episodes", type=_positive_int, default=600, help="episodes per run")
    studies.add_argument("--out", metavar="DIR", default=None, help="output directory")
    studies.add_argument("--quiet", action="store_true", help="no progress bar")
    studies.set_defaults(run=_studies)
    _add_tf_agents_parsers(commands)
    _add_breakout_parser(commands)
    from homl_rl.crosscheck import DEFAULT_TIMEOUT, crosscheck_command

    crosscheck = commands.add_parser(
        "crosscheck", help="compare your own chapter code (.py or .ipynb) with the reference, "
                           "function by function, at the same seeds")
    crosscheck.add_argument("path", metavar="PATH", help="your .py file or .ipynb notebook")
    crosscheck.add_argument("--only", nargs="+", metavar="NAME",
                            help="only these checks (check names or book names)")
    crosscheck.add_argument("--format", choices=["text", "json"], default="text")
    crosscheck.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                            help=f"seconds per check (default: {DEFAULT_TIMEOUT:g})")
    crosscheck.set_defaults(run=crosscheck_command)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
