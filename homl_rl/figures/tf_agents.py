"""Figures of "Using TF-Agents" (2nd edition), the TF-Agents DQN tutorial and the comparison.

The only figure module that loads TF-Agents (and Reverb): the registry imports it only
when one of its figures is made; the comparison's figure (:func:`tf_agents_vs_keras_dqn_plot`)
draws the runs of :mod:`homl_rl.experiments.compare`.
"""

import warnings
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt

from homl_rl.atari import plot_observation
from homl_rl.figures import Frames
from homl_rl.paths import BREAKOUT_TF_AGENTS_RUN
from homl_rl.run_cache import config_from
from homl_rl.seeding import set_seeds
from homl_rl.tf_agents_pipeline.breakout import (
    AGENT_GIF_STEPS, AGENT_RUN, SUB_EPISODES_CONFIG, BreakoutPipeline,
    mean_losses, play, run_metrics)
from homl_rl.tf_agents_pipeline.cartpole import (
    TutorialConfig, plot_returns, policy_eval_frames, py_tf_eager_policy, random_tf_policy)
from homl_rl.experiments.compare import (
    CompareConfig, aggregate, groups, label, reproducible_runs)
from homl_rl.tf_agents_pipeline.environments import load

VIDEO_FPS = 30
"""The tutorial's ``create_policy_eval_video`` frame rate."""


def _reproducible(history):
    """The history without its wall-clock times (which change from run to run)."""
    return {key: value for key, value in history.items()
            if key not in ("wall_seconds", "train_seconds", "eval_seconds")}


def tf_agents_returns_plot(tutorial):
    """The tutorial's "Plots" cell, after its full training run (``tutorial``: its run)."""
    pipeline, history = tutorial.result
    plt.figure(figsize=(8, 4))
    plot_returns(history)
    return plt.gcf(), _reproducible(history)


def policy_video(py_env, policy, num_episodes, seed):
    """The frames of the tutorial's ``create_policy_eval_video`` (environment seeded with
    ``seed``), saved as a GIF and an MP4 at 30 frames a second."""
    py_env.seed(seed)
    frames = policy_eval_frames(py_env, policy, num_episodes)
    return (Frames(frames, interval=1000 / VIDEO_FPS, formats=("gif", "mp4")),
            {"num_episodes": num_episodes, "env_seed": seed, "n_frames": len(frames)})


def tf_agents_trained_agent(tutorial):
    """The tutorial's ``create_policy_eval_video(agent.policy, "trained-agent")`` (one episode)."""
    pipeline, history = tutorial.result
    policy = py_tf_eager_policy.PyTFEagerPolicy(pipeline.agent.policy, use_tf_function=True)
    return policy_video(pipeline.eval_py_env, policy, 1, seed=tutorial.seed + 2)


def tf_agents_random_agent(config=TutorialConfig(replay_buffer="tf_uniform")):
    """The tutorial's ``create_policy_eval_video(random_policy, "random-agent")``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is out of date.*")
        py_env = load(config.env_name)
    set_seeds(config.seed)
    random_policy = random_tf_policy.RandomTFPolicy(py_env.time_step_spec(), py_env.action_spec())
    policy = py_tf_eager_policy.PyTFEagerPolicy(random_policy, use_tf_function=True)
    video = policy_video(py_env, policy, 5, seed=config.seed + 2)
    py_env.close()
    return video


def plot_comparison(summary, config):
    """The three comparisons (:func:`~homl_rl.experiments.compare.groups`) side by
    side: average evaluation return vs environment steps, mean over seeds, band from min to
    max; a comparison none of whose agents ran is left out."""
    shown = [(title, [agent for agent in agents if agent in summary])
             for title, agents in groups()]
    shown = [(title, agents) for title, agents in shown if agents]
    fig, axes = plt.subplots(1, len(shown), figsize=(5.5 * len(shown), 4.5), sharey=True,
                             squeeze=False)
    for ax, (title, agents) in zip(axes[0], shown):
        for agent in agents:
            row = summary[agent]
            line, = ax.plot(row["env_steps"], row["mean"], label=label(agent))
            ax.fill_between(row["env_steps"], row["min"], row["max"], color=line.get_color(),
                            alpha=0.15)
        ax.axhline(config.solved_return, color="k", linestyle=":", linewidth=1)
        ax.grid(True)
        ax.set_xlabel("Environment steps")
        ax.set_title(title, fontsize=12)
        ax.legend(loc="upper left", fontsize=9)
    axes[0, 0].set_ylabel(f"Average return ({config.n_eval_episodes} episodes)")
    fig.suptitle(f"CartPole-v1: mean over {len(config.seeds)} seeds, band: min to max",
                 fontsize=12)
    return fig


def comparison_figure(results, config):
    """The comparison's figure (average return vs environment steps) and its data: the
    runs' evaluations, without their wall-clock times (those go to the results file)."""
    fig = plot_comparison(aggregate(results, config), config)
    return fig, {"config": asdict(config), "runs": reproducible_runs(results)}


