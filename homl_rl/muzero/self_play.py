"""MuZero's self-play: the game wrapper, a game's history and the self-play role.

:class:`SelfPlay` plays whole games with the tree search (:class:`~homl_rl.muzero.mcts.MCTS`)
on a copy of the latest published weights, read once per game; each move is drawn from the
root's visit counts at the temperature the training step gives (test games: temperature 0).
A game is kept as a :class:`GameHistory`: observations, actions, rewards, the root's visit
distribution and value at each move (the training targets).
"""

import numpy as np

from homl_rl.checks import check_discrete_actions
from homl_rl.environments import make_env
from homl_rl.muzero.frames import make_frame_env
from homl_rl.muzero.mcts import MCTS, select_action, visit_distribution
from homl_rl.muzero.networks import NumpyInference


class Game:
    """A Gymnasium environment as MuZero sees it: observations of shape (channels, height,
    width) (a vector of n is (1, 1, n)), ``step`` giving ``(observation, reward, done)``;
    ``env``: an environment made already (default: ``make_env(env_id)``, not rendering)."""

    def __init__(self, env_id, seed, env=None):
        self.env = make_env(env_id, render_mode=None) if env is None else env
        check_discrete_actions(self.env)
        self.action_space = list(range(int(self.env.action_space.n)))
        self._seed = seed
        shape = self.env.observation_space.shape
        self.observation_shape = tuple(shape) if len(shape) == 3 else (1, 1, int(np.prod(shape)))

    def _observation(self, observation):
        return np.asarray(observation, dtype=np.float32).reshape(self.observation_shape)

    def reset(self):
        """The first observation of a new game (the first reset seeds the environment)."""
        observation, _ = self.env.reset(seed=self._seed)
        self._seed = None
        return self._observation(observation)

    def step(self, action):
        observation, reward, terminated, truncated, _ = self.env.step(action)
        return self._observation(observation), float(reward), terminated or truncated

    def legal_actions(self):
        return self.action_space

    def close(self):
        self.env.close()


class FramesGame(Game):
    """A :class:`Game` whose observations are the rendered frames of ``env_id``
    (:func:`~homl_rl.muzero.frames.make_frame_env`), shape (1, height, width), grayscale in
    [0, 1] as float16: half the memory of float32 in the replay buffer, and the action planes
    stacked onto them (small integers) stay exact."""

    def __init__(self, env_id, seed, frame_shape, frame_crop=(0.0, 1.0)):
        super().__init__(env_id, seed, env=make_frame_env(env_id, frame_shape, frame_crop))
        self.observation_shape = (1, *frame_shape)

    def _observation(self, observation):
        return (observation[None] / np.float32(255)).astype(np.float16)


def make_game(config, seed):
    """The :class:`Game` of ``config`` (a :class:`FramesGame` when ``observation="frames"``)."""
    if config.observation == "frames":
        return FramesGame(config.env_id, seed, config.frame_shape, config.frame_crop)
    return Game(config.env_id, seed)


class GameHistory:
    """One played game: ``observation_history[i]`` is the state before move ``i``,
    ``action_history[i]`` and ``reward_history[i]`` the move into it and its reward (a dummy
    0 at ``i = 0``), ``child_visits[i]`` and ``root_values[i]`` the search's results at it."""

    def __init__(self):
        self.observation_history = []
        self.action_history = []
        self.reward_history = []
        self.child_visits = []
        self.root_values = []
        self.reanalysed_predicted_root_values = None
        self.priorities = None
        self.game_priority = None
        self._stacked = None  # (num_stacked_observations, moves, array) of the last call

    def __len__(self):
        """Number of moves played."""
        return len(self.root_values)

    def store_search_statistics(self, root, action_space):
        self.child_visits.append(visit_distribution(root, action_space))
        self.root_values.append(root.value())

    def get_stacked_observations(self, index, num_stacked_observations):
        """The observation at ``index`` with the ``num_stacked_observations`` previous ones
        stacked on its first axis, each followed by a plane holding the action taken after it
        (zeros before the game's start)."""
        index = index % len(self.observation_history)
        current = self.observation_history[index]
        planes = [current]
        for past in reversed(range(index - num_stacked_observations, index)):
            if past >= 0:
                planes += [self.observation_history[past],
                           np.full_like(current[:1], self.action_history[past + 1])]
            else:
                planes += [np.zeros_like(current), np.zeros_like(current[:1])]
        return np.concatenate(planes)

    def stacked_observation_array(self, num_stacked_observations):
        """:meth:`get_stacked_observations` of every position before a move, as one array
        (made once per game and number of stacked observations, then reused)."""
        if (self._stacked is None
                or self._stacked[:2] != (num_stacked_observations, len(self))):
            array = np.stack([self.get_stacked_observations(i, num_stacked_observations)
                              for i in range(len(self))])
            self._stacked = (num_stacked_observations, len(self), array)
        return self._stacked[2]

    @property
    def total_reward(self):
        return float(sum(self.reward_history))


class SelfPlay:
    """The self-play role: a game, a seeded ``Generator`` and the search of ``config``."""

    def __init__(self, config, seed):
        self.config = config
        self.game = make_game(config, seed)
        self.rng = np.random.default_rng(seed)
        self.mcts = MCTS(config)

    def play_game(self, weights, temperature, add_exploration_noise=True):
        """Play one game with ``weights`` (``MuZeroNetwork.get_weights()``) and return its
        :class:`GameHistory`."""
        config, game = self.config, self.game
        model = NumpyInference(weights, len(game.action_space), config.support_size)
        history = GameHistory()
        observation = game.reset()
        history.action_history.append(0)
        history.observation_history.append(observation)
        history.reward_history.append(0.0)
        done = False
        while not done and len(history.action_history) <= config.max_moves:
            stacked = history.get_stacked_observations(-1, config.stacked_observations)
            root, _ = self.mcts.run(model, stacked, game.legal_actions(), add_exploration_noise,
                                    self.rng, game.action_space)
            greedy = (config.temperature_threshold
                      and len(history.action_history) >= config.temperature_threshold)
            action = select_action(root, 0 if greedy else temperature, self.rng)
            observation, reward, done = game.step(action)
            history.store_search_statistics(root, game.action_space)
            history.action_history.append(action)
            history.observation_history.append(observation)
            history.reward_history.append(reward)
        return history

    def close(self):
        self.game.close()
