"""The named runs' one cache policy: memo, disk, and a key that changes with the code,
the config, the seed and the stack."""

import dataclasses
import json

import numpy as np
import pytest

from homl_rl import run_cache, runs
from homl_rl.run_cache import cache_key
from homl_rl.runs import RunSpec, execute, run

CALLS = []


def tiny_train(config, progress):
    CALLS.append((dict(config), progress))
    return {"value": config["seed"] * 2}, np.arange(3.0) + config["seed"]


def dump(result):
    data, weights = result
    return data, {"w0": weights}


def load(data, arrays, config):
    return data, arrays["w0"]


def other_train(config, progress):
    return tiny_train(config, progress)


SPEC = RunSpec("tiny", tiny_train, {"seed": 3, "size": 1}, (), dump, load)


@pytest.fixture
def fresh(tmp_path):
    CALLS.clear()
    runs.clear_memo()
    yield tmp_path
    runs.clear_memo()


def test_a_run_returns_its_result_config_and_seed_and_is_made_once(fresh):
    first = execute(SPEC, progress=True, cache_dir=fresh)
    assert first.result[0] == {"value": 6} and first.config == {"seed": 3, "size": 1}
    assert first.seed == 3 and CALLS == [({"seed": 3, "size": 1}, True)]  # progress passed on
    assert execute(SPEC, cache_dir=fresh) is first  # this process: memo
    runs.clear_memo()
    again = execute(SPEC, cache_dir=fresh)  # a new process: the disk cache
    assert len(CALLS) == 1
    np.testing.assert_array_equal(again.result[1], first.result[1])
    (entry,) = (fresh / "tiny").glob("*.json")
    assert json.loads(entry.read_text())["stack"] == run_cache.machine_info()
    assert run_cache.machine_info()["kernels"]["class"] in ("x86-avx512", "x86-avx2", "other")


def test_a_changed_config_seed_source_or_stack_is_a_cache_miss(fresh, monkeypatch):
    execute(SPEC, cache_dir=fresh)
    for changed in (dataclasses.replace(SPEC, config={"seed": 3, "size": 2}),
                    dataclasses.replace(SPEC, config={"seed": 4, "size": 1}),
                    dataclasses.replace(SPEC, train=other_train)):
        runs.clear_memo()
        execute(changed, cache_dir=fresh)
    assert len(CALLS) == 4
    key = cache_key(tiny_train, SPEC.config)
    monkeypatch.setattr(run_cache, "stack_info", lambda: {"packages": {"tensorflow": "9.9"}})
    assert cache_key(tiny_train, SPEC.config) != key  # another stack: a foreign entry
    runs.clear_memo()
    execute(SPEC, cache_dir=fresh)
    assert len(CALLS) == 5


def test_the_source_of_the_code_a_run_names_is_in_its_key():
    import homl_rl.markov
    import homl_rl.bandits

    assert cache_key(tiny_train, {"seed": 0}, (homl_rl.markov,)) != cache_key(
        tiny_train, {"seed": 0}, (homl_rl.bandits,))
    assert cache_key(tiny_train, {"seed": 0, "a": 1}) == cache_key(tiny_train, {"a": 1, "seed": 0})


def test_an_unknown_run_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown run 'nope'; valid runs: dqn, "):
        run("nope")


def test_a_dqn_run_comes_back_from_disk_with_the_same_policy(fresh):
    spec = dataclasses.replace(runs.RUNS["dqn"], config=runs.dqn_run_config("dqn", n_episodes=2))
    made = execute(spec, cache_dir=fresh)
    runs.clear_memo()
    loaded = execute(spec, cache_dir=fresh)
    assert loaded.result[0] == made.result[0]
    states = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.result[1].model.predict(states, verbose=0),
                                  made.result[1].model.predict(states, verbose=0))
    assert [loaded.result[1].epsilon_greedy_policy(s) for s in states] == [
        made.result[1].epsilon_greedy_policy(s) for s in states]


def test_runs_whose_engine_is_not_proven_here_are_named_once(monkeypatch, capsys):
    from homl_rl.figures import make_figures

    proven = runs.fast_engine_is_exact("CartPole-v1")
    assert runs.unproven_engines(["dqn", "policy_gradients"]) == ([] if proven else ["policy_gradients"])
    # a machine where no one-row MatMul replica matches (a class nobody has measured)
    monkeypatch.setattr(runs, "fast_engine_is_exact", lambda env_id: False)
    assert runs.unproven_engines(["dqn", "policy_gradients", "lander", "policy_gradients"]) == [
        "policy_gradients", "lander"]
    monkeypatch.setattr(runs, "execute", lambda spec, **kwargs: (_ for _ in ()).throw(
        KeyboardInterrupt))  # stop before training: only the notice is under test
    with pytest.raises(KeyboardInterrupt):
        make_figures(["policy_gradients_rewards_plot", "lunar_lander_rewards_plot"], progress=False)
    notice = capsys.readouterr().err.splitlines()
    assert len(notice) == 1 and notice[0].startswith(
        "homl_rl: the fast engine of policy_gradients, lander is not proven exact on this machine")
