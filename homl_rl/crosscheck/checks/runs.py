"""Run rows: the reader's training loops, run, against ours at the same seeds.

For each training loop :func:`homl_rl.crosscheck.loops.find_loops` finds in the reader's
file, the row runs the reader's loop cell (its seeding preamble, then the loop) in the
worker, with the reader's own functions (those defined above the loop) and with what the
loop trains — ``env``, ``model``, ``target``, ``optimizer``, ``loss_fn``,
``replay_buffer``, ``Q_values`` — set to copies of ours at the notebook's seeds. The
environment (Q-learning: ``step``) is recorded (:mod:`homl_rl.crosscheck.recording`) and
stops the loop at the row's budget. Our side is the section's own training function at
the same seeds, recorded the same way:

- the basic policy's episodes: :func:`homl_rl.environments.evaluate_policy`;
- Q-learning: :func:`homl_rl.markov.q_learning`, its ``step`` recorded and its history
  giving the table before each iteration;
- a DQN variant's episodes: :func:`homl_rl.dqn.make_agent` and :func:`homl_rl.dqn.train`
  (the variant told by the ``training_step`` above the loop), with the model's weights
  after each episode's training step;
- policy gradients on CartPole, and exercise 8's lander: :func:`homl_rl.policy_gradients.reinforce`
  as :func:`homl_rl.policy_gradients.train_from_config` runs it, with the model's weights
  after each iteration's update (on its last episode).

Our run is made first and sent with the request: the reader's loop is stopped at its
first departure from it (:class:`~homl_rl.crosscheck.recording.RecordingEnv`'s
``expected``), so that a mistake costs no more of the budget than the episodes before it.
The row passes when the common prefix is identical, and otherwise names the first
episode (iteration) and step that differ, and what differed.
"""

from dataclasses import fields, replace

import gymnasium as gym
import numpy as np

from homl_rl import markov
from homl_rl.crosscheck import hints
from homl_rl.crosscheck.checks.base import model_spec
from homl_rl.crosscheck.checks.markov import _mdp_globals, q_learning_on_readers_functions
from homl_rl.crosscheck.client import WorkerError
from homl_rl.crosscheck.loops import find_loops
from homl_rl.crosscheck.mutate import mutated, mutated_class
from homl_rl.crosscheck.recording import (
    RecordingEnv, RecordingStep, first_difference, first_iteration_difference, weights_snapshot)
from homl_rl.crosscheck.report import ERROR, FAIL, PASS, SKIPPED, CheckResult
from homl_rl.dqn import DQNConfig, dqn_config, make_agent, train, train_after_episode
from homl_rl.engines.policy_gradients import make_reinforce_engine, resolve_reinforce_engine
from homl_rl.environments import basic_policy, evaluate_policy
from homl_rl.keras_choices import make_optimizer
from homl_rl.nn_policy import policy_net
from homl_rl.policy_gradients import (
    lander_play_multiple_episodes, lander_policy_net, mean_gradients, play_multiple_episodes,
    policy_gradients_config, reinforce)
from homl_rl.tf_setup import tf
from homl_rl.variants import CHAPTER_VARIANTS

NOTEBOOK_SEED = 42
"""the seed the notebook's cells set before each training loop"""

RUN_EPISODES = {"basic_policy": 500, "dqn": 60, "policy_gradients": 30, "lander": 32}
"""the default budget of each episode loop, in episodes: the basic policy's whole 500 (about
a second a side); the DQN's first 60 of 600 (ten training steps past episode 50, each
``predict`` call of the reader's side included); policy gradients' first 30 (three
iterations of 10 episodes, three updates, each compared by the weights it leaves); the
lander's first 32 (two iterations of 16, two updates: see the README for the measured
times)"""

Q_LEARNING_ITERATIONS = 10_000
"""Q-learning's budget: the notebook's whole loop (a fraction of a second)"""

