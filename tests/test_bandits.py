"""The lectures' bandits (homl_rl.bandits)."""

import numpy as np
import pytest

from homl_rl.bandits import (BANDITS, BanditRuns, beta_pdf, epsilon_greedy, play_bandit,
                             thompson_sampling)


def test_posterior_is_beta_of_one_plus_wins_and_one_plus_losses_by_hand():
    runs = BanditRuns(np.array(BANDITS), chosen_arms=np.array([[0, 0, 1, 0, 2]]),
                      rewards=np.array([[1, 0, 0, 1, 1]]))
    assert runs.pulls.tolist() == [[3, 1, 1]]
    assert runs.wins.tolist() == [[2, 0, 1]]
    a, b = runs.posteriors()
    assert a.tolist() == [[3, 1, 2]] and b.tolist() == [[2, 2, 1]]
    # regret: best p is 0.7; arm 1 costs 0.5, arm 2 costs 0.4
    np.testing.assert_allclose(runs.regret(), [[0, 0, 0.5, 0.5, 0.9]])


def test_beta_pdf_matches_closed_forms():
    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(beta_pdf(x, 1, 1), np.ones(11))            # uniform
    np.testing.assert_allclose(beta_pdf(x, 2, 1), 2 * x)                  # 2x
    np.testing.assert_allclose(beta_pdf(x, 3, 2), 12 * x**2 * (1 - x))    # x^2 (1-x) / B(3, 2)
    assert (np.trapezoid if hasattr(np, "trapezoid") else np.trapz)(beta_pdf(np.linspace(0, 1, 10001), 15, 4), dx=1e-4) == pytest.approx(1, abs=1e-6)


def test_thompson_sampling_concentrates_on_the_clearly_best_arm():
    runs = thompson_sampling(n_pulls=1000, bandits=[0.9, 0.1, 0.1], seed=0)
    # our run (seed 0, pinned stack): 993 of 1000 pulls on the best arm
    assert runs.pulls.tolist() == [[993, 3, 4]]
    assert runs.wins[0, 0] == runs.rewards[0][runs.chosen_arms[0] == 0].sum()


def test_thompson_sampling_is_seeded_and_vectorised():
    one = thompson_sampling(n_pulls=50, n_runs=4, seed=7)
    two = thompson_sampling(n_pulls=50, n_runs=4, seed=7)
    np.testing.assert_array_equal(one.chosen_arms, two.chosen_arms)
    assert one.chosen_arms.shape == one.rewards.shape == (4, 50)
    assert one.pulls.sum(axis=1).tolist() == [50] * 4


def test_epsilon_greedy_with_epsilon_1_pulls_uniformly():
    runs = epsilon_greedy(n_pulls=300, epsilon=1.0, seed=42)
    # our run (seed 42): uniform random pulls, 300 / 3 = 100 expected per arm
    assert runs.pulls.tolist() == [[97, 107, 96]]
    many = epsilon_greedy(n_pulls=300, epsilon=1.0, n_runs=1000, seed=42)
    np.testing.assert_allclose(many.pulls.mean(axis=0), [100, 100, 100], atol=1.5)


def test_epsilon_greedy_with_epsilon_0_tries_each_arm_then_exploits():
    runs = epsilon_greedy(n_pulls=100, epsilon=0.0, n_runs=200, seed=1)
    # the first three pulls try each arm once, in a random order
    assert all(sorted(row) == [0, 1, 2] for row in runs.chosen_arms[:, :3].tolist())
    assert 40 < (runs.chosen_arms[:, 0] == 0).sum() < 95  # no arm favoured by its index
    # afterwards each pull goes to an arm with the best win rate so far
    pulls = np.zeros(3)
    wins = np.zeros(3)
    for arm, reward in zip(runs.chosen_arms[0], runs.rewards[0]):
        if pulls.min() > 0:
            rates = wins / pulls
            assert rates[arm] == rates.max()
        pulls[arm] += 1
        wins[arm] += reward


@pytest.mark.parametrize("bandits", [[0.7, 1.2, 0.3], [-0.1, 0.5], []])
def test_bad_arm_probabilities_are_refused(bandits):
    with pytest.raises(ValueError, match="win probabilit"):
        thompson_sampling(n_pulls=5, bandits=bandits)


@pytest.mark.parametrize("epsilon", [-0.01, 1.01])
def test_epsilon_outside_0_1_is_refused(epsilon):
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\]"):
        epsilon_greedy(n_pulls=5, epsilon=epsilon)


def test_zero_pulls_is_refused():
    with pytest.raises(ValueError, match="n_pulls and n_runs must be >= 1"):
        play_bandit(lambda rng, pulls, wins: pulls.argmax(axis=1), n_pulls=0)
