"""The named training runs: the runs behind the figures, each cached.

:data:`RUNS` names them: ``run("dqn")`` trains (or loads) the DQN of Figure 18-10 and
returns a :class:`~homl_rl.run_cache.RunResult` holding the result, the config and the seed
it ran with. A run is a function of a JSON-able config (the seed included) and
``progress``; its result is kept

- in this process (a second figure of the same run does not train again), and
- on disk under :data:`homl_rl.paths.RUNS_CACHE` when it serialises (JSON for numbers,
  NPZ for weights),

under the run cache's key (:func:`homl_rl.run_cache.cache_key`: the config and seed, the
source of the run function and of the modules it names, the machine it ran on). Below the
table are the runs' training functions and serialisers, one pair per section.
"""

import functools
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from homl_rl import breakout, dqn, keras_rl, muzero, nn_policy, per_step_dqn, policy_gradients
from homl_rl.breakout import BreakoutConfig, train_breakout
from homl_rl.dqn import DQNConfig, make_agent, train_dqn
from homl_rl.engines.policy_gradients import REINFORCE_HEADS, fast_engine_is_exact
from homl_rl.environments import make_env
from homl_rl.history import TrainingHistory
from homl_rl.io import atomic_write, read_json, to_jsonable, write_json
from homl_rl.keras_rl import LectureCartPoleConfig, lecture_cartpole
from homl_rl.muzero import MuZeroConfig
from homl_rl.muzero import train as train_muzero
from homl_rl.nn_policy import ImitationConfig, policy_net, train_to_imitate_basic_policy
from homl_rl.paths import BREAKOUT_TF_AGENTS_RUN, MUZERO_RUNS, RUNS_CACHE
from homl_rl.policy_gradients import (
    LANDER_CONFIG, PolicyGradientsConfig, TrainingResult, lander_policy_net, train_lander,
    train_policy_gradients)
from homl_rl.run_cache import RunResult, cache_key, config_from, jsonable_config, machine_info
from homl_rl.variants import CHAPTER_VARIANTS
from homl_rl.experiments import STUDIES
from homl_rl.experiments.compare import CompareConfig, run_comparison
from homl_rl.experiments.studies import run_named_study, study_config


# --- named runs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSpec:
    """A named run: ``train(config, progress)``, and how its result goes to disk, if it can."""
    name: str
    train: Callable
    """``train(config, progress, **options) -> result`` (``options``: how the run goes, never
    what it computes, e.g. a study's processes)"""
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


def execute(spec, progress=False, cache_dir=RUNS_CACHE, config=None, options=None):
    """Run ``spec`` (or take its result from this process or the disk cache ``cache_dir``): a
    :class:`RunResult`. ``config``: another config than the spec's (e.g. a study's full grid);
    ``options``: keyword arguments for its training function (how it runs, e.g. its
    processes or its own cache folder; not part of the cache key)."""
    if config is None:
        config = spec.config() if callable(spec.config) else spec.config
    config = jsonable_config(config)
    # how the result goes to disk is part of the key: a new format never reads an old entry
    key = cache_key(spec.train, config, (*spec.sources, *filter(None, (spec.dump, spec.load))))
    if key not in _MEMO:
        json_path, npz_path = _disk_paths(spec, key, cache_dir)
        if spec.load is not None and json_path.exists():
            with np.load(npz_path) as arrays:
                result = spec.load(read_json(json_path)["result"], dict(arrays), config)
        else:
            result = spec.train(config, progress, **(options or {}))
            if spec.dump is not None:
                data, arrays = spec.dump(result)
                atomic_write(npz_path, lambda tmp: np.savez(tmp, **arrays))
                write_json(json_path, {"name": spec.name, "config": config, "result": data,
                                       "stack": machine_info()})  # last: marks the entry complete
        _MEMO[key] = RunResult(spec.name, result, config, config.get("seed"))
    return _MEMO[key]


def run(name, progress=False, cache_dir=RUNS_CACHE, config=None, options=None):
    """The named run ``name`` of :data:`RUNS` (trained once, then cached): a :class:`RunResult`.
    ``config`` replaces its config (a study's full grid, the comparison's budget), and
    ``options`` go to its training function (:func:`execute`)."""
    if name not in RUNS:
        raise ValueError(f"unknown run {name!r}; valid runs: {', '.join(RUNS)}")
    return execute(RUNS[name], progress=progress, cache_dir=cache_dir, config=config,
                   options=options)


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
    hyper = {key: value for key, value in config.items() if key not in ("variant", "engine")}
    return train_dqn(config["variant"], engine=config["engine"], progress=progress,
                     return_agent=True, **hyper)


DQN_HISTORY = ("episode_rewards", "episode_lengths", "losses", "n_steps")
"""what a chapter DQN run's cache entry keeps of its :class:`~homl_rl.history.TrainingHistory`
(the config is the entry's own)"""


