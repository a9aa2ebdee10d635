"""tinytorch.testing_strategies — random inputs for the op table's properties (hypothesis).

The op table (:mod:`tinytorch.testing`) calls every op on a few hand-picked shapes. The
property suites (``tests/test_op_properties.py`` of each tier) state what must hold for
*every* shape, value and dtype, and let hypothesis search for a counterexample: shapes
with 0- and 1-sized axes, broadcasting pairs, every axis, float32 and float64. This is
how MiniTorch and PyTorch's own op tests find the cases a hand-written list misses.

Imported only by tests: hypothesis is a test dependency of every tier, never a runtime
one, so nothing a tier runs imports this module. Importing it loads a settings profile:
``ci`` (the default: few examples, derandomized, so every run checks the same cases) or
``thorough`` (``HYPOTHESIS_PROFILE=thorough``, what ``nox -s hypothesis`` runs). Neither
keeps an example database, and hypothesis's own caches go to the temporary folder:
nothing is written into the tree a test runs in (a tier, a learner's tree, a sandbox).
"""

from __future__ import annotations

import math
import operator
import os
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.testing import Domain, OpCase

# ----------------------------------------------------------------------------- profiles

# Read when hypothesis first writes a cache (after this import), never at its own import.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "hypothesis")
)

_COMMON = {
    "database": None,  # no .hypothesis/ folder in a tier, a learner's tree or a sandbox
    "deadline": None,  # two shared cores make single examples slow now and then
    "print_blob": True,  # a failure prints the line that replays it
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", max_examples=12, derandomize=True, **_COMMON)
settings.register_profile("thorough", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# ----------------------------------------------------------------------------- shapes

MAX_SIDE = 4  # every example stays small: a gradcheck costs two forwards per element
MAX_DIMS = 3

FLOAT_DTYPES = (np.float32, np.float64)
INT_DTYPES = (np.int32, np.int64)


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 0) -> st.SearchStrategy:
    """Array shapes, 0-d to ``max_dims``-d, sides from ``min_side`` (0: empty axes) to 4."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=MAX_SIDE
    )


def broadcasting_shapes(min_side: int = 0) -> st.SearchStrategy[tuple[tuple, tuple]]:
    """Two shapes that broadcast together (any of them may be 0-d, or have size-1 axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_side=min_side, max_side=MAX_SIDE, max_dims=MAX_DIMS
    ).map(lambda shapes: shapes.input_shapes)


@st.composite
def clashing_shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that do *not* broadcast: one axis differs and neither side is 1."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    sizes = st.integers(2, MAX_SIDE + 1)
    size = draw(sizes.filter(lambda s: s != shape[axis]))
    if shape[axis] == 1:
        shape = (*shape[:axis], draw(sizes.filter(lambda s: s != size)), *shape[axis + 1 :])
    other = (*shape[:axis], size, *shape[axis + 1 :])
    leading = len(shape) - axis  # drop some leading axes of one side: still a clash
    other = other[draw(st.integers(0, len(other) - leading)) :]
    return (shape, other) if draw(st.booleans()) else (other, shape)


def axis_of(ndim: int) -> st.SearchStrategy[int]:
    """One valid axis of an ``ndim``-D array, negative ones included."""
    return st.integers(-ndim, ndim - 1)


def axes_of(ndim: int) -> st.SearchStrategy[Any]:
    """What a reduction accepts: None (every axis), one axis, or a tuple of distinct axes."""
    return st.one_of(st.none(), axis_of(ndim), hnp.valid_tuple_axes(ndim)) if ndim else st.none()


def bad_axis(ndim: int) -> st.SearchStrategy[int]:
    """An axis just outside an ``ndim``-D array: ``ndim`` .. ``ndim + 2``, or below ``-ndim``.

    A 0-d array counts as 1-D, as in NumPy and PyTorch (``x.sum(0)`` of a scalar is fine).
    """
    ndim = max(ndim, 1)
    return st.one_of(st.integers(ndim, ndim + 2), st.integers(-ndim - 3, -ndim - 1))


@st.composite
def reshapes(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A new shape with as many elements as ``shape`` (maybe with one -1)."""
    size = math.prod(shape)
    if size == 0:  # any shape with a zero side holds nothing; -1 would be ambiguous
        new = draw(shapes(min_dims=1))
        at = draw(st.integers(0, len(new) - 1))
        return (*new[:at], 0, *new[at + 1 :])
    factors = [p for n in shape for p in _prime_factors(n)]
    ndim = draw(st.integers(0, MAX_DIMS + 1)) if size == 1 else draw(st.integers(1, MAX_DIMS + 1))
    slots = [draw(st.integers(0, ndim - 1)) for _ in factors] if ndim else []
    new = [math.prod(f for f, slot in zip(factors, slots) if slot == i) for i in range(ndim)]
    if new and draw(st.booleans()):
        new[draw(st.integers(0, len(new) - 1))] = -1
    return tuple(new)


def _prime_factors(n: int) -> list[int]:
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


# ----------------------------------------------------------------------------- values


def arrays_in(domain: Domain, shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with values from ``domain``, read as ``Domain.sample`` does.

    float64 always: the NumPy reference computes in float64, and a test casts the array to
    the dtype the op runs in. ``distinct`` values are evenly spaced and shuffled (no ties,
    and far enough apart for a finite difference); ``margin`` keeps |x| >= margin.
    """
    if domain.distinct:
        n = math.prod(shape)
        return st.permutations(range(n)).map(
            lambda order: (
                domain.low
                + np.reshape(np.array(order, dtype=np.float64), shape)
                / max(n - 1, 1)
                * (domain.high - domain.low)
            )
        )
    if domain.margin:
        size = st.floats(domain.margin, domain.high)
        elements = st.one_of(size, size.map(operator.neg))
    else:
        elements = st.floats(domain.low, domain.high)
    return hnp.arrays(np.float64, shape, elements=elements)


def finite_arrays(dtype: Any, shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``dtype`` holding any finite value it can represent, up to its largest
    (3.4e38 for float32): the inputs a numerically stable op must survive."""
    width = np.dtype(dtype).itemsize * 8
    elements = st.floats(allow_nan=False, allow_infinity=False, width=width)
    return hnp.arrays(dtype, shape, elements=elements)


def int_arrays(shape: tuple[int, ...], low: int = -5, high: int = 5) -> st.SearchStrategy:
    """int64 arrays of ``shape`` with values in [low, high] (indices, labels, int operands)."""
    return hnp.arrays(np.int64, shape, elements=st.integers(low, high))


# ----------------------------------------------------------------------------- coverage


class OpProperties:
    """Which public ops of the op table a property suite covers.

    ``@properties.of(Tensor.sum, Tensor.mean)`` above a property test records that the
    test states something about those ops; :meth:`missing` names the ops of the table
    that no property speaks about, so a test can insist that list is empty.
    """

    def __init__(self) -> None:
        self.covered: set[Callable[..., Any]] = set()

    def of(self, *ops: Callable[..., Any]) -> Callable[[Callable], Callable]:
        def mark(test: Callable) -> Callable:
            self.covered.update(ops)
            return test

        return mark

    def missing(self, cases: Iterable[OpCase]) -> list[str]:
        """The ``module.qualname`` of every op in ``cases`` without a property, sorted."""
        return sorted(
            {f"{c.op.__module__}.{c.op.__qualname__}" for c in cases if c.op not in self.covered}
        )


__all__ = [
    "FLOAT_DTYPES",
    "INT_DTYPES",
    "MAX_SIDE",
    "OpProperties",
    "arrays_in",
    "axes_of",
    "axis_of",
    "bad_axis",
    "broadcasting_shapes",
    "clashing_shapes",
    "finite_arrays",
    "int_arrays",
    "reshapes",
    "shapes",
]
