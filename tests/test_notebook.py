"""The chapter notebook, notebooks/18_reinforcement_learning.ipynb, executed top to bottom.

Executing it takes a few minutes, so it runs only when ``HOML_RL_NOTEBOOK=1`` is set
(otherwise its tests are skipped, saying so)::

    HOML_RL_NOTEBOOK=1 python -m pytest tests/test_notebook.py

With ``HOML_RL_NOTEBOOK_OUT=PATH`` the executed notebook is also written to ``PATH``
(atomically, once every check passed): ``.ci/run`` points it at
``docs/_build/executed/18_reinforcement_learning.ipynb``, which the documentation site
renders (``docs/_ext/notebook_page.py``), so CI executes the notebook once for both.

The kernel is the Python running the tests (a kernelspec written to a temporary folder,
so no installed Jupyter kernel is used), importing this checkout's ``homl_rl``. The
tests read what the notebook's tagged cells print and compare it with the numbers the
other test files pin; each check says where its numbers come from. Only the check that
the committed notebook is the generator's output, without outputs, always runs.
"""

import ast
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from test_dqn import PINNED as PINNED_DQN_RUNS
from test_markov import NOTEBOOK_RUNS
from test_policy_gradients import CARTPOLE_FIRST_MEANS, LANDER_FIRST_MEANS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "18_reinforcement_learning.ipynb"
GENERATOR = ROOT / "scripts" / "make_notebook.py"
ENABLED = os.environ.get("HOML_RL_NOTEBOOK") == "1"
OUT = os.environ.get("HOML_RL_NOTEBOOK_OUT")
"""where the executed notebook goes too, for the documentation site (unset: nowhere)"""
TIMEOUT = 1800
"""seconds a cell may take (the longest, DQN's 600 episodes, takes under a minute)"""


def executes_the_notebook(test):
    """Mark ``test`` as the notebook's: skipped unless ``HOML_RL_NOTEBOOK=1``."""
    test = pytest.mark.notebook(test)
    return pytest.mark.skipif(not ENABLED, reason="executes the chapter notebook (minutes): "
                                                  "set HOML_RL_NOTEBOOK=1 to run it")(test)


def test_the_committed_notebook_is_the_generators_without_outputs():
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code_cells)


def test_the_first_code_cell_installs_homl_rl_only_in_colab_from_one_url_variable():
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    first = "".join(next(cell for cell in notebook["cells"]
                         if cell["cell_type"] == "code")["source"])
    assert re.search(r"^REPO_URL = ", first, re.MULTILINE)
    assert 'if "google.colab" in sys.modules:' in first
    assert '%pip install -q "homl_rl[box2d] @ git+{REPO_URL}"' in first


# --- executing it --------------------------------------------------------------------------

def execute_notebook(path, workdir):
    """Run the notebook in a kernel of this Python; return ``(notebook, seconds)``."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    kernels = Path(workdir) / "kernels"
    spec_dir = kernels / "homl_rl_test"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python {sys.version.split()[0]} ({sys.executable})",
        "language": "python",
    }))
    kernel_manager = AsyncKernelManager(
        kernel_name="homl_rl_test", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # conftest's Agg: let the kernel draw inline, as a reader's does
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, km=kernel_manager, timeout=TIMEOUT,
                            resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    client.execute(env=env, cleanup_kc=True)  # shut the kernel down when done
    return notebook, time.perf_counter() - start


def printed(notebook, tag):
    """What the cell tagged ``tag`` shows: its stdout and its result's text."""
    cells = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"one cell should be tagged {tag!r}, found {len(cells)}"
    texts = []
    for output in cells[0].outputs:
        if output.output_type == "stream" and output.name == "stdout":
            texts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            texts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            raise AssertionError(f"cell {tag!r} raised {output.ename}: {output.evalue}")
    return "".join(texts)


NUMBER = re.compile(r"(?<![\w.])-?(?:inf|nan|\d+(?:\.\d*)?(?:e[-+]?\d+)?)")
"""A number as NumPy or Python prints it; not the digits of ``float32``, ``float64``."""


def numbers(text):
    """Every number in ``text``, in order (``np.float64(1.5)`` reads as 1.5)."""
    return [float(word) for word in NUMBER.findall(text)]


def after(text, label):
    """The numbers printed on the line that starts with ``label``."""
    lines = [line for line in text.splitlines() if line.startswith(label)]
    assert len(lines) == 1, f"expected one line starting with {label!r} in:\n{text}"
    return numbers(lines[0][len(label):])


# --- the numbers it prints -------------------------------------------------------------------


