"""What the subcommands run, once :mod:`homl_rl.cli` has parsed and checked their arguments.

Each handler takes the parsed ``args`` (with ``args.config``, the subcommand's config
dataclass built from its options) and returns the exit code. The modules a subcommand
needs are imported by its handler, so choosing one subcommand loads nothing of the others::

    python -m homl_rl figures [--list] [--only ID ...] [--long] [--out DIR]
    python -m homl_rl dqn --variant double_dqn [--revision older] [--episodes 600] [--out run.json]
    python -m homl_rl policy-gradients [--lander] [--revision older] [--out run.json]
    python -m homl_rl studies [--lecture] [--full] [--parameter NAME ...] [--jobs N] [--logdir DIR]
                              [--ray [--ray-address ADDR]]
    python -m homl_rl tf-agents [--replay-buffer reverb|tf_uniform] [--iterations 20000] [--out DIR]
    python -m homl_rl breakout-tf-agents train --checkpoint-dir runs/breakout [--logdir DIR]
    python -m homl_rl breakout-tf-agents play --checkpoint-dir runs/breakout [--out breakout.gif]
    python -m homl_rl breakout train --steps 1000000 --out runs/breakout [--resume] [--logdir DIR]
    python -m homl_rl breakout play --checkpoint runs/breakout --gif breakout.gif
    python -m homl_rl compare [--env-steps 50000] [--seeds 42 43 44] [--jobs 2]
"""

import sys
import time
from pathlib import Path

from homl_rl.stack import TF_AGENTS_NEEDS, has_tf_agents


def _error(command, message):
    """Print ``homl-rl COMMAND: error: message`` (one line) and return exit code 2."""
    print(f"homl-rl {command}: error: {message}", file=sys.stderr)
    return 2


def _agg():
    """Draw off-screen (no window, any machine)."""
    import matplotlib

    matplotlib.use("Agg")


def figures(args):
    """``figures``: list, or make the selected figures (not the long runs unless asked)."""
    from homl_rl.figures import all_figures, make_figures, select_figures, skipped_figures

    if args.list:
        for spec in all_figures().values():
            long_run = " [long run: made by --long or --only]" if spec.long_run else ""
            reference = (" [reference stack only: TF-Agents]"
                         if spec.needs_tf_agents and not has_tf_agents() else "")
            print(f"{spec.fig_id:40s} {spec.kind:9s} {spec.description}{long_run}{reference}")
        return 0
    _agg()
    for spec in make_figures(args.only, out_dir=args.out, progress=not args.quiet,
                             long_runs=args.long):
        print(f"made {spec.fig_id}")
    long_runs = [spec.fig_id for spec in select_figures(long_runs=True)]
    if long_runs and not (args.only or args.long):
        print(f"not made: the long runs {', '.join(long_runs)} (hours of training, resumable; "
              "their committed files come from that run): `figures --long` makes them")
    skipped = skipped_figures(long_runs=args.long) if not args.only else []
    if skipped:
        print(f"not made: {', '.join(skipped)} ({TF_AGENTS_NEEDS})")
    return 0


def _save_run(args, name, config, seed, rewards, per):
    """Print a training run's summary; write its rewards, config and stack to ``args.out``."""
    from dataclasses import asdict

    from homl_rl.io import write_json
    from homl_rl.stack import stack_info

    best, last = max(rewards), rewards[-100:]
    print(f"{name}, {config.revision} revision, seed {seed}: {len(rewards)} {per}{'s' * (len(rewards) != 1)}, best {best:g} "
          f"(first at {per} {rewards.index(best)}), mean of the last {len(last)}: "
          f"{sum(last) / len(last):.1f}")
    if args.out is not None:
        write_json(args.out, {"run": name, "config": asdict(config), "seed": seed,
                              "engine": args.engine, "rewards": rewards, "stack": stack_info()})
        print(f"wrote {args.out}")


def dqn(args):
    """``dqn``: train a chapter DQN variant (current or older revision); summary, JSON."""
    from homl_rl.dqn import train_dqn

    try:  # args.config: built once, by the command line (cli._build_dqn_config)
        history, model = train_dqn(args.variant, config=args.config, engine=args.engine,
                                   progress=not args.quiet)
    except ValueError as error:
        return _error("dqn", error)
    # the notebook's rewards: each episode's last step index
    _save_run(args, args.variant, args.config, args.config.seed, history.last_steps, "episode")
    return 0


