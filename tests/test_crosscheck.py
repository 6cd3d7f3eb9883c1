"""``homl-rl crosscheck``: the loader, the worker (crashes, hangs, exits) and the checks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from homl_rl.cli import main
from homl_rl.crosscheck import ERROR, FAIL, PASS, SKIPPED, Report, crosscheck
from homl_rl.crosscheck.checks import CHECKS
from homl_rl.crosscheck.diff import compare
from homl_rl.crosscheck.loader import load_source
from homl_rl.dqn import DQN, agent_class as dqn_agent_class
from homl_rl.variants import CHAPTER_VARIANTS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "crosscheck"
NUMPY_CHECKS = ["basic_policy", "discount_rewards", "discount_and_normalize_rewards", "run_chain",
                "MDP tables + Q-value iteration", "step (Q-learning)", "exploration_policy",
                "sample_experiences", "ReplayBuffer", "Q-learning"]


def rows(report):
    return {r.check.split(" (")[0]: r for r in report.results}


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- loader -------------------------------------------------------------------------------

def test_loader_keeps_definitions_and_skips_loops_and_calls(tmp_path):
    path = write(tmp_path, "mine.py", "import numpy as np\nx = [1, 2]\nenv = make()\n"
                 "for i in range(10**9):\n    pass\n"
                 "def basic_policy(obs):\n    return 0 if obs[2] < 0 else 1\n")
    loaded = load_source(path)
    assert [d.name for d in loaded.definitions] == ["x", "basic_policy"]
    assert loaded.skipped == ["mine.py, line 3: assignment env = <not a literal>",
                              "mine.py, line 4: for loop"]


def test_notebook_with_magics_loads(tmp_path):
    cells = [
        {"cell_type": "markdown", "source": ["# Chapter 18"]},
        {"cell_type": "code", "source": ["%pip install -q -U gymnasium\n", "!apt install swig\n"]},
        {"cell_type": "code", "source": ["%%time\n", "import numpy as np\n",
                                         "def discount_rewards(rewards, discount_factor):\n",
                                         "    discounted = np.array(rewards)\n",
                                         "    for step in range(len(rewards) - 2, -1, -1):\n",
                                         "        discounted[step] += discounted[step + 1] * discount_factor\n",
                                         "    return discounted\n"]},
        {"cell_type": "code", "source": "discount_rewards([10, 0, -50], discount_factor=0.8)"},
    ]
    path = write(tmp_path, "chapter.ipynb", json.dumps({"cells": cells, "nbformat": 4}))
    loaded = load_source(path)
    assert [d.name for d in loaded.definitions] == ["discount_rewards"]
    assert loaded.skipped == ["chapter.ipynb [cell 3], line 1: call discount_rewards()"]
    report = crosscheck(path, only=["discount_rewards"])
    assert [(r.check, r.status) for r in report.results] == [("discount_rewards", PASS)]
    assert report.exit_code == 0


# --- the examples --------------------------------------------------------------------------

def test_correct_example_passes_every_numpy_check():
    report = crosscheck(EXAMPLES / "reader_correct.py", only=NUMPY_CHECKS)
    by_name = rows(report)
    assert {name: r.status for name, r in by_name.items()} == {
        name.split(" (")[0]: PASS for name in NUMPY_CHECKS}, report.to_text()


def test_faulty_example_numpy_mistakes_get_their_hints():
    report = crosscheck(EXAMPLES / "reader_mistakes.py", only=NUMPY_CHECKS)
    by_name = rows(report)
    assert by_name["basic_policy"].status == FAIL
    assert "swapped" in by_name["basic_policy"].hint
    assert by_name["discount_rewards"].status == FAIL
    assert "wrong direction" in by_name["discount_rewards"].hint
    assert by_name["discount_and_normalize_rewards"].status == FAIL
    assert "per episode" in by_name["discount_and_normalize_rewards"].hint
    assert by_name["exploration_policy"].status == PASS
    assert by_name["run_chain"].status == SKIPPED
    assert report.exit_code == 1


# --- robustness ----------------------------------------------------------------------------

def test_hanging_function_times_out_and_the_other_checks_still_run(tmp_path):
    path = write(tmp_path, "hang.py", "import numpy as np\n"
                 "def basic_policy(obs):\n    while True:\n        pass\n"
                 "def exploration_policy(state):\n    return np.random.choice(possible_actions[state])\n")
    report = crosscheck(path, only=["basic_policy", "exploration_policy"], timeout=3)
    by_name = rows(report)
    assert by_name["basic_policy"].status == ERROR
    assert by_name["basic_policy"].detail.startswith("timed out after 3 s")
    assert by_name["exploration_policy"].status == PASS
    assert report.exit_code == 1


def test_raising_exiting_and_nan_functions_are_reported_per_row(tmp_path):
    path = write(tmp_path, "bad.py", "import sys, os\nimport numpy as np\n"
                 "def basic_policy(obs):\n    raise RuntimeError('oops')\n"
                 "def discount_rewards(rewards, discount_factor):\n    sys.exit(3)\n"
                 "def discount_and_normalize_rewards(all_rewards, discount_factor):\n"
                 "    return [np.full(len(r), np.nan) for r in all_rewards]\n"
                 "def exploration_policy(state):\n    os._exit(7)\n"
                 "def step(state, action):\n    return 'a', 'b'\n"
                 "class ReplayBuffer:\n    def __init__(self, max_size):\n"
                 "        self.buffer = [0] * 10**11\n")
    report = crosscheck(path, only=["basic_policy", "discount_rewards",
                                        "discount_and_normalize_rewards", "exploration_policy",
                                        "step", "ReplayBuffer"])
    by_name = rows(report)
    assert by_name["basic_policy"].status == ERROR
    assert "RuntimeError: oops" in by_name["basic_policy"].detail
    assert "bad.py, line 4" in by_name["basic_policy"].detail
    assert by_name["discount_rewards"].status == ERROR
    assert "SystemExit: 3" in by_name["discount_rewards"].detail
    assert by_name["discount_and_normalize_rewards"].status == FAIL
    assert by_name["discount_and_normalize_rewards"].detail.startswith("NaN")
    assert by_name["exploration_policy"].status == ERROR
    assert "exit code 7" in by_name["exploration_policy"].detail
    assert by_name["step"].status == FAIL  # after the worker died, a fresh one ran this
    assert "wrong type" in by_name["step"].detail
    assert by_name["ReplayBuffer"].status == ERROR  # a huge allocation: MemoryError, not a crash
    assert "MemoryError" in by_name["ReplayBuffer"].detail


def test_reader_code_runs_in_a_temporary_directory(tmp_path):
    path = write(tmp_path, "writes.py", "import os\n"
                 "def basic_policy(obs):\n    open('written.txt', 'w').write(os.getcwd())\n"
                 "    return 0 if obs[2] < 0 else 1\n")
    report = crosscheck(path, only=["basic_policy"])
    assert report.results[0].status == PASS
    assert not (Path.cwd() / "written.txt").exists()


def test_crashing_import_is_an_error_with_exit_code_1(tmp_path, capsys):
    path = write(tmp_path, "broken.py", "import no_such_module_xyz\n"
                 "def basic_policy(obs):\n    return 0 if obs[2] < 0 else 1\n")
    assert main(["crosscheck", str(path), "--only", "basic_policy"]) == 1
    out = capsys.readouterr().out
    assert "load" in out and "No module named 'no_such_module_xyz'" in out


# --- usage errors and output formats -----------------------------------------------------------

@pytest.mark.parametrize("content, name", [(None, "missing.py"), ("x = 1\n", "notes.txt"),
                                           ("def f(:\n", "broken.py"), ("x = 1\n", "nothing.py")])
def test_usage_errors_exit_2(tmp_path, capsys, content, name):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert main(["crosscheck", str(path)]) == 2
    assert "homl-rl crosscheck: error:" in capsys.readouterr().err


def test_json_format(tmp_path, capsys):
    assert main(["crosscheck", str(EXAMPLES / "reader_mistakes.py"), "--only", "discount_rewards",
                 "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 1
    [row] = data["results"]
    assert row["status"] == FAIL and row["where"] == "output[0][0]"


def test_compare_is_exact_for_integers_and_tolerant_for_floats():
    assert not compare([1, 2, 3], [1, 2, 4]).ok
    assert compare([0.1, 0.2], [0.1 + 1e-9, 0.2]).ok
    assert compare([[1.0, -float("inf")]], [[1.0, -float("inf")]]).ok
    assert compare([1.0], [1.0, 2.0]).problem == "wrong shape"


def test_every_check_names_book_names():
    assert all(names for names, _ in CHECKS.values())


# --- the TensorFlow checks (one worker each; ~10 s a test) -------------------------------------

TF_CHECKS = ["epsilon_greedy_policy", "training_step", "play_one_step", "lander_play_one_step",
             "dueling"]


def test_correct_example_passes_every_tensorflow_check():
    report = crosscheck(EXAMPLES / "reader_correct.py", only=TF_CHECKS)
    assert [(r.check, r.status) for r in report.results] == [
        ("epsilon_greedy_policy", PASS), ("training_step (DQN)", PASS),
        ("training_step (fixed Q-value targets)", PASS), ("training_step (Double DQN)", PASS),
        ("training_step (Dueling Double DQN)", PASS), ("play_one_step (policy gradients)", PASS),
        ("lander_play_one_step", PASS), ("play_one_step (DQN)", PASS),
        ("dueling Q-value formula", PASS)], report.to_text()
    assert report.exit_code == 0


def test_faulty_example_tensorflow_mistakes_get_their_hints():
    report = crosscheck(EXAMPLES / "reader_mistakes.py", only=TF_CHECKS)
    by_name = {r.check: r for r in report.results}
    expected = {
        "epsilon_greedy_policy": "the test is reversed",
        "training_step (DQN)": "missing (dones | truncateds) mask",
        "training_step (Double DQN)": "target network used to pick the action",
        "training_step (Dueling Double DQN)": "target network used to pick the action",
        "play_one_step (policy gradients)": "1 - action, not action",
        "dueling Q-value formula": "subtracts the *max* advantage",
    }
    for name, hint in expected.items():
        assert by_name[name].status == FAIL, name
        assert hint in by_name[name].hint, (name, by_name[name].hint)
    assert by_name["training_step (fixed Q-value targets)"].status == SKIPPED
    assert by_name["lander_play_one_step"].status == SKIPPED


def test_mdp_tables_check_takes_the_latest_table_shaped_like_the_mdp(tmp_path):
    # the notebook reuses `transition_probabilities` (the chain's) and `rewards` (DQN's list)
    source = (EXAMPLES / "reader_correct.py").read_text() + "\nrewards = []\nrewards = undefined_name\n"
    path = write(tmp_path, "reused.py", source)
    report = crosscheck(path, only=["MDP tables + Q-value iteration", "run_chain"])
    assert [r.status for r in report.results] == [PASS, PASS], report.to_text()
    assert any("undefined_name" in note for note in report.load_notes)


def test_notebook_typed_verbatim_passes_with_its_loops_magics_and_reused_names(tmp_path):
    # the reader's functions in notebook cells, between the notebook's own top-level cells:
    # magics, training loops (never run), and the names it reuses (`rewards = []`,
    # `n_max_steps = 200`, `step` as a loop variable)
    cells = [["%pip install -q -U gymnasium swig\n", "import sys\n"],
             (EXAMPLES / "reader_correct.py").read_text().splitlines(keepends=True),
             ["%%time\n", "n_max_steps = 200\n", "rewards = []\n", "best_score = 0\n",
              "for episode in range(600):\n", "    for step in range(200):\n",
              "        training_step(batch_size)\n"],
             ["!nvidia-smi\n", "sys.exit(0)\n"]]
    notebook = {"nbformat": 4, "cells": [{"cell_type": "code", "source": source}
                                         for source in cells]}
    path = write(tmp_path, "chapter18.ipynb", json.dumps(notebook))
    report = crosscheck(path, only=NUMPY_CHECKS)
    assert all(r.status == PASS for r in report.results), report.to_text()
    assert len(report.results) == len(NUMPY_CHECKS)


# --- the public function and the report object -----------------------------------------------

def test_crosscheck_returns_the_report_object(tmp_path):
    report = crosscheck(EXAMPLES / "reader_mistakes.py", only=["basic_policy", "run_chain"])
    assert isinstance(report, Report)
    assert [(r.check, r.status) for r in report.results] == [("basic_policy", FAIL),
                                                             ("run_chain", SKIPPED)]
    assert report.exit_code == 1
    data = json.loads(report.to_json())
    assert data["exit_code"] == 1
    assert [row["check"] for row in data["results"]] == ["basic_policy", "run_chain"]
    again = Report.from_json(report.to_json())
    assert again == report
    assert again.to_text() == report.to_text()


def test_every_registered_check_has_its_row_in_the_chapter_order():
    from homl_rl.crosscheck.checks import ORDER
    from homl_rl.crosscheck.checks.base import REGISTERED

    assert sorted(ORDER) == sorted(REGISTERED)
    assert list(CHECKS) == ORDER


def test_the_package_loads_no_tensorflow_until_a_crosscheck_runs():
    # `homl-rl crosscheck` imports it to build its parser (only that subcommand's: the others'
    # import their config modules); crosscheck_command quiets TensorFlow first
    code = ("import sys, homl_rl.crosscheck as c; from homl_rl.cli import build_parser; "
            "build_parser(['crosscheck']); assert c.DEFAULT_TIMEOUT > 0; print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the hints: mutated copies of our own code -------------------------------------------------

def test_every_hint_mutation_applies_to_our_code_and_a_missing_one_raises():
    from homl_rl.crosscheck import hints
    from homl_rl.crosscheck.checks import dqn as dqn_checks
    from homl_rl.crosscheck.mutate import mutated
    from homl_rl.policy_gradients import discount_and_normalize_rewards, play_one_step

    for variant, row in CHAPTER_VARIANTS.items():
        for mistake in hints.training_step_mistakes(row):
            agent_class = dqn_checks._mistaken_agent_class(variant, mistake)
            assert issubclass(agent_class, DQN if mistake.online_next_q else dqn_agent_class(row))
    mutated(play_one_step, hints.ACTION_AS_TARGET_MUTATION)
    mutated(discount_and_normalize_rewards, hints.NOT_DIVIDED_BY_STD_MUTATION)
    with pytest.raises(LookupError, match="no `np.nonexistent` to replace"):
        mutated(discount_and_normalize_rewards, ("np.nonexistent", "np.mean"))


def test_a_mutated_copy_is_our_function_with_one_expression_changed():
    from homl_rl.crosscheck.mutate import mutated
    from homl_rl.policy_gradients import discount_rewards

    undiscounted = mutated(discount_rewards, ("discounted[step + 1] * discount_factor",
                                              "discounted[step + 1]"))
    assert list(undiscounted([1.0, 2.0, 3.0], 0.5)) == [6.0, 5.0, 3.0]
    assert list(discount_rewards([1.0, 2.0, 3.0], 0.5)) == [2.75, 3.5, 3.0]  # ours unchanged


def test_numpy_mistakes_get_their_hints(tmp_path):
    path = write(tmp_path, "mistakes.py", "import numpy as np\n"
                 "def discount_rewards(rewards, discount_factor):\n"
                 "    discounted = np.array(rewards)\n"
                 "    for step in range(len(rewards) - 2, -1, -1):\n"
                 "        discounted[step] += discounted[step + 1]\n"
                 "    return discounted\n"
                 "def discount_and_normalize_rewards(all_rewards, discount_factor):\n"
                 "    all_discounted = [discount_rewards(r, discount_factor) for r in all_rewards]\n"
                 "    flat = np.concatenate(all_discounted)\n"
                 "    return [d - flat.mean() for d in all_discounted]\n")
    by_name = rows(crosscheck(path))
    assert "not discounted" in by_name["discount_rewards"].hint
    assert "not divided by their standard deviation" in by_name["discount_and_normalize_rewards"].hint


RUNS_LINE = "runs = 1.0 - (dones | truncateds)"
NO_MASK = "missing (dones | truncateds) mask"
DONES_ONLY = "truncated episodes must stop the bootstrap too"
# (part, old, new): part 1, 2, 3 are reader_correct.py's DQN, fixed-targets and Double steps
TRAINING_STEP_MISTAKES = {
    "no runs mask, online, target picks": [
        (1, RUNS_LINE, "runs = 1.0"),
        # names `target` (how a fixed-Q-value-targets step is told apart) but uses the model
        (2, "target.predict(next_states, verbose=0)  # <= CHANGED",
         "(model or target).predict(next_states, verbose=0)"),
        (3, "next_Q_values = model.predict(next_states, verbose=0)",
         "next_Q_values = target.predict(next_states, verbose=0)")],
    "no runs mask": [(2, RUNS_LINE, "runs = 1.0"), (3, RUNS_LINE, "runs = 1.0")],
}
EXPECTED_HINTS = {
    "no runs mask, online, target picks": [NO_MASK, "come from the online model",
                                           "target network used to pick the action"],
    "no runs mask": [None, NO_MASK, NO_MASK],
}
TRAINING_STEPS = [f"training_step ({CHAPTER_VARIANTS[v].title})"
                  for v in ("dqn", "fixed_q_targets", "double_dqn")]


def _mistaken_reader(tmp_path, mistakes, replacements=()):
    """reader_correct.py with the training-step ``mistakes`` and the other ``replacements``."""
    source = (EXAMPLES / "reader_correct.py").read_text()
    for part, old, new in mistakes:
        source = _apply_in_training_step(source, part, old, new)
    for old, new in replacements:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return write(tmp_path, "mistake.py", source)


OTHER_TF_MISTAKES = [("return Q_values.argmax()", "return Q_values.argmin()"),
                     ("advantages = raw_advantages - tf.reduce_max(raw_advantages, axis=1,\n"
                      "                                            keepdims=True)",
                      "advantages = raw_advantages")]


@pytest.mark.parametrize("case", list(TRAINING_STEP_MISTAKES))
def test_every_tensorflow_mistake_gets_its_hint(tmp_path, case):
    # the first case also carries the epsilon-greedy and dueling mistakes (one worker each run)
    first = case == next(iter(TRAINING_STEP_MISTAKES))
    others = ["epsilon_greedy_policy", "dueling Q-value formula"] if first else []
    report = crosscheck(_mistaken_reader(tmp_path, TRAINING_STEP_MISTAKES[case],
                                         OTHER_TF_MISTAKES if first else ()),
                        only=TRAINING_STEPS + others)
    assert [r.check for r in report.results if r.check in TRAINING_STEPS] == TRAINING_STEPS
    by_name = {r.check: r for r in report.results}
    for name, hint in zip(TRAINING_STEPS, EXPECTED_HINTS[case]):
        if hint is None:
            assert by_name[name].status == PASS, report.to_text()
        else:
            assert by_name[name].status == FAIL and hint in by_name[name].hint, report.to_text()
    if first:
        assert "the *largest* Q-value (argmax)" in by_name["epsilon_greedy_policy"].hint
        assert "Q = V + (A - max A)" in by_name["dueling Q-value formula"].hint


def test_a_dones_only_mask_gets_its_own_hint(tmp_path):
    # (at seed 42 alone the batch had truncated steps but no done one, so `1.0 - dones`
    # computed what `1.0` does and the no-mask hint came first; over 20 seeds they differ)
    report = crosscheck(_mistaken_reader(tmp_path, [(1, RUNS_LINE, "runs = 1.0 - dones")]),
                        only=TRAINING_STEPS[:1])
    assert DONES_ONLY in report.results[0].hint


def _apply_in_training_step(source, part, old, new):
    marker = "def training_step(batch_size):"
    parts = source.split(marker)
    function = parts[part].split("\n\n\n")[0]
    assert function.count(old) == 1, (part, old)
    parts[part] = parts[part].replace(function, function.replace(old, new), 1)
    return marker.join(parts)


# --- the hint catalogue: each mistake, with where readers made it, on a fixture making it ------

def test_every_catalogued_mistake_cites_where_readers_made_it_and_applies_to_our_code():
    from homl_rl import markov, policy_gradients, replay_buffers
    from homl_rl.crosscheck import hints
    from homl_rl.crosscheck.mutate import mutated, mutated_class

    assert len(hints.CATALOGUE) >= 10
    for name, mistake in hints.CATALOGUE.items():
        assert mistake.hint and (mistake.citation.startswith("https://github.com/")
                                 or mistake.citation.startswith("chapter text")), name
    targets = {"NOT_CENTRED": policy_gradients.discount_and_normalize_rewards,
               "ACTION_SAMPLED_REVERSED": policy_gradients.play_one_step,
               "RUN_CHAIN_START_ROW": markov.run_chain, "STEP_MOST_LIKELY": markov.step,
               "EXPLORES_IMPOSSIBLE": markov.exploration_policy,
               "SAMPLE_WITHOUT_REPLACEMENT": replay_buffers.sample_experiences,
               "SAMPLE_OFF_BY_ONE": replay_buffers.sample_experiences}
    for name, function in targets.items():
        mutated(function, hints.CATALOGUE[name].mutation)
    mutated_class(DQN, "epsilon_greedy_policy", hints.EPSILON_RANDN.mutation)


NUMPY_HINT_MISTAKES = [  # (old, new) in reader_correct.py, and the hint it must get
    ("discount_rewards",
     ("    discounted = np.array(rewards)\n    for step in range(len(rewards) - 2, -1, -1):\n"
      "        discounted[step] += discounted[step + 1] * discount_factor\n    return discounted\n",
      "    return np.array([reward * discount_factor ** t for t, reward in enumerate(rewards)])\n"),
     "DISCOUNT_PER_STEP"),
    ("discount_and_normalize_rewards",
     ("return [(discounted_rewards - reward_mean) / reward_std",
      "return [discounted_rewards / reward_std"), "NOT_CENTRED"),
    ("run_chain", ("p=transition_probabilities[current_state]",
                   "p=transition_probabilities[start_state]"), "RUN_CHAIN_START_ROW"),
    ("step", ("next_state = np.random.choice([0, 1, 2], p=probas)",
              "next_state = np.argmax(probas)"), "STEP_MOST_LIKELY"),
    ("exploration_policy", ("return np.random.choice(possible_actions[state])",
                            "return np.random.randint(3)"), "EXPLORES_IMPOSSIBLE"),
    ("sample_experiences", ("indices = np.random.randint(len(replay_buffer), size=batch_size)",
                            "indices = np.random.randint(len(replay_buffer) - 1, size=batch_size)"),
     "SAMPLE_OFF_BY_ONE"),
]


def test_numpy_mistakes_readers_make_get_their_catalogued_hints(tmp_path):
    from homl_rl.crosscheck import hints

    path = _mistaken_reader(tmp_path, [], [replacement for _, replacement, _ in NUMPY_HINT_MISTAKES])
    report = crosscheck(path, only=[check for check, _, _ in NUMPY_HINT_MISTAKES])
    by_name = rows(report)
    for check, _, mistake in NUMPY_HINT_MISTAKES:
        assert by_name[check].status == FAIL, report.to_text()
        assert by_name[check].hint == hints.CATALOGUE[mistake].hint, (check, report.to_text())
    # sampled without replacement: the other sample_experiences mistake, in a file of its own
    path = _mistaken_reader(tmp_path, [], [(
        "indices = np.random.randint(len(replay_buffer), size=batch_size)",
        "indices = np.random.choice(len(replay_buffer), size=batch_size, replace=False)")])
    [row] = crosscheck(path, only=["sample_experiences"]).results
    assert row.status == FAIL and row.hint == hints.SAMPLE_WITHOUT_REPLACEMENT.hint


TF_HINT_CASES = {
    # case: (training-step mistakes (part, old, new), other replacements, {check: mistake})
    "max over batch, reshape, gamma; randn, dueling axis, reversed sampling": (
        [(1, "max_next_Q_values = next_Q_values.max(axis=1)",
          "max_next_Q_values = next_Q_values.max()"),
         (2, "target_Q_values = target_Q_values.reshape(-1, 1)",
          "target_Q_values = target_Q_values"),
         (3, "target_Q_values = rewards + runs * discount_factor * max_next_Q_values",
          "target_Q_values = rewards + runs * max_next_Q_values")],
        [("if np.random.rand() < epsilon:", "if np.random.randn() < epsilon:"),
         ("tf.reduce_max(raw_advantages, axis=1,\n", "tf.reduce_max(raw_advantages, axis=0,\n"),
         ("action = (tf.random.uniform([1, 1]) > left_proba)",
          "action = (tf.random.uniform([1, 1]) < left_proba)")],
        {TRAINING_STEPS[0]: "MAX_OVER_BATCH", TRAINING_STEPS[1]: "COLUMN_SHAPES",
         TRAINING_STEPS[2]: "NOT_DISCOUNTED_TARGET",
         "training_step (Dueling Double DQN)": "NOT_DISCOUNTED_TARGET",
         "epsilon_greedy_policy": "EPSILON_RANDN",
         "dueling Q-value formula": "DUELING_MAX_OVER_BATCH",
         "play_one_step (policy gradients)": "ACTION_SAMPLED_REVERSED"}),
    "keepdims; max over batch with fixed targets": (
        [(1, "Q_values = tf.reduce_sum(all_Q_values * mask, axis=1, keepdims=True)",
          "Q_values = tf.reduce_sum(all_Q_values * mask, axis=1)"),
         (2, "max_next_Q_values = next_Q_values.max(axis=1)",
          "max_next_Q_values = next_Q_values.max()")],
        [], {TRAINING_STEPS[0]: "COLUMN_SHAPES", TRAINING_STEPS[1]: "MAX_OVER_BATCH"}),
}


@pytest.mark.parametrize("case", list(TF_HINT_CASES))
def test_tensorflow_mistakes_readers_make_get_their_catalogued_hints(tmp_path, case):
    from homl_rl.crosscheck import hints

    mistakes, replacements, expected = TF_HINT_CASES[case]
    report = crosscheck(_mistaken_reader(tmp_path, mistakes, replacements), only=list(expected))
    by_name = {r.check: r for r in report.results}
    for check, mistake in expected.items():
        assert by_name[check].status == FAIL, (check, report.to_text())
        assert by_name[check].hint == hints.CATALOGUE[mistake].hint, (check, report.to_text())