def dump_dqn(result):
    history, agent = result
    return {"history": {name: getattr(history, name) for name in DQN_HISTORY}}, _weights(agent.model)


def load_dqn(data, arrays, config):
    """A fresh agent of the run's variant (:func:`homl_rl.dqn.make_agent`) with its weights."""
    hyper = {key: value for key, value in config.items() if key not in ("variant", "engine")}
    dqn_config = DQNConfig(**hyper)
    env = make_env("CartPole-v1", render_mode=None)
    agent = make_agent(config["variant"], env, dqn_config, engine=config["engine"])
    env.close()
    agent.set_weights([arrays[f"w{index}"] for index in range(len(arrays))])
    return TrainingHistory(**data["history"], config=dqn_config), agent


def dqn_run_config(variant, **hyperparameters):
    """The config of ``train_dqn(variant)`` with its defaults (the variant's learning rate,
    the config's seed)."""
    config = asdict(DQNConfig(**hyperparameters))
    if config["learning_rate"] is None:
        config["learning_rate"] = CHAPTER_VARIANTS[variant].learning_rate
    return dict(config, variant=variant, engine="fast")


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
    return to_jsonable(lecture_cartpole(LectureCartPoleConfig(**config)))


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


def train_comparison_run(config, progress, **options):
    """Every run of the TF-Agents vs Keras comparison (each cached on its own; ``options``:
    :func:`~homl_rl.experiments.compare.run_comparison`'s ``jobs`` and ``cache_dir``)."""
    return run_comparison(config_from(CompareConfig, config, ignore=("seed",)), progress=progress,
                          **options)


def train_agent_run(config, progress):
    """The long TF-Agents Breakout run (resumable, in its checkpoint folder): its histories."""
    from homl_rl.tf_agents_pipeline.breakout import AGENT_RUN, agent_run

    return agent_run(AGENT_RUN, BREAKOUT_TF_AGENTS_RUN, progress=progress)


def train_muzero_run(config, progress):
    """MuZero on CartPole with muzero-general's settings (resumable, in its checkpoint folder
    under :data:`homl_rl.paths.MUZERO_RUNS`): the run's history (:func:`homl_rl.muzero.train`)."""
    return train_muzero(MuZeroConfig(training_steps=config["training_steps"], seed=config["seed"]),
                        progress=progress,
                        checkpoint_dir=MUZERO_RUNS / f"cartpole_seed{config['seed']}",
                        final_test_episodes=config["final_test_episodes"])


def train_study_run(config, progress, **options):
    """One study of :data:`homl_rl.experiments.STUDIES` (every value x seed, each run cached
    on disk): ``(runs, results)``; ``options``: where and how its runs go
    (:func:`homl_rl.experiments.studies.run_named_study`)."""
    return run_named_study(config, progress=progress, **options)


def _tf_agents_config(name):
    """The config of a TF-Agents run (read when the run is made: TF-Agents loads only then)."""
    from homl_rl.tf_agents_pipeline.breakout import AGENT_RUN
    from homl_rl.tf_agents_pipeline.cartpole import TutorialConfig
    return {"tf_agents_tutorial": lambda: asdict(TutorialConfig(replay_buffer="tf_uniform")),
            "comparison": lambda: dict(asdict(CompareConfig()), seed=None),
            "breakout_tf_agents_long": lambda: asdict(AGENT_RUN)}[name]()


RUNS = {spec.name: spec for spec in [
    *(RunSpec(variant, train_dqn_run, dqn_run_config(variant), (dqn,), dump_dqn, load_dqn)
      for variant in CHAPTER_VARIANTS),
    RunSpec("policy_gradients", train_policy_gradients_run, pg_config(), (policy_gradients,),
            dump_policy, load_policy),
    RunSpec("lander", train_policy_gradients_run, pg_config(lander=True), (policy_gradients,),
            dump_policy, load_policy),
    RunSpec("imitation", train_imitation_run, asdict(ImitationConfig()), (nn_policy,),
            dump_imitation, load_imitation),
    RunSpec("keras_rl_cartpole", train_keras_rl_run, {"seed": 0, "nb_steps": 5000},
            (keras_rl, per_step_dqn), dump_json_only, load_json_only),
    RunSpec("breakout_short", train_breakout_run, breakout_short_config(),
            (breakout, per_step_dqn)),  # its loop is per_step_dqn.train_per_step
    *(RunSpec(study.run, train_study_run, study_config(study)) for study in STUDIES),
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
keras-rl2 cells, seed 0), every study of :data:`homl_rl.experiments.STUDIES` on its quick
grid (by its ``run``), ``breakout_short``, ``tf_agents_tutorial``,
``comparison``, ``breakout_tf_agents_long`` (TF-Agents' configs are read when run) and
``muzero_cartpole_long``."""
