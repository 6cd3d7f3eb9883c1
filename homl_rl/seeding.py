"""Reproducibility: one function that seeds everything a chapter cell depends on."""

import random

import numpy as np

from homl_rl.checks import check_non_negative_int


def set_seeds(seed, tensorflow=True):
    """Seed Python's ``random``, NumPy and TensorFlow, and make TF ops deterministic.

    This is the notebook's ``tf.random.set_seed(seed)`` read as
    ``tf.keras.utils.set_random_seed(seed)``: on TF 2.15, Keras's unseeded initializers
    draw their seeds from Python's ``random``, so seeding TensorFlow alone leaves the
    notebook's cells irreproducible. With ``tensorflow=False`` only
    Python and NumPy are seeded, and TensorFlow is not even imported.
    """
    seed = check_non_negative_int("seed", seed)
    if not tensorflow:
        random.seed(seed)
        np.random.seed(seed)
        return
    from homl_rl.tf_setup import tf

    tf.keras.utils.set_random_seed(seed)  # Python, NumPy and TF at once
    tf.config.experimental.enable_op_determinism()
