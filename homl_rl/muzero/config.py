"""MuZero's settings: :class:`MuZeroConfig`, whose defaults are muzero-general's CartPole.

The defaults are those of muzero-general's ``games/cartpole.py`` at commit 267285d
(2020-11-20), the configuration the lecture ran (HEAD later changed ``lr_decay_rate`` to
0.8). Only what a one-player, fully connected MuZero needs is here (no ResNet, no opponent,
no GPU switches); the fields keep muzero-general's names, lower-cased (``PER`` is ``per``).
"""

import math
from dataclasses import dataclass

import numpy as np

from homl_rl.checks import (
    check_bool, check_choice, check_non_negative_int, check_positive_int, check_positive_number,
    check_unit_interval)


def _check_layers(name, value):
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"{name} must be a tuple of positive integers, got {value!r}")
    return tuple(check_positive_int(name, units) for units in value)


def _check_frame_crop(crop):
    """``crop`` as a ``(top, bottom)`` pair of floats with 0 <= top < bottom <= 1, or a ``ValueError``."""
    if (not isinstance(crop, (tuple, list)) or len(crop) != 2
            or any(isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating))
                   for x in crop)
            or not 0 <= crop[0] < crop[1] <= 1):
        raise ValueError(f"frame_crop must be a (top, bottom) pair with 0 <= top < bottom <= 1, "
                         f"got {crop!r}")
    return (float(crop[0]), float(crop[1]))


def _check_temperature_schedule(schedule):
    """The schedule as a tuple of ``(fraction, temperature)`` pairs, or a ``ValueError``."""
    if not isinstance(schedule, (tuple, list)) or not schedule:
        raise ValueError(f"temperature_schedule must be a non-empty tuple of (fraction, "
                         f"temperature) pairs, got {schedule!r}")
    pairs = []
    for pair in schedule:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"temperature_schedule must hold (fraction, temperature) pairs, "
                             f"got {pair!r}")
        fraction, temperature = pair
        check_unit_interval("temperature_schedule fraction", fraction)
        if (isinstance(temperature, bool)
                or not isinstance(temperature, (int, float, np.integer, np.floating))
                or not temperature >= 0):
            raise ValueError(f"temperature_schedule temperature must be a number >= 0, "
                             f"got {temperature!r}")
        pairs.append((float(fraction), float(temperature)))
    if pairs[0][0] != 0:
        raise ValueError(f"temperature_schedule must start at fraction 0, got {pairs[0][0]}")
    if any(b[0] <= a[0] for a, b in zip(pairs, pairs[1:])):
        raise ValueError(f"temperature_schedule fractions must increase, "
                         f"got {[p[0] for p in pairs]}")
    return tuple(pairs)


