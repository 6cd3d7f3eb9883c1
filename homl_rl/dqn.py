"""Sections "Deep Q-Network", "Fixed Q-Value Targets", "Double DQN" and "Dueling Double DQN".

The notebook's cells, read top to bottom: the Q-network, ``epsilon_greedy_policy``,
``play_one_step``, ``training_step`` and the 600-episode training loop. The notebook's
globals (``model``, ``target``, ``optimizer``, ``loss_fn``, ``replay_buffer``,
``n_outputs``, ``discount_factor``, ``batch_size``) are the fields of one small object,
:class:`DQN`, and its functions are that object's methods, with the notebook's names
and signatures. The four variants differ in one method, :meth:`DQN.max_next_Q_values`
(the lines the notebook marks ``# <= CHANGED``), and in the model builder::

    rewards, model = train_dqn("double_dqn")           # 600 episodes, seed 42

**Same numbers as the notebook.** At the same seed, on the pinned stack, the default
path draws the same random numbers in the same order and computes the same Q-values as
the notebook's cells (with ``tf.random.set_seed(s)`` read as
``tf.keras.utils.set_random_seed(s)``, which also seeds Python's and NumPy's generators), so it returns the same per-episode
rewards list. Two engines compute the forward passes, and nothing else differs:

- ``"notebook"`` (:class:`NotebookEngine`): ``model.predict`` at every step, as the cells
  do (tens of milliseconds a call: about half an hour for a 600-episode run);
- ``"fast"`` (:class:`FastEngine`, the default): the same network in NumPy (float64) for
  the greedy action, falling back to the graph-compiled ``model(x, training=False)``
  whenever the top two Q-values are closer than a proven bound on float32's rounding
  error; the compiled call (bit-identical to ``predict``) for the batched next-state
  values. Seconds for a 600-episode run.

The training step runs eagerly, as in the notebook, in both engines. Compiling it would
change the numbers twice over: graph mode fuses the Dense layers' operations (other
float32 roundings), and Keras 2.15's Nadam keeps a Python-side counter
(``_u_product_counter``) that a ``tf.function`` freezes at trace time, so a compiled
``apply_gradients`` updates its momentum-decay product once per variable instead of
once per step (measured: 0.0143 instead of 0.0590 after 4 steps on 2 variables).

``rewards`` records, as the notebook does, ``step``: the 0-based index of each episode's
last step, one less than the episode's sum of rewards (a 200-step episode records 199).
"""

import functools
import weakref
from collections import deque
from dataclasses import asdict, dataclass, fields, replace
from typing import Callable

import numpy as np

from homl_rl.checks import (
    check_non_negative_int, check_positive_int, check_positive_number, check_unit_interval)
from homl_rl.environments import check_discrete_actions, make_env
from homl_rl.progress import progress_bar
from homl_rl.replay_buffers import NumpyReplayBuffer, sample_experiences
from homl_rl.seeding import set_seeds

# --- hyper-parameters ------------------------------------------------------------------

@dataclass(frozen=True)
class DQNConfig:
    """Hyper-parameters of the notebook's DQN training cells (all four variants)."""
    n_episodes: int = 600
    """episodes to play; the notebook plays 600"""
    n_max_steps: int = 200
    """steps per episode before the loop gives up on it (CartPole-v1 itself truncates at 500)"""
    batch_size: int = 32
    """experiences sampled for each training step"""
    discount_factor: float = 0.95
    """gamma in the target ``reward + gamma * max_a' Q(s', a')``"""
    learning_rate: float = None
    """Nadam's learning rate; ``None``: the notebook's, 1e-2 (5e-3 for the dueling variant)"""
    replay_buffer_size: int = 2000
    """``deque(maxlen=2000)``"""
    epsilon_decay_episodes: int = 500
    """epsilon = max(1 - episode / 500, 0.01): linear decay over this many episodes"""
    min_epsilon: float = 0.01
    """epsilon's floor"""
    training_starts_after: int = 50
    """one training step at the end of every episode > 50"""
    target_update_period: int = 50
    """hard update: copy the online weights to the target every 50 episodes"""
    soft_target_update: float = None
    """``tau``: instead of the hard copy, ``target = (1 - tau) * target + tau * online`` after
    every training step (the notebook's commented-out alternative uses 0.01); ``None``: hard copy"""
    replay_buffer: str = "deque"
    """``"deque"`` (the notebook's) or ``"numpy"`` (:class:`NumpyReplayBuffer`): same batches"""

    def __post_init__(self):
        for name in ("n_episodes", "n_max_steps", "batch_size", "replay_buffer_size",
                     "epsilon_decay_episodes", "target_update_period"):
            check_positive_int(name, getattr(self, name))
        check_non_negative_int("training_starts_after", self.training_starts_after)
        check_unit_interval("discount_factor", self.discount_factor)
        check_unit_interval("min_epsilon", self.min_epsilon)
        if self.learning_rate is not None:
            check_positive_number("learning_rate", self.learning_rate)
        if self.soft_target_update is not None:
            check_unit_interval("soft_target_update", self.soft_target_update, zero=False)
        if self.replay_buffer not in ("deque", "numpy"):
            raise ValueError(f"replay_buffer must be 'deque' or 'numpy', got {self.replay_buffer!r}")

    def epsilon(self, episode):
        """The notebook's ``max(1 - episode / 500, 0.01)``."""
        return max(1 - episode / self.epsilon_decay_episodes, self.min_epsilon)


