"""One DQN that trains every environment step: keras-rl2's ``DQNAgent``, lecture 003's agent
and a TF-Agents-like ``DqnAgent`` are settings of it.

The chapter's DQN (:mod:`homl_rl.dqn`) plays a whole episode, then trains once. The agents
of the other texts train *during* the episode: after every ``train_interval``-th step past a
warm-up, on one batch sampled from a replay buffer, with a target network refreshed by a
hard copy (every N steps or every N episodes) or a soft update after each training step.
:class:`PerStepDQNConfig` holds every such choice; :class:`PerStepDQN` is the agent (its
Q-network, target network, replay buffer and compiled training step), and
:func:`train_per_step` the one training loop::

    agent = PerStepDQN(KERAS_RL_CARTPOLE, n_actions=2, input_shape=(4,))
    history = train_per_step(agent, env, n_steps=5000, reset_seed=0)

When it trains and hard-copies its target is the config's ``step_order``, a hook from
:data:`STEP_ORDERS` (:meth:`PerStepDQN.train_after_step` and :meth:`PerStepDQN.after_episode`
ask it). keras-rl2's is the default: after the step of 0-based index ``t`` has been stored,
train when ``t > warmup_steps`` and ``t % train_interval == 0``, then (hard copy by steps)
copy when ``t % target_update_period == 0``. Stable-Baselines3's ``DQN`` (``"sb3"``) counts
the steps from 1 instead (after the ``n``-th step, ``n = t + 1``) and copies before it
trains; it also runs ``gradient_steps`` training steps at each training point and clips the
gradients' global norm (``max_grad_norm``). Lecture 003's (``"lecture_003"``) trains once
the buffer holds a batch and counts the episodes of its copies from 1. What the loop does
with each step and at each episode's end are the agent's hooks (:func:`train_per_step`):
keras-rl2's :class:`homl_rl.keras_rl.DQNAgent` gives its own to run its ``fit`` here, and
Breakout's :class:`homl_rl.breakout.BreakoutSteps` its own for Breakout's training.

A soft update runs inside the compiled training step, after the optimizer's update; it blends
in the online weights of after that update (``soft_update_weights="updated"``, as TF-Agents
orders it) or of before it (``"previous"``, keras-rl2's: see :data:`SOFT_UPDATE_WEIGHTS`).
"""

import copy
import math
from dataclasses import dataclass, replace

import numpy as np

from homl_rl.checks import (
    check_bool, check_choice, check_non_negative_int, check_positive_int, check_positive_number,
    check_unit_interval)
from homl_rl.engines.dqn import DQNFastEngine
from homl_rl.environments import make_env
from homl_rl.history import TrainingHistory
from homl_rl.keras_choices import (  # noqa: F401  (optimizer_names: part of this API)
    check_loss_name, check_optimizer_name, make_optimizer, optimizer_names)
from homl_rl.progress import progress_bar
from homl_rl.replay_buffers import Experiences, NumpyReplayBuffer
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf

TARGET_UPDATES = ("steps", "episodes", "soft")
"""How the target network follows the online one: a hard copy every ``target_update_period``
steps, or episodes, or a soft update with ``tau`` after every training step."""

SOFT_UPDATE_WEIGHTS = ("updated", "previous")
"""Which online weights a soft update blends into the target: ``"updated"``, those after the
training step's optimizer update, or ``"previous"``, those before it. keras-rl2 adds its soft
update to the optimizer's updates in a TensorFlow 1 graph (``AdditionalUpdatesOptimizer``; its
``rl.agents`` package turns eager execution off), where nothing orders the update's reads of
the online weights after Adam's writes: those reads wait for nothing, so the graph mostly runs
them first and the target blends in the weights of before the step."""


class KerasRL2StepOrder:
    """keras-rl2's step order (``DQNAgent.backward``), the default: after the step of 0-based
    index ``t`` was stored, train when ``t > warmup_steps`` and ``t % train_interval == 0``,
    then hard-copy (by steps) when ``t % target_update_period == 0``; by episodes, copy after
    the episodes of 0-based index 0, N, 2N... (the chapter's ``episode % N == 0``)."""

    copies_before_training = False
    """at a step that both trains and hard-copies, whether the copy comes first"""

    def count(self, step):
        """The number the step rules read after the step of 0-based index ``step``."""
        return step

    def trains_after_step(self, agent, step):
        """Whether ``agent`` trains after the step of 0-based index ``step`` was stored."""
        config = agent.config
        count = self.count(step)
        return count > config.warmup_steps and count % config.train_interval == 0

    def copies_target_after_step(self, agent, step):
        """Whether the target gets a hard copy (``target_update="steps"``) after that step."""
        config = agent.config
        return (config.target_update == "steps"
                and self.count(step) % config.target_update_period == 0)

    def copies_target_after_episode(self, agent, episode):
        """Whether the target gets a hard copy (``target_update="episodes"``) after the
        episode of 0-based index ``episode``."""
        config = agent.config
        return config.target_update == "episodes" and episode % config.target_update_period == 0


class SB3StepOrder(KerasRL2StepOrder):
    """Stable-Baselines3's ``DQN`` on one environment: the steps counted from 1 (after the
    ``n``-th step, ``n = t + 1``): train when ``n > warmup_steps`` and ``n % train_interval ==
    0``, hard-copy when ``n % target_update_period == 0`` — training follows the step that
    *completes* each interval (``num_timesteps > learning_starts`` after each rollout of
    ``train_freq`` steps, the copy at ``_n_calls % target_update_interval == 0``); the copy
    comes before the training of the same step (``_on_step`` copies after every step of a
    rollout, ``train`` runs after the rollout)."""

    copies_before_training = True

    def count(self, step):
        return step + 1


