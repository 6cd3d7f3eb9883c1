"""Named, cached training runs: the runs behind the figures, the studies and the comparison.

One cache policy for all of them. A run is a function of a JSON-able config (the seed
included) and ``progress``; its result is kept

- in this process (a second figure of the same run does not train again), and
- on disk under ``.cache/`` when it serialises (JSON for numbers, NPZ for weights),

under a key made of everything that can change the result: the config and seed, the
source of the run function and of the modules it names, and the machine it ran on
(:func:`machine_info`: package versions, CPU and kernel class). A stale or foreign entry
(other code, other versions, other config) is never reused: its key differs.

:data:`RUNS` names the runs the figures use: ``run("dqn")`` trains (or loads) the
DQN of Figure 18-10 and returns a :class:`RunResult` holding the result, the config and
the seed it ran with. :func:`run_study` maps a run function over many configs in
parallel processes (or Ray tasks), caching each run as soon as it is done (a killed study
reruns only its missing runs); the DQN studies and the TF-Agents comparison use it.
"""

import functools
import hashlib
import inspect
import json
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from homl_rl import breakout, dqn, keras_rl, muzero, nn_policy, per_step_dqn, policy_gradients
from homl_rl.breakout import BreakoutConfig, train_breakout
from homl_rl.dqn import CHAPTER_VARIANTS, DQNConfig, make_agent, train_dqn
from homl_rl.environments import make_env
from homl_rl.keras_rl import lecture_cartpole
from homl_rl.muzero import MuZeroConfig
from homl_rl.muzero import train as train_muzero
from homl_rl.io import atomic_write, read_json, to_jsonable, write_json
from homl_rl.progress import progress_bar
from homl_rl.ray_setup import ray_session
from homl_rl.nn_policy import ImitationConfig, policy_net, train_to_imitate_basic_policy
from homl_rl.policy_gradients import (
    LANDER_CONFIG, PolicyGradientsConfig, TrainingResult, lander_policy_net, train_lander,
    train_policy_gradients)
from homl_rl.kernels import kernels_record
from homl_rl.stack import stack_info

CACHE_DIR = Path(".cache") / "runs"
"""Where the named runs are kept (``<name>/<key>.json`` and ``.npz``)."""


# --- the cache key and the cached call -----------------------------------------------------

def machine_info():
    """What a run ran on: :func:`homl_rl.stack.stack_info` (package versions, CPU model) and
    the class of float kernels TensorFlow ran (:func:`homl_rl.kernels.kernels_record`: the
    same CPU under ``ONEDNN_MAX_CPU_ISA`` may compute other bits)."""
    return dict(stack_info(), kernels=kernels_record())


def _source(thing):
    """The source text of a function, class or module (its qualified name for a builtin)."""
    try:
        return inspect.getsource(thing)
    except (OSError, TypeError):
        return f"{getattr(thing, '__module__', '')}.{getattr(thing, '__qualname__', thing)}"


def jsonable_config(config):
    """``config`` (a dataclass or a dict) as sorted-key JSON-able data."""
    return to_jsonable(asdict(config) if is_dataclass(config) else dict(config))


def config_from(cls, config, ignore=()):
    """The dataclass ``cls`` rebuilt from its JSON-able ``config`` (lists back to tuples),
    leaving out the keys ``ignore``."""
    return cls(**{key: tuple(value) if isinstance(value, list) else value
                  for key, value in config.items() if key not in ignore})


