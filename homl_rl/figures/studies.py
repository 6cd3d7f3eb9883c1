"""The DQN lecture's figures: the hyper-parameter studies, the Q-value heat maps and the
epsilon action histograms.

Which agent each shows: ``lecture_*_study_plot`` and ``lecture_grid_search_plot`` — the
lecture's own DQN (:mod:`homl_rl.lecture_dqn`, its studies' parameter set), drawn as the
lecture draws them (:func:`plot_lecture_study`, :func:`plot_lecture_grid_search`);
``*_study_plot`` — the same three studies with the chapter's fixed-Q-targets DQN
(:func:`plot_study`), a different agent (one training step per episode); the heat maps and
the histograms — the chapter's DQN of Figure 18-10."""

import matplotlib.pyplot as plt
import numpy as np

from homl_rl.experiments import CHAPTER_AGENT, LECTURE_AGENT, axis_label
from homl_rl.experiments.studies import (
    CONVERGENCE_THRESHOLD, CONVERGENCE_WINDOW, SCORE_EPISODES, STUDY_VARIANT,
    epsilon_action_counts, q_value_grid)
from homl_rl.lecture_dqn import EVAL_EVERY, REWARD_THRESHOLD


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
        window = min(10, curves.shape[1])  # a run of fewer than 10 episodes: over all of them
        smooth = np.array([np.convolve(curve, np.ones(window) / window, mode="valid")
                           for curve in curves])
        axes[0].plot(np.arange(window - 1, curves.shape[1]), smooth.mean(axis=0), label=str(value))
        scores = [result["score"] for result in value_results]
        converged = [result["episodes_to_convergence"] for result in value_results]
        summary[str(value)] = {"scores": scores, "episodes_to_convergence": converged}
    axes[0].set_xlabel("Episode")
    axes[0].set_ylabel("Sum of rewards (10-episode mean)")
    axes[0].legend(title=axis_label(CHAPTER_AGENT, parameter), fontsize=9, title_fontsize=9)
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
        ax.set_xlabel(axis_label(CHAPTER_AGENT, parameter))
    for ax in axes:
        ax.grid(True)
    return fig, {"parameter": parameter, "variant": STUDY_VARIANT, "values": values,
                 "seeds": sorted({run["seed"] for run in runs}), "n_episodes": n_episodes,
                 "score": f"mean sum of rewards over the last {SCORE_EPISODES} episodes",
                 "convergence": f"first episode whose last {CONVERGENCE_WINDOW} episodes "
                                f"average >= {CONVERGENCE_THRESHOLD}",
                 "summary": summary}


def study_plot(study):
    """A chapter-DQN study's figure (``study``: its run, :attr:`homl_rl.experiments.Study.run`)."""
    runs, results = study.result
    return plot_study(study.config["parameter"], runs, results)


def q_value_heatmap_plot(run):
    """The lecture's heat maps, for the DQN of Figure 18-10 (cart at rest at the centre)."""
    _, agent = run.result
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
    _, agent = run.result
    state = np.zeros(4, dtype=np.float32)  # the lecture's sample state
    counts = epsilon_action_counts(agent.epsilon_greedy_policy, state)
    fig, axes = plt.subplots(len(counts), 1, figsize=(8, 6), sharex=True)
    for ax, (epsilon, action_counts) in zip(axes, counts.items()):
        ax.bar(["left (0)", "right (1)"], action_counts)
        ax.set_title(f"Distribution of the actions for epsilon={epsilon}", fontsize=12)
        ax.set_ylim(0, 100)
    return fig, {"state": state, "n_draws": 100, "seed": 42,
                 "counts": {str(e): c for e, c in counts.items()}}


# --- the lecture's studies, with the lecture's agent ----------------------------------------------

def _runs_by(runs, results, names):
    """``{values of names: [results]}`` in the runs' order."""
    groups = {}
    for run, result in zip(runs, results):
        groups.setdefault(tuple(run[name] for name in names), []).append(result)
    return groups


def _record(run, result):
    return {"seed": run["seed"], "episode_takens": result["episode_takens"],
            "score": result["score"], "n_steps": result["n_steps"],
            "reached_threshold": bool(result["rewards"]) and result["rewards"][-1] >= REWARD_THRESHOLD,
            "rewards": result["rewards"]}


