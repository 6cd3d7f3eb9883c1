"""Checks of the replay buffers of section "Deep Q-Network" (:mod:`homl_rl.replay_buffers`)."""

from collections import deque

import numpy as np

from homl_rl.crosscheck.checks.base import check, compare_result, experiences
from homl_rl.replay_buffers import ReplayBuffer, sample_experiences


@check("sample_experiences", "sample_experiences")
def check_sample_experiences(ctx):
    stored = experiences()
    buffer = deque(stored, maxlen=2000)
    np.random.seed(42)
    ours = [sample_experiences(buffer, 8), sample_experiences(buffer, 5)]
    answer = ctx.call(ctx.latest("sample_experiences", "def"), [([8], {}), ([5], {})],
                      globals={"replay_buffer": ("__deque__", stored, 2000)}, seed=42)
    return compare_result("sample_experiences", ours, answer["results"], tol=0)


@check("ReplayBuffer", "ReplayBuffer")
def check_replay_buffer(ctx):
    calls = [("append", [i]) for i in range(3)] + [("sample", [4])]
    calls += [("append", [i]) for i in range(3, 9)] + [("sample", [6]), ("sample", [2])]

    def run(buffer):
        return [getattr(buffer, name)(*args) for name, args in calls]

    np.random.seed(42)
    ours = [np.asarray(out, dtype=np.int64) for out in run(ReplayBuffer(5)) if out is not None]
    answer = ctx.call(ctx.latest("ReplayBuffer", "class"), [([5], {})], seed=42, method=calls)
    outputs = answer["results"][0]
    theirs = [np.asarray(list(out)) for out in outputs if out is not None]
    return compare_result("ReplayBuffer (max_size 5, wraps)", ours, theirs, tol=0)
