"""Section "Policy Gradients" (REINFORCE on CartPole) and exercise 8 (LunarLander).

Mirrors the notebook's cells: ``play_one_step``, ``play_multiple_episodes``,
``discount_rewards``, ``discount_and_normalize_rewards`` and the training loop
(binary cross-entropy); the exercise's ``lander_play_one_step``,
``lander_play_multiple_episodes`` and its loop (sparse categorical
cross-entropy). The training functions take no notebook globals: model,
optimizer and loss are made inside, from a frozen :class:`PolicyGradientsConfig`.

Two engines play the episodes of an iteration and give the per-step gradients;
everything else (discounting, normalizing, averaging, the optimizer step) is
one shared loop, :func:`reinforce`:

- ``"notebook"``: the cells' own functions, one eager ``GradientTape`` a step.
  Its floats are the reference.
- ``"fast"``: the same arithmetic replayed in NumPy (:mod:`homl_rl.eager_replica`):
  TF's Philox draws from the same op seeds, a cheap float64 forward pass to
  pick each action (the exact float32 one when a draw falls within 1e-4 of a
  decision boundary), then, once per iteration, every step's forward pass and
  gradients, replicating the float32 operations of the eager kernels (oneDNN's
  MatMul and softmax, Eigen's elementwise ops). It checks its own actions
  against the exact forward pass; before it is used by default,
  :func:`fast_engine_is_exact` checks it against TF's tape, bit for bit.

Both give the same mean rewards, iteration for iteration, and the same weights,
bit for bit, on the pinned stack (measured: CartPole all 150 iterations against
the notebook's cell; the lander its first iterations).
"""

import bisect
import functools
import itertools
import math
import random
import warnings
from dataclasses import asdict, dataclass, replace
from typing import NamedTuple

import numpy as np

from homl_rl import eager_replica as replica
from homl_rl.checks import (
    check_non_negative_int, check_positive_int, check_positive_number, check_unit_interval)
from homl_rl.environments import check_discrete_actions, make_env
from homl_rl.figures import register
from homl_rl.nn_policy import check_observation, policy_net
from homl_rl.plotting import save_data, save_fig
from homl_rl.progress import progress_bar
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf

ENGINES = ("notebook", "fast")


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
    """Nadam's learning rate"""
    seed: int = 42
    """``set_seeds(seed)`` before the net is built, then ``env.reset(seed=seed)`` once"""
    env_id: str = "CartPole-v1"
    """the Gymnasium environment"""

    def __post_init__(self):
        for name in ("n_iterations", "n_episodes_per_update", "n_max_steps"):
            check_positive_int(name, getattr(self, name))
        check_unit_interval("discount_factor", self.discount_factor)
        check_positive_number("learning_rate", self.learning_rate)
        check_non_negative_int("seed", self.seed)


LANDER_CONFIG = PolicyGradientsConfig(n_iterations=200, n_episodes_per_update=16, n_max_steps=1000,
                                      discount_factor=0.99, learning_rate=0.005,
                                      env_id="LunarLander-v3")
"""Exercise 8's hyper-parameters (the notebook's ``LunarLander-v2`` is ``v3`` in Gymnasium 1.x)."""


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

def stack_step_gradients(all_grads, n_variables):
    """``all_grads[episode][step][var_index]`` → one array per variable, steps stacked in order."""
    flat = [grads for episode_grads in all_grads for grads in episode_grads]
    return [np.stack([np.asarray(grads[var_index]) for grads in flat])
            for var_index in range(n_variables)]


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


def notebook_engine(play_multiple_episodes_fn):
    """The ``"notebook"`` engine: the cell's own function, its gradients stacked per variable."""
    def play(env, n_episodes, n_max_steps, model, loss_fn):
        all_rewards, all_grads = play_multiple_episodes_fn(env, n_episodes, n_max_steps,
                                                           model, loss_fn)
        return all_rewards, stack_step_gradients(all_grads, len(model.trainable_variables))
    return play


# --- the fast engine --------------------------------------------------------------

MARGIN = 1e-4
"""Where a draw lies this close (relative) to a decision boundary of the cheap float64
forward pass, the exact float32 one decides the action."""


def replica_forward(x, weights):
    """The eager ``model(obs[np.newaxis])`` of every step at once, bit for bit: the ReLU
    layers' outputs and the last layer's pre-activation (the logits)."""
    kernels, biases = weights[0::2], weights[1::2]
    hiddens, h = [], np.asarray(x, np.float32)
    for kernel, bias in zip(kernels[:-1], biases[:-1]):
        h = replica.relu(replica.dense(h, kernel, bias))
        hiddens.append(h)
    return hiddens, replica.dense(h, kernels[-1], biases[-1])


