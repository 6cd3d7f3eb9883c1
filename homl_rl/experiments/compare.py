"""The comparison: TF-Agents' DQN and our Keras DQNs on CartPole-v1, side by side.

``python -m homl_rl compare`` trains, on the same Gymnasium ``CartPole-v1``, for the same
budget of environment steps and the same seeds, and evaluates the same way, three
comparisons (:func:`groups`), each agent by its name in :data:`homl_rl.variants.VARIANTS` (but
TF-Agents' own, ``tf_agents``) and labelled as its row says:

1. **The implementations, at the same settings**: ``tf_agents``, the TF-Agents tutorial's
   pipeline (:mod:`homl_rl.tf_agents_pipeline.cartpole`: QNetwork 100-50, DqnAgent, Adam 1e-3, one training step per
   environment step after 100 random steps, the deterministic ``TFUniformReplayBuffer``),
   against ``tf_agents_dqn``, our per-step Keras DQN at those very settings
   (:data:`homl_rl.per_step_dqn.TF_AGENTS_CARTPOLE`; ``tests/test_tf_agents_same_algorithm.py``
   shows it computes DqnAgent's losses and weights, step for step). Its training step is
   compiled by XLA (``jit_compile``: within a few float32 ulps of the plain step).
2. **The notebook's hyper-parameters**: ``dqn``, ``fixed_q_targets``, ``double_dqn``,
   ``dueling_double_dqn``, the chapter's Keras DQN variants (:mod:`homl_rl.dqn`) in their
   fast path (Nadam, one training step per *episode*, epsilon decaying over 500 episodes,
   episodes cut at 200 steps during training). Other settings, not another implementation.
3. **A tuned DQN**: ``rl_zoo_dqn``, our per-step Keras DQN at rl-zoo3's published
   CartPole-v1 settings (:data:`homl_rl.per_step_dqn.RL_ZOO_CARTPOLE`): how fast a DQN
   solves CartPole here. ``benchmarks/bench_sb3.py`` runs Stable-Baselines3 at the same
   settings.

Every agent is evaluated the same way, every ``eval_interval`` environment steps: its
greedy policy plays the same ``n_eval_episodes`` episodes (episode ``i`` starts from
``reset(seed=eval_seed + i)``, up to CartPole-v1's 500 steps), all at once with one
batched forward pass per step. The per-step Keras agents are evaluated at exactly the
multiples of ``eval_interval``; the chapter's loop can only stop at the end of an episode,
so it is evaluated at the first episode end past each multiple; the TF-Agents runs at
iterations that are multiples of ``eval_interval``, i.e. 100 environment steps (its random
initial collection) later. All end with an evaluation at exactly the budget. The curves
are interpolated onto the multiples of ``eval_interval`` before averaging over seeds.
Wall-clock times include building the agent and leave the evaluations out.

Runs are cached (:data:`homl_rl.paths.COMPARE_CACHE`) and spread over processes, as the
DQN studies (:func:`homl_rl.run_cache.run_study`). This module returns results and the
table; :func:`homl_rl.figures.tf_agents.tf_agents_vs_keras_dqn_plot` draws the figure, which plots what
is reproducible from an empty cache (average return vs environment steps); the wall-clock
times, which change from machine to machine and run to run, go only to the results table.
"""

import os
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np

from homl_rl import dqn, per_step_dqn
from homl_rl.checks import check_positive_int
from homl_rl.dqn import DQNConfig, make_agent, train
from homl_rl.environments import make_env
from homl_rl.per_step_dqn import make_per_step_agent, train_per_step
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf
from homl_rl.paths import COMPARE_CACHE
from homl_rl.run_cache import run_study
from homl_rl.stack import stack_line
from homl_rl.variants import CHAPTER_VARIANTS, PER_STEP_VARIANTS, VARIANTS

TF_AGENTS, TF_AGENTS_LABEL = "tf_agents", "TF-Agents DQN (tutorial)"
"""TF-Agents' own agent (the tutorial's pipeline): the one agent that is not a row of
:data:`homl_rl.variants.VARIANTS`, and its label."""


def groups():
    """The three comparisons, in order, each a title and its agents: TF-Agents' tutorial and
    our Keras DQN at its settings; the chapter's variants (every chapter row of the table, in
    its order); our Keras DQN at rl-zoo3's settings."""
    return (("Same settings: two implementations", (TF_AGENTS, "tf_agents_dqn")),
            ("The notebook's hyper-parameters", tuple(CHAPTER_VARIANTS)),
            ("rl-zoo3's tuned settings", ("rl_zoo_dqn",)))


def all_agents():
    """What the comparison trains by default: every agent of :func:`groups`, in order."""
    return tuple(agent for _, agents in groups() for agent in agents)


