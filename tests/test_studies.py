"""The studies' runner (caching, resuming, parallel runs) and the heat-map data."""

import json

import numpy as np
import pytest

from homl_rl.run_cache import cache_key, run_study
from homl_rl.experiments.studies import epsilon_action_counts, expand_grid, q_value_grid

CALLS = []


def counting_run(batch_size, seed):
    CALLS.append((batch_size, seed))
    return {"score": batch_size * 10 + seed}


def test_a_rerun_does_no_training_and_a_changed_value_reruns_only_its_cells(tmp_path):
    CALLS.clear()
    runs = expand_grid({"batch_size": [16, 32]}, seeds=[0, 1])
    assert run_study(counting_run, runs, jobs=1, cache_dir=tmp_path, progress=False) == [
        {"score": 160}, {"score": 161}, {"score": 320}, {"score": 321}]
    assert len(CALLS) == 4
    run_study(counting_run, runs, jobs=1, cache_dir=tmp_path, progress=False)
    assert len(CALLS) == 4  # everything came from the cache
    changed = expand_grid({"batch_size": [16, 64]}, seeds=[0, 1])
    results = run_study(counting_run, changed, jobs=1, cache_dir=tmp_path, progress=False)
    assert CALLS[4:] == [(64, 0), (64, 1)]
    assert results[2:] == [{"score": 640}, {"score": 641}]


def test_an_interrupted_study_keeps_its_finished_runs(tmp_path):
    def flaky_run(batch_size, seed):
        if batch_size == 32:
            raise KeyboardInterrupt
        return {"score": batch_size}

    runs = expand_grid({"batch_size": [16, 32]}, seeds=[0])
    with pytest.raises(KeyboardInterrupt):
        run_study(flaky_run, runs, jobs=1, cache_dir=tmp_path, progress=False)
    cached = [json.loads(path.read_text()) for path in tmp_path.glob("*.json")]
    assert [{key: entry[key] for key in ("params", "result")} for entry in cached] == [
        {"params": {"batch_size": 16, "seed": 0}, "result": {"score": 16}}]


def test_runs_go_to_separate_processes(tmp_path):
    runs = expand_grid({"value": [1, 2, 3]}, seeds=[0])
    # `dict` is a picklable, global-state-free run function: it returns its parameters
    assert run_study(dict, runs, jobs=2, cache_dir=tmp_path, progress=False) == runs
    assert len(list(tmp_path.glob("*.json"))) == 3


def test_run_key_depends_on_every_parameter_and_the_function():
    assert cache_key(dict, {"a": 1, "seed": 0}) == cache_key(dict, {"seed": 0, "a": 1})
    assert cache_key(dict, {"a": 1, "seed": 0}) != cache_key(dict, {"a": 1, "seed": 1})
    assert cache_key(dict, {"a": 1}) != cache_key(counting_run, {"a": 1})


def test_a_study_run_of_other_code_is_not_reused(tmp_path):
    import homl_rl.bandits
    import homl_rl.markov

    CALLS.clear()
    runs = expand_grid({"batch_size": [16]}, seeds=[0])
    for sources in ((homl_rl.markov,), (homl_rl.markov,), (homl_rl.bandits,)):
        run_study(counting_run, runs, jobs=1, cache_dir=tmp_path, progress=False, sources=sources)
    assert len(CALLS) == 2  # the same code: cached; other code: run again


def test_empty_grid_or_no_seeds_is_refused():
    with pytest.raises(ValueError, match="grid of 'batch_size' is empty"):
        expand_grid({"batch_size": []}, seeds=[0])
    with pytest.raises(ValueError, match="at least one seed"):
        expand_grid({"batch_size": [1]}, seeds=[])
    with pytest.raises(ValueError, match="exactly one parameter"):
        expand_grid({}, seeds=[0])
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        run_study(dict, [], cache_dir=".cache/unused", jobs=0)