def approx_forward(obs, weights64):
    """A cheap float64 forward pass of one observation, to within ~1e-6 of the exact one."""
    h = obs
    for kernel, bias in zip(weights64[0:-2:2], weights64[1:-2:2]):
        h = np.maximum(h @ kernel + bias, 0)
    return h @ weights64[-2] + weights64[-1]


class BernoulliHead:
    """CartPole's output: one sigmoid unit, p(left), as in ``play_one_step``.

    The action is ``tf.random.uniform([1, 1]) > left_proba``; the loss
    ``binary_crossentropy(1 - action, left_proba)``.
    """
    loss_fn_name = "binary_crossentropy"

    @staticmethod
    def act(obs, weights64, weights, random):
        u = random.uniform()
        left_proba = 1 / (1 + math.exp(-approx_forward(obs, weights64)[0]))
        exact = abs(u - left_proba) < MARGIN
        if exact:
            left_proba = replica.sigmoid(replica_forward(obs[np.newaxis], weights)[1][:, 0])[0]
        return int(u > left_proba), u, exact

    @staticmethod
    def replayed_actions(logits, draws):
        """The actions the eager step takes, from the exact logits and the draws."""
        return (draws > replica.sigmoid(logits[:, 0])).astype(int)

    @staticmethod
    def dlogits(logits, actions):
        """d loss / d logit, op by op as the tape differentiates
        ``sigmoid_cross_entropy_with_logits`` = ``max(z, 0) - z * y + log1p(exp(-|z|))``;
        the tape adds z's four incoming gradients in this order (AddN)."""
        f32 = np.float32
        z = logits[:, 0]
        y_target = (1 - actions).astype(f32)
        cond = z >= 0
        e = replica.expf(np.where(cond, -z, z))
        grad_neg_abs = ((f32(1) / (f32(1) + e)).astype(f32) * e).astype(f32)
        terms = (np.where(cond, f32(1), f32(0)),           # from max(z, 0)
                 (f32(-1) * y_target).astype(f32),         # from - z * y
                 -np.where(cond, grad_neg_abs, f32(0)),    # from where(cond, -z, .)
                 np.where(cond, f32(0), grad_neg_abs))     # from where(cond, ., z)
        dz = terms[0]
        for term in terms[1:]:
            dz = (dz + term).astype(f32)
        return dz[:, None]


class CategoricalHead:
    """The lander's output: a softmax over the actions, as in ``lander_play_one_step``.

    The action is ``tf.random.categorical(log(probas + epsilon), 1)``; the loss
    ``sparse_categorical_crossentropy(action, probas)``, which Keras computes from
    the logits, and which under op determinism (``set_seeds``) TensorFlow
    computes as ``-log_softmax(logits)[action]``.
    """
    loss_fn_name = "sparse_categorical_crossentropy"
    EPSILON = np.float32(1e-7)
    """``tf.keras.backend.epsilon()``"""

    @classmethod
    def act(cls, obs, weights64, weights, random):
        draw = random.categorical_draw()
        z = approx_forward(obs, weights64).tolist()
        z_max = max(z)
        exp_z = [math.exp(value - z_max) for value in z]
        total = sum(exp_z)
        # the kernel's CDF, cumsum(exp(log_probas - max)), is proportional to cumsum(probas + epsilon)
        cdf = list(itertools.accumulate(value / total + 1e-7 for value in exp_z))
        to_find = draw * cdf[-1]
        exact = min(abs(bound - to_find) for bound in cdf) < MARGIN * cdf[-1]
        if exact:
            cdf = cls._exact_cdf(cls._log_probas(replica_forward(obs[np.newaxis], weights)[1])[0])
            to_find = draw * cdf[-1]
        return bisect.bisect_right(cdf, to_find), draw, exact

    @classmethod
    def _log_probas(cls, logits):
        """``tf.math.log(probas + epsilon)``: oneDNN's softmax (the same bits for a batch as
        row by row), then the C library's ``logf``."""
        probas = tf.nn.softmax(logits).numpy()
        return replica.logf(probas + cls.EPSILON)

    @staticmethod
    def _exact_cdf(log_probas):
        """The ``Multinomial`` kernel's CDF: ``exp`` in float64 (Eigen's, via ``tf.exp``)."""
        shifted = log_probas.astype(np.float64) - np.float64(log_probas.max())
        return np.cumsum(tf.exp(shifted).numpy())

    @classmethod
    def replayed_actions(cls, logits, draws):
        """The actions the eager step takes, from the exact logits and the draws. NumPy's
        float64 ``exp`` is within an ulp or two of Eigen's; rows closer than 1e-12 to a
        boundary are redone with Eigen's."""
        log_probas = cls._log_probas(logits)
        shifted = log_probas.astype(np.float64) - log_probas.max(axis=1, keepdims=True)
        cdf = np.cumsum(np.exp(shifted), axis=1)
        to_find = draws * cdf[:, -1]
        actions = (cdf <= to_find[:, None]).sum(axis=1)
        for row in np.nonzero(np.min(np.abs(cdf - to_find[:, None]), axis=1) < 1e-12 * cdf[:, -1])[0]:
            exact_cdf = cls._exact_cdf(log_probas[row])
            actions[row] = np.searchsorted(exact_cdf, draws[row] * exact_cdf[-1], side="right")
        return actions

    @staticmethod
    def dlogits(logits, actions):
        """d loss / d logits of ``-log_softmax(logits)[action]``: ``exp(log_softmax) - onehot``,
        with Eigen's ``LogSoftmax`` on one row: ``shifted - log(sum(exp(shifted)))``."""
        f32 = np.float32
        shifted = (logits - logits.max(axis=1, keepdims=True)).astype(f32)
        exp_shifted = replica.expf(shifted)
        total = np.zeros(len(logits), f32)
        for j in range(logits.shape[1]):
            total = (total + exp_shifted[:, j]).astype(f32)
        log_softmax = (shifted - replica.logf(total)[:, None]).astype(f32)
        onehot = np.eye(logits.shape[1], dtype=f32)[actions]
        return (replica.expf(log_softmax) - onehot).astype(f32)