def policy_gradients(args):
    """``policy-gradients``: REINFORCE on CartPole or (``--lander``) LunarLander; summary, JSON."""
    from homl_rl.policy_gradients import LANDER_CONFIG, policy_gradients_config, train_from_config

    values = dict(args.config_values)
    env_id = LANDER_CONFIG.env_id if args.lander else "CartPole-v1"
    try:
        config = policy_gradients_config(env_id, values.pop("revision", "current"),
                                         values.pop("optimizer", None), **values)
        mean_rewards, model = train_from_config(config, args.engine, progress=not args.quiet)
    except ValueError as error:
        return _error("policy-gradients", error)
    _save_run(args, "lunar_lander" if args.lander else "policy_gradients", config, config.seed,
              mean_rewards, "iteration")
    return 0


def studies(args):
    """``studies``: run the DQN lecture's studies (the chapter DQN's, or with ``--lecture``
    the lecture agent's), each run cached, and draw each as its registered figure
    (:attr:`homl_rl.experiments.Study.figure`) into ``--out``."""
    _agg()
    from homl_rl.experiments import LECTURE_AGENT, CHAPTER_AGENT, study_named
    from homl_rl.experiments.studies import study_config
    from homl_rl.figures import FIGURES, make_figure
    from homl_rl.plotting import FIGURES_DIR, use_book_style
    from homl_rl.runs import run

    use_book_style()
    agent = LECTURE_AGENT if args.lecture else CHAPTER_AGENT
    options = dict(jobs=args.jobs, use_ray=args.ray, ray_address=args.ray_address)
    if args.logdir is not None:
        options["logdir"] = args.logdir
    for name in args.parameter:
        study = study_named(agent, name)
        result = run(study.run, progress=not args.quiet, options=options,
                     config=study_config(study, full=args.full, n_episodes=args.episodes))
        make_figure(FIGURES[study.figure], args.out or FIGURES_DIR, run_results=[result])
        print(f"made the {name} study of {study.agent}'s DQN ({len(result.result[0])} runs): "
              f"{study.figure}")
    return 0


def tf_agents(args):
    """``tf-agents``: run the tutorial, write the plot, the history and the videos."""
    _agg()
    import matplotlib.pyplot as plt
    from tf_agents.policies import py_tf_eager_policy

    from homl_rl.animation import save_animation
    from homl_rl.io import write_json
    from homl_rl.plotting import save_fig, use_book_style
    from homl_rl.tf_agents_pipeline.cartpole import plot_returns, policy_eval_frames, run_tutorial

    config, out = args.config, Path(args.out)
    start = time.perf_counter()
    pipeline, history = run_tutorial(config, progress=not args.quiet)
    history["total_seconds"] = time.perf_counter() - start
    for iteration, avg_return in zip(history["iterations"], history["returns"]):
        print(f"step = {iteration}: Average Return = {avg_return}")
    print(f"{config.num_iterations} iterations in {history['train_seconds']:.0f} s of training "
          f"({history['total_seconds']:.0f} s in all)")
    use_book_style()
    name = f"tf_agents_{config.replay_buffer}"
    plt.figure(figsize=(8, 4))
    plot_returns(history)
    save_fig(f"{name}_returns_plot", out_dir=out)
    write_json(out / f"{name}_history.json", history)
    if not args.no_videos:
        trained = py_tf_eager_policy.PyTFEagerPolicy(pipeline.agent.policy, use_tf_function=True)
        random = py_tf_eager_policy.PyTFEagerPolicy(pipeline.random_policy, use_tf_function=True)
        for label, policy in (("trained-agent", trained), ("random-agent", random)):
            # the tutorial's create_policy_eval_video: 5 episodes at 30 fps
            frames = policy_eval_frames(pipeline.eval_py_env, policy, num_episodes=5)
            for suffix in (".mp4", ".gif"):
                save_animation(frames, out / f"{name}_{label}{suffix}", interval=1000 / 30)
            print(f"wrote {out}/{name}_{label}.mp4 and .gif ({len(frames)} frames)")
    pipeline.close()
    print(f"wrote {out}/{name}_returns_plot.png and {name}_history.json")
    return 0


