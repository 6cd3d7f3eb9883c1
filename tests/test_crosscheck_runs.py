"""Run rows of ``homl-rl crosscheck``: the reader's training loops, run, against ours.

Most use NumPy-only reader files (the basic policy's episodes, Q-learning); the DQN and
policy-gradient loops' tests run TensorFlow in the worker at small budgets (5 to 12 s
each); the lander's is slow.
"""

from pathlib import Path

import numpy as np

import pytest

from homl_rl.cli import main
from homl_rl.crosscheck import DEFAULT_RUN_SECONDS, ERROR, FAIL, PASS, SKIPPED, crosscheck, hints
from homl_rl.crosscheck.checks import runs
from homl_rl.crosscheck.loader import load_source
from homl_rl.crosscheck.loops import HARMLESS_UNPACKING, find_loops
from homl_rl.crosscheck.recording import first_difference

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "crosscheck"
LOOPS = EXAMPLES / "reader_loops.py"
SOURCE = LOOPS.read_text()


def part(start, end=None):
    """The lines of reader_loops.py from the line starting with ``start`` (to ``end``)."""
    lines = SOURCE.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = len(lines) if end is None else next(i for i, line in enumerate(lines)
                                               if i > first and line.startswith(end))
    return "".join(lines[first:last])


HEADER = "import gymnasium as gym\nimport numpy as np\n"
BASIC = HEADER + part("env = gym.make", "def play_one_step(env, obs, model, loss_fn)")
Q_LEARNING = HEADER + part("transition_probabilities", "tf.random.set_seed(42)")
POLICY_GRADIENTS = "import tensorflow as tf\n" + HEADER + part(
    "def play_one_step(env, obs, model, loss_fn)", "transition_probabilities")
