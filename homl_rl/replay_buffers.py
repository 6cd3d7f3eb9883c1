"""Section "Deep Q-Network": the replay buffers, the 2nd edition's extra material
"Deque vs Rotating List", and exercise 9's frame replay buffer.

One sampling protocol: a replay buffer of experiences
``(state, action, reward, next_state, done, truncated)`` samples a batch with
``sample(batch_size)``, which returns :class:`Experiences`, the six arrays
``states, actions, rewards, next_states, dones, truncateds`` (a ``NamedTuple``: it
unpacks as the notebook's list does). The buffers:

- ``deque(maxlen=2000)`` with :func:`sample_experiences` — the notebook's buffer and
  function (the buffer is passed in instead of read from a global): it draws
  ``np.random.randint(len(buffer), size=batch_size)`` from NumPy's global generator.
  Appending is O(1), but ``deque[i]`` walks the deque: O(n) random access.
- :class:`ReplayBuffer` — the notebook's "basic circular buffer" (an extra-code cell; the
  2nd edition's ``ReplayMemory``): a NumPy object array of any objects, O(1) ``append``
  and ``sample``, whose ``sample`` returns the stored objects, as the notebook's does.
- :class:`NumpyReplayBuffer` — preallocated NumPy arrays, one per field, no Python
  objects. Index 0 is the oldest experience, as in the deque, so the same random draw
  gives the same batch as the notebook's deque, bit for bit (same values, same dtypes).
- :class:`FrameReplayBuffer` — exercise 9 (Breakout): each 84x84 ``uint8`` frame kept
  once, the 4-frame states rebuilt when sampling; it draws from the NumPy ``Generator``
  it is given, the one the Breakout loop acts with.
"""

import random
from collections import deque
from typing import NamedTuple

import numpy as np

from homl_rl.checks import check_positive_int


class Experiences(NamedTuple):
    """A batch of experiences: what a replay buffer's ``sample(batch_size)`` returns."""
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    dones: np.ndarray
    """the episode ended (terminated)"""
    truncateds: np.ndarray
    """the episode was cut short (a time limit), not ended"""


FIELDS = Experiences._fields
"""The six arrays of a batch, in order: ``states, actions, rewards, next_states, dones, truncateds``."""


