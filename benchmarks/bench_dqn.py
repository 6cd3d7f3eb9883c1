"""Time the DQN trainings' engines: the notebook's (``model.predict`` at every step) and the
fast one, and check they give the same per-episode rewards.

    .venv/bin/python benchmarks/bench_dqn.py                    # ~50 min: the notebook engine
                                                                # runs 600 episodes of DQN
    .venv/bin/python benchmarks/bench_dqn.py --notebook-episodes 100    # ~3 min
    .venv/bin/python benchmarks/bench_dqn.py --notebook-variants        # fast engine only

Every variant runs 600 episodes with the fast engine, and (unless ``--no-eager-nadam``) again
with the fast engine's Nadam replica turned off (``DQNFastEngine(use_nadam_replica=False)``:
Keras' own eager ``apply_gradients``, the time before the replica); both must give the same
rewards. The notebook engine runs ``--notebook-episodes`` episodes of each of
``--notebook-variants`` (default: the full 600 of "dqn", Figure 18-10's run); its rewards are
compared with the fast engine's over those episodes. Each row records the 1-minute load
average before it ran (the machine is shared: wall times grow with it). Writes
benchmarks/results_dqn.md (included on the documentation site's pages, docs/).
"""

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homl_rl.dqn import CHAPTER_VARIANTS as VARIANTS, train_dqn  # noqa: E402
from homl_rl.engines.dqn import DQNFastEngine  # noqa: E402
from homl_rl.stack import cpu_model  # noqa: E402
from homl_rl.tf_setup import tf  # noqa: E402

RESULTS = Path(__file__).with_name("results_dqn.md")


def timed_run(variant, n_episodes, engine):
    """``train_dqn``: its rewards, wall and CPU seconds, environment steps, and the 1-minute
    load average just before it ran."""
    load = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    history, model = train_dqn(variant, n_episodes, engine=engine, progress=False)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return history.last_steps, wall, cpu, history.n_steps, load


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--notebook-variants", nargs="*", default=["dqn"], choices=VARIANTS)
    parser.add_argument("--notebook-episodes", type=int, default=600)
    parser.add_argument("--no-eager-nadam", action="store_true",
                        help="skip the runs with Keras' eager Nadam instead of the replica")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    train_dqn("dqn", 53, progress=False)  # TF's start-up and the replica's proof, outside the timings
    rows, fast_rewards = [], {}
    for variant in args.variants:
        print(f"{variant}, 600 episodes, fast engine...", flush=True)
        rewards, wall, cpu, steps, load = timed_run(variant, 600, "fast")
        fast_rewards[variant] = rewards
        print(f"  {wall:.1f} s", flush=True)
        rows.append((variant, "fast", 600, steps, wall, cpu, load, ""))
        if not args.no_eager_nadam:
            print(f"{variant}, 600 episodes, fast engine with Keras' eager Nadam...", flush=True)
            engine = DQNFastEngine(use_nadam_replica=False)
            eager_rewards, wall, cpu, steps, load = timed_run(variant, 600, engine)
            print(f"  {wall:.1f} s", flush=True)
            same = eager_rewards == rewards
            rows.append((variant, "fast, Keras' eager Nadam", 600, steps, wall, cpu, load,
                         f"{'yes' if same else 'NO'}, all 600 episodes"))
    for variant in args.notebook_variants:
        n = args.notebook_episodes
        print(f"{variant}, {n} episodes, notebook engine (model.predict per step)...", flush=True)
        rewards, wall, cpu, steps, load = timed_run(variant, n, "notebook")
        print(f"  {wall:.1f} s", flush=True)
        if variant not in fast_rewards:
            fast_rewards[variant] = train_dqn(variant, n, progress=False)[0].last_steps
        same = rewards == fast_rewards[variant][:n]
        rows.append((variant, "notebook", n, steps, wall, cpu, load,
                     f"{'yes' if same else 'NO'}, all {n} episodes"))

    lines = [
        "# DQN family: notebook engine vs fast engine",
        "",
        f"Measured {datetime.date.today()} by `benchmarks/bench_dqn.py` on {cpu_model()}, "
        f"{os.cpu_count()} cores, shared with other jobs while it ran (each row gives the "
        f"1-minute load average before it: wall times grow with it; CPU times are this "
        f"process's). TensorFlow {tf.__version__} (CPU), Python {platform.python_version()}. "
        "Seed 42; TensorFlow's start-up excluded.",
        "",
        "| variant | engine | episodes | env steps | wall s | CPU s | load | episodes/s | env steps/s "
        "| same rewards as fast |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for variant, engine, n, steps, wall, cpu, load, same in rows:
        lines.append(f"| {variant} | {engine} | {n} | {steps:,} | {wall:.1f} | {cpu:.1f} | "
                     f"{load:.1f} | {n / wall:.2f} | {steps / wall:,.0f} | {same} |")
    lines += [
        "",
        "The notebook engine calls `model.predict` for every greedy action and for the",
        "next-state values of each training step, as the notebook's cells do. The fast engine",
        "decides the greedy action with a NumPy forward pass when the top-two Q-values are",
        "further apart than a float32 error bound (otherwise with the compiled call), and",
        "uses a `tf.function`-compiled `model(x, training=False)` for batches. Both keep the",
        "notebook's eager forward pass and gradient tape in the training step (one per episode",
        "after episode 50); the fast engine then applies Nadam's update with its NumPy replica",
        "of Keras' eager `apply_gradients` (same bits, proven at start-up), the rows",
        "\"Keras' eager Nadam\" with Keras' own.",
    ]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