DQN_CELLS = part("tf.random.set_seed(42)  # extra code")
DQN_CELLS = DQN_CELLS[:DQN_CELLS.index("\ntf.random.set_seed(42)\n\nmodel")]
"""the plain DQN's cells and loop (the other variants' follow it in the file)"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def run_rows(report):
    return {r.check: r for r in report.results if r.check.startswith(runs.RUN_PREFIX)}


def replaced(text, old, new):
    assert old in text
    return text.replace(old, new)


# --- finding the loops (no worker) ------------------------------------------------------------

def test_the_book_loops_are_found_with_their_preamble_and_the_functions_above_them():
    loaded = load_source(LOOPS)
    loops = find_loops(loaded)
    assert [loop.kind for loop in loops] == ["basic_policy", "policy_gradients", "q_learning",
                                             "dqn", "dqn", "dqn", "dqn"]
    basic, _, q_learning, dqn = loops[:4]
    assert [runs.dqn_variant(loop).name for loop in loops[3:]] == [
        "dqn", "fixed_q_targets", "double_dqn", "dueling_double_dqn"]
    lines = SOURCE.splitlines()

    def statement(stmt_id):
        return lines[stmt_id[1] - 1].strip()

    # the DQN cell's seeding runs, the model and optimizer it builds are ours
    assert [statement(s) for s in dqn.preamble if "seed" in statement(s)] == [
        "tf.random.set_seed(42)  # extra code – ensures reproducibility on the CPU",
        "env.reset(seed=42)", "np.random.seed(42)", "tf.random.set_seed(42)"]
    assert any("optimizer = tf.keras.optimizers.Nadam" in text for text in dqn.not_run)
    assert [statement(s) for s in q_learning.preamble if "seed" in statement(s)] == [
        "np.random.seed(42)"]
    # each loop runs with the definitions above it: the MDP's rewards table for Q-learning
    rewards = [d.stmt for d in loaded.versions("rewards")]
    assert q_learning.bindings["rewards"] == rewards[0] and dqn.bindings["rewards"] == rewards[1]
    assert "training_step" not in q_learning.bindings and "training_step" in dqn.bindings
    assert (dqn.uses_target, dqn.uses_argmax, dqn.dueling_above) == (False, False, False)
    assert runs.dqn_variant(dqn).name == "dqn"
    # the dueling cell's Q_values line is not run, though no DQN row gives Q_values
    line = lines.index("Q_values = state_values + advantages") + 1
    assert loops[-1].not_run[0] == (f"reader_loops.py, line {line}: Q_values = state_values + "
                                    "advantages (the row runs no assignment to Q_values)")
    assert loops[-1].not_run[1] == (f"reader_loops.py, line {line + 1}: model = "
                                    "tf.keras.Model(...) (the row gives model)")


@pytest.mark.slow  # about 50 s: seven rows at their default budgets, four of them DQN's
def test_the_books_loops_pass_at_the_default_budgets_without_a_hint():
    rows = run_rows(crosscheck(LOOPS, only=["run:"]))
    assert len(rows) == 7
    for row in rows.values():
        assert row.status == PASS and not row.hint, (row.check, row.detail)
        assert row.detail.splitlines()[-1].startswith(runs.NOT_RUN)


def test_the_swapped_unpacking_is_noted():
    swapped = replaced(SOURCE, "obs, reward, done, truncated, info = play_one_step(env, obs, epsilon)",
                       "obs, reward, done, info, truncated = play_one_step(env, obs, epsilon)")
    from homl_rl.crosscheck.loader import load_cells
    dqn = find_loops(load_cells([("mine.py", swapped)], "mine.py", single_file=True))[-1]
    assert dqn.notes == [HARMLESS_UNPACKING]


def test_first_difference_names_the_episode_the_step_and_what_differed():
    def episode(actions, seeds=(None,), weights=None):
        return {"seeds": list(seeds), "obs": np.zeros(4), "actions": list(actions),
                "rewards": [1.0] * len(actions), "terminated": [False] * len(actions),
                "truncated": [False] * len(actions), "weights": weights}

    ours = [episode([0, 1, 1]), episode([1, 0])]
    assert first_difference(ours, [episode([0, 1, 1]), episode([1, 0])]) is None
    assert first_difference(ours, [episode([0, 1, 1]), episode([1, 1])]).startswith(
        "episode 1, step 1: your action 1, ours 0")
    assert first_difference(ours, [episode([0, 1, 1, 0])]).startswith(
        "episode 0: yours lasts 4 steps, ours 3")
    assert "another reset" in first_difference(ours, [episode([0, 1, 1], seeds=[7])])
    w = [np.ones(2)]
    assert "weights" in first_difference([episode([0], weights=w)], [episode([0], weights=[w[0] + 1])])
    # a reader's episode cut by the time limit is compared step by step only
    assert first_difference(ours, [dict(episode([0, 1]), cut=True)]) is None


# --- the run rows (a worker) ------------------------------------------------------------------

def test_the_books_numpy_loops_pass_and_no_runs_removes_the_rows(tmp_path, capsys):
    path = write(tmp_path, "mine.py", BASIC + Q_LEARNING)
    report = crosscheck(path)
    rows = run_rows(report)
    assert list(rows) == ["run: basic policy's episodes", "run: Q-learning loop"]
    assert all(row.status == PASS for row in rows.values()), report.to_text()
    assert rows["run: basic policy's episodes"].detail == (
        "the same 500 episodes as ours (stopped by your loop's end)\n"
        "not run: mine.py, line 3: env = gym.make(...) (the row gives env)")
    assert rows["run: Q-learning loop"].detail == (
        "the same 10000 iterations as ours (stopped by your loop's end)\n"
        "not run: mine.py, line 53: Q_values = np.full(...) (the row gives Q_values)")
    assert report.exit_code == 0
    assert not run_rows(crosscheck(path, runs=False))
    assert main(["crosscheck", str(path), "--no-runs", "--format", "json"]) == 0
    assert "run: " not in capsys.readouterr().out
    assert main(["crosscheck", str(path), "--only", "run: basic", "--run-episodes", "7",
                 "--run-seconds", "30", "--format", "json"]) == 0
    assert "the same 7 episodes as ours (stopped by the budget of 7 episodes)" in capsys.readouterr().out
    # --only selects them by their name's start
    assert [r.check for r in crosscheck(path, only=["run: Q"]).results] == ["run: Q-learning loop"]


def test_a_learning_rate_mistake_fails_at_its_first_update(tmp_path):
    path = write(tmp_path, "mine.py", replaced(Q_LEARNING, "alpha = alpha0 / (1 + iteration * decay)",
                                               "alpha = alpha0 / (1 + iteration) * decay"))
    [row] = crosscheck(path, only=["run:"]).results
    assert row.status == FAIL
    # (the first updates learn nothing either way: no reward yet, and all Q-values 0)
    assert row.detail.startswith("iteration 3: the Q-value table differs before it "
                                 "(iteration 2's update; state 0, action 0: reward 10, next state 0)")
    assert row.hint.startswith("the walk is the same, the updates differ")


def test_the_next_states_best_action_for_its_value_gets_its_hint(tmp_path):
    """argmax for max: the first update into a state whose best Q-value is not its index,
    iteration 3's (into s0, after iteration 2's reward of +10)."""
    path = write(tmp_path, "mine.py", replaced(Q_LEARNING, "next_value = Q_values[next_state].max()",
                                               "next_value = Q_values[next_state].argmax()"))
    [row] = crosscheck(path, only=["run:"]).results
    assert row.status == FAIL and row.where == "iteration 4", row.detail
    assert "iteration 3's update; state 0, action 1: reward 0, next state 0" in row.detail
    assert row.hint == hints.LOOP_NEXT_VALUE_ARGMAX.hint
    # another discount factor: the walk is the same, no known mistake's updates
    other = write(tmp_path, "gamma.py", replaced(Q_LEARNING, "gamma = 0.90", "gamma = 0.95"))
    [row] = crosscheck(other, only=["run:"]).results
    assert row.status == FAIL and row.hint.startswith("the walk is the same, the updates differ")


def test_a_learning_rate_without_decay_gets_its_hint(tmp_path):
    path = write(tmp_path, "mine.py", replaced(Q_LEARNING, "alpha = alpha0 / (1 + iteration * decay)",
                                               "alpha = alpha0"))
    [row] = crosscheck(path, only=["run:"]).results
    assert row.status == FAIL and row.where == "iteration 3"
    assert row.hint == hints.LOOP_NO_LEARNING_RATE_DECAY.hint


LOOP_HINTS = ("LOOP_TRAINS_FROM_START", "LOOP_EPSILON_FAST", "LOOP_TARGET_EVERY_EPISODE",
              "LOOP_HYPERPARAMETER", "LOOP_NO_LEARNING_RATE_DECAY", "LOOP_NEXT_VALUE_ARGMAX",
              "LOOP_TRAINS_EVERY_STEP", "LOOP_RESET_UNSEEDED", "LOOP_RESET_SAME_SEED",
              "LOOP_RAW_REWARDS", "LOOP_GRADIENTS_NEGATED")
"""the run rows' hints (issue 25: at least eight), each tested below on a fixture making it"""


