"""The DQN lecture's experiments (seed ``003_…``), done with our Keras DQN.

- Hyper-parameter studies: replay-buffer capacity, target-update period, batch size,
  several seeds per value. Every run is one call of a module-level, global-state-free
  function, so runs go to separate processes (``jobs``), and each finished run is
  cached on disk under a key made of its parameters and seed: an interrupted study
  picks up where it stopped, and a changed parameter reruns only its own cells.
- Q-value heat maps of a trained DQN over (pole angle × pole angular velocity), and
  the lecture's epsilon action histograms.

Scaling out: a run is ``run_fn(**params)`` returning JSON-able results, with no
global state, so the same function can be mapped over many machines by an existing
engine, e.g. ``ray.remote(run_fn)`` or ``dask.distributed.Client.map(run_fn, ...)``,
pointing ``cache_dir`` at shared storage; :func:`run_study` is the single-machine
version of that map.
"""

import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from homl_rl.figures import register
from homl_rl.io import atomic_write
from homl_rl.progress import progress_bar

CACHE_DIR = Path(".cache") / "studies"
"""Where finished runs are kept (one JSON file per run)."""


def run_key(run_fn, params):
    """A stable key for one run: the function's qualified name and its sorted parameters."""
    name = f"{run_fn.__module__}.{run_fn.__qualname__}"
    text = json.dumps({"run_fn": name, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _cache_path(cache_dir, run_fn, params):
    return Path(cache_dir) / f"{run_key(run_fn, params)}.json"


def _cached_result(path):
    return json.loads(Path(path).read_text())["result"]


def run_cached(run_fn, params, cache_dir=CACHE_DIR):
    """``run_fn(**params)``, or its cached result if this exact run already finished."""
    path = _cache_path(cache_dir, run_fn, params)
    if path.exists():
        return _cached_result(path)
    result = run_fn(**params)
    text = json.dumps({"params": params, "result": result}, sort_keys=True)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return result


def expand_grid(grid, seeds, fixed=None):
    """Every run of a study: one per (value of the studied parameter, seed).

    ``grid`` maps one parameter name to its values, e.g. ``{"batch_size": [16, 32, 64]}``.
    """
    if len(grid) != 1:
        raise ValueError(f"a study varies exactly one parameter, got {list(grid)}")
    (name, values), = grid.items()
    values, seeds = list(values), list(seeds)
    if not values:
        raise ValueError(f"the grid of {name!r} is empty")
    if not seeds:
        raise ValueError("a study needs at least one seed")
    return [dict(fixed or {}, **{name: value, "seed": seed}) for value in values for seed in seeds]


def default_jobs():
    """As many processes as there are cores for us."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_study(run_fn, runs, jobs=None, cache_dir=CACHE_DIR, progress=True):
    """Run every parameter dict of ``runs`` (skipping cached ones); return results in order.

    Runs that are not cached go to ``jobs`` worker processes (spawned, not forked:
    TensorFlow does not survive a fork). Each result is cached as soon as it is done,
    so an interrupted study loses at most the runs in flight.
    """
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    results = [None] * len(runs)
    todo = []
    for index, params in enumerate(runs):
        path = _cache_path(cache_dir, run_fn, params)
        if path.exists():
            results[index] = _cached_result(path)
        else:
            todo.append(index)
    bar = progress_bar(total=len(runs), initial=len(runs) - len(todo), desc=run_fn.__name__,
                       progress=progress, unit="run")
    if jobs == 1 or len(todo) <= 1:
        for index in todo:
            results[index] = run_cached(run_fn, runs[index], cache_dir)
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context) as pool:
            futures = {pool.submit(run_cached, run_fn, runs[index], cache_dir): index
                       for index in todo}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
    bar.close()
    return results


def q_value_grid(q_values_fn, cart_position=0.0, cart_velocity=0.0, n_angles=100,
                 n_angular_velocities=100, max_angle=0.418, max_angular_velocity=np.radians(50)):
    """The lecture's heat-map data: Q-values over (pole angle × pole angular velocity).

    ``q_values_fn`` maps a ``(n, 4)`` batch of states to ``(n, n_actions)`` Q-values
    (e.g. a Keras model's ``predict``). The cart's position and velocity are fixed.
    Returns ``angles``, ``angular_velocities`` and ``Q_values`` of shape
    ``(n_actions, n_angles, n_angular_velocities)``.
    """
    angles = np.linspace(-max_angle, max_angle, n_angles)
    angular_velocities = np.linspace(-max_angular_velocity, max_angular_velocity, n_angular_velocities)
    angle_grid, velocity_grid = np.meshgrid(angles, angular_velocities, indexing="ij")
    states = np.stack([np.full(angle_grid.size, cart_position), np.full(angle_grid.size, cart_velocity),
                       angle_grid.ravel(), velocity_grid.ravel()], axis=1).astype(np.float32)
    Q_values = np.asarray(q_values_fn(states))
    if Q_values.ndim != 2 or Q_values.shape[0] != len(states):
        raise ValueError(f"q_values_fn must return shape ({len(states)}, n_actions), got {Q_values.shape}")
    Q_values = Q_values.T.reshape(-1, n_angles, n_angular_velocities)
    return {"angles": angles, "angular_velocities": angular_velocities, "Q_values": Q_values,
            "greedy_actions": Q_values.argmax(axis=0)}


def epsilon_action_counts(policy, state, epsilons=(0.0, 0.5, 1.0), n_draws=100, n_actions=2, seed=42):
    """The lecture's epsilon histograms: how often ``policy(state, epsilon)`` picks each action."""
    counts = {}
    for epsilon in epsilons:
        np.random.seed(seed)
        actions = [int(policy(state, epsilon)) for _ in range(n_draws)]
        counts[epsilon] = np.bincount(actions, minlength=n_actions)
    return counts


# --- the lecture's studies with our DQN ---------------------------------------------------

STUDY_VARIANT = "fixed_q_targets"
"""The lecture's DQN has a target network, so every study trains our fixed-Q-targets DQN."""

FULL_GRIDS = {
    "replay_buffer_size": [int(i) for i in np.linspace(500, 100000, 7)],
    "target_update_period": [int(i) for i in np.linspace(3, 200, 7)],
    "batch_size": [int(i) for i in np.linspace(10, 1000, 7)],
}
"""The lecture's ranges (``np.linspace(..., 7)`` each); the target update period is in
episodes, as in our (and the lecture's) training loop."""

FULL_SEEDS = (0, 1, 2)
"""The lecture runs each value 3 times."""

QUICK_GRIDS = {
    "replay_buffer_size": [500, 2000, 100000],
    "target_update_period": [3, 50, 200],
    "batch_size": [10, 32, 1000],
}
"""What ``make figures`` runs: each range's ends and the notebook's default."""

QUICK_SEEDS = (0, 1)

STUDY_FIGURES = {"replay_buffer_size": "buffer_size_study_plot",
                 "target_update_period": "target_update_study_plot",
                 "batch_size": "batch_size_study_plot"}

LABELS = {"replay_buffer_size": "replay buffer capacity",
          "target_update_period": "target update period (episodes)",
          "batch_size": "batch size"}

SCORE_EPISODES = 50
"""score: the mean sum of rewards over the last 50 episodes"""
CONVERGENCE_WINDOW, CONVERGENCE_THRESHOLD = 20, 150
"""converged: the first episode where the last 20 episodes average 150 or more"""


def episodes_to_convergence(sums_of_rewards, window=CONVERGENCE_WINDOW,
                            threshold=CONVERGENCE_THRESHOLD):
    """The first episode at which the mean of the last ``window`` sums reaches ``threshold``,
    or ``None`` if it never does."""
    sums = np.asarray(sums_of_rewards, dtype=float)
    if len(sums) < window:
        return None
    means = np.convolve(sums, np.ones(window) / window, mode="valid")
    reached = np.flatnonzero(means >= threshold)
    return int(reached[0] + window - 1) if len(reached) else None


def dqn_study_run(seed, n_episodes=600, variant=STUDY_VARIANT, **hyperparameters):
    """One run of a study: train our DQN (fast engine) and summarise it. No global state."""
    from homl_rl.dqn import train_dqn

    steps, model = train_dqn(variant, n_episodes, seed=seed, progress=False, **hyperparameters)
    sums_of_rewards = [step + 1 for step in steps]  # the notebook records the 0-based last step
    return {"sums_of_rewards": sums_of_rewards,
            "score": float(np.mean(sums_of_rewards[-SCORE_EPISODES:])),
            "episodes_to_convergence": episodes_to_convergence(sums_of_rewards)}


def run_dqn_study(parameter, values=None, seeds=QUICK_SEEDS, n_episodes=600, jobs=None,
                  cache_dir=CACHE_DIR, progress=True):
    """Run the study of ``parameter`` (one of :data:`FULL_GRIDS`) over ``values`` × ``seeds``."""
    if parameter not in FULL_GRIDS:
        raise ValueError(f"parameter must be one of {', '.join(FULL_GRIDS)}, got {parameter!r}")
    values = QUICK_GRIDS[parameter] if values is None else values
    runs = expand_grid({parameter: values}, seeds, fixed={"n_episodes": n_episodes})
    return runs, run_study(dqn_study_run, runs, jobs=jobs, cache_dir=cache_dir, progress=progress)


def study_plot(parameter, runs, results, out_dir):
    """The lecture's three plots for one study: return over training per value, final score
    vs value, episodes to convergence vs value (mean and spread over seeds)."""
    import matplotlib.pyplot as plt

    from homl_rl.plotting import save_data, save_fig

    values = list(dict.fromkeys(run[parameter] for run in runs))
    by_value = {value: [result for run, result in zip(runs, results) if run[parameter] == value]
                for value in values}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    summary = {}
    for value, value_results in by_value.items():
        curves = np.array([result["sums_of_rewards"] for result in value_results], dtype=float)
        smooth = np.array([np.convolve(curve, np.ones(10) / 10, mode="valid") for curve in curves])
        axes[0].plot(np.arange(9, curves.shape[1]), smooth.mean(axis=0), label=str(value))
        scores = [result["score"] for result in value_results]
        converged = [result["episodes_to_convergence"] for result in value_results]
        summary[str(value)] = {"scores": scores, "episodes_to_convergence": converged}
    axes[0].set_xlabel("Episode")
    axes[0].set_ylabel("Sum of rewards (10-episode mean)")
    axes[0].legend(title=LABELS[parameter], fontsize=9, title_fontsize=9)
    score_means = [np.mean(summary[str(v)]["scores"]) for v in values]
    score_stds = [np.std(summary[str(v)]["scores"]) for v in values]
    axes[1].errorbar(values, score_means, yerr=score_stds, marker="o", capsize=4)
    axes[1].set_ylabel(f"score (mean of last {SCORE_EPISODES} episodes)")
    n_episodes = len(results[0]["sums_of_rewards"])
    convergence = [[n_episodes if c is None else c for c in summary[str(v)]["episodes_to_convergence"]]
                   for v in values]
    axes[2].errorbar(values, [np.mean(c) for c in convergence], yerr=[np.std(c) for c in convergence],
                     marker="o", capsize=4)
    axes[2].axhline(n_episodes, color="k", linestyle="--", linewidth=1)
    axes[2].set_ylabel("episodes to convergence\n(dashed: never)")
    for ax in axes[1:]:
        ax.set_xlabel(LABELS[parameter])
    for ax in axes:
        ax.grid(True)
    fig_id = STUDY_FIGURES[parameter]
    save_fig(fig_id, fig=fig, out_dir=out_dir)
    save_data(fig_id, {"parameter": parameter, "variant": STUDY_VARIANT, "values": values,
                       "seeds": sorted({run["seed"] for run in runs}), "n_episodes": n_episodes,
                       "score": f"mean sum of rewards over the last {SCORE_EPISODES} episodes",
                       "convergence": f"first episode whose last {CONVERGENCE_WINDOW} episodes "
                                      f"average >= {CONVERGENCE_THRESHOLD}",
                       "summary": summary}, out_dir=out_dir)


def _register_study(parameter):
    def make(out_dir):
        runs, results = run_dqn_study(parameter)
        study_plot(parameter, runs, results, out_dir)

    register(STUDY_FIGURES[parameter],
             f"study of the {LABELS[parameter]} (quick grid {QUICK_GRIDS[parameter]}, "
             f"seeds {list(QUICK_SEEDS)}; full grid: `homl-rl studies --full`)")(make)


for _parameter in STUDY_FIGURES:
    _register_study(_parameter)
del _parameter


@register("q_value_heatmap_plot", "the trained DQN's Q-values over pole angle x angular velocity, "
                                  "their difference and the greedy action")
def q_value_heatmap_plot(out_dir):
    """The lecture's heat maps, for the DQN of Figure 18-10 (cart at rest at the centre)."""
    import matplotlib.pyplot as plt

    from homl_rl.dqn import trained_dqn
    from homl_rl.plotting import save_data, save_fig

    rewards, agent = trained_dqn("dqn")
    data = q_value_grid(lambda states: agent.model.predict(states, verbose=0))
    Q_values = data["Q_values"]
    extent = [np.degrees(data["angular_velocities"][0]), np.degrees(data["angular_velocities"][-1]),
              np.degrees(data["angles"][0]), np.degrees(data["angles"][-1])]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.5))
    panels = [(Q_values[0], "Q-value of action 0 (left)", "viridis"),
              (Q_values[1], "Q-value of action 1 (right)", "viridis"),
              (Q_values[0] - Q_values[1], "Q(left) - Q(right)", "seismic"),
              (data["greedy_actions"], "greedy action (1 = right)", "coolwarm")]
    for ax, (values, title, cmap) in zip(axes, panels):
        if cmap == "seismic":
            limit = np.abs(values).max()
            image = ax.imshow(values, origin="lower", aspect="auto", extent=extent, cmap=cmap,
                              vmin=-limit, vmax=limit)
        else:
            image = ax.imshow(values, origin="lower", aspect="auto", extent=extent, cmap=cmap)
        fig.colorbar(image, ax=ax)
        ax.set_title(title, fontsize=12)
        ax.set_xlabel("pole angular velocity (°/s)", fontsize=11)
    axes[0].set_ylabel("pole angle (°)", fontsize=11)
    save_fig("q_value_heatmap_plot", fig=fig, out_dir=out_dir)
    save_data("q_value_heatmap_plot", dict(data, cart_position=0.0, cart_velocity=0.0,
                                           model="trained_dqn('dqn'), seed 42"), out_dir=out_dir)


@register("epsilon_actions_plot", "the lecture's histograms: actions of the epsilon-greedy policy "
                                  "for epsilon 0, 0.5 and 1 (100 draws each)")
def epsilon_actions_plot(out_dir):
    """The lecture's cell "Distribution of the actions for epsilon=…", with our trained DQN."""
    import matplotlib.pyplot as plt

    from homl_rl.dqn import trained_dqn
    from homl_rl.plotting import save_data, save_fig

    rewards, agent = trained_dqn("dqn")
    state = np.zeros(4, dtype=np.float32)  # the lecture's sample state
    counts = epsilon_action_counts(agent.epsilon_greedy_policy, state)
    fig, axes = plt.subplots(len(counts), 1, figsize=(8, 6), sharex=True)
    for ax, (epsilon, action_counts) in zip(axes, counts.items()):
        ax.bar(["left (0)", "right (1)"], action_counts)
        ax.set_title(f"Distribution of the actions for epsilon={epsilon}", fontsize=12)
        ax.set_ylim(0, 100)
    save_fig("epsilon_actions_plot", fig=fig, out_dir=out_dir)
    save_data("epsilon_actions_plot", {"state": state, "n_draws": 100, "seed": 42,
                                       "counts": {str(e): c for e, c in counts.items()}},
              out_dir=out_dir)
