"""Section "Policy Gradients" (REINFORCE on CartPole) and exercise 8 (LunarLander).

Mirrors the notebook's cells: ``play_one_step``, ``play_multiple_episodes``,
``discount_rewards``, ``discount_and_normalize_rewards`` and the training loop
(binary cross-entropy); the exercise's ``lander_play_one_step``,
``lander_play_multiple_episodes`` and its loop (sparse categorical
cross-entropy). The training functions take no notebook globals: model,
optimizer and loss are made inside, from a frozen :class:`PolicyGradientsConfig`.

Two engines play the episodes of an iteration and give the per-step gradients;
everything else (discounting, normalizing, averaging, the optimizer step) is one
shared loop, :func:`reinforce`. ``engine="notebook"`` runs the cells' own functions
(one eager ``GradientTape`` a step: the reference), ``engine="fast"`` replays the same
float32 arithmetic and random draws in NumPy, bit for bit, and is the default wherever
a start-up check proves it exact; both are in :mod:`homl_rl.engines.policy_gradients`.
"""

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from homl_rl.animation import record_episode
from homl_rl.checks import (
    check_discrete_actions, check_non_negative_int, check_observation, check_positive_int,
    check_positive_number, check_revision, check_unit_interval)
from homl_rl.engines.policy_gradients import (
    make_reinforce_engine, resolve_reinforce_engine)
from homl_rl.environments import SeedNextReset, make_env
from homl_rl.keras_choices import check_optimizer_name, make_optimizer
from homl_rl.nn_policy import policy_net
from homl_rl.progress import progress_bar
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf


class TrainingResult(NamedTuple):
    """What the training functions return: unpack it as ``mean_rewards, model = ...``."""
    mean_rewards: list
    """the mean total reward of each iteration (what the cell prints)"""
    model: object
    """the trained policy net"""


# --- hyper-parameters -------------------------------------------------------------

@dataclass(frozen=True)
class PolicyGradientsConfig:
    """Hyper-parameters of the notebook's policy-gradient cells (CartPole by default)."""
    n_iterations: int = 150
    """training iterations (one optimizer step each)"""
    n_episodes_per_update: int = 10
    """episodes played per iteration; their gradients are averaged into one step"""
    n_max_steps: int = 200
    """steps per episode before the loop gives up on it"""
    discount_factor: float = 0.95
    """gamma of ``discount_rewards``"""
    learning_rate: float = 0.01
    """the optimizer's learning rate"""
    seed: int = 42
    """``set_seeds(seed)`` before the net is built, then ``env.reset(seed=seed)`` once"""
    env_id: str = "CartPole-v1"
    """the Gymnasium environment"""
    optimizer: str = "nadam"
    """the optimizer, by Keras name (the notebook's ``Nadam``; ``"adam"``, ``"rmsprop"``, ...)"""
    revision: str = "current"
    """whose cells the run follows: ``"current"`` (the notebook's) or ``"older"`` (the older
    revision's net and set-up: see :data:`OLDER_REVISION`)"""

    def __post_init__(self):
        for name in ("n_iterations", "n_episodes_per_update", "n_max_steps"):
            check_positive_int(name, getattr(self, name))
        check_unit_interval("discount_factor", self.discount_factor)
        check_positive_number("learning_rate", self.learning_rate)
        check_non_negative_int("seed", self.seed)
        check_optimizer_name(self.optimizer)
        check_revision(self.revision)


LANDER_CONFIG = PolicyGradientsConfig(n_iterations=200, n_episodes_per_update=16, n_max_steps=1000,
                                      discount_factor=0.99, learning_rate=0.005,
                                      env_id="LunarLander-v3")
"""Exercise 8's hyper-parameters (the notebook's ``LunarLander-v2`` is ``v3`` in Gymnasium 1.x)."""

OLDER_REVISION = {"CartPole-v1": dict(optimizer="adam", learning_rate=0.01),
                  "LunarLander-v3": dict(optimizer="nadam", learning_rate=0.005)}
