"""The REINFORCE engines: who plays the episodes of :mod:`homl_rl.policy_gradients`.

The notebook's training loop (:func:`homl_rl.policy_gradients.reinforce`) asks an
engine for one thing each iteration: play ``n_episodes`` episodes and return every
step's rewards and gradients. Everything else (discounting, normalizing, averaging, the
optimizer step) is the loop's, shared by both engines:

- ``"notebook"`` (:class:`ReinforceNotebookEngine`): the cells' own functions, one eager
  ``GradientTape`` a step. Its floats are the reference.
- ``"fast"`` (:class:`ReinforceFastEngine`): the same arithmetic replayed in NumPy
  (:mod:`homl_rl.engines.eager_replica`): TF's Philox draws from the same op seeds, a
  cheap float64 forward pass to pick each action (the exact float32 one when a draw
  falls within :data:`MARGIN` of a decision boundary), then, once per iteration, every
  step's forward pass and gradients, replicating the float32 operations of the eager
  kernels (oneDNN's MatMul and softmax, Eigen's elementwise ops). It checks its own
  actions against the exact forward pass; before it is used by default,
  :func:`fast_engine_is_exact` checks it against TF's tape, bit for bit.

Both give the same mean rewards, iteration for iteration, and the same weights, bit for
bit, on the pinned stack (measured: CartPole all 150 iterations against the notebook's
cell; the lander its first iterations).
"""

import bisect
import functools
import itertools
import math
import random
import warnings

import numpy as np

from homl_rl.checks import check_discrete_actions, check_observation, check_positive_int
from homl_rl.engines import eager_replica as replica
from homl_rl.kernels import kernel_families
from homl_rl.tf_setup import tf
from tensorflow.python.ops import gen_random_ops  # noqa: E402  (after tf_setup)

REINFORCE_ENGINES = ("notebook", "fast")
"""The REINFORCE engines' names: ``train_policy_gradients(engine=name)``, ``train_lander(engine=name)``."""


# --- the notebook engine ----------------------------------------------------------

def stack_step_gradients(all_grads, n_variables):
    """``all_grads[episode][step][var_index]`` → one array per variable, steps stacked in order."""
    flat = [grads for episode_grads in all_grads for grads in episode_grads]
    return [np.stack([np.asarray(grads[var_index]) for grads in flat])
            for var_index in range(n_variables)]


class ReinforceNotebookEngine:
    """The ``"notebook"`` engine: the cell's own ``play_multiple_episodes`` (or the
    lander's), one eager ``GradientTape`` a step, its gradients stacked per variable."""
    name = "notebook"

    def __init__(self, play_multiple_episodes):
        self.play_multiple_episodes = play_multiple_episodes

    def __call__(self, env, n_episodes, n_max_steps, model, loss_fn):
        all_rewards, all_grads = self.play_multiple_episodes(env, n_episodes, n_max_steps,
                                                             model, loss_fn)
        return all_rewards, stack_step_gradients(all_grads, len(model.trainable_variables))


# --- the fast engine --------------------------------------------------------------

MARGIN = 1e-4
"""Where a draw lies this close (relative) to a decision boundary of the cheap float64
forward pass, the exact float32 one decides the action."""


def replica_forward(x, weights, row):
    """The eager ``model(obs[np.newaxis])`` of every step at once, bit for bit with the
    one-row MatMul ``row`` (a :class:`~homl_rl.engines.eager_replica.RowMatmul`): the ReLU
    layers' outputs and the last layer's pre-activation (the logits)."""
    kernels, biases = weights[0::2], weights[1::2]
    hiddens, h = [], np.asarray(x, np.float32)
    for kernel, bias in zip(kernels[:-1], biases[:-1]):
        h = replica.relu(row.dense(h, kernel, bias))
        hiddens.append(h)
    return hiddens, row.dense(h, kernels[-1], biases[-1])


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
    def act(obs, weights64, weights, random, row):
        u = random.uniform()
        left_proba = 1 / (1 + math.exp(-approx_forward(obs, weights64)[0]))
        exact = abs(u - left_proba) < MARGIN
        if exact:
            left_proba = replica.sigmoid(replica_forward(obs[np.newaxis], weights, row)[1][:, 0])[0]
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
    def act(cls, obs, weights64, weights, random, row):
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
            cdf = cls._exact_cdf(cls._log_probas(replica_forward(obs[np.newaxis], weights, row)[1])[0])
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


