"""A MuZero run's checkpoint: everything its roles hold, so that a resumed run goes on exactly.

One ``.npz`` file (:func:`homl_rl.checkpoints.write_checkpoint`, written atomically) holds

- the network's weights, the weights published to self-play (older by up to
  ``checkpoint_interval`` steps) and Adam's variables (its step count, first and second moments);
- the replay buffer's games, whole: observations, actions, rewards, the search's visit
  distributions and root values, the reanalysed values and the priorities, and its counters;
- the random generators' states: the replay buffer's, each self-play role's and its
  environment's (a Gymnasium ``np_random``; a role whose environment was never reset keeps its
  first seed instead);
- the run's history so far (losses per step, test and self-play games) and its counters.

The checkpoint is taken between two actions of the loop (a game or a training step), never
inside one, so nothing else is in flight: a run resumed from it draws the same random numbers
and does the same float operations as the run that was never stopped (tested).
"""

from dataclasses import asdict

import numpy as np

from homl_rl.checkpoints import (
    CheckpointError, pack_weights, read_checkpoint, unpack_weights, write_checkpoint)
from homl_rl.io import to_jsonable
from homl_rl.muzero.networks import MLP_NAMES
from homl_rl.muzero.self_play import GameHistory

HISTORY_ARRAYS = ("test_steps", "test_rewards", "test_played_games", "game_rewards",
                  "game_lengths", "total_loss", "value_loss", "reward_loss", "policy_loss", "lr",
                  "final_test_rewards")
"""the history's lists, stored as arrays (float64 or int64: every value exact)"""


def checkpoint_config(config):
    """``config`` as a checkpoint's ``config`` keeps it: JSON-able, without its ``seed`` (the
    checkpoint's own ``seed`` entry), so that checkpoints written before the config carried
    its seed still resume and play."""
    values = to_jsonable(asdict(config))
    del values["seed"]
    return values


def _pack_network_weights(arrays, prefix, weights):
    for name in MLP_NAMES:
        pack_weights(arrays, f"{prefix}_{name}", weights[name])


def unpack_network_weights(arrays, prefix):
    """The network weights (``{name: list of arrays}``) stored under ``prefix``."""
    return {name: unpack_weights(arrays, f"{prefix}_{name}") for name in MLP_NAMES}


def _pack_games(arrays, buffer):
    """The buffer's games as flat arrays, one row per game in ``game_*`` and per move in the
    others (observations, actions and rewards have one more row a game: the first state)."""
    games = list(buffer.buffer.items())
    arrays["game_ids"] = np.array([game_id for game_id, _ in games], dtype=np.int64)
    arrays["game_moves"] = np.array([len(game) for _, game in games], dtype=np.int64)
    arrays["game_priority"] = np.array(
        [np.nan if game.game_priority is None else game.game_priority for _, game in games])
    arrays["game_reanalysed"] = np.array(
        [game.reanalysed_predicted_root_values is not None for _, game in games])
    arrays["game_prioritised"] = np.array([game.priorities is not None for _, game in games])

    def concatenate(rows, dtype, shape=()):
        rows = [np.asarray(row, dtype=dtype).reshape((-1,) + shape) for row in rows]
        return np.concatenate(rows) if rows else np.zeros((0,) + shape, dtype)

    first = games[0][1] if games else None
    observation_shape = first.observation_history[0].shape if first else ()
    n_actions = len(first.child_visits[0]) if first and len(first) else 0
    arrays["observations"] = concatenate(
        [np.stack(game.observation_history) for _, game in games], np.float32, observation_shape)
    arrays["actions"] = concatenate([game.action_history for _, game in games], np.int64)
    arrays["rewards"] = concatenate([game.reward_history for _, game in games], np.float64)
    arrays["child_visits"] = concatenate(
        [game.child_visits for _, game in games], np.float64, (n_actions,))
    arrays["root_values"] = concatenate([game.root_values for _, game in games], np.float64)
    arrays["reanalysed"] = concatenate(
        [game.reanalysed_predicted_root_values for _, game in games
         if game.reanalysed_predicted_root_values is not None], np.float64)
    arrays["priorities"] = concatenate(
        [game.priorities for _, game in games if game.priorities is not None], np.float64)


def _unpack_games(arrays):
    """``{game_id: GameHistory}`` from :func:`_pack_games`' arrays."""
    games, move, state, reanalysed, prioritised = {}, 0, 0, 0, 0
    for game_id, moves, priority, has_reanalysed, has_priorities in zip(
            arrays["game_ids"], arrays["game_moves"], arrays["game_priority"],
            arrays["game_reanalysed"], arrays["game_prioritised"]):
        moves = int(moves)
        game = GameHistory()
        game.observation_history = list(arrays["observations"][state:state + moves + 1])
        game.action_history = arrays["actions"][state:state + moves + 1].tolist()
        game.reward_history = arrays["rewards"][state:state + moves + 1].tolist()
        game.child_visits = arrays["child_visits"][move:move + moves].tolist()
        game.root_values = arrays["root_values"][move:move + moves].tolist()
        if has_reanalysed:
            game.reanalysed_predicted_root_values = arrays["reanalysed"][
                reanalysed:reanalysed + moves].copy()
            reanalysed += moves
        if has_priorities:
            game.priorities = arrays["priorities"][prioritised:prioritised + moves].copy()
            prioritised += moves
        game.game_priority = None if np.isnan(priority) else float(priority)
        games[int(game_id)] = game
        move, state = move + moves, state + moves + 1
    return games


