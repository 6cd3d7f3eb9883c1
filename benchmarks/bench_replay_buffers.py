"""The 2nd edition's extra material "Deque vs Rotating List", for the three replay buffers.

    .venv/bin/python benchmarks/bench_replay_buffers.py    # ~1 min

At 1,000,000 experiences: ``append`` (evicting the oldest), the extra material's random
access of 5 items, and the DQN's ``sample_experiences(32)`` (six arrays). Then the same
at the DQN's 2,000. Writes benchmarks/results_replay_buffers.md (included on the documentation site's pages, docs/).

The deque's ``append`` is O(1), but ``deque[i]`` walks its blocks from the nearer end:
O(n) random access. The notebook's circular ``ReplayBuffer`` (an object array) and the
NumPy ring buffer index in O(1). Each time is the best of several ``timeit`` repeats.
"""

import argparse
import datetime
import os
import platform
import sys
import timeit
from collections import deque
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homl_rl.replay_buffers import (NumpyReplayBuffer, ReplayBuffer,  # noqa: E402
                                    experiences_at, sample_experiences)

RESULTS = Path(__file__).with_name("results_replay_buffers.md")


def cartpole_experience(i):
    state = np.full(4, i % 1000, dtype=np.float32)
    return (state, i % 2, 1.0, state, i % 50 == 0, False)


def per_call_us(statement, number):
    """Best of 5 repeats of ``number`` calls, in microseconds per call."""
    return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e6


def bench(capacity):
    """Fill each buffer to ``capacity`` (plus some, to wrap around), then time it."""
    np.random.seed(42)
    experience = cartpole_experience(1)
    buffers = {"deque (notebook)": deque(maxlen=capacity),
               "ReplayBuffer (notebook's circular)": ReplayBuffer(capacity),
               "NumpyReplayBuffer (ring of arrays)": NumpyReplayBuffer(capacity)}
    for buffer in buffers.values():
        for i in range(capacity + capacity // 10):
            buffer.append(cartpole_experience(i) if i < 1000 else experience)
    dq, circular, ring = buffers.values()
    size = len(dq)
    samplers = {
        "deque (notebook)": (
            lambda: [dq[i] for i in np.random.randint(size, size=5)],  # the extra material
            lambda: sample_experiences(dq, 32)),
        "ReplayBuffer (notebook's circular)": (
            lambda: circular.sample(5),
            lambda: experiences_at(circular.buffer, np.random.randint(circular.size, size=32))),
        "NumpyReplayBuffer (ring of arrays)": (
            lambda: ring.experiences(np.random.randint(size, size=5)),
            lambda: ring.sample(32)),
    }
    rows = []
    for name, buffer in buffers.items():
        sample5, sample32 = samplers[name]
        rows.append((name, capacity,
                     per_call_us(lambda: buffer.append(experience), 100_000),
                     per_call_us(sample5, 2_000 if capacity > 100_000 else 20_000),
                     per_call_us(sample32, 500 if capacity > 100_000 else 5_000)))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = []
    for capacity in (1_000_000, 2_000):
        print(f"capacity {capacity:,}...", flush=True)
        rows += bench(capacity)
    lines = [
        "# Replay buffers: deque vs rotating list (2nd edition extra material)",
        "",
        f"Measured {datetime.date.today()} by `benchmarks/bench_replay_buffers.py` on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        "(shared with other jobs while it ran), Python "
        f"{platform.python_version()}, NumPy {np.__version__}. Best of 5 repeats; µs per call.",
        "",
        "| buffer | capacity | `append` | random access of 5 | `sample_experiences(32)` |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, capacity, append, sample5, sample32 in rows:
        lines.append(f"| {name} | {capacity:,} | {append:.2f} | {sample5:.1f} | {sample32:.1f} |")
    lines += [
        "",
        "Random access of 5: the extra material's `[mem[i] for i in np.random.randint(n, size=5)]`",
        "for the deque, `ReplayBuffer.sample(5)` (an object array of 5 tuples), and the ring's",
        "`experiences(indices)` (six arrays). `sample_experiences(32)`: the DQN's batch as six",
        "arrays (for the circular buffer, its `sample(32)` converted as the notebook does).",
        "At 1,000,000 the deque's O(n) indexing dominates; at the DQN's 2,000 the deque's",
        "cheap `append` wins over a run (one append per step, one sample per episode), which",
        "is why `train_dqn` keeps the notebook's deque (`replay_buffer=\"numpy\"` gives the same",
        "batches).",
    ]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
