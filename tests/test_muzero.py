"""MuZero (homl_rl.muzero): the support transform, the tree search on a known game, the
n-step targets, the NumPy inference against Keras, a seeded run's determinism, and runs
resumed from checkpoints."""

import copy
import math
import signal
from dataclasses import replace

import numpy as np
import pytest

from homl_rl.muzero import (
    MCTS, GameHistory, MinMaxStats, MuZeroConfig, MuZeroNetwork, Node, NumpyInference,
    GameReplayBuffer, Trainer, h, h_inverse, reanalyse_game, scalar_to_support, select_action,
    support_to_scalar, train)
from homl_rl.checkpoints import CheckpointError, read_checkpoint
from homl_rl.cli import main
from homl_rl.muzero import training
from homl_rl.muzero.trainer import scale_gradient
from homl_rl.muzero.training import MUZERO_CHECKPOINT_NAME
from homl_rl.summaries import read_scalars
from homl_rl.tf_setup import tf


# --- the config ------------------------------------------------------------------------------

def test_config_defaults_are_muzero_generals_cartpole():
    config = MuZeroConfig()
    assert (config.num_simulations, config.encoding_size, config.support_size, config.batch_size,
            config.num_unroll_steps, config.td_steps, config.per_alpha, config.lr_init,
            config.lr_decay_rate, config.lr_decay_steps, config.weight_decay,
            config.replay_buffer_size, config.ratio, config.use_last_model_value,
            config.discount, config.training_steps) == (
        50, 8, 10, 128, 10, 50, 0.5, 0.02, 0.9, 1000, 1e-4, 500, 1.5, True, 0.997, 10_000)
    # visit_softmax_temperature_fn: 1 below half the steps, 0.5 below three quarters, then 0.25
    assert [config.visit_softmax_temperature(t) for t in (0, 4999, 5000, 7499, 7500, 9999)] == [
        1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert config.learning_rate(0) == 0.02
    assert config.learning_rate(1500) == pytest.approx(0.02 * 0.9 ** 1.5)


@pytest.mark.parametrize("changes, message", [
    ({"seed": -1}, "seed must be a non-negative integer, got -1"),
    ({"num_simulations": 0}, "num_simulations must be a positive integer, got 0"),
    ({"discount": 1.5}, r"discount must be in \[0, 1\], got 1.5"),
    ({"ratio": -1}, "ratio must be a positive number, got -1"),
    ({"per": 1}, "per must be True or False, got 1"),
    ({"fc_dynamics_layers": 16}, "fc_dynamics_layers must be a tuple of positive integers"),
    ({"weight_decay": -1e-4}, "weight_decay must be a number >= 0"),
    ({"temperature_schedule": ((0.5, 1.0),)}, "must start at fraction 0"),
    ({"temperature_schedule": ((0.0, 1.0), (0.7, 0.5), (0.6, 0.25))}, "fractions must increase"),
    ({"temperature_schedule": ((0.0, -1.0),)}, "temperature must be a number >= 0"),
])
def test_config_rejects_bad_values(changes, message):
    with pytest.raises(ValueError, match=message):
        MuZeroConfig(**changes)


# --- the support ---------------------------------------------------------------------------

def test_h_and_its_inverse_round_trip():
    x = np.concatenate([np.linspace(-1e4, 1e4, 20_001), np.random.default_rng(0).normal(0, 50, 10_000),
                        [0.0, 1e-9, -1e-9]])
    np.testing.assert_allclose(h_inverse(h(x)), x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(h(h_inverse(h(x))), h(x), rtol=1e-12, atol=1e-12)
    assert h(3.0) == pytest.approx(1.0 + 0.003)  # sqrt(4) - 1 + eps * 3


def test_scalar_support_scalar_round_trips():
    support_size = 10
    limit = h_inverse(support_size)  # the largest |x| the support can hold (about 119)
    x = np.concatenate([np.linspace(-limit, limit, 5001), [0.0, 1.0, -1.0, 500 / 3]])
    x = x[np.abs(x) <= limit]
    support = scalar_to_support(x.reshape(-1, 1), support_size)
    assert support.shape == (len(x), 1, 21)
    np.testing.assert_allclose(support.sum(-1), 1.0)
    assert ((support > 0).sum(-1) <= 2).all()  # split between two neighbours at most
    atoms = np.arange(-support_size, support_size + 1)
    np.testing.assert_allclose(support @ atoms, h(x).reshape(-1, 1), atol=1e-12)
    with np.errstate(divide="ignore"):
        logits = np.log(support)
    np.testing.assert_allclose(support_to_scalar(logits, support_size), x.reshape(-1, 1),
                               rtol=1e-9, atol=1e-9)
    # outside the support a value clips to its end
    assert support_to_scalar(np.log(scalar_to_support(1e6, support_size) + 1e-300),
                             support_size) == pytest.approx(limit)


# --- the tree search -------------------------------------------------------------------------

class TwoStepGame:
    """A hand-made model: the hidden state is the path of actions; every value is 0 and every
    prior uniform. Action 1 gives reward 1 at once and nothing after; action 0 gives 0 at
    once but then action 1 gives 10: the best first action is 0, the greedy one is 1."""

    REWARDS = {(1,): 1.0, (0,): 0.0, (0, 1): 10.0}

    def initial_inference(self, observation):
        return 0.0, 0.0, np.zeros(2), ()

    def recurrent_inference(self, path, action):
        path = path + (action,)
        return 0.0, self.REWARDS.get(path, 0.0), np.zeros(2), path


@pytest.mark.parametrize("seed", range(8))
def test_mcts_finds_the_best_first_action_of_a_two_step_game(seed):
    # seed: the tie-breaks. With 50 simulations, when the search tries (0, 0) before (0, 1),
    # action 1's early reward keeps 27 of them (min-max normalised Q, unvisited children
    # valued 0, as in muzero-general); 100 always suffice here
    rng = np.random.default_rng(seed)
    config = MuZeroConfig(num_simulations=100)
    # (no root noise: with alpha 0.25 a draw may leave action 0 a prior too small to revisit)
    root, info = MCTS(config).run(TwoStepGame(), None, [0, 1], add_exploration_noise=False,
                                  rng=rng)
    assert root.visit_count == 100 and info["max_tree_depth"] >= 2
    assert root.children[0].visit_count > root.children[1].visit_count
    assert select_action(root, 0, rng) == 0
    # the backed-up value of action 0 approaches discount * 10
    assert root.children[0].reward + config.discount * root.children[0].value() > 5


def test_ucb_scores_by_hand():
    config = MuZeroConfig()
    parent = Node(0.0)
    parent.expand([0, 1], 0.0, np.log([0.5, 0.5]), None)
    parent.visit_count = 4
    visited = parent.children[0]
    visited.visit_count, visited.value_sum, visited.reward = 1, 2.0, 1.0
    stats = MinMaxStats()
    stats.update(0.0)
    stats.update(4.0)
    c = math.log((4 + 19652 + 1) / 19652) + 1.25
    assert MCTS(config).ucb_scores(parent, stats) == pytest.approx([
        0.5 * c * 2 / 2 + (1.0 + 0.997 * 2.0) / 4,  # prior term + normalised reward + value
        0.5 * c * 2 / 1])  # unvisited: prior term only


def test_select_action_by_temperature():
    root = Node(0.0)
    root.expand([0, 1, 2], 0.0, np.zeros(3), None)
    for action, visits in zip([0, 1, 2], [2, 7, 1]):
        root.children[action].visit_count = visits
    rng = np.random.default_rng(0)
    assert select_action(root, 0, rng) == 1
    draws = [select_action(root, 1.0, rng) for _ in range(4000)]
    np.testing.assert_allclose(np.bincount(draws) / 4000, [0.2, 0.7, 0.1], atol=0.03)


def test_backpropagate_discounts_and_adds_rewards():
    config = MuZeroConfig(discount=0.5)
    root, child = Node(1.0), Node(1.0)
    child.reward = 2.0
    MCTS(config).backpropagate([root, child], 4.0, MinMaxStats())
    assert child.value() == 4.0
    assert root.value() == 2.0 + 0.5 * 4.0


# --- the targets ---------------------------------------------------------------------------

def hand_made_game():
    """4 moves: rewards 1, 2, 3, 4 into states 1..4, root values 10, 20, 30, 40 at states 0..3."""
    game = GameHistory()
    game.observation_history = [np.full((1, 1, 4), i, np.float32) for i in range(5)]
    game.action_history = [0, 1, 0, 1, 1]
    game.reward_history = [0.0, 1.0, 2.0, 3.0, 4.0]
    game.root_values = [10.0, 20.0, 30.0, 40.0]
    game.child_visits = [[0.5, 0.5], [0.25, 0.75], [1.0, 0.0], [0.0, 1.0]]
    return game


def test_n_step_value_targets_by_hand():
    config = MuZeroConfig(td_steps=2, discount=0.9, num_unroll_steps=3, per=False)
    buffer, game = GameReplayBuffer(config, seed=0), hand_made_game()
    # index 0: r1 + 0.9 r2 + 0.81 v2 = 1 + 1.8 + 24.3; index 1: 2 + 2.7 + 0.81 * 40;
    # index 2: no bootstrap (index 4 is the end): 3 + 0.9 * 4; index 3: 4
    expected = [27.1, 37.1, 6.6, 4.0]
    assert [buffer.compute_target_value(game, i) for i in range(4)] == pytest.approx(expected)
    values, rewards, policies, actions = buffer.make_target(game, 2)
    assert values == pytest.approx([6.6, 4.0, 0.0, 0.0])
    assert rewards == [2.0, 3.0, 4.0, 0.0]  # the reward into each state; 0 past the end
    assert policies == [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5]]
    assert actions[:3] == [0, 1, 1] and actions[3] in (0, 1)
    # the reanalysed values replace the root values as the bootstrap
    game.reanalysed_predicted_root_values = np.array([-1.0, -2.0, -3.0, -4.0])
    assert buffer.compute_target_value(game, 0) == pytest.approx(1 + 1.8 + 0.81 * -3.0)


def test_batch_priorities_and_gradient_scales():
    config = MuZeroConfig(td_steps=2, discount=0.9, num_unroll_steps=3, batch_size=64,
                          use_last_model_value=False)
    buffer = GameReplayBuffer(config, seed=0)
    buffer.save_game(hand_made_game())
    game = buffer.buffer[0]
    np.testing.assert_allclose(game.priorities, np.abs(
        np.array([10, 20, 30, 40]) - np.array([27.1, 37.1, 6.6, 4.0])) ** 0.5)
    index_batch, batch = buffer.get_batch()
    positions = np.array([position for _, position in index_batch])
    # gradient scale: min(num_unroll_steps, len(action_history) - position)
    np.testing.assert_array_equal(batch["gradient_scales"], np.minimum(3, 5 - positions))
    probabilities = game.priorities / game.priorities.sum()
    weights = 1 / (4 * probabilities[positions])
    np.testing.assert_allclose(batch["weights"], weights / weights.max(), rtol=1e-6)
    assert batch["values"].shape == (64, 4) and batch["policies"].shape == (64, 4, 2)
    buffer.update_priorities(np.full((64, 4), 0.5), index_batch)
    assert game.game_priority == max(0.5, *game.priorities)


# --- the networks -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def network():
    tf.keras.utils.set_random_seed(0)
    return MuZeroNetwork(MuZeroConfig(), (1, 1, 4), n_actions=2)


def test_numpy_inference_equals_the_keras_models(network):
    rng = np.random.default_rng(0)
    model = NumpyInference(network.get_weights(), 2, 10)
    observations = rng.normal(size=(64, 1, 1, 4)).astype(np.float32)
    hidden = network.representation(tf.constant(observations)).numpy()
    np.testing.assert_allclose(model.representation(observations), hidden, atol=1e-5)
    actions = rng.integers(2, size=64)
    next_hidden, reward_logits = network.dynamics(tf.constant(hidden), tf.constant(actions))
    numpy_next_hidden, numpy_reward_logits = model.dynamics(hidden, actions)
    np.testing.assert_allclose(numpy_next_hidden, next_hidden.numpy(), atol=1e-5)
    np.testing.assert_allclose(numpy_reward_logits, reward_logits.numpy(), atol=1e-5)
    policy_logits, value_logits = network.prediction(tf.constant(hidden))
    numpy_policy_logits, numpy_value_logits = model.prediction(hidden)
    np.testing.assert_allclose(numpy_policy_logits, policy_logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(numpy_value_logits, value_logits.numpy(), atol=1e-5)
    value, reward, logits, state = model.initial_inference(observations[0])
    assert reward == 0.0 and value == pytest.approx(
        float(support_to_scalar(value_logits.numpy()[0], 10)), abs=1e-4)
    value, reward, logits, state = model.recurrent_inference(hidden[0], actions[0])
    assert reward == pytest.approx(float(support_to_scalar(reward_logits.numpy()[0], 10)), abs=1e-4)
    np.testing.assert_allclose(state, next_hidden.numpy()[0], atol=1e-5)
    # a hidden state is min-max scaled to [0, 1]
    assert hidden.min(axis=1) == pytest.approx(0, abs=1e-6)
    assert hidden.max(axis=1) == pytest.approx(1, abs=1e-5)


def test_reanalyse_uses_the_networks_values(network):
    model = NumpyInference(network.get_weights(), 2, 10)
    game = hand_made_game()
    reanalyse_game(game, model, stacked_observations=0)
    observations = np.stack(game.observation_history[:4])
    np.testing.assert_allclose(game.reanalysed_predicted_root_values, model.values(observations))


def test_a_batch_reanalyses_what_its_targets_bootstrap_from(network):
    """The targets of ``get_batch(model)`` are those of games reanalysed whole just before."""
    model = NumpyInference(network.get_weights(), 2, 10)
    config = MuZeroConfig(td_steps=5, num_unroll_steps=3, batch_size=32)
    rng = np.random.default_rng(0)
    buffers = [GameReplayBuffer(config, seed=1), GameReplayBuffer(config, seed=1)]
    for length in (12, 30, 7):
        game = GameHistory()
        game.observation_history = list(rng.normal(size=(length + 1, 1, 1, 4)).astype(np.float32))
        game.action_history = [0, *rng.integers(2, size=length)]
        game.reward_history = [0.0] + [1.0] * length
        game.root_values = list(rng.normal(5, 1, size=length))
        game.child_visits = [[0.5, 0.5]] * length
        for buffer in buffers:
            buffer.save_game(copy.deepcopy(game))
    for game in buffers[1].buffer.values():
        reanalyse_game(game, model, stacked_observations=0)
    _, batch = buffers[0].get_batch(model)
    _, whole = buffers[1].get_batch()
    np.testing.assert_allclose(batch["values"], whole["values"], rtol=1e-5)
    np.testing.assert_array_equal(batch["observations"], whole["observations"])


def numpy_cross_entropy(targets, logits):
    logits = logits - logits.max(axis=-1, keepdims=True)
    return -(targets * (logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True)))).sum(-1)


