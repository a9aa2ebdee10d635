"""Module 01 · Tensor — the checks behind Tensor's arguments: dtypes, shapes, axes, devices.

Connection map
    Prerequisites : Python and NumPy
    This module   : what every Tensor method asks of its arguments before it computes:
                    a numeric dtype, a shape of sizes >= 0, axes that exist (negative ones
                    counted from the end), PyTorch's and NumPy's spellings of a reduction's
                    settings, and the one device there is, the CPU (the Tensor class that
                    uses them is in ``tensor.py``)
    Unlocks       : clear errors in 02 Activations · 03 Layers and every op after them

Systems insight: a check costs a few Python operations once per call, while the op
behind it touches every element; refusing ``x.sum(dim=5)`` on a 2-d tensor here names
the op and the valid axes, where NumPy would report an ``AxisError`` from deep inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.checks import check_int

NUMERIC_KINDS = "biuf"  # NumPy's dtype kinds a Tensor holds: bool, int, unsigned, float


def _numeric_dtype(op: str, dtype: Any) -> np.dtype:
    """``dtype`` as a NumPy dtype, if it is one a Tensor holds (numbers or bools)."""
    try:
        numeric = np.dtype(dtype)
    except TypeError:
        numeric = None
    if numeric is None or numeric.kind not in NUMERIC_KINDS:
        raise TypeError(
            f"{op}: dtype must be a numeric or bool NumPy dtype (e.g. np.float32, np.int64), "
            f"got {dtype!r:.40}"
        )
    return numeric


def _varargs(values: tuple) -> tuple:
    """Accept both spellings of a shape or axis list: f(2, 3) and f((2, 3))."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        return tuple(values[0])
    return values


def _shape(op: str, shape: tuple) -> tuple[int, ...]:
    """A shape given as ``f(2, 3)`` or ``f((2, 3))``, checked: every size an int >= 0."""
    shape = _varargs(shape)
    for size in shape:
        check_int(op, "every size in the shape", size, minimum=0)
    return shape


def _reduction_args(
    op: str, shape: tuple[int, ...], dim: Any, keepdim: bool, axis: Any, keepdims: Any
) -> tuple:
    """(axis, keepdims) from PyTorch's ``dim``/``keepdim`` or NumPy's ``axis``/``keepdims``.

    PyTorch accepts both spellings, so ``x.sum(dim=1, keepdim=True)`` and
    ``x.sum(axis=1, keepdims=True)`` mean the same; giving both for one setting is an error.
    Every axis must exist in a tensor of ``shape``, and none may repeat.
    """
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: pass dim or axis (the same setting), not both")
        dim = axis
    if keepdims is not None:
        if keepdim:
            raise TypeError(f"{op}: pass keepdim or keepdims (the same setting), not both")
        keepdim = keepdims
    dim = tuple(dim) if isinstance(dim, list) else dim
    axes = () if dim is None else dim if isinstance(dim, tuple) else (dim,)
    if len({_axis(op, "dim", a, shape) for a in axes}) != len(axes):
        raise ValueError(f"{op}: dim={dim} names an axis twice")
    if not shape:  # a 0-d tensor's one axis (0 or -1) is the whole of it
        dim = None
    return dim, bool(keepdim)


def _axis(op: str, name: str, value: int, shape: tuple[int, ...]) -> int:
    """A (possibly negative) axis number as 0..ndim-1, or an error naming the op."""
    check_int(op, name, value)
    ndim = max(len(shape), 1)  # a 0-d tensor has axis 0 (and -1), as in NumPy and PyTorch
    if not -ndim <= value < ndim:
        raise ValueError(
            f"{op}: {name}={value} is out of range for a tensor of shape {shape} "
            f"(valid: {-ndim} to {ndim - 1})"
        )
    return value % ndim


# ----------------------------------------------------------------------------- the device


class device:
    """Where a tensor's numbers live: ``device("cpu")``, the only device tinytorch has.

    Every Tensor is a NumPy array in main memory: PyTorch code that names its device
    (``x.to(device)``) runs unchanged, and "cuda" or "mps" fails at once, never silently.
    """

    __slots__ = ()
    type = "cpu"
    index = None

    def __init__(self, spec: str | device = "cpu") -> None:
        if not (isinstance(spec, device) or (isinstance(spec, str) and spec == "cpu")):
            raise ValueError(
                f"device {spec!r:.40}: tinytorch computes on the CPU only (every tensor is "
                "a NumPy array in main memory); use 'cpu', or leave the device out"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device)

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return self.type


CPU = device("cpu")


def _check_device(spec: Any) -> None:
    """Refuse any device but the CPU (``None`` means the default, the CPU)."""
    if spec is not None:
        device(spec)