@dataclass(frozen=True)
class MuZeroConfig:
    """Every setting of MuZero (defaults: muzero-general's CartPole at commit 267285d)."""
    env_id: str = "CartPole-v1"
    """the Gymnasium environment (a discrete action space)"""
    observation: str = "state"
    """what MuZero sees: ``"state"``, the environment's observation vector (fully connected
    representation), or ``"frames"``, its rendered images (grayscale, cropped, downscaled to
    ``frame_shape``; convolutional representation)"""
    frame_shape: tuple = (48, 72)
    """``(height, width)`` of a downscaled frame (``observation="frames"``)"""
    frame_crop: tuple = (0.0, 1.0)
    """``(top, bottom)``: the rows of the rendered image kept, as fractions of its height (frames)"""
    conv_filters: tuple = (16, 32, 32)
    """filters of the representation's convolutions (frames): each ``conv_kernel_size`` square,
    stride 2, no padding, ELU; then ``fc_representation_layers`` and a dense layer to the encoding"""
    conv_kernel_size: int = 4
    """side of the representation's convolution kernels (frames)"""
    stacked_observations: int = 0
    """previous observations (and their actions, as planes) stacked onto the current one"""
    max_moves: int = 500
    """a game stops after this many moves if it has not ended"""
    num_simulations: int = 50
    """MCTS simulations per move"""
    discount: float = 0.997
    """discount of the rewards, in the tree and in the value targets"""
    temperature_threshold: int = 0
    """moves after which a game plays the most visited action (temperature 0); 0: never"""
    temperature_schedule: tuple = ((0.0, 1.0), (0.5, 0.5), (0.75, 0.25))
    """``(fraction, temperature)``: from ``fraction * training_steps`` trained steps on, self-play
    draws actions with visit counts ** (1 / temperature) (muzero-general's
    ``visit_softmax_temperature_fn``)"""
    root_dirichlet_alpha: float = 0.25
    """Dirichlet noise concentration added to the root's priors"""
    root_exploration_fraction: float = 0.25
    """root prior = (1 - fraction) * prior + fraction * noise"""
    test_root_noise: bool = True
    """test games add the root's Dirichlet noise too (muzero-general's test worker does)"""
    pb_c_base: float = 19652
    """pUCT: ``c = log((N + pb_c_base + 1) / pb_c_base) + pb_c_init``"""
    pb_c_init: float = 1.25
    """pUCT's base exploration constant"""
    support_size: int = 10
    """values and rewards are categorical on the 2 * support_size + 1 integers -support_size..support_size (after h)"""
    encoding_size: int = 8
    """size of the hidden state"""
    fc_representation_layers: tuple[int, ...] = ()
    """hidden layers of the representation network (observation -> hidden state)"""
    fc_dynamics_layers: tuple[int, ...] = (16,)
    """hidden layers of the dynamics network (hidden state, action -> next hidden state)"""
    fc_reward_layers: tuple[int, ...] = (16,)
    """hidden layers of the reward head (next hidden state before scaling -> reward support)"""
    fc_value_layers: tuple[int, ...] = (16,)
    """hidden layers of the value head (hidden state -> value support)"""
    fc_policy_layers: tuple[int, ...] = (16,)
    """hidden layers of the policy head (hidden state -> policy logits)"""
    training_steps: int = 10_000
    """weight updates of a run (also what the temperature schedule's fractions multiply)"""
    batch_size: int = 128
    """game positions per training step"""
    checkpoint_interval: int = 10
    """training steps between two publications of the weights to self-play"""
    value_loss_weight: float = 1.0
    """weight of the value loss (the paper's Reanalyse appendix suggests 0.25)"""
    weight_decay: float = 1e-4
    """L2 coefficient added to every gradient (PyTorch Adam's ``weight_decay``)"""
    lr_init: float = 0.02
    """Adam's initial learning rate"""
    lr_decay_rate: float = 0.9
    """learning rate = lr_init * lr_decay_rate ** (training_step / lr_decay_steps); 1: constant"""
    lr_decay_steps: int = 1000
    """training steps over which the learning rate is multiplied by lr_decay_rate"""
    replay_buffer_size: int = 500
    """self-play games the replay buffer keeps (the oldest is dropped)"""
    num_unroll_steps: int = 10
    """dynamics steps unrolled from each sampled position"""
    td_steps: int = 50
    """n of the n-step value target (bootstrapped with a root value n moves later)"""
    per: bool = True
    """prioritised replay of games and positions (muzero-general's ``PER``)"""
    per_alpha: float = 0.5
    """priority = ``|predicted value - target value| ** per_alpha`` (0: uniform)"""
    use_last_model_value: bool = True
    """bootstrap the value targets with the latest network's value (Reanalyse) instead of the stored root values"""
    ratio: float = 1.5
    """training steps per self-played move: the trainer keeps training_step / played steps at this"""
    test_interval: int = 250
    """training steps between two test games (temperature 0); not in muzero-general, whose test worker plays without a pause"""
    seed: int = 0
    """the run's seed: every generator, then self-play at ``seed``, test games at ``seed + 1``, the replay buffer at ``seed``"""

    def __post_init__(self):
        check_non_negative_int("seed", self.seed)
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ValueError(f"env_id must be a Gymnasium environment id, got {self.env_id!r}")
        check_choice("observation", self.observation, ("state", "frames"))
        for name in ("frame_shape", "conv_filters"):
            object.__setattr__(self, name, _check_layers(name, getattr(self, name)))
        if len(self.frame_shape) != 2:
            raise ValueError(f"frame_shape must be a (height, width) pair of positive integers, "
                             f"got {self.frame_shape!r}")
        object.__setattr__(self, "frame_crop", _check_frame_crop(self.frame_crop))
        for name in ("stacked_observations", "temperature_threshold"):
            check_non_negative_int(name, getattr(self, name))
        for name in ("max_moves", "num_simulations", "support_size", "encoding_size",
                     "training_steps", "batch_size", "checkpoint_interval", "lr_decay_steps",
                     "replay_buffer_size", "num_unroll_steps", "td_steps", "test_interval",
                     "conv_kernel_size"):
            check_positive_int(name, getattr(self, name))
        check_unit_interval("discount", self.discount)
        object.__setattr__(self, "temperature_schedule",
                           _check_temperature_schedule(self.temperature_schedule))
        check_positive_number("root_dirichlet_alpha", self.root_dirichlet_alpha)
        check_unit_interval("root_exploration_fraction", self.root_exploration_fraction)
        for name in ("test_root_noise", "per", "use_last_model_value"):
            check_bool(name, getattr(self, name))
        for name in ("pb_c_base", "pb_c_init", "value_loss_weight", "lr_init", "ratio"):
            check_positive_number(name, getattr(self, name))
        for name in ("fc_representation_layers", "fc_dynamics_layers", "fc_reward_layers",
                     "fc_value_layers", "fc_policy_layers"):
            object.__setattr__(self, name, _check_layers(name, getattr(self, name)))
        if (isinstance(self.weight_decay, bool)
                or not isinstance(self.weight_decay, (int, float, np.integer, np.floating))
                or not self.weight_decay >= 0 or math.isinf(self.weight_decay)):
            raise ValueError(f"weight_decay must be a number >= 0, got {self.weight_decay!r}")
        check_unit_interval("lr_decay_rate", self.lr_decay_rate, zero=False)
        check_unit_interval("per_alpha", self.per_alpha)
        if self.observation == "frames":
            if not self.conv_filters:
                raise ValueError("conv_filters must not be empty when observation is 'frames'")
            if min(self.conv_output_shape) < 1:
                raise ValueError(
                    f"frame_shape {self.frame_shape} is too small for {len(self.conv_filters)} "
                    f"convolutions of kernel {self.conv_kernel_size} and stride 2")

    @property
    def conv_output_shape(self):
        """``(height, width)`` of the last convolution's output on a ``frame_shape`` frame."""
        height, width = self.frame_shape
        for _ in self.conv_filters:
            height = (height - self.conv_kernel_size) // 2 + 1
            width = (width - self.conv_kernel_size) // 2 + 1
        return height, width

    @property
    def full_support_size(self):
        """Number of categories of the value and reward supports (2 * support_size + 1)."""
        return 2 * self.support_size + 1

    def visit_softmax_temperature(self, trained_steps, training_steps=None):
        """Self-play's temperature after ``trained_steps`` of a run of ``training_steps``
        (default: this config's): the last schedule entry whose fraction has been reached."""
        total = self.training_steps if training_steps is None else training_steps
        temperature = self.temperature_schedule[0][1]
        for fraction, value in self.temperature_schedule:
            if trained_steps >= fraction * total:
                temperature = value
        return temperature

    def learning_rate(self, training_step):
        """The learning rate of the update made after ``training_step`` updates."""
        return self.lr_init * self.lr_decay_rate ** (training_step / self.lr_decay_steps)



