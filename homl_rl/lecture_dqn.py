"""Lecture 003's own DQN (PyTorch, gym 0.21), in Keras on the per-step core, with its names.

The lecture's agent is the preset :data:`homl_rl.per_step_dqn.LECTURE_DQN` (its parameter
set for the studies: :data:`~homl_rl.per_step_dqn.LECTURE_DQN_STUDIES`), trained by the one
per-step loop :func:`homl_rl.per_step_dqn.train_per_step`; this module gives its functions
the lecture's names: :func:`eval_dqn`, :func:`train`, :func:`run_one`::

    result = run_one(seed=0)   # {"episode_takens": ..., "score": ..., "losses": [...], "rewards": [...]}

**How we read the lecture's ``train`` loop** (its text lost its indentation). Inside
``if done:`` sit ``state = env.reset()``, ``ep += 1``, the evaluation ``if (ep+1) %
EVAL_EVERY == 0`` (with its ``break``), the target copy ``if ep % UPDATE_TARGET_EVERY == 0``
and the epsilon update; ``total_time += 1`` is outside. Why: the lecture's printout shows
each evaluation once ("episode = 3", "episode = 6", ...), which an evaluation outside
``if done:`` would repeat at every step of the episode; the comment says "Update target net
every ... episodes"; and the epsilon formula uses ``ep``. So, with ``ep`` the number of
finished episodes:

- one update per environment step (``update`` pushes, then trains once the buffer holds a
  batch; before that it returns ``inf``, which ``losses`` records);
- the target network, a separately initialized ``Net`` at the start, is copied from the
  online one after the 5th, 10th... finished episode (``step_order="lecture_003"``);
- epsilon is 1 in the first episode, then ``0.05 + 0.95 exp(-ep / 200)``;
- after episodes 2, 5, 8... (``(ep+1) % 3 == 0``), ``eval_dqn()``: 5 greedy episodes on a
  copy of the environment, their mean appended to ``rewards_history``; training stops when
  it reaches ``REWARD_THRESHOLD`` (199), and ``train`` returns ``ep`` (the episodes taken);
- gym 0.21's ``TimeLimit`` ends CartPole-v0 at 200 steps with ``done=True``, and ``update``
  stores ``next_state=None`` for a done step: no bootstrap at the cut either
  (``truncation_is_terminal``).

**What differs from the lecture's PyTorch**, beyond the framework's own arithmetic: random
numbers come from NumPy (actions, batches: ``np.random``) instead of Python's ``random``;
Keras' Adam has ``epsilon=1e-7`` where PyTorch's has ``1e-8``; Gymnasium's CartPole-v0 (the
same 200-step limit) with a seeded first reset instead of gym 0.21's; the evaluation copies
the environment just before the next training reset (the lecture copies it just after).
The layers start as PyTorch's ``nn.Linear`` do (``weight_init="torch"``).
"""

import math
from dataclasses import replace

import numpy as np

from homl_rl.checks import check_positive_int
from homl_rl.environments import make_env
from homl_rl.per_step_dqn import (
    LECTURE_DQN, LECTURE_DQN_STUDIES, PRESETS, evaluate_greedy, make_per_step_agent,
    train_per_step)

ENV_ID = "CartPole-v0"
"""``gym.make("CartPole-v0")``: episodes cut at 200 steps"""
N_EPISODES = 400
"""the lecture's training length (its first run)"""
STUDIES_N_EPISODES = 200
"""``N_EPISODES`` of the studies' parameter set"""
EVAL_EVERY = LECTURE_DQN.eval_every
REWARD_THRESHOLD = LECTURE_DQN.eval_stop_at


def eval_dqn(agent, env, n_sim=5):
    """The lecture's ``eval_dqn``: the sums of rewards of ``n_sim`` greedy episodes played on a
    copy of ``env`` (a NumPy array of shape ``(n_sim,)``)."""
    return evaluate_greedy(agent, env, n_sim)


def train(agent, env, n_episodes=N_EPISODES, seed=None, progress=False):
    """The lecture's ``train``: returns ``(ep, losses, rewards_history)`` — the episodes taken,
    the loss of every environment step (``inf`` before the buffer holds a batch) and the mean
    return of each evaluation. ``agent`` is a :class:`~homl_rl.per_step_dqn.PerStepDQN` of a
    lecture preset; ``seed`` seeds the first reset."""
    if agent.config.train_interval != 1 or agent.config.step_order != "lecture_003":
        raise ValueError("train records one loss per step: it needs a lecture preset "
                         "(train_interval=1, step_order='lecture_003')")
    history = train_per_step(agent, env, n_episodes=check_positive_int("n_episodes", n_episodes),
                             reset_seed=seed, progress=progress, desc="lecture 003's DQN")
    # every step trains once the buffer holds a batch: the untrained steps are the first ones
    losses = [math.inf] * (history.n_steps - len(history.losses)) + history.losses
    return len(history.episode_rewards), losses, history.eval_returns


def run_one(n_episodes=N_EPISODES, preset="lecture_dqn", progress=False, **changes):
    """The lecture's ``run_one``: a fresh agent (``reset()``), ``train``, then one more
    ``eval_dqn()``; returns ``{"episode_takens", "score", "losses", "rewards"}`` plus
    ``"n_steps"`` (environment steps played).

    ``preset``: ``"lecture_dqn"`` (the lecture's first run) or ``"lecture_dqn_studies"`` (its
    studies' parameter set); ``changes``: :class:`~homl_rl.per_step_dqn.PerStepDQNConfig`
    fields, e.g. ``buffer_capacity=500``, or ``seed=3`` (the config's seed, 0 by default).
    JSON-able parameters and result; it seeds the process's random generators itself
    (``set_seeds``: every generator, and TensorFlow's op determinism), so a study maps it
    over processes.
    """
    if preset not in (name for name, config in PRESETS.items()
                      if config in (LECTURE_DQN, LECTURE_DQN_STUDIES)):
        raise ValueError(f"preset must be 'lecture_dqn' or 'lecture_dqn_studies', got {preset!r}")
    config = replace(PRESETS[preset], **changes)
    env = make_env(ENV_ID, render_mode=None)
    try:
        agent = make_per_step_agent(config, env)
        env.action_space.seed(config.seed)
        episodes_taken, losses, rewards_history = train(agent, env, n_episodes, seed=config.seed,
                                                        progress=progress)
        score = float(np.mean(eval_dqn(agent, env)))
    finally:
        env.close()
    return {"episode_takens": episodes_taken, "score": score, "losses": losses,
            "rewards": rewards_history, "n_steps": len(losses)}