"""The older revision of the notebook's policy-gradient cells, as
:class:`PolicyGradientsConfig` settings per environment (``train_policy_gradients(
revision="older")``, ``train_lander(revision="older")``). What it changes, all of it:

- CartPole: ``Adam(learning_rate=0.01)`` (the current revision: ``Nadam``), and the policy
  net ``Dense(5, elu)`` given ``input_shape=[4]`` (the current one: ``Dense(5, relu)``,
  built by its first call; :func:`homl_rl.nn_policy.policy_net`);
- both: ``tf.keras.backend.clear_session()`` before the net is built, and the old API's
  seeding, ``env.seed(42)`` then ``env.reset()`` at each episode: the first episode's reset is
  ``reset(seed=42)`` (:class:`~homl_rl.environments.SeedNextReset`; the current revision
  resets once with the seed before the loop), and the old 4-tuple ``step`` (``done`` ends the
  episode, as ``done or truncated`` does here).

The rest is the same (the lander's net, ``Nadam(0.005)`` and loop included). The fast engine
replays ReLU nets only, so the older CartPole run takes the notebook engine (about ten
minutes, and memory: see :func:`train_policy_gradients`).
"""


# --- the notebook's functions, CartPole ---------------------------------------------

def play_one_step(env, obs, model, loss_fn):
    """The notebook's ``play_one_step``: act, and keep the gradient that makes the action likelier.

    ``left_proba = model(obs)``; the action is ``tf.random.uniform([1, 1]) > left_proba``
    (1 = right); the target is ``1 - action``, so the loss's gradient pretends the
    action taken was the right one. Returns ``obs, reward, done, truncated, grads``.
    """
    obs = check_observation(obs, model)
    with tf.GradientTape() as tape:
        left_proba = model(obs[np.newaxis])
        action = (tf.random.uniform([1, 1]) > left_proba)
        y_target = tf.constant([[1.]]) - tf.cast(action, tf.float32)
        loss = tf.reduce_mean(loss_fn(y_target, left_proba))
    grads = tape.gradient(loss, model.trainable_variables)
    obs, reward, done, truncated, info = env.step(int(action[0, 0]))
    return obs, reward, done, truncated, grads


def play_multiple_episodes(env, n_episodes, n_max_steps, model, loss_fn):
    """The notebook's ``play_multiple_episodes``: ``n_episodes`` episodes of ``play_one_step``.

    Each episode starts with an unseeded ``env.reset()`` (the training cell seeds the
    environment once, before the loop). Returns ``all_rewards, all_grads``, indexed
    ``[episode][step]`` (and ``[var_index]`` for the gradients).
    """
    return _play_episodes(play_one_step, env, n_episodes, n_max_steps, model, loss_fn)


def _play_episodes(play_step, env, n_episodes, n_max_steps, model, loss_fn):
    check_positive_int("n_episodes", n_episodes)
    check_positive_int("n_max_steps", n_max_steps)
    check_discrete_actions(env)
    all_rewards = []
    all_grads = []
    for episode in range(n_episodes):
        current_rewards = []
        current_grads = []
        obs, info = env.reset()
        for step in range(n_max_steps):
            obs, reward, done, truncated, grads = play_step(env, obs, model, loss_fn)
            current_rewards.append(reward)
            current_grads.append(grads)
            if done or truncated:
                break
        all_rewards.append(current_rewards)
        all_grads.append(current_grads)
    return all_rewards, all_grads


def discount_rewards(rewards, discount_factor):
    """The notebook's ``discount_rewards``: each step's reward plus the discounted future ones.

    ``discount_rewards([10, 0, -50], 0.8)`` → ``array([-22, -40, -50])``. As in the
    notebook, the result has the rewards' dtype: integer rewards give integers
    (each partial sum truncated), float rewards (every environment's) floats.
    """
    check_unit_interval("discount_factor", discount_factor)
    discounted = np.array(rewards)
    if discounted.ndim != 1:
        raise ValueError(f"rewards must be a 1-D sequence, got shape {discounted.shape}")
    for step in range(len(rewards) - 2, -1, -1):
        discounted[step] += discounted[step + 1] * discount_factor
    return discounted


def discount_and_normalize_rewards(all_rewards, discount_factor):
    """The notebook's ``discount_and_normalize_rewards``: discount each episode's rewards, then
    standardize them with the mean and standard deviation over all episodes' steps.

    Raises ``ValueError`` when every discounted reward is the same (the standard
    deviation is 0, where the notebook would silently return NaNs).
    """
    all_discounted_rewards = [discount_rewards(rewards, discount_factor)
                              for rewards in all_rewards]
    if not all_discounted_rewards or sum(map(len, all_discounted_rewards)) == 0:
        raise ValueError("no rewards to normalize")
    flat_rewards = np.concatenate(all_discounted_rewards)
    reward_mean = flat_rewards.mean()
    reward_std = flat_rewards.std()
    if reward_std == 0:
        raise ValueError(
            f"all {flat_rewards.size} discounted rewards equal {reward_mean!r}: their standard "
            "deviation is 0, so they cannot be normalized (the notebook would divide by 0)")
    return [(discounted_rewards - reward_mean) / reward_std
            for discounted_rewards in all_discounted_rewards]


