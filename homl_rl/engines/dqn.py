"""The DQN engines: who computes the forward passes of :mod:`homl_rl.dqn`'s agents.

The agent's code is the notebook's; an engine answers its two questions, the greedy
action of one state and the Q-values of a batch (the training step's next states):

- ``"notebook"`` (:class:`DQNNotebookEngine`): ``model.predict`` at every step, as the
  cells do (tens of milliseconds a call: about half an hour for a 600-episode run);
- ``"fast"`` (:class:`DQNFastEngine`, the default): the same network in NumPy (float64)
  for the greedy action, falling back to the graph-compiled ``model(x, training=False)``
  whenever the top two Q-values are closer than a proven bound on float32's rounding
  error; the compiled call (bit-identical to ``predict``) for the batched next-state
  values. Seconds for a 600-episode run.

**Same numbers as the notebook.** Neither engine draws a random number, and both give
the Q-values ``model.predict`` gives (the fast one decides an argmax in float64 only
where float32's rounding cannot have changed it), so a run takes the same actions and
the same training steps with either.

The training step's forward pass and gradient tape run eagerly, as in the notebook, with
both. Compiling them would change the numbers twice over: graph mode fuses the Dense
layers' operations (other float32 roundings), and Keras 2.15's Nadam keeps a Python-side
counter (``_u_product_counter``) that a ``tf.function`` freezes at trace time, so a
compiled ``apply_gradients`` updates its momentum-decay product once per variable
instead of once per step (measured: 0.0143 instead of 0.0590 after 4 steps on 2
variables). The optimizer's update is the engine's (``apply_gradients``): the notebook
engine calls Keras' own; the fast one runs a plain Keras ``Nadam``'s eager update in
NumPy (:class:`~homl_rl.engines.eager_replica.NadamReplica`: the same float32 operations,
once over all variables instead of some twenty eager ops per variable), after
:func:`nadam_replica_is_exact` has checked it against Keras on this machine (otherwise,
with a warning, and for any other optimizer: Keras' own).
"""

import functools
import warnings
import weakref

import numpy as np

from homl_rl.engines.eager_replica import NadamReplica
from homl_rl.tf_setup import tf

_DUELING_LAYERS = weakref.WeakKeyDictionary()
"""model -> its Dense layers (hidden1, hidden2, state value, advantages), for NumPy forwards"""


def remember_dueling_layers(model, hidden1, hidden2, state_value_layer, advantage_layer):
    """Tell the fast engine which Dense layers a dueling Q-network is made of, so it can
    replay the network in NumPy (a functional model does not say which layer is which)."""
    _DUELING_LAYERS[model] = (hidden1, hidden2, state_value_layer, advantage_layer)


class DQNNotebookEngine:
    """The cells' own way: ``model.predict(x, verbose=0)`` for every forward pass."""
    name = "notebook"

    def predict(self, model, inputs):
        return model.predict(inputs, verbose=0)

    def greedy_action(self, model, state):
        Q_values = model.predict(state[np.newaxis], verbose=0)[0]
        return Q_values.argmax()  # optimal action according to the DQN

    def weights_changed(self, model):
        """Nothing cached."""

    def apply_gradients(self, optimizer, grads_and_vars):
        """The cell's ``optimizer.apply_gradients(grads_and_vars)``."""
        return optimizer.apply_gradients(grads_and_vars)


FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24
ELU_EVALUATION_ERROR = 16 * FLOAT32_UNIT_ROUNDOFF
"""bound on float32 elu's absolute error (``exp(x) - 1`` for x < 0, or a fused kernel's): a few
ulps of 1, times 4"""
SAFETY_FACTOR = 2.0
"""the NumPy argmax is trusted when the top-two gap exceeds this × the summed error bounds"""


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


_ACTIVATIONS = {"elu": _elu, "relu": lambda x: np.maximum(x, 0)}


