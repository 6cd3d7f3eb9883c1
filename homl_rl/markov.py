"""Sections "Markov Decision Processes", Q-value iteration and Q-learning.

The Markov chain of Figure 18-7 and ``run_chain``; the MDP of Figure 18-8
(``transition_probabilities``, ``rewards``, ``possible_actions``); Q-value iteration
with the history Figure 18-9 needs; ``step``, ``exploration_policy`` and Q-learning
with the notebook's learning-rate decay. Random draws go through NumPy's global
generator, as in the notebook, so ``np.random.seed(42)`` gives the notebook's runs.
"""

import numpy as np

from homl_rl.checks import check_unit_interval

chain_transition_probabilities = [  # shape=[s, s']
    [0.7, 0.2, 0.0, 0.1],  # from s0 to s0, s1, s2, s3
    [0.0, 0.0, 0.9, 0.1],  # from s1 to s0, s1, s2, s3
    [0.0, 1.0, 0.0, 0.0],  # from s2 to s0, s1, s2, s3
    [0.0, 0.0, 0.0, 1.0]]  # from s3 to s0, s1, s2, s3
"""The Markov chain of Figure 18-7 (the notebook calls it ``transition_probabilities``)."""

terminal_states = [3]

transition_probabilities = [  # shape=[s, a, s']
    [[0.7, 0.3, 0.0], [1.0, 0.0, 0.0], [0.8, 0.2, 0.0]],
    [[0.0, 1.0, 0.0], None, [0.0, 0.0, 1.0]],
    [None, [0.8, 0.1, 0.1], None]
]
"""The MDP of Figure 18-8; ``None`` where an action is impossible."""

rewards = [  # shape=[s, a, s']
    [[+10, 0, 0], [0, 0, 0], [0, 0, 0]],
    [[0, 0, 0], [0, 0, 0], [0, 0, -50]],
    [[0, 0, 0], [+40, 0, 0], [0, 0, 0]]
]

possible_actions = [[0, 1, 2], [0, 2], [1]]


def check_probabilities(probas, where):
    """Raise unless ``probas`` is a probability distribution (non-negative, sums to 1)."""
    probas = np.asarray(probas, dtype=float)
    if probas.ndim != 1 or np.any(probas < 0) or not np.isclose(probas.sum(), 1.0):
        raise ValueError(f"{where} must be probabilities summing to 1, got {probas.tolist()}")


def check_mdp(transition_probabilities, rewards, possible_actions):
    """Raise if the MDP's tables disagree with each other or a row is not a distribution."""
    n_states = len(transition_probabilities)
    for s, actions in enumerate(possible_actions):
        for a in actions:
            probas = transition_probabilities[s][a]
            if probas is None:
                raise ValueError(f"action {a} is possible in state {s} but has no transition probabilities")
            check_probabilities(probas, f"transition_probabilities[{s}][{a}]")
            if len(probas) != n_states or len(rewards[s][a]) != n_states:
                raise ValueError(f"transition_probabilities[{s}][{a}] and rewards[{s}][{a}] "
                                 f"must have {n_states} entries (one per next state)")


def run_chain(start_state, transition_probabilities=chain_transition_probabilities,
              terminal_states=terminal_states, n_max_steps=1000):
    """Run the Markov chain from ``start_state``; return the states visited.

    The notebook's ``run_chain`` prints the states as it goes; this returns them
    (see :func:`format_chain` for the notebook's printout). It stops at a terminal
    state or after ``n_max_steps`` states.
    """
    for s, probas in enumerate(transition_probabilities):
        check_probabilities(probas, f"transition_probabilities[{s}]")
    n_states = len(transition_probabilities)
    current_state = start_state
    states = []
    for step in range(n_max_steps):
        states.append(current_state)
        if current_state in terminal_states:
            break
        current_state = np.random.choice(
            range(n_states),
            p=transition_probabilities[current_state]
        )
    return [int(state) for state in states]