class ReinforceFastEngine:
    """The ``"fast"`` engine: ``play_multiple_episodes`` (or the lander's), same numbers, in NumPy.

    Each step draws from the replayed TF random stream and picks the action with
    a cheap float64 forward pass (the exact one near a decision boundary); after
    the episodes, every step's exact forward pass and gradients are computed at
    once (:mod:`homl_rl.engines.eager_replica`), and the actions are checked against the
    exact forward pass. ``row`` is the one-row MatMul replica of this machine's kernel
    class (:func:`row_matmul_for`). Create it right after the training's ``set_seeds``.
    """
    name = "fast"

    def __init__(self, head, row):
        self.head = head
        self.row = row
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
        activations = [getattr(layer.activation, "__name__", None) for layer in model.layers[:-1]]
        if any(activation != "relu" for activation in activations):
            raise ValueError(f"the fast engine replays ReLU hidden layers only, got {activations}; "
                             f"use engine='notebook' for this net")
        units = [layer.units for layer in model.layers[1:]]
        if not all(map(self.row.supports_units, units)):
            raise ValueError(f"the fast engine's {self.row.kernel_class} replica is not known exact "
                             f"for layers of {units} units; use engine='notebook' for this net")
        weights = [np.asarray(v.numpy(), np.float32) for v in model.trainable_variables]
        weights64 = [w.astype(np.float64) for w in weights]
        all_rewards, observations, actions, draws = [], [], [], []
        for episode in range(n_episodes):
            current_rewards = []
            obs, info = env.reset()
            check_observation(obs, model)
            for step in range(n_max_steps):
                action, draw, exact = self.head.act(obs, weights64, weights, self.random, self.row)
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
        hiddens, logits = replica_forward(x, weights, self.row)
        if np.any(self.head.replayed_actions(logits, np.array(draws)) != actions):
            raise RuntimeError("the fast engine took an action the exact forward pass would not "
                               "have; its numbers would differ from the notebook's")
        return all_rewards, self.row.dense_gradients(x, weights[0::2], hiddens,
                                                     self.head.dlogits(logits, actions))