# --- the Q-networks --------------------------------------------------------------------

def build_q_network(input_shape=(4,), n_outputs=2):
    """The notebook's DQN: Dense(32, elu), Dense(32, elu), Dense(n_outputs).

    Built as in the cell (a ``Sequential`` whose first layer gets ``input_shape``); its
    initial weights depend on the seed set just before (see :func:`train_dqn`).
    """
    from homl_rl.tf_setup import tf

    return tf.keras.Sequential([
        tf.keras.layers.Dense(32, activation="elu", input_shape=list(input_shape)),
        tf.keras.layers.Dense(32, activation="elu"),
        tf.keras.layers.Dense(n_outputs)
    ])


_DUELING_LAYERS = weakref.WeakKeyDictionary()
"""model -> its Dense layers (hidden1, hidden2, state value, advantages), for NumPy forwards"""


def build_dueling_q_network(input_shape=(4,), n_outputs=2):
    """The notebook's dueling DQN: Q = V + (A - max A), as in the "Dueling Double DQN" cell."""
    from homl_rl.tf_setup import tf

    input_states = tf.keras.layers.Input(shape=list(input_shape))
    hidden1 = tf.keras.layers.Dense(32, activation="elu")
    hidden2 = tf.keras.layers.Dense(32, activation="elu")
    state_value_layer = tf.keras.layers.Dense(1)
    advantage_layer = tf.keras.layers.Dense(n_outputs)
    hidden = hidden2(hidden1(input_states))
    state_values = state_value_layer(hidden)
    raw_advantages = advantage_layer(hidden)
    advantages = raw_advantages - tf.reduce_max(raw_advantages, axis=1,
                                                keepdims=True)
    Q_values = state_values + advantages
    model = tf.keras.Model(inputs=[input_states], outputs=[Q_values])
    _DUELING_LAYERS[model] = (hidden1, hidden2, state_value_layer, advantage_layer)
    return model


# --- engines: who computes the forward passes ------------------------------------------

class NotebookEngine:
    """The cells' own way: ``model.predict(x, verbose=0)`` for every forward pass."""
    name = "notebook"

    def predict(self, model, inputs):
        return model.predict(inputs, verbose=0)

    def greedy_action(self, model, state):
        Q_values = model.predict(state[np.newaxis], verbose=0)[0]
        return Q_values.argmax()  # optimal action according to the DQN

    def weights_changed(self, model):
        """Nothing cached."""


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


def _numpy_layer(layer, activation):
    W, b = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
    n = W.shape[0] + 1
    gamma = n * FLOAT32_UNIT_ROUNDOFF / (1 - n * FLOAT32_UNIT_ROUNDOFF)
    return W, b, np.abs(W), gamma * np.abs(b), gamma, _ACTIVATIONS.get(activation)