def format_chain(states, terminal_states=terminal_states):
    """One line as the notebook prints it: the states, and ``...`` if no terminal state was reached."""
    text = "".join(f"{state} " for state in states)
    return text if states and states[-1] in terminal_states else text + "..."


def run_chains(n_runs=10, start_state=0, seed=42):
    """The notebook's cell: ``np.random.seed(42)`` then ten runs from state 0, as printed lines."""
    np.random.seed(seed)
    return [f"Run #{idx + 1}: " + format_chain(run_chain(start_state))
            for idx in range(n_runs)]


def initial_q_values(possible_actions=possible_actions):
    """``-inf`` for impossible actions, 0 for possible ones."""
    n_actions = max(max(actions) for actions in possible_actions) + 1
    Q_values = np.full((len(possible_actions), n_actions), -np.inf)  # -np.inf for impossible actions
    for state, actions in enumerate(possible_actions):
        Q_values[state, actions] = 0.0  # for all possible actions
    return Q_values


def q_value_iteration(gamma=0.90, n_iterations=50, transition_probabilities=transition_probabilities,
                      rewards=rewards, possible_actions=possible_actions):
    """Q-value iteration as in the notebook; returns ``(Q_values, history)``.

    ``history[i]`` is the table before iteration ``i`` (the notebook's ``history1``).
    """
    check_unit_interval("gamma (the discount factor)", gamma)
    check_mdp(transition_probabilities, rewards, possible_actions)
    n_states = len(transition_probabilities)
    Q_values = initial_q_values(possible_actions)
    history = []
    for iteration in range(n_iterations):
        Q_prev = Q_values.copy()
        history.append(Q_prev)
        for s in range(n_states):
            for a in possible_actions[s]:
                Q_values[s, a] = np.sum([
                    transition_probabilities[s][a][sp]
                    * (rewards[s][a][sp] + gamma * Q_prev[sp].max())
                    for sp in range(n_states)])
    return Q_values, np.array(history)


def step(state, action, transition_probabilities=transition_probabilities, rewards=rewards):
    """Perform ``action`` in ``state``; return ``(next_state, reward)`` (the notebook's ``step``)."""
    probas = transition_probabilities[state][action]
    if probas is None:
        raise ValueError(f"action {action} is not possible in state {state}")
    next_state = np.random.choice(list(range(len(probas))), p=probas)
    reward = rewards[state][action][next_state]
    return next_state, reward


def exploration_policy(state, possible_actions=possible_actions):
    """A random possible action (the notebook's exploration policy)."""
    return np.random.choice(possible_actions[state])


def q_learning(n_iterations=10_000, alpha0=0.05, decay=0.005, gamma=0.90, seed=42,
               transition_probabilities=transition_probabilities, rewards=rewards,
               possible_actions=possible_actions):
    """Q-learning as in the notebook's cell; returns ``(Q_values, history)``.

    ``np.random.seed(seed)`` first, the learning rate ``alpha0 / (1 + iteration * decay)``,
    a random exploration policy from state 0. ``history[i]`` is the table before
    iteration ``i`` (the notebook's ``history2``).
    """
    check_unit_interval("gamma (the discount factor)", gamma)
    check_mdp(transition_probabilities, rewards, possible_actions)
    if alpha0 <= 0 or decay < 0:
        raise ValueError(f"alpha0 must be > 0 and decay >= 0, got {alpha0} and {decay}")
    np.random.seed(seed)
    Q_values = initial_q_values(possible_actions)
    state = 0  # initial state
    history = []
    for iteration in range(n_iterations):
        history.append(Q_values.copy())
        action = exploration_policy(state, possible_actions)
        next_state, reward = step(state, action, transition_probabilities, rewards)
        next_value = Q_values[next_state].max()  # greedy policy at the next step
        alpha = alpha0 / (1 + iteration * decay)
        Q_values[state, action] *= 1 - alpha
        Q_values[state, action] += alpha * (reward + gamma * next_value)
        state = next_state
    return Q_values, np.array(history)
