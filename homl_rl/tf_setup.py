"""The one place where homl_rl imports TensorFlow.

The chapter's code is Keras 2 code. On the pinned TensorFlow 2.15, ``tf.keras`` is
Keras 2. On TensorFlow >= 2.16, ``tf.keras`` is Keras 3 unless ``TF_USE_LEGACY_KERAS=1``
is set before TensorFlow is imported and the ``tf_keras`` package is installed, which
is what the book's current notebook does. We do the same, so ``tf.keras`` is Keras 2
on both stacks::

    from homl_rl.tf_setup import tf

(On 2.15 the variable must *not* be set: 2.15 would then look for ``tf_keras`` too.)

TensorFlow is imported quietly (:func:`homl_rl.quiet.quiet_imports`): its start-up noise
is not shown unless ``HOML_RL_VERBOSE=1`` (the CLI's ``--verbose``).
"""

import importlib.metadata
import importlib.util
import os

from homl_rl.quiet import quiet_imports


def _tensorflow_version():
    for distribution in ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _needs_legacy_keras(version):
    if version is None:
        return False
    major, minor = (int(part) for part in version.split(".")[:2])
    return (major, minor) >= (2, 16)


if _needs_legacy_keras(_tensorflow_version()):
    if importlib.util.find_spec("tf_keras") is None:
        raise ImportError(
            f"homl_rl needs Keras 2; TensorFlow {_tensorflow_version()} ships Keras 3. "
            "Install tf_keras (`pip install \"homl_rl[tf-keras]\"`) or use the pinned "
            "stack of requirements.txt (TensorFlow 2.15).")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

with quiet_imports():  # no CUDA/oneDNN start-up chatter (HOML_RL_VERBOSE=1 shows it)
    import tensorflow as tf

__all__ = ["tf"]
