"""Section "Neural Network Policies": the policy net, pg_policy, and the 2nd edition's
"learn the basic policy with 50 parallel environments" cell."""

import functools

import numpy as np
import pytest

from homl_rl.animation import record_episode
from homl_rl.checks import check_observation
from homl_rl.nn_policy import (ImitationConfig, basic_policy_agreement, basic_policy_states,
                               pg_policy, policy_net, train_to_imitate_basic_policy)


def test_the_policy_net_is_the_notebooks():
    model = policy_net(42)
    assert [layer.units for layer in model.layers] == [5, 1]
    assert [layer.activation.__name__ for layer in model.layers] == ["relu", "sigmoid"]
    assert not model.built  # like the notebook's, built by its first call


def test_the_policy_net_is_the_same_at_the_same_seed_however_it_is_built():
    built = policy_net(42)
    built.build((None, 4))
    called = policy_net(42)
    called(np.zeros((1, 4), np.float32))  # the notebook builds it by its first call
    assert [w.tobytes() for w in built.get_weights()] == [w.tobytes() for w in called.get_weights()]
    other = policy_net(43)
    other.build((None, 4))
    assert other.get_weights()[0].tobytes() != built.get_weights()[0].tobytes()


def test_the_eager_call_pg_policy_uses_is_predict_bit_for_bit():
    model = policy_net(42)
    model.build((None, 4))
    x = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    for row in x:
        ours = model(row[np.newaxis]).numpy()
        assert ours.tobytes() == model.predict(row[np.newaxis], verbose=0).tobytes()


def test_pg_policy_goes_left_with_the_nets_probability():
    model = policy_net(42)
    model.build((None, 4))
    obs = np.array([0.01, 0.02, 0.03, 0.04], np.float32)
    left_proba = model.predict(obs[np.newaxis], verbose=0)[0][0]
    np.random.seed(0)
    draws = np.random.rand(300)
    np.random.seed(0)
    actions = [pg_policy(obs, model) for _ in range(300)]
    assert actions == [int(draw > left_proba) for draw in draws]


def test_an_observation_of_the_wrong_shape_is_rejected():
    model = policy_net(42)
    model.build((None, 4))
    with pytest.raises(ValueError, match=r"takes observations of shape \(4,\), got one of shape \(8,\)"):
        check_observation(np.zeros(8), model)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        pg_policy(np.zeros(8, np.float32), model)


def test_an_untrained_episode_is_reproducible():
    model = policy_net(42)
    model.build((None, 4))
    policy = functools.partial(pg_policy, model=model)
    first = record_episode(policy, seed=42)[1]
    second = record_episode(policy, seed=42)[1]
    assert first["actions"] == second["actions"]
    assert 5 <= first["total_reward"] < 200  # "Yeah... pretty bad."


@pytest.mark.parametrize("kwargs", [dict(n_environments=0), dict(n_iterations=0),
                                    dict(n_iterations=2.5)])
def test_bad_imitation_settings_are_rejected(kwargs):
    with pytest.raises(ValueError, match="must be a positive integer"):
        ImitationConfig(**kwargs)


def test_basic_policy_states_are_the_evaluation_loops():
    states = basic_policy_states(n_episodes=2)
    # reset(seed=0) and reset(seed=1) episodes of basic_policy, every observation
    assert states.shape[1] == 4 and 24 <= len(states) <= 2 * 63


def test_imitation_learns_toward_basic_policy():
    untrained = policy_net(42)
    untrained.build((None, 4))
    before = basic_policy_agreement(untrained)
    model, history = train_to_imitate_basic_policy(n_iterations=150, progress=False)
    assert len(history["loss"]) == 150
    assert np.mean(history["loss"][-20:]) < np.mean(history["loss"][:20])
    assert history["agreement"] > before


def test_imitation_is_reproducible():
    first = train_to_imitate_basic_policy(n_iterations=20, progress=False)[1]["loss"]
    second = train_to_imitate_basic_policy(n_iterations=20, progress=False)[1]["loss"]
    assert first == second


@pytest.mark.slow
def test_the_full_imitation_run_reproduces_basic_policy():
    model, history = train_to_imitate_basic_policy(progress=False)
    assert history["agreement"] >= 0.95
