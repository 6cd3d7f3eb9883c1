"""Time lecture 003's studies with the lecture's agent: the three full studies (63 runs) and
the 4 x 4 grid search (32 runs), in parallel processes, each in a fresh cache (nothing reused).

    .venv/bin/python benchmarks/bench_lecture_studies.py             # the full studies, jobs=2
    .venv/bin/python benchmarks/bench_lecture_studies.py --quick     # make figures' quick grids

Each row records the CPU model, the jobs, the 1-minute load average before and after (the
machine is shared: wall times grow with it), the runs, their environment steps and how many
reached the 199 evaluation. Writes benchmarks/results_lecture_studies.md (included on the documentation site's pages, docs/).
"""

import argparse
import datetime
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homl_rl.stack import cpu_model  # noqa: E402
from homl_rl.experiments import LECTURE_AGENT, studies_of  # noqa: E402
from homl_rl.experiments.studies import run_lecture_study  # noqa: E402
from homl_rl.tf_setup import tf  # noqa: E402

RESULTS = Path(__file__).with_name("results_lecture_studies.md")


def _cpu_seconds():
    """CPU seconds of this process and of its finished worker processes."""
    return sum(getattr(resource.getrusage(who), field)
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


def timed_study(name, grid, seeds, jobs, cache_dir):
    """One study in a fresh cache: its row (wall and CPU seconds, load before/after, runs,
    environment steps)."""
    if Path(cache_dir).exists() and any(Path(cache_dir).iterdir()):
        raise ValueError(f"{cache_dir} is not empty: the benchmark times fresh runs")
    load = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    runs, results = run_lecture_study(grid, seeds, jobs=jobs, cache_dir=cache_dir, progress=False)
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    # a run stops at its first evaluation of 199 or more: it reached it if its last one did
    reached = sum(bool(result["rewards"]) and result["rewards"][-1] >= 199 for result in results)
    row = {"study": name, "runs": len(runs), "wall": wall, "cpu": cpu, "load_before": load,
           "load_after": os.getloadavg()[0], "steps": sum(r["n_steps"] for r in results),
           "reached": reached}
    print(row, flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="make figures' quick grids instead")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--cache", type=Path, required=True,
                        help="an empty folder for the runs (kept: e.g. to draw the full figures)")
    args = parser.parse_args(argv)
    studies = studies_of(LECTURE_AGENT)
    search = studies.pop("grid_search")

    def grid_and_seeds(study):
        return ((study.quick_grid, study.quick_seeds) if args.quick
                else (study.grid, study.seeds))

    uptime = os.popen("uptime").read().strip()
    rows = []
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    for name, study in studies.items():
        rows.append(timed_study(name, *grid_and_seeds(study), args.jobs, args.cache / name))
    studies_wall, studies_cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    rows.append(timed_study("grid search", *grid_and_seeds(search), args.jobs,
                            args.cache / "grid"))
    kind = "quick grids (make figures)" if args.quick else "full grids"
    lines = [
        f"# Lecture 003's studies with the lecture's agent: {kind}",
        "",
        f"Measured {datetime.date.today()} by `benchmarks/bench_lecture_studies.py"
        f"{' --quick' if args.quick else ''}` on {cpu_model()}, {os.cpu_count()} cores, "
        f"jobs={args.jobs}, shared with other jobs (`uptime` at the start: `{uptime}`). "
        f"TensorFlow {tf.__version__}, Python {platform.python_version()}. Every run in a "
        f"fresh cache (TensorFlow's start-up in each worker process included). CPU s: this "
        f"process and its worker processes, user + system: on a machine shared with other "
        f"work the wall time is longer than CPU s / jobs.",
        "",
        "| study | runs | env steps | reached 199 | wall s | CPU s | load before | load after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row['study']} | {row['runs']} | {row['steps']:,} | {row['reached']} | "
                     f"{row['wall']:.0f} | {row['cpu']:.0f} | {row['load_before']:.1f} | "
                     f"{row['load_after']:.1f} |")
    lines += ["", f"The three studies ({sum(r['runs'] for r in rows[:3])} runs): "
              f"{studies_wall:.0f} s wall ({studies_wall / 60:.1f} min), {studies_cpu:.0f} CPU s "
              f"({studies_cpu / args.jobs / 60:.1f} min on {args.jobs} free cores). The lecture's "
              "PyTorch took 11.6 minutes for them (4:58, 4:00 and 2:36) on its author's machine.",
              ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
