"""keras-rl2's ``DQNAgent`` API on Gymnasium, as a thin layer over the per-step DQN core.

Lecture 002 ("Cartpole and DQN") trains ``rl.agents.dqn.DQNAgent`` from keras-rl2, which
no longer imports on TensorFlow 2.15 and speaks the old ``gym`` step API. This module
gives the names the lecture imports — :class:`DQNAgent`, :class:`SequentialMemory`,
:class:`EpsGreedyQPolicy`, :class:`GreedyQPolicy` — and those keras-rl2's own DQN examples
use (``examples/keras_rl2_dqn_cartpole.py`` is its ``dqn_cartpole.py``) —
:class:`BoltzmannQPolicy`, :class:`MaxBoltzmannQPolicy`, :class:`LinearAnnealedPolicy`,
``DQNAgent.save_weights`` and ``load_weights`` — with keras-rl2's semantics; the
learning itself is :class:`homl_rl.per_step_dqn.PerStepDQN`:

- ``target_model_update`` < 1: soft update with that tau after every training step, blending
  in the online weights of before that step's optimizer update (keras-rl2's graph reads them
  before Adam writes: ``soft_update_weights="previous"``); >= 1: hard copy every
  ``int(target_model_update)`` steps.
- ``nb_steps_warmup``: train only after steps of 0-based index ``> nb_steps_warmup``;
  ``train_interval``; ``memory_interval``; ``gamma``; ``batch_size``; ``delta_clip``
  (Huber threshold, ``inf``: the loss is ``0.5 * error ** 2``).
- ``enable_double_dqn`` (``False`` by default, as in keras-rl2 1.0.4 and 1.0.5; keras-rl,
  which keras-rl2 forked, defaulted to ``True``) and ``enable_dueling_network`` (the ``"avg"``
  head).
- ``SequentialMemory(limit, window_length)``: one row per step; a state is the last
  ``window_length`` observations of an episode, zero-padded at its start, so the model's
  input is ``(batch, window_length, *observation_shape)``. A batch is drawn without
  replacement once the memory holds enough entries, with replacement (and a warning)
  before; a transition whose state starts after an episode's end is redrawn.
- ``fit`` and ``test`` take a Gymnasium environment (``done = terminated or truncated``,
  a time-limit cut read as the end, as old gym did), and after each episode, one more
  ``forward``/``backward(0., terminal=False)`` call, as keras-rl2 does. ``test`` acts with
  ``test_policy`` (greedy by default). Both return a Keras ``History``: ``fit``'s has
  ``episode_reward``, ``nb_episode_steps``, ``nb_steps`` (steps so far), ``test``'s
  ``episode_reward`` and ``nb_steps`` (the episode's steps), as keras-rl2's.
- ``verbose=2`` prints keras-rl2's line per episode; ``verbose=1`` a progress bar per
  ``log_interval`` steps and keras-rl2's interval summary.
- The policies draw from NumPy's global generator as keras-rl2's do (``np.random.uniform``,
  ``randint``, ``choice``), and are given the agent (:class:`Policy`): an annealed policy
  reads its ``training`` and ``step``, and its ``mean_<attr>`` joins the agent's metrics.
- ``save_weights(filepath, overwrite=False)`` is Keras' ``Model.save_weights`` of the online
  model (on an existing file without ``overwrite``, Keras asks on the terminal);
  ``load_weights`` loads them and copies them to the target network.

Not supported (a ``ValueError`` says so): callbacks, random start steps, dueling types other
than ``"avg"``, metrics other than ``"mae"``, models with several inputs, processors.
"""

import math
import random
import timeit
import warnings
from collections import deque
from dataclasses import dataclass

import numpy as np

from homl_rl.checks import (
    check_non_negative_int, check_positive_int, check_positive_number, check_unit_interval)
from homl_rl.environments import make_env
from homl_rl.per_step_dqn import PerStepDQN, PerStepDQNConfig, dueling_head, train_per_step
from homl_rl.progress import progress_bar
from homl_rl.replay_buffers import Experiences
from homl_rl.tf_setup import tf

METRICS = ("mae",)
"""The metrics ``compile`` accepts (``mean_q`` is always reported, as in keras-rl2)."""


# --- policies --------------------------------------------------------------------------------

def _one_state(q_values):
    """``q_values`` as an array, checked to be one state's (1-D)."""
    q_values = np.asarray(q_values)
    if q_values.ndim != 1:
        raise ValueError(f"q_values must be 1-D, got shape {q_values.shape}")
    return q_values


def _check_clip(clip):
    """``clip`` as a ``(low, high)`` tuple of numbers with ``low <= high``."""
    try:
        low, high = clip
    except (TypeError, ValueError):
        raise ValueError(f"clip must be a pair (low, high), got {clip!r}") from None
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"clip must be a pair of numbers (low, high), got {clip!r}")
    if not low <= high:
        raise ValueError(f"clip must be a pair (low, high) with low <= high, got {clip!r}")
    return (low, high)


