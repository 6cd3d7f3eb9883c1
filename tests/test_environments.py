"""Section "Introduction to Gymnasium" / "A simple hard-coded policy".

Expected numbers are the notebook's printed outputs (seeds/001_..., SPEC.md).
"""

import numpy as np
import pytest

from homl_rl.checks import check_discrete_actions
from homl_rl.environments import (basic_policy, episode_statistics,
                                  evaluate_policy, make_env)


@pytest.fixture
def env():
    env = make_env("CartPole-v1")
    yield env
    env.close()


def test_cartpole_reset_and_step_match_the_notebook(env):
    obs, info = env.reset(seed=42)
    # notebook printout: array([ 0.0273956 , -0.00611216, 0.03585979, 0.0197368 ])
    np.testing.assert_allclose(obs, [0.0273956, -0.00611216, 0.03585979, 0.0197368], rtol=1e-6)
    assert info == {}
    obs, reward, done, truncated, info = env.step(1)
    np.testing.assert_allclose(obs, [0.02727336, 0.18847767, 0.03625453, -0.26141977], rtol=1e-6)
    assert reward == 1.0
    assert done is False and truncated is False


def test_render_shape_is_400_by_600_rgb(env):
    env.reset(seed=42)
    assert env.render().shape == (400, 600, 3)


def test_basic_policy_pushes_the_way_the_pole_leans():
    assert basic_policy(np.array([0, 0, -0.01, 0])) == 0
    assert basic_policy(np.array([0, 0, 0.01, 0])) == 1


def test_basic_policy_statistics_over_500_episodes_match_the_notebook(env):
    totals = evaluate_policy(basic_policy, n_episodes=500, n_max_steps=200, env=env)
    # notebook printout: (41.698, 8.389445512070509, 24.0, 63.0)
    assert episode_statistics(totals) == (41.698, 8.389445512070509, 24.0, 63.0)


def test_lunar_lander_reset_matches_the_notebook():
    env = make_env("LunarLander-v3")
    obs, info = env.reset(seed=42)
    # notebook printout (LunarLander-v2 then; v3 starts identically)
    np.testing.assert_allclose(
        obs, [0.00229702, 1.4181306, 0.2326471, 0.3204666, -0.00265488, -0.05269805, 0, 0],
        rtol=1e-6, atol=1e-8)
    env.close()


def test_unknown_environment_id_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown Gymnasium environment id 'CartPol-v1'.*CartPole-v1"):
        make_env("CartPol-v1")


def test_continuous_action_space_is_refused():
    env = make_env("Pendulum-v1")
    with pytest.raises(ValueError, match="Discrete action space"):
        check_discrete_actions(env)
    assert check_discrete_actions(make_env("CartPole-v1")) == 2
