"""Checks — the shared argument checks behind every tier's clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinytorch.checks import check_callable, check_int, check_number


@pytest.mark.parametrize("value", [0, 7, np.int64(3)])
def test_an_int_in_range_passes_through(value) -> None:
    assert check_int("f", "n", value, minimum=0) == value


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (True, TypeError, "f: n must be an int, got bool True"),
        (2.0, TypeError, "f: n must be an int, got float 2.0"),
        ("3", TypeError, "f: n must be an int, got str '3'"),
        (-1, ValueError, "f: n must be >= 0, got -1"),
    ],
)
def test_int_errors_name_the_caller_the_argument_and_the_value(value, error, message) -> None:
    with pytest.raises(error) as info:
        check_int("f", "n", value, minimum=0)
    assert str(info.value) == message


@pytest.mark.parametrize("value", [0, 0.5, np.float32(2.5), 10**30])
def test_a_finite_number_in_range_passes_through(value) -> None:
    assert check_number("g", "x", value, minimum=0) == value


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        (math.nan, {}, ValueError, "g: x must be a finite number, got nan"),
        (math.inf, {"minimum": 0}, ValueError, "g: x must be a finite number >= 0, got inf"),
        (-0.1, {"minimum": 0}, ValueError, "g: x must be a finite number >= 0, got -0.1"),
        (0, {"minimum": 0, "above": True}, ValueError, "g: x must be a finite number > 0, got 0"),
        (None, {}, TypeError, "g: x must be a number, got NoneType None"),
        (False, {}, TypeError, "g: x must be a number, got bool False"),
    ],
)
def test_number_errors_name_the_caller_the_argument_and_the_value(
    value, kwargs, error, message
) -> None:
    with pytest.raises(error) as info:
        check_number("g", "x", value, **kwargs)
    assert str(info.value) == message


def test_a_callable_passes_through_and_anything_else_is_named() -> None:
    assert check_callable("h", "fn", len) is len
    with pytest.raises(TypeError) as info:
        check_callable("h", "fn", 5)
    assert str(info.value) == "h: fn must be callable (a function or a Module), got int 5"
