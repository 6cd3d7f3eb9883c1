"""A trained MuZero playing: read a run's checkpoint, play a test game, record its frames.

The game is played as a test game is (temperature 0: the most visited action, no root
noise) by :class:`~homl_rl.muzero.self_play.SelfPlay`; its actions are then replayed from
the same seeded reset in a rendering environment (:func:`homl_rl.animation.record_episode`),
which gives the frames of the very game that was played (checked move by move).
"""

from pathlib import Path

import numpy as np

from homl_rl.animation import record_episode
from homl_rl.checkpoints import CheckpointError, read_checkpoint
from homl_rl.muzero.checkpoint import unpack_network_weights
from homl_rl.muzero.config import MuZeroConfig
from homl_rl.muzero.self_play import SelfPlay
from homl_rl.muzero.training import MUZERO_CHECKPOINT_NAME, RAY_CHECKPOINT_NAME


def load_trained(checkpoint_dir):
    """``(config, weights, meta)`` of the run saved in ``checkpoint_dir`` (its network's
    weights at the last checkpoint; a Ray run's final ones), or a
    :class:`~homl_rl.checkpoints.CheckpointError`."""
    path = Path(checkpoint_dir)
    if path.is_dir():
        path = (path / RAY_CHECKPOINT_NAME if (path / RAY_CHECKPOINT_NAME).exists()
                and not (path / MUZERO_CHECKPOINT_NAME).exists() else path / MUZERO_CHECKPOINT_NAME)
    meta, arrays = read_checkpoint(path, meta_keys=("config", "seed", "trained_steps"))
    try:
        config = MuZeroConfig(**meta["config"], seed=meta["seed"])
        return config, unpack_network_weights(arrays, "network"), meta
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"checkpoint {path} is not a MuZero run's: {error}") from error


def play_game(config, weights, seed=0):
    """One test game of ``weights`` from the reset seeded with ``seed``, and its frames:
    ``(game_history, frames)``."""
    player = SelfPlay(config, seed)
    try:
        game = player.play_game(weights, temperature=0, add_exploration_noise=False)
    finally:
        player.close()
    moves = iter(zip(game.observation_history, game.action_history[1:]))

    def replay(observation):
        played_observation, action = next(moves)
        if not np.array_equal(np.asarray(observation, np.float32).ravel(),
                              np.ravel(played_observation)):
            raise RuntimeError(f"replaying the game's actions in {config.env_id} left the "
                               f"played game (is the environment deterministic?)")
        return action

    frames, _ = record_episode(replay, len(game), seed, config.env_id)
    return game, frames
