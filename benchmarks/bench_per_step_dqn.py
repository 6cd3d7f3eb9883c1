"""Environment steps per second of TF-Agents' DQN and of our per-step Keras DQN at its settings.

    .venv/bin/python benchmarks/bench_per_step_dqn.py             # ~6 min on 2 idle cores
    .venv/bin/python benchmarks/bench_per_step_dqn.py --steps 3000 --rounds 1   # a quick look

The same work on both sides: CartPole-v1, ``--steps`` environment steps (100 random ones, then
one environment step and one training step on a batch of 64 each), no evaluation:

- ``tf_agents``: the TF-Agents tutorial's pipeline (:class:`TutorialPipeline`, the
  TFUniformReplayBuffer, its compiled driver and training step), evaluations switched off;
- ``keras``: our per-step core at :data:`homl_rl.per_step_dqn.TF_AGENTS_CARTPOLE`, its
  training step compiled by XLA, as ``python -m homl_rl compare`` runs it;
- ``keras (plain step)``: the same without XLA (the step ``tests/test_tf_agents_same_algorithm.py``
  finds equal to ``DqnAgent``'s bit for bit).

One run at a time, in this process, the agents in turn for ``--rounds`` rounds (so a change in
the machine's load touches every agent alike); each row records the 1-minute load average
before it. Wall seconds include building the agent and tracing its functions. Writes
benchmarks/results_per_step_dqn.md (included on the documentation site's pages, docs/).
"""

import argparse
import datetime
import os
import statistics
from dataclasses import replace
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homl_rl.environments import make_env  # noqa: E402
from homl_rl.per_step_dqn import TF_AGENTS_CARTPOLE, make_per_step_agent, train_per_step  # noqa: E402
from homl_rl.io import write_text  # noqa: E402
from homl_rl.stack import stack_line  # noqa: E402

RESULTS = Path(__file__).with_name("results_per_step_dqn.md")
SEED = 42


def run_tf_agents(n_steps):
    from homl_rl.tf_agents_pipeline.cartpole import TutorialConfig, TutorialPipeline

    config = TutorialConfig(env_name="CartPole-v1", num_iterations=n_steps - 100,
                            initial_collect_steps=100, eval_interval=10 * n_steps,
                            replay_buffer="tf_uniform", seed=SEED)
    pipeline = TutorialPipeline(config)
    pipeline.collect_initial()
    pipeline.train(evaluate=lambda: 0.0)
    pipeline.close()


def run_keras(n_steps, jit_compile):
    env = make_env("CartPole-v1", render_mode=None)
    agent = make_per_step_agent(replace(TF_AGENTS_CARTPOLE, seed=SEED), env, jit_compile=jit_compile)
    train_per_step(agent, env, n_steps=n_steps, reset_seed=SEED, progress=False)
    env.close()


AGENTS = {
    "tf_agents": ("TF-Agents DQN (tutorial, TFUniformReplayBuffer)", run_tf_agents),
    "keras": ("our Keras DQN at TF-Agents' settings (XLA step)",
              lambda n_steps: run_keras(n_steps, jit_compile=True)),
    "keras_plain": ("our Keras DQN at TF-Agents' settings (plain step)",
                    lambda n_steps: run_keras(n_steps, jit_compile=False)),
}


def timed(run, n_steps):
    load = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    run(n_steps)
    return time.perf_counter() - start, time.process_time() - cpu_start, load


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_100,
                        help="environment steps per run (default: the tutorial's 100 + 20,000)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--agents", nargs="+", default=list(AGENTS), choices=AGENTS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.steps < 200 or args.rounds < 1:
        parser.error("--steps must be at least 200 and --rounds at least 1")

    for name in args.agents:  # TensorFlow's start-up and first tracing, outside the timings
        AGENTS[name][1](200)
    runs = {name: [] for name in args.agents}
    for round_ in range(args.rounds):
        for name in args.agents:
            wall, cpu, load = timed(AGENTS[name][1], args.steps)
            runs[name].append((wall, cpu, load))
            print(f"round {round_ + 1} {name}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
                  f"{args.steps / wall:,.0f} env steps/s (load {load:.1f})", flush=True)

    reference = statistics.median(args.steps / wall for wall, _, _ in runs[args.agents[0]])
    lines = [
        "# Environment steps per second: TF-Agents' DQN and our Keras DQN at its settings",
        "",
        f"Measured {datetime.date.today()} by `benchmarks/bench_per_step_dqn.py` on "
        f"{stack_line()}, {os.cpu_count()} cores; {args.steps:,} environment steps per run "
        f"(100 random, then one environment step and one training step each), seed {SEED}, "
        f"no evaluation; one run at a time, the agents in turn, {args.rounds} round(s). "
        "Wall seconds include building the agent and tracing its compiled functions.",
        "",
        "| agent | env steps/s (median) | wall s per run | CPU s per run | 1-min load before each run "
        f"| vs {args.agents[0]} |",
        "|---|---:|---|---|---|---:|",
    ]
    for name in args.agents:
        rates = [args.steps / wall for wall, _, _ in runs[name]]
        lines.append(
            f"| {AGENTS[name][0]} | {statistics.median(rates):,.0f} | "
            f"{' / '.join(f'{wall:.1f}' for wall, _, _ in runs[name])} | "
            f"{' / '.join(f'{cpu:.1f}' for _, cpu, _ in runs[name])} | "
            f"{' / '.join(f'{load:.1f}' for _, _, load in runs[name])} | "
            f"{statistics.median(rates) / reference:.1f}x |")
    lines.append("")
    write_text(args.out, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
