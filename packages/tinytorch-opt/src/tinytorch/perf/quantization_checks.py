"""Module 15 · Quantization — the checks behind its arguments: inputs, scales, zero-points.

Connection map
    Prerequisites : 01 Tensor (dtypes)
    This module   : what every function of ``quantization.py`` asks of its arguments before
                    it computes: numbers (a Tensor or numeric array), and (scale,
                    zero_point) pairs that fit the input, one pair per tensor or one per
                    channel of an axis, reshaped to broadcast along it
    Unlocks       : clear errors in ``quantize``, ``dequantize`` and the quantized layers

Systems insight: per-channel parameters are a (C,) vector; reshaped to (1, C, 1, 1) (for
axis 1 of an NCHW batch) they broadcast against the data with no copy, so quantizing
per channel costs the same passes over memory as quantizing per tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.arguments import NUMERIC_KINDS
from tinytorch.core.tensor import _data


def _array(op: str, x: Any) -> np.ndarray:
    """``x`` (a Tensor, array or number) as a NumPy array of numbers, or an error naming ``op``."""
    array = np.asarray(_data(x))
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(
            f"{op}: expected numbers (a Tensor or a numeric array), got {type(x).__name__} "
            f"of dtype {array.dtype}"
        )
    return array


def _along(param: np.ndarray, axis: int | None, ndim: int) -> np.ndarray:
    """A per-channel parameter (C,) reshaped to broadcast along ``axis`` of an ndim array."""
    if axis is None:
        return param
    shape = [1] * ndim
    shape[axis] = -1
    return param.reshape(shape)


def _check_qparams(
    op: str, shape: tuple[int, ...], scale: Any, zero_point: Any, axis: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Validate (scale, zero_point) for an array of ``shape``; return them ready to broadcast."""
    scale = np.asarray(scale, dtype=np.float32)
    zero_point = np.asarray(zero_point)
    if not np.issubdtype(zero_point.dtype, np.integer):
        raise TypeError(f"{op}: zero_point must be integer, got dtype {zero_point.dtype}")
    if scale.shape != zero_point.shape:
        raise ValueError(
            f"{op}: scale {scale.shape} and zero_point {zero_point.shape} must have one shape"
        )
    if not np.all(scale > 0):
        raise ValueError(f"{op}: every scale must be positive, got min {scale.min()}")
    if axis is None:
        if scale.ndim != 0:
            raise ValueError(
                f"{op}: per-tensor scale must be a scalar, got shape {scale.shape} for input "
                f"{shape}; pass axis= for per-channel parameters"
            )
    else:
        if not -len(shape) <= axis < len(shape):
            raise ValueError(f"{op}: axis {axis} is not an axis of the input {shape}")
        axis %= len(shape)
        if scale.shape != (shape[axis],):
            raise ValueError(
                f"{op}: per-channel scale has shape {scale.shape}, but axis {axis} of the "
                f"input {shape} has {shape[axis]} channels"
            )
    zero_point = zero_point.astype(np.int32)
    return _along(scale, axis, len(shape)), _along(zero_point, axis, len(shape))