def _check_number(name, value):
    """``value``, or a ``ValueError`` unless it is a finite number (not a bool)."""
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def _checked(name, check, doc):
    """An attribute ``name`` whose every value (an annealing's too) passes
    ``check(name, value)``."""
    private = "_" + name

    def get(self):
        return getattr(self, private)

    def set_(self, value):
        setattr(self, private, check(name, value))

    return property(get, set_, doc=doc)


def boltzmann_probabilities(q_values, tau=1., clip=(-500., 500.)):
    """keras-rl2's Boltzmann law of one state's ``q_values``: ``exp(clip(q / tau))``
    normalised, in float64 (the clip keeps ``exp`` finite; q-values whose ``q / tau`` are
    clipped to the same bound get the same probability)."""
    scaled = np.clip(_one_state(q_values).astype(np.float64) / tau, clip[0], clip[1])
    exp_values = np.exp(scaled)
    return exp_values / np.sum(exp_values)


class Policy:
    """keras-rl2's base of the policies: ``select_action(q_values=...)`` picks the action for
    one state's Q-values. :class:`DQNAgent` gives itself to its ``policy`` and ``test_policy``
    (``agent``: a policy may read its ``training`` and ``step``), and adds their
    ``metrics_names`` and ``metrics`` (none here) to its own."""

    agent = None
    """the agent this policy acts for (set by :class:`DQNAgent`)"""

    def _set_agent(self, agent):
        self.agent = agent

    @property
    def metrics_names(self):
        """Names of the metrics this policy adds to the agent's."""
        return []

    @property
    def metrics(self):
        """Values of those metrics (read after each training step)."""
        return []

    def get_config(self):
        """The policy's settings, as a dict."""
        return {}


class EpsGreedyQPolicy(Policy):
    """keras-rl2's epsilon-greedy policy: ``np.random.uniform() < eps`` -> a uniform random
    action (``np.random.randint``), else the action of the highest Q-value."""

    eps = _checked("eps", check_unit_interval, "the probability of a random action, in [0, 1]")

    def __init__(self, eps=.1):
        self.eps = eps

    def select_action(self, q_values):
        """The action for the 1-D array of one state's ``q_values``."""
        q_values = _one_state(q_values)
        if np.random.uniform() < self.eps:
            return int(np.random.randint(0, q_values.shape[0]))
        return int(np.argmax(q_values))

    def get_config(self):
        return {"eps": self.eps}


class GreedyQPolicy(Policy):
    """keras-rl2's greedy policy: the action of the highest Q-value."""

    def select_action(self, q_values):
        """The action for the 1-D array of one state's ``q_values``."""
        return int(np.argmax(_one_state(q_values)))


class BoltzmannQPolicy(Policy):
    """keras-rl2's Boltzmann policy: an action drawn with ``np.random.choice`` (one
    ``np.random`` uniform) from :func:`boltzmann_probabilities` of the Q-values, ``tau`` the
    temperature (> 0: higher, closer to uniform), ``q / tau`` clipped to ``clip``."""

    tau = _checked("tau", check_positive_number, "the temperature, a number > 0")

    def __init__(self, tau=1., clip=(-500., 500.)):
        self.tau = tau
        self.clip = _check_clip(clip)

    def probabilities(self, q_values):
        """The probability of each action for one state's ``q_values``."""
        return boltzmann_probabilities(q_values, self.tau, self.clip)

    def select_action(self, q_values):
        """An action drawn from :meth:`probabilities` of the 1-D array ``q_values``."""
        probabilities = self.probabilities(q_values)
        return int(np.random.choice(len(probabilities), p=probabilities))

    def get_config(self):
        return {"tau": self.tau, "clip": self.clip}


class MaxBoltzmannQPolicy(Policy):
    """keras-rl2's max-Boltzmann policy (Wiering, 1999): ``np.random.uniform() < eps`` -> an
    action drawn as :class:`BoltzmannQPolicy` draws it, else the action of the highest
    Q-value."""

    eps = _checked("eps", check_unit_interval, "the probability of a Boltzmann draw, in [0, 1]")
    tau = BoltzmannQPolicy.tau
    probabilities = BoltzmannQPolicy.probabilities

    def __init__(self, eps=.1, tau=1., clip=(-500., 500.)):
        self.eps = eps
        self.tau = tau
        self.clip = _check_clip(clip)

    def select_action(self, q_values):
        """The action for the 1-D array of one state's ``q_values``."""
        q_values = _one_state(q_values)
        if np.random.uniform() < self.eps:
            probabilities = self.probabilities(q_values)
            return int(np.random.choice(len(probabilities), p=probabilities))
        return int(np.argmax(q_values))

    def get_config(self):
        return {"eps": self.eps, "tau": self.tau, "clip": self.clip}