def numpy_forward(model):
    """A NumPy (float64) forward pass of one state through ``model``, or ``None``.

    Returns ``forward(state) -> (Q_values, error_bound)`` for the networks built by
    :func:`build_q_network` (any ``Sequential`` of elu/relu/linear ``Dense`` layers) and
    :func:`build_dueling_q_network`; ``error_bound`` bounds how far TF's float32 Q-values
    can be from these. The weights are read once: rebuild after they change.
    """
    from homl_rl.tf_setup import tf

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
    for layer in model.layers:
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        if (not isinstance(layer, tf.keras.layers.Dense) or not layer.use_bias
                or activation not in ("elu", "relu", "linear")):
            return None  # not one of ours: the compiled call decides every action
        layers.append(_numpy_layer(layer, activation))

    def forward(state):
        h = np.asarray(state, dtype=np.float64)
        err = np.zeros_like(h)
        for layer in layers:
            h, err = _dense_with_bound(layer, h, err)
        return h, err

    return forward


PREDICT_BATCH_SIZE = 32
"""``model.predict``'s default ``batch_size``: it runs its function on slices of 32 rows"""


class FastEngine:
    """Same Q-values as ``model.predict``, without its per-call cost.

    - batches (the next-state values of a training step): a ``tf.function``-compiled
      ``model(x, training=False)``, bit-identical to ``model.predict`` on this stack;
    - the greedy action of one state: a NumPy forward pass, trusted only when the top two
      Q-values are further apart than the float32 error bound (see :func:`numpy_forward`);
      otherwise the compiled call decides. With ``use_numpy=False``, always the compiled call.

    The NumPy weights are refreshed by :meth:`weights_changed`, which :class:`DQN` calls
    after each change it makes; call it yourself after ``model.set_weights``.
    """
    name = "fast"

    def __init__(self, use_numpy=True):
        self.use_numpy = use_numpy
        self._compiled = {}  # id(model) -> (model, compiled call)
        self._numpy = {}  # id(model) -> (model, forward or None)
        self.n_greedy_actions = 0
        """greedy actions taken, and how many of them the compiled call decided:"""
        self.n_fallbacks = 0

    def compiled(self, model):
        """``tf.function(lambda x: model(x, training=False))``, one per model."""
        entry = self._compiled.get(id(model))
        if entry is None or entry[0] is not model:
            from homl_rl.tf_setup import tf

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
                entry = (model, numpy_forward(model))
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

    def weights_changed(self, model):
        self._numpy.pop(id(model), None)


ENGINES = {"notebook": NotebookEngine, "fast": FastEngine}
DEFAULT_ENGINE = "fast"
"""The fastest engine proven to give the notebook's numbers (tests/test_dqn.py)."""


def make_engine(engine=None):
    """An engine from its name (``None``: :data:`DEFAULT_ENGINE`) or the engine itself."""
    if engine is None:
        engine = DEFAULT_ENGINE
    if isinstance(engine, str):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}")
        return ENGINES[engine]()
    if not all(hasattr(engine, name) for name in ("predict", "greedy_action", "weights_changed")):
        raise TypeError(f"an engine needs predict, greedy_action and weights_changed, got {engine!r}")
    return engine


# --- the agents: the notebook's globals and functions ----------------------------------

def _mean_squared_error():
    from homl_rl.tf_setup import tf

    return tf.keras.losses.mean_squared_error


