"""A quiet start: TensorFlow's start-up noise kept out of the terminal, unless asked for.

Importing TensorFlow prints lines a reader cannot act on: the cuDNN/cuFFT/cuBLAS
"Unable to register ... factory" errors (TF 2.15), the oneDNN and "Could not find cuda
drivers" notices and absl's "All log messages before absl::InitializeLog()" banner
(TF 2.21), and, through tf-agents, the old ``gym`` package's deprecation banner.
``TF_CPP_MIN_LOG_LEVEL`` does not reach all of them: measured, level 3 silences the 2.15
"Unable to register" lines, but TF 2.21 writes its notices from C++ before its logging
is initialised, whatever the level. So two things happen while TensorFlow loads
(:func:`homl_rl.tf_setup` calls :func:`quiet_imports`):

- ``TF_CPP_MIN_LOG_LEVEL`` is set to 3 (unless already set), for the messages TensorFlow
  logs later (e.g. "failed call to cuInit" at the first operation);
- file descriptor 2 and ``sys.stderr`` are captured during the import, and every line
  but the known noise (:data:`NOISE`) is written back to stderr.

``HOML_RL_VERBOSE=1`` in the environment, or :func:`set_verbose` before TensorFlow is
imported (the CLI's ``--verbose``), turns both off: everything is shown.
"""

import contextlib
import io
import os
import re
import sys
import tempfile

VERBOSE_ENV = "HOML_RL_VERBOSE"
"""The environment variable that shows TensorFlow's start-up messages (inherited by workers)."""

NOISE = re.compile("|".join([
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"oneDNN custom operations are on",
    r"To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`",
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"Could not find cuda drivers on your machine",
    r"failed call to cuInit",
    r"TF-TRT Warning: Could not find TensorRT",
    r"This TensorFlow binary is optimized to use available CPU instructions",
    r"To enable the following instructions: .* in other operations, rebuild TensorFlow",
    r"Gym has been unmaintained since 2022",
    r"Please upgrade to Gymnasium, the maintained drop-in replacement of Gym",
    r"See the migration guide at https://gymnasium\.farama\.org/introduction/migration_guide/",
]))
"""Start-up lines that say nothing to a reader of the chapter (matched anywhere in a line)."""


def set_verbose(verbose=True):
    """Show (``True``) or hide TensorFlow's start-up messages; call before TensorFlow loads.

    The setting goes into the environment, so worker processes inherit it.
    """
    os.environ[VERBOSE_ENV] = "1" if verbose else "0"


def is_verbose():
    """Whether start-up messages are shown (``HOML_RL_VERBOSE`` set to anything but 0)."""
    return os.environ.get(VERBOSE_ENV, "0") not in ("", "0")


def drop_noise(text):
    """``text`` without its :data:`NOISE` lines."""
    return "".join(line for line in text.splitlines(keepends=True) if not NOISE.search(line))


@contextlib.contextmanager
def quiet_imports():
    """While the block runs, TensorFlow's start-up noise is dropped from stderr.

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless set, captures file descriptor 2 (C++ output) and
    ``sys.stderr`` (Python output), and writes back every line that is not noise. Does
    nothing when :func:`is_verbose`.
    """
    if is_verbose():
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    python_stderr = sys.stderr
    with contextlib.suppress(Exception):
        python_stderr.flush()
    try:
        saved_fd = os.dup(2)
    except OSError:  # no file descriptor 2 (an embedded interpreter): nothing to filter
        yield
        return
    captured = tempfile.TemporaryFile()
    python_output = io.StringIO()
    os.dup2(captured.fileno(), 2)
    sys.stderr = python_output
    try:
        yield
    finally:
        sys.stderr = python_stderr
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        captured.seek(0)
        text = captured.read().decode(errors="replace") + python_output.getvalue()
        captured.close()
        kept = drop_noise(text)
        if kept:
            python_stderr.write(kept)
            with contextlib.suppress(Exception):
                python_stderr.flush()