# --- the notebook's functions, exercise 8 (LunarLander) ---------------------------

def lander_play_one_step(env, obs, model, loss_fn):
    """Exercise 8's ``lander_play_one_step``: ``play_one_step`` for a softmax policy.

    The action is drawn by ``tf.random.categorical`` from the log-probabilities
    (``log(probas + epsilon)``), and is its own target for
    ``sparse_categorical_crossentropy``.

    The notebook unpacks ``env.step`` as ``obs, reward, done, info, truncated``,
    swapping two names: its ``truncated`` holds ``info`` (LunarLander's is an
    empty dict, so never true) and the real ``truncated`` is dropped. Nothing
    observable changes with the defaults: Gymnasium truncates LunarLander at
    1000 steps, exactly where ``n_max_steps=1000`` stops the episode anyway.
    Written correctly here; the numbers are the notebook's.
    """
    obs = check_observation(obs, model)
    with tf.GradientTape() as tape:
        probas = model(obs[np.newaxis])
        logits = tf.math.log(probas + tf.keras.backend.epsilon())
        action = tf.random.categorical(logits, num_samples=1)
        loss = tf.reduce_mean(loss_fn(action, probas))
    grads = tape.gradient(loss, model.trainable_variables)
    obs, reward, done, truncated, info = env.step(action[0, 0].numpy())
    return obs, reward, done, truncated, grads


def lander_play_multiple_episodes(env, n_episodes, n_max_steps, model, loss_fn):
    """Exercise 8's ``lander_play_multiple_episodes``: ``play_multiple_episodes`` with
    ``lander_play_one_step``. (The notebook's text promises a penalty for not
    landing in time; its code adds none, and neither do we.)"""
    return _play_episodes(lander_play_one_step, env, n_episodes, n_max_steps, model, loss_fn)


def lander_policy_net(n_inputs=8, n_outputs=4, seed=42):
    """Exercise 8's policy net: ``Dense(32, relu)`` ×2 → ``Dense(4, softmax)``.

    Mirrors ``np.random.seed(42); tf.random.set_seed(42)`` then the ``Sequential``,
    the seeding read as ``set_seeds`` (which seeds NumPy too); ``seed=None`` builds it unseeded.
    """
    if seed is not None:
        set_seeds(seed)
    return tf.keras.Sequential([
        tf.keras.layers.Dense(32, activation="relu", input_shape=[n_inputs]),
        tf.keras.layers.Dense(32, activation="relu"),
        tf.keras.layers.Dense(n_outputs, activation="softmax"),
    ])


# --- the shared training loop ---------------------------------------------------

def mean_gradients(all_final_rewards, step_grads):
    """The cell's ``all_mean_grads``: per variable, the mean over every step of
    ``final_reward * grad``.

    The cell multiplies each step's float32 gradient by its float64 normalized
    reward (which TensorFlow casts to float32 first) and reduces the packed list
    with ``tf.reduce_mean(..., axis=0)``; here the same products are made on the
    stacked gradients, and the same ``tf.reduce_mean`` reduces them: the same bits.
    """
    final_rewards = np.concatenate(all_final_rewards).astype(np.float32)
    return [tf.reduce_mean(final_rewards.reshape((-1,) + (1,) * (grads.ndim - 1)) * grads, axis=0)
            for grads in step_grads]