Q_TABLE_TOLERANCE = 1e-9
"""the largest difference allowed between the reader's final Q-value table and ours"""

Q_LEARNING_LOOP_MISTAKES = (hints.LOOP_NO_LEARNING_RATE_DECAY, hints.LOOP_NEXT_VALUE_ARGMAX)
"""the known mistakes of the Q-learning loop, mutations of :func:`homl_rl.markov.q_learning`,
in the order they are tried"""

DEFAULT_RUN_SECONDS = 120.0
"""the time limit of the reader's loop, per run row: it stops at the first step past it,
and the row compares the episodes played by then"""

NOT_RUN = "not run: "
"""starts the row's line listing the preamble's statements it does not run (those that build
what the row gives the loop: :attr:`homl_rl.crosscheck.loops.Loop.not_run`)"""

RUN_PREFIX = "run: "
"""every run row's name starts so (``--only run`` selects them all)"""

START_SLACK = 120.0
"""seconds a run request may take beyond its time limit (starting the worker, TensorFlow's
import, rebuilding the model) before it is killed"""


def _title(loop):
    if loop.kind == "dqn":
        row = dqn_variant(loop)
        return f"{RUN_PREFIX}{row.title if row else 'DQN'} loop"
    return RUN_PREFIX + {"basic_policy": "basic policy's episodes", "q_learning": "Q-learning loop",
                         "policy_gradients": "policy gradients loop",
                         "lander": "lander's policy gradients loop"}[loop.kind]


def dqn_variant(loop):
    """The chapter's DQN variant a loop trains: the one whose ``training_step`` is above it
    (a target network? Double DQN's ``argmax``?), the dueling one after the dueling cell."""
    rows = [row for row in CHAPTER_VARIANTS.values()
            if (row.target_network, row.double_dqn) == (loop.uses_target, loop.uses_argmax)]
    if len(rows) > 1:
        rows = [row for row in rows if row.dueling == loop.dueling_above] or rows
    return rows[0] if rows else None


def run_rows(ctx, episodes=None, seconds=DEFAULT_RUN_SECONDS, select=None, kernel=None):
    """One row per training loop of the reader's file (``ctx``: the checks' context).

    ``episodes``: the episode loops' budget (``None``: :data:`RUN_EPISODES`'s per loop);
    ``seconds``: each loop's time limit; ``select(title)``: whether to run that row
    (``None``: all). ``kernel``: in a notebook, the loops' results in its namespace
    (:class:`homl_rl.crosscheck.namespace.KernelRuns`): a loop's row from them comes first,
    and a loop whose result there equals ours is not run again.
    """
    loops = find_loops(ctx.loaded)
    if not loops:
        if select is not None and not select(f"{RUN_PREFIX}training loops"):
            return []
        return [CheckResult(f"{RUN_PREFIX}training loops", SKIPPED,
                            detail="no training loop of the chapter found (a top-level loop "
                                   "calling basic_policy, step with Q_values, or "
                                   "play_one_step and training_step)")]
    titles = [_title(loop) for loop in loops]
    rows = []
    for loop, title in zip(loops, titles):
        if titles.count(title) > 1:
            title = f"{title} ({loop.where})"
        if select is not None and not select(title):
            continue
        from_namespace = None
        if kernel is not None:
            from_namespace, rerun = kernel.check(loop, title)
            if not rerun:
                rows.append(from_namespace)
                continue
        try:
            row = RUNNERS.get(loop.kind, _not_built)(ctx, loop, title, episodes, seconds)
        except WorkerError as error:
            row = CheckResult(title, ERROR, detail=f"your loop could not be run: {error}")
        if loop.notes and row.status == PASS:
            row.detail = "\n".join(filter(None, [row.detail] + loop.notes))
        if loop.not_run:
            row.detail = "\n".join(filter(None, [row.detail, NOT_RUN + "; ".join(loop.not_run)]))
        if from_namespace is not None:
            rows.append(kernel.reconcile(from_namespace, row))
        rows.append(row)
    return rows


