"""The DQN lecture's experiments (lecture 003), with two agents.

- **The lecture's studies with the lecture's agent** (:mod:`homl_rl.lecture_dqn`, its
  studies' parameter set, 200 episodes a run): buffer capacity, target-update period (in
  episodes) and batch size over the lecture's grids (7 values x 3 seeds), and the exercise's
  grid search over buffer capacity x target-update period (4 x 4 values, 2 seeds):
  :func:`run_lecture_study`. Each run gives the
  lecture's ``run_one`` record: episodes taken (to the 199 evaluation, or 200), final score,
  the loss of every step and the evaluations' mean returns.
- **The same three studies with the chapter's fixed-Q-targets DQN** (one training step per
  episode, 600 episodes): :func:`run_dqn_study`. Its agent is another one and may well reach
  another conclusion; its figures say so.
- Each study is a row of :data:`homl_rl.experiments.STUDIES` (its grids, seeds, run and
  figure); :func:`run_named_study` runs a row, on its quick or full grid.
- Hyper-parameter studies run the same way: several seeds per value. Every run is one call
  of a module-level function of its parameters alone (it seeds the process's generators
  itself), so runs go to separate processes (``jobs``), and each finished run is
  cached on disk (:func:`homl_rl.run_cache.run_study`) under a key made of its parameters,
  seed, code and stack: an interrupted study picks up where it stopped, and a changed
  parameter reruns only its own cells.
- Q-value heat maps of a trained DQN over (pole angle × pole angular velocity), and
  the lecture's epsilon action histograms.

Scaling out: a run is ``run_fn(**params)`` returning JSON-able results, a function of
its parameters alone (it seeds the process's random generators itself, with ``set_seeds``,
and reads no state another run left), so the same function can be mapped over many
processes or machines: :func:`homl_rl.run_cache.run_study` does it in local processes or
as Ray tasks, into a ``cache_dir`` that may be shared storage. The studies' figures are drawn by
:mod:`homl_rl.figures.studies`.
"""

import itertools
import sys
from pathlib import Path

import numpy as np

from homl_rl import dqn, lecture_dqn, per_step_dqn
from homl_rl.dqn import DQNConfig, train_dqn
from homl_rl.experiments import CHAPTER_AGENT, LECTURE_AGENT, studies_of
from homl_rl.lecture_dqn import STUDIES_N_EPISODES, run_one
from homl_rl.paths import STUDIES_CACHE
from homl_rl.run_cache import run_study
from homl_rl.summaries import check_logdir, has_events, summaries


def expand_grid(grid, seeds, fixed=None):
    """Every run of a study: one per (combination of the parameters' values, seed).

    ``grid`` maps each varied parameter's name to its values, e.g.
    ``{"batch_size": [16, 32, 64]}`` (a one-parameter study), or
    ``{"buffer_capacity": [500, 100000], "target_update_period": [3, 200]}`` (a grid search:
    every combination, the first parameter varying slowest).
    """
    if not grid:
        raise ValueError("a grid needs at least one parameter (a study varies exactly one "
                         "parameter, a grid search several), got none")
    seeds = list(seeds)
    for name, values in grid.items():
        if not list(values):
            raise ValueError(f"the grid of {name!r} is empty")
    if not seeds:
        raise ValueError("a study needs at least one seed")
    names = list(grid)
    return [dict(fixed or {}, **dict(zip(names, combination)), seed=seed)
            for combination in itertools.product(*(list(grid[name]) for name in names))
            for seed in seeds]


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

CHAPTER_N_EPISODES = DQNConfig.n_episodes
"""Episodes a run of the chapter DQN's studies: the notebook's 600."""

STUDY_VARIANT = "fixed_q_targets"
"""The lecture's DQN has a target network, so every study trains our fixed-Q-targets DQN."""

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


def dqn_study_run(seed, n_episodes=CHAPTER_N_EPISODES, variant=STUDY_VARIANT, **hyperparameters):
    """One run of a study: train our DQN (fast engine) and summarise it. A function of its
    parameters alone: it seeds the process's generators itself (``set_seeds``)."""
    history, model = train_dqn(variant, n_episodes, seed=seed, progress=False, **hyperparameters)
    sums_of_rewards = history.episode_rewards
    return {"sums_of_rewards": sums_of_rewards,
            "score": float(np.mean(sums_of_rewards[-SCORE_EPISODES:])),
            "episodes_to_convergence": episodes_to_convergence(sums_of_rewards)}


def run_logdir(logdir, parameter, params):
    """A study run's TensorBoard folder: ``<logdir>/<parameter>/<parameter>=<value>,seed=<seed>``."""
    return Path(logdir) / parameter / f"{parameter}={params[parameter]},seed={params['seed']}"


def log_study_run(logdir, result):
    """Write one study run's result for TensorBoard in ``logdir`` (unless a run logged there
    already): ``study/sum_of_rewards`` of each episode (step: the episode), then
    ``study/score`` and ``study/episodes_to_convergence`` (if it converged) at the last one."""
    if has_events(logdir):
        return
    sums = result["sums_of_rewards"]
    with summaries(logdir) as log:
        for episode, sum_of_rewards in enumerate(sums):
            log.scalar("study/sum_of_rewards", sum_of_rewards, episode)
        log.scalars(len(sums) - 1, **{"study/score": result["score"],
                                      "study/episodes_to_convergence":
                                          result["episodes_to_convergence"]})


