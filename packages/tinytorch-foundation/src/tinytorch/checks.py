"""Checks — one way, shared by every tier, to refuse a bad argument with a clear error.

Connection map
    Prerequisites : the standard library only, so every tier and the datasets can use it
    Teaches       : validating at the boundary: say who refused what, what was expected,
                    and what arrived, before a bad value travels on
    Unlocks       : clear errors in optimizers, schedulers, datasets, loaders, tokenizers

Why it matters: ``SGD(params, lr=float("inf"))`` used to be accepted, and one step
later every weight was NaN, far from the line that caused it. A wrong type is a
TypeError, a value out of range a ValueError, and both messages read
``"<where>: <name> must be ..., got <value>"``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any


def check_int(where: str, name: str, value: object, minimum: int | None = None) -> int:
    """``value`` if it is an int (a bool is not one) and at least ``minimum``.

    Raises:
        TypeError: ``value`` is not an int.
        ValueError: ``value`` is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an int, got {_shown(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value}")
    return value


def check_number(
    where: str, name: str, value: object, minimum: float | None = None, above: bool = False
) -> float:
    """``value`` if it is a finite real number, at least ``minimum`` (above it if ``above``).

    NaN and infinity are refused whatever the bounds: no hyper-parameter or size means
    anything useful as either, and both spread to every number they touch.

    Raises:
        TypeError: ``value`` is not a real number (a bool is not one).
        ValueError: ``value`` is NaN, infinite or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number, got {_shown(value)}")
    low_ok = minimum is None or (value > minimum if above else value >= minimum)
    if not (math.isfinite(value) and low_ok):
        bound = "" if minimum is None else f" {'>' if above else '>='} {minimum}"
        raise ValueError(f"{where}: {name} must be a finite number{bound}, got {value}")
    return value


def check_callable(where: str, name: str, value: object) -> Callable[..., Any]:
    """``value`` if it can be called (a function, a Module, a lambda); else a TypeError."""
    if not callable(value):
        raise TypeError(
            f"{where}: {name} must be callable (a function or a Module), got {_shown(value)}"
        )
    return value


def check_instance(where: str, name: str, value: object, kind: Any, expected: str) -> Any:
    """``value`` if it is an instance of ``kind`` (a class or a tuple of them); else a
    TypeError that says what was ``expected`` in words a learner knows ("an Optimizer
    (SGD, Adam, ...)") rather than a class path."""
    if not isinstance(value, kind):
        raise TypeError(f"{where}: {name} must be {expected}, got {_shown(value)}")
    return value


def _shown(value: object) -> str:
    """A value's type and a short repr, for an error message."""
    return f"{type(value).__name__} {value!r:.40}"