def _not_built(ctx, loop, title, episodes, seconds):
    return CheckResult(title, SKIPPED, detail=f"found at {loop.where}; this loop is not run "
                                              "by the cross-check yet")


def _request(ctx, loop, globals_, recorder, seconds):
    recorder = dict(recorder, seconds=seconds)
    return ctx.worker.request(seconds + START_SLACK, op="run_loop",
                              stmts=[*loop.preamble, loop.stmt], bindings=loop.bindings,
                              globals=globals_, seed=NOTEBOOK_SEED, recorder=recorder)


def _unrun(title, loop, answer):
    """The SKIPPED or ERROR row of a loop that raised before its budget; ``None`` if it ran."""
    if answer["missing"] is not None:
        return CheckResult(title, SKIPPED, detail=f"your loop at {loop.where} needs "
                                                  f"{answer['missing']!r}, which is not defined "
                                                  "above it (nor given by the cross-check)")
    return None


def _episodes_detail(compared, budget, stopped, seconds, unit="episodes"):
    why = {"episodes": f"the budget of {budget} {unit}", "iterations": f"the budget of {budget} {unit}",
           "time": f"the time limit ({seconds:g} s)", "finished": "your loop's end",
           "differs": "a difference"}[stopped]
    return f"the same {compared} {unit} as ours (stopped by {why})"


def _compare_episodes(title, loop, answer, ours, budget, seconds, mistakes=None):
    """The row of an episode loop: the reader's record against ``ours`` over its prefix.

    ``mistakes(n)``: the known mistakes of this loop (``[(hint, run())]``, ``run()`` giving
    ``n`` episodes): a failure gets the hint of the first whose run equals the reader's.
    """
    unrun = _unrun(title, loop, answer)
    if unrun is not None:
        return unrun
    theirs = answer["record"]["episodes"]
    played = len(theirs)
    if not played and answer["error"] is None:
        return CheckResult(title, SKIPPED, detail=f"your loop at {loop.where} played no episode "
                                                  "on the global env")
    difference = first_difference(ours, theirs)
    if difference is None and len(ours) < played:
        difference = f"episode {len(ours)}: your loop plays more episodes than ours"
    if difference is not None:
        return CheckResult(title, FAIL, detail=f"{difference} (loop at {loop.where})",
                           hint=_matching_hint(theirs, mistakes(played) if mistakes else []),
                           where=difference.split(":")[0])
    if answer["error"] is not None:
        lines = answer["error"].splitlines()
        return CheckResult(title, ERROR, detail="\n".join(
            [f"your loop raised {lines[-1]} after {played} episode(s) identical to ours"] + lines[:-1]))
    cut = bool(theirs and theirs[-1].get("cut"))
    detail = _episodes_detail(played - cut, budget, answer["record"]["stopped"], seconds)
    return CheckResult(title, PASS, 0.0, detail=detail)


def _matching_hint(theirs, mistakes):
    """The hint of the first known mistake whose run equals the reader's over its episodes
    (the last one, where the reader's loop was stopped at a step, step by step)."""
    if theirs and "longer" in theirs[-1]:  # stopped at its first departure from ours
        theirs = theirs[:-1] + [dict(theirs[-1], cut=True)]
    for hint, run in mistakes:
        try:
            mistaken = run()
        except Exception:  # noqa: BLE001
            continue
        if len(mistaken) >= len(theirs) and first_difference(mistaken, theirs) is None:
            return hint
    return ""


# --- the basic policy --------------------------------------------------------------

def _recorded_env(env_id="CartPole-v1"):
    """``env_id`` (CartPole), reset at the notebook's seed (its first cells), then recorded:
    as the worker's."""
    env = gym.make(env_id)
    env.reset(seed=NOTEBOOK_SEED)
    return RecordingEnv(env)


