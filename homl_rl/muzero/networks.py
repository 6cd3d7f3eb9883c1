"""MuZero's networks: the categorical support, the Keras models and their NumPy inference.

- The value and reward are predicted as distributions over the integers
  ``-support_size..support_size`` of a squashed scale: a scalar ``x`` is first mapped by
  ``h(x) = sign(x) (sqrt(|x| + 1) - 1) + eps x`` (Pohlen et al. 2018, eps = 0.001), then
  split between the two nearest integers (:func:`scalar_to_support`); a distribution maps
  back by its expectation and ``h``'s exact inverse (:func:`support_to_scalar`).
- :class:`MuZeroNetwork`: five Keras MLPs (ELU hidden layers, linear outputs), as
  muzero-general's fully connected network: representation (observation -> hidden state),
  dynamics (hidden state + one-hot action -> next hidden state, and from that unscaled
  state the reward head), prediction (policy logits and value head). Every hidden state is
  min-max scaled to [0, 1] over its units. With ``observation="frames"`` the representation
  is convolutional (:func:`build_conv_representation`); the rest stays the same.
- :class:`NumpyInference`: the same forward passes in NumPy from a copy of the weights, for
  the tree search (a Keras call per simulation would cost more than the whole simulation).
"""

import numpy as np

from homl_rl.per_step_dqn import dense_initializers
from homl_rl.tf_setup import tf

EPSILON = 0.001
"""eps of the scaling ``h(x) = sign(x) (sqrt(|x| + 1) - 1) + eps x``"""

MIN_SCALE = 1e-5
"""a hidden state whose max - min is below this gets this much added to its range"""

MLP_NAMES = ("representation", "dynamics_state", "dynamics_reward", "prediction_policy",
             "prediction_value")
"""the five MLPs of the network, in the order of :meth:`MuZeroNetwork.get_weights`"""


# --- the categorical support ---------------------------------------------------------------

def h(x):
    """The invertible scaling ``sign(x) (sqrt(|x| + 1) - 1) + eps x``, elementwise."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * (np.sqrt(np.abs(x) + 1) - 1) + EPSILON * x


def h_inverse(y):
    """The exact inverse of :func:`h`: ``sign(y) (((sqrt(1 + 4 eps (|y| + 1 + eps)) - 1) / (2 eps)) ** 2 - 1)``."""
    y = np.asarray(y, dtype=np.float64)
    return np.sign(y) * (
        ((np.sqrt(1 + 4 * EPSILON * (np.abs(y) + 1 + EPSILON)) - 1) / (2 * EPSILON)) ** 2 - 1)


def scalar_to_support(x, support_size):
    """``x`` (any shape) as probabilities over ``-support_size..support_size`` (a last axis of
    ``2 * support_size + 1``): ``h(x)``, clipped, split between its two nearest integers."""
    y = np.clip(h(x), -support_size, support_size)
    floor = np.floor(y).ravel()
    upper_weight = y.ravel() - floor
    lower = (floor + support_size).astype(np.int64)
    rows = np.arange(len(lower))
    support = np.zeros((len(lower), 2 * support_size + 1))
    support[rows, lower] = 1 - upper_weight
    inside = lower < 2 * support_size  # at +support_size the upper weight is 0
    support[rows[inside], lower[inside] + 1] = upper_weight[inside]
    return support.reshape(y.shape + (2 * support_size + 1,))


def softmax(logits, axis=-1):
    """Softmax along ``axis``, in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    exp = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)


def support_to_scalar(logits, support_size):
    """The scalars that the logits over ``-support_size..support_size`` (last axis) stand for:
    ``h``'s inverse of the softmax's expectation."""
    atoms = np.arange(-support_size, support_size + 1, dtype=np.float64)
    return h_inverse(softmax(logits) @ atoms)


# --- the Keras networks ----------------------------------------------------------------------

