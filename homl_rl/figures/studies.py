"""The DQN lecture's figures: the hyper-parameter studies, the Q-value heat maps and the
epsilon action histograms."""

import matplotlib.pyplot as plt
import numpy as np

from homl_rl.figures import FIGURES, STUDY_FIGURES, save_figure
from homl_rl.runs import RunResult
from homl_rl.studies import (
    CONVERGENCE_THRESHOLD, CONVERGENCE_WINDOW, LABELS, SCORE_EPISODES, STUDY_VARIANT,
    epsilon_action_counts, q_value_grid)


def plot_study(parameter, runs, results):
    """The lecture's three plots for one study: return over training per value, final score
    vs value, episodes to convergence vs value (mean and spread over seeds); and their data."""
    values = list(dict.fromkeys(run[parameter] for run in runs))
    by_value = {value: [result for run, result in zip(runs, results) if run[parameter] == value]
                for value in values}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    summary = {}
    for value, value_results in by_value.items():
        curves = np.array([result["sums_of_rewards"] for result in value_results], dtype=float)
        smooth = np.array([np.convolve(curve, np.ones(10) / 10, mode="valid") for curve in curves])
        axes[0].plot(np.arange(9, curves.shape[1]), smooth.mean(axis=0), label=str(value))
        scores = [result["score"] for result in value_results]
        converged = [result["episodes_to_convergence"] for result in value_results]
        summary[str(value)] = {"scores": scores, "episodes_to_convergence": converged}
    axes[0].set_xlabel("Episode")
    axes[0].set_ylabel("Sum of rewards (10-episode mean)")
    axes[0].legend(title=LABELS[parameter], fontsize=9, title_fontsize=9)
    score_means = [np.mean(summary[str(v)]["scores"]) for v in values]
    score_stds = [np.std(summary[str(v)]["scores"]) for v in values]
    axes[1].errorbar(values, score_means, yerr=score_stds, marker="o", capsize=4)
    axes[1].set_ylabel(f"score (mean of last {SCORE_EPISODES} episodes)")
    n_episodes = len(results[0]["sums_of_rewards"])
    convergence = [[n_episodes if c is None else c for c in summary[str(v)]["episodes_to_convergence"]]
                   for v in values]
    axes[2].errorbar(values, [np.mean(c) for c in convergence], yerr=[np.std(c) for c in convergence],
                     marker="o", capsize=4)
    axes[2].axhline(n_episodes, color="k", linestyle="--", linewidth=1)
    axes[2].set_ylabel("episodes to convergence\n(dashed: never)")
    for ax in axes[1:]:
        ax.set_xlabel(LABELS[parameter])
    for ax in axes:
        ax.grid(True)
    return fig, {"parameter": parameter, "variant": STUDY_VARIANT, "values": values,
                 "seeds": sorted({run["seed"] for run in runs}), "n_episodes": n_episodes,
                 "score": f"mean sum of rewards over the last {SCORE_EPISODES} episodes",
                 "convergence": f"first episode whose last {CONVERGENCE_WINDOW} episodes "
                                f"average >= {CONVERGENCE_THRESHOLD}",
                 "summary": summary}


def study_plot(study):
    """A study's figure (``study``: a ``<parameter>_study`` run of :mod:`homl_rl.runs`)."""
    runs, results = study.result
    return plot_study(study.config["parameter"], runs, results)


def save_study(parameter, runs, results, out_dir):
    """Draw a study run outside the registry (``homl-rl studies``) and write its figure and
    data as the registry does."""
    figure, data = plot_study(parameter, runs, results)
    seeds = sorted({run["seed"] for run in runs})
    config = {"parameter": parameter, "values": data["values"], "seeds": seeds,
              "n_episodes": data["n_episodes"], "seed": None}
    spec = FIGURES[STUDY_FIGURES[parameter]]
    paths = save_figure(spec, figure, data, [RunResult(f"{parameter}_study", (runs, results),
                                                       config, None)], out_dir)
    plt.close(figure)
    return paths


def q_value_heatmap_plot(run):
    """The lecture's heat maps, for the DQN of Figure 18-10 (cart at rest at the centre)."""
    rewards, agent = run.result
    data = q_value_grid(lambda states: agent.model.predict(states, verbose=0))
    Q_values = data["Q_values"]
    extent = [np.degrees(data["angular_velocities"][0]), np.degrees(data["angular_velocities"][-1]),
              np.degrees(data["angles"][0]), np.degrees(data["angles"][-1])]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.5))
    panels = [(Q_values[0], "Q-value of action 0 (left)", "viridis"),
              (Q_values[1], "Q-value of action 1 (right)", "viridis"),
              (Q_values[0] - Q_values[1], "Q(left) - Q(right)", "seismic"),
              (data["greedy_actions"], "greedy action (1 = right)", "coolwarm")]
    for ax, (values, title, cmap) in zip(axes, panels):
        if cmap == "seismic":
            limit = np.abs(values).max()
            image = ax.imshow(values, origin="lower", aspect="auto", extent=extent, cmap=cmap,
                              vmin=-limit, vmax=limit)
        else:
            image = ax.imshow(values, origin="lower", aspect="auto", extent=extent, cmap=cmap)
        fig.colorbar(image, ax=ax)
        ax.set_title(title, fontsize=12)
        ax.set_xlabel("pole angular velocity (°/s)", fontsize=11)
    axes[0].set_ylabel("pole angle (°)", fontsize=11)
    return fig, dict(data, cart_position=0.0, cart_velocity=0.0,
                     model=f"the {run.name!r} run's model, seed {run.seed}")


def epsilon_actions_plot(run):
    """The lecture's cell "Distribution of the actions for epsilon=…", with our trained DQN."""
    rewards, agent = run.result
    state = np.zeros(4, dtype=np.float32)  # the lecture's sample state
    counts = epsilon_action_counts(agent.epsilon_greedy_policy, state)
    fig, axes = plt.subplots(len(counts), 1, figsize=(8, 6), sharex=True)
    for ax, (epsilon, action_counts) in zip(axes, counts.items()):
        ax.bar(["left (0)", "right (1)"], action_counts)
        ax.set_title(f"Distribution of the actions for epsilon={epsilon}", fontsize=12)
        ax.set_ylim(0, 100)
    return fig, {"state": state, "n_draws": 100, "seed": 42,
                 "counts": {str(e): c for e, c in counts.items()}}
