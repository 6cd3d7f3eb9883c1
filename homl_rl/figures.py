"""The registry of every figure and animation of the chapter.

Each id maps to one function ``make(out_dir)`` that computes the figure's data and
draws it. The function lives in the module of the section it draws, registered
with :func:`register`; this module only knows which section modules to import.
"""

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SECTION_MODULES = (
    "homl_rl.environments",
    "homl_rl.nn_policy",
    "homl_rl.policy_gradients",
    "homl_rl.markov",
    "homl_rl.dqn",
    "homl_rl.bandits",
    "homl_rl.studies",
    "homl_rl.atari",
    "homl_rl.breakout",
    "homl_rl.tf_agents_pipeline",
)
"""Section modules that register figures (imported on first use of the registry)."""


@dataclass(frozen=True)
class FigureSpec:
    """One figure or animation: its id, what it shows, and the function that makes it."""
    fig_id: str
    description: str
    kind: str
    """``"figure"`` (a PNG) or ``"animation"`` (a GIF)"""
    make: Callable[[Path], None]
    long_run: bool = False
    """made only when asked for (``--long`` or ``--only ID``): it needs hours of training,
    and the committed file comes from that run"""


FIGURES = {}


def register(fig_id, description, kind="figure", long_run=False):
    """Decorator registering ``make(out_dir)`` under ``fig_id`` (``long_run``: hours to make)."""
    if kind not in ("figure", "animation"):
        raise ValueError(f"kind must be 'figure' or 'animation', got {kind!r}")

    def decorator(make):
        if fig_id in FIGURES and FIGURES[fig_id].make is not make:
            raise ValueError(f"figure id {fig_id!r} is registered twice")
        FIGURES[fig_id] = FigureSpec(fig_id, description, kind, make, long_run)
        return make

    return decorator


def all_figures():
    """Every registered figure, in the chapter's order."""
    for module in SECTION_MODULES:
        importlib.import_module(module)
    return dict(FIGURES)


class UnknownFigureError(ValueError):
    """Raised for a figure id that is not registered."""


def select_figures(ids=None, long_runs=False):
    """The specs for ``ids``, or an error listing the valid ids.

    Without ``ids``: every figure but the long runs, or (``long_runs``) the long runs only.
    """
    figures = all_figures()
    if not ids:
        return [spec for spec in figures.values() if spec.long_run == long_runs]
    unknown = [fig_id for fig_id in ids if fig_id not in figures]
    if unknown:
        raise UnknownFigureError(
            f"unknown figure id(s): {', '.join(unknown)}; valid ids: {', '.join(figures)}")
    return [figures[fig_id] for fig_id in dict.fromkeys(ids)]


def make_figures(ids=None, out_dir=None, progress=True, long_runs=False):
    """Regenerate the figures ``ids`` (by default all but the long runs, or with
    ``long_runs`` the long runs only) into ``out_dir``; return their specs."""
    import matplotlib.pyplot as plt

    from homl_rl.plotting import FIGURES_DIR, use_book_style
    from homl_rl.progress import progress_bar

    specs = select_figures(ids, long_runs)
    out_dir = Path(out_dir or FIGURES_DIR)
    use_book_style()
    bar = progress_bar(specs, desc="figures", progress=progress, unit="fig")
    for spec in bar:
        bar.set_postfix_str(spec.fig_id)
        spec.make(out_dir)
        plt.close("all")
    return specs
