"""Section "Using TF-Agents" (2nd edition) and the TF-Agents DQN tutorial.

- :mod:`.environments`: the Gymnasium → TF-Agents adapter (:class:`GymnasiumEnvironment`,
  :func:`load`) and the 2nd edition's custom environment (:class:`MyEnvironment`);
- :mod:`.cartpole`: the TF-Agents DQN tutorial on CartPole, all of it;
- :mod:`.breakout`: the 2nd edition's "Using TF-Agents to Beat Breakout".

The comparison of TF-Agents' DQN with our Keras DQNs is an experiment over this section and
the chapter's: :mod:`homl_rl.experiments.compare`.

TF-Agents itself is imported by these modules (TensorFlow first, through
:mod:`homl_rl.tf_setup`). Its ``tf_agents.environments`` package imports the old
``gym`` package for its ``suite_gym``, and ``gym`` prints a notice urging to move
to Gymnasium; nothing here uses ``gym``, so that notice is kept off stderr.
"""

import contextlib
import io

from homl_rl.tf_setup import tf  # noqa: F401  (TensorFlow first)

with contextlib.redirect_stderr(io.StringIO()):  # the old gym's "unmaintained" notice
    import tf_agents.environments  # noqa: F401

from homl_rl.tf_agents_pipeline.environments import (
    GymnasiumEnvironment, MyEnvironment, load, spec_from_space, validate)
from homl_rl.tf_agents_pipeline.cartpole import (
    TutorialConfig, TutorialPipeline, compute_avg_return, run_tutorial)
from homl_rl.tf_agents_pipeline.breakout import BreakoutPipeline, TFAgentsBreakoutConfig

__all__ = ["GymnasiumEnvironment", "MyEnvironment", "load", "spec_from_space", "validate",
           "TutorialConfig", "TutorialPipeline", "compute_avg_return", "run_tutorial",
           "TFAgentsBreakoutConfig", "BreakoutPipeline"]