class LinearAnnealedPolicy(Policy):
    """keras-rl2's annealing: before each action, sets the attribute ``attr`` of
    ``inner_policy`` (``"eps"``, ``"tau"``) and lets it choose. While the agent trains, the
    value falls linearly from ``value_max`` at step 0 to ``value_min`` at step ``nb_steps``,
    then stays there: ``max(value_min, value_max - (value_max - value_min) / nb_steps * step)``;
    otherwise it is ``value_test``. (As in keras-rl2, ``DQNAgent.test`` acts with the agent's
    ``test_policy``, greedy by default: ``value_test`` counts only where this policy acts when
    the agent is not training, e.g. given as ``test_policy`` too.) Adds the metric
    ``mean_<attr>``."""

    def __init__(self, inner_policy, attr, value_max, value_min, value_test, nb_steps):
        if not isinstance(attr, str) or not hasattr(inner_policy, attr):
            raise ValueError(f"the inner policy ({type(inner_policy).__name__}) has no "
                             f"attribute {attr!r} to anneal")
        self.inner_policy = inner_policy
        self.attr = attr
        self.value_max = _check_number("value_max", value_max)
        self.value_min = _check_number("value_min", value_min)
        if not value_min <= value_max:
            raise ValueError(f"value_min must be <= value_max (the value falls from value_max "
                             f"to value_min), got value_min={value_min!r}, value_max={value_max!r}")
        self.value_test = _check_number("value_test", value_test)
        self.nb_steps = check_positive_int("nb_steps", nb_steps)

    def get_current_value(self):
        """The value for the agent's current step (or ``value_test`` when it is not training)."""
        if self.agent is None:
            raise RuntimeError("LinearAnnealedPolicy anneals over an agent's steps: give it to "
                               "a DQNAgent (policy=...) before it selects an action")
        if self.agent.training:
            slope = -float(self.value_max - self.value_min) / float(self.nb_steps)
            return max(self.value_min, slope * float(self.agent.step) + float(self.value_max))
        return self.value_test

    def select_action(self, **kwargs):
        """Set the inner policy's attribute to :meth:`get_current_value`, then return the inner
        policy's action for ``kwargs`` (``q_values=...``)."""
        setattr(self.inner_policy, self.attr, self.get_current_value())
        return self.inner_policy.select_action(**kwargs)

    @property
    def metrics_names(self):
        return [f"mean_{self.attr}"]

    @property
    def metrics(self):
        return [getattr(self.inner_policy, self.attr)]

    def get_config(self):
        return {"attr": self.attr, "value_max": self.value_max, "value_min": self.value_min,
                "value_test": self.value_test, "nb_steps": self.nb_steps,
                "inner_policy": {"class_name": type(self.inner_policy).__name__,
                                 "config": self.inner_policy.get_config()}}


# --- the memory -------------------------------------------------------------------------------

def sample_batch_indexes(low, high, size):
    """keras-rl2's draw of ``size`` indexes in ``[low, high)``: without replacement
    (``random.sample``) when the range holds enough, else with replacement and a warning."""
    if high - low >= size:
        return np.array(random.sample(range(low, high), size))
    warnings.warn("Not enough entries to sample without replacement. Consider increasing "
                  "your warm-up phase to avoid oversampling!")
    return np.random.randint(low, high, size=size)


