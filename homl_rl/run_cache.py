"""The run cache: a run's result kept under a key of everything that can change it, and a
cached map of a run function over many configs, in parallel processes or Ray tasks.

One cache policy for every kind of run (the named runs of :mod:`homl_rl.runs`, the studies,
the TF-Agents comparison, the benchmarks): a result is kept on disk under a key made of
the run function's name and source, the source of the modules it names, its config (the
seed included) and the machine it ran on (:func:`machine_info`: package versions, CPU
model, kernel class). A stale or foreign entry (other code, versions, config or kernels)
is never reused: its key differs. Every function takes the cache folder as an argument;
:mod:`homl_rl.paths` names the project's folders.
"""

import hashlib
import inspect
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path

from homl_rl.io import read_json, to_jsonable, write_json
from homl_rl.kernels import kernels_record
from homl_rl.progress import progress_bar
from homl_rl.ray_setup import ray_session
from homl_rl.stack import stack_info


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


def run_study(run_fn, runs, cache_dir, jobs=None, progress=True, sources=(),
              on_result=None, use_ray=False, ray_address=None):
    """``run_fn(**params)`` for every parameter dict of ``runs`` (cached ones are read back
    from ``cache_dir``); return the results in order.

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
    cache_dir = Path(cache_dir)
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