def build_mlp(input_size, hidden_layers, output_size, name):
    """A Keras MLP: ELU ``hidden_layers``, a linear output, PyTorch ``nn.Linear`` initializers."""
    layers, fan_in = [tf.keras.Input(shape=(input_size,))], input_size
    for units in hidden_layers:
        layers.append(tf.keras.layers.Dense(units, activation="elu",
                                            **dense_initializers(fan_in, "torch")))
        fan_in = units
    layers.append(tf.keras.layers.Dense(output_size, **dense_initializers(fan_in, "torch")))
    return tf.keras.Sequential(layers, name=name)


CONV_STRIDE = 2
"""stride of every convolution of the convolutional representation"""


def build_conv_representation(observation_shape, conv_filters, kernel_size, hidden_layers,
                              output_size):
    """The representation of frames: observations (channels, height, width) turned
    channels-last, ``conv_filters`` convolutions (``kernel_size`` square, stride
    :data:`CONV_STRIDE`, no padding, ELU), flattened, then ELU ``hidden_layers`` and a
    linear dense layer of ``output_size``, all with PyTorch's initializers."""
    channels = observation_shape[0]
    layers = [tf.keras.Input(shape=tuple(observation_shape)), tf.keras.layers.Permute((2, 3, 1))]
    for filters in conv_filters:
        layers.append(tf.keras.layers.Conv2D(
            filters, kernel_size, strides=CONV_STRIDE, activation="elu",
            **dense_initializers(kernel_size * kernel_size * channels, "torch")))
        channels = filters
    layers.append(tf.keras.layers.Flatten())
    model = tf.keras.Sequential(layers, name="representation")
    fan_in = int(np.prod(model.output_shape[1:]))
    for units in hidden_layers:
        model.add(tf.keras.layers.Dense(units, activation="elu",
                                        **dense_initializers(fan_in, "torch")))
        fan_in = units
    model.add(tf.keras.layers.Dense(output_size, **dense_initializers(fan_in, "torch")))
    return model


def scale_hidden_state(hidden_state):
    """Min-max scale each row of ``hidden_state`` to [0, 1] (TensorFlow)."""
    minimum = tf.reduce_min(hidden_state, axis=1, keepdims=True)
    maximum = tf.reduce_max(hidden_state, axis=1, keepdims=True)
    scale = maximum - minimum
    scale = tf.where(scale < MIN_SCALE, scale + MIN_SCALE, scale)
    return (hidden_state - minimum) / scale


def stacked_shape(observation_shape, stacked_observations):
    """Shape (channels, height, width) of an observation with ``stacked_observations`` past
    ones and their action planes stacked on its first axis."""
    channels, height, width = observation_shape
    return (channels * (stacked_observations + 1) + stacked_observations, height, width)


def observation_size(observation_shape, stacked_observations):
    """Inputs of the representation network: the observation, ``stacked_observations`` past
    ones, and one action plane (an observation's last two axes) per past one."""
    channels, height, width = observation_shape
    return (channels * height * width * (stacked_observations + 1)
            + stacked_observations * height * width)


