"""Figures of "Introduction to Gymnasium" and "A Simple Hard-Coded Policy"."""

import matplotlib.pyplot as plt

from homl_rl.animation import record_episode
from homl_rl.environments import basic_policy, make_env, plot_environment
from homl_rl.figures import Frames


def cart_pole_plot():
    """The notebook's ``plot_environment(env); save_fig("cart_pole_plot")`` cell."""
    env = make_env("CartPole-v1")
    obs_reset, info = env.reset(seed=42)
    obs, reward, done, truncated, info = env.step(1)
    plot_environment(env)
    env.close()
    return plt.gcf(), {"reset_obs": obs_reset, "action": 1, "obs": obs, "reward": reward,
                       "done": done, "truncated": truncated}


def episode_animation(policy, n_max_steps=200, seed=42, env_id="CartPole-v1"):
    """One episode of ``policy`` as the notebook's ``show_one_episode`` plays it: its frames
    and its data (the actions and rewards played)."""
    frames, episode = record_episode(policy, n_max_steps, seed, env_id)
    return Frames(frames), dict(episode, env_id=env_id, n_max_steps=n_max_steps)


def basic_policy_animation():
    """The notebook's ``show_one_episode(basic_policy)``, saved as a GIF."""
    return episode_animation(basic_policy)
