"""Engines: the exact fast paths that replay a section's forward passes and gradients.

A section module runs the book's code; an engine only computes what that code asks
TensorFlow for, faster, and with the same floats. A section selects one by name
(``engine="notebook"`` or ``"fast"``; ``None`` for the default) and knows nothing else
about it:

- :mod:`.dqn` — for :mod:`homl_rl.dqn`: :class:`~.dqn.DQNNotebookEngine` (``model.predict``
  at every step, as the cells do) and :class:`~.dqn.DQNFastEngine` (a float64 NumPy
  forward pass for the greedy action, trusted only outside a proven bound on float32's
  rounding error, and a graph-compiled call, bit-identical to ``predict``, otherwise and
  for the batched next-state values; a NumPy replica of Keras' eager Nadam update,
  checked against Keras before it is used).
- :mod:`.policy_gradients` — for :mod:`homl_rl.policy_gradients`:
  :class:`~.policy_gradients.ReinforceNotebookEngine` (the cell's own eager
  ``play_multiple_episodes``) and :class:`~.policy_gradients.ReinforceFastEngine` (the
  same eager arithmetic and random stream replayed in NumPy, checked against TensorFlow
  before it is used by default).
- :mod:`.eager_replica` — the NumPy replicas of TensorFlow's eager CPU kernels and
  Philox random stream that the REINFORCE fast engine runs on, and of Keras' eager
  ``Nadam`` update that the DQN fast engine runs on.

Engines import foundations (:mod:`homl_rl.tf_setup`, :mod:`homl_rl.checks`) and a few
input checks of the section modules, never the section modules' training code: each
section module imports its engine module at its top, and there is no cycle.
"""