def label(agent):
    """``agent``'s name in the figure and the table (its row's :attr:`~homl_rl.variants.Variant.label`)."""
    return TF_AGENTS_LABEL if agent == TF_AGENTS else VARIANTS[agent].label

ENV_ID = "CartPole-v1"


@dataclass(frozen=True)
class CompareConfig:
    """The comparison's budget and evaluation protocol."""
    env_steps: int = 50_000
    """environment steps per run (the notebook's 600 Keras episodes take ~55,000-67,000)"""
    eval_interval: int = 5_000
    """environment steps between two evaluations"""
    n_eval_episodes: int = 100
    """episodes per evaluation (the "average return over 100 episodes" of CartPole-v1)"""
    seeds: tuple = (42, 43, 44)
    """one run per agent and seed"""
    agents: tuple = field(default_factory=all_agents)
    """which agents to train (default: :func:`all_agents`)"""
    solved_return: float = 475.0
    """CartPole-v1's reward threshold"""
    eval_seed: int = 10_000
    """evaluation episode ``i`` starts from ``reset(seed=eval_seed + i)``"""

    def __post_init__(self):
        for name in ("env_steps", "eval_interval", "n_eval_episodes"):
            check_positive_int(name, getattr(self, name))
        if self.env_steps < 200:
            raise ValueError(f"env_steps must be at least 200 (TF-Agents collects 100 random "
                             f"steps first), got {self.env_steps}")
        if not self.seeds:
            raise ValueError("the comparison needs at least one seed")
        known = all_agents()
        unknown = [agent for agent in self.agents if agent not in known]
        if unknown or not self.agents:
            raise ValueError(f"agents must be among {', '.join(known)}, got {list(self.agents)}")


class GreedyEvaluator:
    """Play ``n_episodes`` fixed episodes with a greedy policy, one batched forward per step."""

    def __init__(self, n_episodes=100, eval_seed=10_000, env_id=ENV_ID):
        self.envs = [make_env(env_id, render_mode=None) for _ in range(n_episodes)]
        self.eval_seed = eval_seed

    def __call__(self, q_values):
        """The average return of ``argmax(q_values(observations))``; ``q_values`` maps (n, 4) to (n, 2)."""
        observations = np.stack([env.reset(seed=self.eval_seed + i)[0]
                                 for i, env in enumerate(self.envs)])
        returns = np.zeros(len(self.envs))
        active = np.arange(len(self.envs))
        while len(active):
            actions = np.asarray(q_values(observations[active])).argmax(axis=1)
            still_active = []
            for index, action in zip(active, actions):
                obs, reward, terminated, truncated, info = self.envs[index].step(int(action))
                observations[index] = obs
                returns[index] += reward
                if not (terminated or truncated):
                    still_active.append(index)
            active = np.array(still_active, dtype=int)
        return float(returns.mean())


def _compiled_q_values(network, first_output=False):
    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def q_values(observations):
        outputs = network(observations, training=False)
        return outputs[0] if first_output else outputs

    return lambda observations: q_values(observations.astype(np.float32)).numpy()


class TimedEvaluations:
    """The evaluations of one Keras run: ``evaluate(env_steps)`` runs :class:`GreedyEvaluator`
    on ``q_values`` and records ``(env_steps, average return, wall seconds since start without
    the evaluations)`` in ``points``."""

    def __init__(self, config, q_values, start):
        self.evaluator = GreedyEvaluator(config.n_eval_episodes, config.eval_seed)
        self.q_values, self.start = q_values, start
        self.points, self.seconds = [], 0.0

    def __call__(self, env_steps):
        eval_start = time.perf_counter()
        wall = eval_start - self.start - self.seconds
        value = self.evaluator(self.q_values)
        self.seconds += time.perf_counter() - eval_start
        self.points.append((env_steps, value, wall))

    def train_seconds(self):
        """Seconds since ``start``, the evaluations left out."""
        return time.perf_counter() - self.start - self.seconds


def _summary(points, config, train_seconds):
    env_steps, returns, wall = (list(values) for values in zip(*points))
    first = next((step for step, value in zip(env_steps, returns)
                  if value >= config.solved_return), None)
    return {"env_steps": env_steps, "returns": returns, "wall_seconds": wall,
            "final_return": returns[-1], "first_solved_step": first,
            "train_seconds": train_seconds, "steps_per_second": env_steps[-1] / train_seconds}


