"""Checks of section "Introduction to OpenAI Gym" (:mod:`homl_rl.environments`)."""

from homl_rl.crosscheck import hints
from homl_rl.crosscheck.checks.base import check, compare_result, random_cartpole_observations
from homl_rl.environments import basic_policy


@check("basic_policy", "basic_policy")
def check_basic_policy(ctx):
    observations = random_cartpole_observations(200)
    ours = [int(basic_policy(obs)) for obs in observations]
    theirs = ctx.call(ctx.latest("basic_policy", "def"), [([obs], {}) for obs in observations])
    swapped = [1 - action for action in ours]
    return compare_result("basic_policy", ours, theirs["results"],
                          [(hints.BASIC_POLICY_SWAPPED, swapped)])