class Lecture003StepOrder(KerasRL2StepOrder):
    """Lecture 003's ``train`` loop: train once the replay buffer holds a batch (``if
    len(replay_buffer) < BATCH_SIZE: return``; ``warmup_steps`` must be 0), on the interval;
    the hard copy by episodes counts the finished episodes from 1: after the N-th, 2N-th...
    episode (``ep += 1`` then ``ep % N == 0``)."""

    def trains_after_step(self, agent, step):
        return (len(agent.replay_buffer) >= agent.config.batch_size
                and step % agent.config.train_interval == 0)

    def copies_target_after_episode(self, agent, episode):
        config = agent.config
        return (config.target_update == "episodes"
                and (episode + 1) % config.target_update_period == 0)


STEP_ORDERS = {"keras_rl2": KerasRL2StepOrder(), "sb3": SB3StepOrder(),
               "lecture_003": Lecture003StepOrder()}
"""When a per-step agent trains and hard-copies its target, by the name of the library whose
order it reproduces (:attr:`PerStepDQNConfig.step_order`); each is a hook object with
``trains_after_step``, ``copies_target_after_step`` (and ``copies_before_training``) and
``copies_target_after_episode``."""

EPSILON_SCHEDULES = ("constant", "linear", "exponential")
EPSILON_UNITS = ("steps", "episodes")
WEIGHT_INITS = ("keras", "torch", "tf_agents")
"""How the Q-network's Dense layers start: Keras' defaults (Glorot-uniform kernels, zero
biases), PyTorch's ``nn.Linear`` (kernel and bias uniform in +-1/sqrt(fan_in)), or the
TF-Agents DQN tutorial's ``QNetwork`` (hidden kernels He-truncated-normal,
``VarianceScaling(2.0, "fan_in", "truncated_normal")``, zero biases; the output layer's kernel
uniform in +-0.03 and its biases -0.2)."""


