"""Exercise 9's Keras Double Dueling DQN on Breakout: throughput and replay memory.

    .venv/bin/python benchmarks/bench_breakout.py [--steps 3000]

Measures, on this machine, env steps/s of (1) the preprocessed env alone (random actions),
(2) the training loop while only acting (epsilon-greedy, compiled greedy action; before
``training_starts``), (3) the loop with a compiled training step every 4 env steps, and
the replay buffer's bytes per transition vs naive stacked storage. Writes
``benchmarks/results_breakout.md``.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homl_rl.breakout import BreakoutConfig, make_training_env, train_breakout  # noqa: E402
from homl_rl.replay_buffers import (FrameReplayBuffer,  # noqa: E402
                                    frame_ring_bytes_per_transition, naive_bytes_per_transition)
from homl_rl.tf_setup import tf  # noqa: E402


def env_only(n_steps):
    env = make_training_env(BreakoutConfig())
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(n_steps):
        _, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
        if terminated or truncated:
            env.reset()
    return n_steps / (time.perf_counter() - start)


def _timed_run(n_steps, training):
    config = BreakoutConfig(n_steps=n_steps, replay_capacity=10_000,
                            training_starts=50 if training else 10 ** 9,
                            epsilon_decay_steps=1000, eval_interval=10 ** 9,
                            checkpoint_interval=10 ** 9)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train_breakout(config, Path(tmp), progress=False)
        return time.perf_counter() - start


def loop(n_steps, training, warmup=500):
    """Steps/s of train_breakout: (n_steps) / (time of warmup + n_steps - time of warmup),
    so building the models, tracing and the final checkpoint are not counted."""
    short = _timed_run(warmup, training)
    long = _timed_run(warmup + n_steps, training)
    return n_steps / (long - short)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results_breakout.md")))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    rows = [("env alone (random actions)", env_only(args.steps)),
            ("loop, acting only (compiled greedy action, epsilon 1 -> 0.01)",
             loop(args.steps, training=False)),
            ("loop, training every 4 steps (batch 32, compiled)", loop(args.steps, training=True))]
    buffer = FrameReplayBuffer(10_000)
    ring = frame_ring_bytes_per_transition(1_000_000)
    naive = naive_bytes_per_transition()
    lines = [
        "# Exercise 9 (Keras Double Dueling DQN, Breakout): throughput and replay memory",
        "",
        f"`.venv/bin/python benchmarks/bench_breakout.py --steps {args.steps}` on "
        f"{platform.machine()}, {os.cpu_count()} CPU cores, {device}, TensorFlow "
        f"{tf.__version__}, NumPy {np.__version__}.",
        f"Load average (1 min) before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        "(the 2 cores are shared with other jobs: above 2, the rates below are pessimistic).",
        "",
        "| what | env steps/s |", "|---|---:|",
        *[f"| {name} | {rate:,.0f} |" for name, rate in rows],
        "",
        "(1 env step = 4 ALE frames. Loop rates: the difference of two fresh runs, of 500 and "
        f"500 + {args.steps} steps, so model building, tracing and checkpoints are not "
        "counted; epsilon decays over 1,000 steps, so most actions are the network's.)",
        "",
        "| replay storage | bytes per transition | 1,000,000 transitions |", "|---|---:|---:|",
        f"| naive: state and next state stacked (2 x 84x84x4 uint8) | {naive:,} | "
        f"{naive * 1e6 / 2 ** 30:.1f} GiB |",
        f"| frame ring: each 84x84 frame once + one int64 index | {ring:,.0f} | "
        f"{ring * 1e6 / 2 ** 30:.2f} GiB |",
        "",
        f"Measured: `FrameReplayBuffer(10_000).nbytes()` = {buffer.nbytes():,} bytes "
        f"({buffer.nbytes() / 10_000:,.1f} per transition; episode starts cost 3 extra "
        "frames each).",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
