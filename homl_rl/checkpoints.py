"""Checkpoints of the long Breakout runs (Keras and TF-Agents): one format, one Ctrl-C rule.

- :class:`CtrlC`: while a training loop runs, Ctrl-C only raises a flag; the loop then
  saves a checkpoint and stops (a second chance is never needed: nothing is lost).
- The Keras run's one-file checkpoint: a NumPy ``.npz`` holding the arrays and a JSON
  metadata string (with :data:`CHECKPOINT_VERSION`), written atomically
  (:func:`write_checkpoint`), read back with a :class:`CheckpointError` that says what
  is wrong (:func:`read_checkpoint`); lists of weights are stored as ``<prefix>_<i>``
  with a ``<prefix>_count`` (:func:`pack_weights`, :func:`unpack_weights`).
- The TF-Agents run's checkpoints are TF-Agents ``Checkpointer`` files under
  ``<checkpoint_dir>/train``; beside them, each training call keeps its history as
  ``history_<start step>.json`` (:func:`write_history`, :func:`load_histories`), and
  :func:`checkpointed_step` says where the last checkpoint is.
"""

import json
import signal
import threading
import zipfile
from pathlib import Path

import numpy as np

from homl_rl.io import atomic_write, read_json, write_json
from homl_rl.tf_setup import tf

CHECKPOINT_NAME = "checkpoint.npz"
"""the Keras run's checkpoint file, in its output folder"""

CHECKPOINT_VERSION = 1
"""the format version written in every checkpoint's metadata; another version is refused"""


class CheckpointError(RuntimeError):
    """A missing, corrupt or incompatible checkpoint."""


class CtrlC:
    """While active, Ctrl-C only raises a flag (``pressed``): the loop saves a checkpoint and stops.

    Outside the main thread (where Python cannot install signal handlers) it does nothing.
    """

    def __init__(self):
        self.pressed = False
        self.previous = None

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        self.pressed = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


# --- the one-file NPZ checkpoint (Keras run) -------------------------------------------------

def pack_weights(arrays, prefix, weights):
    """Store the list ``weights`` in ``arrays`` as ``<prefix>_0, <prefix>_1, ...`` and
    ``<prefix>_count``."""
    arrays[f"{prefix}_count"] = np.array(len(weights))
    arrays.update({f"{prefix}_{i}": w for i, w in enumerate(weights)})
    return arrays


def unpack_weights(arrays, prefix):
    """The list that :func:`pack_weights` stored under ``prefix``."""
    return [arrays[f"{prefix}_{i}"] for i in range(int(arrays[f"{prefix}_count"]))]


def write_checkpoint(path, meta, arrays):
    """Write ``arrays`` and the JSON ``meta`` (plus the format version) to the ``.npz``
    file ``path`` atomically: an interrupted save leaves the previous checkpoint intact."""
    meta = {"version": CHECKPOINT_VERSION, **meta}
    arrays = {"meta": np.array(json.dumps(meta)), **arrays}

    def write(tmp):
        with open(tmp, "wb") as file:
            np.savez(file, **arrays)

    return atomic_write(path, write)


def read_checkpoint(path, meta_keys=(), array_keys=()):
    """``(meta, arrays)`` of the checkpoint ``path`` (or ``path/checkpoint.npz``), or a
    :class:`CheckpointError` saying what is wrong: missing, corrupt, lacking one of
    ``meta_keys``/``array_keys``, or of another format version."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"corrupt checkpoint {path}: {error}") from error
    if not isinstance(meta, dict):
        raise CheckpointError(f"corrupt checkpoint {path}: its metadata is not a dict")
    missing = ([key for key in meta_keys if key not in meta]
               + [key for key in array_keys if key not in arrays])
    if missing:
        raise CheckpointError(f"corrupt checkpoint {path}: missing {', '.join(missing)}")
    if meta.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"checkpoint {path} has version {meta.get('version')}, "
                              f"expected {CHECKPOINT_VERSION}")
    return meta, arrays


# --- the histories beside TF-Agents checkpoints ------------------------------------------------

def history_path(checkpoint_dir, start_step):
    """Where the history of a training call that started at ``start_step`` is kept
    (rewritten at each checkpoint: nothing is lost on a stop)."""
    return Path(checkpoint_dir) / f"history_{start_step:08d}.json"


def write_history(checkpoint_dir, history):
    """Save ``history`` atomically beside the checkpoints; return its path."""
    return write_json(history_path(checkpoint_dir, history["start_step"]), history)


def load_histories(checkpoint_dir):
    """The histories of every call that trained in ``checkpoint_dir``, oldest first."""
    histories = [read_json(path) for path in Path(checkpoint_dir).glob("history_*.json")]
    return sorted(histories, key=lambda history: history["start_step"])


def checkpointed_step(checkpoint_dir):
    """The training step of the last TF-Agents checkpoint in ``checkpoint_dir`` (0 if none)."""
    latest = tf.train.latest_checkpoint(str(Path(checkpoint_dir) / "train"))
    return int(latest.rsplit("-", 1)[1]) if latest else 0
