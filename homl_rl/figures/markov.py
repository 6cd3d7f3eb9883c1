"""Figure 18-9: Q-value iteration vs Q-learning."""

import matplotlib.pyplot as plt
import numpy as np

from homl_rl.markov import q_learning, q_value_iteration


def q_value_plot():
    """The notebook's cell that generates Figure 18-9."""
    Q_iteration, history1 = q_value_iteration(gamma=0.90)
    Q_learning, history2 = q_learning()
    true_Q_value = history1[-1, 0, 0]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    axes[0].set_ylabel("Q-Value$(s_0, a_0)$", fontsize=14)
    axes[0].set_title("Q-Value Iteration", fontsize=14)
    axes[1].set_title("Q-Learning", fontsize=14)
    for ax, width, history in zip(axes, (50, 10000), (history1, history2)):
        ax.plot([0, width], [true_Q_value, true_Q_value], "k--")
        ax.plot(np.arange(width), history[:, 0, 0], "b-", linewidth=2)
        ax.set_xlabel("Iterations", fontsize=14)
        ax.axis([0, width, 0, 24])
        ax.grid(True)
    return fig, {
        "true_Q_value": true_Q_value,
        "q_value_iteration_Q_s0_a0": history1[:, 0, 0],
        "q_learning_Q_s0_a0": history2[:, 0, 0],
        "q_value_iteration_final": Q_iteration,
        "q_learning_final": Q_learning,
    }