def test_the_unrolled_loss_and_priorities_against_numpy():
    """The trainer's losses (of the forward pass before its update) and new priorities,
    recomputed in NumPy from the same weights."""
    tf.keras.utils.set_random_seed(1)
    config = MuZeroConfig(num_unroll_steps=2, batch_size=4, value_loss_weight=0.25)
    network = MuZeroNetwork(config, (1, 1, 4), n_actions=2)
    initial = network.get_weights()
    model = NumpyInference(initial, 2, config.support_size)
    rng = np.random.default_rng(0)
    batch = {"observations": rng.normal(size=(4, 1, 1, 4)).astype(np.float32),
             "actions": rng.integers(2, size=(4, 3)).astype(np.int32),
             "values": rng.uniform(0, 60, size=(4, 3)).astype(np.float32),
             "rewards": rng.integers(2, size=(4, 3)).astype(np.float32),
             "policies": rng.dirichlet([1, 1], size=(4, 3)).astype(np.float32),
             "weights": rng.uniform(0.1, 1, size=4).astype(np.float32),
             "gradient_scales": np.array([2, 2, 1, 2], dtype=np.float32)}
    priorities, losses = Trainer(config, network).update_weights(batch)
    value_targets = scalar_to_support(batch["values"], 10)
    reward_targets = scalar_to_support(batch["rewards"], 10)
    hidden = model.representation(batch["observations"])
    policy_logits, value_logits = model.prediction(hidden)
    value_loss = numpy_cross_entropy(value_targets[:, 0], value_logits)
    policy_loss = numpy_cross_entropy(batch["policies"][:, 0], policy_logits)
    reward_loss = np.zeros(4)
    predicted = [support_to_scalar(value_logits, 10)]
    for k in (1, 2):
        hidden, reward_logits = model.dynamics(hidden, batch["actions"][:, k])
        policy_logits, value_logits = model.prediction(hidden)
        value_loss += numpy_cross_entropy(value_targets[:, k], value_logits)
        reward_loss += numpy_cross_entropy(reward_targets[:, k], reward_logits)
        policy_loss += numpy_cross_entropy(batch["policies"][:, k], policy_logits)
        predicted.append(support_to_scalar(value_logits, 10))
    total = np.mean(batch["weights"] * (0.25 * value_loss + reward_loss + policy_loss))
    assert losses["total_loss"] == pytest.approx(total, rel=1e-5)
    assert losses["value_loss"] == pytest.approx(value_loss.mean(), rel=1e-5)
    assert losses["reward_loss"] == pytest.approx(reward_loss.mean(), rel=1e-5)
    assert losses["policy_loss"] == pytest.approx(policy_loss.mean(), rel=1e-5)
    np.testing.assert_allclose(
        priorities, np.abs(np.stack(predicted, axis=1) - batch["values"]) ** 0.5, rtol=1e-4)
    # the update moved every weight
    for before, after in zip(initial["dynamics_state"], network.get_weights()["dynamics_state"]):
        assert (before != after).all()


