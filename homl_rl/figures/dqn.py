"""Figures of the DQN sections: each variant's learning curve and one greedy episode."""

import matplotlib.pyplot as plt

from homl_rl.figures.environments import episode_animation


def plot_rewards(rewards):
    """The notebook's learning-curve cell."""
    fig = plt.figure(figsize=(8, 4))
    plt.plot(rewards)
    plt.xlabel("Episode", fontsize=14)
    plt.ylabel("Sum of rewards", fontsize=14)
    plt.grid(True)
    return fig


def rewards_plot(run):
    """A variant's learning curve (``run``: a DQN run of :mod:`homl_rl.runs`): the notebook's
    ``rewards`` list (:attr:`~homl_rl.history.TrainingHistory.last_steps`)."""
    history, agent = run.result
    rewards = history.last_steps
    hyperparameters = {key: value for key, value in run.config.items()
                       if key not in ("variant", "seed", "engine")}
    return plot_rewards(rewards), {
        "variant": run.config["variant"], "seed": run.seed, "engine": agent.engine.name,
        "rewards": rewards,
        "rewards_note": "the notebook's rewards.append(step): 0-based last step = sum of rewards - 1",
        "best_score": max(rewards),
        "best_episode": len(rewards) - 1 - rewards[::-1].index(max(rewards)),  # latest of ties
        "config": hyperparameters,
    }


def animation(run):
    """One episode of the trained agent's greedy policy (``epsilon_greedy_policy``, epsilon=0)."""
    _, agent = run.result
    return episode_animation(agent.epsilon_greedy_policy)