def _dense_with_bound(layer, h, err):
    """One Dense layer in float64, with a bound on how far TF's float32 result can be.

    ``err`` bounds |TF's float32 input - ``h``|. Standard forward error analysis: whatever
    its summation order, a float32 dot product of length n plus the bias is within
    gamma_{n+1} * (|W|.|x| + |b|) of the exact one (gamma_k = k u / (1 - k u), u = 2**-24),
    and |x| <= |h| + err; the input's own error adds |W|.err; elu and relu are 1-Lipschitz,
    and float32 elu adds at most ELU_EVALUATION_ERROR. Our float64 arithmetic is 2**29
    times finer: its own error is covered by SAFETY_FACTOR.
    """
    W, b, absW, gamma_absb, gamma, activation = layer
    z = h @ W + b
    z_err = (gamma * np.abs(h) + (1 + gamma) * err) @ absW + gamma_absb
    if activation is None:
        return z, z_err
    return activation(z), z_err + ELU_EVALUATION_ERROR


def _numpy_layer(layer, activation, values=None):
    """A layer's float64 weights and error-bound terms, from ``values`` (its weights as arrays)
    or read from the layer."""
    values = [w.numpy() for w in layer.weights] if values is None else values  # get_weights'
    W, b = (np.asarray(value, dtype=np.float64) for value in values)
    n = W.shape[0] + 1
    gamma = n * FLOAT32_UNIT_ROUNDOFF / (1 - n * FLOAT32_UNIT_ROUNDOFF)
    return W, b, np.abs(W), gamma * np.abs(b), gamma, _ACTIVATIONS.get(activation)


def numpy_forward(model, weights=None):
    """A NumPy (float64) forward pass of one state through ``model``, or ``None``.

    Returns ``forward(state) -> (Q_values, error_bound)`` for the networks built by
    :func:`homl_rl.dqn.build_q_network` (any ``Sequential`` of elu/relu/linear ``Dense``
    layers, and ``Flatten`` layers, as :func:`homl_rl.per_step_dqn.build_per_step_q_network`'s) and :func:`homl_rl.dqn.build_dueling_q_network` (whose layers it was told of by
    :func:`remember_dueling_layers`); ``error_bound`` bounds how far TF's float32 Q-values
    can be from these. The weights are read once (or taken from ``weights``, the values of
    ``model.weights`` in order, for a ``Sequential``): rebuild after they change.
    """
    if model in _DUELING_LAYERS:
        hidden1, hidden2, value_layer, advantage_layer = (
            _numpy_layer(layer, name) for layer, name in
            zip(_DUELING_LAYERS[model], ("elu", "elu", "linear", "linear")))

        def dueling_forward(state):
            h = np.asarray(state, dtype=np.float64)
            h, err = _dense_with_bound(hidden1, h, np.zeros_like(h))
            h, err = _dense_with_bound(hidden2, h, err)
            value, value_err = _dense_with_bound(value_layer, h, err)
            advantages, advantages_err = _dense_with_bound(advantage_layer, h, err)
            Q_values = value + (advantages - advantages.max())
            u = FLOAT32_UNIT_ROUNDOFF  # one rounding in the subtraction, one in the addition
            error = (value_err + advantages_err + advantages_err.max()
                     + u * np.abs(advantages - advantages.max()) * (1 + u) + u * np.abs(Q_values))
            return Q_values, error

        return dueling_forward
    if not isinstance(model, tf.keras.Sequential):
        return None
    layers = []
    values = None if weights is None else iter(weights)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.Flatten):
            layers.append(None)  # one state's values in order: ravel
            continue
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        if (not isinstance(layer, tf.keras.layers.Dense) or not layer.use_bias
                or activation not in ("elu", "relu", "linear")):
            return None  # not one of ours: the compiled call decides every action
        layers.append(_numpy_layer(layer, activation, None if values is None
                                   else [next(values) for _ in layer.weights]))

    def forward(state):
        h = np.asarray(state, dtype=np.float64)
        err = np.zeros_like(h)
        for layer in layers:
            if layer is None:
                h, err = h.ravel(), err.ravel()
            else:
                h, err = _dense_with_bound(layer, h, err)
        return h, err

    return forward


PREDICT_BATCH_SIZE = 32
"""``model.predict``'s default ``batch_size``: it runs its function on slices of 32 rows"""


