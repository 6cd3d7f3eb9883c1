"""The figure registry, save_fig, animations and the CLI: determinism above all."""

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from homl_rl.animation import record_episode, save_animation, show_one_episode
from homl_rl.environments import basic_policy
from homl_rl.figures import (
    FigureSpec, UnknownFigureError, all_figures, figure_table, make_figures, select_figures)
from homl_rl.io import atomic_write
from homl_rl.plotting import load_data, same_numbers
from homl_rl.stack import has_tf_agents

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "figures"
QUICK_IDS = ["cart_pole_plot", "q_value_plot", "basic_policy"]


@pytest.fixture(scope="module")
def quick_figures(tmp_path_factory):
    """The quick figures made twice, into two directories."""
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    make_figures(QUICK_IDS, out_dir=first, progress=False)
    make_figures(QUICK_IDS, out_dir=second, progress=False)
    return first, second


def _files(fig_id):
    kind = all_figures()[fig_id].kind
    return [f"{fig_id}.{'gif' if kind == 'animation' else 'png'}", f"data/{fig_id}.json"]


@pytest.mark.parametrize("fig_id", QUICK_IDS)
def test_same_command_twice_gives_byte_identical_files(quick_figures, fig_id):
    first, second = quick_figures
    for name in _files(fig_id):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("fig_id", QUICK_IDS)
def test_regenerated_figure_equals_the_committed_one(quick_figures, fig_id):
    """A library upgrade that moves a pixel or a number is caught here."""
    first, _ = quick_figures
    picture, data = _files(fig_id)
    assert filecmp.cmp(first / picture, COMMITTED / picture, shallow=False), (
        f"{picture} differs from the committed figures/{picture}; if the change is intended, "
        "regenerate with `make figures` and commit")
    made, committed = (json.loads((folder / data).read_text()) for folder in (first, COMMITTED))
    assert same_numbers(made, committed), f"{data} has other numbers than figures/{data}"


def test_data_files_record_the_stack_and_the_runs_real_config(quick_figures):
    first, _ = quick_figures
    data = load_data("cart_pole_plot", out_dir=first)
    assert set(data["stack"]) == {"python", "packages", "cpu"}
    assert "numpy" in data["stack"]["packages"]


def test_every_registered_figure_is_committed():
    for fig_id in all_figures():
        for name in _files(fig_id):
            assert (COMMITTED / name).exists(), f"figures/{name} missing: run `make figures`"


def test_committed_animations_are_small():
    for gif in COMMITTED.glob("*.gif"):
        assert gif.stat().st_size < 2_000_000, gif


def test_figure_data_has_the_numbers_behind_the_picture(quick_figures):
    first, _ = quick_figures
    data = load_data("q_value_plot", out_dir=first)
    assert data["true_Q_value"] == pytest.approx(18.91891892)
    assert len(data["q_learning_Q_s0_a0"]) == 10_000
    assert data["q_value_iteration_final"][1][1] == -np.inf
    episode = load_data("basic_policy", out_dir=first)
    assert episode["n_frames"] == len(episode["actions"]) == len(episode["rewards"])


def test_unknown_figure_id_lists_the_valid_ones():
    with pytest.raises(UnknownFigureError, match="unknown figure id.*nope.*valid ids: .*cart_pole_plot"):
        select_figures(["nope"])


def test_long_runs_are_made_only_when_asked_for():
    long_ids = {spec.fig_id for spec in all_figures().values() if spec.long_run}
    tf_agents_ids = {"breakout_tf_agents", "breakout_tf_agents_training_plot"}
    assert tf_agents_ids | {"muzero_cartpole_plot", "muzero_cartpole"} == long_ids
    assert not long_ids & {spec.fig_id for spec in select_figures()}
    if not has_tf_agents():  # the current stack: the TF-Agents long runs are left out
        assert ({spec.fig_id for spec in select_figures(long_runs=True)}
                == long_ids - tf_agents_ids)
        return
    assert long_ids == {spec.fig_id for spec in select_figures(long_runs=True)}
    assert [spec.fig_id for spec in select_figures(["breakout_tf_agents"])] == ["breakout_tf_agents"]