def reinforce(env, model, optimizer, loss_fn, play, config, progress=True, desc="REINFORCE",
              callback=None):
    """The notebook's training loop, shared by every engine and both environments.

    Each iteration: ``play`` ``n_episodes_per_update`` episodes (giving each step's
    rewards and gradients), record the mean total reward, discount and normalize
    the rewards, average the reward-weighted gradients, apply them. Returns the
    list of per-iteration mean rewards (the numbers the cell prints).
    ``callback(iteration, all_rewards)``, if given, is called after each iteration.
    """
    mean_rewards = []
    bar = progress_bar(range(config.n_iterations), desc=desc, progress=progress, unit="it")
    for iteration in bar:
        all_rewards, step_grads = play(env, config.n_episodes_per_update, config.n_max_steps,
                                       model, loss_fn)
        mean_reward = sum(map(sum, all_rewards)) / config.n_episodes_per_update
        mean_rewards.append(mean_reward)
        bar.set_postfix(mean_reward=f"{mean_reward:.1f}")
        all_final_rewards = discount_and_normalize_rewards(all_rewards, config.discount_factor)
        all_mean_grads = mean_gradients(all_final_rewards, step_grads)
        optimizer.apply_gradients(zip(all_mean_grads, model.trainable_variables))
        if callback is not None:
            callback(iteration, all_rewards)
    return mean_rewards


# --- the training functions -------------------------------------------------------

def train_policy_gradients(n_iterations=150, n_episodes_per_update=10, n_max_steps=200,
                           discount_factor=0.95, learning_rate=0.01, seed=42, engine=None,
                           progress=True, callback=None, revision="current", optimizer=None):
    """The notebook's policy-gradients training cell (REINFORCE on CartPole).

    ``set_seeds(seed)`` (the cell's ``tf.random.set_seed(42)``, read as
    ``tf.keras.utils.set_random_seed``, which also seeds NumPy and Python), the
    policy net, ``env.reset(seed=seed)`` once, ``Nadam(learning_rate)`` and
    ``binary_crossentropy``, then :func:`reinforce`. ``engine`` is ``"notebook"``
    (the cell's eager ``play_multiple_episodes``: about 10 minutes, and 5 GB, as
    TensorFlow caches a kernel per step's random draw), ``"fast"`` (the same
    numbers in seconds) or ``None`` (``"fast"`` where it is proven exact).

    Returns ``(mean_rewards, model)``: the mean total reward of each iteration
    (what the cell prints) and the trained policy net. ``callback(iteration,
    all_rewards)`` is called after each iteration (e.g. to count steps).

    ``revision="older"`` runs the older revision's cells (:data:`OLDER_REVISION`: ``Adam``,
    an ELU net, the old seeding), on the notebook engine; ``optimizer`` names another Keras
    optimizer (default: the revision's).
    """
    config = policy_gradients_config(
        "CartPole-v1", revision, optimizer, n_iterations=n_iterations,
        n_episodes_per_update=n_episodes_per_update, n_max_steps=n_max_steps,
        discount_factor=discount_factor, learning_rate=learning_rate, seed=seed)
    return train_from_config(config, engine, progress, callback)


def policy_gradients_config(env_id="CartPole-v1", revision="current", optimizer=None, **fields):
    """The :class:`PolicyGradientsConfig` of a run: the environment's (CartPole's cell, or
    exercise 8's :data:`LANDER_CONFIG` for ``LunarLander-v3``), ``revision``'s optimizer
    (:data:`OLDER_REVISION`), then ``optimizer`` and ``fields`` where given."""
    check_revision(revision)
    base = LANDER_CONFIG if env_id == LANDER_CONFIG.env_id else PolicyGradientsConfig(env_id=env_id)
    settings = {"revision": revision}
    if revision == "older":
        settings["optimizer"] = OLDER_REVISION[base.env_id]["optimizer"]
    if optimizer is not None:
        settings["optimizer"] = optimizer
    return replace(base, **fields, **settings)


def train_from_config(config, engine=None, progress=True, callback=None):
    """Train REINFORCE as ``config`` says: exercise 8's cells for ``LunarLander-v3``, the
    CartPole cell otherwise. Returns ``(mean_rewards, model)``."""
    if config.env_id == LANDER_CONFIG.env_id:
        return _train(config, engine, progress,
                      lambda env: lander_policy_net(env.observation_space.shape[0],
                                                    check_discrete_actions(env), config.seed),
                      tf.keras.losses.sparse_categorical_crossentropy,
                      lander_play_multiple_episodes, "lunar lander", callback)
    return _train(config, engine, progress,
                  lambda env: policy_net(config.seed, config.revision),
                  tf.keras.losses.binary_crossentropy, play_multiple_episodes,
                  "policy gradients", callback)