def our_basic_policy_record(n_episodes, evaluate=evaluate_policy):
    """Our basic policy's ``n_episodes`` episodes (:func:`homl_rl.environments.evaluate_policy`,
    or ``evaluate``: a known mistake's copy of it), recorded."""
    env = _recorded_env()
    evaluate(basic_policy, n_episodes=n_episodes, env=env)
    return env.record.episodes


BASIC_POLICY_LOOP_MISTAKES = (hints.LOOP_RESET_UNSEEDED, hints.LOOP_RESET_SAME_SEED)
"""the known mistakes of the basic policy's episodes, mutations of
:func:`homl_rl.environments.evaluate_policy`, in the order they are tried"""


def basic_policy_loop_mistakes(n_episodes):
    """``[(hint, run())]``: :data:`BASIC_POLICY_LOOP_MISTAKES`, each our loop mutated."""
    return [(mistake.hint, lambda mistake=mistake: our_basic_policy_record(
        n_episodes, mutated(evaluate_policy, mistake.mutation)))
        for mistake in BASIC_POLICY_LOOP_MISTAKES]


def run_basic_policy(ctx, loop, title, episodes, seconds):
    budget = episodes or RUN_EPISODES["basic_policy"]
    ours = our_basic_policy_record(budget)
    answer = _request(ctx, loop, {}, {"kind": "env", "env_id": "CartPole-v1",
                                      "episodes": budget, "expected": ours}, seconds)
    return _compare_episodes(title, loop, answer, ours, budget, seconds, basic_policy_loop_mistakes)


# --- Q-learning ----------------------------------------------------------------------

def our_q_learning_record(n_iterations, *mutations):
    """Our Q-learning's iterations, recorded as :class:`RecordingStep` records them
    (``mutations``: a known mistake's edits of :func:`homl_rl.markov.q_learning`)."""
    code = q_learning_on_readers_functions(*mutations).replace(
        "Q_values, history = q_learning()", f"Q_values, history = q_learning({n_iterations})")
    recorder = RecordingStep(lambda state, action: markov.step(state, action), lambda: None)
    namespace = dict(_mdp_globals(), step=recorder, exploration_policy=markov.exploration_policy)
    exec(code, namespace)
    iterations = [(*it[:4], table) for it, table in zip(recorder.iterations, namespace["history"])]
    return iterations, namespace["Q_values"]


def run_q_learning(ctx, loop, title, episodes, seconds):
    if "step" not in loop.bindings and not ctx.latest("step", "def"):
        return CheckResult(title, SKIPPED, detail=f"your loop at {loop.where} calls step, "
                                                  "which your file does not define")
    globals_ = dict(_mdp_globals(), Q_values=markov.initial_q_values())
    answer = _request(ctx, loop, globals_, {"kind": "step", "iterations": Q_LEARNING_ITERATIONS,
                                            "collect": ["Q_values"]}, seconds)
    unrun = _unrun(title, loop, answer)
    if unrun is not None:
        return unrun
    theirs = answer["record"]["iterations"]
    if not theirs:
        return CheckResult(title, SKIPPED, detail=f"your loop at {loop.where} never called step")
    ours, final = our_q_learning_record(len(theirs))
    difference = first_iteration_difference(ours, theirs)
    complete = answer["error"] is None and answer["record"]["stopped"] in ("iterations", "finished")
    if difference is None and complete:
        table = answer["collected"].get("Q_values")
        try:
            same = np.allclose(np.asarray(table, dtype=float), final, rtol=0, atol=Q_TABLE_TOLERANCE)
        except (TypeError, ValueError):
            same = False
        if not same:
            difference = (f"iteration {len(theirs) - 1}: its update leaves another Q-value table "
                          "than ours")
    if difference is not None:
        hint = next((mistake.hint for mistake in Q_LEARNING_LOOP_MISTAKES
                     if first_iteration_difference(
                         our_q_learning_record(len(theirs), mistake.mutation)[0], theirs) is None),
                    "")
        if not hint and ("Q-value table" in difference or "update" in difference):
            hint = ("the walk is the same, the updates differ: check the learning rate "
                    "alpha0 / (1 + iteration * decay), the discount factor gamma and "
                    "Q_values[next_state].max()")
        return CheckResult(title, FAIL, detail=f"{difference} (loop at {loop.where})", hint=hint,
                           where=difference.split(":")[0])
    if answer["error"] is not None:
        lines = answer["error"].splitlines()
        return CheckResult(title, ERROR, detail="\n".join(
            [f"your loop raised {lines[-1]} after {len(theirs)} iteration(s) identical to ours"]
            + lines[:-1]))
    return CheckResult(title, PASS, 0.0, detail=_episodes_detail(
        len(theirs), Q_LEARNING_ITERATIONS, answer["record"]["stopped"], seconds, "iterations"))


