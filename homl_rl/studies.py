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

from homl_rl.plotting import atomic_write
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


def run_cached(run_fn, params, cache_dir=CACHE_DIR):
    """``run_fn(**params)``, or its cached result if this exact run already finished."""
    path = _cache_path(cache_dir, run_fn, params)
    if path.exists():
        return json.loads(path.read_text())["result"]
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
            results[index] = json.loads(path.read_text())["result"]
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
