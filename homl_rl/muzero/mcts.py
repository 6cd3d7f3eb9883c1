"""MuZero's Monte Carlo tree search over the learned model (one player).

Each simulation walks down the tree from the root by the pUCT score (:meth:`MCTS.ucb_scores`),
expands the leaf it reaches with one call of the dynamics and prediction functions, and
backs the leaf's value up the path, discounted and plus each node's reward
(:meth:`MCTS.backpropagate`). Q-values are normalised to [0, 1] by the smallest and largest
values seen in this tree (:class:`MinMaxStats`). The root's priors get Dirichlet noise for
exploration; the move is then drawn from the root's visit counts with a temperature
(:func:`select_action`). All randomness comes from the NumPy ``Generator`` passed in.
"""

import math

import numpy as np

from homl_rl.muzero.networks import softmax


class MinMaxStats:
    """The smallest and largest values seen in a tree, to normalise Q-values to [0, 1]."""

    def __init__(self):
        self.maximum = -math.inf
        self.minimum = math.inf

    def update(self, value):
        self.maximum = max(self.maximum, value)
        self.minimum = min(self.minimum, value)

    def normalize(self, value):
        """``value`` scaled to [0, 1] by the bounds seen so far (unchanged before two differ)."""
        if self.maximum > self.minimum:
            return (value - self.minimum) / (self.maximum - self.minimum)
        return value


class Node:
    """A node of the search tree: its prior, visit count, value sum, the reward of the move
    into it, its hidden state and children (``{action: Node}``) once expanded."""

    def __init__(self, prior):
        self.visit_count = 0
        self.prior = prior
        self.value_sum = 0.0
        self.children = {}
        self.hidden_state = None
        self.reward = 0.0

    def expanded(self):
        return len(self.children) > 0

    def value(self):
        """The mean backed-up value (0 before any visit)."""
        return 0.0 if self.visit_count == 0 else self.value_sum / self.visit_count

    def expand(self, actions, reward, policy_logits, hidden_state):
        """Give the node its reward and hidden state, and a child per action whose prior is
        the softmax of the policy logits over ``actions``."""
        self.reward, self.hidden_state = reward, hidden_state
        priors = softmax(np.asarray(policy_logits)[list(actions)])
        for action, prior in zip(actions, priors):
            self.children[action] = Node(float(prior))

    def add_exploration_noise(self, dirichlet_alpha, exploration_fraction, rng):
        """Mix Dirichlet(``dirichlet_alpha``) noise into the children's priors."""
        actions = list(self.children)
        noise = rng.dirichlet([dirichlet_alpha] * len(actions))
        for action, n in zip(actions, noise):
            child = self.children[action]
            child.prior = child.prior * (1 - exploration_fraction) + n * exploration_fraction


class MCTS:
    """The tree search of ``config`` (``num_simulations``, ``discount``, pUCT constants, root noise)."""

    def __init__(self, config):
        self.config = config

    def run(self, model, observation, legal_actions, add_exploration_noise, rng,
            action_space=None):
        """Search from ``observation``; return ``(root, info)`` (``info``: the tree's maximum
        depth and the root's predicted value). ``model`` has ``initial_inference`` and
        ``recurrent_inference`` (:class:`~homl_rl.muzero.networks.NumpyInference`);
        inner nodes get a child per action of ``action_space`` (default: ``legal_actions``)."""
        legal_actions = list(legal_actions)
        if not legal_actions:
            raise ValueError("legal_actions must not be empty")
        action_space = legal_actions if action_space is None else list(action_space)
        root = Node(0.0)
        root_value, reward, policy_logits, hidden_state = model.initial_inference(observation)
        root.expand(legal_actions, reward, policy_logits, hidden_state)
        if add_exploration_noise:
            root.add_exploration_noise(self.config.root_dirichlet_alpha,
                                       self.config.root_exploration_fraction, rng)
        min_max_stats = MinMaxStats()
        max_tree_depth = 0
        for _ in range(self.config.num_simulations):
            node, search_path = root, [root]
            while node.expanded():
                action, node = self.select_child(node, min_max_stats, rng)
                search_path.append(node)
            parent = search_path[-2]
            value, reward, policy_logits, hidden_state = model.recurrent_inference(
                parent.hidden_state, action)
            node.expand(action_space, reward, policy_logits, hidden_state)
            self.backpropagate(search_path, value, min_max_stats)
            max_tree_depth = max(max_tree_depth, len(search_path) - 1)
        return root, {"max_tree_depth": max_tree_depth, "root_predicted_value": root_value}

    def select_child(self, node, min_max_stats, rng):
        """``(action, child)`` of the highest pUCT score (ties broken at random)."""
        actions = list(node.children)
        scores = self.ucb_scores(node, min_max_stats)
        best = max(scores)
        candidates = [a for a, score in zip(actions, scores) if score == best]
        action = candidates[0] if len(candidates) == 1 else candidates[rng.integers(len(candidates))]
        return action, node.children[action]

    def ucb_scores(self, parent, min_max_stats):
        """pUCT of each child: ``prior * c * sqrt(N_parent) / (1 + N_child)`` with
        ``c = log((N_parent + pb_c_base + 1) / pb_c_base) + pb_c_init``, plus the child's
        normalised ``reward + discount * value`` once it has been visited."""
        config, discount = self.config, self.config.discount
        pb_c = ((math.log((parent.visit_count + config.pb_c_base + 1) / config.pb_c_base)
                 + config.pb_c_init) * math.sqrt(parent.visit_count))
        return [pb_c * child.prior / (child.visit_count + 1)
                + (min_max_stats.normalize(child.reward + discount * child.value())
                   if child.visit_count > 0 else 0.0)
                for child in parent.children.values()]

    def backpropagate(self, search_path, value, min_max_stats):
        """Add ``value`` (the leaf's) to each node of the path, leaf first; above a node the
        value becomes ``node.reward + discount * value``."""
        discount = self.config.discount
        for node in reversed(search_path):
            node.value_sum += value
            node.visit_count += 1
            min_max_stats.update(node.reward + discount * node.value())
            value = node.reward + discount * value


def visit_distribution(root, action_space):
    """The root's visit counts over ``action_space``, normalised (the policy target)."""
    total = sum(child.visit_count for child in root.children.values())
    return [root.children[a].visit_count / total if a in root.children else 0.0
            for a in action_space]


def select_action(root, temperature, rng):
    """An action drawn with probabilities ∝ visit count ** (1 / ``temperature``); temperature
    0 takes the most visited (the first of equals), ``inf`` draws uniformly."""
    actions = list(root.children)
    visit_counts = np.array([root.children[a].visit_count for a in actions], dtype=np.float64)
    if temperature == 0:
        return actions[int(np.argmax(visit_counts))]
    if math.isinf(temperature):
        return actions[rng.integers(len(actions))]
    distribution = visit_counts ** (1 / temperature)
    return actions[rng.choice(len(actions), p=distribution / distribution.sum())]