# --- the DQN variants --------------------------------------------------------------------

def our_dqn_record(variant, n_episodes, config=None, train_function=train):
    """Our DQN run of ``variant`` for ``n_episodes``, recorded: its episodes.

    The notebook's cells at seed 42 (:func:`homl_rl.dqn.make_agent`, then
    :func:`homl_rl.dqn.train`, or ``train_function``: a known mistake's copy of it), the
    model's weights recorded after each episode's training step and target update.
    """
    config = config or dqn_config(variant, n_episodes)
    env = _recorded_env()
    agent = make_agent(variant, env, replace(config, seed=NOTEBOOK_SEED))

    def after_episode(episode, env_steps):
        env.record.episodes[-1]["weights"] = weights_snapshot(agent.model)

    train_function(agent, env, config, progress=False, callback=after_episode)
    return env.record.episodes


def _with_train_after_episode(mistake):
    """Our :func:`homl_rl.dqn.train`, calling :func:`homl_rl.dqn.train_after_episode` with
    ``mistake``'s mutation (the end of an episode in the notebook's loop)."""
    after_episode = mutated(train_after_episode, mistake.mutation)
    return mutated(train, ("train_after_episode(agent, episode, config)",
                           "train_after_episode_mutated(agent, episode, config)"),
                   names={"train_after_episode_mutated": after_episode})


LOOP_HYPERPARAMETERS = ("batch_size", "discount_factor")
"""the notebook globals of a DQN loop that are :class:`~homl_rl.dqn.DQNConfig` fields: a
reader's other value is tried as a known mistake"""


def _training_every_step():
    """Our :func:`homl_rl.dqn.train` with the end of an episode moved into its step loop
    (:data:`~homl_rl.crosscheck.hints.LOOP_TRAINS_EVERY_STEP`)."""
    return mutated(train, *hints.LOOP_TRAINS_EVERY_STEP.mutation)


def dqn_loop_mistakes(variant, n_episodes, readers_values=None):
    """``[(hint, run())]``: the known DQN-loop mistakes (:mod:`homl_rl.crosscheck.hints`) of
    ``variant``, each our own loop mutated, ``run()`` its recorded episodes.
    ``readers_values``: the reader's :data:`LOOP_HYPERPARAMETERS`, where known; one that is
    not the notebook's is tried too, as our loop with the reader's value."""
    config = dqn_config(variant, n_episodes)
    typed = []
    for name, theirs in (readers_values or {}).items():
        ours = getattr(config, name)
        if isinstance(theirs, (int, float)) and not isinstance(theirs, bool) and theirs != ours:
            try:
                other = replace(config, **{name: theirs})
            except (TypeError, ValueError):
                continue
            hint = hints.LOOP_HYPERPARAMETER.hint.format(name=name, theirs=theirs, ours=ours)
            typed.append((hint, lambda other=other: our_dqn_record(variant, n_episodes, other)))
    fast_epsilon = mutated_class(DQNConfig, "epsilon", hints.LOOP_EPSILON_FAST.mutation)
    fast_config = fast_epsilon(**{f.name: getattr(config, f.name) for f in fields(config)})
    mistakes = [
        (hints.LOOP_TRAINS_FROM_START.hint, lambda: our_dqn_record(
            variant, n_episodes, config, _with_train_after_episode(hints.LOOP_TRAINS_FROM_START))),
        (hints.LOOP_EPSILON_FAST.hint, lambda: our_dqn_record(variant, n_episodes, fast_config)),
        (hints.LOOP_TRAINS_EVERY_STEP.hint, lambda: our_dqn_record(
            variant, n_episodes, config, _training_every_step())),
    ]
    if CHAPTER_VARIANTS[variant].target_network:
        mistakes.append((hints.LOOP_TARGET_EVERY_EPISODE.hint, lambda: our_dqn_record(
            variant, n_episodes, config, _with_train_after_episode(hints.LOOP_TARGET_EVERY_EPISODE))))
    return typed + mistakes