def test_the_cli_lists_the_long_runs(capsys):
    from homl_rl.cli import main

    assert main(["figures", "--list"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines()
                if line.startswith("breakout_tf_agents "))
    assert "[long run: made by --long or --only]" in line


def test_an_id_cannot_be_registered_twice():
    spec = FigureSpec("test_only_figure", "x", "figure", "homl_rl.figures.markov", "q_value_plot")
    with pytest.raises(ValueError, match="registered twice"):
        figure_table([spec, spec])
    with pytest.raises(ValueError, match="kind must be 'figure' or 'animation'"):
        FigureSpec("x", "x", "movie", "homl_rl.figures.markov", "q_value_plot")


def test_every_spec_names_a_drawing_function_and_known_runs():
    from homl_rl.runs import RUNS

    for spec in all_figures().values():
        if spec.module != "homl_rl.figures.tf_agents":  # tested where TF-Agents is
            assert callable(spec.draw_function()), spec.fig_id
        assert set(spec.runs) <= set(RUNS), spec.fig_id


LOADED = "import sys; print(sorted(m for m in ('tf_agents', 'reverb', 'tensorflow') if m in sys.modules))"


def test_listing_figures_imports_no_figure_module_and_no_tensorflow():
    code = ("import sys; from homl_rl.cli import main; main(['figures', '--list']); "
            "print([m for m in sys.modules if m.startswith('homl_rl.figures.')]); " + LOADED)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == ["[]", "[]"]


def test_making_a_cartpole_figure_does_not_load_tf_agents(tmp_path):
    code = ("from homl_rl.figures import make_figures; "
            f"make_figures(['cart_pole_plot'], out_dir={str(tmp_path)!r}, progress=False); " + LOADED)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "tf_agents" not in result.stdout.splitlines()[-1]
    assert "reverb" not in result.stdout.splitlines()[-1]
    assert (tmp_path / "cart_pole_plot.png").exists()


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def failing_write(tmp):
        Path(tmp).write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        atomic_write(target, failing_write)
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.filterwarnings("ignore:Animation was deleted")
def test_show_one_episode_is_the_notebooks_animation():
    anim = show_one_episode(basic_policy)
    frames, episode = record_episode(basic_policy)
    assert anim._save_count == len(frames) == episode["n_frames"]
    assert frames[0].shape == (400, 600, 3)


def test_a_policy_returning_a_bad_action_is_a_clear_error():
    with pytest.raises(ValueError, match="returned 7, which is not an action of Discrete"):
        record_episode(lambda obs: 7)


@pytest.mark.parametrize("suffix", [".gif", ".mp4", ".html"])
def test_animation_formats_are_written_deterministically(tmp_path, suffix):
    frames, _ = record_episode(basic_policy, n_max_steps=10)
    a = save_animation(frames, tmp_path / f"a{suffix}")
    b = save_animation(frames, tmp_path / f"b{suffix}")
    assert a.stat().st_size > 0
    assert a.read_bytes() == b.read_bytes()


def test_unknown_animation_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown animation format '.avi'"):
        save_animation([np.zeros((4, 4, 3), np.uint8)], tmp_path / "a.avi")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "homl_rl", *args], capture_output=True,
                          text=True, cwd=REPO)


def test_cli_lists_figures():
    result = _cli("figures", "--list")
    assert result.returncode == 0
    assert "cart_pole_plot" in result.stdout and "q_value_plot" in result.stdout


def test_cli_unknown_figure_id_exits_2_with_the_valid_ids():
    result = _cli("figures", "--only", "nope")
    assert result.returncode == 2
    assert "unknown figure id(s): nope" in result.stderr and "cart_pole_plot" in result.stderr


def test_cli_makes_a_figure_into_out_dir(tmp_path):
    result = _cli("figures", "--only", "cart_pole_plot", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cart_pole_plot.png").read_bytes() == (COMMITTED / "cart_pole_plot.png").read_bytes()
    data = json.loads((tmp_path / "data" / "cart_pole_plot.json").read_text())
    assert data["reward"] == 1.0
