"""What every check uses: the registry, the context a check runs in, and its verdict."""

from dataclasses import dataclass

import numpy as np

from homl_rl.crosscheck.client import Worker, WorkerError
from homl_rl.crosscheck.diff import FLOAT_TOLERANCE, compare
from homl_rl.crosscheck.loader import LoadedSource
from homl_rl.crosscheck.report import PASS, CheckResult, failure

REGISTERED = {}
"""check name -> (book names it needs, function(context) -> CheckResult or list of them),
in the order the section modules register them (:data:`homl_rl.crosscheck.checks.CHECKS`
puts them in the chapter's order)"""


def check(name, *book_names):
    """Register a check that runs when the reader's code defines every one of ``book_names``."""
    def register(function):
        REGISTERED[name] = (book_names, function)
        return function
    return register


@dataclass
class Context:
    """What a check is given: the reader's loaded code, the worker running it, the timeout."""
    loaded: LoadedSource
    worker: Worker
    timeout: float

    def latest(self, name, kind=None):
        """The last definition of ``name`` (of ``kind``: "def", "class", "value"), or None."""
        versions = [d for d in self.loaded.versions(name) if kind is None or d.kind == kind]
        return versions[-1] if versions else None

    def call(self, definition, calls, globals=None, seed=None, collect=(), method=None):
        """Call the reader's ``definition`` in the worker (see its ``call`` request)."""
        return self.worker.request(self.timeout, op="call", stmt=definition.stmt, calls=calls,
                                   globals=globals or {}, seed=seed, collect=list(collect),
                                   method=method)

    def values(self, definitions):
        """The values of the reader's assignments ``definitions`` that could be evaluated."""
        values = []
        for definition in definitions:
            try:
                values.append(self.worker.request(self.timeout, op="value", stmt=definition.stmt))
            except WorkerError:  # an assignment that could not be evaluated (see the notes)
                continue
        return values


def first_matching_hint(theirs, candidates):
    """The hint of the first known mistake ``(hint, output)`` whose output equals the reader's."""
    for hint, output in candidates:
        try:
            if compare(output, theirs).ok:
                return hint
        except Exception:  # noqa: BLE001
            continue
    return ""


def compare_result(name, ours, theirs, candidates=(), tol=FLOAT_TOLERANCE):
    """PASS, or FAIL with the first difference and the hint of the mistake it matches."""
    diff = compare(ours, theirs, tol)
    if diff.ok:
        return CheckResult(name, PASS, diff.max_abs_diff)
    return failure(name, diff, first_matching_hint(theirs, candidates))


def random_cartpole_observations(n, seed=0):
    """``n`` CartPole observations, the first three with an upright pole (the edge cases)."""
    rng = np.random.default_rng(seed)
    obs = rng.uniform(-0.2, 0.2, size=(n, 4)).astype(np.float32)
    obs[:3, 2] = [0.0, -0.0, 1e-8]  # the edge cases: an upright pole
    return obs


def experiences(n=40, seed=3):
    """``n`` random CartPole experiences ``(state, action, reward, next_state, done, truncated)``."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=4).astype(np.float32), int(rng.integers(2)), 1.0,
             rng.normal(size=4).astype(np.float32), bool(rng.random() < 0.2),
             bool(rng.random() < 0.1)) for _ in range(n)]


def model_spec(model):
    """A Keras model as it crosses the pipe: its JSON config and its weights."""
    return ("__model__", model.to_json(), [np.asarray(w) for w in model.get_weights()])