FRAMES_CARTPOLE = MuZeroConfig(
    observation="frames", frame_shape=(32, 96), frame_crop=(0.4, 0.8), conv_filters=(16, 32, 32),
    conv_kernel_size=4, stacked_observations=2, encoding_size=16, num_simulations=25,
    use_last_model_value=False, test_interval=500)
"""The lecture's challenge: CartPole learnt from its rendered frames within an hour on a
2-core CPU; the other settings are muzero-general's CartPole (:class:`MuZeroConfig`).

- Frames: rows 160-320 of the 400 x 600 render hold the cart and the pole at every angle
  the game allows (``frame_crop=(0.4, 0.8)``); they are downscaled 5 x 6.25 to 32 x 96.
- Two past frames with their actions (``stacked_observations=2``): the velocities are
  differences of frames, and the pushes between them tell the accelerations.
- Three 4 x 4 convolutions of stride 2 (16, 32, 32 filters: 32 x 96 -> 2 x 10 x 32) and a
  dense layer to a 16-unit hidden state (twice the state run's 8: the velocities must now be
  inferred, not read).
- 25 simulations instead of 50: with two actions they still visit each root action many
  times, and they halve self-play's share of the time (measured: 50 simulations took
  about a fifth of the run's time, the training steps the rest).
- ``use_last_model_value=False``: the value targets bootstrap from the roots' values of the
  search when the game was played; reanalysing them with the latest network would run the
  convolutions on up to ``batch_size * (num_unroll_steps + 1)`` frames per training step
  (measured, one thread: 0.27 s for 1,408 frames against 0.15 s for the step itself).
- A test game every 500 training steps rather than 250: a test game of 500 moves costs
  as much as about a hundred training steps.
"""
