"""Time the policy-gradient trainings' engines: the notebook's (one eager GradientTape
a step) and the fast one (NumPy replica), and check they give the same numbers.

    .venv/bin/python benchmarks/bench_policy_gradients.py            # ~15 min
    .venv/bin/python benchmarks/bench_policy_gradients.py --quick    # ~1 min, shorter runs

Writes the table to benchmarks/results_policy_gradients.md (included on the documentation site's pages, docs/).

The lander's notebook engine would take hours for the full 200 iterations: it is
timed on the first ``--lander-exact-iterations`` iterations, and its full-run time
is estimated from its measured time per environment step times the full run's
step count (the same for both engines: same actions, same episodes).
"""

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homl_rl.policy_gradients import train_lander, train_policy_gradients  # noqa: E402
from homl_rl.tf_setup import tf  # noqa: E402

RESULTS = Path(__file__).with_name("results_policy_gradients.md")


def timed_run(train, **kwargs):
    """``train(**kwargs)``, its wall time, and the environment steps of each iteration."""
    steps = []
    start = time.perf_counter()
    mean_rewards, model = train(progress=False, callback=lambda it, rewards: steps.append(
        sum(map(len, rewards))), **kwargs)
    return mean_rewards, model, time.perf_counter() - start, steps


def same_weights(model_a, model_b):
    return all(a.tobytes() == b.tobytes() for a, b in zip(model_a.get_weights(), model_b.get_weights()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="CartPole 20 iterations, lander 20 (exact: 2) instead of the full runs")
    parser.add_argument("--lander-exact-iterations", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    cartpole_iterations = 20 if args.quick else 150
    lander_iterations = 20 if args.quick else 200
    lander_exact = 2 if args.quick else args.lander_exact_iterations

    rows = []
    print(f"CartPole, {cartpole_iterations} iterations, notebook engine...", flush=True)
    exact = timed_run(train_policy_gradients, n_iterations=cartpole_iterations, engine="notebook")
    print(f"  {exact[2]:.1f} s", flush=True)
    fast = timed_run(train_policy_gradients, n_iterations=cartpole_iterations, engine="fast")
    print(f"  fast: {fast[2]:.1f} s", flush=True)
    identical = exact[0] == fast[0] and same_weights(exact[1], fast[1])
    for name, run in (("notebook", exact), ("fast", fast)):
        rows.append(("CartPole-v1", name, cartpole_iterations, sum(run[3]), run[2], "measured",
                     "yes, all iterations + final weights" if identical else "NO"))

    print(f"LunarLander-v3, {lander_exact} iterations, notebook engine...", flush=True)
    exact = timed_run(train_lander, n_iterations=lander_exact, engine="notebook")
    print(f"  {exact[2]:.1f} s", flush=True)
    fast_short = timed_run(train_lander, n_iterations=lander_exact, engine="fast")
    identical = exact[0] == fast_short[0] and same_weights(exact[1], fast_short[1])
    print(f"LunarLander-v3, {lander_iterations} iterations, fast engine...", flush=True)
    fast = timed_run(train_lander, n_iterations=lander_iterations, engine="fast")
    print(f"  {fast[2]:.1f} s", flush=True)
    per_step = exact[2] / sum(exact[3])
    rows.append(("LunarLander-v3", "notebook", lander_iterations, sum(fast[3]),
                 per_step * sum(fast[3]),
                 f"estimated ({exact[2]:.0f} s measured for {lander_exact} it.)",
                 f"yes, first {lander_exact} iterations + weights" if identical else "NO"))
    rows.append(("LunarLander-v3", "fast", lander_iterations, sum(fast[3]), fast[2], "measured",
                 "(see above)"))

    lines = [
        "# Policy gradients: notebook engine vs fast engine",
        "",
        f"`{' '.join(['python', 'benchmarks/bench_policy_gradients.py'] + (argv or sys.argv[1:]))}`, "
        f"{datetime.date.today():%Y-%m}, TensorFlow {tf.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPU cores, shared with other jobs while it ran (times are wall-clock, "
        "so they vary from run to run).",
        "",
        "| environment | engine | iterations | env steps | wall time | per step | how | same numbers as the notebook engine |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for env_id, engine, iterations, steps, seconds, how, same in rows:
        lines.append(f"| {env_id} | {engine} | {iterations} | {steps:,} | {seconds:,.0f} s "
                     f"({seconds / 60:.1f} min) | {seconds / steps * 1e3:.2f} ms | {how} | {same} |")
    cart = [r for r in rows if r[0] == "CartPole-v1"]
    land = [r for r in rows if r[0] == "LunarLander-v3"]
    lines += ["", f"Speed-up: CartPole {cart[0][4] / cart[1][4]:.0f}×, "
                  f"LunarLander {land[0][4] / land[1][4]:.0f}× (estimated).", "",
              "The notebook engine is the notebook's cells: run from the notebook's text in a "
              "scratch folder (`tf.random.set_seed(s)` read as `set_seeds(s)`), they printed the "
              "same mean rewards for all 150 CartPole iterations and the lander's first 12, "
              "with the same final weights, bit for bit.", "",
              "The notebook engine also grows in memory: TensorFlow caches one kernel per eager "
              "random op seed, one per step (about 44 KB each, never freed): 5 GB for the CartPole "
              "run, some 80 GB for the lander's, which is one more reason its full run is "
              "estimated rather than measured.", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