def run_dqn(ctx, loop, title, episodes, seconds):
    row = dqn_variant(loop)
    if row is None:
        return CheckResult(title, SKIPPED, detail=f"the training_step above the loop at {loop.where} "
                                                  "is none of the chapter's variants'")
    budget = min(episodes or RUN_EPISODES["dqn"], DQNConfig.n_episodes)
    globals_ = dict(_initial_specs(row.name), loss_fn=("__loss__", "mean_squared_error"),
                    replay_buffer=("__deque__", [], DQNConfig.replay_buffer_size))
    ours = our_dqn_record(row.name, budget)
    answer = _request(ctx, loop, globals_, {"kind": "env", "env_id": "CartPole-v1",
                                            "episodes": budget, "watch": "model",
                                            "expected": ours}, seconds)
    def mistakes(n):
        return dqn_loop_mistakes(row.name, n, _readers_values(ctx, loop, LOOP_HYPERPARAMETERS))
    return _compare_episodes(title, loop, answer, ours, budget, seconds, mistakes)


def _readers_values(ctx, loop, names):
    """The values the reader's ``names`` have at the loop (their definitions above it)."""
    values = {}
    for name in names:
        if name in loop.bindings:
            try:
                values[name] = ctx.worker.request(ctx.timeout, op="value", stmt=loop.bindings[name])
            except WorkerError:
                continue
    return values


def _initial_specs(variant):
    """The model, target and optimizer a DQN loop starts with, as they cross the pipe."""
    config = dqn_config(variant, 1)
    agent = make_agent(variant, _recorded_env(), replace(config, seed=NOTEBOOK_SEED))
    specs = {"model": model_spec(agent.model),
             "optimizer": ("__optimizer__", type(agent.optimizer).__name__,
                           agent.optimizer.get_config())}
    if agent.target is not None:
        specs["target"] = model_spec(agent.target)
    return specs


# --- policy gradients on CartPole ------------------------------------------------------------

POLICY_GRADIENTS = {
    "policy_gradients": ("CartPole-v1", lambda env, seed: policy_net(seed),
                         "binary_crossentropy", play_multiple_episodes),
    "lander": ("LunarLander-v3",
               lambda env, seed: lander_policy_net(env.observation_space.shape[0],
                                                   env.action_space.n, seed),
               "sparse_categorical_crossentropy", lander_play_multiple_episodes),
}
"""loop kind -> (environment, policy net at a seed, loss, play function), as
:func:`homl_rl.policy_gradients.train_from_config` makes them"""


