"""``crosscheck()`` in a kernel: the results the reader's loops left in its namespace.

The unit tests give :class:`~homl_rl.crosscheck.namespace.KernelRuns` a kernel's history
(the book's DQN cells, from ``examples/crosscheck/reader_loops.py``) and a namespace of
plain values; the kernel tests run those cells in a real Jupyter kernel (nbclient), then
``crosscheck()`` in it.
"""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from homl_rl.crosscheck import FAIL, PASS, SKIPPED, Report
from homl_rl.crosscheck import hints
from homl_rl.crosscheck.checks import runs
from homl_rl.crosscheck.checks.runs import (
    RUN_EPISODES, _with_train_after_episode, our_dqn_record)
from homl_rl.crosscheck.loader import from_cells
from homl_rl.crosscheck.loops import find_loops
from homl_rl.crosscheck.namespace import (
    OUTSIDE_THE_LOOP, KernelRuns, dqn_steps, plain_values)
from homl_rl.crosscheck.report import CheckResult
from homl_rl.dqn import dqn_config

LOOPS = (Path(__file__).resolve().parent.parent / "examples" / "crosscheck"
         / "reader_loops.py").read_text()
BOOK_MODEL_SEED = "tf.random.set_seed(42)  # extra code – ensures reproducibility on the CPU\n"
FULL_SEEDING = "tf.keras.utils.set_random_seed(42)  # seeds Keras' initializers too\n"
EPISODES = RUN_EPISODES["dqn"]
"""the fixture's loop plays the run rows' default DQN budget (60 episodes), as a reader who
cut the book's 600 to a minute's run would"""

SETUP = ("from collections import deque\nimport gymnasium as gym\nimport numpy as np\n"
         "import tensorflow as tf\nenv = gym.make('CartPole-v1')\nobs, info = env.reset(seed=42)\n")


def dqn_cells(seeding=FULL_SEEDING, loop_edit=("", "")):
    """The book's DQN cells (the model, the functions, the set-up cell, the loop of
    :data:`EPISODES` episodes), the model's cell seeded with ``seeding``, the loop edited by
    ``loop_edit`` (``(old, new)``)."""
    start = LOOPS.index(BOOK_MODEL_SEED + "\ninput_shape")
    end = LOOPS.index("model.set_weights(best_weights)", start)
    code = LOOPS[start:end].replace(BOOK_MODEL_SEED, seeding, 1)
    model, rest = code.split("\n\ndef epsilon_greedy_policy")
    functions, rest = ("def epsilon_greedy_policy" + rest).split("# extra code – for reproducibility")
    setup, loop = rest.split("for episode in range(600):")
    assert loop_edit[0] in loop
    loop = f"for episode in range({EPISODES}):" + loop.replace(*loop_edit)
    return [SETUP, model, functions, "# extra code – for reproducibility" + setup, loop]


MISTAKE = ("if episode > 50:", "if episode >= 0:")
"""hints.LOOP_TRAINS_FROM_START's mistake (its mutation: the condition always true), typed in
the loop"""


def kernel_runs(cells, namespace):
    loaded = from_cells([""] + cells)  # In[0] is empty in a kernel
    kernel = KernelRuns(loaded, plain_values(namespace), lambda kind: RUN_EPISODES[kind])
    return kernel, find_loops(loaded)


# --- what is read from the namespace ------------------------------------------------------------

def test_plain_values_copy_the_book_names_numbers_and_nothing_else():
    rewards = [3, 5, 8]
    namespace = {"rewards": rewards, "totals": [40.0, 41.0], "Q_values": object(),
                 "batch_size": 32, "model": object(), "discount_factor": True}
    values = plain_values(namespace)
    assert values == {"rewards": [3, 5, 8], "totals": [40.0, 41.0], "Q_values": None,
                      "batch_size": 32, "discount_factor": None}
    assert values["rewards"] is not rewards  # a copy: the reader's list goes nowhere


