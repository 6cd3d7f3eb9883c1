"""``crosscheck()`` inside a running Jupyter kernel, and readers' set-up code (Colab style).

The kernel test executes a small notebook with nbclient in a real IPython kernel started
from this interpreter (the ``jupyter_kernel`` fixture: a kernelspec written to a temporary
directory, nothing written outside it); its last cell calls ``crosscheck()`` with no path,
and its rows must equal the file-based run of the same cells.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from homl_rl.crosscheck import PASS, Report, crosscheck
from homl_rl.crosscheck.loader import from_cells, strip_magics

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "crosscheck"
CORRECT = (EXAMPLES / "reader_correct.py").read_text()
BEFORE_DUELING = CORRECT.split("# the dueling DQN")[0]
CHECKED = ["basic_policy", "discount_rewards", "run_chain", "MDP tables", "step", "exploration_policy",
           "sample_experiences", "ReplayBuffer", "epsilon_greedy_policy"]

KERNEL_CHECKED = CHECKED
"""The kernel test's checks: the NumPy rows and the TensorFlow ones epsilon_greedy_policy
brings in (its own row and play_one_step (DQN)'s), about half a minute each way since our
side runs on the fast engine and the DQN episodes are short."""

COLAB_SETUP = [
    # the book's notebook's set-up, as readers run it in Colab
    'import os\nimport sys\n\nif "google.colab" in sys.modules:\n'
    '    %pip install -q -U gymnasium swig\n    !apt install -y xvfb\n',
    'os.environ["TF_USE_LEGACY_KERAS"] = "1"\nimport tf_keras\nimport tensorflow as tf\n',
    'if not tf.config.list_physical_devices("GPU"):\n    print("No GPU was detected.")\n',
    'from google.colab import drive\ndrive.mount("/content/drive")\n',
    "%%time\nIS_COLAB = 'google.colab' in sys.modules\n",
]


def notebook(sources):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                       "execution_count": None} for source in sources]}


def row_tuples(results):
    return [(r.check, r.status, r.detail, r.hint) for r in results]


# --- the loader's part -------------------------------------------------------------------------

def test_kernel_history_is_loaded_like_cells_with_magics_as_the_kernel_parsed_them():
    history = ["",  # In[0]
               "import numpy as np\nget_ipython().run_line_magic('pip', 'install -q gymnasium')\n",
               "import sys\nif 'google.colab' in sys.modules:\n"
               "    get_ipython().run_line_magic('pip', 'install -q swig')\n",
               "def basic_policy(obs):\n    return 1\n",
               "get_ipython().run_cell_magic('time', '', 'def basic_policy(obs):\\n"
               "    return 0 if obs[2] < 0 else 1\\n')\n",
               "get_ipython().system('nvidia-smi')\n"]
    loaded = from_cells(history)
    assert [(d.name, d.where) for d in loaded.definitions] == [
        ("basic_policy", "In [3], line 1"), ("basic_policy", "In [4], line 1")]
    assert "In [1], line 2: set-up, not run: get_ipython().run_line_magic('pip', 'install -q gymnasium')" \
        in loaded.skipped
    assert "In [5], line 1: set-up, not run: get_ipython().system('nvidia-smi')" in loaded.skipped


def test_an_indented_magic_becomes_pass_so_its_block_still_parses():
    source = 'if "google.colab" in sys.modules:\n    %pip install -q swig\nx = 1\n'
    assert strip_magics(source) == 'if "google.colab" in sys.modules:\n    pass\nx = 1\n'


def test_crosscheck_without_a_path_outside_ipython_is_a_clear_error():
    code = ("from homl_rl.crosscheck import crosscheck, UsageError\n"
            "try:\n    crosscheck()\nexcept UsageError as error:\n    print(error)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "crosscheck() needs a path outside a notebook (IPython is not running)"


# --- readers' set-up code ----------------------------------------------------------------------

def test_colab_style_setup_gives_the_same_rows_as_the_plain_code(tmp_path):
    colab = tmp_path / "reader_colab.ipynb"
    colab.write_text(json.dumps(notebook(COLAB_SETUP + [CORRECT])))
    plain = crosscheck(EXAMPLES / "reader_correct.py", only=CHECKED)
    report = crosscheck(colab, only=CHECKED)
    assert row_tuples(report.results) == row_tuples(plain.results), report.to_text()
    assert all(r.status == PASS for r in report.results)
    assert report.setup_problems == [] and report.exit_code == 0
    assert any("set-up, not run: os.environ['TF_USE_LEGACY_KERAS'] = '1'" in s
               for s in report.skipped_code)
    if "google.colab" not in sys.modules:
        assert any("from google.colab import drive` skipped" in n for n in report.load_notes)


def test_setup_problems_are_said_once_at_the_top_and_skip_the_rows_they_break(tmp_path,
                                                                             monkeypatch):
    # TensorFlow that cannot be imported in the worker: an environment problem, not a row's
    monkeypatch.setenv("PYTHONPATH", str(tmp_path) + ":" + str(Path(__file__).parents[1]))
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text("raise ImportError('broken install')\n")
    report = crosscheck(EXAMPLES / "reader_correct.py",
                        only=["basic_policy", "epsilon_greedy_policy", "play_one_step (DQN)"])
    assert len(report.setup_problems) == 1, report.to_text()
    assert "TensorFlow/Keras cannot be imported in the checking process" in report.setup_problems[0]
    statuses = {r.check: r.status for r in report.results}
    assert statuses["basic_policy"] == PASS
    assert statuses["epsilon_greedy_policy"] == "skipped"
    assert report.exit_code == 1
    text = report.to_text()
    assert text.index("set-up problems") < text.index("basic_policy")
    data = json.loads(report.to_json())
    assert list(data)[:2] == ["path", "setup_problems"]
    assert Report.from_json(report.to_json()) == report
    assert report._repr_html_().index("set-up problems") < report._repr_html_().index("<table>")


def test_the_report_shows_as_an_escaped_html_table_and_as_text():
    from homl_rl.crosscheck import CheckResult

    report = Report("x.py", [CheckResult("basic_policy", "fail", 1.0, "ours <1>, yours 0",
                                         "push left & right")])
    page = report._repr_html_()
    assert "<th>check</th><th>status</th><th>detail</th><th>hint</th>" in page
    assert "ours &lt;1&gt;, yours 0" in page and "push left &amp; right" in page
    assert repr(report) == str(report) == report.to_text()


# --- a real kernel -----------------------------------------------------------------------------

def test_crosscheck_in_a_running_kernel_checks_the_executed_cells(tmp_path, jupyter_kernel):
    # the book's set-up (TF_USE_LEGACY_KERAS=1 before TensorFlow is imported), a wrong
    # basic_policy that a later cell replaces, and the reader's code under %%time
    code_cells = [COLAB_SETUP[0] + 'os.environ["TF_USE_LEGACY_KERAS"] = "1"\n',
                  "def basic_policy(obs):\n    return 1\n", "%%time\n" + BEFORE_DUELING]
    last = ("from homl_rl.crosscheck import crosscheck\n"
            f"report = crosscheck(only={KERNEL_CHECKED!r})\n"
            "import json\n"
            "print(json.dumps([[(r.check, r.status, r.detail, r.hint) for r in report.results],\n"
            "                  report.setup_problems]))\n"
            "report")
    nb = jupyter_kernel(code_cells + [last])
    outputs = nb.cells[-1].outputs
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream"
                      and o.name == "stdout")
    rows, setup_problems = json.loads(printed.strip().splitlines()[-1])
    in_kernel = [tuple(row) for row in rows]
    shown = [o for o in outputs if o.output_type == "execute_result"]
    assert "<table>" in shown[0].data["text/html"]

    as_file = tmp_path / "same_cells.ipynb"
    as_file.write_text(json.dumps(notebook(code_cells)))
    file_report = crosscheck(as_file, only=KERNEL_CHECKED)
    assert in_kernel == row_tuples(file_report.results), file_report.to_text()
    assert all(status == PASS for _, status, _, _ in in_kernel)  # the later basic_policy won
    assert {check for check, _, _, _ in in_kernel} >= {"basic_policy", "discount_rewards",
                                                      "sample_experiences"}
    from homl_rl.crosscheck.worker import keras_2_environment

    environ = {"TF_USE_LEGACY_KERAS": "1"}
    if keras_2_environment(environ):  # TensorFlow 2.15: the kernel's setting was not wanted
        assert len(setup_problems) == 1 and "TF_USE_LEGACY_KERAS='1'" in setup_problems[0]
    else:
        assert setup_problems == []
