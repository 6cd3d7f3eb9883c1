"""The notebook's plotting set-up: book style, ``save_fig``, and the data beside each figure.

Every file is written atomically (temporary file, then rename) and
deterministically: PNG metadata carries no version or date, JSON keys are sorted,
so the same command twice gives byte-identical files.
"""

import json
import os
import tempfile
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

FIGURES_DIR = Path("figures")
"""Where figures go by default (the notebook's ``IMAGES_PATH``), relative to the working directory."""

BOOK_STYLE = {
    "font": {"size": 14},
    "axes": {"labelsize": 14, "titlesize": 14},
    "legend": {"fontsize": 14},
    "xtick": {"labelsize": 10},
    "ytick": {"labelsize": 10},
    "animation": {"html": "jshtml"},
}


NO_VERSION_METADATA = {
    "png": {"Software": None},
    "svg": {"Creator": None, "Date": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}
"""Metadata that would change with matplotlib's version or the date, left out."""


def use_book_style():
    """The notebook's ``plt.rc`` settings (first cells of the chapter notebook)."""
    for group, settings in BOOK_STYLE.items():
        plt.rc(group, **settings)


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


def save_fig(fig_id, tight_layout=True, fig_extension="png", resolution=300,
             fig=None, out_dir=None):
    """The notebook's ``save_fig``: save the current (or given) figure as ``<fig_id>.png``.

    Departs from the notebook only in writing atomically and without the
    ``Software`` metadata (which holds matplotlib's version), so reruns are byte-identical.
    """
    fig = fig if fig is not None else plt.gcf()
    path = Path(out_dir or FIGURES_DIR) / f"{fig_id}.{fig_extension}"
    if tight_layout:
        fig.tight_layout()
    metadata = NO_VERSION_METADATA.get(fig_extension)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format=fig_extension, dpi=resolution,
                                               metadata=metadata))
    return path


def _to_jsonable(value):
    if isinstance(value, dict):
        return {str(key): _to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_json(path, data):
    """Write ``data`` (NumPy values included) to ``path`` as sorted, indented JSON, atomically.

    ``-inf`` (impossible actions in the MDP) is written as JSON's ``-Infinity``,
    which Python's ``json`` reads back.
    """
    text = json.dumps(_to_jsonable(data), indent=1, sort_keys=True) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def save_data(fig_id, data, out_dir=None):
    """Write the numbers behind a figure to ``<out_dir>/data/<fig_id>.json``."""
    return write_json(Path(out_dir or FIGURES_DIR) / "data" / f"{fig_id}.json", data)


def load_data(fig_id, out_dir=None):
    """Read back what :func:`save_data` wrote."""
    return json.loads((Path(out_dir or FIGURES_DIR) / "data" / f"{fig_id}.json").read_text())