def plot_lecture_study(parameter, runs, results):
    """The lecture's plots of one study (lecture 003's agent): the loss of every step over time
    (log scale), the evaluations' mean return over training per value (mean over seeds, log
    scale), the final score and the episodes taken against the value (mean and spread over
    seeds); and their data (no losses: the runs' cache holds them)."""
    groups = _runs_by(runs, results, (parameter,))
    values = [key[0] for key in groups]
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(values)))
    fig, axes = plt.subplots(2, 2, figsize=(14, 10))
    for color, (key, value_results) in zip(colors, groups.items()):
        for index, result in enumerate(value_results):
            losses = np.asarray(result["losses"], dtype=float)
            finite = np.flatnonzero(np.isfinite(losses))
            axes[0, 0].scatter(finite, losses[finite], s=1, alpha=0.3, color=color,
                               label=str(key[0]) if index == 0 else None, rasterized=True)
        length = max(len(result["rewards"]) for result in value_results)
        curves = np.full((len(value_results), length), np.nan)
        for row, result in zip(curves, value_results):
            row[:len(result["rewards"])] = result["rewards"]
        episodes = EVAL_EVERY * np.arange(1, length + 1)  # evaluations after episodes 3, 6, ...
        axes[0, 1].plot(episodes, np.nanmean(curves, axis=0), color=color, label=str(key[0]))
    if any(np.isfinite(result["losses"]).any() for result in results):
        axes[0, 0].set_yscale("log")
    else:
        axes[0, 0].text(0.5, 0.5, "no training step yet", ha="center", transform=axes[0, 0].transAxes)
    axes[0, 0].set_xlabel("environment step")
    axes[0, 0].set_ylabel("loss")
    axes[0, 0].set_title(f"Losses over time for different values of {axis_label(LECTURE_AGENT, parameter)}",
                         fontsize=12)
    axes[0, 0].legend(title=axis_label(LECTURE_AGENT, parameter), fontsize=9, markerscale=8)
    axes[0, 1].set_yscale("log")
    axes[0, 1].set_xlabel("episode")
    axes[0, 1].set_ylabel(f"mean return of eval_dqn() (every {EVAL_EVERY} episodes)")
    axes[0, 1].set_title("Reward over time (mean over seeds)", fontsize=12)
    axes[0, 1].legend(title=axis_label(LECTURE_AGENT, parameter), fontsize=9)
    for ax, key, label in ((axes[1, 0], "score", "score (final eval_dqn())"),
                           (axes[1, 1], "episode_takens", "episodes taken (to 199, or all)")):
        samples = [[result[key] for result in value_results] for value_results in groups.values()]
        ax.errorbar(values, [np.mean(s) for s in samples], yerr=[np.std(s) for s in samples],
                    marker="o", capsize=4)
        ax.set_xlabel(axis_label(LECTURE_AGENT, parameter))
        ax.set_ylabel(label)
    axes[1, 0].set_ylim(0, 205)
    for ax in axes.ravel():
        ax.grid(True)
    n_episodes = runs[0]["n_episodes"]
    return fig, {"parameter": parameter, "agent": "lecture 003's DQN (studies' parameter set)",
                 "values": values, "seeds": sorted({run["seed"] for run in runs}),
                 "n_episodes": n_episodes,
                 "runs": {str(key[0]): [_record(run, result) for run, result in zip(runs, results)
                                        if run[parameter] == key[0]] for key in groups}}


def lecture_study_plot(study):
    """A lecture study's figure (``study``: its run, :attr:`homl_rl.experiments.Study.run`)."""
    runs, results = study.result
    return plot_lecture_study(study.config["parameter"], runs, results)


def plot_lecture_grid_search(runs, results, rows="buffer_capacity", columns="target_update_period"):
    """The exercise's grid search (lecture 003's agent): heat maps of the mean final score and
    of the mean episodes taken over ``rows`` x ``columns`` (mean over seeds); and their data."""
    groups = _runs_by(runs, results, (rows, columns))
    row_values = list(dict.fromkeys(key[0] for key in groups))
    column_values = list(dict.fromkeys(key[1] for key in groups))
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
    data = {"rows": rows, "columns": columns, "row_values": row_values,
            "column_values": column_values, "seeds": sorted({run["seed"] for run in runs}),
            "n_episodes": runs[0]["n_episodes"], "agent": "lecture 003's DQN (studies' parameter set)"}
    for ax, key, title, cmap in ((axes[0], "score", "mean score (final eval_dqn())", "viridis"),
                                 (axes[1], "episode_takens", "mean episodes taken", "viridis_r")):
        table = np.array([[np.mean([result[key] for result in groups[(row, column)]])
                           for column in column_values] for row in row_values])
        image = ax.imshow(table, cmap=cmap, origin="lower", aspect="auto")
        for (i, j), value in np.ndenumerate(table):
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=11,
                    color="w" if (value < table.mean()) == (cmap == "viridis") else "k")
        ax.set_xticks(range(len(column_values)), [str(v) for v in column_values])
        ax.set_yticks(range(len(row_values)), [str(v) for v in row_values])
        ax.set_xlabel(axis_label(LECTURE_AGENT, columns))
        ax.set_ylabel(axis_label(LECTURE_AGENT, rows))
        ax.set_title(title, fontsize=12)
        fig.colorbar(image, ax=ax)
        data[key] = table
    data["runs"] = [dict(_record(run, result), **{rows: run[rows], columns: run[columns]})
                    for run, result in zip(runs, results)]
    return fig, data


def lecture_grid_search_plot(study):
    """The grid search's figure (``study``: the ``lecture_grid_search`` run)."""
    runs, results = study.result
    return plot_lecture_grid_search(runs, results)