def train_lander(n_iterations=200, n_episodes_per_update=16, n_max_steps=1000,
                 discount_factor=0.99, learning_rate=0.005, seed=42, engine=None, progress=True,
                 callback=None, revision="current", optimizer=None):
    """Exercise 8's training cells: REINFORCE on ``LunarLander-v3`` with a softmax policy.

    Mirrors the cells: ``np.random.seed(42); tf.random.set_seed(42)`` (one
    ``set_seeds``), :func:`lander_policy_net`, ``Nadam(0.005)``,
    ``sparse_categorical_crossentropy``, ``env.reset(seed=42)``, then the shared
    loop with ``lander_play_multiple_episodes``. Returns ``(mean_rewards, model)``;
    ``engine``, ``progress``, ``callback``, ``revision`` and ``optimizer`` as in
    :func:`train_policy_gradients` (the older revision's lander differs in its seeding only).

    The ``"notebook"`` engine takes hours here, and memory: TensorFlow caches one
    kernel per eager random op seed (about 44 KB each, never freed), one per step,
    so the cell's 1.8 million steps would need some 80 GB. Use it for a few iterations.

    Note: ``set_seeds`` turns on op determinism, under which TensorFlow computes
    the sparse cross-entropy as ``-log_softmax(logits)[action]`` rather than with
    its fused kernel: same values, other last bits. From the second iteration on,
    the numbers are those of the cells run with determinism on.
    """
    config = policy_gradients_config(
        LANDER_CONFIG.env_id, revision, optimizer, n_iterations=n_iterations,
        n_episodes_per_update=n_episodes_per_update, n_max_steps=n_max_steps,
        discount_factor=discount_factor, learning_rate=learning_rate, seed=seed)
    return train_from_config(config, engine, progress, callback)


def _train(config, engine, progress, make_model, loss_fn, play_multiple_episodes_fn, desc,
           callback):
    """What both training cells do, in their order: seed and build the net, seed the
    environment once, make the optimizer, run :func:`reinforce` with the chosen engine
    (the older revision: ``clear_session()`` first, and ``env.seed(seed)``)."""
    older = config.revision == "older"
    if older and config.env_id == "CartPole-v1":  # its ELU net: the fast engine replays ReLU
        if engine == "fast":
            raise ValueError("the fast engine replays ReLU policy nets, and the older "
                             "revision's CartPole net is ELU: use engine='notebook' (its default)")
        engine = "notebook" if engine is None else engine
    engine = resolve_reinforce_engine(engine, config.env_id)
    env = make_env(config.env_id, render_mode=None)
    check_discrete_actions(env)
    if older:
        env = SeedNextReset(env)
        tf.keras.backend.clear_session()
    model = make_model(env)  # seeds everything first (set_seeds)
    if not model.built:  # the CartPole net is built by its first call in the notebook
        model.build((None,) + env.observation_space.shape)
    if older:
        env.seed(config.seed)  # the next reset is reset(seed=seed)
    else:
        obs, info = env.reset(seed=config.seed)
    optimizer = make_optimizer(config.optimizer, config.learning_rate)
    play = make_reinforce_engine(engine, config.env_id, play_multiple_episodes_fn)
    mean_rewards = reinforce(env, model, optimizer, loss_fn, play, config, progress,
                             f"{desc} ({engine})", callback)
    env.close()
    return TrainingResult(mean_rewards, model)


# --- the trained lander, played (the notebook's lander_render_policy_net) ------------

def lander_policy(model):
    """The action rule of the notebook's ``lander_render_policy_net``, as a policy function:
    ``tf.random.categorical(log(model(obs) + epsilon), 1)``, eager, as the notebook plays it."""
    def policy(obs):
        probas = model(check_observation(obs, model)[np.newaxis])
        logits = tf.math.log(probas + tf.keras.backend.epsilon())
        action = tf.random.categorical(logits, num_samples=1)
        return int(action[0, 0].numpy())
    return policy


def lander_render_policy_net(model, n_max_steps=500, seed=42):
    """The notebook's ``lander_render_policy_net``: the frames of one episode of the net.

    Seeds as the notebook does (``tf.random.set_seed(seed)`` read as ``set_seeds``,
    then ``np.random.seed(seed)`` and ``env.reset(seed=seed)``). Returns ``(frames, episode)``
    (see :func:`homl_rl.animation.record_episode`).
    """
    set_seeds(seed)
    return record_episode(lander_policy(model), n_max_steps, seed, env_id=LANDER_CONFIG.env_id)