class SequentialMemory:
    """keras-rl2's replay memory: one row ``(observation, action, reward, terminal)`` per step,
    ``terminal`` saying whether the step ended the episode; states of ``window_length``
    observations are rebuilt when sampling. Samples :class:`Experiences` (the replay buffer
    protocol of :mod:`homl_rl.replay_buffers`; ``truncateds`` all 0: an end is an end)."""

    def __init__(self, limit, window_length=1, ignore_episode_boundaries=False):
        self.limit = check_positive_int("limit", limit)
        self.window_length = check_positive_int("window_length", window_length)
        self.ignore_episode_boundaries = bool(ignore_episode_boundaries)
        self.recent_observations = deque(maxlen=self.window_length)
        self.recent_terminals = deque(maxlen=self.window_length)
        self.observations = None
        self.actions = np.zeros(self.limit, np.int64)
        self.rewards = np.zeros(self.limit, np.float64)
        self.terminals = np.zeros(self.limit, bool)
        self.start = 0
        """slot of the oldest row"""
        self.nb_entries = 0
        """rows stored"""

    def __len__(self):
        return self.nb_entries

    def append(self, observation, action, reward, terminal, training=True):
        """Record one step (its observation, action, reward and whether it ended the episode);
        only the recent window when not ``training``."""
        self.recent_observations.append(observation)
        self.recent_terminals.append(terminal)
        if not training:
            return
        observation = np.asarray(observation, np.float32)
        if self.observations is None:
            self.observations = np.zeros((self.limit,) + observation.shape, np.float32)
        if self.nb_entries < self.limit:
            slot = (self.start + self.nb_entries) % self.limit
            self.nb_entries += 1
        else:
            slot = self.start
            self.start = (self.start + 1) % self.limit
        self.observations[slot] = observation
        self.actions[slot], self.rewards[slot], self.terminals[slot] = action, reward, terminal

    def _slots(self, indexes):
        return (self.start + np.asarray(indexes)) % self.limit

    def get_recent_state(self, current_observation):
        """The state ending with ``current_observation``: the window's last observations of
        this episode, zero-padded at the front, shape ``(window_length, *observation_shape)``."""
        state = [np.asarray(current_observation, np.float32)]
        idx = len(self.recent_observations) - 1
        for offset in range(self.window_length - 1):
            current_idx = idx - offset
            current_terminal = (self.recent_terminals[current_idx - 1]
                                if current_idx - 1 >= 0 else False)
            if current_idx < 0 or (not self.ignore_episode_boundaries and current_terminal):
                break
            state.insert(0, np.asarray(self.recent_observations[current_idx], np.float32))
        while len(state) < self.window_length:
            state.insert(0, np.zeros_like(state[0]))
        return np.stack(state)

    def _stack(self, last):
        """States of ``window_length`` rows ending at logical rows ``last``, zero-padded: a row
        is left out (with those before it) when the row before it ended an episode — that
        row's successor is the episode's last observation, stored by the extra ``backward``."""
        window = self.window_length
        states = np.zeros((len(last), window) + self.observations.shape[1:], np.float32)
        states[:, -1] = self.observations[self._slots(last)]
        alive = np.ones(len(last), bool)
        for offset in range(1, window):
            row = last - offset  # included unless the row before it ended an episode
            alive &= row >= 0
            if not self.ignore_episode_boundaries:
                alive &= (row >= 1) & ~self.terminals[self._slots(np.maximum(row - 1, 0))]
            states[alive, -1 - offset] = self.observations[self._slots(row[alive])]
        return states

    def sample(self, batch_size, replace=False):
        """A batch of :class:`Experiences` drawn as keras-rl2 draws (``replace=True``: always
        with replacement). Experience ``idx`` is row ``idx - 1`` (state, action, reward, end)
        followed by row ``idx`` (the next observation)."""
        batch_size = check_positive_int("batch_size", batch_size)
        if self.nb_entries < self.window_length + 2:
            raise ValueError(f"cannot sample: the memory holds {self.nb_entries} entries, "
                             f"it needs at least window_length + 2 = {self.window_length + 2}")
        if replace:
            idxs = np.random.randint(self.window_length, self.nb_entries - 1, size=batch_size)
        else:
            idxs = sample_batch_indexes(self.window_length, self.nb_entries - 1, batch_size)
        idxs = idxs + 1
        for position, idx in enumerate(idxs):
            while self.terminals[self._slots(idx - 2)]:  # the state starts a new episode: redraw
                idx = sample_batch_indexes(self.window_length + 1, self.nb_entries, size=1)[0]
            idxs[position] = idx
        return self.get(idxs)

    def get(self, idxs):
        """The :class:`Experiences` ending at logical rows ``idxs`` (each in
        ``[window_length + 1, nb_entries)``): row ``idx - 1``'s state (its window), action,
        reward and end, and the next state (the window shifted to row ``idx``)."""
        idxs = np.asarray(idxs)
        if idxs.min() < self.window_length + 1 or idxs.max() >= self.nb_entries:
            raise IndexError(f"memory rows must be in [{self.window_length + 1}, {self.nb_entries})")
        batch_size = len(idxs)
        states0 = self._stack(idxs - 1)
        next_obs = self.observations[self._slots(idxs)]
        states1 = np.concatenate([states0[:, 1:], next_obs[:, None]], axis=1)
        slots = self._slots(idxs - 1)
        return Experiences(states0, self.actions[slots], self.rewards[slots], states1,
                           self.terminals[slots].astype(np.float32),
                           np.zeros(batch_size, np.float32))


# --- the agent --------------------------------------------------------------------------------

def _target_update(target_model_update):
    """keras-rl2's rule: < 1 soft (tau), >= 1 hard every ``int(.)`` steps."""
    if (isinstance(target_model_update, bool)
            or not isinstance(target_model_update, (int, float, np.integer, np.floating))
            or not target_model_update > 0):
        raise ValueError(f"target_model_update must be a positive number, got {target_model_update!r}")
    if target_model_update >= 1:
        return {"target_update": "steps", "target_update_period": int(target_model_update)}
    return {"target_update": "soft", "tau": float(target_model_update),
            "soft_update_weights": "previous"}