class FastEngine:
    """The ``"fast"`` engine: ``play_multiple_episodes`` (or the lander's), same numbers, in NumPy.

    Each step draws from the replayed TF random stream and picks the action with
    a cheap float64 forward pass (the exact one near a decision boundary); after
    the episodes, every step's exact forward pass and gradients are computed at
    once (:mod:`homl_rl.eager_replica`), and the actions are checked against the
    exact forward pass. Create it right after the training's ``set_seeds``.
    """

    def __init__(self, head):
        self.head = head
        self.random = replica.EagerRandomReplica()
        self.n_exact_steps = 0
        """steps whose action the exact forward pass decided (the draw was near a boundary)"""

    def __call__(self, env, n_episodes, n_max_steps, model, loss_fn):
        check_positive_int("n_episodes", n_episodes)
        check_positive_int("n_max_steps", n_max_steps)
        check_discrete_actions(env)
        if getattr(loss_fn, "__name__", None) != self.head.loss_fn_name:
            raise ValueError(f"this fast engine replicates {self.head.loss_fn_name} only, got "
                             f"{loss_fn!r}; use engine='notebook' for another loss")
        weights = [np.asarray(v.numpy(), np.float32) for v in model.trainable_variables]
        weights64 = [w.astype(np.float64) for w in weights]
        all_rewards, observations, actions, draws = [], [], [], []
        for episode in range(n_episodes):
            current_rewards = []
            obs, info = env.reset()
            check_observation(obs, model)
            for step in range(n_max_steps):
                action, draw, exact = self.head.act(obs, weights64, weights, self.random)
                self.n_exact_steps += exact
                observations.append(obs)
                actions.append(action)
                draws.append(draw)
                obs, reward, done, truncated, info = env.step(action)
                current_rewards.append(reward)
                if done or truncated:
                    break
            all_rewards.append(current_rewards)
        x = np.array(observations, np.float32)
        actions = np.array(actions)
        hiddens, logits = replica_forward(x, weights)
        if np.any(self.head.replayed_actions(logits, np.array(draws)) != actions):
            raise RuntimeError("the fast engine took an action the exact forward pass would not "
                               "have; its numbers would differ from the notebook's")
        return all_rewards, replica.dense_gradients(x, weights[0::2], hiddens,
                                                    self.head.dlogits(logits, actions))


HEADS = {"CartPole-v1": BernoulliHead, "LunarLander-v3": CategoricalHead}


# --- proof that the fast engine's arithmetic is the notebook's, here -------------

