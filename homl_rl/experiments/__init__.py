"""The experiments: many runs of the sections' agents, and their results.

- :mod:`homl_rl.experiments.studies`: the DQN lecture's hyper-parameter studies and grid
  search, one :class:`Study` row each in :data:`STUDIES` (this module);
- :mod:`homl_rl.experiments.compare`: TF-Agents' DQN beside our Keras DQNs (the agents are
  rows of :data:`homl_rl.variants.VARIANTS`).

They return results (each run cached as it finishes, spread over processes or Ray tasks);
the figures are drawn by :mod:`homl_rl.figures`. This module holds the studies' table and
imports no TensorFlow: ``--help`` and listing the figures read it.
"""

from dataclasses import dataclass

import numpy as np

from homl_rl.checks import check_choice

CHAPTER_AGENT, LECTURE_AGENT = "chapter", "lecture"
"""Who a study trains: the chapter's fixed-Q-targets DQN (one training step per episode,
600 episodes a run), or lecture 003's own DQN (its studies' parameter set, 200 episodes)."""

AGENTS = {CHAPTER_AGENT: "the chapter's fixed-Q-targets DQN",
          LECTURE_AGENT: "lecture 003's own DQN (losses, rewards, score, episodes taken)"}
"""Each study agent, as the figures' descriptions name it."""


def _linspace(start, stop, num):
    """The lecture's grids: ``[int(i) for i in np.linspace(start, stop, num)]``."""
    return [int(i) for i in np.linspace(start, stop, num)]


@dataclass(frozen=True)
class Study:
    """One study: the parameters it varies over which values, with which agent and seeds, its
    quick grid (what ``make figures`` runs), and the named run and figure it makes."""
    name: str
    """its name on the command line (``homl-rl studies [--lecture] --parameter NAME``)"""
    agent: str
    """:data:`CHAPTER_AGENT` or :data:`LECTURE_AGENT`"""
    grid: dict
    """the full grid: each varied parameter (a config field of the agent) and its values"""
    seeds: tuple
    """the full grid's seeds"""
    quick_grid: dict
    """what ``make figures`` runs: a few values of each range"""
    quick_seeds: tuple
    run: str
    """its named run (:data:`homl_rl.runs.RUNS`), on the quick grid"""
    figure: str
    """its figure's id (:data:`homl_rl.figures.FIGURES`)"""
    label: str = None
    """a one-parameter study's axis label"""

    def __post_init__(self):
        check_choice("agent", self.agent, AGENTS)
        if not self.grid or set(self.quick_grid) != set(self.grid):
            raise ValueError(f"study {self.name!r}: the quick grid varies the full grid's "
                             f"parameters, got {list(self.quick_grid)} and {list(self.grid)}")
        if not self.seeds or not self.quick_seeds:
            raise ValueError(f"study {self.name!r} needs seeds")

    @property
    def parameter(self):
        """The one parameter a study varies; ``None`` for a grid search."""
        return next(iter(self.grid)) if len(self.grid) == 1 else None


STUDIES = [
    Study("replay_buffer_size", CHAPTER_AGENT, {"replay_buffer_size": _linspace(500, 100000, 7)},
          (0, 1, 2), {"replay_buffer_size": [500, 2000, 100000]}, (0, 1),
          "replay_buffer_size_study", "buffer_size_study_plot", "replay buffer capacity"),
    Study("target_update_period", CHAPTER_AGENT,
          {"target_update_period": _linspace(3, 200, 7)}, (0, 1, 2),
          {"target_update_period": [3, 50, 200]}, (0, 1),
          "target_update_period_study", "target_update_study_plot",
          "target update period (episodes)"),
    Study("batch_size", CHAPTER_AGENT, {"batch_size": _linspace(10, 1000, 7)}, (0, 1, 2),
          {"batch_size": [10, 32, 1000]}, (0, 1), "batch_size_study",
          "batch_size_study_plot", "batch size"),
    Study("buffer_capacity", LECTURE_AGENT, {"buffer_capacity": _linspace(500, 100000, 7)},
          (0, 1, 2), {"buffer_capacity": [500, 50250, 100000]}, (0,),
          "lecture_buffer_capacity_study", "lecture_buffer_capacity_study_plot",
          "buffer capacity"),
    Study("target_update_period", LECTURE_AGENT, {"target_update_period": _linspace(3, 200, 7)},
          (0, 1, 2), {"target_update_period": [3, 35, 200]}, (0,),
          "lecture_target_update_period_study", "lecture_target_update_study_plot",
          "update target every (episodes)"),
    Study("batch_size", LECTURE_AGENT, {"batch_size": _linspace(10, 1000, 7)}, (0, 1, 2),
          {"batch_size": [10, 340, 1000]}, (0,), "lecture_batch_size_study",
          "lecture_batch_size_study_plot", "batch size"),
    Study("grid_search", LECTURE_AGENT,
          {"buffer_capacity": _linspace(500, 100000, 4),
           "target_update_period": _linspace(3, 200, 4)}, (0, 1),
          {"buffer_capacity": [500, 100000], "target_update_period": [3, 200]}, (0,),
          "lecture_grid_search", "lecture_grid_search_plot"),
]
"""Every study, in the figures' order.

With the chapter's DQN, the lecture's three studies over the lecture's ranges
(``np.linspace(..., 7)`` each, 3 seeds; the target update period in episodes, as in the
chapter's and the lecture's loops); quick grids: each range's ends and the notebook's value,
2 seeds. With the lecture's agent, the same three studies over the same ranges, quick grids
of three values (each range's ends and its middle, or the value next to the lecture's 32
for the period, so the runs are shared with the full grid), seed 0; and the exercise's grid
search over buffer capacity x target-update period, 4 x 4 values (each range's ends and two
values between), 2 seeds, quick 2 x 2."""


def studies_of(agent):
    """The studies of ``agent`` (:data:`CHAPTER_AGENT` or :data:`LECTURE_AGENT`), by name."""
    check_choice("agent", agent, AGENTS)
    return {study.name: study for study in STUDIES if study.agent == agent}


def study_named(agent, name):
    """``agent``'s study ``name``, or a ``ValueError`` listing that agent's studies."""
    studies = studies_of(agent)
    return studies[check_choice("study", name, studies)]


def axis_label(agent, parameter):
    """The axis label of ``parameter`` in ``agent``'s figures (its one-parameter study's)."""
    return next(study.label for study in studies_of(agent).values()
                if study.parameter == parameter)


def add_study(study):
    """Add a row to :data:`STUDIES` (its name new for its agent, its run and figure ids new);
    return it. The figure registry and the named runs read the table when they are imported."""
    if not isinstance(study, Study):
        raise TypeError(f"add_study takes a Study, got {type(study).__name__}")
    for other in STUDIES:
        if (other.agent, other.name) == (study.agent, study.name):
            raise ValueError(f"{study.agent}'s study {study.name!r} is already in the table")
        if study.run in (other.run, other.figure) or study.figure in (other.run, other.figure):
            raise ValueError(f"study {study.name!r}: its run or figure id is taken")
    STUDIES.append(study)
    return study
