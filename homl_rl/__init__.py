"""homl_rl: the Keras/TensorFlow reference implementation of chapter 18
(Reinforcement Learning) of *Hands-On Machine Learning*.

One module per section of the chapter, with the book's names (:mod:`homl_rl.environments`,
:mod:`homl_rl.animation`, :mod:`homl_rl.nn_policy`, :mod:`homl_rl.policy_gradients`,
:mod:`homl_rl.markov`, :mod:`homl_rl.replay_buffers`, :mod:`homl_rl.dqn`, :mod:`homl_rl.atari`,
:mod:`homl_rl.breakout`, :mod:`homl_rl.tf_agents_pipeline`), the lectures' agents
(:mod:`homl_rl.bandits`, :mod:`homl_rl.keras_rl`, :mod:`homl_rl.lecture_dqn`,
:mod:`homl_rl.per_step_dqn`, :mod:`homl_rl.muzero`), and the rooms around them: the fast
engines, the experiments, the runs, the figures, the cross-check and the command line
(``docs/architecture.md`` draws the house).
"""

__version__ = "0.2.0"