# --- the DQN loop: compared, re-run, or not comparable --------------------------------------------

def test_fully_seeded_rewards_equal_to_ours_pass_without_a_rerun():
    ours = dqn_steps(our_dqn_record("dqn", EPISODES))
    kernel, loops = kernel_runs(dqn_cells(), {"rewards": ours, "model": object()})
    [loop] = loops
    row, rerun = kernel.check(loop, "run: DQN loop")
    assert (row.status, rerun) == (PASS, False), row
    assert row.check == "run: DQN loop, the kernel's rewards"
    assert f"over your {EPISODES} episodes" in row.detail and "not re-run" in row.detail
    assert kernel.lines == ["run: DQN loop (In [5], line 1): checked from the kernel's rewards, "
                            "no re-run"]


def test_rewards_of_a_mistaken_loop_fail_at_their_first_differing_episode_with_the_hint():
    mistake = hints.LOOP_TRAINS_FROM_START
    theirs = dqn_steps(our_dqn_record("dqn", EPISODES, dqn_config("dqn", EPISODES),
                                      _with_train_after_episode(mistake)))
    ours = dqn_steps(our_dqn_record("dqn", EPISODES))
    first = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
    kernel, [loop] = kernel_runs(dqn_cells(loop_edit=MISTAKE), {"rewards": theirs})
    row, rerun = kernel.check(loop, "run: DQN loop")
    assert (row.status, rerun) == (FAIL, True), row
    assert row.where == f"episode {first}"
    assert row.detail.startswith(f"episode {first}: your rewards[{first}] is {theirs[first]}, "
                                 f"ours {ours[first]}")
    assert row.hint == mistake.hint
    assert "re-run to find the step" in kernel.lines[0]


def test_rewards_that_differ_while_the_rerun_loop_plays_ours_are_not_failed(monkeypatch):
    """A kernel whose rewards differ from ours by no known mistake (here: one value changed
    by hand, as a random draw between the seeding and the loop would change them), while
    the loop, re-run on our objects, plays ours: not the reader's loop's mistake."""
    theirs = dqn_steps(our_dqn_record("dqn", EPISODES))
    theirs[30] += 1
    kernel, _ = kernel_runs(dqn_cells(), {"rewards": theirs})
    monkeypatch.setitem(runs.RUNNERS, "dqn", lambda ctx, loop, title, episodes, seconds:
                        CheckResult(title, PASS, 0.0, detail="the same run as ours"))
    namespace_row, rerun_row = runs.run_rows(SimpleNamespace(loaded=kernel.loaded), kernel=kernel)
    assert namespace_row.status == SKIPPED and rerun_row.status == PASS
    assert namespace_row.detail.startswith(f"your rewards {OUTSIDE_THE_LOOP}; episode 30: ")
    assert "comes from outside the loop" in kernel.lines[0]
    # the same difference with a failing re-run stays a failure
    kernel, _ = kernel_runs(dqn_cells(), {"rewards": theirs})
    monkeypatch.setitem(runs.RUNNERS, "dqn", lambda ctx, loop, title, episodes, seconds:
                        CheckResult(title, FAIL, detail="episode 30: ..."))
    assert [row.status for row in runs.run_rows(SimpleNamespace(loaded=kernel.loaded),
                                                kernel=kernel)] == [FAIL, FAIL]


@pytest.mark.parametrize("seed, passes", [(42, True), (7, False)])
def test_a_seed_given_by_name_counts_as_its_value(seed, passes):
    ours = dqn_steps(our_dqn_record("dqn", EPISODES))
    cells = dqn_cells(seeding=f"seed = {seed}\ntf.keras.utils.set_random_seed(seed)\n")
    cells[3] = cells[3].replace("np.random.seed(42)", "np.random.seed(seed)")
    kernel, [loop] = kernel_runs(cells, {"rewards": ours})
    row, rerun = kernel.check(loop, "run: DQN loop")
    if passes:
        assert (row.status, rerun) == (PASS, False), kernel.lines
    else:  # seeded, but not with the notebook's 42: said so, and the loop is re-run
        assert (row, rerun) == (None, True)
        assert "Keras' initializers are not seeded with 42" in kernel.lines[0]
        assert "NumPy is not seeded with 42" in kernel.lines[0]


