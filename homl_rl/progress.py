"""Progress bars for long runs: tqdm, quiet under ``CI=true`` or when not on a terminal."""

import os
import sys

from tqdm.auto import tqdm


def progress_enabled(progress=True):
    """Whether a progress bar should be drawn: asked for, not in CI, and on a TTY."""
    if not progress:
        return False
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    return sys.stderr.isatty()


def progress_bar(iterable=None, total=None, desc=None, progress=True, **kwargs):
    """A ``tqdm`` bar over ``iterable``, disabled where :func:`progress_enabled` says so."""
    return tqdm(iterable, total=total, desc=desc, disable=not progress_enabled(progress),
                dynamic_ncols=True, leave=False, **kwargs)
