"""MuZero's replay buffer: the last games, prioritised sampling and the training targets.

A batch is ``batch_size`` positions, each drawn by first drawing a game (probability ∝ its
priority, the largest of its positions') then a position in it (∝ the position's priority,
``|root value - value target| ** per_alpha`` when stored, then ``|predicted value - value
target| ** per_alpha`` after each training step on it). Each is weighted by
``1 / (total positions * P(game) * P(position))``, divided by the batch's largest weight.

From a position the targets cover ``num_unroll_steps + 1`` steps (:meth:`GameReplayBuffer.make_target`):
the n-step value (:meth:`GameReplayBuffer.compute_target_value`), the reward and the search's
visit distribution; past the game's end the states are absorbing (value 0, reward 0, a
uniform policy, a random action).

With ``use_last_model_value`` the value targets bootstrap from the latest network's value
of the position ``td_steps`` later (:func:`reanalyse`), not from the root value the search
found when the game was played: :meth:`GameReplayBuffer.get_batch` reanalyses the positions
its targets bootstrap from with the network it is given.
"""

import numpy as np


def reanalyse(game_positions, model, stacked_observations):
    """Refresh the reanalysed values of ``game_positions`` (``[(game_history, positions)]``)
    with the values ``model`` (a :class:`~homl_rl.muzero.networks.NumpyInference`)
    predicts there, in one batch; a game's other positions keep their last value (at first
    the root value of its search)."""
    game_positions = [(game, np.fromiter(positions, dtype=np.int64))
                      for game, positions in game_positions]
    game_positions = [(game, positions) for game, positions in game_positions if len(positions)]
    if not game_positions:
        return
    values = model.values(np.concatenate([
        game.stacked_observation_array(stacked_observations)[positions]
        for game, positions in game_positions]))
    start = 0
    for game, positions in game_positions:
        if game.reanalysed_predicted_root_values is None:
            game.reanalysed_predicted_root_values = np.array(game.root_values, dtype=np.float64)
        game.reanalysed_predicted_root_values[positions] = values[start:start + len(positions)]
        start += len(positions)


def reanalyse_game(game_history, model, stacked_observations):
    """:func:`reanalyse` every position of ``game_history``."""
    reanalyse([(game_history, range(len(game_history)))], model, stacked_observations)


