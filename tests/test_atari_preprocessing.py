"""Breakout's preprocessing (homl_rl.atari), shared by the TF-Agents and Keras pipelines.

Breakout with sticky actions off and no random no-ops is deterministic: the numbers
below (step counts, frame numbers) are ALE's, on the pinned ale-py 0.12.1.
"""

import gymnasium as gym
import numpy as np
import pytest

from homl_rl.atari import (FIRE, AtariConfig, FireResetEnv, make_breakout_env,
                           plot_observation)

NOOP = 0


@pytest.fixture(scope="module")
def env():
    env = make_breakout_env()
    yield env
    env.close()


def test_observations_are_4_stacked_84x84_grayscale_frames(env):
    obs, info = env.reset(seed=42)
    assert obs.shape == (84, 84, 4) and obs.dtype == np.uint8
    assert env.observation_space == gym.spaces.Box(0, 255, (84, 84, 4), np.uint8)
    assert env.observation_space.contains(obs)
    assert obs.flags["C_CONTIGUOUS"]


def test_the_current_frame_is_last_and_the_stack_shifts(env):
    obs, info = env.reset(seed=42)
    for k in range(1, 4):  # after reset, the stack is the first frame four times
        np.testing.assert_array_equal(obs[..., k], obs[..., 0])
    next_obs, *_ = env.step(NOOP)
    np.testing.assert_array_equal(next_obs[..., :3], obs[..., 1:])


def test_each_step_is_4_frames_not_16(env):
    """ALE v5 skips 4 frames itself; the env is made with frameskip=1 so only the wrapper skips."""
    obs, info = env.reset(seed=42)
    assert info["episode_frame_number"] == 4  # the FIRE that starts the game
    obs, reward, terminated, truncated, info = env.step(NOOP)
    assert info["episode_frame_number"] == 8


def test_sticky_actions_are_off_as_in_the_2nd_edition(env):
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.0
    sticky = make_breakout_env(AtariConfig(repeat_action_probability=0.25))
    assert sticky.unwrapped.ale.getFloat("repeat_action_probability") == 0.25


def _play_noop(env, n_steps):
    obs, info = env.reset(seed=0)
    lives, lost_at = [info["lives"]], []
    for step in range(1, n_steps + 1):
        obs, reward, terminated, truncated, info = env.step(NOOP)
        if info["lives"] < lives[-1]:
            lost_at.append((step, info["episode_frame_number"]))
        lives.append(info["lives"])
        if terminated or truncated:
            return lost_at, terminated, step
    return lost_at, False, n_steps


def test_fire_is_pressed_at_the_start_and_after_each_lost_life(env):
    """An agent that never presses FIRE still loses all 5 balls: the wrapper launches each."""
    lost_at, terminated, n_steps = _play_noop(env, 2_000)
    assert terminated and len(lost_at) == 5
    # ALE frame numbers: 4 for the FIRE at reset, 4 per step, and 4 more for each FIRE
    # after a lost life (measured: a ball lasts 24 steps when the paddle stays put)
    assert lost_at[:4] == [(24, 104), (48, 204), (72, 304), (96, 404)]
    assert n_steps == 120


def test_without_fire_the_ball_never_comes():
    env = make_breakout_env(AtariConfig(fire_on_reset=False))
    lost_at, terminated, n_steps = _play_noop(env, 300)
    assert lost_at == [] and not terminated and n_steps == 300


def test_episodes_are_cut_at_max_episode_steps():
    env = make_breakout_env(AtariConfig(max_episode_steps=10))
    env.reset(seed=0)
    for step in range(10):
        obs, reward, terminated, truncated, info = env.step(NOOP)
    assert truncated and not terminated


def test_default_limit_is_27000_steps(env):
    assert env.spec.max_episode_steps == 27_000
    assert AtariConfig().max_episode_steps * AtariConfig().frame_skip == 108_000


def test_fire_reset_needs_a_fire_action():
    freeway = gym.make("ALE/Freeway-v5")  # NOOP, UP, DOWN
    with pytest.raises(ValueError, match="needs action 1 to be FIRE"):
        FireResetEnv(freeway)


def test_fire_is_action_1_in_breakout(env):
    assert env.unwrapped.get_action_meanings()[FIRE] == "FIRE"


@pytest.mark.parametrize("kwargs, message", [
    (dict(frame_skip=0), "frame_skip must be a positive integer, got 0"),
    (dict(stack_size=2.5), "stack_size must be a positive integer, got 2.5"),
    (dict(repeat_action_probability=1.5), r"repeat_action_probability must be in \[0, 1\]"),
    (dict(noop_max=-1), "noop_max must be a non-negative integer, got -1"),
])
def test_bad_preprocessing_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AtariConfig(**kwargs)


def test_an_unknown_atari_game_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown Gymnasium environment id 'ALE/Breakoot-v5'"):
        make_breakout_env(AtariConfig(env_id="ALE/Breakoot-v5"))


def test_plot_observation_tints_the_current_frame():
    obs = np.zeros((84, 84, 4), np.uint8)
    obs[10, 10, 3] = 150  # only in the current frame: pink (red + blue)
    obs[20, 20, :] = 150  # in every frame: gray
    img = plot_observation(obs)
    assert img.shape == (84, 84, 3)
    np.testing.assert_allclose(img[10, 10], [1, 0, 1])
    np.testing.assert_allclose(img[20, 20], [1, 1, 1])
