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
"""the hyper-parameter studies' runs (:mod:`homl_rl.experiments.studies`), one JSON file a run"""

COMPARE_CACHE = CACHE / "compare"
"""the TF-Agents comparison's runs (:mod:`homl_rl.experiments.compare`)"""

MUZERO_RUNS = CACHE / "muzero"
"""the long MuZero runs' checkpoint folders, ``cartpole_seed<seed>`` (``make figures-long``,
and ``homl-rl muzero train --checkpoint-dir .cache/muzero/cartpole_seedS``)"""

BREAKOUT_TF_AGENTS_RUN = CACHE / "breakout_tf_agents"
"""the long TF-Agents Breakout run's checkpoint folder (``make figures-long``)"""

RUNS_DIR = Path("runs")
"""the command line's training runs, one folder each below"""

TF_AGENTS_TUTORIAL_OUT = RUNS_DIR / "tf_agents"
"""``homl-rl tf-agents``: the tutorial's plot, history and videos"""

BREAKOUT_TF_AGENTS_OUT = RUNS_DIR / "breakout_tf_agents"
"""``homl-rl breakout-tf-agents train``: its checkpoints and saved policy"""

BREAKOUT_OUT = RUNS_DIR / "breakout"
"""``homl-rl breakout train``: exercise 9's checkpoint"""

MUZERO_OUT = RUNS_DIR / "muzero"
"""``homl-rl muzero train``: the run's checkpoint"""

BREAKOUT_TF_AGENTS_GIF = Path("breakout_tf_agents.gif")
BREAKOUT_GIF = Path("breakout.gif")
MUZERO_GIF = Path("muzero_cartpole.gif")
"""``play``'s animations, in the working directory"""

COMPARE_RESULTS = Path("benchmarks/results_tf_agents_vs_keras_dqn.md")
"""``homl-rl compare``'s results table"""
