"""Exercise 9: the Keras Double Dueling DQN on Breakout (homl_rl.breakout)."""

import numpy as np
import pytest

from homl_rl.breakout import (FrameReplayBuffer, build_dueling_conv_q_network,
                              double_dqn_targets, frame_ring_bytes_per_transition,
                              naive_bytes_per_transition)


def _recorded_sequence(episode_lengths, seed=0, size=6, stack=4):
    """Synthetic episodes as FrameStackObservation produces them: the reset frame four
    times, then the stack shifts by one new frame per step. Each frame is tagged with
    its episode and step so a mixed stack shows."""
    rng = np.random.default_rng(seed)
    episodes = []
    for episode, length in enumerate(episode_lengths):
        frames = rng.integers(0, 256, (length + 1, size, size), dtype=np.uint8)
        frames[:, 0, 0], frames[:, 0, 1] = episode, np.arange(length + 1)
        obs = [np.stack([frames[0]] * stack, axis=-1)]
        for t in range(1, length + 1):
            obs.append(np.concatenate([obs[-1][..., 1:], frames[t][..., None]], axis=-1))
        actions = rng.integers(0, 4, length)
        rewards = rng.integers(-1, 2, length).astype(np.float32)
        episodes.append((obs, actions, rewards))
    return episodes


def _fill(buffer, episodes):
    """Add the episodes; return the naive (stacked) transitions in the same order."""
    naive = []
    for obs, actions, rewards in episodes:
        buffer.start_episode(obs[0])
        for t, (action, reward) in enumerate(zip(actions, rewards)):
            done = t == len(actions) - 1
            buffer.add(action, reward, obs[t + 1], done)
            naive.append((obs[t], action, reward, obs[t + 1], float(done)))
    return naive


def _assert_same(buffer, ids, naive):
    states, actions, rewards, next_states, dones = buffer.get(ids)
    for k, i in enumerate(ids):
        s, a, r, s2, d = naive[i]
        np.testing.assert_array_equal(states[k], s)
        np.testing.assert_array_equal(next_states[k], s2)
        assert (actions[k], rewards[k], dones[k]) == (a, r, d)


def test_frame_ring_states_equal_naive_stacking_across_episode_boundaries():
    episodes = _recorded_sequence([5, 1, 2, 7])  # a 1-step episode, short ones
    buffer = FrameReplayBuffer(100, frame_shape=(6, 6))
    naive = _fill(buffer, episodes)
    assert len(buffer) == len(naive) == 15
    _assert_same(buffer, np.arange(len(naive)), naive)
    states, _, _, next_states, _ = buffer.get(np.arange(len(naive)))
    for stacked in (states, next_states):  # no stack mixes frames of two episodes
        assert all(len(set(s[0, 0, :])) == 1 for s in stacked)


def test_frame_ring_evicts_oldest_transitions_at_capacity():
    episodes = _recorded_sequence([9, 3, 12, 4], seed=1)
    buffer = FrameReplayBuffer(10, frame_shape=(6, 6))
    naive = _fill(buffer, episodes)
    assert len(buffer) <= 10 and buffer.head == len(naive) == 28
    kept = np.arange(buffer.tail, buffer.head)
    oldest_frame = buffer.n_frames - buffer.frame_capacity
    assert buffer.first_frame[buffer.tail % 10] >= oldest_frame  # kept ones are intact
    assert buffer.first_frame[(buffer.tail - 1) % 10] < oldest_frame  # evicted only if needed
    assert len(kept) == 6  # the window of 14 frames: the last episode's 8 frames, then 2 more
    _assert_same(buffer, kept, naive)
    with pytest.raises(IndexError):
        buffer.get([buffer.tail - 1])
    batch = buffer.sample_experiences(64, np.random.default_rng(0))
    assert batch[0].shape == (64, 6, 6, 4) and batch[0].dtype == np.uint8


def test_frame_ring_state_dict_round_trip():
    episodes = _recorded_sequence([6, 8], seed=2)
    buffer = FrameReplayBuffer(8, frame_shape=(6, 6))
    naive = _fill(buffer, episodes)
    copy = FrameReplayBuffer(8, frame_shape=(6, 6))
    copy.load_state_dict({k: np.array(v) for k, v in buffer.state_dict().items()})
    _assert_same(copy, np.arange(copy.tail, copy.head), naive)


def test_frame_ring_needs_an_episode_start():
    buffer = FrameReplayBuffer(4, frame_shape=(6, 6))
    with pytest.raises(RuntimeError, match="start_episode"):
        buffer.add(0, 0.0, np.zeros((6, 6, 4), np.uint8), False)
    with pytest.raises(ValueError, match="capacity"):
        FrameReplayBuffer(0)


def test_bytes_per_transition_frame_ring_vs_naive():
    # 2 x 84 x 84 x 4 uint8 + action, reward, done: the "~56 KB"
    assert naive_bytes_per_transition() == 56_454
    per_transition = frame_ring_bytes_per_transition(1_000_000)
    assert per_transition == pytest.approx(84 * 84 + 14, abs=0.1)  # 7,070 bytes
    assert 1_000_000 * per_transition / 2 ** 30 < 6.6  # GiB for 1M transitions
    buffer = FrameReplayBuffer(1000)
    assert buffer.nbytes() / 1000 == pytest.approx(frame_ring_bytes_per_transition(1000))


def test_dueling_conv_model_shape_and_identity():
    from homl_rl.tf_setup import tf

    tf.keras.utils.set_random_seed(42)
    model = build_dueling_conv_q_network(n_outputs=4)
    states = np.random.default_rng(0).integers(0, 256, (3, 84, 84, 4)).astype(np.uint8)
    Q_values = model(states).numpy()
    assert Q_values.shape == (3, 4)
    head = tf.keras.Model(model.inputs, [model.get_layer("state_value").output,
                                         model.get_layer("raw_advantages").output])
    V, A = (t.numpy() for t in head(states))
    np.testing.assert_allclose(Q_values, V + A - A.max(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(Q_values.max(axis=1), V[:, 0], rtol=1e-6)  # max Q = V
    conv = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.strides) for c in conv] == [
        (32, (8, 8), (4, 4)), (64, (4, 4), (2, 2)), (64, (3, 3), (1, 1))]


def test_double_dqn_target_uses_online_argmax_and_target_values():
    rewards = np.array([1.0, 0.0, -1.0])
    dones = np.array([0.0, 1.0, 0.0])
    next_Q_online = np.array([[1.0, 5.0, 2.0], [9.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    next_Q_target = np.array([[7.0, 2.0, 4.0], [3.0, 3.0, 3.0], [10.0, 10.0, -2.0]])
    targets = double_dqn_targets(rewards, dones, next_Q_online, next_Q_target, 0.9).numpy()
    # by hand: online argmax = [1, 0, 2]; target values 2, (done), -2
    np.testing.assert_allclose(targets, [1 + 0.9 * 2, 0.0, -1 + 0.9 * -2], rtol=1e-6)
