"""The hint catalogue: the known mistakes, what each one is made of, and what to tell the reader.

A check computes the output of each known mistake from a mutated copy of our own code
(:mod:`homl_rl.crosscheck.mutate`); a reader whose output equals one gets its hint. The
mutations are written here as ``(old expression, new expression)`` pairs on our source.

Each :class:`Mistake` also says where readers were seen making it (an issue or a pull
request) or which text of the chapter it contradicts: :data:`CATALOGUE` lists them all.
"""

from typing import NamedTuple

NOTEBOOK = "https://github.com/ageron/handson-ml3/blob/main/18_reinforcement_learning.ipynb"
"""the book's notebook for the chapter, whose text and code a hint may cite"""


class Mistake(NamedTuple):
    """A known mistake: what to tell the reader, where readers made it, how to make it from our code."""
    hint: str
    citation: str
    """an issue or pull request URL where readers made it, or ``chapter text: ...``"""
    mutation: tuple = ()
    """``(old expression, new expression)`` in our function's source, if it is made that way
    (a mistake that moves a line: a tuple of such pairs, replaced in order)"""

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

DISCOUNT_PER_STEP = Mistake(
    "each step's return sums the rewards that *follow* it, discounted (r_t + γ·r_{t+1} + "
    "γ²·r_{t+2} + ...), not r_t·γ^t",
    "https://github.com/hunkim/ReinforcementZeroToAll/issues/1 (the same mistake); chapter text: "
    "rewards 10, 0, -50 with a discount factor of 0.8 give -22, -40, -50")
NOT_CENTRED = Mistake(
    "the discounted rewards are divided by their standard deviation but not centred: subtract "
    "the mean first, (discounted - mean) / std",
    "https://github.com/keon/policy-gradient/issues/5 (the same mistake); chapter text: 'we "
    "subtract the mean from each discounted reward, and divide by the standard deviation'",
    ("(discounted_rewards - reward_mean) / reward_std", "discounted_rewards / reward_std"))
ACTION_SAMPLED_REVERSED = Mistake(
    "the model outputs the probability of going *left* (action 0): action = "
    "(tf.random.uniform([1, 1]) > left_proba), so that it is 0 with probability left_proba",
    f"chapter text ({NOTEBOOK}): 'action = (tf.random.uniform([1, 1]) > left_proba)', the "
    "network estimating the probability p of going left",
    ("tf.random.uniform([1, 1]) > left_proba", "tf.random.uniform([1, 1]) < left_proba"))

# --- Markov decision processes and Q-learning ----------------------------------------------

RUN_CHAIN_START_ROW = Mistake(
    "each transition is drawn from the *current* state's row: "
    "p=transition_probabilities[current_state], not the start state's",
    f"chapter text ({NOTEBOOK}): 'current_state = np.random.choice(range(len("
    "transition_probabilities)), p=transition_probabilities[current_state])'",
    ("transition_probabilities[current_state]", "transition_probabilities[start_state]"))
STEP_MOST_LIKELY = Mistake(
    "the next state is *sampled* from transition_probabilities[state][action] "
    "(np.random.choice([0, 1, 2], p=probas)), not the most likely one",
    f"chapter text ({NOTEBOOK}): 'in state s0, if action a0 is chosen then with proba 0.7 we "
    "will go to state s0 with reward +10, with probability 0.3 we will go to state s1'",
    ("np.random.choice(list(range(len(probas))), p=probas)", "np.argmax(probas)"))
EXPLORES_IMPOSSIBLE = Mistake(
    "explore among the *possible* actions of the state: "
    "np.random.choice(possible_actions[state]) (s1 has no a1, s2 only a1)",
    f"chapter text ({NOTEBOOK}): 'possible_actions = [[0, 1, 2], [0, 2], [1]]' and "
    "'-np.inf for impossible actions'",
    ("np.random.choice(possible_actions[state])", "np.random.randint(3)"))

# --- replay buffers ----------------------------------------------------------------------

SAMPLE_WITHOUT_REPLACEMENT = Mistake(
    "the notebook draws the batch *with* replacement: "
    "np.random.randint(len(replay_buffer), size=batch_size)",
    f"chapter text ({NOTEBOOK}): 'indices = np.random.randint(len(replay_buffer), "
    "size=batch_size)'",
    ("np.random.randint(len(replay_buffer), size=batch_size)",
     "np.random.choice(len(replay_buffer), size=batch_size, replace=False)"))