def test_the_books_seeding_alone_is_said_to_be_irreproducible_not_failed():
    kernel, [loop] = kernel_runs(dqn_cells(seeding=BOOK_MODEL_SEED), {"rewards": [1, 2, 3]})
    row, rerun = kernel.check(loop, "run: DQN loop")
    assert (row.status, rerun) == (SKIPPED, True)
    assert "not your mistake" in row.detail and "tf.random.set_seed(42) alone (In [2], line 1)" \
        in row.detail
    assert "re-run" in kernel.lines[0]


def test_a_loop_without_numpy_seeding_after_the_model_is_rerun_without_a_row():
    cells = dqn_cells()
    cells[3] = cells[3].replace("np.random.seed(42)\n", "")
    kernel, [loop] = kernel_runs(cells, {"rewards": [1, 2, 3]})
    assert kernel.check(loop, "run: DQN loop") == (None, True)
    assert "NumPy is not seeded with 42 between your model and your loop" in kernel.lines[0]


def test_rewards_reassigned_by_a_later_loop_are_not_the_earlier_loops():
    cells = dqn_cells()
    kernel, loops = kernel_runs(cells + cells[1:], {"rewards": [1, 2, 3]})
    assert [loop.where for loop in loops] == ["In [5], line 1", "In [9], line 1"]
    assert kernel.check(loops[0], "run: DQN loop") == (None, True)
    assert kernel.lines[0].endswith("rewards was assigned again after the loop, at In [8], "
                                    "line 5: rewards = []")


def test_a_loop_that_keeps_no_result_and_an_overwritten_q_table_are_rerun():
    policy_gradients = LOOPS[LOOPS.index("n_iterations = 150"):LOOPS.index("def step(")]
    q_learning = LOOPS[LOOPS.index("# extra code – initializes the Q-Values"):
                       LOOPS.index(BOOK_MODEL_SEED + "\ninput_shape")]
    dueling = "Q_values = state_values + advantages\n"
    kernel, loops = kernel_runs([SETUP, policy_gradients, q_learning, dueling],
                                {"Q_values": [[0.0]]})
    assert [loop.kind for loop in loops] == ["policy_gradients", "q_learning"]
    for loop in loops:
        assert kernel.check(loop, loop.kind) == (None, True)
    assert "keeps no list" in kernel.lines[0]
    assert kernel.lines[1].endswith("Q_values was assigned again after the loop, at In [4], "
                                    "line 1: Q_values = state_values + advantages")


def test_the_report_says_its_namespace_lines_in_text_html_and_json():
    report = Report("the notebook's cells", namespace_notes=["run: DQN loop: checked <here>"])
    assert "  - run: DQN loop: checked <here>" in report.to_text()
    assert "<li>run: DQN loop: checked &lt;here&gt;</li>" in report._repr_html_()
    assert Report.from_json(report.to_json()) == report


# --- the basic policy's totals and Q-learning's table, from the reader's code run here ----------

def run_as_a_kernel(cells):
    """The namespace ``cells`` leave, run in order as a kernel runs them."""
    namespace = {}
    for cell in cells:
        exec(cell, namespace)
    return namespace


def test_the_basic_policys_totals_are_checked_from_the_namespace():
    basic = LOOPS[LOOPS.index("def basic_policy(obs)"):LOOPS.index("def play_one_step(env, obs, ")]
    cells = [SETUP.replace("import tensorflow as tf\n", ""), basic]
    kernel, [loop] = kernel_runs(cells, run_as_a_kernel(cells))
    row, rerun = kernel.check(loop, "run: basic policy's episodes")
    assert (row.status, rerun) == (PASS, False), row
    assert "over your 500 episodes" in row.detail


