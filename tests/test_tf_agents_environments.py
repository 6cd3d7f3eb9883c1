"""The Gymnasium → TF-Agents adapter and the 2nd edition's custom TF-Agents environment."""

import gymnasium as gym
import numpy as np
import pytest

from homl_rl.tf_agents_pipeline.environments import (
    GymnasiumEnvironment, MyEnvironment, load, spec_from_space, validate)
from tf_agents.environments import tf_py_environment
from tf_agents.trajectories.time_step import StepType

FIRST, MID, LAST = int(StepType.FIRST), int(StepType.MID), int(StepType.LAST)


def _episode(env, actions):
    """Step types, rewards, discounts and observations of one episode from ``reset``."""
    time_step = env.reset()
    steps = [time_step]
    for action in actions:
        time_step = env.step(np.array(action))
        steps.append(time_step)
        if time_step.is_last():
            break
    return steps


def test_specs_come_from_the_gymnasium_spaces():
    env = load("CartPole-v1")
    obs_spec, action_spec = env.observation_spec(), env.action_spec()
    assert obs_spec.shape == (4,) and obs_spec.dtype == np.float32
    # the tutorial's printed spec: infinite bounds become float32's extremes
    big = np.finfo(np.float32).max
    np.testing.assert_allclose(obs_spec.minimum, [-4.8, -big, -0.41887903, -big], rtol=1e-6)
    np.testing.assert_allclose(obs_spec.maximum, [4.8, big, 0.41887903, big], rtol=1e-6)
    # the tutorial's printed action spec: int64 scalar in [0, 1]
    assert (action_spec.shape, action_spec.dtype) == ((), np.int64)
    assert (int(action_spec.minimum), int(action_spec.maximum)) == (0, 1)
    time_step_spec = env.time_step_spec()
    assert time_step_spec.reward.dtype == np.float32 and time_step_spec.discount.dtype == np.float32


def test_box_bounds_that_are_all_equal_become_one_number():
    spec = spec_from_space(gym.spaces.Box(0, 255, (84, 84, 4), np.uint8), "observation")
    assert spec.minimum.shape == () and int(spec.maximum) == 255 and spec.dtype == np.uint8


def test_unsupported_space_is_a_clear_error():
    with pytest.raises(ValueError, match="unsupported Gymnasium space.*Discrete and Box"):
        spec_from_space(gym.spaces.MultiBinary(3), "observation")


def test_first_observation_is_gymnasiums_at_the_same_seed():
    """SPEC.md: CartPole-v1 reset(seed=42) and step(1), through the adapter."""
    env = load("CartPole-v1", seed=42)
    first = env.reset()
    np.testing.assert_allclose(first.observation, [0.0273956, -0.00611216, 0.03585979, 0.0197368],
                               rtol=1e-6)
    second = env.step(np.array(1))
    np.testing.assert_allclose(second.observation,
                               [0.02727336, 0.18847767, 0.03625453, -0.26141977], rtol=1e-6)
    assert float(second.reward) == 1.0


def test_a_full_episode_is_first_mid_dot_dot_dot_last():
    env = load("CartPole-v1", seed=42)
    steps = _episode(env, [1] * 500)  # pushing right always: the pole falls within ~10 steps
    step_types = [int(step.step_type) for step in steps]
    assert step_types[0] == FIRST and step_types[-1] == LAST
    assert step_types[1:-1] == [MID] * (len(steps) - 2) and len(steps) > 3
    assert [float(step.reward) for step in steps] == [0.0] + [1.0] * (len(steps) - 1)


def test_termination_has_discount_0_and_truncation_keeps_the_discount():
    terminated = _episode(load("CartPole-v1", seed=42), [1] * 500)[-1]
    assert terminated.is_last() and float(terminated.discount) == 0.0
    # Gymnasium's TimeLimit at 5 steps: truncated, the state still has a value
    truncated = _episode(load("CartPole-v1", seed=42, max_episode_steps=5), [0, 1, 0, 1, 0])
    assert len(truncated) == 6 and truncated[-1].is_last()
    assert float(truncated[-1].discount) == 1.0
    discounted = _episode(load("CartPole-v1", seed=42, max_episode_steps=5, discount=0.9),
                          [0, 1, 0, 1, 0])
    assert float(discounted[-1].discount) == pytest.approx(0.9)
    assert float(discounted[2].discount) == pytest.approx(0.9)


def test_discount_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"discount must be in \[0, 1\], got 1.5"):
        load("CartPole-v1", discount=1.5)