def _probe_net(head, seed=1234):
    """A randomly initialized net shaped like ``head``'s, seeded per initializer (no global state)."""
    init = lambda s: tf.keras.initializers.RandomNormal(stddev=0.5, seed=seed + s)  # noqa: E731
    units = [5, 1] if head is BernoulliHead else [32, 32, 4]
    activations = ["relu"] * (len(units) - 1) + ["sigmoid" if head is BernoulliHead else "softmax"]
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(n, activation=activation, kernel_initializer=init(2 * i),
                              bias_initializer=init(2 * i + 1))
        for i, (n, activation) in enumerate(zip(units, activations))])
    model.build((None, 4 if head is BernoulliHead else 8))
    return model


@functools.lru_cache(maxsize=None)
def fast_engine_is_exact(env_id="CartPole-v1", n_probes=48):
    """Whether the fast engine gives the eager step's floats, bit for bit, on this machine.

    Checks, on ``n_probes`` random observations and a random net: the forward
    pass and every gradient against ``play_one_step``'s (or the lander's) eager
    tape, and the replayed random draws against TF's random ops at explicit
    seeds, repeated kernels included. Touches no random state a training run
    depends on; turns op determinism on, as ``set_seeds`` does.
    """
    head = HEADS.get(env_id)
    if head is None or replica.LIBM is None:
        return False
    tf.config.experimental.enable_op_determinism()
    model = _probe_net(head)
    rng = np.random.default_rng(1234)
    x = rng.normal(scale=0.8, size=(n_probes,) + tuple(model.input_shape[1:])).astype(np.float32)
    n_actions = model.output_shape[-1] if head is CategoricalHead else 2
    actions = np.arange(n_probes) % n_actions
    weights = [v.numpy() for v in model.trainable_variables]
    hiddens, logits = replica_forward(x, weights)
    grads = replica.dense_gradients(x, weights[0::2], hiddens, head.dlogits(logits, actions))
    loss_fn = getattr(tf.keras.losses, head.loss_fn_name)
    same = lambda ours, theirs: ours.tobytes() == np.asarray(theirs, ours.dtype).tobytes()  # noqa: E731
    for i in range(n_probes):
        with tf.GradientTape() as tape:
            output = model(x[i][np.newaxis])
            if head is BernoulliHead:
                target, expected = tf.constant([[1. - actions[i]]]), replica.sigmoid(logits[i:i + 1, 0])
            else:
                target = tf.constant([[actions[i]]], tf.int64)
                expected = tf.nn.softmax(logits[i:i + 1]).numpy()[0]
            loss = tf.reduce_mean(loss_fn(target, output))
        if not same(np.asarray(expected, np.float32).ravel(), output.numpy().ravel()):
            return False
        tape_grads = tape.gradient(loss, model.trainable_variables)
        if not all(same(ours[i], theirs.numpy().reshape(ours[i].shape))
                   for ours, theirs in zip(grads, tape_grads)):
            return False
    if head is CategoricalHead:  # the batched softmax and log are the one-row ones
        log_probas = head._log_probas(logits)
        rows = [tf.math.log(tf.nn.softmax(logits[i:i + 1]) + tf.keras.backend.epsilon()).numpy()[0]
                for i in range(n_probes)]
        if not same(log_probas, np.array(rows)):
            return False
    return _random_replica_is_exact(x, logits, head)


def _random_replica_is_exact(x, logits, head):
    """The replayed draws == TF's random ops at explicit seeds, a kernel used twice included.

    The seeds are fresh (system entropy): a kernel TF cached earlier in the
    process under the same seeds would continue its stream.
    """
    from tensorflow.python.ops import gen_random_ops

    seed, seed2 = (random.SystemRandom().randrange(1, 2 ** 31 - 2) for _ in range(2))

    for use in range(2):
        ours = replica.EagerRandomReplica.uniform_at(seed, seed2, use)
        theirs = gen_random_ops.random_uniform([1, 1], tf.float32, seed=seed, seed2=seed2)
        if ours.tobytes() != theirs.numpy()[0, 0].tobytes():
            return False
    if head is CategoricalHead:
        log_probas = head._log_probas(logits)
        for i in range(len(x)):
            draw = replica.EagerRandomReplica.categorical_draw_at(seed, seed2 + 1, i)
            cdf = head._exact_cdf(log_probas[i])
            ours = int(np.searchsorted(cdf, draw * cdf[-1], side="right"))
            theirs = gen_random_ops.multinomial(log_probas[i:i + 1], 1, seed=seed, seed2=seed2 + 1)
            if ours != int(theirs.numpy()[0, 0]):
                return False
    return True