def check_no_cell_raised(executed):
    errors = [output for cell in executed.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert errors == []


def check_every_figure_is_shown_inline(executed):
    showing = [cell for cell in executed.cells
               if cell.cell_type == "code" and "plt.show()" in cell.source]
    assert len(showing) >= 8  # CartPole, REINFORCE, Figure 18-9, 4 DQN curves, the lander
    for cell in showing:
        images = [output for output in cell.outputs if output.output_type == "display_data"
                  and "image/png" in output.data]
        assert len(images) == 1, cell.source


def check_cartpole_reset_and_first_step(executed):
    # tests/test_environments.py: the book notebook's printout of reset(seed=42), step(1)
    np.testing.assert_allclose(numbers(printed(executed, "reset_obs")),
                               [0.0273956, -0.00611216, 0.03585979, 0.0197368], rtol=1e-6)
    text = printed(executed, "step_obs")
    np.testing.assert_allclose(after(text, "obs:"),
                               [0.02727336, 0.18847767, 0.03625453, -0.26141977], rtol=1e-6)
    assert "reward: 1.0 | done: False | truncated: False" in text


def check_basic_policy_statistics_over_500_episodes(executed):
    # tests/test_environments.py: the book notebook's printout
    assert numbers(printed(executed, "basic_policy_stats")) == [
        41.698, 8.389445512070509, 24.0, 63.0]


def check_discount_printouts(executed):
    # tests/test_policy_gradients.py: the book notebook's printouts
    assert numbers(printed(executed, "discount_rewards")) == [-22, -40, -50]
    np.testing.assert_allclose(
        numbers(printed(executed, "discount_and_normalize_rewards")),
        [-0.28435071, -0.86597718, -1.18910299, 1.26665318, 1.0727777], rtol=1e-7)


def check_policy_gradients_run(executed):
    text = printed(executed, "policy_gradients_run")
    # CARTPOLE_FIRST_MEANS (tests/test_policy_gradients.py): the book's cell, seed 42
    assert after(text, "first 10 iterations:") == CARTPOLE_FIRST_MEANS
    # the full 150-iteration run's last 5 and sum: tests/test_policy_gradients.py's
    # test_cartpole_full_default_run_is_pinned (a slow test; the book's cell printed them too)
    assert after(text, "last 5 iterations:") == [155.0, 120.9, 147.0, 135.6, 171.7]
    assert after(text, "sum over the 150 iterations:")[0] == pytest.approx(11907.2, abs=1e-6)


def check_markov_chain_runs(executed):
    # NOTEBOOK_RUNS (tests/test_markov.py): the book notebook's printout
    lines = [line.rstrip() for line in printed(executed, "run_chains").splitlines()
             if line.startswith("Run #")]
    assert lines == NOTEBOOK_RUNS


def check_q_value_iteration_table_and_best_actions(executed):
    # tests/test_markov.py: the book notebook's printout (gamma 0.90), and the best actions
    # at gamma 0.95 the chapter's text gives
    table = numbers(printed(executed, "q_value_iteration"))
    np.testing.assert_allclose(table, [18.91891892, 17.02702702, 13.62162162,
                                       0.0, -math.inf, -4.87971488,
                                       -math.inf, 50.13365013, -math.inf], rtol=1e-8)
    assert numbers(printed(executed, "best_actions")) == [0, 0, 1]
    assert numbers(printed(executed, "best_actions_095")) == [0, 2, 1]


def check_q_learning_table(executed):
    # tests/test_markov.py: our run on the pinned stack (np.random.seed(42), 10,000 iterations)
    np.testing.assert_allclose(numbers(printed(executed, "q_learning")),
                               [18.77621289, 17.2238872, 13.74543343,
                                0.0, -math.inf, -8.00485647,
                                -math.inf, 49.40208921, -math.inf], rtol=1e-8)


def check_dqn_runs(executed):
    # PINNED (tests/test_dqn.py): each variant's 600 per-episode rewards at seed 42, the
    # first 200 from the book's cells; the notebook plays all 600 for DQN, the first
    # N_VARIANT_EPISODES for the other variants
    n_variant_episodes = notebook_variable(executed, "N_VARIANT_EPISODES")
    for variant in ("dqn", "fixed_q_targets", "double_dqn", "dueling_double_dqn"):
        text = printed(executed, f"{variant}_run")
        assert after(text, "first 20 episodes:") == PINNED_DQN_RUNS[variant][:20], variant
        total = after(text, "sum over the 600 episodes:" if variant == "dqn" else "sum:")[0]
        n_episodes = 600 if variant == "dqn" else n_variant_episodes
        assert total == sum(PINNED_DQN_RUNS[variant][:n_episodes]), variant


def check_lander_first_iterations(executed):
    # LANDER_FIRST_MEANS (tests/test_policy_gradients.py): the book's exercise 8 cells
    mean_rewards = after(printed(executed, "lander_run"), "mean rewards:")
    assert mean_rewards[:len(LANDER_FIRST_MEANS)] == LANDER_FIRST_MEANS


def notebook_variable(notebook, name):
    """The literal value the notebook assigns to ``name`` (``NAME = value``)."""
    for cell in notebook.cells:
        match = re.search(rf"^{name} = (.+?)(?:\s+#.*)?$", cell.source, re.MULTILINE)
        if cell.cell_type == "code" and match:
            return ast.literal_eval(match.group(1))
    raise AssertionError(f"the notebook assigns no {name}")


CHECKS = [check for name, check in list(globals().items()) if name.startswith("check_")]
"""Every check of the executed notebook, in the notebook's order."""


@executes_the_notebook
def test_the_chapter_notebook_runs_and_prints_the_pinned_numbers(tmp_path):
    """Execute the notebook once (one test, so that pytest-xdist cannot run it twice), then
    every check; report all the checks that fail, not only the first."""
    import nbformat

    notebook, seconds = execute_notebook(NOTEBOOK, tmp_path)
    nbformat.write(notebook, tmp_path / NOTEBOOK.name)  # to look at, when a check fails
    print(f"\nthe chapter notebook ran in {seconds:.0f} s on Python {sys.version.split()[0]} "
          f"(executed copy: {tmp_path / NOTEBOOK.name})")
    failures = []
    for check in CHECKS:
        try:
            check(notebook)
        except AssertionError as error:
            failures.append(f"{check.__name__}: {error}")
    assert not failures, "\n\n".join(failures)
    if OUT:  # the site renders it: only a notebook whose numbers passed, written atomically
        out = Path(OUT)
        out.parent.mkdir(parents=True, exist_ok=True)
        temporary = out.with_name(f".{out.name}.tmp")
        nbformat.write(notebook, temporary)
        os.replace(temporary, out)