@dataclass(frozen=True)
class PerStepDQNConfig:
    """Every setting of the per-step DQN (the defaults are keras-rl2's ``DQNAgent``'s)."""
    gamma: float = 0.99
    """discount factor in the target ``r + gamma * Q_target(s', a*)``"""
    batch_size: int = 32
    """experiences sampled for each training step"""
    buffer_capacity: int = 50_000
    """experiences the replay buffer keeps (the oldest are overwritten)"""
    warmup_steps: int = 1000
    """no training until the step of 0-based index ``t > warmup_steps`` (keras-rl2's
    ``nb_steps_warmup``; ``t + 1 > warmup_steps`` in SB3's ``step_order``; 0 in lecture 003's,
    which waits for a batch instead)"""
    random_steps: int = 0
    """the steps of 0-based index ``t < random_steps`` act uniformly at random, whatever epsilon
    (TF-Agents' initial collection with a random policy, SB3's ``learning_starts``)"""
    train_interval: int = 1
    """train after every ``train_interval``-th step (``t % train_interval == 0``; ``(t + 1) %
    train_interval == 0`` in SB3's ``step_order``)"""
    gradient_steps: int = 1
    """training steps at each training point, each on a batch of its own (SB3's
    ``gradient_steps``)"""
    step_order: str = "keras_rl2"
    """when the agent trains and hard-copies its target: the step order of a library, a
    :data:`STEP_ORDERS` name (``"keras_rl2"``, ``"sb3"``, ``"lecture_003"``)"""
    target_update: str = "steps"
    """``"steps"`` or ``"episodes"`` (hard copy every ``target_update_period`` of them), or ``"soft"``"""
    target_update_period: int = 10_000
    """steps or episodes between hard copies (unused by ``"soft"``)"""
    tau: float = 0.01
    """soft update ``target = (1 - tau) * target + tau * online`` after each training step (``"soft"`` only)"""
    soft_update_weights: str = "updated"
    """the ``online`` weights a soft update blends in: ``"updated"`` (after the training step's
    optimizer update) or ``"previous"`` (before it, as keras-rl2's graph does)"""
    double: bool = False
    """Double DQN: the online network picks ``a*``, the target network evaluates it (else max of target)"""
    dueling: bool = False
    """dueling head: ``Q = V + A - mean(A)`` in place of the last Dense layer"""
    sample_with_replacement: bool = True
    """draw a batch with replacement (else without, by ``random.sample``, once the buffer holds a batch)"""
    truncation_is_terminal: bool = False
    """no bootstrap after a time-limit cut either (gym < 0.26 and keras-rl2 read it as an end)"""
    independent_target: bool = False
    """the target network starts with its own random weights (lecture 003 builds two ``Net`` objects),
    not a copy of the online network's"""
    weight_init: str = "keras"
    """``"keras"`` (Glorot-uniform kernels, zero biases), ``"torch"`` (PyTorch's
    ``nn.Linear``: kernels and biases uniform in +-1/sqrt(fan_in)) or ``"tf_agents"`` (the
    TF-Agents tutorial's ``QNetwork``: see :data:`WEIGHT_INITS`)"""
    loss: str = "huber"
    """``"huber"`` (with ``huber_delta``) or ``"mse"``, averaged over the batch"""
    huber_delta: float = 1.0
    """Huber's threshold; ``math.inf`` gives ``0.5 * error ** 2`` (keras-rl2's default ``delta_clip``)"""
    max_grad_norm: float = math.inf
    """clip the gradients by their global norm before the optimizer's update, as PyTorch's
    ``clip_grad_norm_`` does (SB3's ``max_grad_norm``): all scaled by
    ``min(1, max_grad_norm / (norm + 1e-6))``, ``norm`` the square root of the sum of every
    gradient's squares; ``math.inf``: no clipping"""
    optimizer: str = "adam"
    """any Keras optimizer by name (``"adam"``, ``"nadam"``, ``"rmsprop"``, ``"sgd"``, ...)"""
    learning_rate: float = 1e-3
    """the optimizer's learning rate"""
    hidden_layers: tuple = (16, 16, 16)
    """units of each hidden Dense layer of the Q-network"""
    activation: str = "relu"
    """activation of the hidden layers"""
    epsilon_schedule: str = "constant"
    """``"constant"`` (``epsilon_start``), ``"linear"`` (to ``epsilon_end`` over ``epsilon_decay``)
    or ``"exponential"`` (``end + (start - end) * exp(-t / epsilon_decay)``)"""
    epsilon_start: float = 0.1
    """exploration rate at the start (keras-rl2's ``EpsGreedyQPolicy(eps=.1)``)"""
    epsilon_end: float = 0.1
    """exploration rate it decays to"""
    epsilon_decay: float = 1.0
    """decay length (linear) or time constant (exponential), in ``epsilon_unit``"""
    epsilon_unit: str = "steps"
    """what ``t`` counts in the schedule: ``"steps"`` or ``"episodes"``"""
    eval_every: int = 0
    """greedy evaluation (:func:`evaluate_greedy`) once ``(finished episodes + 1) % eval_every
    == 0`` (lecture 003's ``(ep+1) % EVAL_EVERY``: after episodes 2, 5, 8... for 3); 0: never"""
    eval_episodes: int = 5
    """episodes of each evaluation (lecture 003's ``eval_dqn(n_sim=5)``), averaged"""
    eval_stop_at: float = math.inf
    """stop training once an evaluation's mean return reaches this (lecture 003's 199)"""
    seed: int = 0
    """the run's seed (:func:`train_per_step_dqn`: every generator, the action space and the
    first reset)"""

    def __post_init__(self):
        check_unit_interval("gamma", self.gamma)
        for name in ("batch_size", "buffer_capacity", "train_interval", "gradient_steps",
                     "target_update_period"):
            check_positive_int(name, getattr(self, name))
        check_non_negative_int("warmup_steps", self.warmup_steps)
        check_non_negative_int("random_steps", self.random_steps)
        check_non_negative_int("seed", self.seed)
        check_choice("target_update", self.target_update, TARGET_UPDATES)
        check_unit_interval("tau", self.tau, zero=False)
        check_choice("soft_update_weights", self.soft_update_weights, SOFT_UPDATE_WEIGHTS)
        check_choice("step_order", self.step_order, tuple(STEP_ORDERS))
        for name in ("double", "dueling", "sample_with_replacement", "truncation_is_terminal",
                     "independent_target"):
            check_bool(name, getattr(self, name))
        if self.step_order == "lecture_003" and self.warmup_steps != 0:
            raise ValueError(f"warmup_steps must be 0 with step_order 'lecture_003' (the buffer "
                             f"holding a batch is the warm-up), got {self.warmup_steps}")
        check_choice("weight_init", self.weight_init, WEIGHT_INITS)
        check_loss_name(self.loss)
        check_positive_number("huber_delta", self.huber_delta)
        check_positive_number("max_grad_norm", self.max_grad_norm)
        check_optimizer_name(self.optimizer)
        check_positive_number("learning_rate", self.learning_rate)
        if not isinstance(self.hidden_layers, (tuple, list)):
            raise ValueError(f"hidden_layers must be a tuple of positive integers, "
                             f"got {self.hidden_layers!r}")
        object.__setattr__(self, "hidden_layers", tuple(
            check_positive_int("hidden_layers", units) for units in self.hidden_layers))
        if not isinstance(self.activation, str) or not self.activation:
            raise ValueError(f"activation must be a Keras activation's name, got {self.activation!r}")
        check_choice("epsilon_schedule", self.epsilon_schedule, EPSILON_SCHEDULES)
        check_unit_interval("epsilon_start", self.epsilon_start)
        check_unit_interval("epsilon_end", self.epsilon_end)
        check_positive_number("epsilon_decay", self.epsilon_decay)
        check_choice("epsilon_unit", self.epsilon_unit, EPSILON_UNITS)
        check_non_negative_int("eval_every", self.eval_every)
        check_positive_int("eval_episodes", self.eval_episodes)
        if not isinstance(self.eval_stop_at, (int, float)) or math.isnan(self.eval_stop_at):
            raise ValueError(f"eval_stop_at must be a number, got {self.eval_stop_at!r}")

    def epsilon(self, step=0, episode=0):
        """The exploration rate at 0-based ``step`` (or ``episode``, by ``epsilon_unit``)."""
        t = step if self.epsilon_unit == "steps" else episode
        start, end = self.epsilon_start, self.epsilon_end
        if self.epsilon_schedule == "constant":
            return start
        if self.epsilon_schedule == "linear":
            return end + (start - end) * max(0.0, 1 - t / self.epsilon_decay)
        return end + (start - end) * math.exp(-t / self.epsilon_decay)


# --- the presets ---------------------------------------------------------------------------

KERAS_RL_CARTPOLE = PerStepDQNConfig(
    gamma=0.99, batch_size=32, buffer_capacity=50_000, warmup_steps=10, train_interval=1,
    target_update="soft", tau=1e-2, soft_update_weights="previous", double=False, dueling=False,
    sample_with_replacement=False, truncation_is_terminal=True, loss="huber",
    huber_delta=math.inf, optimizer="adam", learning_rate=1e-3, hidden_layers=(16, 16, 16),
    activation="relu", epsilon_schedule="constant", epsilon_start=0.1, epsilon_end=0.1)
"""Lecture 002's keras-rl2 ``DQNAgent`` on CartPole-v0: 3x16 ReLU, ``SequentialMemory(50000)``,
``nb_steps_warmup=10``, ``target_model_update=1e-2`` (soft, blending in the online weights of
before each training step, as keras-rl2's graph does), ``EpsGreedyQPolicy()`` (0.1),
``Adam(1e-3)``, keras-rl2's defaults otherwise (gamma .99, batch 32, no Double DQN, loss
``0.5 * error ** 2``)."""

