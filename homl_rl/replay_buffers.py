"""Section "Deep Q-Network": the replay buffers, and the 2nd edition's extra material
"Deque vs Rotating List".

Three buffers, one sampling rule. Each holds experiences
``(state, action, reward, next_state, done, truncated)`` and samples a batch by drawing
``np.random.randint(len(buffer), size=batch_size)`` from NumPy's global generator,
exactly as the notebook's ``sample_experiences`` does:

- ``deque(maxlen=2000)`` with :func:`sample_experiences` — the notebook's buffer and
  function (the buffer is passed in instead of read from a global). Appending is O(1),
  but ``deque[i]`` walks the deque: O(n) random access.
- :class:`ReplayBuffer` — the notebook's "basic circular buffer" (an extra-code cell; the
  2nd edition's ``ReplayMemory``): a NumPy object array, O(1) ``append`` and ``sample``.
- :class:`NumpyReplayBuffer` — preallocated NumPy arrays, one per field, no Python
  objects. Index 0 is the oldest experience, as in the deque, so the same random draws
  give the same batch as the notebook's deque, bit for bit (same values, same dtypes).
"""

from collections import deque

import numpy as np

from homl_rl.checks import check_positive_int

FIELDS = ("states", "actions", "rewards", "next_states", "dones", "truncateds")
"""The six arrays :func:`sample_experiences` returns, in order."""


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
    experiences at ``indices`` (the second half of the notebook's ``sample_experiences``)."""
    batch = [replay_buffer[index] for index in indices]
    return [
        np.array([experience[field_index] for experience in batch])
        for field_index in range(6)
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
    ``sample_experiences`` draws ``np.random.randint(len(self), size=batch_size)`` and
    returns the very batch the notebook's deque would.
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
        return [array[slots] for array in self.arrays]

    def experiences(self, indices):
        """The six arrays of the experiences at logical ``indices`` (0 = oldest)."""
        indices = np.asarray(indices)
        if indices.size and (indices.min() < 0 or indices.max() >= self.size):
            raise IndexError(f"replay buffer indices must be in [0, {self.size}), got "
                             f"{indices.min()}..{indices.max()}")
        return self._gather(indices)

    def sample_experiences(self, batch_size):
        """The notebook's ``sample_experiences``: same draw, same batch, no Python loop."""
        _check_can_sample(self.size, batch_size)
        indices = np.random.randint(self.size, size=batch_size)
        return self._gather(indices)

    def __getitem__(self, index):
        """The experience at logical ``index`` as a tuple, like ``deque[index]``."""
        if isinstance(index, (int, np.integer)) and -self.size <= index < self.size:
            slot = (self.index - self.size + int(index) % self.size) % self.max_size
            return tuple(array[slot] for array in self.arrays)
        raise IndexError(f"replay buffer index out of range (size {self.size})")
