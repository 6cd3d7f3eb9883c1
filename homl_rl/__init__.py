"""homl_rl: the Keras/TensorFlow reference implementation of chapter 18
(Reinforcement Learning) of *Hands-On Machine Learning*.

One module per section of the chapter, with the book's names:

- :mod:`homl_rl.environments`  Introduction to Gymnasium, a simple hard-coded policy
- :mod:`homl_rl.animation`     the animations used all through the chapter
- :mod:`homl_rl.markov`        Markov chains, MDPs, Q-value iteration, Q-learning
"""

__version__ = "0.2.0"