def our_policy_gradients_record(n_episodes, kind="policy_gradients", train_function=reinforce):
    """Our REINFORCE (CartPole, or exercise 8's lander) for the iterations that hold
    ``n_episodes`` episodes, recorded: ``(episodes, initial model spec, optimizer spec)``, the
    model's weights after each iteration's update on its last episode (``train_function``: :func:`~homl_rl.policy_gradients.reinforce`, or a known mistake's
    copy of it).

    :func:`homl_rl.policy_gradients.train_from_config`'s steps, in its order (the net at
    seed 42, ``env.reset(seed=42)``, the optimizer, the engine, then
    :func:`~homl_rl.policy_gradients.reinforce`), on a recorded environment.
    """
    env_id, make_model, loss, play_episodes = POLICY_GRADIENTS[kind]
    config = policy_gradients_config(env_id)
    config = replace(config, n_iterations=-(-n_episodes // config.n_episodes_per_update))
    engine = resolve_reinforce_engine(None, config.env_id)
    env = _recorded_env(env_id)
    model = make_model(env, config.seed)
    if not model.built:
        model.build((None,) + env.observation_space.shape)
    spec = model_spec(model)
    env.reset(seed=config.seed)
    optimizer = make_optimizer(config.optimizer, config.learning_rate)
    optimizer_spec = ("__optimizer__", type(optimizer).__name__, optimizer.get_config())
    play = make_reinforce_engine(engine, config.env_id, play_episodes)

    def after_iteration(iteration, all_rewards):
        env.record.episodes[-1]["weights"] = weights_snapshot(model)

    train_function(env, model, optimizer, tf.keras.losses.get(loss), play, config, progress=False,
                   callback=after_iteration)
    env.close()
    return env.record.episodes[:n_episodes], spec, optimizer_spec


def _with_mean_gradients(mistake):
    """Our :func:`homl_rl.policy_gradients.reinforce`, calling
    :func:`homl_rl.policy_gradients.mean_gradients` with ``mistake``'s mutation."""
    return mutated(reinforce, ("mean_gradients(all_final_rewards, step_grads)",
                               "mean_gradients_mutated(all_final_rewards, step_grads)"),
                   names={"mean_gradients_mutated": mutated(mean_gradients, mistake.mutation)})


POLICY_GRADIENTS_LOOP_MISTAKES = (
    (hints.LOOP_RAW_REWARDS, lambda: mutated(reinforce, hints.LOOP_RAW_REWARDS.mutation)),
    (hints.LOOP_GRADIENTS_NEGATED, lambda: _with_mean_gradients(hints.LOOP_GRADIENTS_NEGATED)),
)
"""the known mistakes of the policy-gradient loops (CartPole's and the lander's), each with
the function making it, a mutated copy of :func:`~homl_rl.policy_gradients.reinforce`, in
the order they are tried"""


def policy_gradients_loop_mistakes(kind):
    """``mistakes(n)`` for the policy-gradient loop ``kind``: ``[(hint, run())]``, each run our
    loop mutated, its first ``n`` episodes."""
    def mistakes(n_episodes):
        return [(mistake.hint, lambda make=make: our_policy_gradients_record(
            n_episodes, kind, make())[0]) for mistake, make in POLICY_GRADIENTS_LOOP_MISTAKES]
    return mistakes


def run_policy_gradients(ctx, loop, title, episodes, seconds):
    budget = episodes or RUN_EPISODES[loop.kind]
    env_id, _, loss, _ = POLICY_GRADIENTS[loop.kind]
    ours, model, optimizer = our_policy_gradients_record(budget, loop.kind)
    globals_ = {"model": model, "optimizer": optimizer, "loss_fn": ("__loss__", loss)}
    answer = _request(ctx, loop, globals_, {"kind": "env", "env_id": env_id, "episodes": budget,
                                            "watch": "model", "expected": ours}, seconds)
    return _compare_episodes(title, loop, answer, ours, budget, seconds,
                             policy_gradients_loop_mistakes(loop.kind))


RUNNERS = {"basic_policy": run_basic_policy, "q_learning": run_q_learning, "dqn": run_dqn,
           "policy_gradients": run_policy_gradients, "lander": run_policy_gradients}
"""loop kind -> its run row (the kinds found but not here are listed as not run yet)"""
