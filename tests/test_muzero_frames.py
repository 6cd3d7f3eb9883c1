"""MuZero on rendered frames (homl_rl.muzero with ``observation="frames"``): the frame
observations, the convolutional representation's NumPy and Keras paths, a tiny seeded run,
and the state-vector default left as it was."""

import math
from dataclasses import replace

import numpy as np
import pytest

from homl_rl.muzero import FRAMES_CARTPOLE, MuZeroConfig, MuZeroNetwork, NumpyInference, train
from homl_rl.muzero.frames import crop_rows, make_frame_env
from homl_rl.muzero.networks import KERAS_BATCH, stacked_shape
from homl_rl.muzero.self_play import FramesGame, GameHistory, SelfPlay
from homl_rl.tf_setup import tf

TINY_FRAMES = MuZeroConfig(
    observation="frames", frame_shape=(24, 48), frame_crop=(0.4, 0.8), conv_filters=(4, 8),
    stacked_observations=1, num_simulations=4, batch_size=8, num_unroll_steps=3, td_steps=5,
    max_moves=30, test_interval=10, replay_buffer_size=3)


# --- the config ------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, message", [
    ({"observation": "pixels"}, "observation must be one of 'state', 'frames', got 'pixels'"),
    ({"frame_shape": (48,)}, "frame_shape must be a (height, width) pair"),
    ({"frame_shape": (0, 72)}, "frame_shape must be a positive integer, got 0"),
    ({"frame_crop": (0.8, 0.4)}, "frame_crop must be a (top, bottom) pair with 0 <= top < bottom"),
    ({"frame_crop": (0.0, 1.5)}, "frame_crop must be a (top, bottom) pair"),
    ({"conv_kernel_size": 0}, "conv_kernel_size must be a positive integer, got 0"),
    ({"observation": "frames", "conv_filters": ()}, "conv_filters must not be empty"),
    ({"observation": "frames", "frame_shape": (8, 8)},
     "frame_shape (8, 8) is too small for 3 convolutions of kernel 4 and stride 2"),
])
def test_config_rejects_bad_frame_settings(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MuZeroConfig(**changes)


def test_the_preset_and_the_default():
    assert MuZeroConfig().observation == "state"
    assert FRAMES_CARTPOLE.observation == "frames"
    assert FRAMES_CARTPOLE.conv_output_shape == (2, 10)  # 32 x 96 -> 15 x 47 -> 6 x 22 -> 2 x 10
    assert crop_rows(400, FRAMES_CARTPOLE.frame_crop) == slice(160, 320)


# --- the frames ------------------------------------------------------------------------------

def test_frame_observations_show_the_cart_and_follow_the_state():
    env = make_frame_env("CartPole-v1", (24, 48), (0.4, 0.8))
    assert env.observation_space.shape == (24, 48) and env.observation_space.dtype == np.uint8
    env.close()
    game = FramesGame("CartPole-v1", 0, (24, 48), (0.4, 0.8))
    assert game.observation_shape == (1, 24, 48)
    first = game.reset()
    assert first.shape == (1, 24, 48) and first.dtype == np.float16
    assert 0 <= first.min() < 0.2 and first.max() == 1  # a dark cart on a white background
    frames, states = [first], [game.env.unwrapped.state.copy()]
    for _ in range(5):  # push right: the cart moves right, the pole falls left
        frame, reward, done = game.step(1)
        frames.append(frame)
        states.append(game.env.unwrapped.state.copy())
        assert reward == 1.0 and not done
    assert not np.array_equal(frames[0], frames[-1])
    assert states[-1][0] > states[0][0]

    def darkness_centre(frame):  # the column of the frame's dark mass, weighted
        darkness = 1 - frame[0].astype(np.float64)
        return (darkness.sum(axis=0) @ np.arange(frame.shape[2])) / darkness.sum()

    assert darkness_centre(frames[-1]) != darkness_centre(frames[0])
    same = FramesGame("CartPole-v1", 0, (24, 48), (0.4, 0.8))
    np.testing.assert_array_equal(same.reset(), first)  # seeded: the same first frame
    other = FramesGame("CartPole-v1", 1, (24, 48), (0.4, 0.8))
    assert not np.array_equal(other.reset(), first)
    for g in (game, same, other):
        g.close()


def test_stacked_frames_carry_the_actions():
    game = GameHistory()
    frames = [np.full((1, 3, 4), i / 4, dtype=np.float16) for i in range(3)]
    game.observation_history += frames
    game.action_history += [0, 1, 0]
    stacked = game.get_stacked_observations(2, 2)
    assert stacked.shape == stacked_shape((1, 3, 4), 2) == (5, 3, 4)
    assert stacked.dtype == np.float16
    np.testing.assert_array_equal(stacked[:, 0, 0], [0.5, 0.25, 0, 0, 1])


# --- the convolutional representation ---------------------------------------------------------

def test_the_conv_representation_numpy_and_keras_agree():
    config = MuZeroConfig(observation="frames", frame_shape=(20, 30), conv_filters=(4, 6),
                          conv_kernel_size=3, fc_representation_layers=(12,),
                          stacked_observations=2, encoding_size=8)
    tf.keras.utils.set_random_seed(0)
    network = MuZeroNetwork(config, (1, 20, 30), n_actions=2)
    assert network.representation_network.input_shape == (None, 5, 20, 30)
    assert network.representation_network.layers[-4].output_shape == (None, 4, 6, 6)
    model = NumpyInference(network.get_weights(), 2, config.support_size)
    rng = np.random.default_rng(0)
    observations = rng.random((KERAS_BATCH + 3, 5, 20, 30)).astype(np.float16)
    keras_hidden = network.representation(tf.constant(observations, tf.float32)).numpy()
    for batch in (observations[:1], observations[:KERAS_BATCH - 1]):  # the NumPy convolutions
        np.testing.assert_allclose(model.representation(batch), keras_hidden[:len(batch)],
                                   atol=1e-5)
    # a batch: the Keras copy, holding these weights (not another network's)
    np.testing.assert_allclose(model.representation(observations), keras_hidden, atol=1e-6)
    tf.keras.utils.set_random_seed(1)
    other = MuZeroNetwork(config, (1, 20, 30), n_actions=2)
    other_hidden = NumpyInference(other.get_weights(), 2, 10).representation(observations)
    np.testing.assert_allclose(
        other_hidden, other.representation(tf.constant(observations, tf.float32)).numpy(),
        atol=1e-6)
    assert np.abs(other_hidden - keras_hidden).max() > 0.1
    np.testing.assert_allclose(model.representation(observations), keras_hidden, atol=1e-6)
    assert keras_hidden.min(axis=1) == pytest.approx(0, abs=1e-6)
    assert keras_hidden.max(axis=1) == pytest.approx(1, abs=1e-5)
    value, reward, logits, state = model.initial_inference(observations[0])
    np.testing.assert_allclose(state, keras_hidden[0], atol=1e-5)


# --- runs ------------------------------------------------------------------------------------

def test_a_tiny_frames_run_trains_and_is_deterministic():
    first = train(replace(TINY_FRAMES, seed=3), training_steps=12, progress=False)
    second = train(replace(TINY_FRAMES, seed=3), training_steps=12, progress=False)
    for key in ("test_rewards", "game_rewards", "total_loss", "value_loss", "reward_loss",
                "policy_loss"):
        assert first[key] == second[key], key
    for name, arrays in first["weights"].items():
        for a, b in zip(arrays, second["weights"][name]):
            np.testing.assert_array_equal(a, b)
    assert first["training_steps"] == 12 and first["test_steps"] == [10, 12]
    assert all(math.isfinite(loss) for loss in first["total_loss"])
    kernel = first["weights"]["representation"][0]
    assert kernel.shape == (4, 4, 3, 4)  # a frame, a past frame and its action plane
    tf.keras.utils.set_random_seed(3)
    initial = MuZeroNetwork(TINY_FRAMES, (1, 24, 48), 2).get_weights()["representation"][0]
    assert not np.array_equal(kernel, initial)  # the convolutions trained


def test_a_frames_game_is_played_from_frames():
    self_play = SelfPlay(TINY_FRAMES, seed=0)
    tf.keras.utils.set_random_seed(0)
    network = MuZeroNetwork(TINY_FRAMES, self_play.game.observation_shape, 2)
    game = self_play.play_game(network.get_weights(), temperature=1)
    self_play.close()
    assert 1 <= len(game) <= TINY_FRAMES.max_moves
    assert game.observation_history[0].shape == (1, 24, 48)
    assert game.stacked_observation_array(1).shape == (len(game), 3, 24, 48)


def test_the_state_default_is_unchanged_pinned(kernel_pins):
    # our run, reference and current stacks (the same numbers), seed 0, made on main at
    # 0c42a7f before the frames observation existed: the default config's first 25 steps;
    # the games are the same on AVX-512 and AVX2 machines, the losses are pinned per kernel
    # class (tests/kernel_pins.json)
    history = train(MuZeroConfig(seed=0), training_steps=25, progress=False)
    assert history["game_rewards"] == [14.0, 9.0] and history["test_rewards"] == [10.0]
    assert history["played_steps"] == 23
    kernel_pins.check(
        "muzero: the default config, seed 0, 25 steps: total loss at steps 0, 4, 10, 24; "
        "value, reward and policy losses at step 24",
        [history["total_loss"][i] for i in (0, 4, 10, 24)]
        + [history[f"{part}_loss"][24] for part in ("value", "reward", "policy")])
