"""Stochastic checks over 20 seeds and whole episodes: a lucky draw cannot pass a mistake.

Each test takes a reader's function with a sampling mistake that shows only sometimes
(a rare branch, an index drawn now and then, the end of an episode), finds a seed (or the
few steps the old check ran) at which it agrees with ours, and shows that the check run
there passes it while the check over :data:`SEEDS` (and whole episodes) fails it. The
checks run in this process, on a :class:`~homl_rl.crosscheck.worker.ReaderWorker` holding
the reader's code, so that trying many single seeds stays quick.
"""

from pathlib import Path

import pytest

from homl_rl.crosscheck import FAIL, PASS
from homl_rl.crosscheck.checks import CHECKS
from homl_rl.crosscheck.checks import base
from homl_rl.crosscheck.checks.base import Context
from homl_rl.crosscheck.loader import load_source
from homl_rl.crosscheck.worker import ReaderWorker

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "crosscheck"


class InProcess:
    """A stand-in for the worker process: the reader's code loaded in this process."""

    def __init__(self, loaded):
        self.reader = ReaderWorker()
        report = self.reader.load(loaded.cells, loaded.setup_imports)
        assert not report["errors"], report

    def request(self, timeout, op, **request):
        return getattr(self.reader, op)(**request)


def mistaken(tmp_path, old, new):
    source = (EXAMPLES / "reader_correct.py").read_text()
    assert source.count(old) == 1, old
    path = tmp_path / "mistake.py"
    path.write_text(source.replace(old, new))
    return path


def run_check(path, check, monkeypatch, seeds=None):
    """The row of ``check`` on the reader's file ``path``, at ``seeds`` (default: SEEDS)."""
    loaded = load_source(path)
    if seeds is not None:
        monkeypatch.setattr(base, "SEEDS", tuple(seeds))
    result = CHECKS[check][1](Context(loaded, InProcess(loaded), 60.0))
    monkeypatch.undo()
    return result


def lucky_seed(path, check, monkeypatch, candidates):
    """The first seed of ``candidates`` at which the check, run at that seed alone, passes."""
    for seed in candidates:
        if run_check(path, check, monkeypatch, [seed]).status == PASS:
            return seed
    raise AssertionError(f"no seed in {candidates} where {check} agrees by luck")


RARE_MISTAKES = {
    # check: (old, new) in reader_correct.py, seeds tried for the lucky one. (No such test
    # for exploration_policy: a mistake there either draws differently -- and then differs
    # at every seed within its 60 calls -- or draws the same and cannot differ.)
    "sample_experiences": (  # readers who think randint's high end is inclusive
        ("indices = np.random.randint(len(replay_buffer), size=batch_size)",
         "indices = np.random.randint(len(replay_buffer) - 1, size=batch_size)"), range(200)),
    "run_chain": (  # a hard-coded limit: differs only for a run longer than 30 states
        ("    for step in range(n_max_steps):\n        print(current_state",
         "    for step in range(30):\n        print(current_state"), range(200)),
    "step (Q-learning)": (  # s2's 10% self-loop dropped: shows only when it is drawn
        ("    reward = rewards[state][action][next_state]\n",
         "    if state == 2 and next_state == 2:\n        next_state = 1\n"
         "    reward = rewards[state][action][next_state]\n"), range(200)),
}


@pytest.mark.parametrize("check", list(RARE_MISTAKES))
def test_a_rare_sampling_mistake_agrees_at_one_seed_but_not_over_twenty(tmp_path, monkeypatch,
                                                                        check):
    (old, new), candidates = RARE_MISTAKES[check]
    path = mistaken(tmp_path, old, new)
    seed = lucky_seed(path, check, monkeypatch, candidates)
    assert run_check(path, check, monkeypatch, [seed]).status == PASS
    result = run_check(path, check, monkeypatch)
    assert len(base.SEEDS) >= 20
    assert result.status == FAIL and result.where.startswith("seed "), result


def test_epsilon_greedy_mistake_in_a_rare_branch_fails_over_twenty_seeds(tmp_path, monkeypatch):
    # exploration capped at 80%: differs only when epsilon > 0.8 and the draw lands above 0.8
    path = mistaken(tmp_path, "if np.random.rand() < epsilon:",
                    "if np.random.rand() < min(epsilon, 0.8):")
    seed = lucky_seed(path, "epsilon_greedy_policy", monkeypatch, range(42, 72))
    assert run_check(path, "epsilon_greedy_policy", monkeypatch, [seed]).status == PASS
    assert run_check(path, "epsilon_greedy_policy", monkeypatch).status == FAIL


def test_a_dones_only_mask_agrees_at_some_seed_but_not_over_twenty(tmp_path, monkeypatch):
    # `1.0 - dones` differs from the book's mask only when the batch holds a truncated step
    source = (EXAMPLES / "reader_correct.py").read_text()
    first = source.index("runs = 1.0 - (dones | truncateds)")
    path = tmp_path / "mistake.py"
    path.write_text(source[:first] + "runs = 1.0 - dones" + source[first + 33:])
    check = "training_step (DQN)"
    seed = lucky_seed(path, check, monkeypatch, range(0, 40))
    assert run_check(path, check, monkeypatch, [seed]).status == PASS
    assert run_check(path, check, monkeypatch).status == FAIL


RESET_AT_THE_END = {
    # a play_one_step that resets the env when the episode ends (returning the new episode's
    # first state): the same as ours for the first steps, wrong at every episode's end
    "play_one_step (DQN)": (
        "dqn", "    next_state, reward, done, truncated, info = env.step(action)\n",
        "    next_state, reward, done, truncated, info = env.step(action)\n"
        "    if done or truncated:\n        next_state, info = env.reset()\n"),
    "play_one_step (policy gradients)": (
        "policy_gradients", "    obs, reward, done, truncated, info = env.step(int(action[0, 0]))\n",
        "    obs, reward, done, truncated, info = env.step(int(action[0, 0]))\n"
        "    if done or truncated:\n        obs, info = env.reset()\n"),
}


@pytest.mark.parametrize("check", list(RESET_AT_THE_END))
def test_a_per_step_mistake_at_the_episode_end_fails_over_whole_episodes(tmp_path, monkeypatch,
                                                                        check):
    import importlib

    module, old, new = RESET_AT_THE_END[check]
    module = importlib.import_module(f"homl_rl.crosscheck.checks.{module}")
    path = mistaken(tmp_path, old, new)
    # the old check: four steps at one seed -- the mistake passes
    monkeypatch.setattr(module, "MAX_EPISODE_STEPS", 4)
    assert run_check(path, check, monkeypatch, [42]).status == PASS
    # whole episodes at 20 seeds: it fails
    result = run_check(path, check, monkeypatch)
    assert result.status == FAIL, result