LECTURE_DQN = PerStepDQNConfig(
    gamma=0.99, batch_size=256, buffer_capacity=16_384, warmup_steps=0, step_order="lecture_003",
    train_interval=1, target_update="episodes", target_update_period=5, independent_target=True, double=False, dueling=False,
    sample_with_replacement=True, truncation_is_terminal=True, loss="mse", optimizer="adam",
    learning_rate=0.05, hidden_layers=(128,), activation="relu", weight_init="torch",
    epsilon_schedule="exponential", epsilon_start=1.0, epsilon_end=0.05, epsilon_decay=200,
    epsilon_unit="episodes", eval_every=3, eval_episodes=5, eval_stop_at=199)
"""Lecture 003's DQN on CartPole-v0 (:mod:`homl_rl.lecture_dqn` reads its loop): gamma .99,
batch 256, a 16,384 ring buffer sampled with replacement, no update until it holds a batch,
one update per step, ``Linear(4, 128)``-ReLU-``Linear(128, 2)`` with PyTorch's init and its
own random target, Adam 0.05 on the MSE, a hard target copy after every 5th finished
episode, epsilon ``0.05 + 0.95 exp(-episode / 200)``, no bootstrap at the 200-step cut
(gym 0.21), ``eval_dqn(5)`` after episodes 2, 5, 8..., stopping at a mean of 199."""

LECTURE_DQN_STUDIES = replace(LECTURE_DQN, target_update_period=32, learning_rate=0.1)
"""The parameter set of lecture 003's studies: ``UPDATE_TARGET_EVERY = 32``,
``LEARNING_RATE = 0.1`` (and ``N_EPISODES = 200``, a run's length)."""

TF_AGENTS_CARTPOLE = PerStepDQNConfig(
    gamma=1.0, batch_size=64, buffer_capacity=100_000, random_steps=100, warmup_steps=99,
    train_interval=1, target_update="soft", tau=1.0, soft_update_weights="updated",
    double=False, dueling=False, sample_with_replacement=True, truncation_is_terminal=False,
    loss="mse", optimizer="adam", learning_rate=1e-3, hidden_layers=(100, 50), activation="relu",
    weight_init="tf_agents", epsilon_schedule="constant", epsilon_start=0.1, epsilon_end=0.1)
"""TF-Agents' ``DqnAgent`` as its DQN tutorial uses it (:mod:`homl_rl.tf_agents_pipeline.cartpole`):
a ``QNetwork`` of Dense(100)-Dense(50) ReLU layers (the tutorial's initializers), Adam 1e-3,
``element_wise_squared_loss`` averaged over the batch, batch 64 from a 100,000-step buffer
sampled with replacement, 100 initial steps of a random policy, then one collect step and one
training step per iteration (the first after the 101st step), epsilon-greedy 0.1; and
``DqnAgent``'s defaults: ``gamma=1.0``, ``target_update_period=1``, ``target_update_tau=1.0``
(the target network is a copy of the online one made after every training step; ``tau=1.0``
assigns the weights, as ``common.soft_variables_update`` does), no Double DQN, no gradient
clipping, a time-limit cut bootstrapping (TF-Agents' truncation keeps discount 1).

Not reproduced: TF-Agents samples pairs of adjacent time steps, so about one batch element in
an episode's length spans an episode boundary; ``DqnAgent`` masks it out of the loss but still
divides by the whole batch. Our buffer holds transitions only: every element counts."""

RL_ZOO_CARTPOLE_STEPS = 50_000
"""rl-zoo3's budget for DQN on CartPole-v1 (``n_timesteps: !!float 5e4``), in environment steps."""

RL_ZOO_CARTPOLE = PerStepDQNConfig(
    gamma=0.99, batch_size=64, buffer_capacity=100_000, warmup_steps=1000, random_steps=1000,
    step_order="sb3", train_interval=256, gradient_steps=128, target_update="steps",
    target_update_period=10, double=False, dueling=False,
    sample_with_replacement=True, truncation_is_terminal=False, weight_init="torch",
    loss="huber", huber_delta=1.0, max_grad_norm=10.0, optimizer="adam", learning_rate=2.3e-3,
    hidden_layers=(256, 256), activation="relu", epsilon_schedule="linear", epsilon_start=1.0,
    epsilon_end=0.04, epsilon_decay=0.16 * RL_ZOO_CARTPOLE_STEPS, epsilon_unit="steps")
"""Stable-Baselines3's ``DQN`` with rl-zoo3's CartPole-v1 hyper-parameters (rl-baselines3-zoo,
``hyperparams/dqn.yml``, entry ``CartPole-v1``, "Almost Tuned"; read at commit 22e3ff2 of
2026-04-23, rl-zoo3 2.9.0a2): ``n_timesteps 5e4``, ``learning_rate 2.3e-3``,
``batch_size 64``, ``buffer_size 100000``, ``learning_starts 1000``, ``gamma 0.99``,
``target_update_interval 10``, ``train_freq 256``, ``gradient_steps 128``,
``exploration_fraction 0.16``, ``exploration_final_eps 0.04``, ``net_arch [256, 256]``, and
SB3's ``DQN`` defaults for the rest (stable-baselines3 2.9: ``tau 1.0``, ``max_grad_norm 10``,
``exploration_initial_eps 1.0``, ``MlpPolicy``'s ReLU, Adam, ``smooth_l1_loss``).

As SB3 runs it on one environment: the first 1,000 steps act uniformly at random
(``num_timesteps < learning_starts``); after every 256th step once more than 1,000 were
played (steps 1,024, 1,280, ...), 128 training steps on batches of 64 drawn with replacement,
Huber loss (threshold 1) averaged over the batch, the gradients clipped to a global norm of
10; after every 10th step, a hard copy of the online weights to the target (before the
training of the same step: SB3's ``_on_step`` runs inside the rollout, ``train`` after it);
epsilon linear from 1.0 to 0.04 over the first 16 % of the budget (8,000 steps), read at the
number of steps played before the step; a time-limit cut bootstraps
(``handle_timeout_termination``); PyTorch's ``nn.Linear`` initialization; the target starts
as a copy. ``epsilon_decay`` is tied to the 5e4 budget: for another budget ``B``, SB3's
schedule is ``replace(RL_ZOO_CARTPOLE, epsilon_decay=0.16 * B)``.

What differs from SB3, and cannot be matched here: Keras' Adam (epsilon 1e-7, added to
``sqrt(v)`` after the bias correction is folded into the step size) vs PyTorch's (epsilon
1e-8, added to the bias-corrected ``sqrt(v)``), float32 kernels of another library, and the
random streams (NumPy's global generator draws our exploration, batches and random actions;
SB3 its own seeded streams and the action space's generator), so no run is SB3's run, step
for step."""

