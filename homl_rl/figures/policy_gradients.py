"""Figures of "Policy Gradients" and exercise 8 (LunarLander): learning curves and episodes."""

import functools

import matplotlib.pyplot as plt
import numpy as np

from homl_rl.figures.environments import episode_animation
from homl_rl.nn_policy import pg_policy
from homl_rl.engines.policy_gradients import fast_engine_is_exact
from homl_rl.policy_gradients import lander_policy
from homl_rl.seeding import set_seeds


def plot_mean_rewards(mean_rewards, title=None):
    """A learning curve: the mean total reward of each iteration.

    (The notebook's lander cell labels this axis "Episode"; each point is one
    iteration of ``n_episodes_per_update`` episodes, so it is labelled "Iteration" here.)
    """
    fig = plt.figure(figsize=(8, 4))
    plt.plot(np.arange(1, len(mean_rewards) + 1), mean_rewards)
    plt.xlabel("Iteration")
    plt.ylabel("Mean reward")
    if title:
        plt.title(title)
    plt.grid(True)
    return fig


def rewards_plot(run):
    """The learning curve of a REINFORCE run (the CartPole cell's, or exercise 8's lander)."""
    mean_rewards, model = run.result
    config = {key: value for key, value in run.config.items() if key != "engine"}
    return plot_mean_rewards(mean_rewards), {
        "mean_rewards": mean_rewards, "config": config, "engine": run.config["engine"],
        "engine_proven_exact_here": fast_engine_is_exact(config["env_id"]),
        "final_mean_reward": mean_rewards[-1], "best_mean_reward": max(mean_rewards)}


def trained_policy_net_animation(run):
    """The notebook's ``np.random.seed(42); show_one_episode(pg_policy)`` after training."""
    mean_rewards, model = run.result
    return episode_animation(functools.partial(pg_policy, model=model), seed=42)


def trained_lander_animation(run):
    """The notebook's ``frames = lander_render_policy_net(model, seed=42)``, saved as a GIF."""
    mean_rewards, model = run.result
    set_seeds(42)  # the notebook's tf.random.set_seed(seed); the episode seeds the rest
    return episode_animation(lander_policy(model), n_max_steps=500, seed=42,
                             env_id=run.config["env_id"])
