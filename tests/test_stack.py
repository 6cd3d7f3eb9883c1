"""The stacks a reader runs on: a quiet start, and installing into an environment that has TensorFlow."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from homl_rl.quiet import NOISE, drop_noise

REPO = Path(__file__).resolve().parents[1]
START_TF = "from homl_rl.tf_setup import tf; tf.constant(1.0) + 1; print('ok')"


def _run(code, **env):
    """Run ``code`` in a fresh interpreter importing this checkout, with a reader's environment."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("TF_CPP_MIN_LOG_LEVEL", "HOML_RL_VERBOSE")}
    environment.update(PYTHONPATH=str(REPO), **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environment, timeout=300)


def test_noise_is_recognised_line_by_line():
    text = ("2026-12-01 19:29:33.010215: E external/local_xla/xla/stream_executor/cuda/"
            "cuda_dnn.cc:9261] Unable to register cuDNN factory: Attempting to register factory\n"
            "a real warning\n"
            "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "Gym has been unmaintained since 2022 and does not support NumPy 2.0.\n")
    assert drop_noise(text) == "a real warning\n"


def test_tensorflow_starts_quietly_and_verbose_shows_what_it_says():
    quiet = _run(START_TF)
    assert quiet.returncode == 0 and quiet.stdout == "ok\n", quiet.stderr
    assert quiet.stderr == "", quiet.stderr  # measured on TF 2.15.1 and 2.21.0
    verbose = _run(START_TF, HOML_RL_VERBOSE="1")
    assert verbose.returncode == 0 and verbose.stdout == "ok\n"
    # What TensorFlow prints at start-up on this machine (oneDNN/CUDA notices): the filter
    # above had something to remove, so the quiet run's empty stderr proves it.
    assert any(NOISE.search(line) for line in verbose.stderr.splitlines()), verbose.stderr


def test_other_stderr_output_during_the_import_is_kept():
    code = ("import sys, homl_rl.quiet as q\n"
            "with q.quiet_imports():\n"
            "    print('a real warning', file=sys.stderr)\n"
            "    import os; os.write(2, b'from C: Unable to register cuBLAS factory\\nfrom C: kept\\n')\n")
    result = _run(code)
    assert result.returncode == 0
    assert result.stderr.splitlines() == ["from C: kept", "a real warning"]


def test_the_cli_starts_quietly():
    result = _run("import sys; from homl_rl.cli import main; sys.exit(main(['figures', '--list']))")
    assert result.returncode == 0, result.stderr
    assert "cart_pole_plot" in result.stdout
    assert result.stderr == "", result.stderr


def test_the_cli_verbose_flag_shows_tensorflows_start_up_messages():
    # `breakout --help` builds the subcommand's options from BreakoutConfig, which imports
    # TensorFlow: quiet by default, its start-up lines back with --verbose.
    code = "import sys; from homl_rl.cli import main; sys.exit(main(['breakout', '--help'{}]))"
    quiet, verbose = _run(code.format("")), _run(code.format(", '--verbose'"))
    assert quiet.returncode == 0 and "--verbose" in quiet.stdout, quiet.stderr
    assert quiet.stderr == "", quiet.stderr
    assert verbose.returncode == 0
    assert any(NOISE.search(line) for line in verbose.stderr.splitlines()), verbose.stderr


def _site_packages():
    return sysconfig.get_paths()["purelib"]


READER_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def _freeze(python, names=("tensorflow", "keras", "tf_keras", "tf-keras")):
    out = subprocess.run([python, "-m", "pip", "freeze", "--all"], capture_output=True,
                         text=True, check=True, env=READER_ENV).stdout
    wanted = {name.lower().replace("_", "-") for name in names}
    return sorted(line for line in out.splitlines()
                  if re.split(r"==| @ ", line)[0].lower().replace("_", "-") in wanted)


def test_pip_install_leaves_tensorflow_keras_and_tf_keras_as_they_are(tmp_path):
    """A reader's environment (Colab: TensorFlow >= 2.16 + tf_keras) after ``pip install .``.

    The throw-away venv sees this test's environment (the stack's venv) through a ``.pth``
    file, as ``--system-site-packages`` would see a system Python's: pip may install into
    the throw-away venv only, and must find nothing to change.
    """
    venv = tmp_path / "reader"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    venv_site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip()
    Path(venv_site, "reader_environment.pth").write_text(_site_packages() + "\n")
    source = tmp_path / "homl_rl_source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "homl_rl", source / "homl_rl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = _freeze(python)
    assert any(line.lower().startswith("tensorflow==") for line in before), before
    install = subprocess.run([python, "-m", "pip", "install", "--no-build-isolation", str(source)],
                             capture_output=True, text=True, env=READER_ENV)
    assert install.returncode == 0, install.stdout + install.stderr
    assert _freeze(python) == before
    version = subprocess.run([python, "-c", "import homl_rl; print(homl_rl.__version__, homl_rl.__file__)"],
                             capture_output=True, text=True, check=True, cwd=tmp_path,
                             env=READER_ENV).stdout.split()
    assert version[0] == "0.2.0" and str(venv) in version[1]


@pytest.fixture
def without_tf_agents(monkeypatch):
    """The current stack, as far as homl_rl can tell: TF-Agents is not installed."""
    import homl_rl.cli
    import homl_rl.commands
    import homl_rl.figures

    for module in (homl_rl.cli, homl_rl.commands, homl_rl.figures):
        monkeypatch.setattr(module, "has_tf_agents", lambda: False)


@pytest.mark.parametrize("command", ["tf-agents", "breakout-tf-agents", "compare"])
def test_a_tf_agents_command_on_the_current_stack_says_why_and_exits_2(without_tf_agents,
                                                                       capsys, command):
    from homl_rl.cli import main

    with pytest.raises(SystemExit) as exit_:
        main([command])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs TensorFlow 2.15" in err, err
    assert err.startswith(f"homl-rl {command}: error: "), err


def test_tf_agents_figures_are_left_out_on_the_current_stack_and_said_so(without_tf_agents):
    from homl_rl.figures import UnknownFigureError, select_figures, skipped_figures

    made = [spec.fig_id for spec in select_figures()]
    assert "cart_pole_plot" in made and "tf_agents_returns_plot" not in made
    assert "tf_agents_returns_plot" in skipped_figures()
    # of the long runs, the TF-Agents Breakout ones are left out, MuZero's are not
    assert [spec.fig_id for spec in select_figures(long_runs=True)] == [
        "muzero_cartpole_plot", "muzero_cartpole"]
    assert skipped_figures(long_runs=True) == ["breakout_tf_agents_training_plot",
                                               "breakout_tf_agents"]
    with pytest.raises(UnknownFigureError, match="needs TensorFlow 2.15"):
        select_figures(["cart_pole_plot", "tf_agents_returns_plot"])


def test_figures_only_a_tf_agents_figure_on_the_current_stack_exits_2(without_tf_agents, capsys):
    from homl_rl.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["figures", "--only", "sub_episodes_plot"])
    assert exit_.value.code == 2
    assert "sub_episodes_plot cannot be made here" in capsys.readouterr().err
