"""``python -m homl_rl compare`` on a tiny budget: it writes its plot, table and data."""

import json

import numpy as np
import pytest

from homl_rl.experiments.compare import (
    CompareConfig, GreedyEvaluator, aggregate, comparison_table, compare_run)


# TF-Agents' drivers compile `state is not ()` with autograph, which Python 3.11 flags
pytestmark = pytest.mark.filterwarnings("ignore:\"is not\" with a literal:SyntaxWarning")

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The command itself (in this process: ``--jobs 1``), two agents, one seed, 600 steps."""
    import contextlib
    import io

    from homl_rl.cli import main

    out = tmp_path_factory.mktemp("compare")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["compare", "--env-steps", "600", "--eval-interval", "300",
                     "--eval-episodes", "5", "--seeds", "1", "--agents", "tf_agents", "tf_agents_dqn", "dqn",
                     "--jobs", "1", "--out", str(out), "--results", str(out / "results.md"),
                     "--cache-dir", str(out / "cache"), "--quiet"])
    assert code == 0
    return out, stdout.getvalue()


def test_compare_writes_plot_table_and_data(tiny):
    out, stdout = tiny
    assert (out / "tf_agents_vs_keras_dqn_plot.png").stat().st_size > 0
    data = json.loads((out / "data" / "tf_agents_vs_keras_dqn_plot.json").read_text())
    assert [run["agent"] for run in data["runs"]] == ["tf_agents", "tf_agents_dqn", "dqn"]
    assert data["config"]["env_steps"] == 600
    table = (out / "results.md").read_text()
    assert "| TF-Agents DQN (tutorial) |" in table and "| Keras DQN |" in table
    assert "first env step at 475" in table and "env steps/s" in table
    assert "| TF-Agents DQN (tutorial) |" in stdout


def test_every_run_is_evaluated_up_to_the_budget(tiny):
    out, _ = tiny
    data = json.loads((out / "data" / "tf_agents_vs_keras_dqn_plot.json").read_text())
    tf_agents, per_step, keras = data["runs"]
    # TF-Agents: evaluated after its 100 random steps, every 300 iterations, and at the budget
    assert tf_agents["env_steps"] == [100, 400, 600]
    assert per_step["env_steps"] == [0, 300, 600]  # the per-step agent: exactly on the grid
    assert keras["env_steps"][0] == 0 and keras["env_steps"][-1] == 600
    for run in data["runs"]:
        assert run["final_return"] == run["returns"][-1]
        assert run["first_solved_step"] is None  # 600 steps are not enough for 475
        assert "steps_per_second" not in run and "wall_seconds" not in run  # reproducible data


def test_cached_runs_are_not_rerun(tiny):
    out, _ = tiny
    assert len(list((out / "cache").glob("*.json"))) == 3


def test_the_same_seed_gives_the_same_curves(tiny):
    """Both agents are deterministic at a seed (TFUniformReplayBuffer; the Keras fast path)."""
    out, _ = tiny
    data = json.loads((out / "data" / "tf_agents_vs_keras_dqn_plot.json").read_text())
    again = compare_run("dqn", 1, env_steps=600, eval_interval=300, n_eval_episodes=5,
                        eval_seed=10_000)
    assert again["returns"] == data["runs"][2]["returns"]
    again = compare_run("tf_agents_dqn", 1, env_steps=600, eval_interval=300,
                        n_eval_episodes=5, eval_seed=10_000)
    assert again["returns"] == data["runs"][1]["returns"]


def test_the_evaluator_plays_fixed_episodes_greedily():
    evaluator = GreedyEvaluator(n_episodes=3, eval_seed=0)
    push_right = lambda observations: np.tile([0.0, 1.0], (len(observations), 1))  # noqa: E731
    first, second = evaluator(push_right), evaluator(push_right)
    assert first == second and 5 < first < 30
    basic = lambda observations: np.stack(  # noqa: E731  the chapter's basic policy, as Q-values
        [observations[:, 2] < 0, observations[:, 2] >= 0], axis=1).astype(float)
    assert evaluator(basic) > first


def test_aggregate_and_table():
    config = CompareConfig(env_steps=1000, eval_interval=500, seeds=(1, 2), agents=("dqn",))
    runs = [dict(agent="dqn", seed=seed, env_steps=[0, 510, 1000], returns=[10, 20 + seed, 475],
                 wall_seconds=[0, 1, 2], final_return=475, first_solved_step=1000,
                 train_seconds=2.0, steps_per_second=500.0) for seed in (1, 2)]
    summary = aggregate(runs, config)
    assert summary["dqn"]["env_steps"] == [0, 500, 1000]
    assert summary["dqn"]["mean"][-1] == 475 and summary["dqn"]["min"][0] == 10
    table = comparison_table(summary, config)
    assert "| Keras DQN | 475.0 ± 0.0 | 1,000 / 1,000 | 2 | 500 |" in table
    assert "| **The notebook's hyper-parameters** |" in table
    assert "Same settings" not in table  # a comparison none of whose agents ran


@pytest.mark.parametrize("kwargs, message", [
    (dict(env_steps=100), "env_steps must be at least 200"),
    (dict(seeds=()), "at least one seed"),
    (dict(agents=("ppo",)), "agents must be among tf_agents, tf_agents_dqn, dqn"),
    (dict(eval_interval=0), "eval_interval must be a positive integer"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CompareConfig(**kwargs)


def test_cli_refuses_a_bad_budget_with_exit_code_2(capsys):
    from homl_rl.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["compare", "--env-steps", "100"])
    assert exit_.value.code == 2
    assert "argument --env-steps: must be at least 200" in capsys.readouterr().err


def test_the_submodule_is_not_shadowed_and_the_agents_are_the_variant_table():
    import homl_rl.experiments.compare as compare_module
    from homl_rl.variants import CHAPTER_VARIANTS, VARIANTS

    assert compare_module.__name__ == "homl_rl.experiments.compare"
    assert callable(compare_module.run_comparison)
    assert compare_module.all_agents() == ("tf_agents", "tf_agents_dqn", *CHAPTER_VARIANTS,
                                           "rl_zoo_dqn")
    assert all(compare_module.label(agent) == VARIANTS[agent].label
               for agent in compare_module.all_agents()[1:])
