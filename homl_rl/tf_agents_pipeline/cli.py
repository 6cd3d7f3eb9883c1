"""What the subcommands ``tf-agents``, ``breakout-tf-agents`` and ``compare`` run.

Their arguments are declared in ``homl_rl.cli`` (which stays light to import)::

    python -m homl_rl tf-agents [--replay-buffer reverb|tf_uniform] [--iterations 20000] [--out DIR]
    python -m homl_rl breakout-tf-agents train --checkpoint-dir runs/breakout [--iterations 50000]
    python -m homl_rl breakout-tf-agents play --checkpoint-dir runs/breakout [--out breakout.gif]
    python -m homl_rl compare [--env-steps 50000] [--seeds 42 43 44] [--jobs 2]
"""

import sys
import time
from pathlib import Path


def tutorial_command(args):
    """``tf-agents``: run the tutorial, write the plot, the history and the videos."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from homl_rl.plotting import save_fig, use_book_style
    from homl_rl.io import write_json
    from homl_rl.animation import save_animation
    from homl_rl.tf_agents_pipeline.cartpole import (
        TutorialConfig, plot_returns, policy_eval_frames, run_tutorial)
    from tf_agents.policies import py_tf_eager_policy

    try:
        config = TutorialConfig(env_name=args.env, num_iterations=args.iterations,
                                eval_interval=args.eval_interval,
                                num_eval_episodes=args.num_eval_episodes,
                                replay_buffer=args.replay_buffer, seed=args.seed)
    except ValueError as error:
        print(f"homl-rl tf-agents: error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
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


def _breakout_config(args):
    from homl_rl.atari import AtariConfig
    from homl_rl.tf_agents_pipeline.breakout import BreakoutConfig

    atari = AtariConfig(repeat_action_probability=args.repeat_action_probability)
    return BreakoutConfig(atari=atari, n_iterations=args.iterations,
                          replay_buffer_max_length=args.replay_capacity,
                          initial_collect_steps=args.initial_collect_steps,
                          checkpoint_interval=args.checkpoint_interval,
                          log_interval=args.log_interval, seed=args.seed)


def breakout_command(args):
    """``breakout-tf-agents train|play``."""
    import logging

    from absl import logging as absl_logging

    checkpoint_dir = Path(args.checkpoint_dir)
    policy_dir = checkpoint_dir / "policy"
    if args.action == "play" and not (policy_dir / "saved_model.pb").exists():
        print(f"homl-rl breakout-tf-agents: error: no saved policy in {policy_dir}; "
              "train first (breakout-tf-agents train --checkpoint-dir ...)", file=sys.stderr)
        return 2
    from homl_rl.tf_agents_pipeline.breakout import BreakoutPipeline, save_breakout_gif

    if args.action == "play":
        path, rewards = save_breakout_gif(policy_dir, args.out, num_steps=args.steps,
                                          n_frames=args.frames, seed=args.seed)
        print(f"wrote {path}: {min(args.frames, len(rewards))} frames; "
              f"{sum(rewards):.0f} points in {len(rewards)} steps")
        return 0
    try:
        config = _breakout_config(args)
    except ValueError as error:
        print(f"homl-rl breakout-tf-agents: error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # absl's verbosity, not just its logger's level: saving the policy (TF's AutoTrackable)
    # restores absl's *verbosity*, which would silence log_metrics after the first checkpoint
    absl_logging.set_verbosity(absl_logging.INFO)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # SavedModel chatter
    pipeline = BreakoutPipeline(config)
    history = pipeline.train_agent(checkpoint_dir=checkpoint_dir,
                                   checkpoint_replay_buffer=args.checkpoint_replay_buffer,
                                   progress=not args.quiet)
    print(f"trained steps {history['start_step']} to {history['end_step']} in "
          f"{history['seconds']:.0f} s ({history['env_steps'] / history['seconds']:.0f} env steps/s); "
          f"checkpoint, policy and history in {checkpoint_dir}")
    return 0


def compare_command(args):
    """``compare``: train every agent and seed (cached, in parallel), plot, write the table."""
    import shutil

    import matplotlib

    matplotlib.use("Agg")
    from homl_rl.plotting import use_book_style
    from homl_rl.tf_agents_pipeline.compare import AGENTS, CompareConfig, compare_agents

    try:
        config = CompareConfig(env_steps=args.env_steps, eval_interval=args.eval_interval,
                               n_eval_episodes=args.eval_episodes, seeds=tuple(args.seeds),
                               agents=tuple(args.agents or AGENTS))
    except ValueError as error:
        print(f"homl-rl compare: error: {error}", file=sys.stderr)
        return 2
    if args.fresh:
        shutil.rmtree(args.cache_dir, ignore_errors=True)
    use_book_style()
    start = time.perf_counter()
    summary, table = compare_agents(config, out_dir=args.out, results_path=args.results,
                                    jobs=args.jobs, cache_dir=args.cache_dir,
                                    progress=not args.quiet)
    print(table)
    print(f"wrote {Path(args.out or 'figures') / 'tf_agents_vs_keras_dqn_plot.png'} and "
          f"{args.results} in {time.perf_counter() - start:.0f} s")
    return 0