def test_scale_gradient_halves_the_gradient_only():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scale_gradient(x * 3, 0.5)
    np.testing.assert_allclose(y.numpy(), [3.0, 6.0])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [1.5, 1.5])


def test_stacked_observations_carry_the_actions():
    game = hand_made_game()
    stacked = game.get_stacked_observations(1, 2)
    # state 1, then state 0 and a plane of the action after it (1), then zeros before the start
    assert stacked.shape == (5, 1, 4)
    np.testing.assert_array_equal(stacked[:, 0, 0], [1, 0, 1, 0, 0])


# --- a short run ---------------------------------------------------------------------------------

TINY = MuZeroConfig(num_simulations=4, batch_size=8, num_unroll_steps=3, td_steps=5,
                    max_moves=30, test_interval=10, replay_buffer_size=3)


def test_a_short_seeded_run_is_deterministic(tmp_path):
    first = train(replace(TINY, seed=3), training_steps=20, progress=False)
    second = train(replace(TINY, seed=3), training_steps=20, progress=False)
    for key in ("test_steps", "test_rewards", "test_played_games", "game_rewards",
                "game_lengths", "total_loss", "value_loss", "reward_loss", "policy_loss", "lr"):
        differ = [i for i, (a, b) in enumerate(zip(first[key], second[key])) if a != b]
        assert len(first[key]) == len(second[key]) and not differ, (
            f"{key} differs first at {differ[:1]}: {first[key][:differ[0] + 2] if differ else first[key]}"
            f" vs {second[key][:differ[0] + 2] if differ else second[key]}")
    for name, arrays in first["weights"].items():
        for a, b in zip(arrays, second["weights"][name]):
            np.testing.assert_array_equal(a, b)
    assert len(first["total_loss"]) == 20 and first["test_steps"] == [10, 20]
    assert first["training_steps"] == 20 and not first["interrupted"]
    assert first["played_steps"] == sum(first["game_lengths"])
    assert all(math.isfinite(loss) for loss in first["total_loss"])
    # the ratio rule: after each game, training stops at the first step past ratio * played steps
    played = np.cumsum(first["game_lengths"])
    assert 20 <= math.floor(1.5 * played[-1]) + 1
    assert 20 > 1.5 * played[-2] if len(played) > 1 else True
    other = train(replace(TINY, seed=4), training_steps=20, progress=False, logdir=tmp_path)
    assert other["total_loss"] != first["total_loss"]
    scalars = read_scalars(tmp_path)
    assert [value for _, value in scalars["loss/total_loss"]] == pytest.approx(other["total_loss"])
    assert [value for _, value in scalars["test/total_reward"]] == other["test_rewards"]


