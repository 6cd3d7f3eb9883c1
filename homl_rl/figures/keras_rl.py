"""Figure of lecture 002's keras-rl2 DQNAgent on CartPole-v0: its training and its tests."""

import matplotlib.pyplot as plt
import numpy as np


def keras_rl_dqn_plot(run):
    """Training episode rewards against steps, and the five greedy test episodes before and
    after ``fit`` (``run``: the ``keras_rl_cartpole`` run of :mod:`homl_rl.runs`)."""
    fit, before, after = (run.result[key] for key in ("fit", "test_before", "test_after"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 1]})
    left.plot(fit["nb_steps"], fit["episode_reward"], ".-")
    left.set_xlabel("Environment steps", fontsize=12)
    left.set_ylabel("Episode reward", fontsize=12)
    left.set_title(f"fit: {len(fit['episode_reward'])} episodes in "
                   f"{run.config['nb_steps']} steps (seed {run.seed})")
    left.grid(True)
    positions = np.arange(1, len(before["episode_reward"]) + 1)
    right.bar(positions - 0.2, before["episode_reward"], width=0.4, label="before fit")
    right.bar(positions + 0.2, after["episode_reward"], width=0.4, label="after fit")
    right.set_xticks(positions)
    right.set_xlabel("Test episode", fontsize=12)
    right.set_ylim(0, 210)
    right.legend(loc="upper left")
    right.set_title(f"test: mean {np.mean(after['episode_reward']):.1f} after")
    right.grid(True, axis="y")
    return fig, {
        "seed": run.seed, "nb_steps": run.config["nb_steps"],
        "fit_episode_reward": fit["episode_reward"], "fit_nb_steps": fit["nb_steps"],
        "test_before": before["episode_reward"], "test_after": after["episode_reward"],
        "test_after_mean": float(np.mean(after["episode_reward"])),
        "lecture_test_before": [9, 10, 8, 9, 9], "lecture_test_after": [157, 140, 134, 200, 143],
    }
