"""set_seeds: the notebook's tf.random.set_seed read as tf.keras.utils.set_random_seed."""

import random

import numpy as np
import pytest

from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf


def _policy_net_weights():
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(5, activation="relu"),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.build([None, 4])
    return model.get_weights()


def test_same_seed_same_keras_initial_weights_and_draws():
    set_seeds(42)
    first = _policy_net_weights(), np.random.rand(), random.random(), float(tf.random.uniform([]))
    set_seeds(42)
    second = _policy_net_weights(), np.random.rand(), random.random(), float(tf.random.uniform([]))
    for a, b in zip(first[0], second[0]):
        np.testing.assert_array_equal(a, b)
    assert first[1:] == second[1:]


def test_tf_keras_is_keras_2():
    import sys

    package = sys.modules[tf.keras.Model.__module__.split(".")[0]]  # keras, or tf_keras on TF >= 2.16
    assert package.__name__ in ("keras", "tf_keras")
    assert package.__version__.startswith("2.")
    assert hasattr(tf.keras.optimizers, "legacy")  # Keras 2 API


@pytest.mark.parametrize("seed", [-1, 1.5, "42", True])
def test_bad_seed_is_refused(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        set_seeds(seed)