SAMPLE_OFF_BY_ONE = Mistake(
    "np.random.randint's high end is exclusive: randint(len(replay_buffer)) already covers "
    "every index (with len - 1 the newest experience is never replayed)",
    f"chapter text ({NOTEBOOK}): 'indices = np.random.randint(len(replay_buffer), "
    "size=batch_size)'",
    ("np.random.randint(len(replay_buffer), size=batch_size)",
     "np.random.randint(len(replay_buffer) - 1, size=batch_size)"))

# --- DQN ---------------------------------------------------------------------------------

EPSILON_TEST_REVERSED = ("the test is reversed: explore (random action) when "
                         "np.random.rand() < epsilon")
EPSILON_TEST_REVERSED_MUTATION = ("np.random.rand() < epsilon", "np.random.rand() > epsilon")
ARGMIN = "the greedy action is the one with the *largest* Q-value (argmax)"
EPSILON_RANDN = Mistake(
    "explore with probability epsilon: compare epsilon with np.random.rand() (uniform in "
    "[0, 1)), not np.random.randn() (normal)",
    f"chapter text ({NOTEBOOK}): 'we choose a random action with probability epsilon': "
    "'if np.random.rand() < epsilon'",
    ("np.random.rand() < epsilon", "np.random.randn() < epsilon"))
EPSILON_GREEDY_MISTAKES = [EPSILON_RANDN]
"""the mistakes of our ``epsilon_greedy_policy`` tried after the two above, in order"""

DUELING_MEAN = ("the book subtracts the *max* advantage (tf.reduce_max), so the best action's "
                "Q-value equals the state value")
DUELING_MEAN_MUTATION = ("tf.reduce_max", "tf.reduce_mean")
DUELING_NOT_SUBTRACTED = "subtract the max advantage: Q = V + (A - max A)"
DUELING_NOT_SUBTRACTED_MUTATION = (
    "raw_advantages - tf.reduce_max(raw_advantages, axis=1, keepdims=True)", "raw_advantages")
DUELING_MAX_OVER_BATCH = Mistake(
    "the max advantage is taken over each state's *actions* (axis=1, keepdims=True), not over "
    "the batch (axis=0)",
    "https://github.com/keras-rl/keras-rl/pull/239 and "
    "https://github.com/PacktPublishing/Deep-Reinforcement-Learning-Hands-On/issues/6 (the same "
    "mistake, with the mean); chapter text: 'tf.reduce_max(raw_advantages, axis=1, keepdims=True)'",
    ("tf.reduce_max(raw_advantages, axis=1, keepdims=True)",
     "tf.reduce_max(raw_advantages, axis=0, keepdims=True)"))

MAX_OVER_BATCH = Mistake(
    "the best next Q-value is the max over each next state's actions, "
    "next_Q_values.max(axis=1), not the max over the whole batch",
    "https://github.com/keras-rl/keras-rl/pull/239 (the same mistake in a DQN's reduction: "
    "over the whole batch instead of per sample); chapter text: "
    "'max_next_Q_values = next_Q_values.max(axis=1)'",
    ("next_Q_values.max(axis=1)", "next_Q_values.max()"))
COLUMN_SHAPES = Mistake(
    "target_Q_values and Q_values must both be columns, shape (batch, 1) "
    "(target_Q_values.reshape(-1, 1); reduce_sum(..., axis=1, keepdims=True)): a (batch,) "
    "against a (batch, 1) broadcasts to (batch, batch) and the loss mixes every target with "
    "every Q-value",
    f"chapter text ({NOTEBOOK}): 'target_Q_values = target_Q_values.reshape(-1, 1)' and "
    "'Q_values = tf.reduce_sum(all_Q_values * mask, axis=1, keepdims=True)'",
    ("target_Q_values.reshape(-1, 1)", "target_Q_values"))
NOT_DISCOUNTED_TARGET = Mistake(
    "the next state's Q-value is discounted: target = reward + discount_factor · max Q(s', a')",
    "chapter text (Equation 18-7, the target Q-value): y(s, a) = r + γ · max_a' Q(s', a')",
    ("rewards + runs * self.discount_factor * max_next_Q_values",
     "rewards + runs * max_next_Q_values"))


# --- training loops (run rows) --------------------------------------------------------------