# --- checkpoints: a resumed run goes on exactly --------------------------------------------------

HISTORY_KEYS = ("test_steps", "test_rewards", "test_played_games", "game_rewards", "game_lengths",
                "total_loss", "value_loss", "reward_loss", "policy_loss", "lr",
                "final_test_rewards")


@pytest.fixture(scope="module")
def straight_run():
    """TINY at seed 5 for 30 steps, never stopped (the reference of the resumed runs)."""
    return train(replace(TINY, seed=5), training_steps=30, progress=False, final_test_episodes=3)


def assert_same_run(resumed, straight):
    for key in HISTORY_KEYS:
        assert resumed[key] == straight[key], key
    for name, arrays in straight["weights"].items():
        for a, b in zip(arrays, resumed["weights"][name]):
            np.testing.assert_array_equal(a, b)
    for key in ("training_steps", "played_steps", "played_games"):
        assert resumed[key] == straight[key], key


class Crash(Exception):
    pass


def test_a_run_killed_between_checkpoints_resumes_exactly(tmp_path, monkeypatch, straight_run):
    update_weights = Trainer.update_weights

    def crash_at_step_17(self, batch):
        if self.training_step == 17:
            raise Crash
        return update_weights(self, batch)

    monkeypatch.setattr(Trainer, "update_weights", crash_at_step_17)
    with pytest.raises(Crash):
        train(replace(TINY, seed=5), training_steps=30, progress=False, final_test_episodes=3,
              checkpoint_dir=tmp_path, save_interval=10)
    monkeypatch.setattr(Trainer, "update_weights", update_weights)
    meta, _ = read_checkpoint(tmp_path / MUZERO_CHECKPOINT_NAME)
    assert meta["trained_steps"] == 10  # the last checkpoint before the crash
    resumed = train(replace(TINY, seed=5), training_steps=30, progress=False, final_test_episodes=3,
                    checkpoint_dir=tmp_path, save_interval=10)
    assert_same_run(resumed, straight_run)
    assert len(resumed["final_test_rewards"]) == 3 and not resumed["interrupted"]
    saved = (tmp_path / MUZERO_CHECKPOINT_NAME).read_bytes()
    again = train(replace(TINY, seed=5), training_steps=30, progress=False, final_test_episodes=3,
                  checkpoint_dir=tmp_path)  # a finished run is read back, its file untouched
    assert_same_run(again, straight_run)
    assert again["seconds"] == read_checkpoint(tmp_path / MUZERO_CHECKPOINT_NAME)[0]["seconds"]
    assert (tmp_path / MUZERO_CHECKPOINT_NAME).read_bytes() == saved


