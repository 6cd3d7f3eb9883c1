"""The anchor: muzero-general's own CartPole runs on this machine, as a table beside ours.

muzero-general (PyTorch on Ray, github.com/werner-duvaud/muzero-general) is not a package
and none of its code is in this repository. It was run outside the repository, at commit
267285d (the lecture's), with its ``games/cartpole.py`` settings as shipped (10,000
training steps, ``ratio`` 1.5) but for its seed (0, 1, 2) and the CPU, by a driver that
wrote one ``summary.json`` per seed from the run's TensorBoard events file. This script
reads those files and writes ``benchmarks/results_muzero_general.md``. The fields it reads:

- ``test_games``: each test game with ``training_step`` and ``test_reward`` (the scalar
  "1.Total reward/1.Total reward": one greedy game of the test worker, which plays them back
  to back with the latest weights);
- ``training_steps_reached``, ``played_games``, ``played_steps``, ``reanalysed_games``;
- ``wall_time_s_train``, ``uptime_start``, ``uptime_end``, ``env`` (the versions).

    python benchmarks/muzero_general_table.py --anchor-dir /path/to/anchor --seeds 0 1 2
"""

import argparse
import datetime
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from muzero_cartpole_runs import LECTURE_TEST_REWARD  # noqa: E402
from results_file import write_results  # noqa: E402

def load(uptime):
    """The 1-minute load average of an ``uptime`` line."""
    return float(re.search(r"load average: ([\d.]+)", uptime).group(1))


def row(seed, summary):
    tests = summary["test_games"]
    rewards = [game["test_reward"] for game in tests]
    reached = [game["training_step"] for game in tests
               if game["test_reward"] >= LECTURE_TEST_REWARD]
    return (f"| {seed} | {max(rewards):.0f} | {rewards[-1]:.0f} (step "
            f"{tests[-1]['training_step']:,}) | "
            f"{f'step {reached[0]:,}' if reached else 'never'} | {len(tests)} | "
            f"{summary['played_games']} | {summary['played_steps']:,} | "
            f"{summary['reanalysed_games']:,} | {summary['wall_time_s_train'] / 60:.1f} min | "
            f"{load(summary['uptime_start']):.1f} / {load(summary['uptime_end']):.1f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--anchor-dir", type=Path, required=True,
                        help="the folder of the runs' seedN/summary.json files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).with_name("results_muzero_general.md"))
    parser.add_argument("--note", action="append", default=[],
                        help="a paragraph appended to the file (repeatable)")
    args = parser.parse_args(argv)
    summaries = {seed: json.loads((args.anchor_dir / f"seed{seed}" / "summary.json").read_text())
                 for seed in args.seeds}
    for seed, summary in summaries.items():
        if summary["training_steps_reached"] < summary["training_steps_config"]:
            raise SystemExit(f"seed {seed} stopped at {summary['training_steps_reached']} steps")
    env = next(iter(summaries.values()))["env"]
    versions = ", ".join(f"{name} {env[name]}" for name in ("python", "torch", "ray", "numpy",
                                                            "gym"))
    hits = sum(max(game["test_reward"] for game in summary["test_games"]) >= LECTURE_TEST_REWARD
               for summary in summaries.values())
    lines = [
        "# The anchor: muzero-general's CartPole on this machine", "",
        f"Written {datetime.date.today()} by `benchmarks/muzero_general_table.py` from the "
        f"runs' summaries; muzero-general at commit 267285d, `games/cartpole.py` as shipped "
        f"but `seed` and the CPU; {versions}; {env['nproc']} cores "
        f"({env['cpu_model'].split(':')[-1].strip()}).", "",
        f"| seed | best test game | last test game | first test >= {LECTURE_TEST_REWARD} | "
        "test games | games played | moves played | games reanalysed | wall time | "
        "1-min load, start / end |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
        *(row(seed, summary) for seed, summary in summaries.items()), "",
        f"Best test game >= {LECTURE_TEST_REWARD} on {hits} of {len(summaries)} seeds."]
    write_results(args.out, lines, args.note)


if __name__ == "__main__":
    main()
