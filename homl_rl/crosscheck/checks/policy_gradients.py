"""Checks of section "Policy Gradients" (:mod:`homl_rl.policy_gradients`, :mod:`homl_rl.nn_policy`)."""

import gymnasium as gym
import numpy as np

from homl_rl.crosscheck import hints
from homl_rl.crosscheck.checks.base import PerSeed, seeds, by_seed, check, compare_result, compare_seeds, model_spec
from homl_rl.crosscheck.mutate import mutated
from homl_rl.crosscheck.report import SKIPPED, CheckResult
from homl_rl.nn_policy import policy_net
from homl_rl.policy_gradients import (
    LANDER_CONFIG, discount_and_normalize_rewards, discount_rewards, lander_play_one_step,
    lander_policy_net, play_one_step)
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf


def _discount_rewards_inputs():
    rng = np.random.default_rng(42)
    return [([10, 0, -50], 0.8), ([1.0, 1.0, 1.0, 1.0], 0.95), (list(rng.normal(size=7)), 0.9),
            ([5.0], 0.5), (list(rng.normal(size=20)), 0.99)]


@check("discount_rewards", "discount_rewards")
def check_discount_rewards(ctx):
    inputs = _discount_rewards_inputs()
    ours = [discount_rewards(r, d) for r, d in inputs]
    theirs = ctx.call(ctx.latest("discount_rewards", "def"), [([r, d], {}) for r, d in inputs])
    # discounting forwards (each step gets the past rewards) is ours on the reversed rewards
    forwards = [discount_rewards(list(r)[::-1], d)[::-1] for r, d in inputs]
    return compare_result("discount_rewards", ours, theirs["results"], [
        (hints.DISCOUNT_FORWARD, forwards),
        (hints.NOT_DISCOUNTED, [discount_rewards(r, 1.0) for r, d in inputs]),
        (hints.DISCOUNT_PER_STEP.hint, [np.array([reward * d ** t for t, reward in enumerate(r)])
                                        for r, d in inputs]),
    ])


@check("discount_and_normalize_rewards", "discount_and_normalize_rewards")
def check_discount_and_normalize(ctx):
    rng = np.random.default_rng(7)
    inputs = [([[10, 0, -50], [10, 20]], 0.8),
              ([list(rng.normal(size=5)), list(rng.normal(size=3)), list(rng.normal(size=8))], 0.95)]
    ours = [discount_and_normalize_rewards(r, d) for r, d in inputs]
    # the reader's function calls a global discount_rewards: give it ours, so that this
    # row checks the normalisation alone (the discount_rewards row checks theirs)
    theirs = ctx.call(ctx.latest("discount_and_normalize_rewards", "def"),
                      [([r, d], {}) for r, d in inputs],
                      globals={"discount_rewards": discount_rewards})
    per_episode = [[discount_and_normalize_rewards([rewards], d)[0] for rewards in r]
                   for r, d in inputs]
    not_divided = mutated(discount_and_normalize_rewards, hints.NOT_DIVIDED_BY_STD_MUTATION)
    not_centred = mutated(discount_and_normalize_rewards, hints.NOT_CENTRED.mutation)
    return compare_result("discount_and_normalize_rewards", ours, theirs["results"], [
        (hints.NORMALIZED_PER_EPISODE, per_episode),
        (hints.NOT_DIVIDED_BY_STD, [not_divided(r, d) for r, d in inputs]),
        (hints.NOT_CENTRED.hint, [not_centred(r, d) for r, d in inputs]),
    ])


def _pg_fields(obs, reward, done, truncated, grads):
    # the notebook's lander step returns `info` as `truncated`: only its truth counts
    return {"obs": obs, "reward": reward, "done": done, "truncated": bool(truncated),
            "grads": grads}


MAX_EPISODE_STEPS = gym.spec("CartPole-v1").max_episode_steps
"""CartPole-v1's own limit (500): the policy-gradient step is checked over whole episodes"""