def test_the_loop_mistakes_are_made_from_our_own_loops():
    from homl_rl import dqn, markov
    from homl_rl.crosscheck.mutate import mutated, mutated_class, mutated_source
    from homl_rl.environments import evaluate_policy
    from homl_rl.policy_gradients import reinforce

    mutated(dqn.train_after_episode, hints.LOOP_TRAINS_FROM_START.mutation)
    fast = mutated_class(dqn.DQNConfig, "epsilon", hints.LOOP_EPSILON_FAST.mutation)()
    assert fast.epsilon(10) == 0.8 and dqn.DQNConfig().epsilon(10) == 0.98
    assert "alpha = alpha0\n" in mutated_source(markov.q_learning,
                                                hints.LOOP_NO_LEARNING_RATE_DECAY.mutation)
    assert "next_value = Q_values[next_state].argmax()" in mutated_source(
        markov.q_learning, hints.LOOP_NEXT_VALUE_ARGMAX.mutation)
    mutated(dqn.train_after_episode, hints.LOOP_TARGET_EVERY_EPISODE.mutation)
    # the end of an episode moved into the step loop: called after each step, not after it
    every_step = mutated_source(dqn.train, *hints.LOOP_TRAINS_EVERY_STEP.mutation)
    start = every_step.index("for step in")
    step_loop = every_step[start:every_step.index("history.episode_lengths.append", start)]
    assert "train_after_episode(agent, episode, config)" in step_loop
    assert every_step.count("train_after_episode") == 1
    assert runs._training_every_step().__qualname__ == "train, mutated"
    for mistake in runs.BASIC_POLICY_LOOP_MISTAKES:
        mutated(evaluate_policy, mistake.mutation)
    mutated(reinforce, hints.LOOP_RAW_REWARDS.mutation)
    runs._with_mean_gradients(hints.LOOP_GRADIENTS_NEGATED)
    assert len(LOOP_HINTS) >= 8
    for name in LOOP_HINTS:
        assert name in hints.CATALOGUE and hints.CATALOGUE[name].citation.startswith(
            f"chapter text ({hints.NOTEBOOK}, "), name


