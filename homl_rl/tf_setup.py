"""The one place where homl_rl imports TensorFlow.

The chapter's code is Keras 2 code. On the pinned TensorFlow 2.15, ``tf.keras`` is
Keras 2. On TensorFlow >= 2.16, ``tf.keras`` is Keras 3 unless ``TF_USE_LEGACY_KERAS=1``
is set before TensorFlow is imported *and* the ``tf_keras`` package is installed, which
is what the book's current notebook does. We set it here, so ``tf.keras`` is Keras 2
on both stacks::

    from homl_rl.tf_setup import tf
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep CUDA/oneDNN chatter out

import tensorflow as tf  # noqa: E402

__all__ = ["tf"]