@dataclass(eq=False)
class DQN:
    """Section "Deep Q-Network": the notebook's globals as fields, its functions as methods.

    ``max_next_Q_values`` holds the one computation the variants change; the other methods
    are the cells' code, line for line. ``engine`` (not a notebook global) says who computes
    the forward passes outside the gradient tape.
    """
    model: object
    optimizer: object
    loss_fn: object = None
    """``tf.keras.losses.mean_squared_error`` when ``None``"""
    replay_buffer: object = None
    """``deque(maxlen=2000)`` when ``None``"""
    n_outputs: int = 2
    discount_factor: float = 0.95
    batch_size: int = 32
    target: object = None
    """the target network (fixed Q-value targets and later)"""
    engine: object = None
    """:class:`NotebookEngine`, :class:`FastEngine`, or their names; ``None``: the default"""

    def __post_init__(self):
        if self.loss_fn is None:
            self.loss_fn = _mean_squared_error()
        if self.replay_buffer is None:
            self.replay_buffer = deque(maxlen=2000)
        self.engine = make_engine(self.engine)
        try:
            self._state_shape = tuple(self.model.input_shape[1:])
        except (AttributeError, ValueError):  # a model not built yet: no shape to check
            self._state_shape = None

    def epsilon_greedy_policy(self, state, epsilon=0):
        """The notebook's: ``np.random.rand() < epsilon`` -> ``np.random.randint(n_outputs)``,
        else the DQN's best action. Departs only in checking ``epsilon`` and ``state``'s shape."""
        check_unit_interval("epsilon", epsilon)
        if self._state_shape is not None and np.shape(state) != self._state_shape:
            raise ValueError(f"state has shape {np.shape(state)}, but the Q-network takes "
                             f"states of shape {self._state_shape}")
        if np.random.rand() < epsilon:
            return np.random.randint(self.n_outputs)  # random action
        else:
            # optimal action according to the DQN
            return self.engine.greedy_action(self.model, state)

    def play_one_step(self, env, state, epsilon):
        """The notebook's: act, step, append ``(state, action, reward, next_state, done, truncated)``."""
        action = self.epsilon_greedy_policy(state, epsilon)
        next_state, reward, done, truncated, info = env.step(action)
        self.replay_buffer.append((state, action, reward, next_state, done, truncated))
        return next_state, reward, done, truncated, info

    def sample_experiences(self, batch_size):
        """``[states, actions, rewards, next_states, dones, truncateds]``: the notebook's draw."""
        if hasattr(self.replay_buffer, "sample_experiences"):
            return self.replay_buffer.sample_experiences(batch_size)
        return sample_experiences(self.replay_buffer, batch_size)  # the notebook's deque

    def predict(self, model, inputs):
        """``model.predict(inputs, verbose=0)``, as the engine computes it."""
        return self.engine.predict(model, inputs)

    def max_next_Q_values(self, next_states):
        """Plain DQN: the online network's best Q-value at the next state."""
        next_Q_values = self.predict(self.model, next_states)
        return next_Q_values.max(axis=1)

    def training_step(self, batch_size):
        """The notebook's ``training_step``; returns the loss (the notebook returns nothing)."""
        from homl_rl.tf_setup import tf

        experiences = self.sample_experiences(batch_size)
        states, actions, rewards, next_states, dones, truncateds = experiences
        max_next_Q_values = self.max_next_Q_values(next_states)
        runs = 1.0 - (dones | truncateds)  # episode is not done or truncated
        target_Q_values = rewards + runs * self.discount_factor * max_next_Q_values
        target_Q_values = target_Q_values.reshape(-1, 1)
        mask = tf.one_hot(actions, self.n_outputs)
        with tf.GradientTape() as tape:
            all_Q_values = self.model(states)
            Q_values = tf.reduce_sum(all_Q_values * mask, axis=1, keepdims=True)
            loss = tf.reduce_mean(self.loss_fn(target_Q_values, Q_values))

        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        self.engine.weights_changed(self.model)
        return loss

    def set_weights(self, weights):
        """``model.set_weights(weights)``, telling the engine."""
        self.model.set_weights(weights)
        self.engine.weights_changed(self.model)


@dataclass(eq=False)
class FixedQTargetsDQN(DQN):
    """Section "Fixed Q-Value Targets": the target network gives the next-state values."""

    def __post_init__(self):
        super().__post_init__()
        if self.target is None:
            raise ValueError(f"{type(self).__name__} needs a target network")

    def max_next_Q_values(self, next_states):
        next_Q_values = self.predict(self.target, next_states)  # <= CHANGED
        return next_Q_values.max(axis=1)


@dataclass(eq=False)
class DoubleDQN(FixedQTargetsDQN):
    """Section "Double DQN": the online network picks the next action, the target evaluates it.

    Also the "Dueling Double DQN" agent (only the model differs).
    """

    def max_next_Q_values(self, next_states):
        from homl_rl.tf_setup import tf

        #################### CHANGED SECTION ####################
        next_Q_values = self.predict(self.model, next_states)  # ≠ target.predict()
        best_next_actions = next_Q_values.argmax(axis=1)
        next_mask = tf.one_hot(best_next_actions, self.n_outputs).numpy()
        max_next_Q_values = (self.predict(self.target, next_states) * next_mask
                             ).sum(axis=1)
        #########################################################
        return max_next_Q_values