def test_a_basic_policy_loop_mistake_names_its_first_episode(tmp_path):
    # the episodes reset unseeded: not the notebook's run (at the default budget, 500)
    path = write(tmp_path, "mine.py", replaced(BASIC, "env.reset(seed=episode)", "env.reset()"))
    [row] = crosscheck(path, only=["run:"]).results
    assert row.status == FAIL and row.where == "episode 0"
    assert "your resets before it: env.reset(seed=42) then env.reset(); ours: env.reset(seed=0)" in row.detail
    assert row.hint == hints.LOOP_RESET_UNSEEDED.hint


def test_episodes_reset_with_one_seed_get_their_hint_and_another_seed_none(tmp_path):
    same = write(tmp_path, "same.py", replaced(BASIC, "env.reset(seed=episode)", "env.reset(seed=42)"))
    [row] = crosscheck(same, only=["run:"]).results
    assert row.status == FAIL and row.where == "episode 0", row.detail
    assert row.hint == hints.LOOP_RESET_SAME_SEED.hint
    # a seed one off: no known mistake gives that run
    shifted = write(tmp_path, "shifted.py", replaced(BASIC, "env.reset(seed=episode)",
                                                     "env.reset(seed=episode + 1)"))
    [row] = crosscheck(shifted, only=["run:"]).results
    assert row.status == FAIL and row.where == "episode 0" and row.hint == ""


def test_a_missing_name_skips_the_row_and_a_crash_is_an_error(tmp_path):
    missing = write(tmp_path, "missing.py", replaced(BASIC, "action = basic_policy(obs)",
                                                     "action = basic_policy(obs) + offset"))
    [row] = crosscheck(missing, only=["run:"]).results
    assert row.status == SKIPPED and "'offset'" in row.detail
    crash = write(tmp_path, "crash.py", replaced(BASIC, "totals.append(episode_rewards)",
                                                 "totals.append(episode_rewards)\n"
                                                 "    if episode == 3:\n        1 / 0"))
    [row] = crosscheck(crash, only=["run:"]).results
    assert row.status == ERROR
    assert row.detail.startswith("your loop raised ZeroDivisionError: division by zero after 4 "
                                 "episode(s) identical to ours")


def test_the_time_limit_and_the_output_cap(tmp_path):
    slow = replaced(BASIC, "    angle = obs[2]\n", "    import time; time.sleep(0.002)\n"
                                                   "    print('x' * 1000)\n    angle = obs[2]\n")
    [row] = crosscheck(write(tmp_path, "slow.py", slow), only=["run:"], run_seconds=1.0).results
    assert row.status == PASS, row.detail
    assert "stopped by the time limit (1 s)" in row.detail
    compared = int(row.detail.split()[2])
    assert 0 < compared < 500


def test_a_hanging_loop_costs_its_row_only(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "START_SLACK", 3.0)
    hang = BASIC + "\nwhile True:\n    basic_policy(np.zeros(4))\n"
    report = crosscheck(write(tmp_path, "hang.py", hang), only=["basic_policy", "run:"],
                        run_seconds=1.0, run_episodes=3)
    basic_policy, book, hanging = report.results
    assert [basic_policy.status, book.status, hanging.status] == [PASS, PASS, ERROR]
    assert hanging.check == "run: basic policy's episodes (hang.py, line 26)"
    assert hanging.detail == "your loop could not be run: timed out after 4 s (the worker was killed)"