def test_q_value_grid_on_a_known_linear_q_function():
    # Q(s, 0) = angle, Q(s, 1) = -angle + 2 * angular_velocity (a model with known weights)
    weights = np.array([[0, 0], [0, 0], [1, -1], [0, 2]], dtype=np.float32)
    data = q_value_grid(lambda states: states @ weights, n_angles=5, n_angular_velocities=3,
                        max_angle=0.4, max_angular_velocity=1.0)
    np.testing.assert_allclose(data["angles"], [-0.4, -0.2, 0, 0.2, 0.4])
    np.testing.assert_allclose(data["angular_velocities"], [-1, 0, 1])
    assert data["Q_values"].shape == (2, 5, 3)
    angle, velocity = np.meshgrid(data["angles"], data["angular_velocities"], indexing="ij")
    np.testing.assert_allclose(data["Q_values"][0], angle, atol=1e-7)
    np.testing.assert_allclose(data["Q_values"][1], -angle + 2 * velocity, atol=1e-6)
    np.testing.assert_array_equal(data["greedy_actions"], (-angle + 2 * velocity > angle).astype(int))


def test_q_value_grid_refuses_a_function_of_the_wrong_shape():
    with pytest.raises(ValueError, match="must return shape"):
        q_value_grid(lambda states: states[:, 0], n_angles=2, n_angular_velocities=2)


def test_epsilon_action_counts_greedy_vs_random():
    def policy(state, epsilon):
        return np.random.randint(2) if np.random.rand() < epsilon else 1

    counts = epsilon_action_counts(policy, state=None, epsilons=(0.0, 1.0), n_draws=100)
    assert counts[0.0].tolist() == [0, 100]
    assert counts[1.0].sum() == 100 and 30 < counts[1.0][0] < 70


def test_episodes_to_convergence_by_hand():
    from homl_rl.experiments.studies import episodes_to_convergence

    sums = [10] * 30 + [200] * 30
    # the 20-episode mean first reaches 150 when 15 of the last 20 are 200: episode 44
    assert episodes_to_convergence(sums, window=20, threshold=150) == 44
    assert episodes_to_convergence([10] * 100) is None
    assert episodes_to_convergence([200] * 5) is None  # shorter than the window


def test_a_dqn_study_run_trains_and_summarises(tmp_path):
    from homl_rl.experiments.studies import run_dqn_study

    runs, results = run_dqn_study("batch_size", values=[8], seeds=[0], n_episodes=3, jobs=1,
                                  cache_dir=tmp_path, progress=False)
    assert runs == [{"batch_size": 8, "n_episodes": 3, "seed": 0}]
    (result,) = results
    assert len(result["sums_of_rewards"]) == 3 and min(result["sums_of_rewards"]) >= 1
    assert result["score"] == pytest.approx(np.mean(result["sums_of_rewards"]))
    with pytest.raises(ValueError, match="parameter must be one of"):
        run_dqn_study("learning_rate", values=[1e-3])


def test_q_value_grid_on_a_keras_model_with_known_weights():
    from homl_rl.tf_setup import tf

    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=[4])])
    kernel = np.array([[0, 0], [0, 0], [1, -1], [0, 2]], dtype=np.float32)
    model.set_weights([kernel, np.array([0.5, 0.0], dtype=np.float32)])
    data = q_value_grid(lambda states: model.predict(states, verbose=0), n_angles=3,
                        n_angular_velocities=2, max_angle=0.4, max_angular_velocity=1.0)
    angle, velocity = np.meshgrid([-0.4, 0, 0.4], [-1, 1], indexing="ij")
    np.testing.assert_allclose(data["Q_values"][0], angle + 0.5, atol=1e-6)
    np.testing.assert_allclose(data["Q_values"][1], -angle + 2 * velocity, atol=1e-6)
    np.testing.assert_array_equal(data["greedy_actions"], [[0, 1], [0, 1], [0, 1]])