def self_play_state(self_play):
    """A self-play role's random state: its generator's and its environment's (or the seed
    its first reset will use)."""
    game = self_play.game
    env_rng = getattr(game.env.unwrapped, "_np_random", None)
    return {"rng": self_play.rng.bit_generator.state, "seed": game._seed,
            "env_rng": None if env_rng is None else env_rng.bit_generator.state}


def restore_self_play(self_play, state):
    """Put :func:`self_play_state`'s ``state`` back into ``self_play``."""
    self_play.rng.bit_generator.state = state["rng"]
    self_play.game._seed = state["seed"]
    if state["env_rng"] is not None:
        self_play.game.env.reset(seed=0)  # creates the environment's generator, then:
        self_play.game.env.unwrapped.np_random.bit_generator.state = state["env_rng"]


def save_run(path, meta, network, published_weights, optimizer, replay_buffer, self_players,
             history):
    """Write the run's checkpoint to ``path`` atomically. ``meta``: JSON-able counters and
    settings; ``self_players``: ``{name: SelfPlay}``."""
    meta = dict(meta, buffer={"num_played_games": replay_buffer.num_played_games,
                              "num_played_steps": replay_buffer.num_played_steps,
                              "total_samples": replay_buffer.total_samples,
                              "rng": replay_buffer.rng.bit_generator.state},
                self_play={name: self_play_state(player) for name, player in self_players.items()})
    arrays = {}
    _pack_network_weights(arrays, "network", network.get_weights())
    _pack_network_weights(arrays, "published", published_weights)
    pack_weights(arrays, "optimizer", [variable.numpy() for variable in optimizer.variables])
    _pack_games(arrays, replay_buffer)
    for key in HISTORY_ARRAYS:
        arrays[f"history_{key}"] = np.asarray(history[key])
    return write_checkpoint(path, meta, arrays)


RAY_RUN_META = ("seed", "seconds", "num_workers", "played_games", "played_steps",
                "reanalysed_games", "interrupted")
"""what a Ray run's file keeps of its history's counters"""

RAY_HISTORY_ARRAYS = tuple(key for key in HISTORY_ARRAYS if key != "final_test_rewards") + (
    "game_steps",)
"""a Ray run's history lists (it plays no final test games)"""


def save_ray_run(path, history, training_steps):
    """Write a Ray run's result (:func:`~homl_rl.muzero.distributed.train_on_ray`'s history,
    of a run asked for ``training_steps``: the trainer's final weights, the records, the
    counters) to ``path`` atomically. Not a checkpoint to resume from (the roles ran
    asynchronously), but it has a run's ``network`` weights and ``config``, so that
    :func:`homl_rl.muzero.play.load_trained` reads it too."""
    meta = {key: history[key] for key in RAY_RUN_META}
    meta.update(config=checkpoint_config(history["config"]), ray=True,
                trained_steps=history["training_steps"], training_steps=training_steps)
    arrays = {}
    _pack_network_weights(arrays, "network", history["weights"])
    for key in RAY_HISTORY_ARRAYS:
        arrays[f"history_{key}"] = np.asarray(history[key])
    return write_checkpoint(path, meta, arrays)


def load_run(path, network, optimizer, replay_buffer, self_players, history):
    """Read the checkpoint ``path`` into the roles and ``history``; return its ``meta``, or
    raise a :class:`~homl_rl.checkpoints.CheckpointError` saying what is wrong."""
    meta, arrays = read_checkpoint(path, meta_keys=("buffer", "self_play", "config", "seed"),
                                   array_keys=("optimizer_count", "game_ids"))
    try:
        network.set_weights(unpack_network_weights(arrays, "network"))
        published = unpack_network_weights(arrays, "published")
        optimizer.build(network.trainable_variables)  # its slots (a no-op once built)
        for variable, value in zip(optimizer.variables, unpack_weights(arrays, "optimizer"),
                                   strict=True):
            variable.assign(value)
        replay_buffer.buffer = _unpack_games(arrays)
        for key in HISTORY_ARRAYS:
            history[key] = arrays[f"history_{key}"].tolist()
    except (ValueError, KeyError) as error:
        raise CheckpointError(f"checkpoint {path} does not fit this run: {error}") from error
    buffer = meta["buffer"]
    replay_buffer.num_played_games = buffer["num_played_games"]
    replay_buffer.num_played_steps = buffer["num_played_steps"]
    replay_buffer.total_samples = buffer["total_samples"]
    replay_buffer.rng.bit_generator.state = buffer["rng"]
    for name, player in self_players.items():
        restore_self_play(player, meta["self_play"][name])
    return meta, published
