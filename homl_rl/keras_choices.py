"""Keras optimizers and losses chosen by name, as the configs name them (``optimizer="adam"``).

One place for the names every training config accepts, their checks (a clear error listing
the valid names) and the Keras objects they stand for::

    make_optimizer("Adam", 1e-2)      # tf.keras.optimizers.Adam(learning_rate=1e-2)
    make_loss_fn("huber")             # tf.keras.losses.Huber()
"""

from homl_rl.checks import check_positive_number
from homl_rl.tf_setup import tf

LOSSES = ("huber", "mse")
"""The losses a DQN config can name: ``"huber"`` (``tf.keras.losses.Huber()``) or ``"mse"``
(``tf.keras.losses.mean_squared_error``)."""


def _optimizer_classes():
    return {name.lower(): cls for name, cls in vars(tf.keras.optimizers).items()
            if isinstance(cls, type) and issubclass(cls, tf.keras.optimizers.Optimizer)
            and name != "Optimizer"}


def optimizer_names():
    """The Keras optimizers one can name (lower case): ``adam``, ``nadam``, ``sgd``, ..."""
    return sorted(_optimizer_classes())


def check_optimizer_name(name):
    """Return ``name``, or raise ``ValueError`` unless it names a Keras optimizer (any case)."""
    if not isinstance(name, str) or name.lower() not in _optimizer_classes():
        raise ValueError(f"optimizer must be one of {', '.join(map(repr, optimizer_names()))}, "
                         f"got {name!r}")
    return name


def make_optimizer(name, learning_rate):
    """A fresh Keras optimizer ``name`` (any case: ``"Adam"``, ``"rmsprop"``) at ``learning_rate``."""
    check_positive_number("learning_rate", learning_rate)
    return _optimizer_classes()[check_optimizer_name(name).lower()](learning_rate=learning_rate)


def check_loss_name(name):
    """Return ``name``, or raise ``ValueError`` unless it is one of :data:`LOSSES`."""
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}, got {name!r}")
    return name


def make_loss_fn(name):
    """The Keras loss ``loss_fn(y_true, y_pred)`` a chapter cell uses for ``name``:
    ``tf.keras.losses.mean_squared_error`` (``"mse"``) or ``tf.keras.losses.Huber()``."""
    if check_loss_name(name) == "mse":
        return tf.keras.losses.mean_squared_error
    return tf.keras.losses.Huber()