def resolve_engine(engine, env_id):
    """``engine`` checked; ``None`` is the fastest engine proven exact here."""
    if engine is None:
        if fast_engine_is_exact(env_id):
            return "fast"
        warnings.warn(f"the fast engine's arithmetic does not match TensorFlow's eager kernels "
                      f"on this machine for {env_id}; using the (slow) notebook engine. Pass "
                      f"engine='fast' for speed, with numbers that differ from the notebook's.",
                      RuntimeWarning, stacklevel=3)
        return "notebook"
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))} or None, "
                         f"got {engine!r}")
    return engine


# --- the training functions -------------------------------------------------------

def train_policy_gradients(n_iterations=150, n_episodes_per_update=10, n_max_steps=200,
                           discount_factor=0.95, learning_rate=0.01, seed=42, engine=None,
                           progress=True, callback=None):
    """The notebook's policy-gradients training cell (REINFORCE on CartPole).

    ``set_seeds(seed)`` (the cell's ``tf.random.set_seed(42)``, see SPEC.md), the
    policy net, ``env.reset(seed=seed)`` once, ``Nadam(learning_rate)`` and
    ``binary_crossentropy``, then :func:`reinforce`. ``engine`` is ``"notebook"``
    (the cell's eager ``play_multiple_episodes``: about 10 minutes, and 5 GB, as
    TensorFlow caches a kernel per step's random draw), ``"fast"`` (the same
    numbers in seconds) or ``None`` (``"fast"`` where it is proven exact).

    Returns ``(mean_rewards, model)``: the mean total reward of each iteration
    (what the cell prints) and the trained policy net. ``callback(iteration,
    all_rewards)`` is called after each iteration (e.g. to count steps).
    """
    config = PolicyGradientsConfig(n_iterations, n_episodes_per_update, n_max_steps,
                                   discount_factor, learning_rate, seed)
    return _train(config, engine, progress, lambda env: policy_net(config.seed),
                  tf.keras.losses.binary_crossentropy, play_multiple_episodes,
                  "policy gradients", callback)


def train_lander(n_iterations=200, n_episodes_per_update=16, n_max_steps=1000,
                 discount_factor=0.99, learning_rate=0.005, seed=42, engine=None, progress=True,
                 callback=None):
    """Exercise 8's training cells: REINFORCE on ``LunarLander-v3`` with a softmax policy.

    Mirrors the cells: ``np.random.seed(42); tf.random.set_seed(42)`` (one
    ``set_seeds``), :func:`lander_policy_net`, ``Nadam(0.005)``,
    ``sparse_categorical_crossentropy``, ``env.reset(seed=42)``, then the shared
    loop with ``lander_play_multiple_episodes``. Returns ``(mean_rewards, model)``;
    ``engine``, ``progress`` and ``callback`` as in :func:`train_policy_gradients`.

    The ``"notebook"`` engine takes hours here, and memory: TensorFlow caches one
    kernel per eager random op seed (about 44 KB each, never freed), one per step,
    so the cell's 1.8 million steps would need some 80 GB. Use it for a few iterations.

    Note: ``set_seeds`` turns on op determinism, under which TensorFlow computes
    the sparse cross-entropy as ``-log_softmax(logits)[action]`` rather than with
    its fused kernel: same values, other last bits. From the second iteration on,
    the numbers are those of the cells run with determinism on.
    """
    config = replace(LANDER_CONFIG, n_iterations=n_iterations,
                     n_episodes_per_update=n_episodes_per_update, n_max_steps=n_max_steps,
                     discount_factor=discount_factor, learning_rate=learning_rate, seed=seed)
    return _train(config, engine, progress,
                  lambda env: lander_policy_net(env.observation_space.shape[0],
                                                check_discrete_actions(env), config.seed),
                  tf.keras.losses.sparse_categorical_crossentropy, lander_play_multiple_episodes,
                  "lunar lander", callback)


def _train(config, engine, progress, make_model, loss_fn, play_multiple_episodes_fn, desc,
           callback):
    """What both training cells do, in their order: seed and build the net, seed the
    environment once, make the optimizer, run :func:`reinforce` with the chosen engine."""
    engine = resolve_engine(engine, config.env_id)
    env = make_env(config.env_id, render_mode=None)
    check_discrete_actions(env)
    model = make_model(env)  # seeds everything first (set_seeds)
    if not model.built:  # the CartPole net is built by its first call in the notebook
        model.build((None,) + env.observation_space.shape)
    obs, info = env.reset(seed=config.seed)
    optimizer = tf.keras.optimizers.Nadam(learning_rate=config.learning_rate)
    play = (FastEngine(HEADS[config.env_id]) if engine == "fast"
            else notebook_engine(play_multiple_episodes_fn))
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
    from homl_rl.animation import record_episode

    set_seeds(seed)
    return record_episode(lander_policy(model), n_max_steps, seed, env_id=LANDER_CONFIG.env_id)


