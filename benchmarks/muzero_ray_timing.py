"""MuZero's wall time with and without Ray on this machine: ``results_muzero_ray.md``.

For each ``--modes`` (``process``: :func:`homl_rl.muzero.training.train`, the roles
interleaved in one process; ``ray``: :func:`homl_rl.muzero.distributed.train_on_ray`, the
roles as actors of a local Ray instance, as muzero-general runs them) this trains
muzero-general's CartPole settings at ``--seed`` for ``--steps`` training steps and records
the wall time, the games and moves played and the test games, with the 1-minute load
average at the start and the end. ``--append`` adds the rows to the file's table.

    python benchmarks/muzero_ray_timing.py --steps 2000 --modes process ray
    python benchmarks/muzero_ray_timing.py --steps 10000 --modes ray --append
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from results_file import write_results  # noqa: E402
from homl_rl.muzero.config import MuZeroConfig  # noqa: E402
from homl_rl.stack import stack_line  # noqa: E402

HEADER = ("| roles | training steps | seed | wall time | games played | moves played | "
          "best test game | last test game | 1-min load, start / end |")


def run(mode, steps, seed, checkpoint_dir=None):
    """One timed run: its table row (``checkpoint_dir``: the one-process run's, with its 10
    final test games, e.g. ``.cache/muzero/cartpole_seed0``, which ``make figures-long`` then
    reads back)."""
    config = MuZeroConfig(seed=seed)
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    if mode == "ray":
        from homl_rl.muzero.distributed import train_on_ray

        history = train_on_ray(config, training_steps=steps)
        roles = "Ray actors (1 self-play worker, reanalyse, test)"
    else:
        from homl_rl.muzero.training import train

        history = train(config, training_steps=steps, checkpoint_dir=checkpoint_dir,
                        final_test_episodes=0 if checkpoint_dir is None else 10)
        roles = "one process"
    seconds = time.perf_counter() - start
    tests = history["test_rewards"]
    return (f"| {roles} | {history['training_steps']:,} | {seed} | {seconds / 60:.1f} min | "
            f"{history['played_games']} | {history['played_steps']:,} | "
            f"{max(tests):.0f} | {tests[-1]:.0f} | {load_start:.1f} / "
            f"{os.getloadavg()[0]:.1f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", nargs="+", choices=["process", "ray"],
                        default=["process", "ray"])
    parser.add_argument("--append", action="store_true")
    parser.add_argument("--checkpoint-dir", type=Path, default=None,
                        help="the one-process run's checkpoint folder (default: none)")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).with_name("results_muzero_ray.md"))
    parser.add_argument("--note", default=None,
                        help="a sentence appended to the file (e.g. what else ran)")
    args = parser.parse_args(argv)
    rows = [run(mode, args.steps, args.seed, args.checkpoint_dir) for mode in args.modes]
    if args.append and args.out.exists():
        lines = args.out.read_text().rstrip("\n").splitlines()
        last_row = max(i for i, line in enumerate(lines) if line.startswith("|"))
        lines[last_row + 1:last_row + 1] = rows
    else:
        lines = ["# MuZero with and without Ray: wall time on this machine", "",
                 f"Measured {datetime.date.today()} by `benchmarks/muzero_ray_timing.py`; "
                 f"{stack_line()}, {os.cpu_count()} cores. muzero-general's CartPole "
                 "settings (`MuZeroConfig()`); TensorFlow at one thread in every Ray actor. "
                 "The Ray runs are not reproducible (the roles run asynchronously): their "
                 "games differ from the one-process run's at the same seed.", "",
                 HEADER, "|---|---:|---:|---:|---:|---:|---:|---:|---|", *rows]
    write_results(args.out, lines, [args.note])


if __name__ == "__main__":
    main()