def _check_can_sample(size, batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if size < 1:
        raise ValueError("cannot sample from an empty replay buffer: append experiences first")


def _check_max_size(max_size):
    return check_positive_int("max_size", max_size)


def experiences_at(replay_buffer, indices):
    """The six arrays ``[states, actions, rewards, next_states, dones, truncateds]`` of the
    experiences at ``indices`` (the second half of the notebook's ``sample_experiences``);
    five, without ``truncateds``, for the older revision's five-field experiences."""
    batch = [replay_buffer[index] for index in indices]
    return [
        np.array([experience[field_index] for experience in batch])
        for field_index in range(len(batch[0]))
    ]  # [states, actions, rewards, next_states, dones, truncateds]


def sample_experiences(replay_buffer, batch_size):
    """The notebook's ``sample_experiences(batch_size)``, with the buffer passed in.

    ``replay_buffer`` is anything with ``len`` and indexing, e.g. the notebook's
    ``deque(maxlen=2000)``. Draws ``np.random.randint(len(replay_buffer), size=batch_size)``
    and returns ``[states, actions, rewards, next_states, dones, truncateds]``.
    """
    _check_can_sample(len(replay_buffer), batch_size)
    indices = np.random.randint(len(replay_buffer), size=batch_size)
    return experiences_at(replay_buffer, indices)


def make_deque_replay_buffer(max_size=2000):
    """The notebook's ``deque(maxlen=2000)``."""
    return deque(maxlen=_check_max_size(max_size))


class ReplayBuffer:
    """The notebook's basic circular buffer: an object array overwritten in a circle.

    ``sample`` returns the stored objects at ``np.random.randint(self.size, size=batch_size)``,
    indexing the array directly (slot 0 is not the oldest once the buffer has wrapped), as
    in the notebook. Departs only in checking its arguments and having ``len``.
    """

    def __init__(self, max_size):
        self.buffer = np.empty(_check_max_size(max_size), dtype=object)
        self.max_size = max_size
        self.index = 0
        self.size = 0

    def append(self, obj):
        self.buffer[self.index] = obj
        self.size = min(self.size + 1, self.max_size)
        self.index = (self.index + 1) % self.max_size

    def sample(self, batch_size):
        _check_can_sample(self.size, batch_size)
        indices = np.random.randint(self.size, size=batch_size)
        return self.buffer[indices]

    def __len__(self):
        return self.size


class NumpyReplayBuffer:
    """A preallocated ring buffer: one NumPy array per field, no Python objects.

    The arrays are allocated on the first ``append``, with the shape and dtype NumPy gives
    that experience's fields (``np.asarray(field)``): for CartPole, float32 states, int64
    actions, float64 rewards and bool dones/truncateds — what ``np.array`` of a batch of
    the notebook's tuples gives, so the training step computes the same float operations.

    Logical index 0 is the oldest experience (as in ``deque``), so
    :meth:`sample` draws ``np.random.randint(len(self), size=batch_size)``, as the
    notebook's ``sample_experiences``, and returns the very batch the notebook's deque would.
    """

    def __init__(self, max_size=2000):
        self.max_size = _check_max_size(max_size)
        self.index = 0
        """slot the next experience goes to"""
        self.size = 0
        self.arrays = None
        """``[states, actions, rewards, next_states, dones, truncateds]``, allocated on first append"""

    @property
    def maxlen(self):
        """The capacity, named as ``deque``'s."""
        return self.max_size

    def __len__(self):
        return self.size

    def _allocate(self, experience):
        self.arrays = []
        for name, field in zip(FIELDS, experience):
            value = np.asarray(field)
            if value.dtype == object:
                raise TypeError(f"{name} must be numeric, got {field!r}")
            self.arrays.append(np.zeros((self.max_size,) + value.shape, dtype=value.dtype))

    def append(self, experience):
        """Store ``(state, action, reward, next_state, done, truncated)``, evicting the oldest when full."""
        if len(experience) != 6:
            raise ValueError("an experience is (state, action, reward, next_state, done, "
                             f"truncated): 6 fields, got {len(experience)}")
        if self.arrays is None:
            self._allocate(experience)
        index = self.index
        states, actions, rewards, next_states, dones, truncateds = self.arrays
        state, action, reward, next_state, done, truncated = experience
        try:
            states[index] = state
            actions[index] = action
            rewards[index] = reward
            next_states[index] = next_state
            dones[index] = done
            truncateds[index] = truncated
        except (ValueError, TypeError) as error:
            for name, array, field in zip(FIELDS, self.arrays, experience):
                if np.shape(field) != array.shape[1:]:
                    raise ValueError(f"{name}: cannot store {field!r} in a buffer of "
                                     f"{array.dtype} arrays of shape {array.shape[1:]}") from error
            raise
        self.size = min(self.size + 1, self.max_size)
        self.index = (index + 1) % self.max_size

    def _gather(self, indices):
        slots = indices + (self.index - self.size) % self.max_size
        if self.size == self.max_size:
            slots %= self.max_size
        return Experiences(*(array[slots] for array in self.arrays))

    def experiences(self, indices):
        """The six arrays of the experiences at logical ``indices`` (0 = oldest)."""
        indices = np.asarray(indices)
        if indices.size and (indices.min() < 0 or indices.max() >= self.size):
            raise IndexError(f"replay buffer indices must be in [0, {self.size}), got "
                             f"{indices.min()}..{indices.max()}")
        return self._gather(indices)

    def sample(self, batch_size, replace=True):
        """The notebook's ``sample_experiences``: same draw, same batch, no Python loop.

        With ``replace=False``, ``batch_size`` distinct experiences drawn by Python's
        ``random.sample`` once the buffer holds that many (with replacement before, as
        keras-rl2's memory draws).
        """
        _check_can_sample(self.size, batch_size)
        if replace or batch_size > self.size:
            indices = np.random.randint(self.size, size=batch_size)
        else:
            indices = np.array(random.sample(range(self.size), batch_size))
        return self._gather(indices)

    def __getitem__(self, index):
        """The experience at logical ``index`` as a tuple, like ``deque[index]``."""
        if isinstance(index, (int, np.integer)) and -self.size <= index < self.size:
            slot = (self.index - self.size + int(index) % self.size) % self.max_size
            return tuple(array[slot] for array in self.arrays)
        raise IndexError(f"replay buffer index out of range (size {self.size})")


# --- exercise 9: the frame-ring replay buffer -------------------------------------------

class FrameReplayBuffer:
    """A replay buffer that keeps each preprocessed frame once.

    Frames go into a ring of ``capacity + stack_size`` frames, numbered by a global,
    ever-increasing frame id. Transition ``t`` stores one frame id ``g``: its state is
    frames ``g .. g+stack_size-1`` and its next state frames ``g+1 .. g+stack_size``.
    :meth:`start_episode` pushes the reset observation's ``stack_size`` frames (the env
    pads them by repeating the first frame), :meth:`add` pushes only the new frame, so a
    state never mixes frames of two episodes. Both rings are first-in first-out: when a
    frame is overwritten, the transitions that still reference it are evicted first (at
    most ``capacity`` transitions are kept; fewer when episode starts are in the window,
    since each costs ``stack_size - 1`` extra frames).

    :meth:`sample` draws with ``rng``, a NumPy ``Generator`` (or a seed for a new one),
    kept as given: Breakout's loop passes the generator it acts with, so acting and
    sampling share one stream of draws. ``dones`` are terminations only; the loop
    bootstraps through a time-limit truncation, so ``truncateds`` are all 0.
    """

    def __init__(self, capacity, frame_shape=(84, 84), stack_size=4, rng=None):
        self.rng = np.random.default_rng(rng)  # a Generator is kept as is, not copied
        self.capacity = check_positive_int("capacity", capacity)
        self.stack_size = int(stack_size)
        self.frame_shape = tuple(frame_shape)
        self.frame_capacity = self.capacity + self.stack_size
        self.frames = np.zeros((self.frame_capacity, *self.frame_shape), np.uint8)
        self.first_frame = np.zeros(self.capacity, np.int64)
        self.actions = np.zeros(self.capacity, np.uint8)
        self.rewards = np.zeros(self.capacity, np.float32)
        self.dones = np.zeros(self.capacity, np.bool_)
        self.n_frames = 0
        """frames pushed so far (the next frame's global id)"""
        self.head = 0
        """transitions added so far (the next transition's global id)"""
        self.tail = 0
        """global id of the oldest transition kept"""
        self.state_start = None
        """global id of the current state's first frame (``None`` before an episode)"""

    def __len__(self):
        return self.head - self.tail

    def _push_frame(self, frame):
        frame_id = self.n_frames
        oldest_kept = frame_id + 1 - self.frame_capacity  # frame ids below this are gone
        while self.tail < self.head and self.first_frame[self.tail % self.capacity] < oldest_kept:
            self.tail += 1  # evict transitions that reference the overwritten frame
        self.frames[frame_id % self.frame_capacity] = frame
        self.n_frames += 1
        return frame_id

    def start_episode(self, obs):
        """Push the reset observation ``obs`` (``(84, 84, stack_size)``, current frame last)."""
        obs = np.asarray(obs)
        if obs.shape != (*self.frame_shape, self.stack_size):
            raise ValueError(f"observation shape must be {(*self.frame_shape, self.stack_size)}, "
                             f"got {obs.shape}")
        ids = [self._push_frame(obs[..., k]) for k in range(self.stack_size)]
        self.state_start = ids[0]

    def add(self, action, reward, next_obs, done):
        """Record a step from the current state: push ``next_obs``'s newest frame only."""
        if self.state_start is None:
            raise RuntimeError("call start_episode(obs) before add()")
        if self.head - self.tail == self.capacity:
            self.tail += 1  # the transition ring is full: evict the oldest
        self._push_frame(np.asarray(next_obs)[..., -1])
        index = self.head % self.capacity
        self.first_frame[index] = self.state_start
        self.actions[index], self.rewards[index], self.dones[index] = action, reward, done
        self.head += 1
        self.state_start += 1

    def _stack(self, first_ids):
        ids = (first_ids[:, None] + np.arange(self.stack_size)) % self.frame_capacity
        return np.moveaxis(self.frames[ids], 1, -1)  # (batch, 84, 84, stack), current last

    def get(self, transition_ids):
        """The :class:`Experiences` of the given global transition ids (``truncateds`` all 0)."""
        transition_ids = np.asarray(transition_ids)
        if len(transition_ids) and (transition_ids.min() < self.tail
                                    or transition_ids.max() >= self.head):
            raise IndexError(f"transition ids must be in [{self.tail}, {self.head})")
        index = transition_ids % self.capacity
        first = self.first_frame[index]
        return Experiences(self._stack(first), self.actions[index].astype(np.int32),
                           self.rewards[index], self._stack(first + 1),
                           self.dones[index].astype(np.float32),
                           np.zeros(len(index), np.float32))

    def sample(self, batch_size):
        """A uniform batch (with replacement) of :class:`Experiences`, drawn with ``self.rng``."""
        if len(self) == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        return self.get(self.rng.integers(self.tail, self.head, size=batch_size))

    def nbytes(self):
        """Bytes held by the buffer's arrays."""
        return sum(array.nbytes for array in (self.frames, self.first_frame, self.actions,
                                              self.rewards, self.dones))

    def state_dict(self):
        """The live frames and transitions (oldest first) and the counters, for a checkpoint:
        a checkpoint holds what is stored, not the empty capacity."""
        frame_ids = np.arange(max(0, self.n_frames - self.frame_capacity), self.n_frames)
        index = np.arange(self.tail, self.head) % self.capacity
        return {"frames": self.frames[frame_ids % self.frame_capacity],
                "first_frame": self.first_frame[index], "actions": self.actions[index],
                "rewards": self.rewards[index], "dones": self.dones[index],
                "counters": np.array([self.capacity, self.stack_size, self.n_frames, self.head,
                                      self.tail, -1 if self.state_start is None
                                      else self.state_start])}

    def load_state_dict(self, state):
        capacity, stack_size, n_frames, head, tail, start = (int(v) for v in state["counters"])
        if (capacity, stack_size) != (self.capacity, self.stack_size):
            raise ValueError(f"replay buffer of capacity {capacity} and stack size {stack_size}, "
                             f"expected {self.capacity} and {self.stack_size}")
        frame_ids = np.arange(max(0, n_frames - self.frame_capacity), n_frames)
        if state["frames"].shape != (len(frame_ids), *self.frame_shape):
            raise ValueError(f"replay buffer frames have shape {state['frames'].shape}")
        self.frames[frame_ids % self.frame_capacity] = state["frames"]
        index = np.arange(tail, head) % self.capacity
        for name in ("first_frame", "actions", "rewards", "dones"):
            getattr(self, name)[index] = state[name]
        self.n_frames, self.head, self.tail = n_frames, head, tail
        self.state_start = None if start < 0 else start


def naive_bytes_per_transition(frame_shape=(84, 84), stack_size=4):
    """Bytes of one ``(state, action, reward, next_state, done)`` stored stacked, as uint8
    arrays, a uint8 action, a float32 reward and a bool done."""
    return 2 * int(np.prod(frame_shape)) * stack_size + 1 + 4 + 1


def frame_ring_bytes_per_transition(capacity=1_000_000, frame_shape=(84, 84), stack_size=4):
    """Bytes per transition of a full :class:`FrameReplayBuffer` of ``capacity``."""
    frame = int(np.prod(frame_shape))
    return ((capacity + stack_size) * frame + capacity * (8 + 1 + 4 + 1)) / capacity
