"""The policy-gradient trainings' default engine on this machine's kernel class: which
one-row MatMul replica the start-up proof picks, and 12 CartPole iterations with the
default engine against the notebook engine (time, and the same numbers?).

    .venv-3.11/bin/python benchmarks/bench_default_engine.py                # ~2 min
    .venv-3.11/bin/python benchmarks/bench_default_engine.py --isa AVX2     # also under
                                                # ONEDNN_MAX_CPU_ISA=AVX2 (an AVX-512 machine)

Each setting runs in a process of its own (``ONEDNN_MAX_CPU_ISA`` acts before TensorFlow
starts). Writes benchmarks/results_default_engine.md, with the CPU model, each process's
kernel class and the 1-minute load average before each run.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from results_file import write_results

RESULTS = Path(__file__).with_name("results_default_engine.md")
ITERATIONS = 12


def measure():
    """In this process: the kernel class, the replica the proof picks, two timed runs."""
    from homl_rl.engines.policy_gradients import proven_row_matmul
    from homl_rl.kernels import kernels_record
    from homl_rl.policy_gradients import train_policy_gradients

    def timed(engine):
        load = os.getloadavg()[0]
        start = time.perf_counter()
        result = train_policy_gradients(n_iterations=ITERATIONS, engine=engine, progress=False)
        return (time.perf_counter() - start, load, result.mean_rewards,
                [w.tobytes().hex() for w in result.model.get_weights()])

    start = time.perf_counter()
    row = proven_row_matmul("CartPole-v1")
    proof_seconds = time.perf_counter() - start
    default, notebook = timed(None), timed("notebook")
    return {"kernels": kernels_record(), "replica": row.kernel_class if row else None,
            "proof_seconds": proof_seconds, "default": default[:3], "notebook": notebook[:3],
            "same": default[2:] == notebook[2:]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isa", nargs="*", default=[],
                        help="ONEDNN_MAX_CPU_ISA values to run under too (e.g. AVX2)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure()))
        return

    from homl_rl.stack import stack_line

    rows = []
    for isa in [None, *args.isa]:
        env = dict(os.environ)
        env.pop("ONEDNN_MAX_CPU_ISA", None)
        if isa:
            env["ONEDNN_MAX_CPU_ISA"] = isa
        print(f"ONEDNN_MAX_CPU_ISA={isa or '(unset)'} ...", flush=True)
        out = subprocess.run([sys.executable, __file__, "--measure"], env=env, check=True,
                             capture_output=True, text=True).stdout
        rows.append((isa, json.loads(out.strip().splitlines()[-1])))

    lines = [
        "# Policy gradients: the default engine on this machine's kernel class", "",
        f"`python benchmarks/bench_default_engine.py{' --isa ' + ' '.join(args.isa) if args.isa else ''}`"
        f", {time.strftime('%Y-%m-%d')}, {stack_line()}, {os.cpu_count()} cores; "
        f"`train_policy_gradients(n_iterations={ITERATIONS})` at the notebook's seed, the default "
        "engine (`engine=None`: the fast one where the start-up proof holds) then the notebook "
        "engine, one process per setting; wall-clock times, load = 1-minute load average before "
        "each run.", "",
        "| ONEDNN_MAX_CPU_ISA | kernel class (families where mixed) | replica the proof picked | "
        "proof | default engine | notebook engine | same mean rewards and weights |",
        "|---|---|---|---:|---:|---:|---|"]
    for isa, r in rows:
        families = r["kernels"].get("families")
        kernels = r["kernels"]["class"] + (
            " (" + ", ".join(f"{f}: {c}" for f, c in families.items()) + ")" if families else "")
        (d_s, d_load, _), (n_s, n_load, _) = r["default"], r["notebook"]
        lines.append(f"| {isa or '(unset)'} | {kernels} | {r['replica'] or 'none: notebook engine'} "
                     f"| {r['proof_seconds']:.1f} s | {d_s:.1f} s (load {d_load:.1f}) "
                     f"| {n_s:.1f} s (load {n_load:.1f}) | {'yes' if r['same'] else 'NO'} |")
    lines += ["", f"Mean rewards of the {ITERATIONS} iterations: "
                  f"{', '.join(f'{m:g}' for m in rows[0][1]['default'][2])}."]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
