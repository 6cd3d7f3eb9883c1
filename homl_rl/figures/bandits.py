"""The lectures' bandit figures: Thompson sampling's posteriors, and regret vs epsilon-greedy."""

import matplotlib.pyplot as plt
import numpy as np

from homl_rl.bandits import BANDITS, beta_pdf, epsilon_greedy, thompson_sampling


def bandit_posteriors_plot(pull_counts=(20, 1000), seed=42):
    """The lecture's posterior plot, and its task "rerun with a higher number of experiments"."""
    x = np.linspace(0, 1, 101)  # the lecture's grid
    fig, axes = plt.subplots(1, len(pull_counts), figsize=(10, 4), sharex=True)
    data = {"x": x, "bandits": BANDITS, "seed": seed}
    for ax, n_pulls in zip(axes, pull_counts):
        runs = thompson_sampling(n_pulls=n_pulls, seed=seed)
        a, b = runs.posteriors()
        for arm in range(len(BANDITS)):
            ax.plot(x, beta_pdf(x, a[0, arm], b[0, arm]), label=f"arm_{arm} (p={BANDITS[arm]})")
        ax.set_title(f"after {n_pulls} pulls")
        ax.set_xlabel("win probability")
        ax.grid(True)
        data[f"pulls_{n_pulls}"] = {"pulls": runs.pulls[0], "wins": runs.wins[0]}
    axes[0].set_ylabel("posterior density")
    axes[0].legend(fontsize=10)
    return fig, data


def bandit_regret_plot(n_pulls=1000, n_runs=500, epsilons=(0.01, 0.1, 0.3), seed=42):
    """The lecture's task "epsilon-greedy with different epsilons", compared with Thompson
    sampling by cumulative expected regret (mean, and 10th-90th percentile band)."""
    strategies = {"Thompson sampling": thompson_sampling(n_pulls, n_runs=n_runs, seed=seed)}
    for epsilon in epsilons:
        strategies[f"epsilon-greedy, ε={epsilon}"] = epsilon_greedy(
            n_pulls, epsilon, n_runs=n_runs, seed=seed)
    fig, ax = plt.subplots(figsize=(8, 4))
    pulls = np.arange(1, n_pulls + 1)
    data = {"n_pulls": n_pulls, "n_runs": n_runs, "seed": seed, "bandits": BANDITS}
    for label, runs in strategies.items():
        regret = runs.regret()
        mean = regret.mean(axis=0)
        low, high = np.percentile(regret, [10, 90], axis=0)
        line, = ax.plot(pulls, mean, label=label)
        ax.fill_between(pulls, low, high, color=line.get_color(), alpha=0.15)
        data[label] = {"mean_regret": mean, "p10": low, "p90": high,
                       "share_of_best_arm_pulls": float((runs.chosen_arms == 0).mean())}
    ax.set_xlabel("Pulls")
    ax.set_ylabel("Cumulative regret")
    ax.legend(fontsize=10, loc="upper left")
    ax.grid(True)
    return fig, data