def breakout_tf_agents(args):
    """``breakout-tf-agents train|play``: the 2nd edition's TF-Agents Breakout run."""
    import logging

    from absl import logging as absl_logging

    checkpoint_dir = Path(args.checkpoint_dir)
    policy_dir = checkpoint_dir / "policy"
    if args.action == "play" and not (policy_dir / "saved_model.pb").exists():
        return _error("breakout-tf-agents", f"argument --checkpoint-dir: no saved policy in "
                                            f"{policy_dir}; train first (breakout-tf-agents "
                                            "train --checkpoint-dir ...)")
    from homl_rl.tf_agents_pipeline.breakout import BreakoutPipeline, save_breakout_gif

    config = args.config
    if args.action == "play":
        path, rewards = save_breakout_gif(policy_dir, args.out, config, num_steps=args.steps,
                                          n_frames=args.frames, seed=config.seed)
        print(f"wrote {path}: {min(args.frames, len(rewards))} frames; "
              f"{sum(rewards):.0f} points in {len(rewards)} steps")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # absl's verbosity, not just its logger's level: saving the policy (TF's AutoTrackable)
    # restores absl's *verbosity*, which would silence log_metrics after the first checkpoint
    absl_logging.set_verbosity(absl_logging.INFO)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # SavedModel chatter
    pipeline = BreakoutPipeline(config)
    history = pipeline.train_agent(checkpoint_dir=checkpoint_dir,
                                   checkpoint_replay_buffer=args.checkpoint_replay_buffer,
                                   progress=not args.quiet, logdir=args.logdir)
    stopped = " (interrupted)" if history.get("interrupted") else ""
    print(f"trained steps {history['start_step']} to {history['end_step']}{stopped} in "
          f"{history['seconds']:.0f} s ({history['env_steps'] / history['seconds']:.0f} env "
          f"steps/s); checkpoint, policy and history in {checkpoint_dir}")
    return 130 if history.get("interrupted") else 0


def breakout(args):
    """``breakout train|play``: exercise 9's Keras Double Dueling DQN run, or its agent playing."""
    from homl_rl.animation import save_animation
    from homl_rl.breakout import load_agent, record_breakout_episode, train_breakout
    from homl_rl.checkpoints import CHECKPOINT_NAME, CheckpointError

    try:
        if args.action == "train":
            state, agent, best = train_breakout(args.config, args.out, resume=args.resume,
                                                progress=not args.quiet, logdir=args.logdir)
            word = "interrupted" if state.interrupted else "done"
            print(f"{word} at step {state.step}: {len(state.episode_returns)} episodes, "
                  f"best evaluation {state.best_score}; checkpoint in "
                  f"{Path(args.out) / CHECKPOINT_NAME}")
            return 130 if state.interrupted else 0
        try:
            agent, config, meta = load_agent(args.checkpoint)
        except CheckpointError as error:
            return _error("breakout", f"argument --checkpoint: {error}")
        frames, actions, total = record_breakout_episode(agent, config, args.max_steps)
        path = save_animation(frames, args.gif)
        print(f"played {len(actions)} steps, return {total}; wrote {path}")
        return 0
    except (ValueError, CheckpointError) as error:
        return _error("breakout", error)