PRESETS = {"keras_rl_dqn": KERAS_RL_CARTPOLE, "lecture_dqn": LECTURE_DQN,
           "lecture_dqn_studies": LECTURE_DQN_STUDIES, "tf_agents_dqn": TF_AGENTS_CARTPOLE,
           "rl_zoo_dqn": RL_ZOO_CARTPOLE}
"""The per-step agents' settings, by the name of their row of :data:`homl_rl.variants.VARIANTS`
(``lecture_dqn_studies``: lecture 003's agent with its studies' parameter set)."""


# --- the Q-network -------------------------------------------------------------------------

def _dueling_avg(values):
    """keras-rl2's ``"avg"`` dueling head: ``V + A - mean(A)`` from ``[V, A_1 .. A_n]``."""
    return values[:, :1] + values[:, 1:] - tf.reduce_mean(values[:, 1:], axis=1, keepdims=True)


def dueling_head(model):
    """``model`` with its last layer replaced by a dueling head, as keras-rl2's
    ``enable_dueling_network`` does: ``Dense(n_actions + 1)`` on the second-last layer's
    output, combined as ``Q = V + A - mean(A)``."""
    n_actions = model.output.shape[-1]
    values = tf.keras.layers.Dense(n_actions + 1, activation="linear")(model.layers[-2].output)
    q_values = tf.keras.layers.Lambda(_dueling_avg, output_shape=(n_actions,))(values)
    return tf.keras.Model(inputs=model.inputs, outputs=q_values)


def dense_initializers(fan_in, weight_init, output_layer=False):
    """The keyword arguments that give a ``Dense`` layer of ``fan_in`` inputs the initializers
    of ``weight_init`` (:data:`WEIGHT_INITS`); ``output_layer``: the last layer (TF-Agents'
    differs from its hidden ones). ``{}`` for Keras' own."""
    if weight_init == "keras":
        return {}
    if weight_init == "tf_agents":
        if output_layer:
            return {"kernel_initializer": tf.keras.initializers.RandomUniform(-0.03, 0.03),
                    "bias_initializer": tf.keras.initializers.Constant(-0.2)}
        return {"kernel_initializer": tf.keras.initializers.VarianceScaling(
                    2.0, mode="fan_in", distribution="truncated_normal")}
    limit = 1 / math.sqrt(fan_in)  # PyTorch's nn.Linear.reset_parameters
    return {"kernel_initializer": tf.keras.initializers.VarianceScaling(
                1 / 3, mode="fan_in", distribution="uniform"),  # limit sqrt(3 * scale / fan_in)
            "bias_initializer": tf.keras.initializers.RandomUniform(-limit, limit)}


def build_per_step_q_network(input_shape, n_actions, config=PerStepDQNConfig()):
    """The Q-network of ``config``: Flatten, ``hidden_layers`` Dense layers, ``Dense(n_actions)``
    (a dueling head in its place with ``config.dueling``), initialized by ``weight_init``."""
    input_shape = tuple(input_shape)
    layers = [tf.keras.layers.Flatten(input_shape=input_shape)]
    fan_in = math.prod(input_shape)
    for units in config.hidden_layers:
        layers.append(tf.keras.layers.Dense(units, activation=config.activation,
                                            **dense_initializers(fan_in, config.weight_init)))
        fan_in = units
    layers.append(tf.keras.layers.Dense(
        n_actions, **dense_initializers(fan_in, config.weight_init, output_layer=True)))
    model = tf.keras.Sequential(layers)
    return dueling_head(model) if config.dueling else model


# --- the agent -----------------------------------------------------------------------------

def _loss(errors, loss, delta):
    if loss == "mse":
        return tf.square(errors)
    if math.isinf(delta):
        return 0.5 * tf.square(errors)
    absolute = tf.abs(errors)
    return tf.where(absolute <= delta, 0.5 * tf.square(errors), delta * absolute - 0.5 * delta ** 2)


def _clip_by_global_norm(grads, max_norm):
    """``grads`` scaled by ``min(1, max_norm / (norm + 1e-6))``, ``norm`` their global norm
    (PyTorch's ``clip_grad_norm_``; TensorFlow's ``clip_by_global_norm`` divides by the norm
    itself)."""
    norm = tf.linalg.global_norm(grads)
    scale = tf.minimum(1.0, max_norm / (norm + 1e-6))
    return [grad * scale for grad in grads]


