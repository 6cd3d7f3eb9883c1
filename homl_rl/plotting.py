"""The notebook's plotting set-up: book style, ``save_fig``, and the data beside each figure.

Every file is written atomically (temporary file, then rename) and
deterministically: PNG metadata carries no version or date, JSON keys are sorted,
so the same command twice gives byte-identical files.
"""

from pathlib import Path

import matplotlib.pyplot as plt

from homl_rl.io import atomic_write, read_json, write_json
from homl_rl.paths import FIGURES_DIR

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


def save_data(fig_id, data, out_dir=None):
    """Write the numbers behind a figure to ``<out_dir>/data/<fig_id>.json``."""
    return write_json(Path(out_dir or FIGURES_DIR) / "data" / f"{fig_id}.json", data)


def load_data(fig_id, out_dir=None):
    """Read back what :func:`save_data` wrote."""
    return read_json(Path(out_dir or FIGURES_DIR) / "data" / f"{fig_id}.json")


MACHINE_KEYS = ("stack", "kernels")
"""A data file's record of the machine that made it (its packages and CPU, its kernel class):
not a number of the figure."""


def same_numbers(made, committed):
    """Whether the data file ``made`` has every number of ``committed``, the machine it was made
    on aside (:data:`MACHINE_KEYS`)."""
    return ({key: made.get(key) for key in committed if key not in MACHINE_KEYS}
            == {key: value for key, value in committed.items() if key not in MACHINE_KEYS})
