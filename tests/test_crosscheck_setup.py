"""What a reader's environment does to the cross-check, and what it must not do.

- ``TF_USE_LEGACY_KERAS``: from a clean environment (the variable unset, or set to ``0``,
  ``1`` or ``True``), the book's code passes with exit code 0 and no set-up problem; only a
  value that breaks ``tf.keras`` in this environment (TensorFlow 2.15 told to use
  ``tf_keras``, which is not installed) is one. The conftest and a test runner may set the
  variable, so these tests run the cross-check in subprocesses with an environment of
  their own.
- A line of the book that this stack's libraries reject (NumPy 2.5's ``int(action)``) is a
  set-up note with its fix (:mod:`homl_rl.crosscheck.breakages`), not the reader's mistake.
- A file that is JSON but not a notebook is one usage-error line and exit code 2.
"""

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from homl_rl.crosscheck import ERROR, PASS, crosscheck
from homl_rl.crosscheck.breakages import BREAKAGES, matching_breakage, setup_note
from homl_rl.crosscheck.checks import base
from homl_rl.crosscheck.runner import BOOK_LINE_BROKEN

REPO = Path(__file__).resolve().parents[1]
CORRECT = REPO / "examples" / "crosscheck" / "reader_correct.py"


def _tensorflow_wants_legacy_keras():
    """Whether the installed TensorFlow is >= 2.16 (Keras 2 only through tf_keras)."""
    major, minor = (int(p) for p in importlib.metadata.version("tensorflow").split(".")[:2])
    return (major, minor) >= (2, 16)


def _expected(value):
    """What the report must say of ``TF_USE_LEGACY_KERAS=value``: ``(problem, note)`` wanted.

    TensorFlow reads "true", "True" and "1" as set and anything else as unset (its
    lazy_loader); on 2.16+ the cross-check needs it set, on 2.15 unset.
    """
    is_set = value in ("1", "True")
    if _tensorflow_wants_legacy_keras():
        # unset is the usual case (the notebook sets it itself); "0" asks for Keras 3: a note
        return False, value == "0"
    if is_set:  # 2.15 looking for tf_keras: it breaks tf.keras unless tf_keras is installed
        broken = importlib.util.find_spec("tf_keras") is None
        return broken, not broken
    return False, False


def _clean_environment(value):
    env = {key: val for key, val in os.environ.items() if key != "TF_USE_LEGACY_KERAS"}
    if value is not None:
        env["TF_USE_LEGACY_KERAS"] = value
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


VALUES = [None, "0", "1", "True"]


@pytest.mark.parametrize("value", VALUES, ids=["unset", "0", "1", "True"])
def test_the_command_line_passes_the_books_code_whatever_tf_use_legacy_keras_says(value):
    result = subprocess.run(
        [sys.executable, "-m", "homl_rl", "crosscheck", str(CORRECT), "--only", "basic_policy",
         "--format", "json"],
        capture_output=True, text=True, env=_clean_environment(value), cwd=REPO, timeout=300)
    report = json.loads(result.stdout)
    problem, note = _expected(value)
    assert [(r["check"], r["status"]) for r in report["results"]] == [("basic_policy", PASS)]
    assert bool(report["setup_problems"]) == problem, report["setup_problems"]
    assert bool(report["setup_notes"]) == note, report["setup_notes"]
    if problem or note:
        assert f"TF_USE_LEGACY_KERAS={value!r}" in (report["setup_problems"] + report["setup_notes"])[0]
    assert result.returncode == (1 if problem else 0), result.stdout + result.stderr


def test_crosscheck_from_python_passes_the_books_code_and_puts_the_readers_value_back():
    # one process, the four values in turn: each call overrides the variable while it
    # runs (its worker inherits the override) and puts the reader's value back
    code = f"""
import json, os
from homl_rl.crosscheck import crosscheck
out = []
for value in {VALUES!r}:
    os.environ.pop("TF_USE_LEGACY_KERAS", None)
    if value is not None:
        os.environ["TF_USE_LEGACY_KERAS"] = value
    report = crosscheck({str(CORRECT)!r}, only=["basic_policy"])
    out.append([value, report.exit_code, [r.status for r in report.results],
                report.setup_problems, report.setup_notes, os.environ.get("TF_USE_LEGACY_KERAS")])
print(json.dumps(out))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=_clean_environment(None), cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr
    for value, exit_code, statuses, problems, notes, after in json.loads(result.stdout.splitlines()[-1]):
        problem, note = _expected(value)
        assert statuses == [PASS]
        assert (bool(problems), bool(notes)) == (problem, note), (value, problems, notes)
        assert exit_code == (1 if problem else 0)
        assert after == value  # the reader's environment is theirs again


# --- a line of the book that a newer library rejects ------------------------------------------

BOOK_PLAY_ONE_STEP = "env.step(int(action))"
"""the book's call in play_one_step (policy gradients); ours writes int(action[0, 0])"""


