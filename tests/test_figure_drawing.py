"""Every registered figure's drawing code, run end to end through the registry on tiny runs.

The run table (:data:`homl_rl.runs.RUNS`) is swapped for tiny configs (a few episodes,
iterations or steps); each figure is made into a temporary folder and its picture and
data are checked. The long runs' figures are drawn from a short run in
``test_tf_agents_breakout.py``.
"""

import dataclasses
import importlib.util
import json

import pytest

from homl_rl import runs
from homl_rl.figures import all_figures, make_figures
from homl_rl.kernels import kernels_record
from homl_rl.run_cache import jsonable_config
from homl_rl.runs import RUNS, dqn_run_config, pg_config

HAS_TF_AGENTS = importlib.util.find_spec("tf_agents") is not None


def tiny_configs():
    configs = {variant: dqn_run_config(variant, n_episodes=3)
               for variant in ("dqn", "fixed_q_targets", "double_dqn", "dueling_double_dqn")}
    configs["policy_gradients"] = dict(pg_config(), n_iterations=2, n_episodes_per_update=2,
                                       n_max_steps=30)
    configs["lander"] = dict(pg_config(lander=True), n_iterations=1, n_episodes_per_update=1,
                             n_max_steps=30)
    configs["imitation"] = {"n_environments": 3, "n_iterations": 4, "seed": 42}
    configs["keras_rl_cartpole"] = {"seed": 0, "nb_steps": 60}
    for parameter in ("replay_buffer_size", "target_update_period", "batch_size"):
        configs[f"{parameter}_study"] = {"parameter": parameter, "values": [8, 16],
                                         "seeds": [0], "n_episodes": 12, "seed": None}
    for parameter, values in (("buffer_capacity", [300]), ("target_update_period", [1]),
                              ("batch_size", [8]), (None, None)):  # one run: no worker process
        grid = ({"buffer_capacity": [300], "target_update_period": [1]}
                if parameter is None else {parameter: values})
        name = "lecture_grid_search" if parameter is None else f"lecture_{parameter}_study"
        configs[name] = {"parameter": parameter, "grid": grid, "seeds": [0], "n_episodes": 4,
                         "seed": None}
    configs["breakout_short"] = dict(
        RUNS["breakout_short"].config, n_steps=240, replay_capacity=200, batch_size=8,
        training_starts=40, epsilon_decay_steps=200, target_update_period=40, eval_interval=120,
        eval_max_steps=60)
    if HAS_TF_AGENTS:
        configs["tf_agents_tutorial"] = dict(
            jsonable_config(RUNS["tf_agents_tutorial"].config()), num_iterations=100,
            eval_interval=50, log_interval=50, num_eval_episodes=2)
        configs["comparison"] = dict(
            jsonable_config(RUNS["comparison"].config()), env_steps=600, eval_interval=300,
            n_eval_episodes=3, seeds=[1], agents=["tf_agents", "dqn"])
    return configs


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """The run table with tiny configs, its caches in a temporary folder."""
    folder = tmp_path_factory.mktemp("tiny_runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # .cache/ goes here
        for name, config in tiny_configs().items():
            patch.setitem(RUNS, name, dataclasses.replace(RUNS[name], config=config))
        runs.clear_memo()
        yield folder
    runs.clear_memo()


SPECS = [spec for spec in all_figures().values() if not spec.long_run]


@pytest.mark.parametrize("fig_id", [spec.fig_id for spec in SPECS])
def test_every_figure_draws_on_a_tiny_run(tiny_runs, fig_id):
    spec = all_figures()[fig_id]
    if spec.module == "homl_rl.figures.tf_agents" and not HAS_TF_AGENTS:
        pytest.skip("tf_agents is not installed")
    out = tiny_runs / "figures"
    make_figures([fig_id], out_dir=out, progress=False)
    picture = out / f"{fig_id}.{'gif' if spec.kind == 'animation' else 'png'}"
    assert picture.stat().st_size > 1000
    assert picture.read_bytes()[:4] in (b"\x89PNG", b"GIF8")
    data = json.loads((out / "data" / f"{fig_id}.json").read_text())
    assert set(data["stack"]) == {"python", "packages", "cpu"}
    assert data["kernels"] == kernels_record()  # the class of float kernels that made it
    for name, record in zip(spec.runs, [data["run"]] if spec.runs else []):
        # the data file records the run that drew it, not the defaults
        assert record["name"] == name
        assert record["config"] == jsonable_config(RUNS[name].config)
    if spec.kind == "animation" and "n_frames" in data:
        assert data["n_frames"] >= 1


def test_a_dqn_figure_records_the_runs_config(tiny_runs):
    out = tiny_runs / "figures"
    make_figures(["double_dqn_rewards_plot"], out_dir=out, progress=False)
    data = json.loads((out / "data" / "double_dqn_rewards_plot.json").read_text())
    assert len(data["rewards"]) == data["config"]["n_episodes"] == 3
    assert data["run"]["seed"] == data["seed"] == 42