class PerStepDQN:
    """A DQN agent trained every step: Q-network, target network, replay buffer, optimizer.

    ``model`` (a Keras model: states -> one Q-value per action) defaults to
    :func:`build_per_step_q_network` of ``input_shape``; ``optimizer`` to the config's by name;
    ``replay_buffer`` (anything with ``append``, ``__len__`` and
    ``sample(batch_size, replace)`` returning :class:`Experiences`) to a
    :class:`NumpyReplayBuffer` of ``buffer_capacity``. The target network is a clone of the
    model with its weights (with ``independent_target``: a clone with its own fresh weights).

    The training step is a ``tf.function`` traced once per batch shape; with
    ``jit_compile=True`` XLA compiles it (1.4x the env steps/s in
    ``benchmarks/results_per_step_dqn.md``): the same algorithm, but
    XLA fuses and reorders float32 operations, so its weights drift from the plain step's by
    a few float32 ulps (``tests/test_per_step_dqn.py`` bounds it over 100 steps). The pinned
    runs use the plain step.
    """

    def __init__(self, config=PerStepDQNConfig(), n_actions=None, input_shape=None, model=None,
                 optimizer=None, replay_buffer=None, jit_compile=False):
        if not isinstance(config, PerStepDQNConfig):
            raise TypeError(f"config must be a PerStepDQNConfig, got {type(config).__name__}")
        self.config = config
        if model is None:
            if input_shape is None or n_actions is None:
                raise ValueError("give a model, or input_shape and n_actions to build one")
            model = build_per_step_q_network(input_shape, check_positive_int("n_actions", n_actions),
                                             config)
        self.model = model
        self.n_actions = int(model.output.shape[-1])
        if n_actions is not None and n_actions != self.n_actions:
            raise ValueError(f"the model outputs {self.n_actions} Q-values, but n_actions is {n_actions}")
        self.target = tf.keras.models.clone_model(model)  # fresh weights, drawn now
        if not config.independent_target:
            self.target.set_weights(model.get_weights())
        self.optimizer = optimizer or make_optimizer(config.optimizer, config.learning_rate)
        self.replay_buffer = (NumpyReplayBuffer(config.buffer_capacity) if replay_buffer is None
                              else replay_buffer)
        self.training_steps = 0
        """training steps run so far"""
        self.jit_compile = bool(jit_compile)
        """whether the training step is compiled by XLA (see the class docstring)"""
        self._train_steps = {}  # batch shape -> the step's concrete function, traced once
        self._q_values = tf.function(lambda states: self.model(states))
        self.engine = DQNFastEngine()
        """the greedy actions' exact fast path (:meth:`greedy_action`, :meth:`greedy_policy`)"""

    # acting
    def q_values(self, states):
        """The online network's Q-values of a batch of ``states`` (a NumPy array)."""
        return self._q_values(tf.convert_to_tensor(np.asarray(states, np.float32))).numpy()

    def random_action(self):
        """A uniformly random action, ``np.random.randint(0, n_actions)``."""
        return int(np.random.randint(0, self.n_actions))

    def act(self, state, epsilon=0.0):
        """Epsilon-greedy action, drawn as keras-rl2's ``EpsGreedyQPolicy`` does:
        ``np.random.uniform() < epsilon`` -> ``np.random.randint(0, n_actions)``, else argmax
        (the Q-values are computed only then: they draw no random number)."""
        if epsilon > 0 and np.random.uniform() < epsilon:
            return self.random_action()
        return self.greedy_action(state)

    def greedy_action(self, state):
        """The online network's argmax action for one ``state``: the argmax of its compiled
        Q-values, found by the fast engine (a NumPy forward pass of the weights of the last
        training step, trusted where float32's rounding provably cannot change the argmax,
        else the compiled call). After changing the model's weights yourself
        (``agent.model.set_weights``), call :meth:`weights_changed`."""
        return int(self.engine.greedy_action(self.model, np.asarray(state, np.float32)))

    def weights_changed(self, weights=None):
        """Tell the agent its online weights changed (``weights``: their new values, in
        ``model.weights`` order; ``None``: read them when next needed)."""
        self.engine.weights_changed(self.model, weights)

    def greedy_policy(self):
        """``policy(state) -> action`` for an evaluation: :meth:`greedy_action`, with the
        weights read from the model once more first (whatever changed them)."""
        self.weights_changed()  # read the current weights on the first call
        return self.greedy_action

    # learning
    def observe(self, state, action, reward, next_state, done, truncated=False):
        """Store one experience in the replay buffer."""
        self.replay_buffer.append((state, action, reward, next_state, done, truncated))

    def _targets_graph(self, rewards, next_states, ends):
        next_target_q = self.target(next_states)
        if self.config.double:
            best_next = tf.argmax(self.model(next_states), axis=1, output_type=tf.int32)
            next_values = tf.gather(next_target_q, best_next, axis=1, batch_dims=1)
        else:
            next_values = tf.reduce_max(next_target_q, axis=1)
        return rewards + self.config.gamma * (1.0 - ends) * next_values

    def _train_step_graph(self, states, actions, rewards, next_states, ends):
        config = self.config
        targets = self._targets_graph(rewards, next_states, ends)
        mask = tf.one_hot(actions, self.n_actions)
        soft = config.target_update == "soft"
        if soft and config.soft_update_weights == "previous":  # read before the optimizer writes
            blended = self._soft_blend()
        with tf.GradientTape() as tape:
            all_q = self.model(states, training=True)
            q = tf.reduce_sum(all_q * mask, axis=1)
            loss = tf.reduce_mean(_loss(targets - q, config.loss, config.huber_delta))
        variables = self.model.trainable_variables
        grads = tape.gradient(loss, variables)
        if not math.isinf(config.max_grad_norm):
            grads = _clip_by_global_norm(grads, config.max_grad_norm)
        self.optimizer.apply_gradients(zip(grads, variables))
        if soft:
            if config.soft_update_weights == "updated":
                blended = self._soft_blend()
            for target_weight, value in zip(self.target.weights, blended):
                target_weight.assign(value)
        # keras-rl2's metrics: mae between the masked targets and all Q-values, mean max Q
        mae = tf.reduce_mean(tf.abs(mask * targets[:, None] - all_q))
        mean_q = tf.reduce_mean(tf.reduce_max(all_q, axis=1))
        return (loss, mae, mean_q), [tf.identity(weight) for weight in self.model.weights]

    def _packed_train_step_graph(self, packed, state_shape):
        """:meth:`_train_step_graph` on a batch packed in one float32 array (one conversion
        per step, not five): each row is ``[state..., action, reward, next_state..., end]``;
        the slices give back the same values (the action is a small integer in float32)."""
        size = math.prod(state_shape)
        batch_shape = (-1, *state_shape)
        states = tf.reshape(packed[:, :size], batch_shape)
        actions = tf.cast(packed[:, size], tf.int32)
        rewards = packed[:, size + 1]
        next_states = tf.reshape(packed[:, size + 2:2 * size + 2], batch_shape)
        ends = packed[:, 2 * size + 2]
        return self._train_step_graph(states, actions, rewards, next_states, ends)

    def _soft_blend(self):
        """``(1 - tau) * target + tau * online`` of each weight, read now (in the compiled step);
        with ``tau == 1`` the online weights themselves (a copy, as TF-Agents assigns them)."""
        tau = self.config.tau
        if tau == 1.0:
            return [tf.identity(weight) for weight in self.model.weights]
        return [(1 - tau) * target_weight + tau * weight
                for target_weight, weight in zip(self.target.weights, self.model.weights)]

    def _ends(self, experiences):
        """1.0 where the target must not bootstrap (an end, or a cut read as one), else 0.0."""
        ends = np.asarray(experiences.dones, bool)
        if self.config.truncation_is_terminal:
            ends = ends | np.asarray(experiences.truncateds, bool)
        return ends.astype(np.float32)

    def _pack(self, experiences):
        """A batch as one float32 array (see :meth:`_packed_train_step_graph`)."""
        states, actions, rewards, next_states = experiences[:4]
        n = len(actions)
        return np.concatenate([
            np.reshape(np.asarray(states, np.float32), (n, -1)),
            np.asarray(actions, np.float32)[:, None], np.asarray(rewards, np.float32)[:, None],
            np.reshape(np.asarray(next_states, np.float32), (n, -1)),
            self._ends(experiences)[:, None]], axis=1)

    def td_targets(self, experiences):
        """The targets ``r + gamma * (1 - end) * Q_target(s', a*)`` of a batch (``a*``: the
        target's argmax, or the online network's with ``double``), as a NumPy array."""
        return self._targets_graph(
            tf.convert_to_tensor(np.asarray(experiences.rewards, np.float32)),
            tf.convert_to_tensor(np.asarray(experiences.next_states, np.float32)),
            tf.convert_to_tensor(self._ends(experiences))).numpy()

    def train_on(self, experiences):
        """One compiled training step on a batch of :class:`Experiences`; returns
        ``(loss, mae, mean_q)`` (keras-rl2's metrics, before the update)."""
        packed = self._pack(experiences)
        state_shape = np.shape(experiences.states)[1:]
        step = self._train_steps.get((packed.shape, state_shape))
        if step is None:  # a concrete function: no per-call dispatch on the arguments
            step = self._train_steps[packed.shape, state_shape] = tf.function(
                lambda packed: self._packed_train_step_graph(packed, state_shape),
                jit_compile=self.jit_compile or None,
            ).get_concrete_function(tf.TensorSpec(packed.shape, tf.float32))
        metrics, weights = step(tf.convert_to_tensor(packed))
        self.training_steps += 1
        self.weights_changed([weight.numpy() for weight in weights])
        return tuple(float(metric) for metric in metrics)

    def train(self):
        """Sample a batch (with or without replacement, by the config) and train on it."""
        batch = self.replay_buffer.sample(self.config.batch_size,
                                          replace=self.config.sample_with_replacement)
        return self.train_on(batch)

    def update_target(self):
        """Hard update: copy the online weights to the target network."""
        self.target.set_weights(self.model.get_weights())

    def train_after_step(self, step):
        """After the step of 0-based index ``step`` was stored: ``gradient_steps`` training
        steps if the config's ``step_order`` says it trains now (:data:`STEP_ORDERS`), and the
        hard copy by steps if it says so, after them (before them in SB3's order). Returns the
        metrics of each training step (a list, empty if it did not train)."""
        order = STEP_ORDERS[self.config.step_order]
        copy_due = order.copies_target_after_step(self, step)
        if copy_due and order.copies_before_training:
            self.update_target()
        metrics = []
        if order.trains_after_step(self, step):
            metrics = [self.train() for _ in range(self.config.gradient_steps)]
        if copy_due and not order.copies_before_training:
            self.update_target()
        return metrics

    def after_step(self, step):
        """:meth:`train_after_step`, returning the metrics of its last training step, or
        ``None`` if it did not train."""
        metrics = self.train_after_step(step)
        return metrics[-1] if metrics else None

    # the training loop's hooks (:func:`train_per_step` calls them; keras-rl2's
    # :class:`homl_rl.keras_rl.DQNAgent` gives its own)
    def choose_action(self, state, step, episode):
        """The action for ``state`` at the step of 0-based index ``step`` in the episode of
        0-based index ``episode``: uniformly random for the first ``random_steps`` steps
        (:meth:`random_action`), then epsilon-greedy (:meth:`act`) with the config's
        schedule."""
        if step < self.config.random_steps:
            return self.random_action()
        return self.act(state, self.config.epsilon(step, episode))

    def at_episode_end(self, episode, state, steps, finished):
        """What happens at the end of the episode of 0-based index ``episode`` (``state``: its
        last observation, ``steps``: the steps played so far, ``finished``: whether it ended,
        not cut by the step budget): :meth:`after_episode`, the hard copy by episodes."""
        self.after_episode(episode)

    def after_episode(self, episode):
        """After the episode of 0-based index ``episode``: the hard copy by episodes if the
        config's ``step_order`` says it is due (counted from 0, or from 1 in lecture 003's)."""
        if STEP_ORDERS[self.config.step_order].copies_target_after_episode(self, episode):
            self.update_target()


