"""MuZero on CartPole at the lecture's budget: the table of our seeded runs.

The runs are made (and resumed, if stopped) by the command line, one per seed::

    python -m homl_rl muzero train --seed S --checkpoint-dir .cache/muzero/cartpole_seedS

(``make figures-long`` makes seed 0's too: the figures ``muzero_cartpole_plot`` and
``muzero_cartpole`` come from it). This script reads their checkpoints and writes
``benchmarks/results_muzero_cartpole.md``: per seed, the best and last test game (one every
250 training steps, temperature 0), the mean of the 10 test games played with the final
weights, the first test at >= 386 (the lecture's one test game), the games played and the
wall time with the load average the checkpoints recorded.

    python benchmarks/muzero_cartpole_runs.py --seeds 0 1 2
"""

import argparse
import datetime
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from results_file import write_results  # noqa: E402
from homl_rl.checkpoints import read_checkpoint  # noqa: E402
from homl_rl.muzero.training import MUZERO_CHECKPOINT_NAME  # noqa: E402
from homl_rl.paths import MUZERO_RUNS  # noqa: E402
from homl_rl.stack import stack_line  # noqa: E402

LECTURE_TEST_REWARD = 386
"""the lecture's run of muzero-general: "Last test reward: 386.00 ... Played games: 68"."""


def run_row(seed, run_dir):
    """One seed's numbers from its checkpoint (a finished run's)."""
    meta, arrays = read_checkpoint(Path(run_dir) / MUZERO_CHECKPOINT_NAME)
    if meta["trained_steps"] < meta["training_steps"]:
        raise SystemExit(f"the run of seed {seed} stopped at {meta['trained_steps']} of "
                         f"{meta['training_steps']} training steps: resume it first")
    tests = arrays["history_test_rewards"]
    steps = arrays["history_test_steps"]
    final = arrays["history_final_test_rewards"]
    reached = steps[tests >= LECTURE_TEST_REWARD]
    loads = [load for _, load in meta.get("load_averages", [])]
    return {"seed": seed, "best": tests.max(), "last": tests[-1],
            "final": (final.mean(), final.std(), len(final)),
            "reached": int(reached[0]) if len(reached) else None,
            "games": len(arrays["history_game_rewards"]),
            "moves": int(arrays["history_game_lengths"].sum()),
            "seconds": meta["seconds"],
            "load": f"{min(loads):.1f}-{max(loads):.1f}" if loads else "not recorded"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).with_name("results_muzero_cartpole.md"))
    parser.add_argument("--note", default=None,
                        help="a sentence appended to the file (e.g. what the machine was "
                             "doing besides)")
    args = parser.parse_args(argv)
    rows = [run_row(seed, MUZERO_RUNS / f"cartpole_seed{seed}") for seed in args.seeds]
    lines = [
        "# MuZero on CartPole at the lecture's budget (ours, in Keras)", "",
        f"Written {datetime.date.today()} by `benchmarks/muzero_cartpole_runs.py` from the "
        f"runs' checkpoints; {stack_line()}, {os.cpu_count()} cores.", "",
        "muzero-general's CartPole settings at commit 267285d (`MuZeroConfig()`), 10,000 "
        "training steps at `ratio` 1.5, one process (`python -m homl_rl muzero train --seed "
        "S`). A test game (temperature 0: the most visited action) every 250 training steps; "
        "then 10 test games with the final weights.", "",
        f"| seed | best test game | last test game | first test >= {LECTURE_TEST_REWARD} "
        "(training step) | final weights, 10 test games | games played | moves played | "
        "wall time | 1-min load at the checkpoints |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---|"]
    for row in rows:
        mean, std, n = row["final"]
        lines.append(
            f"| {row['seed']} | {row['best']:.0f} | {row['last']:.0f} | "
            f"{row['reached'] if row['reached'] is not None else 'never'} | "
            f"{mean:.1f} ± {std:.1f} (n={n}) | {row['games']} | {row['moves']:,} | "
            f"{row['seconds'] / 60:.1f} min | {row['load']} |")
    hits = sum(row["best"] >= LECTURE_TEST_REWARD for row in rows)
    lines += ["", f"Best test game >= {LECTURE_TEST_REWARD} on {hits} of {len(rows)} seeds."]
    write_results(args.out, lines, [args.note])


if __name__ == "__main__":
    main()
