"""MuZero (Schrittwieser et al. 2020) on CartPole in Keras, after muzero-general.

The roles are separate objects, so that they can later run as processes or Ray actors:
:class:`SelfPlay` plays games with the tree search (:class:`MCTS`) on NumPy copies of the
published weights (:class:`NumpyInference`), :class:`GameReplayBuffer` keeps them and makes the
prioritised batches and targets, :class:`Trainer` trains the Keras :class:`MuZeroNetwork`
on them, and :class:`SharedStorage` holds what they share. :func:`train` interleaves them
in one process at the config's ``ratio``::

    from homl_rl.muzero import MuZeroConfig, train
    history = train(MuZeroConfig(), seed=0, training_steps=2000)
"""

from homl_rl.muzero.config import FRAMES_CARTPOLE, MuZeroConfig
from homl_rl.muzero.mcts import MCTS, MinMaxStats, Node, select_action, visit_distribution
from homl_rl.muzero.networks import (
    MuZeroNetwork, NumpyInference, h, h_inverse, scalar_to_support, support_to_scalar)
from homl_rl.muzero.replay_buffer import GameReplayBuffer, reanalyse, reanalyse_game
from homl_rl.muzero.self_play import Game, GameHistory, SelfPlay
from homl_rl.muzero.trainer import Trainer
from homl_rl.muzero.training import SharedStorage, train

__all__ = ["FRAMES_CARTPOLE", "MCTS", "Game", "GameHistory", "MinMaxStats", "MuZeroConfig", "MuZeroNetwork", "Node",
           "NumpyInference", "GameReplayBuffer", "SelfPlay", "SharedStorage", "Trainer", "h",
           "h_inverse", "reanalyse", "reanalyse_game", "scalar_to_support", "select_action",
           "support_to_scalar", "train", "visit_distribution"]