LOOP_TRAINS_FROM_START = Mistake(
    "training starts after episode 50 (if episode > 50: training_step(batch_size)), once the "
    "replay buffer has filled up, not at the first episode",
    f"chapter text ({NOTEBOOK}, the DQN's training loop): 'if episode > 50: "
    "training_step(batch_size)'",
    ("episode > config.training_starts_after", "True"))
LOOP_EPSILON_FAST = Mistake(
    "epsilon decays from 1 to 0.01 over 500 episodes: epsilon = max(1 - episode / 500, 0.01)",
    f"chapter text ({NOTEBOOK}, the DQN's training loop): 'epsilon = max(1 - episode / 500, "
    "0.01)'",
    ("1 - episode / self.epsilon_decay_episodes", "1 - episode / 50"))
LOOP_TARGET_EVERY_EPISODE = Mistake(
    "the target network is a copy of the model made every 50 episodes (if episode % 50 == 0: "
    "target.set_weights(model.get_weights())), not after every training step: its Q-value "
    "targets stay fixed between two copies",
    f"chapter text ({NOTEBOOK}, the fixed Q-value targets' training loop): 'if episode % 50 "
    "== 0: target.set_weights(model.get_weights())'",
    ("episode % config.target_update_period == 0", "True"))
# (The target never copied is no hint: its run departs from ours only after the first copy,
# at episode 100, past the DQN's default budget, checks.runs.RUN_EPISODES: see its test.)
LOOP_HYPERPARAMETER = Mistake(
    "your {name} is {theirs!r}; the notebook's is {ours!r}",
    f"chapter text ({NOTEBOOK}, the DQN's cells): 'batch_size = 32', 'discount_factor = 0.95'")
"""(a template: ``hint.format(name=..., theirs=..., ours=...)``; no mutation of our source:
the run is our loop with the reader's value in its config)"""
LOOP_NO_LEARNING_RATE_DECAY = Mistake(
    "the learning rate decays with the iterations: alpha = alpha0 / (1 + iteration * decay)",
    f"chapter text ({NOTEBOOK}, the Q-learning loop): 'alpha = alpha0 / (1 + iteration * "
    "decay)', with decay = 0.005",
    ("alpha0 / (1 + iteration * decay)", "alpha0"))
LOOP_NEXT_VALUE_ARGMAX = Mistake(
    "the next state's value is its best Q-value, Q_values[next_state].max(), not the index of "
    "its best action (argmax)",
    f"chapter text ({NOTEBOOK}, the Q-learning loop): 'next_value = "
    "Q_values[next_state].max()  # greedy policy at the next step'",
    ("Q_values[next_state].max()", "Q_values[next_state].argmax()"))
LOOP_TRAINS_EVERY_STEP = Mistake(
    "one training step per episode, after its steps: the if episode > 50: training_step("
    "batch_size) block belongs after the `for step` loop, not inside it",
    f"chapter text ({NOTEBOOK}, the DQN's training loop): the step loop ends at 'if done or "
    "truncated: break', then, once per episode, 'if episode > 50: training_step(batch_size)'",
    (("train_after_episode(agent, episode, config)", "None"),
     ("agent.play_one_step(env, obs, epsilon)",
      "(agent.play_one_step(env, obs, epsilon), train_after_episode(agent, episode, config))[0]")))
"""(a moved line: the end of the episode, :func:`homl_rl.dqn.train_after_episode`, called after
each step's ``play_one_step`` in :func:`homl_rl.dqn.train` instead of after the step loop)"""
LOOP_RESET_UNSEEDED = Mistake(
    "each episode starts with env.reset(seed=episode): the 500 episodes are then the same "
    "whatever ran before, and the same for every policy compared on them",
    f"chapter text ({NOTEBOOK}, the basic policy's episodes): 'obs, info = "
    "env.reset(seed=episode)'",
    ("env.reset(seed=episode)", "env.reset()"))
LOOP_RESET_SAME_SEED = Mistake(
    "each episode is reset with its own seed, env.reset(seed=episode): with one seed for all, "
    "every episode starts in the same state, and a deterministic policy plays the same "
    "episode 500 times",
    f"chapter text ({NOTEBOOK}, the basic policy's episodes): 'obs, info = "
    "env.reset(seed=episode)'",
    ("env.reset(seed=episode)", "env.reset(seed=42)"))