# --- the variant table ------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """One of the chapter's DQN variants: what its cells build and how they train it."""
    name: str
    """the variant's id: ``train_dqn(name)``, figure ids, the command line"""
    title: str
    """its section's name, for reports and figure descriptions"""
    agent: type
    """the agent class: :class:`DQN` or the subclass with the variant's ``max_next_Q_values``"""
    build_model: Callable
    """``build_model(input_shape, n_outputs)``: the Q-network its cell builds"""
    learning_rate: float
    """the Nadam learning rate its cell uses"""


VARIANTS = {variant.name: variant for variant in (
    Variant("dqn", "DQN", DQN, build_q_network, 1e-2),
    Variant("fixed_q_targets", "fixed Q-value targets", FixedQTargetsDQN, build_q_network, 1e-2),
    Variant("double_dqn", "Double DQN", DoubleDQN, build_q_network, 1e-2),
    Variant("dueling_double_dqn", "Dueling Double DQN", DoubleDQN, build_dueling_q_network, 5e-3),
)}
"""The chapter's four variants, in its order: the one table that training, the
cross-check, the comparison and the command line read."""


def variant_named(name):
    """``VARIANTS[name]``, or a ``ValueError`` listing the valid names."""
    if name not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(map(repr, VARIANTS))}, got {name!r}")
    return VARIANTS[name]


def clone_target(model):
    """The target DQN: ``clone_model`` (the architecture) then ``set_weights`` (the weights)."""
    from homl_rl.tf_setup import tf

    target = tf.keras.models.clone_model(model)  # clone the model's architecture
    target.set_weights(model.get_weights())  # copy the weights
    return target


def soft_update(target, model, tau=0.01):
    """The notebook's commented-out alternative: ``target = 0.99 * target + 0.01 * online``."""
    target_weights = target.get_weights()
    online_weights = model.get_weights()
    for index, online_weight in enumerate(online_weights):
        target_weights[index] = ((1 - tau) * target_weights[index]
                                 + tau * online_weight)
    target.set_weights(target_weights)


# --- the training loop -----------------------------------------------------------------

def train(agent, env, config=DQNConfig(), progress=True, desc="DQN"):
    """The notebook's training loop; returns ``rewards``, one entry per episode.

    ``rewards.append(step)`` as in the notebook: the 0-based index of the episode's last
    step, i.e. the sum of rewards minus one (an episode of 200 steps records 199). The best
    weights (highest ``step``, latest among ties) are restored at the end. Departures: the
    fixed-target, double and dueling cells unpack ``obs, reward, done, info, truncated =
    play_one_step(...)`` (two names swapped), so their ``if done or truncated`` never sees
    a truncation; we unpack as the DQN cell does. Identical here: the loop stops at 200
    steps, before CartPole-v1 truncates (500).
    """
    rewards = []
    best_score = 0
    bar = progress_bar(range(config.n_episodes), desc=desc, progress=progress, unit="episode")
    for episode in bar:
        obs, info = env.reset()
        for step in range(config.n_max_steps):
            epsilon = config.epsilon(episode)
            obs, reward, done, truncated, info = agent.play_one_step(env, obs, epsilon)
            if done or truncated:
                break

        # the notebook prints f"\rEpisode: {episode + 1}, Steps: {step + 1}, eps: {epsilon:.3f}"
        if bar.disable is False:
            bar.set_postfix(steps=step + 1, eps=f"{epsilon:.3f}", refresh=False)
        rewards.append(step)
        if step >= best_score:
            best_weights = agent.model.get_weights()
            best_score = step

        train_after_episode(agent, episode, config)

    agent.set_weights(best_weights)  # restores the best model weights
    return rewards


def train_after_episode(agent, episode, config=DQNConfig()):
    """The end of an episode in the notebook's loop: past the 50th episode, one training
    step, then the target network's update (copied every 50 episodes, or soft-updated)."""
    if episode > config.training_starts_after:
        agent.training_step(config.batch_size)
        if agent.target is not None:
            if config.soft_target_update is not None:
                soft_update(agent.target, agent.model, config.soft_target_update)
            elif episode % config.target_update_period == 0:
                agent.target.set_weights(agent.model.get_weights())


