"""Atari Breakout: the one preprocessing pipeline, and the 2nd edition's Atari figures.

Shared by the TF-Agents Breakout pipeline (``homl_rl.tf_agents_pipeline.breakout``)
and the Keras Breakout of exercise 9: both must see the same observations.

:func:`make_breakout_env` builds, from Gymnasium's ``ALE/Breakout-v5`` (ale-py ships
the ROMs), what the 2nd edition built with TF-Agents' ``suite_atari.load(
"BreakoutNoFrameskip-v4", max_episode_steps=27000, gym_env_wrappers=
[AtariPreprocessingWithAutoFire, FrameStack4])``:

1. ``gym.make("ALE/Breakout-v5", frameskip=1, repeat_action_probability=0.0)``:
   no frame skipping in ALE itself (v5 skips 4 frames by default; with Gymnasium's
   wrapper that would skip 16) and no sticky actions, as ``BreakoutNoFrameskip-v4``
   (the 2nd edition's; v5's default would be 0.25);
2. Gymnasium's ``AtariPreprocessing``: each action repeated for 4 frames, the last
   two max-pooled, 84x84 grayscale; no random no-op starts (``noop_max=0``: TF-Agents'
   ``AtariPreprocessing``, which the 2nd edition used, has none);
3. :class:`FireResetEnv`: FIRE at the start and after each lost life (the 2nd
   edition's ``AtariPreprocessingWithAutoFire``);
4. ``FrameStackObservation``: the last 4 frames, channels last, ``(84, 84, 4)``
   ``uint8`` (TF-Agents' ``FrameStack4`` layout, which convolutional layers expect);
5. ``TimeLimit``: 27,000 steps (108,000 ALE frames) per episode at most.
"""

from dataclasses import dataclass

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from homl_rl.checks import check_non_negative_int, check_positive_int, check_unit_interval
from homl_rl.environments import make_env

ENV_ID = "ALE/Breakout-v5"
"""Gymnasium's Breakout (ale-py)"""

FIRE, LEFT = 1, 3
"""Breakout's actions: NOOP 0, FIRE 1, RIGHT 2, LEFT 3"""


@dataclass(frozen=True)
class AtariConfig:
    """The preprocessing of the 2nd edition's "Using TF-Agents to Beat Breakout"."""
    env_id: str = ENV_ID
    """any ALE game with a FIRE action works; Breakout is the book's"""
    frame_skip: int = 4
    """frames each action is repeated (the last two are max-pooled)"""
    screen_size: int = 84
    """observations are screen_size x screen_size grayscale"""
    stack_size: int = 4
    """frames stacked into one observation"""
    max_episode_steps: int = 27_000
    """agent steps per episode at most (<=> 108k ALE frames since 1 step = 4 frames)"""
    repeat_action_probability: float = 0.0
    """sticky actions: 0 as in BreakoutNoFrameskip-v4 (2nd edition); v5's default is 0.25"""
    noop_max: int = 0
    """random no-ops at reset: 0 as TF-Agents' AtariPreprocessing (Gymnasium's default is 30)"""
    fire_on_reset: bool = True
    """press FIRE at the start and after each lost life (AtariPreprocessingWithAutoFire)"""

    def __post_init__(self):
        for name in ("frame_skip", "screen_size", "stack_size", "max_episode_steps"):
            check_positive_int(name, getattr(self, name))
        check_unit_interval("repeat_action_probability", self.repeat_action_probability)
        check_non_negative_int("noop_max", self.noop_max)


class FireResetEnv(gym.Wrapper):
    """Press FIRE at the start of a game and after each lost life.

    Breakout waits for FIRE to launch the ball; an agent that has to discover this
    learns very slowly (the 2nd edition's warning). Lives are read from
    ``info["lives"]``. The FIRE step's reward is added to the step that lost the life,
    and the observation returned is the one after FIRE (the 2nd edition's wrapper
    returned the one before, a frame the agent never acts on).
    """

    def __init__(self, env):
        super().__init__(env)
        meanings = env.unwrapped.get_action_meanings()
        if len(meanings) <= FIRE or meanings[FIRE] != "FIRE":
            raise ValueError(f"FireResetEnv needs action {FIRE} to be FIRE, got {meanings}")
        self.lives = 0

    def reset(self, *, seed=None, options=None):
        self.env.reset(seed=seed, options=options)
        obs, _, terminated, truncated, info = self.env.step(FIRE)  # FIRE to start
        if terminated or truncated:  # cannot happen in Breakout; be safe elsewhere
            obs, info = self.env.reset(options=options)
        self.lives = info["lives"]
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if info["lives"] < self.lives and not (terminated or truncated):
            obs, fire_reward, terminated, truncated, info = self.env.step(FIRE)  # after life lost
            reward += fire_reward
        self.lives = info["lives"]
        return obs, reward, terminated, truncated, info


def make_breakout_env(config=AtariConfig(), render_mode="rgb_array"):
    """Breakout, preprocessed as the 2nd edition does (see the module docstring).

    Observations are ``(84, 84, 4)`` ``uint8`` arrays, the current frame last. Seed
    it as any Gymnasium environment: ``env.reset(seed=42)``.
    """
    env = make_env(config.env_id, render_mode=render_mode, frameskip=1,
                   repeat_action_probability=config.repeat_action_probability)
    env = gym.wrappers.AtariPreprocessing(
        env, noop_max=config.noop_max, frame_skip=config.frame_skip,
        screen_size=config.screen_size, terminal_on_life_loss=False, grayscale_obs=True)
    if config.fire_on_reset:
        env = FireResetEnv(env)
    env = gym.wrappers.FrameStackObservation(env, stack_size=config.stack_size)
    size, stack = config.screen_size, config.stack_size
    env = gym.wrappers.TransformObservation(
        env, lambda obs: np.ascontiguousarray(np.moveaxis(obs, 0, -1)),
        gym.spaces.Box(0, 255, (size, size, stack), np.uint8))
    return gym.wrappers.TimeLimit(env, max_episode_steps=config.max_episode_steps)


def plot_observation(obs):
    """The 2nd edition's ``plot_observation``: the stacked frames, the current one tinted.

    There are only 3 color channels, so you cannot display 4 frames with one primary
    color per frame. This computes the delta between the current frame and the mean
    of the other frames, and adds it to the red and blue channels to get a pink
    color for the current frame.
    """
    obs = np.asarray(obs).astype(np.float32)
    img = obs[..., :3]
    current_frame_delta = np.maximum(obs[..., 3] - obs[..., :3].mean(axis=-1), 0.)
    img[..., 0] += current_frame_delta
    img[..., 2] += current_frame_delta
    img = np.clip(img / 150, 0, 1)
    plt.imshow(img)
    plt.axis("off")
    return img
