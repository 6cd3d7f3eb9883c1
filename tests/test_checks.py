"""The shared input checks (homl_rl.checks): one wording for one mistake."""

import math

import numpy as np
import pytest

from homl_rl.checks import (
    check_bool, check_choice, check_non_negative_int, check_positive_int, check_positive_number,
    check_revision, check_unit_interval)


@pytest.mark.parametrize("value", [0.0, 0.5, 1, np.float32(0.25), np.int64(1)])
def test_unit_interval_accepts_numbers_from_0_to_1(value):
    assert check_unit_interval("epsilon", value) == value


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, True, "0.5", None])
def test_unit_interval_refuses_the_rest(value):
    with pytest.raises(ValueError, match=r"^epsilon must be in \[0, 1\], got "):
        check_unit_interval("epsilon", value)


def test_unit_interval_without_zero():
    assert check_unit_interval("tau", 1.0, zero=False) == 1.0
    assert check_unit_interval("tau", 0.005, zero=False) == 0.005
    for value in (0, 0.0, -0.5, 1.01, math.nan):
        with pytest.raises(ValueError, match=r"^tau must be in \(0, 1\], got "):
            check_unit_interval("tau", value, zero=False)


@pytest.mark.parametrize("check, good, bad, message", [
    (check_positive_int, [1, np.int64(7)], [0, -3, 2.0, True], "must be a positive integer"),
    (check_non_negative_int, [0, 5, np.int32(2)], [-1, 0.5, False], "must be a non-negative integer"),
    (check_positive_number, [1e-4, 3, np.float32(0.1)], [0, -1e-3, math.nan, True, "1"],
     "must be a positive number"),
])
def test_number_checks(check, good, bad, message):
    for value in good:
        assert check("x", value) == value
    for value in bad:
        with pytest.raises(ValueError, match=f"^x {message}, got "):
            check("x", value)


def test_choices_booleans_and_revisions():
    assert check_choice("loss", "mse", ("huber", "mse")) == "mse"
    with pytest.raises(ValueError, match=r"^loss must be one of 'huber', 'mse', got 'mae'$"):
        check_choice("loss", "mae", ("huber", "mse"))
    assert check_bool("double", np.bool_(True)) is True
    with pytest.raises(ValueError, match=r"^double must be True or False, got 1$"):
        check_bool("double", 1)
    assert check_revision("older") == "older"
    with pytest.raises(ValueError, match=r"^revision must be one of 'current', 'older', got 'v2'$"):
        check_revision("v2")
