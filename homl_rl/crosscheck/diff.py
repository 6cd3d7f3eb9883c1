"""The structural diff of two outputs: nested lists, tuples, dicts and arrays, leaf by leaf."""

from dataclasses import dataclass

import numpy as np

FLOAT_TOLERANCE = 1e-6
"""max absolute difference accepted between floats (float64 NumPy code agrees to ~1e-15;
float32 TensorFlow code run eagerly on both sides agrees exactly on the same build)"""


@dataclass
class Difference:
    """The first place two outputs differ (``ok``: they do not), and the largest ``|difference|``."""
    ok: bool
    max_abs_diff: float = 0.0
    where: str = ""
    ours: object = None
    theirs: object = None
    problem: str = ""


def compare(ours, theirs, tol=FLOAT_TOLERANCE, where="output"):
    """Exact for integers and booleans, ``tol`` for floats; NaN, type and shape are reported."""
    if isinstance(ours, dict) and isinstance(theirs, dict) and set(ours) == set(theirs):
        worst = Difference(True)
        for key in ours:
            diff = compare(ours[key], theirs[key], tol, f"{where}.{key}")
            if not diff.ok:
                return diff
            worst.max_abs_diff = max(worst.max_abs_diff, diff.max_abs_diff)
        return worst
    if ours is None or isinstance(ours, (str, dict)):
        ok = ours == theirs
        return Difference(ok, 0.0, where, ours, theirs, "" if ok else "differs")
    if isinstance(ours, (list, tuple)) and not _is_numeric_leaf_list(ours):
        if not isinstance(theirs, (list, tuple, np.ndarray)):
            return Difference(False, np.nan, where, _kind(ours), _kind(theirs), "wrong type")
        if len(theirs) != len(ours):
            return Difference(False, np.nan, where, f"{len(ours)} items", f"{len(theirs)} items",
                              "wrong length")
        worst = Difference(True)
        for index, (a, b) in enumerate(zip(ours, theirs)):
            diff = compare(a, b, tol, f"{where}[{index}]")
            if not diff.ok:
                return diff
            worst.max_abs_diff = max(worst.max_abs_diff, diff.max_abs_diff)
        return worst
    a = np.asarray(ours)
    try:
        b = np.asarray(theirs)
        if b.dtype == object:
            raise TypeError
    except (TypeError, ValueError):
        return Difference(False, np.nan, where, _kind(ours), _kind(theirs), "wrong type")
    if not np.issubdtype(b.dtype, np.number) and b.dtype != bool:
        return Difference(False, np.nan, where, _kind(ours), _kind(theirs), "wrong type")
    if a.shape != b.shape:
        if a.size == b.size and a.size == 1:
            b = b.reshape(a.shape)
        else:
            return Difference(False, np.nan, where, f"shape {a.shape}", f"shape {b.shape}",
                              "wrong shape")
    exact = not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(b.dtype, np.floating))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    nan = np.isnan(b64) & ~np.isnan(a64)
    if nan.any():
        index = tuple(int(i) for i in np.argwhere(nan)[0])
        return Difference(False, np.nan, _at(where, index), a64[index], b64[index], "NaN")
    both_inf = np.isinf(a64) & (a64 == b64)
    with np.errstate(invalid="ignore"):
        delta = np.where(both_inf | (np.isnan(a64) & np.isnan(b64)), 0.0, np.abs(a64 - b64))
    delta = np.nan_to_num(delta, nan=np.inf)
    max_diff = float(delta.max()) if delta.size else 0.0
    bad = delta > (0 if exact else tol)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return Difference(False, max_diff, _at(where, index), a[index].item(), b[index].item(),
                          "differs")
    return Difference(True, max_diff)


def _is_numeric_leaf_list(value):
    return all(isinstance(item, (int, float, bool, np.number, np.bool_)) for item in value)


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"ndarray {value.dtype} {value.shape}"
    return type(value).__name__


def _at(where, index):
    return f"{where}[{', '.join(map(str, index))}]" if index else where
