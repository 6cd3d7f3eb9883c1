"""The hint catalogue: the known mistakes, what each one is made of, and what to tell the reader.

A check computes the output of each known mistake from a mutated copy of our own code
(:mod:`homl_rl.crosscheck.mutate`); a reader whose output equals one gets its hint. The
mutations are written here as ``(old expression, new expression)`` pairs on our source.
"""

from typing import NamedTuple

# --- environments ------------------------------------------------------------------------

BASIC_POLICY_SWAPPED = ("the actions are swapped: push left (0) when the pole tilts left "
                        "(angle < 0)")

# --- policy gradients --------------------------------------------------------------------

DISCOUNT_FORWARD = ("the discount is applied in the wrong direction: each step gets the "
                    "*future* rewards (loop from the last step backwards)")
NOT_DISCOUNTED = "the rewards are not discounted (discount_factor ignored)"
NORMALIZED_PER_EPISODE = ("normalised per episode: use the mean and standard deviation over "
                          "*all* episodes' discounted rewards (np.concatenate them first)")
NOT_DIVIDED_BY_STD = ("the discounted rewards are centred but not divided by their standard "
                      "deviation")
NOT_DIVIDED_BY_STD_MUTATION = ("(discounted_rewards - reward_mean) / reward_std",
                               "discounted_rewards - reward_mean")
ACTION_AS_TARGET = "y_target is the probability of going left: 1 - action, not action"
ACTION_AS_TARGET_MUTATION = ("tf.constant([[1.]]) - tf.cast(action, tf.float32)",
                             "tf.cast(action, tf.float32)")

# --- DQN ---------------------------------------------------------------------------------

EPSILON_TEST_REVERSED = ("the test is reversed: explore (random action) when "
                         "np.random.rand() < epsilon")
EPSILON_TEST_REVERSED_MUTATION = ("np.random.rand() < epsilon", "np.random.rand() > epsilon")
ARGMIN = "the greedy action is the one with the *largest* Q-value (argmax)"

DUELING_MEAN = ("the book subtracts the *max* advantage (tf.reduce_max), so the best action's "
                "Q-value equals the state value")
DUELING_MEAN_MUTATION = ("tf.reduce_max", "tf.reduce_mean")
DUELING_NOT_SUBTRACTED = "subtract the max advantage: Q = V + (A - max A)"
DUELING_NOT_SUBTRACTED_MUTATION = (
    "raw_advantages - tf.reduce_max(raw_advantages, axis=1, keepdims=True)", "raw_advantages")


class TrainingStepMistake(NamedTuple):
    """A known mistake in a variant's ``training_step``: our agent, with a method mutated."""
    hint: str
    agent: str = None
    """the variant whose agent class the mistake starts from; ``None``: the checked one's"""
    method: str = None
    """the agent method to mutate (``None``: none, the agent class alone is the mistake)"""
    mutation: tuple = ()
    """``(old expression, new expression)`` in that method's source"""


RUNS = "1.0 - (dones | truncateds)"
_RUNS_MISTAKES = [
    TrainingStepMistake("missing (dones | truncateds) mask: the target Q-value of a final step "
                        "must be the reward alone (runs = 1.0 - (dones | truncateds))",
                        method="training_step", mutation=(RUNS, "1.0")),
    TrainingStepMistake("truncated episodes must stop the bootstrap too: "
                        "runs = 1.0 - (dones | truncateds), not 1.0 - dones",
                        method="training_step", mutation=(RUNS, "1.0 - dones")),
]
_DOUBLE_DQN_MISTAKES = [
    TrainingStepMistake("target network used to pick the action in Double DQN: the online "
                        "model picks the best next action (argmax), the target evaluates it",
                        method="max_next_Q_values",
                        mutation=("self.predict(self.model, next_states)",
                                  "self.predict(self.target, next_states)")),
] + _RUNS_MISTAKES

# (Fixed Q-value targets typed as Double DQN, the target's own best Q-value, computes exactly
# what "the target picks the action" computes: one hint covers both.)

TRAINING_STEP_MISTAKES = {
    "dqn": _RUNS_MISTAKES,
    "fixed_q_targets": [TrainingStepMistake("the next Q-values come from the online model: use "
                                            "target.predict (fixed Q-value targets)", agent="dqn")
                        ] + _RUNS_MISTAKES,
    "double_dqn": _DOUBLE_DQN_MISTAKES,
    "dueling_double_dqn": _DOUBLE_DQN_MISTAKES,
}
"""variant -> its known ``training_step`` mistakes, in the order their hints are tried"""
