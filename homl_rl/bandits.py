"""The lectures' bandits (seed ``002_…``, "Bandits"): a 3-armed Bernoulli bandit,
Thompson sampling with Beta posteriors, and the lecture's two tasks done — more
pulls, and epsilon-greedy for several epsilons.

Both strategies are vectorised over many independent runs (one row per run) and
seeded through a NumPy ``Generator``, so a figure averages hundreds of runs in
milliseconds and the same seed always gives the same pulls.
"""

from dataclasses import dataclass
from math import lgamma

import numpy as np

from homl_rl.checks import check_unit_interval

BANDITS = [0.7, 0.2, 0.3]
"""Each arm's probability of a win (the lecture's bandit: arm 0 is the best)."""


def check_bandits(bandits):
    """Raise unless ``bandits`` is a non-empty list of probabilities."""
    bandits = np.asarray(bandits, dtype=float)
    if bandits.ndim != 1 or len(bandits) == 0:
        raise ValueError(f"bandits must be a non-empty list of win probabilities, got {bandits.tolist()}")
    if np.any((bandits < 0) | (bandits > 1)):
        raise ValueError(f"every arm's win probability must be in [0, 1], got {bandits.tolist()}")
    return bandits


def pull(i, bandits=BANDITS):
    """One pull of arm ``i``: 1 (a win) with probability ``bandits[i]`` (the lecture's ``pull``)."""
    return 1 if np.random.rand() < bandits[i] else 0


def beta_pdf(x, a, b):
    """The Beta(a, b) density at ``x`` (what the lecture gets from ``scipy.stats.beta``)."""
    x = np.asarray(x, dtype=float)
    inside = (x >= 0) & (x <= 1)
    x = np.where(inside, x, 0.5)

    def c_log(c, y):  # c * log(y), with 0 * log(0) = 0
        with np.errstate(divide="ignore"):
            return np.where(c == 0, 0.0, c * np.log(np.where(c == 0, 1.0, y)))

    log_pdf = lgamma(a + b) - lgamma(a) - lgamma(b) + c_log(a - 1, x) + c_log(b - 1, 1 - x)
    return np.where(inside, np.exp(log_pdf), 0.0)


@dataclass(frozen=True)
class BanditRuns:
    """What ``n_runs`` independent runs of ``n_pulls`` pulls did (one row per run)."""
    bandits: np.ndarray
    """the arms' win probabilities"""
    chosen_arms: np.ndarray
    """``(n_runs, n_pulls)``: the arm pulled at each step"""
    rewards: np.ndarray
    """``(n_runs, n_pulls)``: 1 for a win, 0 for a loss"""

    @property
    def pulls(self):
        """``(n_runs, n_arms)``: how many times each arm was pulled (the lecture's ``pulls``)."""
        return np.stack([(self.chosen_arms == arm).sum(axis=1) for arm in range(len(self.bandits))], axis=1)

    @property
    def wins(self):
        """``(n_runs, n_arms)``: how many of those pulls won (the lecture's ``wins``)."""
        return np.stack([((self.chosen_arms == arm) * self.rewards).sum(axis=1)
                         for arm in range(len(self.bandits))], axis=1)

    def posteriors(self):
        """The Beta(1 + wins, 1 + losses) posterior parameters ``(a, b)`` of every arm."""
        return 1 + self.wins, 1 + self.pulls - self.wins

    def regret(self):
        """``(n_runs, n_pulls)``: cumulative expected regret, sum of ``max(p) - p[chosen]``."""
        return np.cumsum(self.bandits.max() - self.bandits[self.chosen_arms], axis=1)


def play_bandit(choose_arms, n_pulls, bandits=BANDITS, n_runs=1, seed=42):
    """Pull ``n_pulls`` times in ``n_runs`` independent runs; ``choose_arms(rng, pulls, wins)``
    returns one arm per run from the counts so far."""
    bandits = check_bandits(bandits)
    if n_pulls < 1 or n_runs < 1:
        raise ValueError(f"n_pulls and n_runs must be >= 1, got {n_pulls} and {n_runs}")
    rng = np.random.default_rng(seed)
    pulls = np.zeros((n_runs, len(bandits)), dtype=np.int64)
    wins = np.zeros((n_runs, len(bandits)), dtype=np.int64)
    chosen_arms = np.empty((n_runs, n_pulls), dtype=np.int64)
    rewards = np.empty((n_runs, n_pulls), dtype=np.int64)
    runs = np.arange(n_runs)
    for step in range(n_pulls):
        chosen_arm = choose_arms(rng, pulls, wins)
        reward = (rng.random(n_runs) < bandits[chosen_arm]).astype(np.int64)
        pulls[runs, chosen_arm] += 1
        wins[runs, chosen_arm] += reward
        chosen_arms[:, step], rewards[:, step] = chosen_arm, reward
    return BanditRuns(bandits, chosen_arms, rewards)


def thompson_sampling(n_pulls=20, bandits=BANDITS, n_runs=1, seed=42):
    """The lecture's Bayesian bandit: sample each arm's Beta(1 + w, 1 + p - w) posterior,
    pull the arm whose sample is highest."""
    def choose_arms(rng, pulls, wins):
        return rng.beta(1 + wins, 1 + pulls - wins).argmax(axis=1)

    return play_bandit(choose_arms, n_pulls, bandits, n_runs, seed)


def epsilon_greedy(n_pulls=20, epsilon=0.1, bandits=BANDITS, n_runs=1, seed=42):
    """The lecture's task: with probability ``epsilon`` pull a random arm, otherwise the arm
    with the best win rate so far. An arm never pulled counts as the best (so each arm is
    tried once), and ties are broken at random, so no arm is favoured by its index."""
    check_unit_interval("epsilon", epsilon)
    n_arms = len(check_bandits(bandits))

    def choose_arms(rng, pulls, wins):
        explore = rng.random(len(pulls)) < epsilon
        random_arms = rng.integers(n_arms, size=len(pulls))
        win_rates = np.where(pulls == 0, np.inf, wins / np.maximum(pulls, 1))
        best = win_rates == win_rates.max(axis=1, keepdims=True)
        greedy_arms = (best * rng.random(best.shape)).argmax(axis=1)  # random tie-break
        return np.where(explore, random_arms, greedy_arms)

    return play_bandit(choose_arms, n_pulls, bandits, n_runs, seed)
