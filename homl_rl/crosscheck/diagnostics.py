"""Generic diagnostics: what a failing row's difference is, when no catalogued hint explains it.

The hint catalogue (:mod:`.hints`) names known mistakes. A mistake outside it still leaves
a difference with a shape: the reader's output may be ours in reverse order, ours times a
constant, ours one step late. Each diagnostic here tests one such property of the two
outputs, not a named mistake: a pure function of ``(ours, theirs)``, two NumPy arrays,
returning its message when the property holds and ``None`` otherwise. None of them is
shown where it does not hold: each needs enough elements for the property to mean
something (a reversal needs two elements and ours not a palindrome; a factor needs two
nonzero elements and the same factor on every one), and compares with the diff's own
tolerance (:data:`homl_rl.crosscheck.diff.FLOAT_TOLERANCE`).

:func:`diagnose` applies them to a row's outputs (one per call, or per seed and call) and
keeps a message only if it holds, with the same message, on every output that differs;
:func:`seed_independent` compares the reader's outputs across seeds.
"""

import numpy as np

from homl_rl.crosscheck.diff import FLOAT_TOLERANCE, compare

RELATIVE_TOLERANCE = 1e-6
"""relative error allowed in ``theirs == c · ours`` (float32 outputs agree to ~6e-8)"""


def _close(x, y):
    """Elementwise equality as the report means it: ``|x - y| <= FLOAT_TOLERANCE``."""
    return x.shape == y.shape and bool(np.all(np.abs(x - y) <= FLOAT_TOLERANCE))


def _is_constant(a):
    """Whether ``a`` holds one value only (along its first axis, for the order tests)."""
    return a.shape[0] < 2 or _close(a[1:], a[:-1])


def reversed_order(ours, theirs):
    """Yours is ours with its first axis reversed."""
    if ours.ndim == 0 or ours.shape != theirs.shape or ours.shape[0] < 2:
        return None
    if _close(ours, ours[::-1]):  # a palindrome: reversed, it is itself
        return None
    return "yours is ours in reverse order" if _close(theirs, ours[::-1]) else None


def constant_factor(ours, theirs):
    """Yours is ``c`` times ours, one ``c`` (not 0, not 1) for every element."""
    if ours.shape != theirs.shape or _is_constant(ours.reshape(-1)):
        return None
    nonzero = np.abs(ours) > FLOAT_TOLERANCE
    if nonzero.sum() < 2:
        return None
    c = float(np.dot(ours[nonzero], theirs[nonzero]) / np.dot(ours[nonzero], ours[nonzero]))
    if abs(c) <= FLOAT_TOLERANCE or abs(c - 1) <= RELATIVE_TOLERANCE:
        return None
    scaled = c * ours
    if np.all(np.abs(theirs - scaled) <= FLOAT_TOLERANCE + RELATIVE_TOLERANCE * np.abs(scaled)):
        return f"yours is ours times a constant factor (×{c:.6g})"
    return None


def constant_offset(ours, theirs):
    """Yours is ours plus ``d``, one ``d`` (not 0) for every element."""
    if ours.shape != theirs.shape or ours.size < 2 or _is_constant(ours.reshape(-1)):
        return None
    difference = (theirs - ours).reshape(-1)
    d = float(difference[0])
    if abs(d) <= FLOAT_TOLERANCE or not np.all(np.abs(difference - d) <= FLOAT_TOLERANCE):
        return None
    return f"yours is ours plus a constant ({d:+.6g})"


def shifted_by_one(ours, theirs):
    """Yours is ours one step later (``yours[t] = ours[t - 1]``) or earlier, along the first axis."""
    if ours.ndim == 0 or ours.shape != theirs.shape or ours.shape[0] < 3 or _is_constant(ours):
        return None
    if _close(theirs[1:], ours[:-1]):
        return "yours is ours shifted by one step, one step late: yours[t] = ours[t - 1]"
    if _close(theirs[:-1], ours[1:]):
        return "yours is ours shifted by one step, one step early: yours[t] = ours[t + 1]"
    return None


def other_shape(ours, theirs):
    """Yours holds our values, in our order, in another shape (or is ours transposed)."""
    if ours.shape == theirs.shape or ours.size != theirs.size or ours.size < 2:
        return None
    if _close(theirs.reshape(-1), ours.reshape(-1)):
        return (f"yours has the right values in another shape: yours {theirs.shape}, "
                f"ours {ours.shape}")
    if ours.ndim == 2 and _close(theirs, ours.T):
        return f"yours is ours transposed: yours {theirs.shape}, ours {ours.shape}"
    return None


DIAGNOSTICS = [reversed_order, constant_factor, constant_offset, shifted_by_one, other_shape]
"""the diagnostics :func:`diagnose` tries, in the order it shows them"""


def _as_array(value):
    """``value`` as a float64 array of finite numbers, or ``None`` (a dict, a string, a ragged
    list; NaN or infinity, where no property of the arithmetic can be said exactly)."""
    try:
        array = np.asarray(value)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                         or array.dtype == bool):
            return None
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        return None
    return array if np.all(np.isfinite(array)) else None


def _outputs(ours, theirs, depth):
    """The pairs of outputs ``depth`` list levels down (1: per call; 2: per seed and call)."""
    if depth == 0:
        return [(ours, theirs)]
    if not (isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple))
            and len(ours) == len(theirs)):
        return [(ours, theirs)]
    return [pair for a, b in zip(ours, theirs) for pair in _outputs(a, b, depth - 1)]


def diagnose(ours, theirs, depth=1):
    """The messages of :data:`DIAGNOSTICS` that hold on every output where ours and theirs differ.

    ``ours`` and ``theirs``: a row's outputs, ``depth`` list levels of them (1: one output
    per call, as :func:`.checks.base.compare_result` has them; 2: per seed, then per call).
    A diagnostic is kept only if it gives the same message on each output that differs
    (one factor for all of them, say); outputs that are not arrays of finite numbers give none.
    """
    pairs = [(a, b) for a, b in _outputs(ours, theirs, depth) if not compare(a, b).ok]
    arrays = [(_as_array(a), _as_array(b)) for a, b in pairs]
    if not arrays or any(a is None or b is None for a, b in arrays):
        return []
    messages = []
    for diagnostic in DIAGNOSTICS:
        found = {diagnostic(a, b) for a, b in arrays}
        if len(found) == 1 and None not in found:
            message = found.pop()
            if len(arrays) > 1:
                message += f" (in each of the {len(arrays)} outputs that differ)"
            messages.append(message)
    return messages


def seed_independent(ours_by_seed, theirs_by_seed):
    """Your output is the same at every seed, and ours is not: it does not depend on the seed."""
    if len(theirs_by_seed) < 2 or len(theirs_by_seed) != len(ours_by_seed):
        return None
    first = theirs_by_seed[0]
    if not all(compare(first, other, tol=0.0).ok for other in theirs_by_seed[1:]):
        return None
    if all(compare(ours_by_seed[0], other, tol=0.0).ok for other in ours_by_seed[1:]):
        return None  # ours does not depend on it either: nothing to say
    return (f"your output does not depend on the seed: it is the same at all "
            f"{len(theirs_by_seed)} seeds, ours is not")
