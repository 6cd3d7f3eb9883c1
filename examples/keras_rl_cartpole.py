"""Lecture 002's "Cartpole and DQN" cells, run on Gymnasium with homl_rl.keras_rl.

The cells as the lecture wrote them, with only these edits: ``import gym`` -> ``import
gymnasium as gym`` (Gymnasium keeps CartPole-v0 and its 200 steps), the ``rl.`` imports ->
``homl_rl.keras_rl``, ``Adam(lr=...)`` -> ``Adam(learning_rate=...)`` (TF 2.11+ dropped
``lr``), ``visualize=True`` -> ``False``, the ``pip install`` and pyglet lines dropped (and the
imports other sections use); and,
to make a run repeatable, a seed (``--seed``, default 0) set before the cells:
``tf.keras.utils.set_random_seed(seed)`` and the environment's first ``reset(seed=seed)``.

    python examples/keras_rl_cartpole.py --seed 0
"""

import argparse

# the rl. imports, first: homl_rl makes tensorflow.keras Keras 2 on TensorFlow >= 2.16 too
from homl_rl.keras_rl import DQNAgent
from homl_rl.keras_rl import EpsGreedyQPolicy
from homl_rl.keras_rl import SequentialMemory

import gymnasium as gym
import numpy as np

import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Activation, Flatten  # noqa: F401 (the lecture's)
from tensorflow.keras.optimizers import Adam


def main(seed=0, nb_steps=5000, verbose=2):
    """Run the lecture's cells; returns ``(test_before, fit_history, test_after)`` Histories."""
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

    env = gym.make('CartPole-v0')
    env.reset(seed=seed)
    nb_actions = env.action_space.n
    print('Number of actions', nb_actions)

    model = Sequential()
    model.add(Flatten(input_shape=(1, 4)))
    model.add(Dense(16, activation='relu'))
    model.add(Dense(16, activation='relu'))
    model.add(Dense(16, activation='relu'))
    model.add(Dense(nb_actions))
    model.summary()

    policy = EpsGreedyQPolicy()
    memory = SequentialMemory(limit=50000, window_length=1)
    dqn = DQNAgent(model=model, nb_actions=nb_actions,
                   memory=memory, nb_steps_warmup=10,
                   target_model_update=1e-2, policy=policy)
    dqn.compile(Adam(learning_rate=1e-3), metrics=['mae'])

    before = dqn.test(env, nb_episodes=5, visualize=False)

    history = dqn.fit(env, nb_steps=nb_steps, visualize=False, verbose=verbose)

    after = dqn.test(env, nb_episodes=5, visualize=False)
    env.close()
    return before, history, after


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nb-steps", type=int, default=5000)
    args = parser.parse_args()
    before, history, after = main(args.seed, args.nb_steps)
    print(f"seed {args.seed}: test after fit: {after.history['episode_reward']}, "
          f"mean {np.mean(after.history['episode_reward']):.1f}")
