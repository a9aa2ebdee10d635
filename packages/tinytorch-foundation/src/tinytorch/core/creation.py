"""Module 01 · Tensor — making tensors: from data, from NumPy, filled and random.

Connection map
    Prerequisites : Python and NumPy
    This module   : the functions that make tensors, with PyTorch's names and arguments:
                    ``tensor``, ``from_numpy``, ``zeros``, ``ones``, ``rand``, ``randn``
                    and their ``*_like`` forms (the Tensor class is in ``tensor.py``)
    Unlocks       : 02 Activations · 03 Layers (weights start as random tensors)

Systems insight: ``from_numpy(a)`` copies nothing (the tensor is ``a``'s memory, dtype
and all), while ``tensor(a)`` makes a float32 copy: for a (1000, 1000) float64 array,
0 bytes against a new 4,000,000-byte buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.arguments import _check_device, _shape
from tinytorch.core.tensor import DEFAULT_DTYPE, Tensor, get_rng


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
    """Functional spelling of ``Tensor(...)``, as in ``torch.tensor``."""
    _check_device(device)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing ``array``'s memory and keeping its dtype (``torch.from_numpy``).

    Unlike ``Tensor(array)``, nothing is copied or converted: a change to one shows in
    the other, and a float64 array gives a float64 tensor.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    return Tensor._wrap(array)


def zeros(
    *shape: int, dtype: Any = DEFAULT_DTYPE, requires_grad: bool = False, device: Any = None
) -> Tensor:
    _check_device(device)
    return Tensor(
        np.zeros(_shape("zeros", shape), dtype=dtype), requires_grad=requires_grad, dtype=dtype
    )


def ones(
    *shape: int, dtype: Any = DEFAULT_DTYPE, requires_grad: bool = False, device: Any = None
) -> Tensor:
    _check_device(device)
    return Tensor(
        np.ones(_shape("ones", shape), dtype=dtype), requires_grad=requires_grad, dtype=dtype
    )


def randn(
    *shape: int, dtype: Any = DEFAULT_DTYPE, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Standard-normal samples from the shared generator (see :func:`manual_seed`)."""
    _check_device(device)
    return Tensor(
        get_rng().standard_normal(_shape("randn", shape)), requires_grad=requires_grad, dtype=dtype
    )


def rand(
    *shape: int, dtype: Any = DEFAULT_DTYPE, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Uniform samples in [0, 1) from the shared generator (see :func:`manual_seed`)."""
    _check_device(device)
    return Tensor(get_rng().random(_shape("rand", shape)), requires_grad=requires_grad, dtype=dtype)


def _like(make: Any, input: Tensor, dtype: Any, requires_grad: bool, device: Any) -> Tensor:
    """``make(input.shape, ...)`` in ``input``'s dtype unless another is given."""
    dtype = input.dtype if dtype is None else dtype
    return make(input.shape, dtype=dtype, requires_grad=requires_grad, device=device)


def zeros_like(
    input: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros of ``input``'s shape and (unless given) dtype."""
    return _like(zeros, input, dtype, requires_grad, device)


def ones_like(
    input: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Ones of ``input``'s shape and (unless given) dtype."""
    return _like(ones, input, dtype, requires_grad, device)


def rand_like(
    input: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Uniform samples in [0, 1) of ``input``'s shape and (unless given) dtype."""
    return _like(rand, input, dtype, requires_grad, device)
