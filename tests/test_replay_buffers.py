"""Replay buffers: the notebook's deque and circular buffer, the NumPy ring buffer, and the
sampling protocol (``sample(batch_size) -> Experiences``). The frame buffer's own tests are
in test_breakout.py."""

from collections import deque

import numpy as np
import pytest

from homl_rl.replay_buffers import (FIELDS, Experiences, FrameReplayBuffer, NumpyReplayBuffer,
                                    ReplayBuffer, experiences_at, make_deque_replay_buffer,
                                    sample_experiences)


def cartpole_like_experience(i):
    """What the notebook appends: float32 states, an int action, a float reward, bools."""
    state = np.full(4, i, dtype=np.float32)
    action = np.int64(i % 2) if i % 3 else i % 2  # argmax gives np.int64, randint an int
    return (state, action, float(i), state + np.float32(0.5), i % 5 == 0, i % 7 == 0)


def filled(buffer, n):
    for i in range(n):
        buffer.append(cartpole_like_experience(i))
    return buffer


def assert_same_arrays(first, second):
    assert len(first) == len(second) == 6
    for name, a, b in zip(FIELDS, first, second):
        assert a.dtype == b.dtype, name
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)


# --- capacity and eviction order -------------------------------------------------------

def test_deque_keeps_the_newest_max_size_experiences_oldest_first():
    buffer = filled(make_deque_replay_buffer(3), 5)
    assert len(buffer) == 3
    assert [experience[2] for experience in buffer] == [2.0, 3.0, 4.0]


def test_notebook_circular_buffer_overwrites_the_oldest_slot():
    buffer = filled(ReplayBuffer(3), 5)
    assert len(buffer) == buffer.size == 3
    assert buffer.index == 2
    assert [experience[2] for experience in buffer.buffer] == [3.0, 4.0, 2.0]  # slots, not ages


def test_numpy_ring_buffer_is_indexed_like_the_deque_oldest_first():
    ring, dq = filled(NumpyReplayBuffer(3), 5), filled(deque(maxlen=3), 5)
    assert len(ring) == 3 and ring.maxlen == 3
    assert [ring[i][2] for i in range(3)] == [2.0, 3.0, 4.0]
    for i in range(-3, 3):
        for ours, theirs in zip(ring[i], dq[i]):
            np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(IndexError):
        ring[3]


def test_ring_buffer_before_it_is_full():
    ring = filled(NumpyReplayBuffer(10), 4)
    assert len(ring) == 4
    assert [ring[i][2] for i in range(4)] == [0.0, 1.0, 2.0, 3.0]


# --- sampling --------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: deque(maxlen=50), lambda: NumpyReplayBuffer(50)],
                         ids=["deque", "numpy"])
def test_sample_experiences_shapes_and_dtypes(make):
    buffer = filled(make(), 20)
    np.random.seed(0)
    if isinstance(buffer, deque):
        arrays = sample_experiences(buffer, 32)
    else:
        arrays = buffer.sample(32)
    states, actions, rewards, next_states, dones, truncateds = arrays
    assert states.shape == next_states.shape == (32, 4)
    assert actions.shape == rewards.shape == dones.shape == truncateds.shape == (32,)
    assert states.dtype == next_states.dtype == np.float32
    assert actions.dtype == np.int64
    assert rewards.dtype == np.float64
    assert dones.dtype == truncateds.dtype == np.bool_


@pytest.mark.parametrize("n_appended", [7, 50, 123])  # not full, exactly full, wrapped around
def test_ring_buffer_and_deque_give_the_same_batch_for_the_same_indices(n_appended):
    dq, ring = filled(deque(maxlen=50), n_appended), filled(NumpyReplayBuffer(50), n_appended)
    indices = np.random.default_rng(1).integers(len(dq), size=64)
    assert_same_arrays(experiences_at(dq, indices), ring.experiences(indices))


def test_ring_buffer_samples_what_the_notebooks_sample_experiences_samples():
    dq, ring = filled(deque(maxlen=50), 123), filled(NumpyReplayBuffer(50), 123)
    np.random.seed(42)
    theirs = sample_experiences(dq, 32)
    after_theirs = np.random.rand()
    np.random.seed(42)
    ours = ring.sample(32)
    assert np.random.rand() == after_theirs  # the same single draw
    assert_same_arrays(theirs, ours)


def test_sample_experiences_is_the_notebooks_code():
    """``np.random.randint(len(replay_buffer), size=batch_size)``, then six np.array's."""
    dq = filled(deque(maxlen=2000), 30)
    np.random.seed(3)
    indices = np.random.randint(len(dq), size=5)
    np.random.seed(3)
    states, actions, rewards, next_states, dones, truncateds = sample_experiences(dq, 5)
    np.testing.assert_array_equal(rewards, indices.astype(float))
    np.testing.assert_array_equal(dones, indices % 5 == 0)


def test_notebook_circular_buffer_samples_slots():
    buffer = filled(ReplayBuffer(10), 15)
    np.random.seed(0)
    indices = np.random.randint(10, size=4)
    np.random.seed(0)
    batch = buffer.sample(4)
    assert batch.dtype == object and len(batch) == 4
    assert [experience[2] for experience in batch] == [buffer.buffer[i][2] for i in indices]


