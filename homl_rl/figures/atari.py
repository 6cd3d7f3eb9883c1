"""The Breakout frames of the 2nd edition's "Using TF-Agents to Beat Breakout" (no training)."""

import matplotlib.pyplot as plt

from homl_rl.atari import ENV_ID, FIRE, LEFT, make_breakout_env, plot_observation
from homl_rl.environments import make_env


def breakout_plot():
    """The 2nd edition's ``env.reset(); env.step(1) # Fire``, ``breakout_plot`` cell."""
    env = make_env(ENV_ID)
    env.reset(seed=42)
    obs, reward, terminated, truncated, info = env.step(FIRE)
    img = env.render()
    plt.figure(figsize=(6, 8))
    plt.imshow(img)
    plt.axis("off")
    env.close()
    return plt.gcf(), {"env_id": ENV_ID, "reset_seed": 42, "action": FIRE,
                       "frame_shape": img.shape, "lives": info["lives"],
                       "frame_mean": float(img.mean())}


def preprocessed_breakout_plot():
    """The 2nd edition's cells: reset, 4 steps LEFT, ``plot_observation``."""
    env = make_breakout_env()
    env.reset(seed=42)
    for _ in range(4):
        obs, reward, terminated, truncated, info = env.step(LEFT)
    plt.figure(figsize=(6, 6))
    img = plot_observation(obs)
    env.close()
    return plt.gcf(), {
        "actions": [LEFT] * 4, "observation_shape": obs.shape, "observation_dtype": str(obs.dtype),
        "frame_means": obs.mean(axis=(0, 1)), "tinted_image_mean": float(img.mean())}
