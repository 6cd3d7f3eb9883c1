"""Generic diagnostics: each a property of the two outputs, shown where it holds and nowhere else."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from homl_rl.crosscheck.diagnostics import (
    constant_factor, constant_offset, diagnose, other_shape, reversed_order, seed_independent,
    shifted_by_one)

REPO = Path(__file__).resolve().parents[1]
CORRECT = REPO / "examples" / "crosscheck" / "reader_correct.py"

A = np.array([-22.0, -40.0, -50.0, 3.5])
"""ours: the chapter's discounted rewards (10, 0, -50 at 0.8) and one more"""


def arr(*values):
    return np.array(values, dtype=np.float64)


# --- each diagnostic, where it holds and where it does not ------------------------------------

def test_reversed_order_holds_for_ours_reversed():
    assert reversed_order(A, A[::-1]) == "yours is ours in reverse order"
    assert reversed_order(np.arange(6.0).reshape(3, 2), np.arange(6.0).reshape(3, 2)[::-1])


@pytest.mark.parametrize("ours, theirs", [
    (arr(1, 2, 1), arr(1, 2, 1)),  # a palindrome: reversed, it is itself
    (arr(5), arr(5)),  # one element
    (A, A[::-1] + 1e-3),  # reversed, then moved beyond the tolerance
    (A, np.roll(A, 1)),  # rotated, not reversed
    (A, A[::-1][:3]),  # another length
])
def test_reversed_order_is_not_said_where_it_does_not_hold(ours, theirs):
    assert reversed_order(ours, theirs) is None


def test_constant_factor_holds_with_one_factor_for_every_element():
    assert constant_factor(A, 0.8 * A) == "yours is ours times a constant factor (×0.8)"
    assert constant_factor(A, -A) == "yours is ours times a constant factor (×-1)"
    # float32 outputs: the factor holds to float32's rounding
    ours32 = A.astype(np.float32).astype(np.float64)
    assert constant_factor(ours32, (A * 0.95).astype(np.float32).astype(np.float64)) \
        == "yours is ours times a constant factor (×0.95)"
    # zeros of ours stay zeros of theirs
    assert constant_factor(arr(0, 2, 4), arr(0, 1, 2)) == "yours is ours times a constant factor (×0.5)"


@pytest.mark.parametrize("ours, theirs", [
    (arr(0, 0, 3), arr(0, 0, 6)),  # one nonzero element: any two numbers have a ratio
    (arr(1, 2, 4), arr(2, 4, 9)),  # ×2, ×2, ×2.25: not one factor
    (arr(0, 2, 4), arr(1, 1, 2)),  # ours' zero is not theirs' zero
    (arr(1, 2, 4), arr(0, 0, 0)),  # ×0: theirs is zeros, not a scaled ours
    (arr(3, 3, 3), arr(6, 6, 6)),  # ours constant: ×2 or +3, the property says nothing
    (A, A + 1e-7),  # ×1 to the tolerance: the outputs are equal, no factor to speak of
])
def test_constant_factor_is_not_said_where_it_does_not_hold(ours, theirs):
    assert constant_factor(ours, theirs) is None


def test_constant_offset_holds_for_one_offset():
    assert constant_offset(A, A + 10) == "yours is ours plus a constant (+10)"
    assert constant_offset(A, A - 0.5) == "yours is ours plus a constant (-0.5)"


@pytest.mark.parametrize("ours, theirs", [
    (arr(1, 2, 3), arr(2, 3, 5)),  # +1, +1, +2
    (arr(4), arr(5)),  # one element
    (arr(2, 2), arr(3, 3)),  # ours constant
])
def test_constant_offset_is_not_said_where_it_does_not_hold(ours, theirs):
    assert constant_offset(ours, theirs) is None


def test_shifted_by_one_step_late_or_early():
    ours = arr(1, 2, 3, 4, 5)
    assert shifted_by_one(ours, arr(0, 1, 2, 3, 4)) == \
        "yours is ours shifted by one step, one step late: yours[t] = ours[t - 1]"
    assert shifted_by_one(ours, arr(2, 3, 4, 5, 0)) == \
        "yours is ours shifted by one step, one step early: yours[t] = ours[t + 1]"


@pytest.mark.parametrize("ours, theirs", [
    (arr(1, 2), arr(0, 1)),  # two elements: one pair in common, too little to tell
    (arr(7, 7, 7, 7), arr(0, 7, 7, 7)),  # ours constant: any shift is itself
    (arr(1, 2, 3, 4), arr(0, 1, 2, 5)),  # late for three steps, not the fourth
])
def test_shifted_by_one_is_not_said_where_it_does_not_hold(ours, theirs):
    assert shifted_by_one(ours, theirs) is None


