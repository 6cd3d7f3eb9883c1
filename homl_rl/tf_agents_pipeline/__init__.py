"""Section "Using TF-Agents" (2nd edition) and the TF-Agents DQN tutorial (``seeds/004_…``).

- :mod:`.environments`: the Gymnasium → TF-Agents adapter (:class:`GymnasiumEnvironment`,
  :func:`load`) and the 2nd edition's custom environment (:class:`MyEnvironment`);
- :mod:`.cartpole`: the TF-Agents DQN tutorial on CartPole, all of it;
- :mod:`.breakout`: the 2nd edition's "Using TF-Agents to Beat Breakout".

TF-Agents itself is imported by these modules (TensorFlow first, through
:mod:`homl_rl.tf_setup`). Its ``tf_agents.environments`` package imports the old
``gym`` package for its ``suite_gym``, which prints a notice; nothing here uses it.
"""

from homl_rl.tf_agents_pipeline.environments import (
    GymnasiumEnvironment, MyEnvironment, load, spec_from_space, validate)
from homl_rl.tf_agents_pipeline.cartpole import (
    TutorialConfig, TutorialPipeline, compute_avg_return, run_tutorial)
from homl_rl.tf_agents_pipeline.breakout import BreakoutConfig, BreakoutPipeline

__all__ = ["GymnasiumEnvironment", "MyEnvironment", "load", "spec_from_space", "validate",
           "TutorialConfig", "TutorialPipeline", "compute_avg_return", "run_tutorial",
           "BreakoutConfig", "BreakoutPipeline"]