class DQNFastEngine:
    """Same Q-values as ``model.predict``, without its per-call cost.

    - batches (the next-state values of a training step): a ``tf.function``-compiled
      ``model(x, training=False)``, bit-identical to ``model.predict`` on this stack;
    - the greedy action of one state: a NumPy forward pass, trusted only when the top two
      Q-values are further apart than the float32 error bound (see :func:`numpy_forward`);
      otherwise the compiled call decides. With ``use_numpy=False``, always the compiled call.

    The NumPy weights are refreshed by :meth:`weights_changed`, which
    :class:`homl_rl.dqn.DQN` calls
    after each change it makes; call it yourself after ``model.set_weights``.

    The training step's optimizer update (:meth:`apply_gradients`): a plain Keras ``Nadam``'s
    by its NumPy replica (unless ``use_nadam_replica=False``), any other optimizer's by itself.
    """
    name = "fast"

    def __init__(self, use_numpy=True, use_nadam_replica=True):
        self.use_numpy = use_numpy
        self.use_nadam_replica = use_nadam_replica
        self._compiled = {}  # id(model) -> (model, compiled call)
        self._numpy = {}  # id(model) -> (model, forward or None)
        self._given_weights = {}  # id(model) -> (model, weights given by weights_changed)
        self._replicas = {}  # id(optimizer) -> (optimizer, variables, NadamReplica)
        self.n_replica_steps = 0
        """training steps the Nadam replica computed (the others: the optimizer's own)"""
        self.n_greedy_actions = 0
        """greedy actions taken, and how many of them the compiled call decided:"""
        self.n_fallbacks = 0

    def compiled(self, model):
        """``tf.function(lambda x: model(x, training=False))``, one per model."""
        entry = self._compiled.get(id(model))
        if entry is None or entry[0] is not model:
            entry = (model, tf.function(lambda inputs: model(inputs, training=False)))
            self._compiled[id(model)] = entry
        return entry[1]

    def predict(self, model, inputs):
        """``model.predict(inputs)``'s numbers: the compiled call on the same batches of 32."""
        compiled = self.compiled(model)
        if len(inputs) <= PREDICT_BATCH_SIZE:
            return compiled(inputs).numpy()
        return np.concatenate([compiled(inputs[start:start + PREDICT_BATCH_SIZE]).numpy()
                               for start in range(0, len(inputs), PREDICT_BATCH_SIZE)])

    def greedy_action(self, model, state):
        self.n_greedy_actions += 1
        forward = None
        if self.use_numpy:
            entry = self._numpy.get(id(model))
            if entry is None or entry[0] is not model:
                weights = self._given_weights.pop(id(model), (None, None))
                entry = (model, numpy_forward(model, weights[1] if weights[0] is model else None))
                self._numpy[id(model)] = entry
            forward = entry[1]
        if forward is not None:
            Q_values, error = forward(state)
            best = Q_values.argmax()
            gaps = Q_values[best] - Q_values
            gaps[best] = np.inf
            if np.all(gaps > SAFETY_FACTOR * (error + error[best])):
                return np.intp(best)
        self.n_fallbacks += 1
        Q_values = self.predict(model, state[np.newaxis])[0]
        return Q_values.argmax()

    def weights_changed(self, model, weights=None):
        """Forget ``model``'s NumPy weights: the next greedy action reads them again, or takes
        ``weights`` (the values of ``model.weights``, in order, as arrays) if given."""
        self._numpy.pop(id(model), None)
        if weights is None:
            self._given_weights.pop(id(model), None)
        else:
            self._given_weights[id(model)] = (model, weights)

    def apply_gradients(self, optimizer, grads_and_vars):
        """``optimizer.apply_gradients(grads_and_vars)``: for a plain Keras ``Nadam`` and dense
        gradients, its :class:`~homl_rl.engines.eager_replica.NadamReplica` (same bits, a
        fraction of the eager step's cost) once :func:`nadam_replica_is_exact` has checked it
        here; for any other optimizer or gradient, the optimizer's own."""
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            return optimizer.apply_gradients(grads_and_vars)
        grads, variables = zip(*grads_and_vars)
        replica = self._nadam_replica(optimizer, variables) if self.use_nadam_replica else None
        if replica is None or not all(isinstance(grad, tf.Tensor) for grad in grads):
            return optimizer.apply_gradients(zip(grads, variables))
        replica.apply_gradients([grad.numpy() for grad in grads])
        self.n_replica_steps += 1
        return optimizer.iterations

    def _nadam_replica(self, optimizer, variables):
        """The replica of ``optimizer`` on ``variables``, or ``None`` where there is none."""
        entry = self._replicas.get(id(optimizer))
        if entry is None or entry[0] is not optimizer or entry[1] != [id(v) for v in variables]:
            replica = None
            if NadamReplica.supports(optimizer, variables) and nadam_replica_is_usable():
                replica = NadamReplica(optimizer, variables)
            entry = (optimizer, [id(v) for v in variables], replica)
            self._replicas[id(optimizer)] = entry
        return entry[2]