class MuZeroNetwork:
    """MuZero's fully connected networks for ``observation_shape`` (channels, height, width)
    and ``n_actions``, as ``config`` sizes them. Calls take and give TensorFlow tensors."""

    def __init__(self, config, observation_shape, n_actions):
        self.config, self.n_actions = config, n_actions
        self.observation_shape = tuple(observation_shape)
        size, support = (observation_size(self.observation_shape, config.stacked_observations),
                         config.full_support_size)
        encoding = config.encoding_size
        self.convolutional = config.observation == "frames"
        if self.convolutional:
            self.representation_network = build_conv_representation(
                stacked_shape(self.observation_shape, config.stacked_observations),
                config.conv_filters, config.conv_kernel_size, config.fc_representation_layers,
                encoding)
        else:
            self.representation_network = build_mlp(
                size, config.fc_representation_layers, encoding, "representation")
        self.dynamics_state_network = build_mlp(
            encoding + n_actions, config.fc_dynamics_layers, encoding, "dynamics_state")
        self.dynamics_reward_network = build_mlp(
            encoding, config.fc_reward_layers, support, "dynamics_reward")
        self.prediction_policy_network = build_mlp(
            encoding, config.fc_policy_layers, n_actions, "prediction_policy")
        self.prediction_value_network = build_mlp(
            encoding, config.fc_value_layers, support, "prediction_value")

    @property
    def mlps(self):
        """The five Keras MLPs, in :data:`MLP_NAMES` order."""
        return (self.representation_network, self.dynamics_state_network,
                self.dynamics_reward_network, self.prediction_policy_network,
                self.prediction_value_network)

    @property
    def trainable_variables(self):
        return [variable for mlp in self.mlps for variable in mlp.trainable_variables]

    def representation(self, observations):
        """Scaled hidden states of a batch of observations (flattened, unless the
        representation is convolutional)."""
        if self.convolutional:
            return scale_hidden_state(self.representation_network(observations))
        flat = tf.reshape(observations, (tf.shape(observations)[0], -1))
        return scale_hidden_state(self.representation_network(flat))

    def dynamics(self, hidden_states, actions):
        """``(next hidden states (scaled), reward logits)``: the reward head reads the next
        state before its scaling, as muzero-general's does."""
        one_hot = tf.one_hot(actions, self.n_actions, dtype=hidden_states.dtype)
        next_states = self.dynamics_state_network(tf.concat([hidden_states, one_hot], axis=1))
        return scale_hidden_state(next_states), self.dynamics_reward_network(next_states)

    def prediction(self, hidden_states):
        """``(policy logits, value logits)`` of a batch of hidden states."""
        return (self.prediction_policy_network(hidden_states),
                self.prediction_value_network(hidden_states))

    def get_weights(self):
        """``{name: list of arrays}`` of the five MLPs."""
        return {name: mlp.get_weights() for name, mlp in zip(MLP_NAMES, self.mlps)}

    def set_weights(self, weights):
        """Load what :meth:`get_weights` gave."""
        for name, mlp in zip(MLP_NAMES, self.mlps):
            mlp.set_weights(weights[name])


# --- NumPy inference for the tree search -----------------------------------------------------

def _numpy_mlp(weights):
    """The forward pass of a :func:`build_mlp` MLP from its weights ``[W0, b0, W1, b1, ...]``."""
    layers = [(np.asarray(W, np.float32), np.asarray(b, np.float32))
              for W, b in zip(weights[::2], weights[1::2])]

    def forward(x):
        for W, b in layers[:-1]:
            x = x @ W + b
            x = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))  # ELU
        W, b = layers[-1]
        return x @ W + b

    return forward


def _numpy_conv(x, kernel, bias):
    """A ``Conv2D`` (stride :data:`CONV_STRIDE`, no padding) then ELU, on channels-last ``x``
    (batch, height, width, channels) with ``kernel`` (k, k, channels, filters)."""
    k = kernel.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[
        :, ::CONV_STRIDE, ::CONV_STRIDE]  # (batch, rows, columns, channels, k, k)
    batch, rows, columns = windows.shape[:3]
    patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(batch * rows * columns, -1)
    x = (patches @ kernel.reshape(-1, kernel.shape[-1]) + bias).reshape(batch, rows, columns, -1)
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))  # ELU


KERAS_BATCH = 8
"""batches of frames from this size on go through a compiled Keras copy of the convolutional
representation: measured on the challenge's 5 x 32 x 96 inputs, one thread, NumPy against a
compiled Keras call took 0.23 / 0.40 ms for one frame, 1.6 / 0.8 ms for 8, 70 / 16 ms for 128"""

_keras_representations = {}  # architecture -> [Keras model, its compiled call, weights' owner]


def _keras_representation(observation_shape, weights, owner):
    """A compiled call of a :func:`build_conv_representation` model for ``observation_shape``
    holding ``weights``: the model is built once per architecture and process, and ``weights``
    are loaded into it unless ``owner`` (whoever holds them) loaded them last."""
    convs = [w for w in weights[::2] if np.ndim(w) == 4]
    denses = [w for w in weights[::2] if np.ndim(w) != 4]
    key = (tuple(observation_shape), tuple(np.shape(w) for w in weights))
    if key not in _keras_representations:
        model = build_conv_representation(
            observation_shape, [K.shape[-1] for K in convs], convs[0].shape[0],
            [W.shape[1] for W in denses[:-1]], denses[-1].shape[1])
        call = tf.function(model, input_signature=[
            tf.TensorSpec((None, *observation_shape), tf.float32)])
        _keras_representations[key] = [model, call, None]
    entry = _keras_representations[key]
    if entry[2] is not owner:
        entry[0].set_weights(weights)
        entry[2] = owner
    return entry[1]


