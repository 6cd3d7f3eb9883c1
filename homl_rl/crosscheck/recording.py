"""What a run row records of a training loop, on the reader's side and on ours alike.

A run row (:mod:`homl_rl.crosscheck.checks.runs`) plays a training loop twice: the reader's
loop cell in the worker, and our section's training function here, each with an
instrumented environment (:class:`RecordingEnv`) or, for Q-learning, an instrumented
``step`` (:class:`RecordingStep`). Both write the same :class:`Record`; the row compares
the two over their common prefix (:func:`first_difference`).

A budget ends the reader's loop: the environment raises :class:`BudgetReached` when the
loop asks for one episode more than the budget (``env.reset()`` after the last budgeted
episode), or at the first step past the time limit. Nothing else of the loop's code needs
to know.

This module imports neither TensorFlow nor the section modules: the worker uses it.
"""

import io
import time

import gymnasium as gym
import numpy as np


class BudgetReached(BaseException):
    """The run's budget is spent: the loop is stopped here (a ``BaseException``, so that a
    reader's ``except Exception`` does not swallow it). ``args[0]``: ``"episodes"``,
    ``"iterations"`` or ``"time"``."""


class Record:
    """A run as the row compares it: its episodes (or Q-learning's iterations), in order.

    ``episodes[i]``: a dict with ``seeds`` (the seed of each ``env.reset`` since the
    previous played episode, ``None`` for an unseeded one: the book's DQN cell resets
    once with ``seed=42`` before its loop; only the last one's is compared, the earlier
    ones showing in the first observation), ``obs`` (the first observation), ``actions``,
    ``rewards``, ``terminated``, ``truncated`` (one per step) and ``weights`` (the trained
    model's weights once the episode and what follows it, a training step, are done: taken
    at the next reset on the reader's side; ``None`` where none is watched).
    """

    def __init__(self):
        self.episodes = []
        self.pending_seeds = []
        self.pending_obs = None
        self.stopped = "finished"

    def reset(self, seed, obs):
        self.pending_seeds.append(seed)
        self.pending_obs = np.array(obs, copy=True)

    def step(self, action, reward, terminated, truncated):
        if self.pending_obs is not None or not self.episodes:
            self.episodes.append({"seeds": self.pending_seeds, "obs": self.pending_obs,
                                  "actions": [], "rewards": [], "terminated": [],
                                  "truncated": [], "weights": None})
            self.pending_seeds, self.pending_obs = [], None
        episode = self.episodes[-1]
        episode["actions"].append(_plain_action(action))
        episode["rewards"].append(float(reward))
        episode["terminated"].append(bool(terminated))
        episode["truncated"].append(bool(truncated))

    def cut_last(self):
        """Mark the episode being played as cut short (the time limit, or an error)."""
        if self.episodes and self.pending_obs is None:
            self.episodes[-1]["cut"] = True

    def to_dict(self):
        return {"episodes": self.episodes, "stopped": self.stopped}


def _plain_action(action):
    array = np.asarray(action)
    return array.item() if array.size == 1 else array.tolist()


def weights_snapshot(model):
    """``model``'s weights as NumPy arrays (``None`` for no model)."""
    if model is None or not hasattr(model, "get_weights"):
        return None
    return [np.array(w, copy=True) for w in model.get_weights()]


class RecordingEnv(gym.Wrapper):
    """An environment that writes every reset (with its seed), action, reward, ``terminated``
    and ``truncated`` to a :class:`Record`, and stops the loop at its budget.

    ``max_episodes``: the reset that would start one played episode more raises
    :class:`BudgetReached` (``None``: no limit); ``deadline``: a ``time.monotonic()`` value
    past which the next step raises it; ``watch()``: the trained model, whose weights are
    recorded when the next episode's reset comes (``None``: nothing watched);
    ``expected``: our run's episodes, if known: the loop is stopped (``"differs"``) as soon
    as it departs from them (an action, an episode's length, the weights after it), so that
    a reader's run that went another way early costs no more than that.
    """

    def __init__(self, env, max_episodes=None, deadline=None, watch=None, expected=None):
        super().__init__(env)
        self.record = Record()
        self.max_episodes = max_episodes
        self.deadline = deadline
        self.watch = watch
        self.expected = expected

    def _departs(self):
        """Whether the finished episodes already differ from ``expected`` (the constructor's)."""
        if self.expected is None or not self.record.episodes:
            return False
        index = len(self.record.episodes) - 1
        if index >= len(self.expected):
            return True
        return first_difference(self.expected[index:index + 1], self.record.episodes[-1:]) is not None

    def reset(self, *, seed=None, options=None):
        if self.record.episodes and self.record.pending_obs is None and self.watch is not None:
            self.record.episodes[-1]["weights"] = weights_snapshot(self.watch())
        if self.record.pending_obs is None and self._departs():
            self.record.stopped = "differs"
            raise BudgetReached("differs")
        if self.max_episodes is not None and len(self.record.episodes) >= self.max_episodes:
            self.record.stopped = "episodes"
            raise BudgetReached("episodes")
        obs, info = self.env.reset(seed=seed, options=options)
        self.record.reset(seed, obs)
        return obs, info

    def step(self, action):
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.record.stopped = "time"
            self.record.cut_last()
            raise BudgetReached("time")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.record.step(action, reward, terminated, truncated)
        if self.expected is not None:
            index, episode = len(self.record.episodes) - 1, self.record.episodes[-1]
            step = len(episode["actions"]) - 1
            ours = self.expected[index]["actions"] if index < len(self.expected) else []
            if (step >= len(ours) or ours[step] != episode["actions"][step]
                    or (step == 0 and first_difference(self.expected[index:index + 1],
                                                       [dict(episode, cut=True)]) is not None)):
                self.record.stopped = "differs"
                episode["cut"] = step < len(ours) and ours[step] == episode["actions"][step]
                episode["longer"] = step >= len(ours)
                raise BudgetReached("differs")
        return obs, reward, terminated, truncated, info