def run_dqn_study(parameter, values=None, seeds=None, n_episodes=CHAPTER_N_EPISODES, jobs=None,
                  cache_dir=STUDIES_CACHE, progress=True, logdir=None, use_ray=False,
                  ray_address=None):
    """Run the chapter DQN's study of ``parameter`` (a study of
    :data:`homl_rl.experiments.STUDIES`) over ``values`` × ``seeds`` (default: its quick
    grid and seeds; ``use_ray``, ``ray_address``: as Ray tasks, see
    :func:`homl_rl.run_cache.run_study`).

    ``logdir``: a folder for TensorBoard (not part of a run's cache key): each run is
    written there (:func:`log_study_run`, in :func:`run_logdir`) as soon as it is done,
    or read from the cache.
    """
    studies = studies_of(CHAPTER_AGENT)
    if parameter not in studies:
        raise ValueError(f"parameter must be one of {', '.join(studies)}, got {parameter!r}")
    values = studies[parameter].quick_grid[parameter] if values is None else values
    seeds = studies[parameter].quick_seeds if seeds is None else seeds
    runs = expand_grid({parameter: values}, seeds, fixed={"n_episodes": n_episodes})
    on_result = None
    if logdir is not None:
        check_logdir(logdir)

        def on_result(index, result):
            log_study_run(run_logdir(logdir, parameter, runs[index]), result)
    return runs, run_study(dqn_study_run, runs, jobs=jobs, cache_dir=cache_dir, progress=progress,
                           sources=(sys.modules[__name__], dqn), on_result=on_result,
                           use_ray=use_ray, ray_address=ray_address)


# --- the lecture's studies with the lecture's agent -----------------------------------------------

def lecture_study_run(seed, n_episodes=STUDIES_N_EPISODES, **hyperparameters):
    """One run of a lecture study: the lecture's ``run_one()`` with its studies' parameter set
    (:data:`homl_rl.per_step_dqn.LECTURE_DQN_STUDIES`) and ``hyperparameters`` changed. A
    function of its JSON-able parameters alone (it seeds the process's generators itself);
    JSON-able result."""
    return run_one(seed=seed, n_episodes=n_episodes, preset="lecture_dqn_studies",
                   **hyperparameters)


def run_lecture_study(grid, seeds=None, n_episodes=STUDIES_N_EPISODES, jobs=None,
                      cache_dir=STUDIES_CACHE, progress=True, use_ray=False, ray_address=None):
    """Run a lecture study: ``grid`` maps parameters the lecture's studies vary (those of
    the lecture's rows of :data:`homl_rl.experiments.STUDIES`) to their values; every
    combination x ``seeds`` (default: the full seeds of the lecture's one-parameter studies),
    each run cached as it finishes, ``jobs`` processes (or Ray tasks: ``use_ray``,
    ``ray_address``). Returns ``(runs, results)``."""
    studies = studies_of(LECTURE_AGENT).values()
    if seeds is None:  # the full seeds of the lecture's one-parameter studies
        seeds = next(study.seeds for study in studies if study.parameter is not None)
    varied = {name: None for study in studies for name in study.grid}
    unknown = sorted(set(grid) - set(varied))
    if unknown:
        raise ValueError(f"a lecture study varies {', '.join(varied)}, got {unknown}")
    runs = expand_grid(grid, seeds, fixed={"n_episodes": n_episodes})
    return runs, run_study(lecture_study_run, runs, jobs=jobs, cache_dir=cache_dir,
                           progress=progress, sources=(lecture_dqn, per_step_dqn),
                           use_ray=use_ray, ray_address=ray_address)


# --- a study of the table ------------------------------------------------------------------

def study_config(study, full=False, n_episodes=None):
    """The config of ``study``'s run (a row of :data:`homl_rl.experiments.STUDIES`): its
    quick grid and seeds (what ``make figures`` runs), or with ``full`` its full ones;
    ``n_episodes`` per run (default: the agent's, :data:`CHAPTER_N_EPISODES` for the chapter's DQN and
    :data:`homl_rl.lecture_dqn.STUDIES_N_EPISODES` for the lecture's)."""
    grid = study.grid if full else study.quick_grid
    seeds = list(study.seeds if full else study.quick_seeds)
    if study.agent == CHAPTER_AGENT:
        return {"parameter": study.parameter, "values": grid[study.parameter], "seeds": seeds,
                "n_episodes": CHAPTER_N_EPISODES if n_episodes is None else n_episodes, "seed": None}
    return {"parameter": study.parameter, "grid": grid, "seeds": seeds,
            "n_episodes": STUDIES_N_EPISODES if n_episodes is None else n_episodes,
            "seed": None}


def run_named_study(config, progress=True, **options):
    """Run a study's config (:func:`study_config`): ``(runs, results)``. ``options``:
    :func:`run_dqn_study`'s or :func:`run_lecture_study`'s ``jobs``, ``cache_dir``,
    ``use_ray``, ``ray_address`` (and the chapter's ``logdir``), none of which changes a
    result."""
    if "grid" in config:
        return run_lecture_study(config["grid"], config["seeds"], n_episodes=config["n_episodes"],
                                 progress=progress, **options)
    return run_dqn_study(config["parameter"], config["values"], config["seeds"],
                         n_episodes=config["n_episodes"], progress=progress, **options)