def test_other_shape_holds_for_the_right_values_in_another_shape():
    ours = np.arange(6.0).reshape(2, 3)
    assert other_shape(ours, ours.reshape(-1)) == \
        "yours has the right values in another shape: yours (6,), ours (2, 3)"
    assert other_shape(ours, ours.T) == "yours is ours transposed: yours (3, 2), ours (2, 3)"
    assert other_shape(ours, ours.reshape(-1)[::-1]) is None  # other values in that order
    assert other_shape(arr(1, 2, 3), arr(1, 2, 3)) is None  # the same shape
    assert other_shape(np.array([[5.0]]), arr(5)) is None  # one element: nothing to say


def test_seed_independent_needs_theirs_equal_at_every_seed_and_ours_not():
    ours = [arr(1, 2), arr(3, 4), arr(5, 6)]
    assert seed_independent(ours, [arr(1, 2)] * 3) == \
        "your output does not depend on the seed: it is the same at all 3 seeds, ours is not"
    assert seed_independent(ours, [arr(1, 2), arr(1, 2), arr(1, 3)]) is None
    assert seed_independent([arr(1, 2)] * 3, [arr(9, 9)] * 3) is None  # ours neither
    assert seed_independent(ours[:1], [arr(1, 2)]) is None  # one seed


# --- over a row's outputs ---------------------------------------------------------------------

def test_diagnose_keeps_what_holds_on_every_output_that_differs():
    ours = [A, arr(1, 2, 3), arr(5)]
    theirs = [A[::-1], arr(3, 2, 1), arr(5)]  # the one-element output is the same
    assert diagnose(ours, theirs) == ["yours is ours in reverse order (in each of the 2 "
                                      "outputs that differ)"]
    # a factor must be one factor on every output that differs
    assert diagnose([A, arr(1, 2, 3)], [2 * A, arr(2, 4, 6)]) == [
        "yours is ours times a constant factor (×2) (in each of the 2 outputs that differ)"]
    assert diagnose([A, arr(1, 2, 3)], [2 * A, arr(3, 6, 9)]) == []
    # reversed in one output and not in the other: not said
    assert diagnose([A, arr(1, 2, 3)], [A[::-1], arr(1, 2, 4)]) == []
    # outputs that are not numeric arrays, or hold NaN or infinity: nothing to say
    assert diagnose([{"obs": A}], [{"obs": A[::-1]}]) == []
    assert diagnose([arr(1, np.inf, 3)], [arr(3, np.inf, 1)]) == []
    assert diagnose([arr(1, 2, 3)], [arr(np.nan, 2, 1)]) == []
    # per seed, then per call
    assert diagnose([[A], [arr(1, 2, 3)]], [[A + 1], [arr(2, 3, 4)]], depth=2) == [
        "yours is ours plus a constant (+1) (in each of the 2 outputs that differ)"]


def test_a_mistake_outside_the_catalogue_gets_its_diagnostic_in_the_command_line_output(tmp_path):
    source = CORRECT.read_text()
    ending = "        discounted[step] += discounted[step + 1] * discount_factor\n    return discounted\n"
    assert source.count(ending) == 1
    reader = tmp_path / "reader_reversed.py"  # discount_rewards returns its result reversed
    reader.write_text(source.replace(ending, ending.replace("return discounted",
                                                            "return discounted[::-1]")))
    result = subprocess.run([sys.executable, "-m", "homl_rl", "crosscheck", str(reader),
                             "--only", "discount_rewards"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("discount_rewards  ✗") for line in lines), result.stdout
    # the chapter's inputs: 5 calls, 4 of them with more than one reward (they differ)
    assert "    diagnostic: yours is ours in reverse order (in each of the 4 outputs that differ)" \
        in lines
    assert not any(line.strip().startswith("hint:") for line in lines)


def test_diagnostics_and_setup_notes_show_in_text_html_and_json():
    from homl_rl.crosscheck import CheckResult, Report

    report = Report("x.py", [CheckResult("discount_rewards", "fail", 28.0, "differs at output[0][0]",
                                         diagnostics=["yours is ours in reverse order"])],
                    setup_notes=["a note <of the set-up>"])
    text = report.to_text()
    assert "discount_rewards:\n    diagnostic: yours is ours in reverse order" in text
    assert text.index("set-up notes (your environment, not your code):\n  - a note <of the set-up>") \
        < text.index("discount_rewards")
    page = report._repr_html_()
    assert "<br>diagnostic: yours is ours in reverse order</td>" in page
    assert "<li>a note &lt;of the set-up&gt;</li>" in page
    assert Report.from_json(report.to_json()) == report
    assert report.exit_code == 1  # the failing row; a note alone does not fail
    assert Report("x.py", setup_notes=["a note"]).exit_code == 0