def muzero(args):
    """``muzero train|play``: a MuZero run (checkpointed, resumable), or its agent playing."""
    from homl_rl.checkpoints import CheckpointError

    try:
        if args.action == "play":
            from homl_rl.animation import save_animation
            from homl_rl.muzero.play import load_trained, play_game

            try:
                config, weights, meta = load_trained(args.checkpoint_dir)
            except CheckpointError as error:
                return _error("muzero", f"argument --checkpoint-dir: {error}")
            game, frames = play_game(config, weights, args.seed)
            path = save_animation(frames, args.gif)
            print(f"played {len(game)} moves (the network after {meta['trained_steps']} "
                  f"training steps), total reward {game.total_reward:g}; wrote {path}")
            return 0
        if args.ray:
            return _muzero_on_ray(args)
        import numpy as np

        from homl_rl.muzero.training import MUZERO_CHECKPOINT_NAME, train

        checkpoint = Path(args.checkpoint_dir) / MUZERO_CHECKPOINT_NAME
        if checkpoint.exists():
            print(f"resuming the run in {checkpoint}")
        history = train(args.config, progress=not args.quiet, logdir=args.logdir,
                        checkpoint_dir=args.checkpoint_dir, save_interval=args.save_interval,
                        final_test_episodes=args.final_test_episodes,
                        time_limit=None if args.minutes is None else args.minutes * 60)
    except (ValueError, CheckpointError) as error:
        return _error("muzero", error)
    final = history["final_test_rewards"]
    if history["timed_out"]:
        print(f"stopped after {args.minutes:g} minutes of training (--minutes): run again "
              "with more to resume")
    print(_muzero_summary(history, args.config.training_steps, "at"))
    if final:
        print(f"final test: {np.mean(final):.1f} +- {np.std(final):.1f} over {len(final)} "
              f"games at temperature 0")
    print(f"checkpoint in {checkpoint}")
    return 130 if history["interrupted"] else 0


def _muzero_summary(history, training_steps, where):
    """One line of a MuZero run's end: done (or interrupted) ``where`` training step N/M,
    the games, the time, the last and best test rewards."""
    tests = history["test_rewards"]
    word = "interrupted" if history["interrupted"] else "done"
    return (f"{word} {where} training step {history['training_steps']}/{training_steps}: "
            f"{history['played_games']} games played, {history['seconds']:.0f} s; test "
            f"rewards: last {tests[-1] if tests else None}, "
            f"best {max(tests) if tests else None}")


def _muzero_on_ray(args):
    """``muzero train --ray``: the roles as Ray actors; the final weights and history saved
    to ``RAY_CHECKPOINT_NAME`` (for ``muzero play``), a Ray run being not resumable."""
    from homl_rl.muzero.checkpoint import save_ray_run
    from homl_rl.muzero.distributed import train_on_ray
    from homl_rl.muzero.training import MUZERO_CHECKPOINT_NAME, RAY_CHECKPOINT_NAME

    folder = Path(args.checkpoint_dir)
    for name in (MUZERO_CHECKPOINT_NAME, RAY_CHECKPOINT_NAME):
        if (folder / name).exists():
            return _error("muzero", f"argument --checkpoint-dir: {folder / name} exists, and a "
                                    "run on Ray starts afresh (it cannot resume): use another "
                                    "folder")
    history = train_on_ray(args.config, address=args.ray_address,
                           progress=not args.quiet, logdir=args.logdir,
                           num_workers=args.num_workers)
    path = save_ray_run(folder / RAY_CHECKPOINT_NAME, history, args.config.training_steps)
    print(_muzero_summary(history, args.config.training_steps, "on Ray at"))
    print(f"final weights in {path}")
    return 130 if history["interrupted"] else 0


def compare(args):
    """``compare``: train every agent and seed (cached, in parallel), draw the figure through
    the registry, write the results table."""
    import shutil
    from dataclasses import asdict

    _agg()
    from homl_rl.experiments.compare import aggregate, comparison_table, results_markdown
    from homl_rl.figures import FIGURES, make_figure
    from homl_rl.io import write_text
    from homl_rl.plotting import FIGURES_DIR, use_book_style
    from homl_rl.runs import run

    if args.fresh:
        shutil.rmtree(args.cache_dir, ignore_errors=True)
    use_book_style()
    start = time.perf_counter()
    comparison = run("comparison", progress=not args.quiet,
                     config=dict(asdict(args.config), seed=None),
                     options=dict(jobs=args.jobs, cache_dir=args.cache_dir))
    out = args.out or FIGURES_DIR
    paths = make_figure(FIGURES["tf_agents_vs_keras_dqn_plot"], out, run_results=[comparison])
    table = comparison_table(aggregate(comparison.result, args.config), args.config)
    write_text(args.results, results_markdown(table, args.config))
    print(table)
    print(f"wrote {paths[0]} and {args.results} in {time.perf_counter() - start:.0f} s")
    return 0