MODEL = "_crosscheck_policy_model"
"""the global the policy network is built in once per seed, in the reader's namespace"""


def _check_pg_step(ctx, name, book_name, env_id, make_model, loss_name, ours_fn, mistakes=(),
                   max_steps=None):
    """Ours and the reader's step over a whole episode (at most ``max_steps``) at each seed.

    At each seed of :func:`seeds` the env is reset with that seed and every generator
    seeded with it; the reader's function is called on our episode's observations, in
    order, on an env of its own made and reset the same way. Then the known ``mistakes``.
    """
    definitions = [d for d in ctx.loaded.versions(book_name)
                   if d.kind == "def" and len(d.params) == 4]
    if not definitions:
        return CheckResult(name, SKIPPED, detail=f"no {book_name}(env, obs, model, loss_fn)")
    model = make_model()
    loss_fn = tf.keras.losses.get(loss_name)
    max_steps = max_steps or MAX_EPISODE_STEPS

    def episode(step_fn, seed, observations=None):
        """``step_fn``'s outputs over an episode at ``seed`` (or at the given ``observations``)."""
        env = gym.make(env_id)
        obs, info = env.reset(seed=seed)
        set_seeds(seed)
        observed, outputs = [], []
        for step in range(max_steps if observations is None else len(observations)):
            if observations is not None:
                obs = observations[step]
            observed.append(obs)
            obs, reward, done, truncated, grads = step_fn(env, obs, model, loss_fn)
            outputs.append(_pg_fields(obs, reward, done, truncated, [np.asarray(g) for g in grads]))
            if observations is None and (done or truncated):
                break
        return observed, outputs

    episodes = by_seed(lambda seed: episode(ours_fn, seed))
    answers = ctx.call_seeds(
        definitions[-1],
        [[([("__shared_env__", env_id, seed), obs, ("__global__", MODEL), ("__loss__", loss_name)], {})
          for obs in observed] for seed, (observed, _) in zip(seeds(), episodes)],
        globals={MODEL: model_spec(model)})
    theirs = []
    for answer in answers:
        results = []
        for result in answer["results"]:
            if isinstance(result, tuple) and len(result) == 5:
                result = _pg_fields(*result)
            results.append(result)
        theirs.append(results)

    observed_at = {seed: observed for seed, (observed, _) in zip(seeds(), episodes)}

    def run(step_fn):  # a mistake, on our episodes' observations
        return PerSeed(lambda seed: episode(step_fn, seed, observed_at[seed])[1])

    candidates = [(hint, run(fn)) for hint, fn in mistakes]
    return compare_seeds(name, [outputs for _, outputs in episodes], theirs, candidates)


@check("play_one_step (policy gradients)", "play_one_step")
def check_pg_play_one_step(ctx):
    def make_model():
        model = policy_net(seed=42)
        model.build((None, 4))
        return model

    action_as_target = mutated(play_one_step, hints.ACTION_AS_TARGET_MUTATION)
    reversed_sampling = mutated(play_one_step, hints.ACTION_SAMPLED_REVERSED.mutation)
    return _check_pg_step(
        ctx, "play_one_step (policy gradients)", "play_one_step", "CartPole-v1", make_model,
        "binary_crossentropy", play_one_step, [(hints.ACTION_AS_TARGET, action_as_target),
                                               (hints.ACTION_SAMPLED_REVERSED.hint, reversed_sampling)])


@check("lander_play_one_step", "lander_play_one_step")
def check_lander_play_one_step(ctx):
    return _check_pg_step(ctx, "lander_play_one_step", "lander_play_one_step",
                          LANDER_CONFIG.env_id, lambda: lander_policy_net(seed=42),
                          "sparse_categorical_crossentropy", lander_play_one_step,
                          max_steps=LANDER_STEPS)


LANDER_STEPS = 40
"""steps of each LunarLander episode checked (its episodes run up to 1,000 steps, a gradient
each: the first 40 at each of the 20 seeds)"""