# --- proof that the Nadam replica is Keras' eager step, here ---------------------------

@functools.lru_cache(maxsize=None)
def nadam_replica_is_exact(n_steps=16, seed=1234):
    """Whether :class:`~homl_rl.engines.eager_replica.NadamReplica` gives Keras' eager
    ``Nadam.apply_gradients`` bit for bit on this machine and stack.

    Two copies of three variables (a kernel, a bias and a scalar-like one) take ``n_steps``
    steps from the same random weights and gradients, one through Keras' ``Nadam``, one through
    the replica; every weight and both moments must agree to the bit after every step. The
    gradients' scales range from 1e-22 to 10, some are exactly zero, and the first step's are
    tiny: their squares, and so the fresh second moments, are subnormal, which TF's kernels
    flush to zero. A Keras whose ``Nadam`` keeps other internals fails the check too. Draws
    no TensorFlow random number and touches no global random state, so it may run in the
    middle of a training run.
    """
    try:
        return _nadam_replica_steps_are_kerass(n_steps, seed)
    except (AttributeError, KeyError, TypeError, RuntimeError):  # another Keras' internals
        return False


def _nadam_replica_steps_are_kerass(n_steps, seed):
    rng = np.random.default_rng(seed)
    shapes = [(5, 7), (7,), (1,)]
    initial = [rng.normal(scale=0.3, size=shape).astype(np.float32) for shape in shapes]
    theirs, ours = ([tf.Variable(value) for value in initial] for _ in range(2))
    keras_nadam = tf.keras.optimizers.Nadam(learning_rate=1e-2)
    replica = NadamReplica(tf.keras.optimizers.Nadam(learning_rate=1e-2), ours)
    for step in range(n_steps):
        scale = 10.0 ** rng.uniform(-22, -19) if step % 4 == 0 else 10.0 ** rng.uniform(-4, 1)
        grads = [(rng.normal(size=shape) * scale).astype(np.float32) for shape in shapes]
        if step % 5 == 2:
            grads[1][::2] = 0
        keras_nadam.apply_gradients(zip([tf.constant(grad) for grad in grads], theirs))
        replica.apply_gradients(grads)
        pairs = [(ours_variable.numpy(), their_variable.numpy())
                 for ours_variable, their_variable in zip(ours, theirs)]
        pairs += [(replica.m, np.concatenate([m.numpy().ravel() for m in keras_nadam._momentums])),
                  (replica.v, np.concatenate([v.numpy().ravel() for v in keras_nadam._velocities]))]
        if not all(a.tobytes() == b.tobytes() for a, b in pairs):
            return False
    return True


@functools.lru_cache(maxsize=None)
def nadam_replica_is_usable():
    """:func:`nadam_replica_is_exact`, warning once when it is not (the optimizer's own step
    is then used: the same numbers as the notebook, more slowly)."""
    if nadam_replica_is_exact():
        return True
    warnings.warn("the NumPy replica of Keras' Nadam does not match TensorFlow's eager kernels "
                  "on this machine; the DQN's training steps use Keras' own (slower) Nadam",
                  RuntimeWarning, stacklevel=2)
    return False


DQN_ENGINES = {"notebook": DQNNotebookEngine, "fast": DQNFastEngine}
"""The DQN engines by name: ``DQN(engine=name)``, ``train_dqn(engine=name)``."""
DQN_DEFAULT_ENGINE = "fast"
"""The fastest engine proven to give the notebook's numbers (tests/test_dqn.py)."""


def make_dqn_engine(engine=None):
    """A DQN engine from its name (``None``: :data:`DQN_DEFAULT_ENGINE`) or the engine itself."""
    if engine is None:
        engine = DQN_DEFAULT_ENGINE
    if isinstance(engine, str):
        if engine not in DQN_ENGINES:
            raise ValueError(f"engine must be one of {', '.join(map(repr, DQN_ENGINES))}, "
                             f"got {engine!r}")
        return DQN_ENGINES[engine]()
    if not all(hasattr(engine, name) for name in ("predict", "greedy_action", "weights_changed")):
        raise TypeError(f"an engine needs predict, greedy_action and weights_changed, got {engine!r}")
    return engine