# --- bad input -------------------------------------------------------------------------

EMPTY_BUFFERS = {
    "deque": lambda: (lambda batch_size: sample_experiences(deque(maxlen=5), batch_size)),
    "circular": lambda: ReplayBuffer(5).sample,
    "numpy": lambda: NumpyReplayBuffer(5).sample,
}


@pytest.mark.parametrize("kind", EMPTY_BUFFERS)
def test_sampling_an_empty_buffer_is_a_clear_error(kind):
    with pytest.raises(ValueError, match="cannot sample from an empty replay buffer"):
        EMPTY_BUFFERS[kind]()(32)


@pytest.mark.parametrize("batch_size", [0, -3])
def test_batch_size_below_one_is_a_clear_error(batch_size):
    samplers = [lambda n: sample_experiences(filled(deque(maxlen=5), 3), n),
                filled(ReplayBuffer(5), 3).sample,
                filled(NumpyReplayBuffer(5), 3).sample]
    for sample in samplers:
        with pytest.raises(ValueError, match=f"batch_size must be >= 1, got {batch_size}"):
            sample(batch_size)


def test_non_integer_batch_size_is_a_clear_error():
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        filled(NumpyReplayBuffer(5), 3).sample(2.5)


@pytest.mark.parametrize("max_size", [0, -1, 2.5, None])
def test_bad_capacity_is_a_clear_error(max_size):
    for make in (make_deque_replay_buffer, ReplayBuffer, NumpyReplayBuffer):
        with pytest.raises(ValueError, match="max_size must be a positive integer"):
            make(max_size)


def test_ring_buffer_refuses_experiences_of_another_shape():
    ring = filled(NumpyReplayBuffer(5), 2)
    with pytest.raises(ValueError, match="states: cannot store"):
        ring.append((np.zeros(3, np.float32), 0, 1.0, np.zeros(4, np.float32), False, False))
    with pytest.raises(ValueError, match="6 fields, got 5"):
        ring.append((np.zeros(4, np.float32), 0, 1.0, np.zeros(4, np.float32), False))


def test_ring_buffer_indices_out_of_range_are_refused():
    ring = filled(NumpyReplayBuffer(5), 3)
    with pytest.raises(IndexError, match=r"must be in \[0, 3\)"):
        ring.experiences([0, 3])


# --- the protocol: sample(batch_size) -> Experiences ------------------------------------

def test_experiences_are_the_six_fields_in_the_notebooks_order():
    assert FIELDS == Experiences._fields == (
        "states", "actions", "rewards", "next_states", "dones", "truncateds")


def _filled_frame_buffer(rng):
    buffer = FrameReplayBuffer(20, frame_shape=(3, 3), rng=rng)
    frames = np.random.default_rng(5).integers(0, 256, (13, 3, 3, 4), dtype=np.uint8)
    buffer.start_episode(frames[0])
    for t in range(1, 13):
        buffer.add(t % 4, float(t), frames[t], t == 12)
    return buffer


@pytest.mark.parametrize("kind", ["numpy", "frames"])
def test_every_buffer_samples_experiences_with_six_fields(kind):
    if kind == "numpy":
        buffer = filled(NumpyReplayBuffer(50), 20)
        np.random.seed(0)
    else:
        buffer = _filled_frame_buffer(np.random.default_rng(0))
    batch = buffer.sample(8)
    assert isinstance(batch, Experiences) and len(batch) == 6
    for name in FIELDS:
        assert len(getattr(batch, name)) == 8, name
    states, actions, rewards, next_states, dones, truncateds = batch  # unpacks as the notebook's
    assert states.shape[1:] == next_states.shape[1:]


def test_numpy_buffer_sample_is_the_deque_batch_for_the_same_draw_as_experiences():
    dq, ring = filled(deque(maxlen=50), 77), filled(NumpyReplayBuffer(50), 77)
    np.random.seed(7)
    theirs = sample_experiences(dq, 16)  # the book's function: a list of six arrays
    np.random.seed(7)
    ours = ring.sample(16)
    assert isinstance(theirs, list) and isinstance(ours, Experiences)
    assert_same_arrays(theirs, ours)
    np.random.seed(7)
    indices = np.random.randint(len(dq), size=16)
    assert_same_arrays(ring.experiences(indices), ours)


def test_frame_buffer_draws_from_the_generator_it_was_given():
    rng = np.random.default_rng(3)
    buffer = _filled_frame_buffer(rng)
    assert buffer.rng is rng  # the very generator, not a copy: one stream of draws
    expected_ids = np.random.default_rng(3).integers(buffer.tail, buffer.head, size=5)
    batch = buffer.sample(5)
    for ours, theirs in zip(batch, buffer.get(expected_ids)):
        np.testing.assert_array_equal(ours, theirs)
    assert batch.truncateds.dtype == batch.dones.dtype == np.float32
    assert not batch.truncateds.any()  # terminations only: a truncation still bootstraps
    np.testing.assert_array_equal(batch.rewards, expected_ids + 1.0)  # transition t has reward t+1
