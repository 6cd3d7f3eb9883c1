"""Input checks shared by every section and engine: one wording for one mistake."""

import gymnasium as gym
import numpy as np


def check_positive_int(name, value):
    """Return ``int(value)``, or raise ``ValueError`` unless it is an integer >= 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_non_negative_int(name, value):
    """Return ``int(value)``, or raise ``ValueError`` unless it is an integer >= 0 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def check_positive_number(name, value):
    """Return ``value``, or raise ``ValueError`` unless it is a number > 0 (not a bool, not NaN)."""
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


def check_choice(name, value, choices):
    """Return ``value``, or raise ``ValueError`` unless it is one of ``choices`` (listed in the
    message)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_bool(name, value):
    """Return ``bool(value)``, or raise ``ValueError`` unless it is ``True`` or ``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


REVISIONS = ("current", "older")
"""The chapter notebook's two revisions, for the sections whose cells changed between them
(the policy net, policy gradients, the DQN variants): the current one and the older one."""


def check_revision(revision):
    """Return ``revision``, or raise ``ValueError`` unless it is one of :data:`REVISIONS`."""
    return check_choice("revision", revision, REVISIONS)


def check_unit_interval(name, value, zero=True):
    """Return ``value``, or raise ``ValueError`` unless it is a number in [0, 1] (not a bool, not NaN):
    a discount factor, an epsilon, a probability; in (0, 1] with ``zero=False`` (a soft update rate)."""
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not (0 <= value if zero else 0 < value) or not value <= 1):
        raise ValueError(f"{name} must be in {'[' if zero else '('}0, 1], got {value!r}")
    return value


def check_discrete_actions(env):
    """Raise unless ``env`` has a ``Discrete`` action space (every policy of the chapter needs one)."""
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise ValueError(
            f"this needs a Discrete action space, got {env.action_space} "
            f"(environment {getattr(env.spec, 'id', env)})")
    return int(env.action_space.n)


def check_observation(obs, model, env_id=None):
    """Raise a clear error unless ``obs`` has the shape ``model`` takes (once it is built)."""
    obs = np.asarray(obs)
    expected = tuple(model.input_shape[1:]) if model.built else None
    if expected is not None and obs.shape != expected:
        where = f" from {env_id}" if env_id else ""
        raise ValueError(f"the model takes observations of shape {expected}, "
                         f"got one of shape {obs.shape}{where}")
    return obs