class DQNAgent:
    """keras-rl2's ``DQNAgent`` (see the module's docstring), training a
    :class:`homl_rl.per_step_dqn.PerStepDQN` (``self.core``, built by :meth:`compile`)."""

    def __init__(self, model, nb_actions, memory, policy=None, test_policy=None,
                 enable_double_dqn=False, enable_dueling_network=False, dueling_type="avg",
                 gamma=.99, batch_size=32, nb_steps_warmup=1000, train_interval=1,
                 memory_interval=1, target_model_update=10000, delta_clip=np.inf, processor=None):
        if processor is not None:
            raise ValueError("processors are not supported")
        self.nb_actions = check_positive_int("nb_actions", nb_actions)
        if list(model.output.shape) != [None, self.nb_actions]:
            raise ValueError(f"the model's output has shape {tuple(model.output.shape)}: DQN "
                             f"expects one Q-value per action, (None, {self.nb_actions})")
        if isinstance(model.input, (list, tuple)):
            raise ValueError("models with several inputs are not supported")
        if dueling_type != "avg":
            raise ValueError(f"dueling_type must be 'avg' (the only one supported), got {dueling_type!r}")
        if not isinstance(memory, SequentialMemory):
            raise ValueError(f"memory must be a SequentialMemory, got {type(memory).__name__}")
        self.settings = dict(
            gamma=check_unit_interval("gamma", gamma), batch_size=check_positive_int("batch_size", batch_size),
            buffer_capacity=memory.limit, warmup_steps=check_non_negative_int("nb_steps_warmup", nb_steps_warmup),
            train_interval=check_positive_int("train_interval", train_interval),
            double=bool(enable_double_dqn), dueling=bool(enable_dueling_network),
            sample_with_replacement=False, truncation_is_terminal=True, loss="huber",
            huber_delta=delta_clip, hidden_layers=(), **_target_update(target_model_update))
        self.memory_interval = check_positive_int("memory_interval", memory_interval)
        self.enable_double_dqn = bool(enable_double_dqn)
        self.enable_dueling_network = bool(enable_dueling_network)
        self.model = dueling_head(model) if enable_dueling_network else model
        self.memory = memory
        self.policy = EpsGreedyQPolicy() if policy is None else policy
        self.test_policy = GreedyQPolicy() if test_policy is None else test_policy
        self.core = None
        self.compiled = False
        self.training = False
        self.step = 0
        self._model_metrics_names = []
        self.reset_states()

    @property
    def policy(self):
        """The policy ``fit`` acts with (it is given this agent, as in keras-rl2)."""
        return self._policy

    @policy.setter
    def policy(self, policy):
        self._policy = _give_agent(policy, self)

    @property
    def test_policy(self):
        """The policy ``test`` acts with (it is given this agent, as in keras-rl2)."""
        return self._test_policy

    @test_policy.setter
    def test_policy(self, policy):
        self._test_policy = _give_agent(policy, self)

    @property
    def metrics_names(self):
        """The names of the metrics ``backward`` returns: ``loss``, ``compile``'s metrics,
        ``mean_q``, then the policy's (``mean_eps`` for an annealed ``eps``)."""
        return [*self._model_metrics_names, *getattr(self.policy, "metrics_names", [])]

    @property
    def layers(self):
        """The online model's layers."""
        return self.model.layers[:]

    @property
    def target_model(self):
        """The target network (after :meth:`compile`)."""
        self._check_compiled("the target model")
        return self.core.target

    def _check_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"compile() the agent before using {what}")

    def save_weights(self, filepath, overwrite=False):
        """Save the online model's weights, as keras-rl2 does: Keras' ``Model.save_weights``
        (HDF5 for a path ending in ``.h5`` or ``.keras``; otherwise TensorFlow's checkpoint
        format: ``filepath.index`` and ``filepath.data-*`` beside a ``checkpoint`` file). If
        the file exists and ``overwrite`` is False, Keras asks on the terminal whether to
        overwrite (``[y/n]``; ``n`` keeps the old file, no terminal is an ``EOFError``)."""
        self.model.save_weights(filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Load the online model's weights saved by :meth:`save_weights`, and copy them to the
        target network (before :meth:`compile`, ``compile`` copies them)."""
        self.model.load_weights(filepath)
        if self.compiled:
            self.update_target_model_hard()

    def update_target_model_hard(self):
        """Copy the online weights to the target network."""
        self._check_compiled("the target model")
        self.core.update_target()

    def compile(self, optimizer, metrics=()):
        """Set the optimizer (a Keras optimizer object) and the metrics (``"mae"``); builds the
        target network and the compiled training step."""
        unknown = [metric for metric in metrics if metric not in METRICS]
        if unknown:
            raise ValueError(f"metrics must be among {', '.join(map(repr, METRICS))}, got {unknown!r}")
        if not isinstance(optimizer, tf.keras.optimizers.Optimizer):
            raise ValueError(f"optimizer must be a Keras optimizer, got {optimizer!r}")
        learning_rate = float(tf.keras.backend.get_value(optimizer.learning_rate))
        config = PerStepDQNConfig(optimizer=type(optimizer).__name__, learning_rate=learning_rate,
                                  **self.settings)
        self.core = PerStepDQN(config, model=self.model, optimizer=optimizer,
                               replay_buffer=self.memory)
        self._model_metrics_names = ["loss", *metrics, "mean_q"]
        self._metric_columns = [0, *(1 for _ in metrics), 2]
        self.compiled = True

    def reset_states(self):
        """Forget the last observation and action (at each episode's start)."""
        self.recent_observation = None
        self.recent_action = None

    def forward(self, observation):
        """The action for ``observation``: the policy (training) or test policy on the Q-values
        of the state the memory's recent window makes."""
        state = self.memory.get_recent_state(observation)
        q_values = self.core.q_values(state[None])[0]
        policy = self.policy if self.training else self.test_policy
        action = policy.select_action(q_values=q_values)
        self.recent_observation = observation
        self.recent_action = action
        return action

    def backward(self, reward, terminal):
        """Store the last step; when training, train and update the target as due. Returns the
        metrics of this step (NaN when it did not train)."""
        self._remember(reward, terminal)
        if not self.training:
            return self._metrics_row(None)
        return self._metrics_row(self.core.after_step(self.step))

    def _remember(self, reward, terminal):
        """Store the row of the last :meth:`forward`'s observation and action, ``reward`` and
        ``terminal`` (every ``memory_interval``-th step)."""
        if self.step % self.memory_interval == 0:
            self.memory.append(self.recent_observation, self.recent_action, reward, terminal,
                               training=self.training)

    def _metrics_row(self, trained):
        """The metrics of :attr:`metrics_names` from a training step's ``(loss, mae, mean_q)``
        and the policy's metrics; all NaN for ``None`` (no training step)."""
        if trained is None:
            return [math.nan] * len(self.metrics_names)
        return ([trained[column] for column in self._metric_columns]
                + list(getattr(self.policy, "metrics", [])))

    def _check_run(self, env, action_repetition, callbacks, nb_max_start_steps):
        if not self.compiled:
            raise RuntimeError("compile() the agent before fit() or test()")
        check_positive_int("action_repetition", action_repetition)
        if callbacks:
            raise ValueError("callbacks are not supported")
        if nb_max_start_steps:
            raise ValueError("nb_max_start_steps is not supported")
        if not hasattr(env, "action_space") or getattr(env.action_space, "n", None) != self.nb_actions:
            raise ValueError(f"env must be a Gymnasium environment with {self.nb_actions} discrete actions")

    def _act_in(self, env, action, action_repetition, visualize):
        """Step ``env`` with ``action`` ``action_repetition`` times (stopping at the end)."""
        reward, done = 0.0, False
        for _ in range(action_repetition):
            observation, r, terminated, truncated, _ = env.step(action)
            if visualize:
                env.render()
            reward += r
            done = terminated or truncated
            if done:
                break
        return observation, reward, done

    def fit(self, env, nb_steps, action_repetition=1, callbacks=None, verbose=1, visualize=False,
            nb_max_start_steps=0, start_step_policy=None, log_interval=10000,
            nb_max_episode_steps=None):
        """Train for ``nb_steps`` environment steps; returns a Keras ``History`` of the episodes.

        The loop is the per-step DQN's, :func:`homl_rl.per_step_dqn.train_per_step`, with this
        agent's hooks: :meth:`choose_action` (:meth:`forward`), :meth:`observe` (the memory's
        row), :meth:`train_after_step` (the training part of :meth:`backward`) and
        :meth:`at_episode_end` (keras-rl2's extra step). An episode cut by ``nb_steps`` is not
        logged, as in keras-rl2."""
        self._check_run(env, action_repetition, callbacks, nb_max_start_steps)
        nb_steps = check_positive_int("nb_steps", nb_steps)
        self.training = True
        logger = _make_train_logger(verbose, nb_steps, self.metrics_names, log_interval)
        history = _new_history(self)
        self.step = 0
        self.reset_states()
        logger.on_episode_begin()

        def step_end(agent, steps, per_step_history):
            logger.on_step_end(self._last_reward, self.recent_action, self._last_metrics)

        def episode_end(agent, episode, per_step_history):
            if not self._episode_finished:  # cut by nb_steps: keras-rl2 logs nothing
                return
            logs = {"episode_reward": per_step_history.episode_rewards[-1],
                    "nb_episode_steps": per_step_history.episode_lengths[-1],
                    "nb_steps": per_step_history.n_steps}
            logger.on_episode_end(episode, logs)
            history.on_epoch_end(episode, logs)
            self.reset_states()
            logger.on_episode_begin()

        try:  # no reset_seed: keras-rl2's fit reseeds no reset
            train_per_step(self, _KerasRL2Stepping(self, env, action_repetition, visualize,
                                                   nb_max_episode_steps),
                           n_steps=nb_steps, callback=episode_end, step_callback=step_end,
                           progress=False)
        except KeyboardInterrupt:
            pass
        logger.on_train_end()
        return history

    # the hooks of the per-step loop (homl_rl.per_step_dqn.train_per_step) that fit runs
    @property
    def config(self):
        """The settings of the agent's per-step core (after :meth:`compile`)."""
        self._check_compiled("the config")
        return self.core.config

    def choose_action(self, state, step, episode):
        """:meth:`forward` at the step of 0-based index ``step`` (the policy reads it as
        ``step``)."""
        self.step = step
        return self.forward(state)

    def observe(self, state, action, reward, next_state, terminated, truncated=False):
        """Store the step's row in the memory (every ``memory_interval``-th step), ending the
        episode if it was terminated or truncated: the storing part of :meth:`backward`."""
        self._last_reward = reward
        self._remember(reward, terminal=terminated or truncated)

    def train_after_step(self, step):
        """Train and update the target as due after the step of 0-based index ``step``: the
        learning part of :meth:`backward`; returns the metrics of each training step (as
        :meth:`homl_rl.per_step_dqn.PerStepDQN.train_after_step`)."""
        metrics = self.core.train_after_step(step)
        self._last_metrics = self._metrics_row(metrics[-1] if metrics else None)
        return metrics

    def at_episode_end(self, episode, state, steps, finished):
        """keras-rl2's extra step after an episode that ended: :meth:`forward` on its last
        observation, then ``backward(0., terminal=False)`` (a row stored, a training step if
        due), at the step count ``steps``. Nothing for an episode cut by the step budget."""
        self.step = steps
        self._episode_finished = finished
        if finished:
            self.forward(state)
            self.backward(0., terminal=False)

    def test(self, env, nb_episodes=1, action_repetition=1, callbacks=None, visualize=False,
             nb_max_episode_steps=None, nb_max_start_steps=0, start_step_policy=None, verbose=1):
        """Play ``nb_episodes`` episodes with ``test_policy``, without learning; returns a Keras
        ``History`` (``episode_reward``, ``nb_steps``); ``verbose >= 1`` prints each episode."""
        self._check_run(env, action_repetition, callbacks, nb_max_start_steps)
        nb_episodes = check_positive_int("nb_episodes", nb_episodes)
        self.training = False
        self.step = 0
        history = _new_history(self)
        if verbose >= 1:
            print(f"Testing for {nb_episodes} episodes ...")
        for episode in range(nb_episodes):
            episode_reward, episode_step = 0.0, 0
            self.reset_states()
            observation, _ = env.reset()
            done = False
            while not done:
                action = self.forward(observation)
                observation, reward, done = self._act_in(env, action, action_repetition, visualize)
                if nb_max_episode_steps and episode_step >= nb_max_episode_steps - 1:
                    done = True
                self.backward(reward, terminal=done)
                episode_reward += reward
                episode_step += 1
                self.step += 1
            self.forward(observation)
            self.backward(0., terminal=False)
            logs = {"episode_reward": episode_reward, "nb_steps": episode_step}
            if verbose >= 1:
                print(f"Episode {episode + 1}: reward: {episode_reward:.3f}, steps: {episode_step}")
            history.on_epoch_end(episode, logs)
        return history


class _KerasRL2Stepping:
    """``env`` stepped as keras-rl2's ``fit`` steps it, for the per-step loop: each action
    repeated ``action_repetition`` times (the rewards summed, stopping at an end), rendered
    with ``visualize``, the episode ended after ``nb_max_episode_steps`` steps; an end, or a
    time-limit cut, is returned as ``terminated`` (keras-rl2's ``done``)."""

    def __init__(self, agent, env, action_repetition, visualize, nb_max_episode_steps):
        self.agent, self.env = agent, env
        self.action_repetition, self.visualize = action_repetition, visualize
        self.nb_max_episode_steps = nb_max_episode_steps
        self.episode_step = 0

    def reset(self, seed=None):
        self.episode_step = 0
        return self.env.reset(seed=seed)

    def step(self, action):
        observation, reward, done = self.agent._act_in(self.env, action, self.action_repetition,
                                                       self.visualize)
        if self.nb_max_episode_steps and self.episode_step >= self.nb_max_episode_steps - 1:
            done = True
        self.episode_step += 1
        return observation, reward, done, False, {}


def _give_agent(policy, agent):
    """``policy``, given ``agent`` (a policy that is not a :class:`Policy` may lack
    ``_set_agent``: it is then used as it is)."""
    if not callable(getattr(policy, "select_action", None)):
        raise ValueError(f"a policy must have a select_action method, got {policy!r}")
    if hasattr(policy, "_set_agent"):
        policy._set_agent(agent)
    return policy


def _new_history(agent):
    history = tf.keras.callbacks.History()
    history.set_model(agent.model)
    history.on_train_begin()
    return history


# --- the loggers ---------------------------------------------------------------------------------

def episode_line(step, nb_steps, episode, duration, rewards, actions, metrics_names, metrics):
    """keras-rl2's ``verbose=2`` line for one finished episode (``episode`` 0-based; ``metrics``:
    one row per step, NaN where the step did not train; all-NaN columns print ``--``)."""
    metrics = np.asarray(metrics, float).reshape(len(rewards), len(metrics_names))
    parts = []
    for index, name in enumerate(metrics_names):
        column = metrics[:, index]
        parts.append(f"{name}: --" if np.isnan(column).all()
                     else f"{name}: {np.nanmean(column):f}")
    digits = int(np.ceil(np.log10(nb_steps))) + 1
    episode_steps = len(rewards)
    return (f"{step:{digits}d}/{nb_steps}: episode: {episode + 1}, duration: {duration:.3f}s, "
            f"episode steps: {episode_steps:3}, steps per second: {episode_steps / duration:3.0f}, "
            f"episode reward: {np.sum(rewards):6.3f}, mean reward: {np.mean(rewards):6.3f} "
            f"[{np.min(rewards):6.3f}, {np.max(rewards):6.3f}], mean action: "
            f"{np.mean(actions):.3f} [{np.min(actions):.3f}, {np.max(actions):.3f}],  "
            + ", ".join(parts))


class _Logger:
    """``verbose=0``: nothing."""

    def __init__(self, nb_steps, metrics_names, log_interval=10000):
        self.nb_steps, self.metrics_names, self.log_interval = nb_steps, metrics_names, log_interval
        self.step = 0

    def on_episode_begin(self):
        pass

    def on_step_end(self, reward, action, metrics):
        self.step += 1

    def on_episode_end(self, episode, logs):
        pass

    def on_train_end(self):
        pass


class _EpisodeLogger(_Logger):
    """``verbose=2``: keras-rl2's ``TrainEpisodeLogger``."""

    def __init__(self, *args):
        super().__init__(*args)
        print(f"Training for {self.nb_steps} steps ...")
        self.train_start = timeit.default_timer()

    def on_episode_begin(self):
        self.episode_start = timeit.default_timer()
        self.rewards, self.actions, self.metrics = [], [], []

    def on_step_end(self, reward, action, metrics):
        super().on_step_end(reward, action, metrics)
        self.rewards.append(reward)
        self.actions.append(action)
        self.metrics.append(metrics)

    def on_episode_end(self, episode, logs):
        duration = timeit.default_timer() - self.episode_start
        print(episode_line(self.step, self.nb_steps, episode, duration, self.rewards,
                           self.actions, self.metrics_names, self.metrics))

    def on_train_end(self):
        print(f"done, took {timeit.default_timer() - self.train_start:.3f} seconds")


class _IntervalLogger(_Logger):
    """``verbose=1``: a progress bar per ``log_interval`` steps, then keras-rl2's summary line."""

    def __init__(self, *args):
        super().__init__(*args)
        print(f"Training for {self.nb_steps} steps ...")
        self.train_start = timeit.default_timer()
        self.bar = None
        self.episode_rewards, self.metrics = [], []

    def _summary(self):
        if not self.episode_rewards:
            return
        text = (f"{len(self.episode_rewards)} episodes - episode_reward: "
                f"{np.mean(self.episode_rewards):.3f} [{np.min(self.episode_rewards):.3f}, "
                f"{np.max(self.episode_rewards):.3f}]")
        metrics = np.asarray(self.metrics, float)
        if metrics.size and not np.isnan(metrics).all():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                means = np.nanmean(metrics, axis=0)
            text += "".join(f" - {name}: {mean:.3f}" for name, mean in zip(self.metrics_names, means))
        print(text)
        print("")

    def on_step_end(self, reward, action, metrics):
        if self.step % self.log_interval == 0:
            if self.bar is not None:
                self.bar.close()
            self._summary()
            self.episode_rewards, self.metrics = [], []
            print(f"Interval {self.step // self.log_interval + 1} ({self.step} steps performed)")
            self.bar = progress_bar(total=min(self.log_interval, self.nb_steps - self.step),
                                    unit="step")
        self.bar.update(1)
        self.metrics.append(metrics)
        super().on_step_end(reward, action, metrics)

    def on_episode_end(self, episode, logs):
        self.episode_rewards.append(logs["episode_reward"])

    def on_train_end(self):
        if self.bar is not None:
            self.bar.close()
        print(f"done, took {timeit.default_timer() - self.train_start:.3f} seconds")


def _make_train_logger(verbose, nb_steps, metrics_names, log_interval):
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    logger = {0: _Logger, 1: _IntervalLogger, 2: _EpisodeLogger}[verbose]
    return logger(nb_steps, metrics_names, check_positive_int("log_interval", log_interval))


# --- lecture 002's run -------------------------------------------------------------------------

@dataclass(frozen=True)
class LectureCartPoleConfig:
    """Lecture 002's "Cartpole and DQN" run (:func:`lecture_cartpole`)."""
    seed: int = 0
    """the run's seed: every generator, and CartPole-v0's first reset"""
    nb_steps: int = 5000
    """``fit``'s environment steps"""
    n_test_episodes: int = 5
    """``test``'s episodes, before and after ``fit``"""

    def __post_init__(self):
        check_non_negative_int("seed", self.seed)
        check_positive_int("nb_steps", self.nb_steps)
        check_positive_int("n_test_episodes", self.n_test_episodes)


def lecture_cartpole(config=LectureCartPoleConfig(), verbose=0):
    """Lecture 002's "Cartpole and DQN" cells (``examples/keras_rl_cartpole.py`` is the
    reader's script of them) at ``config.seed``: ``tf.keras.utils.set_random_seed(seed)``, CartPole-v0
    first reset with ``seed``, the 3x16 ReLU model behind ``Flatten(input_shape=(1, 4))``,
    ``SequentialMemory(50000, window_length=1)``, ``nb_steps_warmup=10``,
    ``target_model_update=1e-2``, ``EpsGreedyQPolicy()``, ``Adam(1e-3)``; five test episodes,
    ``fit`` for ``nb_steps``, five test episodes (``config``'s). Returns the three histories'
    ``history`` dicts: ``{"test_before": ..., "fit": ..., "test_after": ...}``."""
    seed, nb_steps, n_test_episodes = config.seed, config.nb_steps, config.n_test_episodes
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    env = make_env("CartPole-v0", render_mode=None)
    env.reset(seed=seed)
    nb_actions = env.action_space.n
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(1,) + env.observation_space.shape),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(nb_actions)])
    memory = SequentialMemory(limit=50000, window_length=1)
    dqn = DQNAgent(model=model, nb_actions=nb_actions, memory=memory, nb_steps_warmup=10,
                   target_model_update=1e-2, policy=EpsGreedyQPolicy())
    dqn.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    try:
        before = dqn.test(env, nb_episodes=n_test_episodes, visualize=False, verbose=verbose)
        fit = dqn.fit(env, nb_steps=nb_steps, visualize=False, verbose=verbose)
        after = dqn.test(env, nb_episodes=n_test_episodes, visualize=False, verbose=verbose)
    finally:
        env.close()
    return {"test_before": before.history, "fit": fit.history, "test_after": after.history}
