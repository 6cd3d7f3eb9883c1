"""Figures of exercise 9 (Keras Double Dueling DQN on Breakout): the short run's returns and
its agent playing."""

import matplotlib.pyplot as plt
import numpy as np

from homl_rl.breakout import BreakoutConfig, record_breakout_episode
from homl_rl.figures import Frames
from homl_rl.run_cache import config_from

NOTE = ("a short run (5,000 env steps = 20,000 ALE frames); a superhuman Breakout agent "
        "needs ~10M+ frames")


def breakout_training_plot(run):
    """Training-episode and evaluation returns vs env steps (``run``: ``breakout_short``)."""
    state, agent, best = run.result
    episodes = np.array(state.episode_returns).reshape(-1, 2)
    evaluations = np.array(state.evaluations).reshape(-1, 2)
    plt.figure(figsize=(8, 4))
    plt.plot(episodes[:, 0], episodes[:, 1], "o-", markersize=3, label="training episodes")
    plt.plot(evaluations[:, 0], evaluations[:, 1], "s--", label="evaluation (fixed seed)")
    plt.xlabel("Environment step (4 frames)")
    plt.ylabel("Return (game score)")
    plt.ylim(-0.5, 1.6 * max(1.0, episodes[:, 1].max(initial=0), evaluations[:, 1].max(initial=0)))
    plt.legend(loc="upper left", fontsize=11)
    plt.grid(True)
    return plt.gcf(), {"config": run.config, "episode_returns": state.episode_returns,
                       "evaluations": state.evaluations, "best_score": state.best_score,
                       "note": NOTE}


def breakout_animation(run, n_max_steps=400):
    """The short run's agent playing one evaluation episode with its best evaluated weights."""
    state, agent, best = run.result
    config = config_from(BreakoutConfig, run.config)
    last = agent.model.get_weights()
    if best is not None:
        agent.model.set_weights(best)
    frames, actions, total = record_breakout_episode(agent, config, n_max_steps=n_max_steps)
    agent.model.set_weights(last)
    return Frames(frames), {"actions": actions, "return": total, "n_frames": len(frames),
                            "eval_seed": config.eval_seed, "eval_epsilon": config.eval_epsilon,
                            "trained_steps": config.n_steps}