LOOP_RAW_REWARDS = Mistake(
    "each step's gradients are weighted by its discounted and normalized return "
    "(all_final_rewards = discount_and_normalize_rewards(all_rewards, discount_factor)), "
    "not by its raw reward",
    f"chapter text ({NOTEBOOK}, the policy gradients' training loop): 'all_final_rewards = "
    "discount_and_normalize_rewards(all_rewards, discount_factor)'",
    ("discount_and_normalize_rewards(all_rewards, config.discount_factor)", "all_rewards"))
LOOP_GRADIENTS_NEGATED = Mistake(
    "no minus sign: the loss is the cross-entropy with the action taken as its target, so "
    "applying final_reward * grads makes the actions with a positive final reward more likely",
    f"chapter text ({NOTEBOOK}, the policy gradients' training loop): 'final_reward * "
    "all_grads[episode_index][step][var_index]', then "
    "'optimizer.apply_gradients(zip(all_mean_grads, model.trainable_variables))'",
    ("final_rewards.reshape((-1,) + (1,) * (grads.ndim - 1)) * grads",
     "-final_rewards.reshape((-1,) + (1,) * (grads.ndim - 1)) * grads"))


class TrainingStepMistake(NamedTuple):
    """A known mistake in a variant's ``training_step``: our agent, with a method mutated."""
    hint: str
    online_next_q: bool = False
    """the mistake starts from the agent whose next Q-values come from the online model (the
    chapter's DQN's), not from the checked variant's agent"""
    method: str = None
    """the agent method to mutate (``None``: none, the agent class alone is the mistake)"""
    mutation: tuple = ()
    """``(old expression, new expression)`` in that method's source"""


BOOTSTRAP_MASK = "1.0 - (dones | truncateds)"
_RUNS_MISTAKES = [
    TrainingStepMistake("missing (dones | truncateds) mask: the target Q-value of a final step "
                        "must be the reward alone (runs = 1.0 - (dones | truncateds))",
                        method="training_step", mutation=(BOOTSTRAP_MASK, "1.0")),
    TrainingStepMistake("truncated episodes must stop the bootstrap too: "
                        "runs = 1.0 - (dones | truncateds), not 1.0 - dones",
                        method="training_step", mutation=(BOOTSTRAP_MASK, "1.0 - dones")),
]
_SHARED_MISTAKES = [
    TrainingStepMistake(COLUMN_SHAPES.hint, method="training_step", mutation=COLUMN_SHAPES.mutation),
    TrainingStepMistake(NOT_DISCOUNTED_TARGET.hint, method="training_step",
                        mutation=NOT_DISCOUNTED_TARGET.mutation),
]
_MAX_OVER_BATCH = TrainingStepMistake(MAX_OVER_BATCH.hint, method="max_next_Q_values",
                                      mutation=MAX_OVER_BATCH.mutation)
_TARGET_PICKS_ACTION = TrainingStepMistake(
    "target network used to pick the action in Double DQN: the online model picks the best "
    "next action (argmax), the target evaluates it", method="max_next_Q_values",
    mutation=("self.predict(self.model, next_states)", "self.predict(self.target, next_states)"))
# (Fixed Q-value targets typed as Double DQN, the target's own best Q-value, computes exactly
# what "the target picks the action" computes: one hint covers both.)
_ONLINE_NEXT_Q = TrainingStepMistake("the next Q-values come from the online model: use "
                                     "target.predict (fixed Q-value targets)", online_next_q=True)


def training_step_mistakes(variant):
    """The known ``training_step`` mistakes of a chapter variant (a row of
    :data:`homl_rl.variants.VARIANTS`), in the order their hints are tried, from what the
    variant is: with Double DQN, the target picking the action; otherwise the maximum taken
    over the batch, and with a target network, the online model's next Q-values; and, for
    every variant, the bootstrap mask and the shared mistakes."""
    if variant.double_dqn:
        return [_TARGET_PICKS_ACTION] + _RUNS_MISTAKES + _SHARED_MISTAKES
    online = [_ONLINE_NEXT_Q] if variant.target_network else []
    return online + _RUNS_MISTAKES + [_MAX_OVER_BATCH] + _SHARED_MISTAKES


CATALOGUE = {name: value for name, value in globals().items() if isinstance(value, Mistake)}
"""every :class:`Mistake` with its citation, by name"""