class GameReplayBuffer:
    """The games of self-play (the last ``replay_buffer_size``), keyed by their number
    (muzero-general's ``ReplayBuffer``; the chapter's buffer of transitions is
    :class:`homl_rl.replay_buffers.ReplayBuffer`)."""

    def __init__(self, config, seed):
        self.config = config
        self.buffer = {}
        self.num_played_games = 0
        self.num_played_steps = 0
        self.total_samples = 0
        self.rng = np.random.default_rng(seed)
        self._discounts = config.discount ** np.arange(config.td_steps)

    def __len__(self):
        return len(self.buffer)

    def save_game(self, game_history):
        """Keep ``game_history`` (with its initial priorities), dropping the oldest game past
        ``replay_buffer_size``."""
        if self.config.per and game_history.priorities is None:
            root_values = np.asarray(game_history.root_values, dtype=np.float64)
            targets = np.array([self.compute_target_value(game_history, i)
                                for i in range(len(game_history))])
            game_history.priorities = np.abs(root_values - targets) ** self.config.per_alpha
            game_history.game_priority = float(np.max(game_history.priorities))
        self.buffer[self.num_played_games] = game_history
        self.num_played_games += 1
        self.num_played_steps += len(game_history)
        self.total_samples += len(game_history)
        if len(self.buffer) > self.config.replay_buffer_size:
            oldest = self.num_played_games - len(self.buffer)
            self.total_samples -= len(self.buffer.pop(oldest))

    def sample_game(self, force_uniform=False):
        """``(game_id, game_history, probability)`` (probability ``None`` when uniform)."""
        if self.config.per and not force_uniform:
            priorities = np.array([game.game_priority for game in self.buffer.values()])
            probabilities = _normalized(priorities)
            index = int(self.rng.choice(len(self.buffer), p=probabilities))
            probability = probabilities[index]
        else:
            index, probability = int(self.rng.integers(len(self.buffer))), None
        game_id = self.num_played_games - len(self.buffer) + index
        return game_id, self.buffer[game_id], probability

    def sample_position(self, game_history, force_uniform=False):
        """``(position, probability)`` in ``game_history`` (probability ``None`` when uniform)."""
        if self.config.per and not force_uniform:
            probabilities = _normalized(game_history.priorities)
            position = int(self.rng.choice(len(probabilities), p=probabilities))
            return position, probabilities[position]
        return int(self.rng.integers(len(game_history))), None

    def get_batch(self, model=None):
        """``(index_batch, batch)``: ``[(game_id, position), ...]`` and a dict of arrays:
        observations, actions, target values, rewards and policies (one row per unroll step),
        importance weights (``None`` without PER) and gradient scales. ``model`` (the latest
        network's :class:`~homl_rl.muzero.networks.NumpyInference`) first reanalyses the values
        the targets bootstrap from, when ``use_last_model_value``."""
        config = self.config
        draws = [self.sample_game() for _ in range(config.batch_size)]
        positions = [self.sample_position(game_history) for _, game_history, _ in draws]
        if config.use_last_model_value and model is not None:
            self.reanalyse_bootstraps(draws, positions, model)
        index_batch, observations, actions, values, rewards, policies = [], [], [], [], [], []
        weights, gradient_scales = [], []
        for (game_id, game_history, game_probability), (position, position_probability) in zip(
                draws, positions):
            target_values, target_rewards, target_policies, target_actions = self.make_target(
                game_history, position)
            index_batch.append((game_id, position))
            observations.append(
                game_history.stacked_observation_array(config.stacked_observations)[position])
            actions.append(target_actions)
            values.append(target_values)
            rewards.append(target_rewards)
            policies.append(target_policies)
            gradient_scales.append(min(config.num_unroll_steps,
                                       len(game_history.action_history) - position))
            if config.per:
                weights.append(1 / (self.total_samples * game_probability * position_probability))
        if config.per:
            weights = np.array(weights, dtype=np.float32)
            weights /= weights.max()
        return index_batch, {
            "observations": np.array(observations, dtype=np.float32),
            "actions": np.array(actions, dtype=np.int32),
            "values": np.array(values, dtype=np.float32),
            "rewards": np.array(rewards, dtype=np.float32),
            "policies": np.array(policies, dtype=np.float32),
            "weights": weights if config.per else None,
            "gradient_scales": np.array(gradient_scales, dtype=np.float32)}

    def reanalyse_bootstraps(self, draws, positions, model):
        """Reanalyse (:func:`reanalyse`) the positions whose values the targets of the drawn
        ``(game, position)`` pairs bootstrap from: ``position + k + td_steps`` for each unroll
        step ``k`` (inside the game). The targets are then those of games reanalysed whole
        with ``model`` just before, for a fraction of the cost."""
        config, needed = self.config, {}
        for (game_id, game_history, _), (position, _) in zip(draws, positions):
            first = position + config.td_steps
            last = min(first + config.num_unroll_steps, len(game_history) - 1)
            needed.setdefault(game_id, set()).update(range(first, last + 1))
        reanalyse([(self.buffer[game_id], sorted(indices)) for game_id, indices in needed.items()],
                  model, config.stacked_observations)

    def update_priorities(self, priorities, index_batch):
        """Write the priorities of each unrolled position (``priorities[i, k]`` for position
        ``index_batch[i][1] + k``) into games still in the buffer, and their games' priorities."""
        first_kept = self.num_played_games - len(self.buffer)
        for (game_id, position), priority in zip(index_batch, priorities):
            if game_id < first_kept:
                continue
            game_history = self.buffer[game_id]
            end = min(position + len(priority), len(game_history.priorities))
            game_history.priorities[position:end] = priority[:end - position]
            game_history.game_priority = float(np.max(game_history.priorities))

    def compute_target_value(self, game_history, index):
        """The n-step value target at ``index``: the discounted rewards of the next
        ``td_steps`` moves, plus ``discount ** td_steps`` times the (reanalysed, if there)
        root value ``td_steps`` moves later, if the game lasts that long."""
        config = self.config
        bootstrap_index = index + config.td_steps
        value = 0.0
        if bootstrap_index < len(game_history):
            root_values = (game_history.root_values
                           if game_history.reanalysed_predicted_root_values is None
                           else game_history.reanalysed_predicted_root_values)
            value = root_values[bootstrap_index] * config.discount ** config.td_steps
        rewards = np.asarray(game_history.reward_history[index + 1:bootstrap_index + 1],
                             dtype=np.float64)
        return float(value + rewards @ self._discounts[:len(rewards)])

    def make_target(self, game_history, state_index):
        """``(values, rewards, policies, actions)`` of the ``num_unroll_steps + 1`` steps from
        ``state_index``; ``actions[k]`` is the move into step ``k`` (``actions[0]``, the move
        into the sampled position, is not used)."""
        n_moves, n_actions = len(game_history), len(game_history.child_visits[0])
        uniform = [1 / n_actions] * n_actions
        values, rewards, policies, actions = [], [], [], []
        for index in range(state_index, state_index + self.config.num_unroll_steps + 1):
            if index < n_moves:
                values.append(self.compute_target_value(game_history, index))
                rewards.append(game_history.reward_history[index])
                policies.append(game_history.child_visits[index])
                actions.append(game_history.action_history[index])
            elif index == n_moves:  # the last state: no value, the last reward
                values.append(0.0)
                rewards.append(game_history.reward_history[index])
                policies.append(uniform)
                actions.append(game_history.action_history[index])
            else:  # absorbing states past the end
                values.append(0.0)
                rewards.append(0.0)
                policies.append(uniform)
                actions.append(int(self.rng.integers(n_actions)))
        return values, rewards, policies, actions


def _normalized(priorities):
    """``priorities`` as probabilities (uniform if they are all 0)."""
    priorities = np.asarray(priorities, dtype=np.float64)
    total = priorities.sum()
    return priorities / total if total > 0 else np.full(len(priorities), 1 / len(priorities))
