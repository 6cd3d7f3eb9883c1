"""What every check uses: the registry, the context a check runs in, and its verdict."""

from dataclasses import dataclass

import numpy as np

from homl_rl.crosscheck.client import Worker, WorkerError
from homl_rl.crosscheck.diagnostics import diagnose, seed_independent
from homl_rl.crosscheck.diff import FLOAT_TOLERANCE, compare
from homl_rl.crosscheck.loader import LoadedSource
from homl_rl.crosscheck.report import FAIL, PASS, CheckResult, failure

SEEDS = tuple(range(42, 62))
"""the seeds every stochastic check runs the reader's function and ours at (20; 42 first,
the notebook's): one lucky draw cannot pass a function that samples from the wrong
distribution, and a per-step function is run over whole episodes at each seed"""



def seeds():
    """:data:`SEEDS`, read when a check runs (a test may run a check at other seeds)."""
    return SEEDS


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

    def call_seeds(self, definition, calls_by_seed, globals=None, collect=(), method=None):
        """:meth:`call` at each seed of :data:`SEEDS`: ``calls_by_seed[i]`` at ``SEEDS[i]``.

        The globals are set afresh at each seed (a replay buffer starts empty again);
        returns one answer per seed.
        """
        runs = list(zip(SEEDS, calls_by_seed))
        return self.worker.request(self.timeout * max(1, len(runs) // 4), op="call_seeds",
                                   stmt=definition.stmt, runs=runs, globals=globals or {},
                                   collect=list(collect), method=method)

    def values(self, definitions):
        """The values of the reader's assignments ``definitions`` that could be evaluated."""
        values = []
        for definition in definitions:
            try:
                values.append(self.worker.request(self.timeout, op="value", stmt=definition.stmt))
            except WorkerError:  # an assignment that could not be evaluated (see the notes)
                continue
        return values


class PerSeed:
    """A known mistake's outputs by seed, ``run(seed)``, computed one seed at a time.

    :func:`first_matching_hint` compares them with the reader's seed by seed and stops at
    the first seed where they differ: most wrong guesses are told apart at the first seed,
    so guessing costs one seed's run instead of twenty.
    """

    def __init__(self, run):
        self.run = run

    def matches(self, theirs):
        """Whether ``run(seed)`` equals the reader's output at every seed of :data:`SEEDS`."""
        return len(theirs) == len(SEEDS) and all(
            compare(self.run(seed), answer).ok for seed, answer in zip(SEEDS, theirs))


def first_matching_hint(theirs, candidates):
    """The hint of the first known mistake ``(hint, output)`` whose output equals the reader's.

    ``output`` may be a function of no arguments that computes it (only when needed), or a
    :class:`PerSeed` (outputs by seed, computed only as far as they agree).
    """
    for hint, output in candidates:
        try:
            if isinstance(output, PerSeed):
                if output.matches(theirs):
                    return hint
                continue
            if callable(output):
                output = output()
            if compare(output, theirs).ok:
                return hint
        except Exception:  # noqa: BLE001
            continue
    return ""


def compare_result(name, ours, theirs, candidates=(), tol=FLOAT_TOLERANCE):
    """PASS, or FAIL with the first difference and the hint of the mistake it matches.

    ``ours`` and ``theirs``: one output per call. A failure that no known mistake explains
    gets the generic diagnostics that hold (:func:`homl_rl.crosscheck.diagnostics.diagnose`).
    """
    diff = compare(ours, theirs, tol)
    if diff.ok:
        return CheckResult(name, PASS, diff.max_abs_diff)
    hint = first_matching_hint(theirs, candidates)
    return failure(name, diff, hint, [] if hint else diagnose(ours, theirs))


def compare_seeds(name, ours, theirs, candidates=(), tol=FLOAT_TOLERANCE):
    """:func:`compare_result` of outputs by seed (``ours[i]`` at ``SEEDS[i]``): PASS at every seed.

    A failure names the first seed that differs; a hint is given only for a known mistake
    whose outputs equal the reader's at *every* seed, and without one, the generic
    diagnostics that hold: of the outputs (``ours[i]`` a list of one output per call), and
    whether the reader's outputs depend on the seed at all.
    """
    worst = 0.0
    for seed, a, b in zip(SEEDS, ours, theirs):
        diff = compare(a, b, tol)
        if not diff.ok:
            diff.where = f"seed {seed}, {diff.where}"
            hint = first_matching_hint(theirs, candidates)
            diagnostics = []
            if not hint:
                diagnostics = diagnose(ours, theirs, depth=2)
                diagnostics += filter(None, [seed_independent(ours, theirs)])
            return failure(name, diff, hint, diagnostics)
        worst = max(worst, diff.max_abs_diff)
    if len(theirs) != len(ours):
        return CheckResult(name, FAIL, detail=f"{len(theirs)} seeds' outputs, {len(ours)} expected")
    return CheckResult(name, PASS, worst)


def by_seed(run):
    """``[run(seed) for seed in SEEDS]``: our outputs at every seed."""
    return [run(seed) for seed in SEEDS]


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