def test_the_command_line_default_is_the_library_default():
    assert DEFAULT_RUN_SECONDS == runs.DEFAULT_RUN_SECONDS


# --- the DQN loop (TensorFlow in the worker) ------------------------------------------------

DQN_BOOK = "obs, reward, done, truncated, info = play_one_step(env, obs, epsilon)"


def test_the_books_dqn_loop_passes_and_its_mistakes_fail(tmp_path):
    """One file, four DQN loops: the book's, the book's with the swapped unpacking
    (harmless), training from episode 0, and epsilon decayed over 50 episodes (these two
    with their hints)."""
    dqn = DQN_CELLS
    loop = dqn[dqn.index("for episode in range(600):"):]
    swapped = loop.replace(DQN_BOOK, "obs, reward, done, info, truncated = play_one_step(env, obs, epsilon)")
    from_0 = loop.replace("    if episode > 50:\n        training_step(batch_size)",
                          "    training_step(batch_size)")
    epsilon_50 = loop.replace("max(1 - episode / 500, 0.01)", "max(1 - episode / 50, 0.01)")
    assert len({loop, swapped, from_0, epsilon_50}) == 4
    text = "import tensorflow as tf\n" + HEADER + dqn + swapped + from_0 + epsilon_50
    report = crosscheck(write(tmp_path, "mine.py", text), only=["run:"], run_episodes=6)
    rows = list(run_rows(report).values())
    assert [r.check.split(" (")[0] for r in rows] == ["run: DQN loop"] * 4
    book, harmless, trained_from_0, decayed_fast = rows
    assert book.status == PASS and book.detail.splitlines() == [
        "the same 6 episodes as ours (stopped by the budget of 6 episodes)",
        "not run: mine.py, line 9: model = tf.keras.Sequential(...) (the row gives model); "
        "mine.py, line 24: replay_buffer = deque(...) (the row gives replay_buffer); "
        "mine.py, line 52: optimizer = tf.keras.optimizers.Nadam(...) (the row gives optimizer); "
        "mine.py, line 53: loss_fn = tf.keras.losses.mean_squared_error (the row gives loss_fn)"]
    assert harmless.status == PASS and HARMLESS_UNPACKING in harmless.detail
    assert trained_from_0.status == FAIL and trained_from_0.where == "episode 0"
    assert "the model's weights after it" in trained_from_0.detail
    assert trained_from_0.hint == hints.LOOP_TRAINS_FROM_START.hint
    assert decayed_fast.status == FAIL and decayed_fast.where.startswith("episode 2, step 4")
    assert decayed_fast.hint == hints.LOOP_EPSILON_FAST.hint
    assert not book.hint and not harmless.hint


def test_a_target_copied_at_every_training_step_gets_its_hint(tmp_path):
    """The fixed Q-value targets' cells, the target copied after every training step: the
    first training step (episode 51) is the same, the second is not."""
    dqn = part("tf.random.set_seed(42)  # extra code")
    fixed = dqn[dqn.index("for episode in range(600):\n    obs, info = env.reset()"):]
    fixed = fixed[fixed.index("tf.random.set_seed(42)"):]
    fixed = fixed[:fixed.index("tf.random.set_seed(42)", fixed.index("for episode in range(600)"))]
    head = dqn[:dqn.index("for episode in range(600)")]
    mistaken = replaced(fixed, "        if episode % 50 == 0:                        # <= CHANGED\n"
                               "            target.set_weights(model.get_weights())  # <= CHANGED\n",
                        "        target.set_weights(model.get_weights())\n")
    text = "import tensorflow as tf\n" + HEADER + head + mistaken
    [row] = crosscheck(write(tmp_path, "mine.py", text), only=["run:"], run_episodes=54).results
    assert row.check == "run: fixed Q-value targets loop"
    assert row.status == FAIL and row.where.startswith("episode 52")
    assert row.hint == hints.LOOP_TARGET_EVERY_EPISODE.hint


PG_LOOP = POLICY_GRADIENTS[POLICY_GRADIENTS.index("n_iterations = 150"):]
PG_NORMALIZED = ("all_final_rewards = discount_and_normalize_rewards(all_rewards,\n"
                 "                                                       discount_factor)")


