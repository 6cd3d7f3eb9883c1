"""Section "Introduction to Gymnasium" and "A Simple Hard-Coded Policy".

Mirrors the notebook's cells: making CartPole with ``render_mode="rgb_array"``,
``plot_environment``, ``basic_policy`` and the 500-episode evaluation of it.
"""

import os

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # pygame renders off-screen, silently
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import gymnasium as gym  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from homl_rl.checks import check_non_negative_int  # noqa: E402


def make_env(env_id="CartPole-v1", render_mode="rgb_array", **kwargs):
    """``gym.make(env_id, render_mode=...)``, with a clear error for an unknown id.

    Registers the Atari environments (``ale_py``) when an ``ALE/`` id is asked for.
    """
    if env_id.startswith("ALE/"):
        import ale_py

        gym.register_envs(ale_py)
    if env_id not in gym.envs.registry:
        close = [name for name in gym.envs.registry if env_id.split("-")[0].lower() in name.lower()]
        hint = f" Did you mean one of: {', '.join(sorted(close)[:8])}?" if close else ""
        raise ValueError(f"unknown Gymnasium environment id {env_id!r}.{hint}")
    return gym.make(env_id, render_mode=render_mode, **kwargs)


class SeedNextReset(gym.Wrapper):
    """The old gym API's ``env.seed(seed)`` on a Gymnasium environment.

    Before gym 0.26, ``env.seed(42)`` seeded the environment's generator and the next
    ``env.reset()`` drew its first state from it; Gymnasium folds both into
    ``env.reset(seed=42)``. Here ``env.seed(42)`` makes the *next* ``reset()`` that
    ``reset(seed=42)``; the resets after it continue that generator, as the old API's did.
    """

    def __init__(self, env):
        super().__init__(env)
        self._next_seed = None

    def seed(self, seed):
        """Seed the next ``reset()`` (the old API's ``env.seed(seed)``)."""
        self._next_seed = check_non_negative_int("seed", seed)

    def reset(self, *, seed=None, options=None):
        if seed is None:
            seed, self._next_seed = self._next_seed, None
        return self.env.reset(seed=seed, options=options)


def plot_environment(env, figsize=(5, 4)):
    """Render ``env`` and show the image without axes (the notebook's helper)."""
    plt.figure(figsize=figsize)
    img = env.render()
    plt.imshow(img)
    plt.axis("off")
    return img


def basic_policy(obs):
    """Push the cart the way the pole leans (the notebook's hard-coded policy)."""
    angle = obs[2]
    return 0 if angle < 0 else 1


def evaluate_policy(policy, n_episodes=500, n_max_steps=200, env=None):
    """The notebook's evaluation loop: ``reset(seed=episode)``, at most ``n_max_steps``.

    Returns ``totals``, the sum of rewards of each episode.
    """
    env = env if env is not None else make_env("CartPole-v1")
    totals = []
    for episode in range(n_episodes):
        episode_rewards = 0
        obs, info = env.reset(seed=episode)
        for step in range(n_max_steps):
            action = policy(obs)
            obs, reward, done, truncated, info = env.step(action)
            episode_rewards += reward
            if done or truncated:
                break
        totals.append(episode_rewards)
    return totals


def episode_statistics(totals):
    """``np.mean(totals), np.std(totals), min(totals), max(totals)`` as the notebook prints them."""
    return float(np.mean(totals)), float(np.std(totals)), min(totals), max(totals)
