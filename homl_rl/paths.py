"""Every folder homl_rl writes to by default, relative to the working directory.

Each function that reads or writes one of these takes its folder as an argument; these
are the defaults its callers (the command line, the figure registry, the named runs) pass.
"""

from pathlib import Path

FIGURES_DIR = Path("figures")
"""the figures and animations, and ``data/<id>.json`` beside them (``make figures``; the
notebook's ``IMAGES_PATH``)"""

CACHE = Path(".cache")
"""every cache below: delete it to train everything again"""

RUNS_CACHE = CACHE / "runs"
"""the named runs of :mod:`homl_rl.runs` (``<name>/<key>.json`` and ``.npz``)"""

STUDIES_CACHE = CACHE / "studies"
"""the hyper-parameter studies' runs (:mod:`homl_rl.studies`), one JSON file a run"""

COMPARE_CACHE = CACHE / "compare"
"""the TF-Agents comparison's runs (:mod:`homl_rl.tf_agents_pipeline.compare`)"""

MUZERO_RUNS = CACHE / "muzero"
"""the long MuZero runs' checkpoint folders, ``cartpole_seed<seed>`` (``make figures-long``,
and ``homl-rl muzero train --checkpoint-dir .cache/muzero/cartpole_seedS``)"""

BREAKOUT_TF_AGENTS_RUN = CACHE / "breakout_tf_agents"
"""the long TF-Agents Breakout run's checkpoint folder (``make figures-long``)"""