def test_the_books_policy_gradients_loop_passes_and_a_sign_mistake_fails(tmp_path):
    flipped = replaced(PG_LOOP, "[final_reward * all_grads", "[-final_reward * all_grads")
    text = POLICY_GRADIENTS + flipped
    book, mistaken = crosscheck(write(tmp_path, "mine.py", text), only=["run:"],
                                run_episodes=20).results
    assert book.status == PASS, book.detail
    assert book.detail.splitlines()[0] == (
        "the same 20 episodes as ours (stopped by the budget of 20 episodes)")
    # the first update differs: the weights after the first iteration's last episode
    assert mistaken.status == FAIL and mistaken.where == "episode 9", mistaken.detail
    assert "the model's weights after it" in mistaken.detail
    assert mistaken.hint == hints.LOOP_GRADIENTS_NEGATED.hint
    assert not book.hint


def test_raw_rewards_get_their_hint_and_another_discount_factor_none(tmp_path):
    """At the default budget (30 episodes): each fails at the first update."""
    raw = replaced(PG_LOOP, PG_NORMALIZED, "all_final_rewards = all_rewards")
    discount = replaced(PG_LOOP, "discount_factor = 0.95", "discount_factor = 0.99")
    text = POLICY_GRADIENTS[:POLICY_GRADIENTS.index("n_iterations = 150")] + raw + discount
    raw_rewards, discounted_more = crosscheck(write(tmp_path, "mine.py", text), only=["run:"]).results
    assert raw_rewards.status == FAIL and raw_rewards.where == "episode 9", raw_rewards.detail
    assert raw_rewards.hint == hints.LOOP_RAW_REWARDS.hint
    assert discounted_more.status == FAIL and discounted_more.where == "episode 9"
    assert discounted_more.hint == ""


DQN_TRAINING = "    if episode > 50:\n        training_step(batch_size)\n"
DQN_BREAK = "        if done or truncated:\n            break\n"


def test_training_at_every_step_gets_its_hint(tmp_path):
    """The training block inside the step loop, at the default budget (60 episodes): the first
    step of episode 51 trains, and its batch's draws move NumPy's next ones."""
    inside = replaced(replaced(DQN_CELLS, DQN_TRAINING, ""), DQN_BREAK,
                      "    " + DQN_TRAINING.replace("\n    ", "\n        ") + DQN_BREAK)
    text = "import tensorflow as tf\n" + HEADER + inside
    [row] = crosscheck(write(tmp_path, "mine.py", text), only=["run:"]).results
    assert row.status == FAIL and row.where.startswith("episode 51, step"), row.detail
    assert row.hint == hints.LOOP_TRAINS_EVERY_STEP.hint


def test_training_at_every_step_from_the_first_episode_gets_no_hint(tmp_path):
    """Without the ``episode > 50`` test as well: the first step of episode 0 trains, which
    neither known mistake does (training after episode 0; at every step after episode 50)."""
    inside = replaced(replaced(DQN_CELLS, DQN_TRAINING, ""), DQN_BREAK,
                      "        training_step(batch_size)\n" + DQN_BREAK)
    text = "import tensorflow as tf\n" + HEADER + inside
    [row] = crosscheck(write(tmp_path, "mine.py", text), only=["run:"]).results
    assert row.status == FAIL and row.where.startswith("episode 0, step"), row.detail
    assert row.hint == ""


def test_a_target_never_copied_cannot_change_a_run_at_the_default_budget():
    """No hint for it: the target's first copy comes after the DQN's default budget."""
    from homl_rl import dqn
    from homl_rl.crosscheck.mutate import mutated

    config = dqn.DQNConfig()
    first_copy = (config.training_starts_after // config.target_update_period + 1) * (
        config.target_update_period)
    assert first_copy > runs.RUN_EPISODES["dqn"]
    never = mutated(dqn.train_after_episode, ("episode % config.target_update_period == 0", "False"))
    never_copied = mutated(dqn.train, ("train_after_episode(agent, episode, config)",
                                       "never(agent, episode, config)"), names={"never": never})
    ours = runs.our_dqn_record("fixed_q_targets", first_copy + 2)
    theirs = runs.our_dqn_record("fixed_q_targets", first_copy + 2, None, never_copied)
    assert first_difference(ours[:runs.RUN_EPISODES["dqn"]], theirs) is None
    assert first_difference(ours, theirs).startswith(f"episode {first_copy + 1}: ")