def test_ctrl_c_saves_and_the_run_resumes_exactly(tmp_path, monkeypatch, straight_run):
    update_weights = Trainer.update_weights

    def ctrl_c_at_step_13(self, batch):
        result = update_weights(self, batch)
        if self.training_step == 13:
            signal.raise_signal(signal.SIGINT)
        return result

    monkeypatch.setattr(Trainer, "update_weights", ctrl_c_at_step_13)
    stopped = train(replace(TINY, seed=5), training_steps=30, progress=False, final_test_episodes=3,
                    checkpoint_dir=tmp_path, save_interval=100)
    monkeypatch.setattr(Trainer, "update_weights", update_weights)
    assert stopped["interrupted"] and stopped["training_steps"] == 13
    assert stopped["final_test_rewards"] == []
    resumed = train(replace(TINY, seed=5), training_steps=30, progress=False, final_test_episodes=3,
                    checkpoint_dir=tmp_path, save_interval=100)
    assert_same_run(resumed, straight_run)
    assert resumed["seconds"] > stopped["seconds"]


def test_a_time_limit_stops_saves_and_the_run_resumes_exactly(tmp_path, monkeypatch,
                                                               straight_run):
    clock = iter(range(10**6))  # a clock that ticks one second at each reading
    monkeypatch.setattr(training.time, "perf_counter", lambda: float(next(clock)))
    stopped = train(replace(TINY, seed=5), training_steps=30, progress=False, final_test_episodes=3,
                    checkpoint_dir=tmp_path, save_interval=100, time_limit=8)
    assert stopped["timed_out"] and not stopped["interrupted"]
    assert 0 < stopped["training_steps"] < 30 and stopped["final_test_rewards"] == []
    meta, _ = read_checkpoint(tmp_path / MUZERO_CHECKPOINT_NAME)
    assert meta["trained_steps"] == stopped["training_steps"] and meta["seconds"] >= 8
    more = train(replace(TINY, seed=5), training_steps=30, progress=False, final_test_episodes=3,
                 checkpoint_dir=tmp_path, save_interval=100, time_limit=meta["seconds"] + 3)
    assert more["timed_out"] and stopped["training_steps"] <= more["training_steps"] < 30
    resumed = train(replace(TINY, seed=5), training_steps=30, progress=False, final_test_episodes=3,
                    checkpoint_dir=tmp_path, save_interval=100)
    assert_same_run(resumed, straight_run)
    assert not resumed["timed_out"] and len(resumed["final_test_rewards"]) == 3
    with pytest.raises(ValueError, match="time_limit must be a positive number"):
        train(replace(TINY, seed=5), training_steps=30, progress=False, time_limit=0)


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    train(replace(TINY, seed=5), training_steps=2, progress=False, final_test_episodes=0,
          checkpoint_dir=tmp_path)
    with pytest.raises(CheckpointError, match="its seed is 5, not 6"):
        train(replace(TINY, seed=6), training_steps=2, progress=False, final_test_episodes=0,
              checkpoint_dir=tmp_path)
    with pytest.raises(CheckpointError, match="its training_steps is 2, not 3"):
        train(replace(TINY, seed=5), training_steps=3, progress=False, final_test_episodes=0,
              checkpoint_dir=tmp_path)
    (tmp_path / MUZERO_CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        train(replace(TINY, seed=5), training_steps=2, progress=False, final_test_episodes=0,
              checkpoint_dir=tmp_path)


def test_the_command_line_trains_resumes_and_plays(tmp_path, capsys):
    tiny = ["--training-steps", "12", "--num-simulations", "4", "--batch-size", "8",
            "--num-unroll-steps", "3", "--td-steps", "5", "--max-moves", "30",
            "--test-interval", "6", "--replay-buffer-size", "3"]
    run = ["muzero", "train", "--seed", "2", "--checkpoint-dir", str(tmp_path / "run"),
           "--final-test-episodes", "2", "--quiet", *tiny]
    assert main(run) == 0
    first = capsys.readouterr().out
    assert "done at training step 12/12" in first and "over 2 games" in first
    assert main(run) == 0  # read back, not trained again
    again = capsys.readouterr().out
    assert "resuming the run" in again and first.splitlines()[-2] in again
    assert main([*run[:-len(tiny)], *tiny[:-1], "4"]) == 2  # another config: refused
    assert "its config is" in capsys.readouterr().err
    gif = tmp_path / "game.gif"
    assert main(["muzero", "play", "--checkpoint-dir", str(tmp_path / "run"), "--seed", "2",
                 "--gif", str(gif)]) == 0
    assert gif.stat().st_size > 0 and "total reward" in capsys.readouterr().out