# --- the training loop ---------------------------------------------------------------------

def evaluate_greedy(agent, env, n_episodes=5):
    """Monte-Carlo evaluation of the greedy policy (:meth:`PerStepDQN.greedy_policy`): the sum of rewards of each of ``n_episodes``
    episodes played on a ``deepcopy`` of ``env`` (so the training environment's random state
    is untouched; the copy's resets continue from it, unseeded). A NumPy array."""
    check_positive_int("n_episodes", n_episodes)
    policy = agent.greedy_policy()
    env_copy = copy.deepcopy(env)
    returns = np.zeros(n_episodes)
    for index in range(n_episodes):
        state, _ = env_copy.reset()
        done = False
        while not done:
            state, reward, terminated, truncated, _ = env_copy.step(policy(state))
            returns[index] += reward
            done = terminated or truncated
    return returns


def train_per_step(agent, env, n_steps=None, n_episodes=None, *, reset_seed=None, callback=None,
                   step_callback=None, progress=True, desc="per-step DQN"):
    """Train ``agent`` on Gymnasium ``env`` for ``n_steps`` steps or ``n_episodes`` episodes
    (whichever ends first; at least one must be given); returns a :class:`TrainingHistory`.

    ``agent`` is a :class:`PerStepDQN`, or anything with a ``config`` and the loop's hooks
    (keras-rl2's :class:`homl_rl.keras_rl.DQNAgent` and Breakout's
    :class:`homl_rl.breakout.BreakoutSteps` give their own). Each step:
    ``agent.choose_action(state, step, episode)`` (:meth:`PerStepDQN.choose_action`: at random
    for the first ``random_steps``, then epsilon-greedily by the config's schedule), step the
    environment, ``agent.observe(...)`` (store the experience), ``agent.train_after_step(step)``
    (train and update the target as due: :meth:`PerStepDQN.train_after_step`), then
    ``step_callback(agent, steps_so_far, history)`` if given (it may return ``True`` to stop
    at once). Each episode's end: ``agent.at_episode_end(episode, state, steps_so_far,
    finished)`` (:meth:`PerStepDQN.at_episode_end`; ``finished``: the episode ended, not cut by
    ``n_steps``); the greedy evaluation if due (``eval_every``: its mean return goes to
    ``history.eval_returns``, and reaching ``eval_stop_at`` stops the run); then
    ``callback(agent, episode, history)`` — which may return ``True`` to stop. The first reset
    gets ``reset_seed`` (``None``: not reseeded). This is the loop alone; it seeds nothing else
    (:func:`train_per_step_dqn` seeds a run from its config).
    """
    if n_steps is None and n_episodes is None:
        raise ValueError("give n_steps or n_episodes (or both)")
    if n_steps is not None:
        check_positive_int("n_steps", n_steps)
    if n_episodes is not None:
        check_positive_int("n_episodes", n_episodes)
    history = TrainingHistory()
    config = agent.config
    eval_every = getattr(config, "eval_every", 0)  # a config without it: no evaluation
    step = episode = 0
    stopped = False
    total = n_steps if n_steps is not None else n_episodes
    bar = progress_bar(total=total, desc=desc, progress=progress,
                       unit="step" if n_steps is not None else "episode")
    try:
        while ((n_steps is None or step < n_steps)
               and (n_episodes is None or episode < n_episodes)):
            state, _ = env.reset(seed=reset_seed if episode == 0 else None)
            episode_return, length = 0.0, 0
            while True:
                action = agent.choose_action(state, step, episode)
                next_state, reward, terminated, truncated, _ = env.step(action)
                agent.observe(state, action, reward, next_state, terminated, truncated)
                history.losses.extend(metrics[0] for metrics in agent.train_after_step(step))
                step += 1
                length += 1
                episode_return += reward
                state = next_state
                if n_steps is not None:
                    bar.update(1)
                if step_callback is not None and step_callback(agent, step, history):
                    history.stopped_early = stopped = True
                if stopped or terminated or truncated or step == n_steps:
                    break
            agent.at_episode_end(episode, state, step, terminated or truncated)
            history.episode_rewards.append(float(episode_return))
            history.episode_lengths.append(length)
            history.n_steps = step
            if n_steps is None:
                bar.update(1)
            bar.set_postfix(episode=episode + 1, ret=f"{episode_return:.0f}", refresh=False)
            episode += 1
            if stopped:
                break
            if eval_every and (episode + 1) % eval_every == 0:
                history.eval_returns.append(float(np.mean(
                    evaluate_greedy(agent, env, config.eval_episodes))))
                history.eval_after.append(episode)
                if history.eval_returns[-1] >= config.eval_stop_at:
                    history.stopped_early = True
                    break
            if callback is not None and callback(agent, episode - 1, history):
                history.stopped_early = True
                break
    finally:
        bar.close()
    return history


