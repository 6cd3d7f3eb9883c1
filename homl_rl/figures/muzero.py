"""Figures of MuZero on CartPole (muzero-general's settings, the lecture's budget): the test
rewards and losses of a 10,000-step run, and its agent playing."""

import matplotlib.pyplot as plt
import numpy as np

from homl_rl.figures import Frames
from homl_rl.muzero.play import play_game

LOSS_WINDOW = 100
"""training steps of the losses' moving average"""


def moving_average(values, window):
    """The means of ``window`` consecutive values (``len(values) - window + 1`` of them)."""
    values = np.asarray(values, dtype=float)
    return np.convolve(values, np.ones(window) / window, mode="valid")


def muzero_cartpole_plot(run):
    """Test rewards (one test game every ``test_interval`` training steps, temperature 0)
    and the training losses vs training step (``run``: ``muzero_cartpole_long``). As
    muzero-general logs them, the total loss is weighted by the prioritised replay's
    importance weights and its three parts are not."""
    history = run.result
    steps = np.arange(1, len(history["total_loss"]) + 1)
    final = history["final_test_rewards"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    top.plot(history["test_steps"], history["test_rewards"], "o-", markersize=3,
             label="test game (temperature 0)")
    if final:
        top.errorbar([steps[-1]], [np.mean(final)], yerr=[np.std(final)], fmt="s", color="C3",
                     capsize=4, label=f"final weights: mean of {len(final)} test games")
    top.set_ylabel("Total reward")
    top.set_ylim(0, 520)
    top.legend(loc="upper left", fontsize=10)
    top.grid(True)
    for name, label in (("total_loss", "total"), ("value_loss", "value"),
                        ("reward_loss", "reward"), ("policy_loss", "policy")):
        smooth = moving_average(history[name], LOSS_WINDOW)
        bottom.plot(steps[LOSS_WINDOW - 1:], smooth, label=label)
    bottom.set_xlabel("Training step")
    bottom.set_ylabel(f"Loss ({LOSS_WINDOW}-step mean)")
    bottom.legend(loc="center right", fontsize=10, ncol=4)
    bottom.grid(True)
    data = {key: history[key] for key in ("test_steps", "test_rewards", "test_played_games",
                                          "final_test_rewards", "game_rewards", "game_lengths",
                                          "training_steps", "played_steps", "played_games")}
    data["best_test_reward"] = max(history["test_rewards"])
    data["loss_means"] = {name: moving_average(history[name], LOSS_WINDOW)[::LOSS_WINDOW].tolist()
                          for name in ("total_loss", "value_loss", "reward_loss", "policy_loss")}
    return fig, data


def muzero_cartpole(run, seed=0):
    """The run's final network playing one test game of CartPole (temperature 0, no root
    noise) from the reset seeded with ``seed``."""
    history = run.result
    game, frames = play_game(history["config"], history["weights"], seed)
    return Frames(frames), {"seed": seed, "moves": len(game), "total_reward": game.total_reward,
                            "actions": game.action_history[1:],
                            "trained_steps": history["training_steps"]}