def cache_key(function, config, sources=()):
    """A key that changes with anything that can change ``function(config)``'s result: the
    function's name and source, the source of ``sources`` (modules or functions it calls),
    the config (seed included) and the machine (package versions, CPU, kernel class)."""
    text = json.dumps({
        "function": f"{function.__module__}.{function.__qualname__}",
        "source": [_source(function)] + [_source(thing) for thing in sources],
        "config": jsonable_config(config),
        "stack": machine_info(),
    }, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_call(function, params, cache_dir, sources=()):
    """``function(**params)`` for a JSON-able result, or its cached result if this exact run
    (same code, params and stack) already finished."""
    path = Path(cache_dir) / f"{cache_key(function, params, sources)}.json"
    return _run_and_cache(function, params, path)


def _run_and_cache(function, params, path):
    """``function(**params)``, written to ``path`` (module-level: worker processes run it)."""
    if path.exists():
        return read_json(path)["result"]
    result = function(**params)
    _write_cached(path, params, result, machine_info())
    return result


def _write_cached(path, params, result, stack):
    """Write a study run's cache entry (atomically): its params, its result and the stack
    it ran on."""
    write_json(path, {"params": params, "result": result, "stack": stack})


def _run_with_stack(function, params):
    """``(function(**params), the stack it ran on)``: what a Ray task returns to the driver,
    which writes the cache (module-level: Ray's workers import it)."""
    return function(**params), machine_info()


def default_jobs():
    """As many processes as there are cores for us."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_study(run_fn, runs, jobs=None, cache_dir=None, progress=True, sources=(),
              on_result=None, use_ray=False, ray_address=None):
    """``run_fn(**params)`` for every parameter dict of ``runs`` (cached ones are read back);
    return the results in order.

    Runs that are not cached go to ``jobs`` worker processes (spawned, not forked:
    TensorFlow does not survive a fork). Each result is cached as soon as it is done,
    so an interrupted study loses at most the runs in flight. ``run_fn`` must be a
    module-level function of JSON-able parameters returning JSON-able results;
    ``sources``: the modules whose code it runs (they are part of the cache key).
    ``on_result(index, result)`` is called in this process for each run as its result
    arrives, cached ones first (e.g. to log it for TensorBoard).

    ``use_ray``: the runs are Ray tasks instead (:func:`_run_on_ray`), on the cluster at
    ``ray_address`` or a local Ray instance; the same cache files and results.
    """
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if ray_address is not None and not use_ray:
        raise ValueError(f"ray_address needs use_ray, got ray_address={ray_address!r}")
    cache_dir = Path(cache_dir if cache_dir is not None else CACHE_DIR / "studies")
    results = [None] * len(runs)
    todo = []
    paths = [cache_dir / f"{cache_key(run_fn, params, sources)}.json" for params in runs]
    report = on_result or (lambda index, result: None)
    for index, path in enumerate(paths):
        if path.exists():
            results[index] = read_json(path)["result"]
            report(index, results[index])
        else:
            todo.append(index)
    bar = progress_bar(total=len(runs), initial=len(runs) - len(todo),
                       desc=getattr(run_fn, "__name__", "runs"), progress=progress, unit="run")
    if use_ray and todo:
        _run_on_ray(run_fn, runs, todo, paths, jobs, ray_address, results, report, bar)
        todo = []
    jobs = default_jobs() if jobs is None else jobs
    if jobs == 1 or len(todo) <= 1:
        for index in todo:
            results[index] = _run_and_cache(run_fn, runs[index], paths[index])
            report(index, results[index])
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context) as pool:
            futures = {pool.submit(_run_and_cache, run_fn, runs[index], paths[index]): index
                       for index in todo}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                report(futures[future], results[futures[future]])
                bar.update()
    bar.close()
    return results


def _run_on_ray(run_fn, runs, todo, paths, jobs, address, results, report, bar):
    """:func:`run_study`'s runs ``todo`` as Ray tasks of one CPU each, at most ``jobs`` at a
    time (default: as many as the cluster has CPUs), on the cluster at ``address`` or on a
    local instance of ``jobs`` CPUs (default: all) unless Ray is initialised already. Each
    task returns its result and the stack it ran on; this process writes the cache entry
    (the same file as a worker process writes) as soon as it is done."""
    with ray_session(address, num_cpus=jobs) as ray:
        task = ray.remote(num_cpus=1)(_run_with_stack)
        limit = jobs or max(1, int(ray.cluster_resources().get("CPU", 1)))
        waiting, running = list(todo), {}
        try:
            while waiting or running:
                while waiting and len(running) < limit:
                    index = waiting.pop(0)
                    running[task.remote(run_fn, runs[index])] = index
                [done], _ = ray.wait(list(running), num_returns=1)
                index = running.pop(done)
                result, stack = ray.get(done)
                _write_cached(paths[index], runs[index], result, stack)
                results[index] = result
                report(index, result)
                bar.update()
        finally:  # a failed run, or Ctrl-C: the others in flight are cancelled
            for ref in running:
                ray.cancel(ref, force=True)


# --- named runs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RunResult:
    """What a named run returns: its result, and the config and seed it ran with."""
    name: str
    result: object
    """what the training function returned (e.g. ``(rewards, agent)``)"""
    config: dict
    """the run's whole config, JSON-able (the seed included)"""
    seed: int

    def record(self):
        """The run as a figure's data file records it."""
        return {"name": self.name, "config": self.config, "seed": self.seed}


@dataclass(frozen=True)
class RunSpec:
    """A named run: ``train(config, progress)``, and how its result goes to disk, if it can."""
    name: str
    train: Callable
    """``train(config, progress) -> result``"""
    config: object
    """everything that changes the result, JSON-able, with a ``seed`` (or a function
    returning it, for configs that live in modules loaded only when the run is made)"""
    sources: tuple = ()
    """the modules whose code the run executes (their source is part of the cache key)"""
    dump: Callable = None
    """``dump(result) -> (json_data, {name: array})``, or ``None``: kept in this process only"""
    load: Callable = None
    """``load(json_data, arrays, config) -> result``, the inverse of ``dump``"""


_MEMO = {}


def unproven_engines(names):
    """The runs among ``names`` whose engine is not proven exact on this machine (the
    REINFORCE fast engine where no one-row MatMul replica matches this machine's kernels):
    their numbers may differ from the notebook's cells."""
    from homl_rl.engines.policy_gradients import REINFORCE_HEADS, fast_engine_is_exact

    unproven = []
    for name in dict.fromkeys(names):
        spec = RUNS[name]
        config = spec.config() if callable(spec.config) else spec.config
        env_id = config.get("env_id") if isinstance(config, dict) else None
        if (config.get("engine") == "fast" and env_id in REINFORCE_HEADS
                and not fast_engine_is_exact(env_id)):
            unproven.append(name)
    return unproven


def _disk_paths(spec, key, cache_dir):
    folder = Path(cache_dir) / spec.name
    return folder / f"{key}.json", folder / f"{key}.npz"


def execute(spec, progress=False, cache_dir=CACHE_DIR):
    """Run ``spec`` (or take its result from this process or the disk cache): a :class:`RunResult`."""
    config = jsonable_config(spec.config() if callable(spec.config) else spec.config)
    key = cache_key(spec.train, config, spec.sources)
    if key not in _MEMO:
        json_path, npz_path = _disk_paths(spec, key, cache_dir)
        if spec.load is not None and json_path.exists():
            with np.load(npz_path) as arrays:
                result = spec.load(read_json(json_path)["result"], dict(arrays), config)
        else:
            result = spec.train(config, progress)
            if spec.dump is not None:
                data, arrays = spec.dump(result)
                atomic_write(npz_path, lambda tmp: np.savez(tmp, **arrays))
                write_json(json_path, {"name": spec.name, "config": config, "result": data,
                                       "stack": machine_info()})  # last: marks the entry complete
        _MEMO[key] = RunResult(spec.name, result, config, config.get("seed"))
    return _MEMO[key]


def run(name, progress=False, cache_dir=CACHE_DIR):
    """The named run ``name`` of :data:`RUNS` (trained once, then cached): a :class:`RunResult`."""
    if name not in RUNS:
        raise ValueError(f"unknown run {name!r}; valid runs: {', '.join(RUNS)}")
    return execute(RUNS[name], progress=progress, cache_dir=cache_dir)


def clear_memo():
    """Forget the runs kept in this process (the disk cache stays)."""
    _MEMO.clear()


# --- the runs' training functions and serialisers -------------------------------------------

def _weights(model):
    return {f"w{index}": weight for index, weight in enumerate(model.get_weights())}


def _set_weights(model, arrays):
    model.set_weights([arrays[f"w{index}"] for index in range(len(arrays))])
    return model


def train_dqn_run(config, progress):
    """``train_dqn(variant, return_agent=True)`` with ``config``'s hyper-parameters."""
    hyper = {key: value for key, value in config.items() if key not in ("variant", "seed", "engine")}
    return train_dqn(config["variant"], seed=config["seed"], engine=config["engine"],
                     progress=progress, return_agent=True, **hyper)


def dump_dqn(result):
    rewards, agent = result
    return {"rewards": rewards}, _weights(agent.model)


def load_dqn(data, arrays, config):
    """A fresh agent of the run's variant (:func:`homl_rl.dqn.make_agent`) with its weights."""
    hyper = {key: value for key, value in config.items() if key not in ("variant", "seed", "engine")}
    env = make_env("CartPole-v1", render_mode=None)
    agent = make_agent(config["variant"], env, DQNConfig(**hyper), engine=config["engine"],
                       seed=config["seed"])
    env.close()
    agent.set_weights([arrays[f"w{index}"] for index in range(len(arrays))])
    return data["rewards"], agent


def dqn_config(variant, **hyperparameters):
    """The config of ``train_dqn(variant)`` with its defaults (the variant's learning rate)."""
    config = asdict(DQNConfig(**hyperparameters))
    if config["learning_rate"] is None:
        config["learning_rate"] = CHAPTER_VARIANTS[variant].learning_rate
    return dict(config, variant=variant, seed=42, engine="fast")


def train_policy_gradients_run(config, progress):
    """``train_policy_gradients`` (CartPole) or ``train_lander``, by ``config["env_id"]``."""
    train = train_lander if config["env_id"] == "LunarLander-v3" else train_policy_gradients
    params = {key: value for key, value in config.items() if key not in ("env_id", "engine")}
    return train(**params, engine=config["engine"], progress=progress)


def dump_policy(result):
    mean_rewards, model = result
    return {"mean_rewards": mean_rewards}, _weights(model)


def load_policy(data, arrays, config):
    """The run's policy net (the same builder, then the saved weights)."""
    if config["env_id"] == "LunarLander-v3":
        model = lander_policy_net(seed=None)
    else:
        model = policy_net(seed=None)
        model.build((None, 4))
    return TrainingResult(data["mean_rewards"], _set_weights(model, arrays))


def pg_config(lander=False):
    """The default CartPole run's config, or exercise 8's lander run's (fast engine)."""
    return dict(asdict(LANDER_CONFIG if lander else PolicyGradientsConfig()), engine="fast")


def train_keras_rl_run(config, progress):
    """Lecture 002's keras-rl2 cells (:func:`homl_rl.keras_rl.lecture_cartpole`): the three
    histories (test before, fit, test after)."""
    return to_jsonable(lecture_cartpole(seed=config["seed"], nb_steps=config["nb_steps"]))


def dump_json_only(result):
    """A result that is JSON data only: no arrays."""
    return result, {}


def load_json_only(data, arrays, config):
    return data


def train_imitation_run(config, progress):
    """The 50-environment imitation cell."""
    return train_to_imitate_basic_policy(progress=progress, **config)


def dump_imitation(result):
    model, history = result
    return history, _weights(model)


def load_imitation(data, arrays, config):
    model = policy_net(seed=None)
    model.build((None, 4))
    return _set_weights(model, arrays), data


def train_breakout_run(config, progress):
    """The short Keras Breakout run (exercise 9): ``(state, agent, best_weights)``."""
    with tempfile.TemporaryDirectory() as tmp:
        return train_breakout(config_from(BreakoutConfig, config), tmp, progress=progress)


def breakout_short_config():
    return asdict(BreakoutConfig(
        n_steps=5_000, replay_capacity=5_000, training_starts=1_000, epsilon_decay_steps=4_000,
        target_update_period=1_000, eval_interval=1_000, eval_max_steps=500,
        checkpoint_interval=10 ** 9, seed=42))


def train_tutorial_run(config, progress):
    """The TF-Agents DQN tutorial: ``(pipeline, history)``."""
    from homl_rl.tf_agents_pipeline.cartpole import TutorialConfig, run_tutorial

    return run_tutorial(config_from(TutorialConfig, config), progress=progress)


def train_comparison_run(config, progress):
    """Every run of the TF-Agents vs Keras comparison (each cached on its own)."""
    from homl_rl.tf_agents_pipeline.compare import CompareConfig, run_comparison

    return run_comparison(config_from(CompareConfig, config, ignore=("seed",)), progress=progress)


def train_agent_run(config, progress):
    """The long TF-Agents Breakout run (resumable, in its checkpoint folder): its histories."""
    from homl_rl.tf_agents_pipeline.breakout import AGENT_RUN, AGENT_RUN_DIR, agent_run

    return agent_run(AGENT_RUN, AGENT_RUN_DIR, progress=progress)


MUZERO_RUN_DIR = Path(".cache") / "muzero"
"""the long MuZero runs' checkpoint folders, ``cartpole_seed<seed>`` (what ``homl-rl muzero
train --seed S --checkpoint-dir .cache/muzero/cartpole_seedS`` fills too)"""


def train_muzero_run(config, progress):
    """MuZero on CartPole with muzero-general's settings (resumable, in its checkpoint folder
    under :data:`MUZERO_RUN_DIR`): the run's history (:func:`homl_rl.muzero.train`)."""
    return train_muzero(MuZeroConfig(training_steps=config["training_steps"]),
                        seed=config["seed"], progress=progress,
                        checkpoint_dir=MUZERO_RUN_DIR / f"cartpole_seed{config['seed']}",
                        final_test_episodes=config["final_test_episodes"])


def train_study_run(config, progress):
    """One DQN study (every value x seed, each run cached on disk): ``(runs, results)``."""
    from homl_rl.studies import run_dqn_study  # studies imports this module for run_study

    return run_dqn_study(config["parameter"], config["values"], config["seeds"],
                         n_episodes=config["n_episodes"], progress=progress)


def study_config(parameter):
    """The quick grid of ``parameter``'s study (what ``make figures`` runs)."""
    from homl_rl.studies import QUICK_GRIDS, QUICK_SEEDS  # studies imports this module

    return {"parameter": parameter, "values": QUICK_GRIDS[parameter], "seeds": list(QUICK_SEEDS),
            "n_episodes": 600, "seed": None}


def train_lecture_study_run(config, progress):
    """One lecture study, or the grid search, with the lecture's agent (every value x seed,
    each run cached on disk): ``(runs, results)``."""
    from homl_rl.studies import run_lecture_study  # studies imports this module for run_study

    return run_lecture_study(config["grid"], config["seeds"], n_episodes=config["n_episodes"],
                             progress=progress)


def lecture_study_config(parameter):
    """The quick grid of a lecture study (``parameter``), or of the grid search (``None``):
    what ``make figures`` runs."""
    from homl_rl.studies import (  # studies imports this module
        LECTURE_QUICK_GRID_SEARCH, LECTURE_QUICK_GRIDS, LECTURE_QUICK_SEEDS)
    from homl_rl.lecture_dqn import STUDIES_N_EPISODES

    grid = (LECTURE_QUICK_GRID_SEARCH if parameter is None
            else {parameter: LECTURE_QUICK_GRIDS[parameter]})
    return {"parameter": parameter, "grid": grid, "seeds": list(LECTURE_QUICK_SEEDS),
            "n_episodes": STUDIES_N_EPISODES, "seed": None}


LECTURE_STUDY_PARAMETERS = ("buffer_capacity", "target_update_period", "batch_size")
"""The lecture's three studies (lecture 003's agent), by the parameter each varies."""


def _tf_agents_config(name):
    """The config of a TF-Agents run (read when the run is made: TF-Agents loads only then)."""
    from homl_rl.tf_agents_pipeline.breakout import AGENT_RUN
    from homl_rl.tf_agents_pipeline.cartpole import TutorialConfig
    from homl_rl.tf_agents_pipeline.compare import CompareConfig

    return {"tf_agents_tutorial": lambda: asdict(TutorialConfig(replay_buffer="tf_uniform")),
            "comparison": lambda: dict(asdict(CompareConfig()), seed=None),
            "breakout_tf_agents_long": lambda: asdict(AGENT_RUN)}[name]()


RUNS = {spec.name: spec for spec in [
    *(RunSpec(variant, train_dqn_run, dqn_config(variant), (dqn,), dump_dqn, load_dqn)
      for variant in CHAPTER_VARIANTS),
    RunSpec("policy_gradients", train_policy_gradients_run, pg_config(), (policy_gradients,),
            dump_policy, load_policy),
    RunSpec("lander", train_policy_gradients_run, pg_config(lander=True), (policy_gradients,),
            dump_policy, load_policy),
    RunSpec("imitation", train_imitation_run, asdict(ImitationConfig()), (nn_policy,),
            dump_imitation, load_imitation),
    RunSpec("keras_rl_cartpole", train_keras_rl_run, {"seed": 0, "nb_steps": 5000},
            (keras_rl, per_step_dqn), dump_json_only, load_json_only),
    RunSpec("breakout_short", train_breakout_run, breakout_short_config(), (breakout,)),
    *(RunSpec(f"{parameter}_study", train_study_run,
              functools.partial(study_config, parameter))
      for parameter in ("replay_buffer_size", "target_update_period", "batch_size")),
    *(RunSpec(f"lecture_{parameter}_study", train_lecture_study_run,
              functools.partial(lecture_study_config, parameter))
      for parameter in LECTURE_STUDY_PARAMETERS),
    RunSpec("lecture_grid_search", train_lecture_study_run,
            functools.partial(lecture_study_config, None)),
    RunSpec("tf_agents_tutorial", train_tutorial_run,
            functools.partial(_tf_agents_config, "tf_agents_tutorial")),
    RunSpec("comparison", train_comparison_run, functools.partial(_tf_agents_config, "comparison")),
    RunSpec("breakout_tf_agents_long", train_agent_run,
            functools.partial(_tf_agents_config, "breakout_tf_agents_long")),
    RunSpec("muzero_cartpole_long", train_muzero_run,
            {"seed": 0, "training_steps": MuZeroConfig().training_steps,
             "final_test_episodes": 10}, (muzero,)),
]}
"""The named runs, ``{name: RunSpec}``: the four DQN variants (by their names),
``policy_gradients``, ``lander``, ``imitation``, ``keras_rl_cartpole`` (lecture 002's
keras-rl2 cells, seed 0), the three DQN studies
(``<parameter>_study``), lecture 003's three studies and grid search with its own agent
(``lecture_<parameter>_study``, ``lecture_grid_search``), ``breakout_short``, ``tf_agents_tutorial``,
``comparison``, ``breakout_tf_agents_long`` (TF-Agents' configs are read when run) and
``muzero_cartpole_long``."""
