"""Command line: ``python -m homl_rl figures [--list] [--only ID ...] [--out DIR]``."""

import argparse
import sys


def _figures(args):
    from homl_rl.figures import UnknownFigureError, all_figures, make_figures, select_figures

    if args.list:
        for spec in all_figures().values():
            print(f"{spec.fig_id:40s} {spec.kind:9s} {spec.description}")
        return 0
    try:
        select_figures(args.only)
    except UnknownFigureError as error:
        print(f"homl-rl figures: error: {error}", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    for spec in make_figures(args.only, out_dir=args.out, progress=not args.quiet):
        print(f"made {spec.fig_id}")
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
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