def make_per_step_agent(config, env, model=None, jit_compile=False):
    """``set_seeds(config.seed)``, then a :class:`PerStepDQN` of ``config`` for ``env``'s
    spaces."""
    set_seeds(config.seed)
    return PerStepDQN(config, n_actions=int(env.action_space.n),
                      input_shape=env.observation_space.shape, model=model,
                      jit_compile=jit_compile)


def train_per_step_dqn(config, env_id="CartPole-v1", n_steps=None, n_episodes=None, *,
                       progress=True, env=None, jit_compile=False, step_callback=None):
    """Seed (``config.seed``: every generator, the action space, the first reset), build and
    train a per-step agent of ``config`` on ``env_id`` (or ``env``); returns
    ``(history, agent)``: a :class:`~homl_rl.history.TrainingHistory` and the agent."""
    own_env = env is None
    env = make_env(env_id, render_mode=None) if own_env else env
    try:
        agent = make_per_step_agent(config, env, jit_compile=jit_compile)
        env.action_space.seed(config.seed)
        history = train_per_step(agent, env, n_steps=n_steps, n_episodes=n_episodes,
                                 reset_seed=config.seed, progress=progress,
                                 step_callback=step_callback)
    finally:
        if own_env:
            env.close()
    history.config = config
    return history, agent