def test_a_batch_size_typed_wrong_gets_its_hint(tmp_path):
    """The first training step (episode 51) samples 64 experiences, not 32."""
    text = "import tensorflow as tf\n" + HEADER + replaced(DQN_CELLS, "batch_size = 32\n",
                                                          "batch_size = 64\n")
    [row] = crosscheck(write(tmp_path, "mine.py", text), only=["run:"], run_episodes=53).results
    assert row.status == FAIL and row.where == "episode 51", row.detail
    assert row.hint == "your batch_size is 64; the notebook's is 32"


LANDER = '''

def lander_play_one_step(env, obs, model, loss_fn):
    with tf.GradientTape() as tape:
        probas = model(obs[np.newaxis])
        logits = tf.math.log(probas + tf.keras.backend.epsilon())
        action = tf.random.categorical(logits, num_samples=1)
        loss = tf.reduce_mean(loss_fn(action, probas))
    grads = tape.gradient(loss, model.trainable_variables)
    obs, reward, done, info, truncated = env.step(action[0, 0].numpy())
    return obs, reward, done, truncated, grads


def lander_play_multiple_episodes(env, n_episodes, n_max_steps, model, loss_fn):
    all_rewards = []
    all_grads = []
    for episode in range(n_episodes):
        current_rewards = []
        current_grads = []
        obs, info = env.reset()
        for step in range(n_max_steps):
            obs, reward, done, truncated, grads = lander_play_one_step(
                env, obs, model, loss_fn)
            current_rewards.append(reward)
            current_grads.append(grads)
            if done or truncated:
                break
        all_rewards.append(current_rewards)
        all_grads.append(current_grads)
    return all_rewards, all_grads


np.random.seed(42)
tf.random.set_seed(42)

model = tf.keras.Sequential([
    tf.keras.layers.Dense(32, activation="relu", input_shape=[8]),
    tf.keras.layers.Dense(32, activation="relu"),
    tf.keras.layers.Dense(4, activation="softmax"),
])

n_iterations = 200
n_episodes_per_update = 16
n_max_steps = 1000
discount_factor = 0.99
optimizer = tf.keras.optimizers.Nadam(learning_rate=0.005)
loss_fn = tf.keras.losses.sparse_categorical_crossentropy

env = gym.make("LunarLander-v3")
env.reset(seed=42)

mean_rewards = []
for iteration in range(n_iterations):
    all_rewards, all_grads = lander_play_multiple_episodes(
        env, n_episodes_per_update, n_max_steps, model, loss_fn)
    mean_reward = sum(map(sum, all_rewards)) / n_episodes_per_update
    print(f"\\rIteration: {iteration + 1}/{n_iterations}, mean reward: {mean_reward:.1f}  ", end="")
    mean_rewards.append(mean_reward)
    all_final_rewards = discount_and_normalize_rewards(all_rewards, discount_factor)
    all_mean_grads = []
    for var_index in range(len(model.trainable_variables)):
        mean_grads = tf.reduce_mean(
            [final_reward * all_grads[episode_index][step][var_index]
             for episode_index, final_rewards in enumerate(all_final_rewards)
                 for step, final_reward in enumerate(final_rewards)], axis=0)
        all_mean_grads.append(mean_grads)
    optimizer.apply_gradients(zip(all_mean_grads, model.trainable_variables))
'''


@pytest.mark.slow  # about 25 s: LunarLander's episodes are long, each step eager
def test_exercise_8s_lander_loop_passes(tmp_path):
    pg_functions = POLICY_GRADIENTS[:POLICY_GRADIENTS.index("def play_multiple_episodes")]
    path = write(tmp_path, "mine.py", pg_functions + LANDER)
    [row] = crosscheck(path, only=["run: lander"], run_episodes=17).results
    assert row.status == PASS, row.detail
    assert row.detail.startswith("the same 17 episodes as ours")