def _books_play_one_step(tmp_path):
    source = CORRECT.read_text()
    assert source.count("env.step(int(action[0, 0]))") == 1
    path = tmp_path / "reader_book.py"
    path.write_text(source.replace("env.step(int(action[0, 0]))", BOOK_PLAY_ONE_STEP))
    return path


def _numpy_converts_1x1_arrays():
    try:
        int(np.zeros((1, 1)))
        return True
    except TypeError:
        return False


def test_the_books_int_action_is_a_setup_note_with_its_fix_where_numpy_rejects_it(tmp_path,
                                                                                monkeypatch):
    monkeypatch.setattr(base, "SEEDS", (42,))  # the notebook's seed: the first step tells
    report = crosscheck(_books_play_one_step(tmp_path), only=["play_one_step (policy gradients)"])
    [row] = report.results
    if _numpy_converts_1x1_arrays():  # NumPy 1.26 (the reference stack): the book's code passes
        assert row.status == PASS and report.setup_notes == [], report.to_text()
        return
    assert row.status == ERROR, report.to_text()
    assert row.detail.splitlines()[0] == BOOK_LINE_BROKEN
    assert row.hint == ""  # not a mistake of the reader's
    [note] = report.setup_notes
    assert note.startswith("the book's `env.step(int(action))` (reader_book.py, line 40, in "
                           "play_one_step) raises TypeError on NumPy ")
    assert "since NumPy 2.5" in note and "`env.step(int(action[0, 0]))`" in note
    assert report.setup_problems == []
    text = report.to_text()
    assert text.index("set-up notes") < text.index("play_one_step (policy gradients)  error")


def _raised(line, kind="TypeError",
            message="only 0-dimensional arrays can be converted to Python scalars"):
    return {"type": kind, "message": message,
            "frames": [("mine.py, line 40, in play_one_step", line),
                       ("ops.py, line 312, in __int__", "return int(self._numpy())")]}


@pytest.mark.parametrize("line", [
    "obs, reward, done, truncated, info = env.step(int(action))",
    "obs, reward, done, info, truncated = env.step( int( action ) )",
    "return env.step(int(action))",
])
def test_a_breakage_is_recognised_by_its_exception_and_the_books_call_in_the_line(line):
    breakage, where = matching_breakage(_raised(line))
    assert breakage is BREAKAGES[0] and where == "mine.py, line 40, in play_one_step"


@pytest.mark.parametrize("raised", [
    _raised("obs, reward, done, truncated, info = env.step(int(action[0, 0]))"),  # another call
    _raised("obs, reward, done, truncated, info = my_env.step(int(action))"),
    _raised("env.step(int(action))", kind="ValueError"),
    _raised("env.step(int(action))", message="only integer scalar arrays can be converted"),
    _raised("env.step(int(action)"),  # the first line of a longer statement: not the call
    None,  # the worker died: nothing was raised
])
def test_a_breakage_is_not_recognised_from_anything_else(raised):
    assert matching_breakage(raised) is None


def test_the_setup_note_names_the_call_the_version_and_the_fix():
    note = setup_note(BREAKAGES[0], "mine.py, line 40, in play_one_step")
    assert note == (f"the book's `env.step(int(action))` (mine.py, line 40, in play_one_step) "
                    f"raises TypeError on NumPy {np.__version__}, installed here: since NumPy 2.5 "
                    "(the version measured here), converting an array of more than 0 dimensions "
                    "to a Python scalar (deprecated since NumPy 1.25) raises, and the book's "
                    "`action` is a 1×1 array. Not your mistake; on this stack write "
                    "`env.step(int(action[0, 0]))`")


# --- files that are JSON but not notebooks ----------------------------------------------------

def _code_cell(source):
    return {"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
            "execution_count": None}


NOT_NOTEBOOKS = {
    "cells-not-a-list": ({"cells": 5}, '"cells" is an integer (5), not a list of cells'),
    "not-an-object": ([1, 2], 'its JSON is a list, not an object with "cells"'),
    "cell-not-an-object": ({"cells": [_code_cell("x = 1\n"), "def f(): pass"]},
                           "cell 1 is a string, not an object"),
    "source-an-integer": ({"cells": [_code_cell(3)]},
                          "the source of cell 0 is an integer (3), not a string or a list of strings"),
    "source-list-of-integers": ({"cells": [_code_cell(["x = 1\n", 2])]},
                                "the source of cell 0 is a list holding an integer (2), not a "
                                "string or a list of strings"),
}


@pytest.mark.parametrize("name", list(NOT_NOTEBOOKS))
def test_json_that_is_not_a_notebook_is_one_usage_error_line(name, tmp_path):
    content, reason = NOT_NOTEBOOKS[name]
    path = tmp_path / "mine.ipynb"
    path.write_text(json.dumps(content))
    result = subprocess.run([sys.executable, "-m", "homl_rl", "crosscheck", str(path)],
                            capture_output=True, text=True, env=_clean_environment(None),
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"homl-rl crosscheck: error: {path} is not a Jupyter notebook: {reason}"]