REINFORCE_HEADS = {"CartPole-v1": BernoulliHead, "LunarLander-v3": CategoricalHead}
"""The fast engine's output head for each environment it replays."""


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
def proven_row_matmul(env_id="CartPole-v1", n_probes=48):
    """The one-row MatMul replica (:data:`~homl_rl.engines.eager_replica.ROW_MATMULS`) with
    which the fast engine gives the eager step's floats, bit for bit, on this machine; or
    ``None`` when no replica does (a CPU class nobody has measured, another TensorFlow build).

    Checks, on ``n_probes`` random observations and a random net: the forward
    pass and every gradient against ``play_one_step``'s (or the lander's) eager
    tape, for each class's replica, and the replayed random draws against TF's
    random ops at explicit seeds, repeated kernels included. Touches no random
    state a training run depends on; turns op determinism on, as ``set_seeds`` does.
    """
    head = REINFORCE_HEADS.get(env_id)
    if head is None or replica.LIBM is None:
        return None
    tf.config.experimental.enable_op_determinism()
    model = _probe_net(head)
    rng = np.random.default_rng(1234)
    x = rng.normal(scale=0.8, size=(n_probes,) + tuple(model.input_shape[1:])).astype(np.float32)
    n_actions = model.output_shape[-1] if head is CategoricalHead else 2
    actions = np.arange(n_probes) % n_actions
    weights = [v.numpy() for v in model.trainable_variables]
    loss_fn = getattr(tf.keras.losses, head.loss_fn_name)
    outputs, tape_grads = [], []
    for i in range(n_probes):  # TensorFlow's side, once
        with tf.GradientTape() as tape:
            output = model(x[i][np.newaxis])
            target = (tf.constant([[1. - actions[i]]]) if head is BernoulliHead
                      else tf.constant([[actions[i]]], tf.int64))
            loss = tf.reduce_mean(loss_fn(target, output))
        outputs.append(output.numpy().ravel())
        tape_grads.append([grad.numpy() for grad in tape.gradient(loss, model.trainable_variables)])
    same = lambda ours, theirs: ours.tobytes() == np.asarray(theirs, ours.dtype).tobytes()  # noqa: E731
    for row in replica.ROW_MATMULS.values():
        hiddens, logits = replica_forward(x, weights, row)
        grads = row.dense_gradients(x, weights[0::2], hiddens, head.dlogits(logits, actions))
        expected = (replica.sigmoid(logits[:, 0])[:, None] if head is BernoulliHead
                    else tf.nn.softmax(logits).numpy())
        if all(same(np.asarray(expected[i], np.float32).ravel(), outputs[i])
               and all(same(ours[i], theirs.reshape(ours[i].shape))
                       for ours, theirs in zip(grads, tape_grads[i]))
               for i in range(n_probes)):
            break
    else:
        return None
    if head is CategoricalHead:  # the batched softmax and log are the one-row ones
        log_probas = head._log_probas(logits)
        rows = [tf.math.log(tf.nn.softmax(logits[i:i + 1]) + tf.keras.backend.epsilon()).numpy()[0]
                for i in range(n_probes)]
        if not same(log_probas, np.array(rows)):
            return None
    return row if _random_replica_is_exact(x, logits, head) else None


def fast_engine_is_exact(env_id="CartPole-v1"):
    """Whether the fast engine gives the eager step's floats, bit for bit, on this machine
    (:func:`proven_row_matmul` found a replica that does)."""
    return proven_row_matmul(env_id) is not None


def _random_replica_is_exact(x, logits, head):
    """The replayed draws == TF's random ops at explicit seeds, a kernel used twice included.

    The seeds are fresh (system entropy): a kernel TF cached earlier in the
    process under the same seeds would continue its stream.
    """
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


def resolve_reinforce_engine(engine, env_id):
    """``engine``'s name, checked; ``None`` is the fastest engine proven exact here."""
    if engine is None:
        if fast_engine_is_exact(env_id):
            return "fast"
        warnings.warn(f"the fast engine's arithmetic does not match TensorFlow's eager kernels "
                      f"on this machine for {env_id}; using the (slow) notebook engine. Pass "
                      f"engine='fast' for speed, with numbers that differ from the notebook's.",
                      RuntimeWarning, stacklevel=3)
        return "notebook"
    if engine not in REINFORCE_ENGINES:
        raise ValueError(f"engine must be one of {', '.join(map(repr, REINFORCE_ENGINES))} or "
                         f"None, got {engine!r}")
    return engine


def row_matmul_for(env_id):
    """The one-row MatMul replica the fast engine runs here: the one proven exact on this
    machine, else the one of the class of this machine's one-row MatMul
    (:func:`homl_rl.kernels.kernel_families`), else AVX-512's (``engine="fast"`` asked for
    where nothing is proven: numbers may differ from the notebook's)."""
    proven = proven_row_matmul(env_id)
    if proven is not None:
        return proven
    return replica.ROW_MATMULS.get(kernel_families()["matmul_row"], replica.ROW_MATMULS["x86-avx512"])


def make_reinforce_engine(engine, env_id, play_multiple_episodes):
    """The ``play`` function of :func:`homl_rl.policy_gradients.reinforce` for a resolved
    engine name: the fast engine for ``env_id``'s head, or the notebook engine running
    the cell's ``play_multiple_episodes``. Make it right after the training's ``set_seeds``."""
    if engine == "fast":
        return ReinforceFastEngine(REINFORCE_HEADS[env_id], row_matmul_for(env_id))
    return ReinforceNotebookEngine(play_multiple_episodes)