def _check_env(env):
    n_outputs = check_discrete_actions(env)
    shape = env.observation_space.shape
    if shape is None or len(shape) != 1:
        raise ValueError(f"the Q-network takes a flat observation vector, but this environment's "
                         f"observations have shape {shape}")
    return shape, n_outputs


def make_agent(variant, env, config=DQNConfig(), engine=None, seed=42):
    """The notebook's set-up cells for ``variant``: seed, model, target, then reseed.

    Order: ``set_seeds(seed)``, build the model, clone the target; ``env.reset(seed=seed)``,
    ``np.random.seed(seed)``, ``set_seeds(seed)``; then the optimizer and an empty replay
    buffer — the cells' order (the dueling cell creates its optimizer before the target,
    which draws no random number). The notebook's dueling cell does not reseed before
    training (it continues the random state of the cells before it); we do, as for the
    other variants.
    """
    from homl_rl.tf_setup import tf

    spec = variant_named(variant)
    input_shape, n_outputs = _check_env(env)
    set_seeds(seed)  # the notebook's tf.random.set_seed(42), read as set_random_seed
    model = spec.build_model(input_shape, n_outputs)
    target = clone_target(model) if variant != "dqn" else None

    env.reset(seed=seed)
    np.random.seed(seed)
    set_seeds(seed)
    learning_rate = config.learning_rate or spec.learning_rate
    optimizer = tf.keras.optimizers.Nadam(learning_rate=learning_rate)
    loss_fn = tf.keras.losses.mean_squared_error
    if config.replay_buffer == "numpy":
        replay_buffer = NumpyReplayBuffer(config.replay_buffer_size)
    else:
        replay_buffer = deque(maxlen=config.replay_buffer_size)  # resets the replay buffer
    return spec.agent(model=model, optimizer=optimizer, loss_fn=loss_fn,
                           replay_buffer=replay_buffer, n_outputs=n_outputs,
                           discount_factor=config.discount_factor,
                           batch_size=config.batch_size, target=target, engine=engine)


def train_dqn(variant="dqn", n_episodes=600, *, seed=42, engine=None, progress=True,
              env=None, return_agent=False, **hyperparameters):
    """Train one of the chapter's DQN variants as its notebook cells do.

    ``variant``: ``"dqn"``, ``"fixed_q_targets"``, ``"double_dqn"`` or
    ``"dueling_double_dqn"``. ``hyperparameters``: any :class:`DQNConfig` field
    (``n_max_steps``, ``batch_size``, ``learning_rate``, ``soft_target_update``, ...).
    ``engine``: ``"notebook"`` (``model.predict`` per step, as the cells), ``"fast"``, or
    ``None`` (the default, ``"fast"``: same numbers). ``env``: CartPole-v1 by default.

    Returns ``(rewards, model)``: ``rewards[episode]`` is the notebook's ``step`` — the
    0-based index of the episode's last step, one less than its sum of rewards — and
    ``model`` has the best weights restored. With ``return_agent=True``, returns
    ``(rewards, agent)`` (the model is ``agent.model``).

    The dueling variant reseeds (``env.reset(seed=42)``, ``np.random.seed(42)``,
    ``tf.keras.utils.set_random_seed(42)``) before training as the other variants do; the
    notebook's cell does not. It trains with the Double-DQN target, as in the notebook.
    """
    valid = {field.name for field in fields(DQNConfig)}
    unknown = sorted(set(hyperparameters) - valid)
    if unknown:
        raise TypeError(f"unknown hyper-parameter(s) {', '.join(unknown)}; "
                        f"valid: {', '.join(sorted(valid))}")
    config = DQNConfig(n_episodes=n_episodes, **hyperparameters)
    if variant == "dqn" and config.soft_target_update is not None:
        raise ValueError("soft_target_update needs a target network: use it with "
                         "'fixed_q_targets', 'double_dqn' or 'dueling_double_dqn'")
    own_env = env is None
    env = make_env("CartPole-v1", render_mode=None) if own_env else env
    try:
        agent = make_agent(variant, env, config, engine=engine, seed=seed)
        rewards = train(agent, env, config, progress=progress, desc=variant)
    finally:
        if own_env:
            env.close()
    return (rewards, agent) if return_agent else (rewards, agent.model)