def _numpy_representation(weights):
    """The forward pass of the representation from its weights, on observations (batch,
    channels, height, width): a :func:`build_mlp` MLP on the flattened observations, or, when
    its first weight is a convolution kernel (4-D), a :func:`build_conv_representation`
    network: in NumPy for fewer than :data:`KERAS_BATCH` frames, else by a Keras copy."""
    if np.ndim(weights[0]) != 4:
        mlp = _numpy_mlp(weights)
        return lambda observations: mlp(observations.reshape(len(observations), -1))
    n_convs = next(i for i, w in enumerate(weights[::2]) if np.ndim(w) != 4)
    convs = [(np.asarray(K, np.float32), np.asarray(b, np.float32))
             for K, b in zip(weights[:2 * n_convs:2], weights[1:2 * n_convs:2])]
    mlp = _numpy_mlp(weights[2 * n_convs:])

    def forward(observations):
        if len(observations) >= KERAS_BATCH:
            call = _keras_representation(observations.shape[1:], weights, forward)
            return call(tf.constant(observations)).numpy()
        x = observations.transpose(0, 2, 3, 1)
        for kernel, bias in convs:
            x = _numpy_conv(x, kernel, bias)
        return mlp(x.reshape(len(x), -1))

    return forward


def _numpy_scale(hidden_state):
    minimum = hidden_state.min(axis=1, keepdims=True)
    scale = hidden_state.max(axis=1, keepdims=True) - minimum
    scale = np.where(scale < MIN_SCALE, scale + np.float32(MIN_SCALE), scale)
    return (hidden_state - minimum) / scale


class NumpyInference:
    """A :class:`MuZeroNetwork`'s forward passes in NumPy (float32) from a copy of its weights
    (``network.get_weights()``), read once per game or batch; the tree's fast path. A
    convolutional representation is recognised by its weights and runs batches through Keras
    (see :func:`_numpy_representation`)."""

    def __init__(self, weights, n_actions, support_size):
        self.n_actions, self.support_size = n_actions, support_size
        self._representation = _numpy_representation(weights["representation"])
        (self._dynamics_state, self._dynamics_reward, self._policy, self._value) = (
            _numpy_mlp(weights[name]) for name in MLP_NAMES[1:])
        self._one_hot = np.eye(n_actions, dtype=np.float32)

    def representation(self, observations):
        observations = np.asarray(observations, dtype=np.float32)
        return _numpy_scale(self._representation(observations))

    def dynamics(self, hidden_states, actions):
        x = np.concatenate([hidden_states, self._one_hot[np.asarray(actions)]], axis=1)
        next_states = self._dynamics_state(x)
        return _numpy_scale(next_states), self._dynamics_reward(next_states)

    def prediction(self, hidden_states):
        return self._policy(hidden_states), self._value(hidden_states)

    def values(self, observations):
        """The value (a scalar each) the network predicts for a batch of observations."""
        _, value_logits = self.prediction(self.representation(observations))
        return support_to_scalar(value_logits, self.support_size)

    def initial_inference(self, observation):
        """``(value, reward, policy logits, hidden state)`` of one observation (reward 0)."""
        hidden_state = self.representation(np.asarray(observation)[None])
        policy_logits, value_logits = self.prediction(hidden_state)
        value = float(support_to_scalar(value_logits[0], self.support_size))
        return value, 0.0, policy_logits[0], hidden_state[0]

    def recurrent_inference(self, hidden_state, action):
        """``(value, reward, policy logits, next hidden state)`` after ``action`` from one
        hidden state."""
        next_state, reward_logits = self.dynamics(hidden_state[None], [action])
        policy_logits, value_logits = self.prediction(next_state)
        value, reward = support_to_scalar(
            np.concatenate([value_logits, reward_logits]), self.support_size)
        return float(value), float(reward), policy_logits[0], next_state[0]
