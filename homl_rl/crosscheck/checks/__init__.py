"""The checks, one module per section of the chapter, in the chapter's order.

Each module registers its checks with :func:`homl_rl.crosscheck.checks.base.check`;
:data:`CHECKS` lists them in the order of the report's rows. The modules import the
section modules they check, TensorFlow included.
"""

from homl_rl.crosscheck.checks import (  # noqa: F401 -- imported to register their checks
    dqn, environments, markov, policy_gradients, replay_buffers)
from homl_rl.crosscheck.checks.base import REGISTERED
from homl_rl.variants import CHAPTER_VARIANTS

ORDER = ["basic_policy", "discount_rewards", "discount_and_normalize_rewards", "run_chain",
         "MDP tables + Q-value iteration", "step (Q-learning)", "exploration_policy",
         "Q-learning (notebook's loop, your step and exploration_policy)",
         "sample_experiences", "ReplayBuffer", "epsilon_greedy_policy",
         *(f"training_step ({variant.title})" for variant in CHAPTER_VARIANTS.values()),
         "play_one_step (policy gradients)", "lander_play_one_step", "play_one_step (DQN)",
         "dueling Q-value formula"]
"""the report's rows: the chapter's order"""

CHECKS = {name: REGISTERED[name] for name in ORDER}
"""check name -> (book names it needs, function(context) -> CheckResult or list of them)"""
