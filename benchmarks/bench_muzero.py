"""MuZero's hot loop: MCTS simulations per second, NumPy inference against Keras calls.

    .venv/bin/python benchmarks/bench_muzero.py    # ~1 min

Searches of ``num_simulations`` (50, muzero-general's CartPole) from CartPole states, with
the network of a fresh seeded ``MuZeroNetwork`` (its speed does not depend on its weights):
the tree's inference in NumPy (:class:`homl_rl.muzero.NumpyInference`, the one ``train``
uses) and, for comparison, through compiled Keras calls (a ``tf.function`` per inference,
what a direct port would do). Then one training step (batch 128, 10 unroll steps) and
making its batch. Writes benchmarks/results_muzero.md with the CPU model and load average.
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homl_rl.muzero import (MCTS, MuZeroConfig, MuZeroNetwork, NumpyInference,  # noqa: E402
                            GameReplayBuffer, SelfPlay, Trainer, support_to_scalar)
from homl_rl.seeding import set_seeds  # noqa: E402
from homl_rl.stack import stack_line  # noqa: E402
from homl_rl.tf_setup import tf  # noqa: E402

RESULTS = Path(__file__).with_name("results_muzero.md")


class KerasInference:
    """The tree's two inference calls through compiled Keras calls (one ``tf.function`` each)."""

    def __init__(self, network, support_size):
        self.support_size = support_size

        @tf.function
        def initial(observation):
            hidden = network.representation(observation)
            return (hidden, *network.prediction(hidden))

        @tf.function
        def recurrent(hidden, action):
            next_hidden, reward_logits = network.dynamics(hidden, action)
            return (next_hidden, reward_logits, *network.prediction(next_hidden))

        self._initial, self._recurrent = initial, recurrent

    def initial_inference(self, observation):
        hidden, policy_logits, value_logits = self._initial(tf.constant(observation[None]))
        value = float(support_to_scalar(value_logits.numpy()[0], self.support_size))
        return value, 0.0, policy_logits.numpy()[0], hidden.numpy()[0]

    def recurrent_inference(self, hidden_state, action):
        next_hidden, reward_logits, policy_logits, value_logits = self._recurrent(
            tf.constant(hidden_state[None]), tf.constant([action]))
        value, reward = support_to_scalar(
            np.concatenate([value_logits.numpy(), reward_logits.numpy()]), self.support_size)
        return float(value), float(reward), policy_logits.numpy()[0], next_hidden.numpy()[0]


def simulations_per_second(model, config, observations, rng):
    """Simulations/s of searches from each of ``observations`` (after one warm-up search)."""
    mcts = MCTS(config)
    mcts.run(model, observations[0], [0, 1], True, rng)
    start = time.perf_counter()
    for observation in observations:
        mcts.run(model, observation, [0, 1], True, rng)
    return len(observations) * config.num_simulations / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--searches", type=int, default=400)
    args = parser.parse_args(argv)
    config = MuZeroConfig()
    set_seeds(0)
    self_play = SelfPlay(config, seed=0)
    network = MuZeroNetwork(config, self_play.game.observation_shape, n_actions=2)
    rng = np.random.default_rng(0)
    observations = [self_play.game.reset()]
    for _ in range(args.searches - 1):
        observation, _, done = self_play.game.step(int(rng.integers(2)))
        observations.append(self_play.game.reset() if done else observation)
    load_before = os.getloadavg()
    numpy_rate = simulations_per_second(
        NumpyInference(network.get_weights(), 2, config.support_size), config, observations, rng)
    keras_rate = simulations_per_second(
        KerasInference(network, config.support_size), config, observations[:args.searches // 8], rng)
    replay_buffer = GameReplayBuffer(config, seed=0)
    for _ in range(20):
        replay_buffer.save_game(self_play.play_game(network.get_weights(), 1.0))
    trainer = Trainer(config, network)
    model = NumpyInference(network.get_weights(), 2, config.support_size)
    _, batch = replay_buffer.get_batch(model)
    trainer.update_weights(batch)  # traces the training step
    start = time.perf_counter()
    for _ in range(20):
        _, batch = replay_buffer.get_batch(model)
    batch_ms = (time.perf_counter() - start) / 20 * 1000
    start = time.perf_counter()
    for _ in range(20):
        trainer.update_weights(batch)
    step_ms = (time.perf_counter() - start) / 20 * 1000
    load_after = os.getloadavg()
    load = " / ".join(f"{a:.2f}" for a in load_before)
    load_end = " / ".join(f"{a:.2f}" for a in load_after)
    lines = [
        "# MuZero: simulations per second",
        "",
        f"Measured {datetime.date.today()} by `benchmarks/bench_muzero.py`: {stack_line()}, "
        f"{os.cpu_count()} cores; load average (1 / 5 / 15 min) {load} at the start, "
        f"{load_end} at the end (the machine was shared with other jobs).",
        "",
        f"Searches of {config.num_simulations} simulations from CartPole states, muzero-general's "
        f"CartPole network (encoding 8, 16-unit hidden layers, support 10), one process:",
        "",
        "| the tree's inference | simulations/s | moves/s (50 simulations) |",
        "|---|---:|---:|",
        f"| NumPy (`NumpyInference`, what `train` uses) | {numpy_rate:,.0f} | "
        f"{numpy_rate / config.num_simulations:,.1f} |",
        f"| compiled Keras calls (`tf.function`, for comparison) | {keras_rate:,.0f} | "
        f"{keras_rate / config.num_simulations:,.1f} |",
        "",
        f"A training step (batch {config.batch_size}, {config.num_unroll_steps} unroll steps, "
        f"Keras, compiled): {step_ms:.1f} ms; making its batch (PER sampling, targets, the "
        f"reanalysis of the values they bootstrap from, in NumPy) from 20 games of the fresh "
        f"network: {batch_ms:.1f} ms.",
        "",
        f"At `ratio` {config.ratio} a run of 10,000 training steps plays about "
        f"{10_000 / config.ratio:,.0f} self-play moves: about "
        f"{10_000 / config.ratio * config.num_simulations / numpy_rate:,.0f} s of search and "
        f"{10_000 * (step_ms + batch_ms) / 1000:,.0f} s of training at these rates, plus the "
        f"test games.",
    ]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