@pytest.mark.parametrize("edit, status, hint", [
    (("", ""), PASS, ""),
    (("alpha0 / (1 + iteration * decay)", "alpha0"), FAIL,
     hints.LOOP_NO_LEARNING_RATE_DECAY.hint)])
def test_q_learnings_table_is_checked_from_the_namespace_with_the_loops_hint(edit, status, hint):
    mdp = LOOPS[LOOPS.index("transition_probabilities = "):
                LOOPS.index("# extra code – initializes the Q-Values")]
    q_learning = LOOPS[LOOPS.index("# extra code – initializes the Q-Values"):
                       LOOPS.index(BOOK_MODEL_SEED + "\ninput_shape")]
    assert edit[0] in q_learning
    cells = ["import numpy as np\n", mdp, q_learning.replace(*edit)]
    kernel, [loop] = kernel_runs(cells, run_as_a_kernel(cells))
    row, rerun = kernel.check(loop, "run: Q-learning loop")
    assert (row.status, row.hint, rerun) == (status, hint, status == FAIL), row
    assert "after 10000 iterations" in row.detail


# --- a real kernel ---------------------------------------------------------------------------------

CROSSCHECK = ("import json, homl_rl\n"
              "from homl_rl.crosscheck import crosscheck\n"
              "report = crosscheck(only=['run:'])\n"
              "print(json.dumps([homl_rl.__file__, [(r.check, r.status, r.detail, r.hint, r.where)\n"
              "                  for r in report.results], report.namespace_notes]))\n")


def crosscheck_in_kernel(jupyter_kernel, cells):
    # the kernel inherits this process's TF_USE_LEGACY_KERAS (the stack's own setting)
    nb = jupyter_kernel(cells + [CROSSCHECK])
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs
                      if o.output_type == "stream" and o.name == "stdout")
    module, rows, notes = json.loads(printed.strip().splitlines()[-1])
    assert Path(module).parents[1] == Path(__file__).resolve().parents[1]  # this checkout's
    return {row[0]: row[1:] for row in rows}, notes


def test_in_a_kernel_the_dqn_loops_rewards_are_checked_without_a_rerun(jupyter_kernel):
    rows, notes = crosscheck_in_kernel(jupyter_kernel, dqn_cells())
    assert list(rows) == ["run: DQN loop, the kernel's rewards"], rows  # no re-run row
    status, detail, _, _ = rows["run: DQN loop, the kernel's rewards"]
    assert status == PASS and f"over your {EPISODES} episodes" in detail, detail
    assert notes == ["run: DQN loop (In [5], line 1): checked from the kernel's rewards, no re-run"]


@pytest.mark.slow
def test_in_a_kernel_a_mistaken_dqn_loop_fails_at_its_first_differing_episode_with_the_hint(
        jupyter_kernel):
    rows, notes = crosscheck_in_kernel(jupyter_kernel, dqn_cells(loop_edit=MISTAKE))
    status, detail, hint, where = rows["run: DQN loop, the kernel's rewards"]
    assert status == FAIL and where.startswith("episode ") and detail.startswith(where), detail
    assert hint == hints.LOOP_TRAINS_FROM_START.hint, rows
    assert rows["run: DQN loop"][0] == FAIL  # re-run, to show the step
    assert "re-run to find the step" in notes[0]


@pytest.mark.slow
def test_in_a_kernel_the_books_seeding_is_not_failed_and_the_loop_is_rerun(jupyter_kernel):
    rows, notes = crosscheck_in_kernel(jupyter_kernel, dqn_cells(seeding=BOOK_MODEL_SEED))
    status, detail, _, _ = rows["run: DQN loop, the kernel's rewards"]
    assert status == SKIPPED and "not your mistake" in detail
    assert rows["run: DQN loop"][0] == PASS  # the re-run reads tf.random.set_seed as ours
    assert "re-run" in notes[0]
