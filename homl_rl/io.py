"""Files written atomically and deterministically: figures, data, caches, checkpoints.

Every writer here goes through :func:`atomic_write` (a temporary file in the same
folder, then a rename), so an interrupted run never leaves a half file; JSON is
written with sorted keys and a fixed indent, so the same data gives the same bytes.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np


def atomic_write(path, write):
    """Call ``write(tmp_path)`` then rename ``tmp_path`` onto ``path``: never a half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0o600 would make figures private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def to_jsonable(value):
    """``value`` with NumPy arrays and scalars turned into lists and Python numbers."""
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_text(path, text):
    """Write ``text`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def write_json(path, data):
    """Write ``data`` (NumPy values included) to ``path`` as sorted, indented JSON, atomically.

    ``-inf`` (impossible actions in the MDP) is written as JSON's ``-Infinity``,
    which Python's ``json`` reads back.
    """
    return write_text(path, json.dumps(to_jsonable(data), indent=1, sort_keys=True) + "\n")


def read_json(path):
    """Read back what :func:`write_json` wrote."""
    return json.loads(Path(path).read_text())