class RecordingStep:
    """Q-learning's ``step(state, action)``, recorded: each call is one iteration.

    Each iteration records ``(state, action, next_state, reward)`` and the Q-value table
    as it is when ``step`` is called (``q_values()``: the table the loop updates), i.e.
    after the previous iterations' updates. Raises :class:`BudgetReached` at the call past
    ``max_iterations`` or past the ``deadline``.
    """

    def __init__(self, step, q_values, max_iterations=None, deadline=None):
        self.step = step
        self.q_values = q_values
        self.max_iterations = max_iterations
        self.deadline = deadline
        self.iterations = []
        self.stopped = "finished"

    def __call__(self, state, action, *args, **kwargs):
        if self.max_iterations is not None and len(self.iterations) >= self.max_iterations:
            self.stopped = "iterations"
            raise BudgetReached("iterations")
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.stopped = "time"
            raise BudgetReached("time")
        table = self.q_values()
        table = None if table is None else np.array(table, dtype=float, copy=True)
        next_state, reward = self.step(state, action, *args, **kwargs)
        self.iterations.append((_plain_action(state), _plain_action(action),
                                _plain_action(next_state), float(reward), table))
        return next_state, reward

    def to_dict(self):
        return {"iterations": self.iterations, "stopped": self.stopped}


class CappedOutput(io.StringIO):
    """What the reader's loop prints, kept up to ``cap`` characters; ``total`` counts all."""

    def __init__(self, cap=20_000):
        super().__init__()
        self.cap = cap
        self.total = 0

    def write(self, text):
        self.total += len(text)
        room = self.cap - self.tell()
        if room > 0:
            super().write(text[:room])
        return len(text)


def _same(a, b, tol):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(_same(x, y, tol) for x, y in zip(a, b)))
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore"):  # -inf, an impossible action's Q-value, on both sides
        return bool(np.all((a == b) | (np.abs(a - b) <= tol)))


def _seeds_text(seeds):
    return " then ".join("env.reset()" if s is None else f"env.reset(seed={s})" for s in seeds)


def first_difference(ours, theirs, tol=1e-6):
    """The first place where two episode records differ, as one sentence; ``None`` if none.

    ``ours`` and ``theirs``: :meth:`Record.to_dict`'s episodes. The reader's may be shorter
    (the budget's time limit); only the common prefix is compared, and the reader's last
    episode, cut by the time limit, only step by step. Per episode, in the order the loop
    meets them: the resets and the first observation, each step's action, the episode's
    length and its sum of rewards, then the trained model's weights after it.
    """
    for index, (a, b) in enumerate(zip(ours, theirs)):
        cut = index == len(theirs) - 1 and b.get("cut", False)
        resets = (f" (your resets before it: {_seeds_text(b['seeds']) or 'none'}; ours: "
                  f"{_seeds_text(a['seeds']) or 'none'})")
        if a["seeds"][-1:] != b["seeds"][-1:]:
            return f"episode {index}: it starts from another reset{resets}"
        if not _same(a["obs"], b["obs"], tol):
            return f"episode {index}: its first observation differs{resets}"
        for step, (x, y) in enumerate(zip(a["actions"], b["actions"])):
            if x != y:
                return (f"episode {index}, step {step}: your action {y!r}, ours {x!r} "
                        f"(the {step} steps before it agree)")
        if cut:
            break
        if len(a["actions"]) != len(b["actions"]):
            return (f"episode {index}: yours lasts {'more than ' * b.get('longer', False)}"
                    f"{len(b['actions']) - b.get('longer', False)} steps, ours "
                    f"{len(a['actions'])} (the first {min(len(a['actions']), len(b['actions']))} "
                    f"actions agree; sum of rewards: yours {sum(b['rewards']):g}, ours {sum(a['rewards']):g})")
        if sum(a["rewards"]) != sum(b["rewards"]):
            return (f"episode {index}: sum of rewards yours {sum(b['rewards']):g}, "
                    f"ours {sum(a['rewards']):g}")
        if a["terminated"] != b["terminated"] or a["truncated"] != b["truncated"]:
            return f"episode {index}: terminated/truncated flags differ"
        if a["weights"] is not None and b["weights"] is not None and not _same(a["weights"], b["weights"], tol):
            return (f"episode {index}: the same {len(a['actions'])} steps, but the model's weights "
                    "after it (after its training step, if any) differ")
    return None


def first_iteration_difference(ours, theirs, tol=1e-9):
    """The first Q-learning iteration where two :class:`RecordingStep` records differ."""
    for index, (a, b) in enumerate(zip(ours, theirs)):
        if a[4] is not None and b[4] is not None and not _same(a[4], b[4], tol):
            if index == 0:
                return "iteration 0: the Q-value table differs before it (the initial table)"
            update = ours[index - 1]  # the transition the previous iteration learnt from
            return (f"iteration {index}: the Q-value table differs before it (iteration "
                    f"{index - 1}'s update; state {update[0]}, action {update[1]}: reward "
                    f"{update[3]:g}, next state {update[2]})")
        if a[:2] != b[:2]:
            return f"iteration {index}: your (state, action) {b[:2]}, ours {a[:2]}"
        if a[2:4] != b[2:4]:
            return f"iteration {index}: your (next state, reward) {b[2:4]}, ours {a[2:4]}"
    return None