def tf_agents_vs_keras_dqn_plot(comparison):
    """``python -m homl_rl compare`` with its defaults (``comparison``: its run)."""
    config = config_from(CompareConfig, comparison.config, ignore=("seed",))
    return comparison_figure(comparison.result, config)


def sub_episodes_plot(config=SUB_EPISODES_CONFIG):
    """The 2nd edition's cells: random initial collection, sample 2x3 steps, plot them."""
    pipeline = BreakoutPipeline(config)
    pipeline.collect_initial(progress=False)
    trajectories = pipeline.sample_trajectories()
    plt.figure(figsize=(10, 6.8))
    for row in range(2):
        for col in range(3):
            plt.subplot(2, 3, row * 3 + col + 1)
            plot_observation(trajectories.observation[row, col].numpy())
    plt.subplots_adjust(left=0, right=1, bottom=0, top=1, hspace=0, wspace=0.02)
    return plt.gcf(), {
        "initial_collect_steps": config.initial_collect_steps, "seed": config.seed,
        "sample_seed": 9, "observation_shape": trajectories.observation.shape.as_list(),
        "step_type": trajectories.step_type.numpy(), "action": trajectories.action.numpy(),
        "reward": trajectories.reward.numpy()}


def breakout_tf_agents_training_plot(long_run, config=AGENT_RUN):
    """``train_agent``'s logged metrics (last 10 episodes of the collect policy) vs env steps;
    ``long_run``: the run's histories (``breakout_tf_agents_long``), ``config`` its config."""
    histories = long_run.result
    metrics, losses = run_metrics(histories), mean_losses(histories, config.log_interval)
    env_steps = [entry["EnvironmentSteps"] for entry in metrics]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    top.plot(env_steps, [entry["AverageReturn"] for entry in metrics], ".-")
    top.axvline(config.epsilon_decay_steps, color="gray", linestyle="--")
    top.text(config.epsilon_decay_steps, 0.05, r" $\varepsilon$ = 0.01 from here", color="gray",
             transform=top.get_xaxis_transform(), fontsize=11)
    top.set_ylabel("Average return\n(last 10 episodes)")
    top.grid(True)
    loss_steps = [config.train_period * config.log_interval * (i + 1) for i in range(len(losses))]
    bottom.semilogy(loss_steps, losses, ".-")
    bottom.set_xlabel("Environment step (4 ALE frames)")
    bottom.set_ylabel(f"Huber loss\n(mean of {config.log_interval:,} iterations)")
    bottom.grid(True)
    return fig, {
        "config": asdict(config),
        "metrics": [{key: value for key, value in entry.items() if key != "seconds"}
                    for entry in metrics],
        "mean_losses": losses}


def breakout_tf_agents(long_run, config=AGENT_RUN, checkpoint_dir=BREAKOUT_TF_AGENTS_RUN,
                       num_steps=AGENT_GIF_STEPS, seed=42):
    """The 2nd edition's ``watch_driver`` and GIF, on the saved greedy policy of the run,
    at the Atari's own 160x210 pixels (30 ms a frame)."""
    metrics = run_metrics(long_run.result)
    frames, rewards = play(Path(checkpoint_dir) / "policy", config, num_steps, seed)
    rewards = rewards[:num_steps]  # the GIF's frames (the driver also records episode boundaries)
    return Frames(frames[:num_steps], interval=30, scale=1), {
        "trained_iterations": config.n_iterations,
        "trained_env_steps": metrics[-1]["EnvironmentSteps"],
        "final_average_return": metrics[-1]["AverageReturn"], "seed": seed,
        "n_frames": len(rewards), "rewards": rewards, "points": sum(rewards)}
