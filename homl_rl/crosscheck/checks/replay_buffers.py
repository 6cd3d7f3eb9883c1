"""Checks of the replay buffers of section "Deep Q-Network" (:mod:`homl_rl.replay_buffers`)."""

from collections import deque

import numpy as np

from homl_rl.crosscheck import hints
from homl_rl.crosscheck.checks.base import PerSeed, seeds, by_seed, check, compare_seeds, experiences
from homl_rl.crosscheck.mutate import mutated
from homl_rl.replay_buffers import ReplayBuffer, sample_experiences


@check("sample_experiences", "sample_experiences")
def check_sample_experiences(ctx):
    stored = experiences()
    buffer = deque(stored, maxlen=2000)
    sizes = [8, 5, 32]

    def batches(sample):
        def at(seed):
            np.random.seed(seed)
            return [sample(buffer, size) for size in sizes]
        return at

    answers = ctx.call_seeds(ctx.latest("sample_experiences", "def"),
                             [[([size], {}) for size in sizes]] * len(seeds()),
                             globals={"replay_buffer": ("__deque__", stored, 2000)})
    candidates = [(mistake.hint, PerSeed(batches(mutated(sample_experiences, mistake.mutation))))
        for mistake in (hints.SAMPLE_WITHOUT_REPLACEMENT, hints.SAMPLE_OFF_BY_ONE)]
    return compare_seeds("sample_experiences", by_seed(batches(sample_experiences)),
                         [a["results"] for a in answers], candidates, tol=0)


@check("ReplayBuffer", "ReplayBuffer")
def check_replay_buffer(ctx):
    calls = [("append", [i]) for i in range(3)] + [("sample", [4])]
    calls += [("append", [i]) for i in range(3, 9)] + [("sample", [6]), ("sample", [2])]

    def run(buffer):
        return [getattr(buffer, name)(*args) for name, args in calls]

    def ours_at(seed):
        np.random.seed(seed)
        return [np.asarray(out, dtype=np.int64) for out in run(ReplayBuffer(5)) if out is not None]

    answers = ctx.call_seeds(ctx.latest("ReplayBuffer", "class"), [[([5], {})]] * len(seeds()),
                             method=calls)
    theirs = [[np.asarray(list(out)) for out in answer["results"][0] if out is not None]
              for answer in answers]
    return compare_seeds("ReplayBuffer (max_size 5, wraps)", by_seed(ours_at), theirs, tol=0)