def run_tf_agents(seed, config):
    """One TF-Agents tutorial run of ``config.env_steps`` environment steps, evaluated (the one
    function that needs TF-Agents, and imports it)."""
    from homl_rl.tf_agents_pipeline.cartpole import TutorialConfig, TutorialPipeline

    tutorial = TutorialConfig(env_name=ENV_ID, num_iterations=config.env_steps - 100,
                              initial_collect_steps=100, eval_interval=config.eval_interval,
                              replay_buffer="tf_uniform", seed=seed)
    evaluator = GreedyEvaluator(config.n_eval_episodes, config.eval_seed)
    start = time.perf_counter()
    pipeline = TutorialPipeline(tutorial)
    pipeline.collect_initial()
    setup = time.perf_counter() - start
    q_values = _compiled_q_values(pipeline.q_net, first_output=True)
    history = pipeline.train(evaluate=lambda: evaluator(q_values))
    train_seconds = setup + history["train_seconds"] - history["eval_seconds"]
    points = [(steps, value, setup + wall) for steps, value, wall
              in zip(history["env_steps"], history["returns"], history["wall_seconds"])]
    points.append((config.env_steps, evaluator(q_values), train_seconds))
    pipeline.close()
    return _summary(points, config, train_seconds)


def run_keras_dqn(variant, seed, config):
    """One run of a Keras variant for ``config.env_steps`` environment steps, evaluated.

    :func:`homl_rl.dqn.train`'s loop with a budget of ``config.env_steps`` environment
    steps instead of 600 episodes, evaluating the agent after the first episode that
    ends past each multiple of ``eval_interval`` and at the budget. The agent is
    evaluated with the weights it has then (as for TF-Agents), not the best ones that
    ``train`` restores at the end.
    """
    # the budget ends the run, not the episodes
    dqn_config = replace(DQNConfig(), n_episodes=config.env_steps, seed=seed)
    start = time.perf_counter()
    env = make_env(ENV_ID, render_mode=None)
    agent = make_agent(variant, env, dqn_config, engine="fast")
    evaluate = TimedEvaluations(config, _compiled_q_values(agent.model), start)
    next_eval, n_episodes = config.eval_interval, 0

    def after_episode(episode, env_steps):
        nonlocal next_eval, n_episodes
        n_episodes = episode + 1
        if env_steps >= config.env_steps or env_steps >= next_eval:
            evaluate(env_steps)
            next_eval = (env_steps // config.eval_interval + 1) * config.eval_interval

    evaluate(0)
    train(agent, env, dqn_config, progress=False, max_env_steps=config.env_steps,
          callback=after_episode)
    env.close()
    summary = _summary(evaluate.points, config, evaluate.train_seconds())
    summary["episodes"] = n_episodes
    return summary


def run_per_step_dqn(agent_name, seed, config):
    """One run of a per-step Keras agent (a per-step row of :data:`homl_rl.variants.VARIANTS`,
    with its preset) for ``config.env_steps``
    environment steps, its XLA-compiled training step, evaluated at step 0, at every multiple
    of ``eval_interval`` and at the budget."""
    preset = replace(per_step_dqn.PRESETS[agent_name], seed=seed)
    start = time.perf_counter()
    env = make_env(ENV_ID, render_mode=None)
    agent = make_per_step_agent(preset, env, jit_compile=True)
    env.action_space.seed(seed)
    evaluate = TimedEvaluations(config, _compiled_q_values(agent.model), start)

    def after_step(agent, env_steps, history):
        if env_steps % config.eval_interval == 0 or env_steps == config.env_steps:
            evaluate(env_steps)

    evaluate(0)
    history = train_per_step(agent, env, n_steps=config.env_steps, reset_seed=seed, progress=False,
                             step_callback=after_step)
    env.close()
    summary = _summary(evaluate.points, config, evaluate.train_seconds())
    summary["episodes"] = len(history.episode_rewards)
    return summary


def compare_run(agent, seed, env_steps, eval_interval, n_eval_episodes, eval_seed,
                solved_return=475.0):
    """One run of the comparison (module-level and JSON in, JSON out: cacheable, spawnable)."""
    config = CompareConfig(env_steps=env_steps, eval_interval=eval_interval,
                           n_eval_episodes=n_eval_episodes, seeds=(seed,), agents=(agent,),
                           solved_return=solved_return, eval_seed=eval_seed)
    set_seeds(seed)
    if agent == TF_AGENTS:
        result = run_tf_agents(seed, config)
    elif agent in PER_STEP_VARIANTS:
        result = run_per_step_dqn(agent, seed, config)
    else:
        result = run_keras_dqn(agent, seed, config)
    return dict(result, agent=agent, seed=seed)


def run_comparison(config=CompareConfig(), jobs=None, cache_dir=COMPARE_CACHE, progress=True):
    """Every (agent, seed) run of ``config``, cached, ``jobs`` processes at a time. A run's
    cache key holds the code it runs: TF-Agents' pipeline too when ``config`` trains it."""
    sources = [sys.modules[__name__], dqn, per_step_dqn]
    if TF_AGENTS in config.agents:
        from homl_rl.tf_agents_pipeline import cartpole

        sources.append(cartpole)
    params = dict(env_steps=config.env_steps, eval_interval=config.eval_interval,
                  n_eval_episodes=config.n_eval_episodes, eval_seed=config.eval_seed,
                  solved_return=config.solved_return)
    runs = [dict(params, agent=agent, seed=seed) for agent in config.agents
            for seed in config.seeds]
    return run_study(compare_run, runs, jobs=jobs, cache_dir=cache_dir, progress=progress,
                     sources=tuple(sources))


def _grid(config):
    return list(range(0, config.env_steps, config.eval_interval)) + [config.env_steps]


def aggregate(results, config):
    """Per agent: mean and spread (min, max) over seeds of the evaluation curves, and the table."""
    grid = _grid(config)
    summary = {}
    for agent in config.agents:
        runs = [run for run in results if run["agent"] == agent]
        # evaluations happen at (or just past) the grid's steps: interpolate onto it
        returns = np.array([np.interp(grid, run["env_steps"], run["returns"]) for run in runs])
        wall = np.array([np.interp(grid, run["env_steps"], run["wall_seconds"]) for run in runs])
        finals = np.array([run["final_return"] for run in runs])
        summary[agent] = {
            "env_steps": grid, "mean": returns.mean(axis=0), "min": returns.min(axis=0),
            "max": returns.max(axis=0), "wall_seconds": wall.mean(axis=0),
            "final_return_mean": float(finals.mean()), "final_return_std": float(finals.std()),
            "first_solved_steps": [run["first_solved_step"] for run in runs],
            "train_seconds": float(np.mean([run["train_seconds"] for run in runs])),
            "steps_per_second": float(np.mean([run["steps_per_second"] for run in runs])),
            "seeds": [run["seed"] for run in runs],
        }
    return summary


def comparison_table(summary, config):
    """The Markdown table, one block per comparison (:func:`groups`): final return, first
    step at 475, wall time, env steps/s."""
    lines = [
        f"| agent | final average return ({config.n_eval_episodes} episodes), mean ± std "
        f"| first env step at {config.solved_return:g} (per seed) | wall time (s) | env steps/s |",
        "|---|---:|---|---:|---:|",
    ]
    for title, agents in groups():
        rows = [agent for agent in agents if agent in summary]
        if rows:
            lines.append(f"| **{title}** | | | | |")
        for agent in rows:
            row = summary[agent]
            firsts = " / ".join(f"{step:,}" if step is not None else "never"
                                for step in row["first_solved_steps"])
            lines.append(f"| {label(agent)} | {row['final_return_mean']:.1f} ± "
                         f"{row['final_return_std']:.1f} | {firsts} | "
                         f"{row['train_seconds']:.0f} | {row['steps_per_second']:,.0f} |")
    return "\n".join(lines)


WALL_CLOCK_KEYS = ("wall_seconds", "train_seconds", "steps_per_second")
"""What a run measures of the machine rather than of the agent (the results table's)."""


def reproducible_runs(results):
    """The runs without their wall-clock measurements: the same from any (empty) cache."""
    return [{key: value for key, value in run.items() if key not in WALL_CLOCK_KEYS}
            for run in results]


def results_markdown(table, config):
    """The results file the README quotes."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return "\n".join([
        "# TF-Agents' DQN and our Keras DQNs on CartPole-v1",
        "",
        f"`python -m homl_rl compare` (budget {config.env_steps:,} environment steps per run, "
        f"seeds {', '.join(map(str, config.seeds))}, evaluation every "
        f"{config.eval_interval:,} steps on {config.n_eval_episodes} fixed episodes). "
        f"Measured on {stack_line()}, {os.cpu_count()} cores"
        + (f", load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) "
           "when the table was written" if load else "")
        + "; runs of different seeds in parallel processes. Wall time and env steps/s "
        "leave the evaluations out.",
        "",
        table,
        "",
        "- **Same settings**: TF-Agents' tutorial agent and our Keras DQN at its settings "
        "(one training step per environment step, Adam 1e-3, batch 64, a 100,000-step buffer, "
        "a (100, 50) network, gamma 1, the target network copied after every step). Fed the "
        "same batches from the same weights, they compute the same losses and weights "
        "(`tests/test_tf_agents_same_algorithm.py`); here each draws its own random numbers. "
        "Our training step is compiled by XLA.",
        "- **The notebook's hyper-parameters**: the chapter's variants train once per episode "
        "(Nadam, batch 32, from a 2,000-step buffer), so they are much cheaper per step.",
        "- **rl-zoo3's settings**: our Keras DQN at the hyper-parameters rl-zoo3 publishes for "
        "CartPole-v1 (`benchmarks/results_sb3.md` sets Stable-Baselines3 beside it).",
        "",
        "Plot: `figures/tf_agents_vs_keras_dqn_plot.png`.",
        "",
    ])
