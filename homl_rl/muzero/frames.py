"""Rendered frames as MuZero's observations: the environment's image, not its state vector.

:func:`make_frame_env` wraps a Gymnasium environment with Gymnasium's own observation
wrappers: the ``rgb_array`` render becomes the observation (``AddRenderObservation``), its
rows ``frame_crop`` are kept, it is downscaled by area averaging (``ResizeObservation``,
OpenCV's ``INTER_AREA``) and turned grayscale (``GrayscaleObservation``, ITU-R 709 weights).
Downscaling the colour image first and graying the small one gives the same picture as the
other order (both are averages) about four times faster.

The frames are not stacked here: MuZero stacks its own past observations with the actions
taken after them (``stacked_observations``; :meth:`homl_rl.muzero.self_play.GameHistory.get_stacked_observations`),
which keeps each frame once in a game's history and tells the representation the actions,
whose effect on the cart the frames alone show only as a difference of positions.
"""

import math

import numpy as np
from gymnasium.spaces import Box
from gymnasium.wrappers import (
    AddRenderObservation, GrayscaleObservation, ResizeObservation, TransformObservation)

from homl_rl.environments import make_env


def crop_rows(height, frame_crop):
    """The ``slice`` of rows of a ``height``-row image that ``frame_crop`` (top, bottom
    fractions) keeps: ``floor(top * height)`` to ``ceil(bottom * height)``."""
    top, bottom = frame_crop
    return slice(math.floor(top * height), math.ceil(bottom * height))


def make_frame_env(env_id, frame_shape, frame_crop=(0.0, 1.0)):
    """``env_id`` whose observations are its rendered frames: uint8 grayscale images of
    ``frame_shape`` (height, width), of the rows ``frame_crop`` of the render."""
    env = AddRenderObservation(make_env(env_id, render_mode="rgb_array"), render_only=True)
    height, width, channels = env.observation_space.shape
    rows = crop_rows(height, frame_crop)
    cropped_height = len(range(height)[rows])
    env = TransformObservation(
        env, lambda frame: frame[rows],
        Box(0, 255, (cropped_height, width, channels), dtype=np.uint8))
    return GrayscaleObservation(ResizeObservation(env, tuple(frame_shape)))