# --- figures and animations ---------------------------------------------------------

FIGURE_LANDER_ITERATIONS = LANDER_CONFIG.n_iterations
"""Iterations of the lander run behind ``make figures`` (the default run's)."""


@functools.lru_cache(maxsize=1)
def trained_policy_gradients():
    """The default CartPole run (fast engine), shared by its figure and its animation."""
    return train_policy_gradients(engine="fast", progress=False)


@functools.lru_cache(maxsize=1)
def trained_lander():
    """The lander run behind the figures (fast engine), shared by the curve and the animation."""
    return train_lander(n_iterations=FIGURE_LANDER_ITERATIONS, engine="fast", progress=False)


def plot_mean_rewards(mean_rewards, title=None):
    """A learning curve: the mean total reward of each iteration.

    (The notebook's lander cell labels this axis "Episode"; each point is one
    iteration of ``n_episodes_per_update`` episodes, so it is labelled "Iteration" here.)
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8, 4))
    plt.plot(np.arange(1, len(mean_rewards) + 1), mean_rewards)
    plt.xlabel("Iteration")
    plt.ylabel("Mean reward")
    if title:
        plt.title(title)
    plt.grid(True)
    return fig


def _curve_data(mean_rewards, config):
    return {"mean_rewards": mean_rewards, "config": asdict(config), "engine": "fast",
            "engine_proven_exact_here": fast_engine_is_exact(config.env_id),
            "final_mean_reward": mean_rewards[-1], "best_mean_reward": max(mean_rewards)}


@register("policy_gradients_rewards_plot",
          "REINFORCE on CartPole: mean reward per iteration (150 iterations, seed 42)")
def policy_gradients_rewards_plot(out_dir):
    """The learning curve of the notebook's policy-gradients cell (default run, seed 42)."""
    mean_rewards, model = trained_policy_gradients()
    fig = plot_mean_rewards(mean_rewards)
    save_fig("policy_gradients_rewards_plot", fig=fig, out_dir=out_dir)
    save_data("policy_gradients_rewards_plot", _curve_data(mean_rewards, PolicyGradientsConfig()),
              out_dir=out_dir)


@register("lunar_lander_rewards_plot",
          "REINFORCE on LunarLander-v3 (exercise 8): mean reward per iteration (seed 42)")
def lunar_lander_rewards_plot(out_dir):
    """The learning curve of exercise 8's training cell."""
    mean_rewards, model = trained_lander()
    fig = plot_mean_rewards(mean_rewards)
    save_fig("lunar_lander_rewards_plot", fig=fig, out_dir=out_dir)
    config = replace(LANDER_CONFIG, n_iterations=FIGURE_LANDER_ITERATIONS)
    save_data("lunar_lander_rewards_plot", _curve_data(mean_rewards, config), out_dir=out_dir)


@register("policy_net_trained", "one episode of the policy net after REINFORCE (pg_policy, seed 42)",
          kind="animation")
def trained_policy_net_animation(out_dir):
    """The notebook's ``np.random.seed(42); show_one_episode(pg_policy)`` after training."""
    from homl_rl.animation import save_episode_animation
    from homl_rl.nn_policy import pg_policy

    mean_rewards, model = trained_policy_gradients()
    save_episode_animation("policy_net_trained", functools.partial(pg_policy, model=model),
                           out_dir, seed=42)


@register("lunar_lander_trained", "one episode of the trained lander (lander_render_policy_net, seed 42)",
          kind="animation")
def trained_lander_animation(out_dir):
    """The notebook's ``frames = lander_render_policy_net(model, seed=42)``, saved as a GIF."""
    from homl_rl.animation import save_episode_animation

    mean_rewards, model = trained_lander()
    set_seeds(42)  # the notebook's tf.random.set_seed(seed); save_episode_animation seeds the rest
    save_episode_animation("lunar_lander_trained", lander_policy(model), out_dir,
                           env_id=LANDER_CONFIG.env_id, n_max_steps=500, seed=42)
