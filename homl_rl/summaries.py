"""TensorBoard scalars for the long runs: one writer per run, or nothing when there is no log folder.

Every long run (the Keras and the TF-Agents Breakout runs, the DQN studies) takes a
``logdir`` and writes its scalars (episode return, loss, epsilon, env steps/s, evaluation
score...) through :func:`summaries` as it goes; ``tensorboard --logdir DIR`` shows them.
``summaries(None)`` is a :class:`NoSummaries` whose methods do nothing, so a run's loop
calls the same methods with or without a log folder.

The events are TensorBoard's own scalar summaries (a float32 tensor tagged with the
``scalars`` plugin, as ``tf.summary.scalar`` writes them), written with TensorFlow's
``tf.summary.write``: that works without the ``tensorboard`` package too (TensorFlow >= 2.16
no longer installs it; ``tf.summary.scalar`` then refuses). :func:`read_scalars` reads a
folder's events back with TensorFlow's event-file reader::

    with summaries("runs/tb/breakout") as log:
        log.scalars(step, **{"train/episode_return": 3.0, "train/epsilon": 0.42})
        log.rate("train/env_steps_per_second", count=step, step=step)
"""

import time
from pathlib import Path

from homl_rl.tf_setup import tf

SCALAR_METADATA = tf.compat.v1.SummaryMetadata(
    plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))
"""What marks a summary as a scalar for TensorBoard (its scalars plugin, data version 0)."""

EVENT_FILE_PATTERN = "events.out.tfevents.*"
"""The names of the event files TensorFlow writes in a log folder."""


def check_logdir(logdir):
    """``Path(logdir)``, created if missing; a ``ValueError`` saying why when it cannot be a
    log folder (a file, or not creatable/writable)."""
    path = Path(logdir)
    if path.exists() and not path.is_dir():
        raise ValueError(f"logdir {logdir} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"logdir {logdir}: cannot create it: "
                         f"{error.strerror or error}") from None
    if not path.is_dir() or not _writable(path):
        raise ValueError(f"logdir {logdir}: cannot write in it")
    return path


def _writable(folder):
    """Whether a file can be created in ``folder`` (checked by creating and removing one)."""
    probe = folder / f".homl-rl-check-{time.monotonic_ns()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError:
        return False
    return True


class Summaries:
    """The TensorBoard scalars of one run: an event file in ``logdir`` (a folder, created)."""

    def __init__(self, logdir):
        self.logdir = check_logdir(logdir)
        self._writer = tf.summary.create_file_writer(str(self.logdir))
        self._last = {}  # rate tag -> (count, time) of its last call

    def scalar(self, tag, value, step):
        """Write ``value`` (a number) under ``tag`` at ``step`` (an integer, e.g. env steps)."""
        with self._writer.as_default():
            tf.summary.write(tag, tf.constant(float(value), tf.float32), step=int(step),
                             metadata=SCALAR_METADATA)

    def scalars(self, step, **values):
        """Write each ``tag=value`` at ``step``; ``None`` values are left out."""
        for tag, value in values.items():
            if value is not None:
                self.scalar(tag, value, step)

    def rate(self, tag, count, step):
        """Write how fast ``count`` (e.g. environment steps so far) grew per second since this
        tag's last call, and return it; the first call only starts the clock (``None``)."""
        now = time.perf_counter()
        last = self._last.get(tag)
        self._last[tag] = (count, now)
        if last is None or now <= last[1]:
            return None
        value = (count - last[0]) / (now - last[1])
        self.scalar(tag, value, step)
        return value

    def flush(self):
        """Write what is buffered to the event file now (the writer also does every 2 minutes)."""
        self._writer.flush()

    def close(self):
        """Flush and close the event file."""
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class NoSummaries:
    """What :func:`summaries` gives without a log folder: every method does nothing."""

    logdir = None

    def scalar(self, tag, value, step):
        pass

    def scalars(self, step, **values):
        pass

    def rate(self, tag, count, step):
        return None

    def flush(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass


def summaries(logdir):
    """A :class:`Summaries` writing in ``logdir``, or a :class:`NoSummaries` when it is ``None``."""
    return NoSummaries() if logdir is None else Summaries(logdir)


def has_events(logdir):
    """Whether ``logdir`` holds event files already (a run logged there before)."""
    return Path(logdir).is_dir() and any(Path(logdir).glob(EVENT_FILE_PATTERN))


def read_scalars(logdir):
    """``{tag: [(step, value), ...]}`` of the scalars in ``logdir``'s event files (not its
    sub-folders), oldest file first, in the order written."""
    scalars, scalar_tags = {}, set()
    for path in sorted(Path(logdir).glob(EVENT_FILE_PATTERN)):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    scalar_tags.add(value.tag)  # (a writer may give the metadata once a tag)
                if value.tag not in scalar_tags and not value.HasField("simple_value"):
                    continue
                number = (value.simple_value if value.HasField("simple_value")
                          else float(tf.make_ndarray(value.tensor)))
                scalars.setdefault(value.tag, []).append((int(event.step), number))
    return scalars
