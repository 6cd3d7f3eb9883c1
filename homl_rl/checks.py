"""Input checks shared by every section: one wording for one mistake."""

import numpy as np


def check_positive_int(name, value):
    """Return ``int(value)``, or raise ``ValueError`` unless it is an integer >= 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
