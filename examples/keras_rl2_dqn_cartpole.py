"""keras-rl2's own example ``examples/dqn_cartpole.py``, run on Gymnasium with homl_rl.keras_rl.

keras-rl2's file as its authors wrote it (its network, 50,000 steps, ``BoltzmannQPolicy``,
its ``save_weights`` call, its 5 test episodes), with only these lines changed:

- ``import gym`` -> ``import gymnasium as gym``: keras-rl2 speaks old gym's step API, and
  homl_rl.keras_rl Gymnasium's. Gymnasium still registers ``CartPole-v0`` (200 steps, solved
  at an average of 195); it warns that v1 is newer.
- ``from rl.agents.dqn import DQNAgent``, ``from rl.policy import BoltzmannQPolicy``,
  ``from rl.memory import SequentialMemory`` -> the same names from ``homl_rl.keras_rl``,
  imported before TensorFlow (homl_rl makes ``tensorflow.keras`` Keras 2 on TensorFlow
  >= 2.16 too).
- ``env.seed(123)`` -> ``env.reset(seed=123)``: Gymnasium seeds an environment at a reset.
- the script's body is indented into ``main(nb_steps=50000)``, and ``dqn.fit``'s
  ``nb_steps=50000`` reads ``nb_steps=nb_steps``, so that a test can import the file and run it
  briefly; ``python examples/keras_rl2_dqn_cartpole.py`` calls ``main()``, keras-rl2's run.

``visualize=True`` is kept as keras-rl2 wrote it; Gymnasium draws only for an environment
made with a ``render_mode``, so here it draws nothing (Gymnasium warns once). As in
keras-rl2's file, only NumPy is seeded: TensorFlow's initial weights (and Python's
``random``, which draws the replay batches) differ from run to run unless the caller seeds
them (``tests/test_keras_rl2_example.py`` does). The weights are written to the current folder
(``dqn_CartPole-v0_weights.h5f.index`` and ``.data-00000-of-00001``, TensorFlow's checkpoint
format, and a ``checkpoint`` file).

    python examples/keras_rl2_dqn_cartpole.py
"""

# the rl. imports, first: homl_rl makes tensorflow.keras Keras 2 on TensorFlow >= 2.16 too
from homl_rl.keras_rl import DQNAgent
from homl_rl.keras_rl import BoltzmannQPolicy
from homl_rl.keras_rl import SequentialMemory

import numpy as np
import gymnasium as gym

from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Activation, Flatten
from tensorflow.keras.optimizers import Adam


ENV_NAME = 'CartPole-v0'


def main(nb_steps=50000):
    # Get the environment and extract the number of actions.
    env = gym.make(ENV_NAME)
    np.random.seed(123)
    env.reset(seed=123)
    nb_actions = env.action_space.n

    # Next, we build a very simple model.
    model = Sequential()
    model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
    model.add(Dense(16))
    model.add(Activation('relu'))
    model.add(Dense(16))
    model.add(Activation('relu'))
    model.add(Dense(16))
    model.add(Activation('relu'))
    model.add(Dense(nb_actions))
    model.add(Activation('linear'))
    print(model.summary())

    # Finally, we configure and compile our agent. You can use every built-in tensorflow.keras optimizer and
    # even the metrics!
    memory = SequentialMemory(limit=50000, window_length=1)
    policy = BoltzmannQPolicy()
    dqn = DQNAgent(model=model, nb_actions=nb_actions, memory=memory, nb_steps_warmup=10,
                   target_model_update=1e-2, policy=policy)
    dqn.compile(Adam(learning_rate=1e-3), metrics=['mae'])

    # Okay, now it's time to learn something! We visualize the training here for show, but this
    # slows down training quite a lot. You can always safely abort the training prematurely using
    # Ctrl + C.
    dqn.fit(env, nb_steps=nb_steps, visualize=True, verbose=2)

    # After training is done, we save the final weights.
    dqn.save_weights(f'dqn_{ENV_NAME}_weights.h5f', overwrite=True)

    # Finally, evaluate our algorithm for 5 episodes.
    dqn.test(env, nb_episodes=5, visualize=True)


if __name__ == "__main__":
    main()