def test_a_step_after_last_resets_and_ignores_the_action():
    env = load("CartPole-v1", seed=42)
    _episode(env, [1] * 500)
    after = env.step(np.array(0))
    assert after.is_first() and float(after.reward) == 0.0


def _trajectory(env, n_steps, actions_seed=0):
    rng = np.random.default_rng(actions_seed)
    observations = [env.reset().observation]
    for _ in range(n_steps):  # crosses episode boundaries (auto-reset)
        observations.append(env.step(np.array(rng.integers(2))).observation)
    return np.array(observations)


def test_the_same_seed_gives_the_same_trajectory():
    first = _trajectory(load("CartPole-v1", seed=7), 200)
    second = _trajectory(load("CartPole-v1", seed=7), 200)
    np.testing.assert_array_equal(first, second)
    other = _trajectory(load("CartPole-v1", seed=8), 200)
    assert not np.array_equal(first, other)
    reseeded = load("CartPole-v1", seed=8)
    reseeded.seed(7)
    np.testing.assert_array_equal(_trajectory(reseeded, 200), first)


def test_render_passes_through():
    env = load("CartPole-v1", seed=42)
    env.reset()
    assert env.render().shape == (400, 600, 3)
    with pytest.raises(ValueError, match="only mode='rgb_array'"):
        env.render("human")


def test_an_action_outside_the_spec_is_a_clear_error():
    env = load("CartPole-v1", seed=42)
    env.reset()
    with pytest.raises(ValueError, match="action 2 is not in the action spec"):
        env.step(np.array(2))


def test_tf_agents_validation_passes():
    validate(load("CartPole-v1", seed=0), episodes=5)
    validate(MyEnvironment(), episodes=5)


def test_the_adapter_works_inside_tf_py_environment():
    tf_env = tf_py_environment.TFPyEnvironment(load("CartPole-v1", seed=42))
    time_step = tf_env.reset()
    assert time_step.observation.shape == (1, 4)
    assert int(tf_env.step(np.array([1])).step_type[0]) == MID


def test_an_env_id_that_does_not_exist_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown Gymnasium environment id 'CartPole-v9'.*"
                                         "Did you mean one of: CartPole-v0, CartPole-v1"):
        load("CartPole-v9")


def test_wrapping_something_else_than_a_gymnasium_env_is_refused():
    with pytest.raises(AttributeError):
        GymnasiumEnvironment(object())


# --- the 2nd edition's custom environment -----------------------------------------

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3


def _position(obs):
    return tuple(np.argwhere(obs == 1)[0]) if obs.any() else None


def test_custom_environment_starts_in_the_top_left_corner():
    time_step = MyEnvironment().reset()
    assert int(time_step.step_type) == FIRST
    assert time_step.observation.dtype == np.int32 and time_step.observation.sum() == 1
    assert _position(time_step.observation) == (0, 0)


def test_custom_environment_moves_one_cell_per_action():
    env = MyEnvironment()
    env.reset()
    time_step = env.step(np.int32(DOWN))  # the 2nd edition's example: down to (1, 0)
    assert _position(time_step.observation) == (1, 0)
    assert (int(time_step.step_type), float(time_step.reward), float(time_step.discount)) == (MID, 0, 1)
    assert _position(env.step(np.int32(RIGHT)).observation) == (1, 1)
    assert _position(env.step(np.int32(LEFT)).observation) == (1, 0)
    assert _position(env.step(np.int32(UP)).observation) == (0, 0)


def test_reaching_the_corner_gives_10_and_ends_the_episode():
    env = MyEnvironment()
    steps = _episode(env, [DOWN, DOWN, DOWN, RIGHT, RIGHT, RIGHT])
    assert [float(step.reward) for step in steps] == [0, 0, 0, 0, 0, 0, 10]
    assert steps[-1].is_last() and float(steps[-1].discount) == 0.0
    assert _position(steps[-1].observation) == (3, 3)


def test_leaving_the_grid_gives_minus_1_and_ends_the_episode():
    for actions in ([UP], [LEFT], [RIGHT] * 4, [DOWN] * 4):
        steps = _episode(MyEnvironment(), actions)
        assert len(steps) == len(actions) + 1
        assert steps[-1].is_last() and float(steps[-1].reward) == -1
        assert steps[-1].observation.sum() == 0


def test_custom_environment_discount_applies_to_transitions():
    env = MyEnvironment(discount=0.5)
    env.reset()
    assert float(env.step(np.int32(DOWN)).discount) == 0.5


def test_custom_environment_starts_over_after_the_last_step():
    env = MyEnvironment()
    _episode(env, [UP])
    time_step = env.step(np.int32(DOWN))
    assert time_step.is_first() and _position(time_step.observation) == (0, 0)
