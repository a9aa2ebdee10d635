"""Module 01 · Tensor — an n-dimensional array that knows what it costs.

Connection map
    Prerequisites : Python and NumPy
    This module   : Tensor — storage (dtype, shape, bytes), broadcasting arithmetic,
                    matrix multiplication, reductions, reshapes, indexing
    Unlocks       : 02 Activations · 03 Layers · 04 Losses · 05 Autograd wakes up the
                    dormant ``requires_grad`` / ``grad`` / ``backward()`` seen here

Systems insight: every Tensor is a NumPy buffer plus metadata. A (1000, 1000) float32
tensor holds 4,000,000 bytes; ``A @ B`` on two of them needs 12 MB at peak (two inputs,
one output) and 2 * 1000**3 = 2 GFLOPs of work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_DTYPE = np.float32

_rng = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reset the generator behind every random initialisation and dropout mask.

    Two runs that call ``manual_seed(s)`` first make identical tensors, bit for bit.
    """
    global _rng
    _rng = np.random.default_rng(seed)


def get_rng() -> np.random.Generator:
    """The shared random generator (reset it with :func:`manual_seed`)."""
    return _rng


def _data(value: Any) -> Any:
    """The array behind a Tensor, or the value itself (Python scalars, arrays)."""
    return value.data if isinstance(value, Tensor) else value


def _plain_index(index: Any) -> Any:
    """An index with any Tensors inside replaced by their arrays, ready for NumPy."""
    if isinstance(index, tuple):
        return tuple(_data(i) for i in index)
    return _data(index)


def _varargs(values: tuple) -> tuple:
    """Accept both spellings of a shape or axis list: f(2, 3) and f((2, 3))."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        return tuple(values[0])
    return values


def _shape_error(op: str, a: Any, b: Any, hint: str) -> ValueError:
    return ValueError(
        f"{op}: shapes {np.shape(_data(a))} and {np.shape(_data(b))} are incompatible; {hint}"
    )


# ----------------------------------------------------------------------------- gradient hooks


class DormantGradients:
    """Gradients as Module 01 ships them: ops record nothing, ``backward()`` says why.

    Every op below ends with one call to :func:`record`; ``Tensor.backward`` hands its
    work to the same object. Module 05 replaces this object with its engine (see
    :func:`set_gradient_engine`); no method of ``Tensor`` is ever replaced.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def record(self, out: Tensor, rule: str, inputs: tuple, fields: dict) -> Tensor:
        return out

    def backward(self, tensor: Tensor, gradient: Any) -> None:
        raise RuntimeError(f"Tensor.backward() is dormant: {self.reason}")


DORMANT = DormantGradients(
    "gradients switch on in Module 05 (Autograd), by themselves, once Module 05 is "
    "implemented: its gradient rules and its engine in tinytorch/core/autograd.py"
)
_gradients: Any = DORMANT


def set_gradient_engine(engine: Any) -> None:
    """Install what :func:`record` and ``Tensor.backward`` call (Module 05 does this)."""
    global _gradients
    _gradients = engine


def gradient_engine() -> Any:
    """What :func:`record` and ``Tensor.backward`` call now (``DORMANT`` until Module 05)."""
    return _gradients


def record(out: Tensor, rule: str, /, *inputs: Any, **fields: Any) -> Tensor:
    """Let gradients remember how ``out`` was made; returns ``out``.

    ``rule`` names the class in ``tinytorch/core/autograd.py`` (Module 05) that knows
    this op's derivative, ``inputs`` are the operands a gradient may flow back to, in
    order, and ``fields`` are the settings that rule reads by name (``axis=...``). While
    gradients are dormant this records nothing, so Module 01–04 code runs the same
    before and after Module 05.
    """
    return _gradients.record(out, rule, inputs, fields)


# competency: tensors/knows, tensors/implements
class Tensor:
    """An n-dimensional array of numbers (float32 unless asked otherwise).

    ``Tensor(data, requires_grad=False, dtype=None)`` wraps anything NumPy can turn into
    an array. Python data becomes float32; pass ``dtype=np.float64`` for double precision
    (gradient checks) or an integer dtype for class labels and indices.

    ``requires_grad``, ``grad`` and ``backward()`` are part of the API from day one but
    stay dormant until Module 05 switches them on.
    """

    __slots__ = ("data", "grad", "grad_fn", "requires_grad")
    # NumPy operators defer to Tensor, so ``array * tensor`` calls Tensor.__rmul__.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        ### BEGIN SOLUTION
        if isinstance(data, Tensor):
            data = data.data
        self.data = np.asarray(data, dtype=DEFAULT_DTYPE if dtype is None else dtype)
        ### END SOLUTION
        self.requires_grad = requires_grad
        self.grad: Tensor | None = None
        self.grad_fn = None

    @classmethod
    def _wrap(cls, array: np.ndarray) -> Tensor:
        """A Tensor around an op's result, keeping its dtype (float64 stays float64)."""
        out = cls.__new__(cls)
        out.data = np.asarray(array)  # NumPy returns scalars for 0-d results; keep an array
        out.requires_grad = False
        out.grad = None
        out.grad_fn = None
        return out

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.data.size

    # competency: tensors/measures
    def memory_footprint(self) -> int:
        """Bytes held by this tensor's data: size * itemsize (4 per float32 element)."""
        ### BEGIN SOLUTION
        return int(self.data.nbytes)
        ### END SOLUTION

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4)
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.dtype != DEFAULT_DTYPE:
            extra += f", dtype={self.dtype}"
        return f"Tensor({body}{extra})"

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The single number held by a one-element tensor, as a Python scalar."""
        if self.data.size != 1:
            raise ValueError(
                f"Tensor.item: only one-element tensors convert to a Python scalar, "
                f"got shape {self.shape}; index or reduce first (e.g. .sum())"
            )
        return self.data.item()

    def detach(self) -> Tensor:
        """A new Tensor sharing this data, with ``requires_grad=False``."""
        return Tensor._wrap(self.data)

    # ------------------------------------------------------------------ arithmetic
    def _elementwise(self, other: Any, op: str, fn: Any) -> Tensor:
        """Apply a broadcasting binary NumPy function; shape errors name the op."""
        try:
            return Tensor._wrap(fn(self.data, _data(other)))
        except ValueError as error:
            if "broadcast" not in str(error):
                raise
            raise _shape_error(
                f"Tensor.{op}",
                self,
                other,
                "broadcasting aligns trailing dimensions, which must be equal or 1 "
                "(reshape one operand, e.g. add a size-1 axis)",
            ) from None

    # competency: operations/knows
    def __add__(self, other: Any) -> Tensor:
        ### BEGIN SOLUTION
        out = self._elementwise(other, "__add__", np.add)
        ### END SOLUTION
        return record(out, "AddBackward", self, other)

    def __sub__(self, other: Any) -> Tensor:
        ### BEGIN SOLUTION
        out = self._elementwise(other, "__sub__", np.subtract)
        ### END SOLUTION
        return record(out, "SubBackward", self, other)

    def __mul__(self, other: Any) -> Tensor:
        ### BEGIN SOLUTION
        out = self._elementwise(other, "__mul__", np.multiply)
        ### END SOLUTION
        return record(out, "MulBackward", self, other)

    def __truediv__(self, other: Any) -> Tensor:
        ### BEGIN SOLUTION
        out = self._elementwise(other, "__truediv__", np.divide)
        ### END SOLUTION
        return record(out, "DivBackward", self, other)

    def __pow__(self, exponent: Any) -> Tensor:
        ### BEGIN SOLUTION
        out = self._elementwise(exponent, "__pow__", np.power)
        ### END SOLUTION
        return record(out, "PowBackward", self, exponent)

    def __neg__(self) -> Tensor:
        ### BEGIN SOLUTION
        out = Tensor._wrap(np.negative(self.data))
        ### END SOLUTION
        return record(out, "NegBackward", self)

    # Reflected forms (``2 - x``) turn the left operand into a Tensor and reuse the ops
    # above, so every later module (autograd included) sees one op per operator.
    def _lift(self, other: Any) -> Tensor:
        """The left operand as a Tensor of the dtype the op would produce anyway.

        ``2.5 * int_tensor`` must not truncate 2.5, and ``2 * float32_tensor`` must not
        become float64: NumPy's promotion rules decide, as they do for ``x * 2.5``.
        """
        if isinstance(other, Tensor):
            return other
        return Tensor._wrap(np.asarray(other, dtype=np.result_type(other, self.data)))

    def __radd__(self, other: Any) -> Tensor:
        return self._lift(other) + self

    def __rsub__(self, other: Any) -> Tensor:
        return self._lift(other) - self

    def __rmul__(self, other: Any) -> Tensor:
        return self._lift(other) * self

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._lift(other) / self

    def __rpow__(self, other: Any) -> Tensor:
        return self._lift(other) ** self

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._lift(other) @ self

    # ------------------------------------------------------------------ matmul
    # competency: operations/implements, operations/debugs
    def __matmul__(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules: (..., n, k) @ (..., k, m) -> (..., n, m).

        Leading (batch) dimensions broadcast. Cost: 2*n*k*m FLOPs per batch element.
        """
        ### BEGIN SOLUTION
        b = _data(other)
        a_ndim, b_ndim = self.data.ndim, np.ndim(b)
        if a_ndim == 0 or b_ndim == 0:
            raise _shape_error(
                "Tensor.__matmul__",
                self,
                other,
                "matmul needs at least one dimension on each side; use * for scalars",
            )
        inner_b = np.shape(b)[0] if b_ndim == 1 else np.shape(b)[-2]
        if self.shape[-1] != inner_b:
            raise _shape_error(
                "Tensor.__matmul__",
                self,
                other,
                f"the inner dimensions must match ({self.shape[-1]} != {inner_b}); "
                "transpose or reshape one operand",
            )
        try:
            out = Tensor._wrap(np.matmul(self.data, b))
        except ValueError:
            raise _shape_error(
                "Tensor.__matmul__", self, other, "the batch (leading) dimensions must broadcast"
            ) from None
        ### END SOLUTION
        return record(out, "MatMulBackward", self, other)

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    # ------------------------------------------------------------------ reductions
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all elements when None)."""
        ### BEGIN SOLUTION
        out = Tensor._wrap(np.asarray(self.data.sum(axis=axis, keepdims=keepdims)))
        ### END SOLUTION
        return record(out, "SumBackward", self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Arithmetic mean over ``axis`` (all elements when None)."""
        ### BEGIN SOLUTION
        out = Tensor._wrap(np.asarray(self.data.mean(axis=axis, keepdims=keepdims)))
        ### END SOLUTION
        return record(out, "MeanBackward", self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Largest value over ``axis`` (all elements when None)."""
        ### BEGIN SOLUTION
        if self.data.size == 0:
            raise ValueError(f"Tensor.max: cannot take the max of an empty tensor {self.shape}")
        out = Tensor._wrap(np.asarray(self.data.max(axis=axis, keepdims=keepdims)))
        ### END SOLUTION
        return record(out, "MaxBackward", self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: int | None = None) -> Tensor:
        """Index of the largest value (int64); a lookup, not a differentiable op."""
        return Tensor(np.argmax(self.data, axis=axis), dtype=np.int64)

    # ------------------------------------------------------------------ shape ops
    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """Same elements, new shape (one entry may be -1). No data is copied when possible."""
        ### BEGIN SOLUTION
        shape = _varargs(shape)
        try:
            out = Tensor._wrap(self.data.reshape(shape))
        except ValueError:
            raise ValueError(
                f"Tensor.reshape: cannot reshape {self.shape} ({self.size} elements) "
                f"into {shape}; the element counts must agree"
            ) from None
        ### END SOLUTION
        return record(out, "ReshapeBackward", self)

    def permute(self, *axes: int) -> Tensor:
        """Reorder all axes, e.g. ``x.permute(0, 2, 1)``. Returns a strided view."""
        ### BEGIN SOLUTION
        axes = _varargs(axes)
        if sorted(a % max(self.ndim, 1) for a in axes) != list(range(self.ndim)):
            raise ValueError(
                f"Tensor.permute: axes {axes} are not a permutation of the {self.ndim} "
                f"axes of shape {self.shape}"
            )
        out = Tensor._wrap(self.data.transpose(axes))
        ### END SOLUTION
        return record(out, "PermuteBackward", self, axes=axes)

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two axes (by default the last two: the matrix transpose)."""
        if self.ndim < 2:
            raise ValueError(
                f"Tensor.transpose: needs at least 2 dimensions, got shape {self.shape}"
            )
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return self.permute(*axes)

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-D tensors)."""
        return self.permute(*reversed(range(self.ndim)))

    def __getitem__(self, index: Any) -> Tensor:
        """NumPy indexing: ints, slices, None, Ellipsis, integer or boolean arrays/Tensors."""
        ### BEGIN SOLUTION
        try:
            out = Tensor._wrap(np.asarray(self.data[_plain_index(index)]))
        except IndexError as error:
            raise IndexError(f"Tensor.__getitem__: {error} (tensor shape {self.shape})") from None
        ### END SOLUTION
        return record(out, "GetItemBackward", self, index=index)

    # ------------------------------------------------------------------ element-wise math
    def exp(self) -> Tensor:
        ### BEGIN SOLUTION
        out = Tensor._wrap(np.exp(self.data))
        ### END SOLUTION
        return record(out, "ExpBackward", self)

    def log(self) -> Tensor:
        """Natural logarithm (log of 0 is -inf, of a negative number NaN, as in NumPy)."""
        ### BEGIN SOLUTION
        out = Tensor._wrap(np.log(self.data))
        ### END SOLUTION
        return record(out, "LogBackward", self)

    def sqrt(self) -> Tensor:
        ### BEGIN SOLUTION
        out = Tensor._wrap(np.sqrt(self.data))
        ### END SOLUTION
        return record(out, "SqrtBackward", self)

    # ------------------------------------------------------------------ gradients
    def backward(self, gradient: Any = None) -> None:
        """Fill ``.grad`` of every input this tensor was computed from.

        Dormant until Module 05: until then it says so instead of silently doing nothing.
        """
        _gradients.backward(self, gradient)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Functional spelling of ``Tensor(...)``, as in ``torch.tensor``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape: int, dtype: Any = DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_varargs(shape), dtype=dtype), requires_grad=requires_grad, dtype=dtype)


def ones(*shape: int, dtype: Any = DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_varargs(shape), dtype=dtype), requires_grad=requires_grad, dtype=dtype)


def randn(*shape: int, dtype: Any = DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    """Standard-normal samples from the shared generator (see :func:`manual_seed`)."""
    return Tensor(_rng.standard_normal(_varargs(shape)), requires_grad=requires_grad, dtype=dtype)


# competency: operations/measures, operations/optimizes
def matmul_loops(a: Tensor, b: Tensor) -> Tensor:
    """Reference matrix product with three explicit loops: (n, k) @ (k, m) -> (n, m).

    Exactly n*k*m multiply-adds, one Python step each, so you can watch the O(n*k*m)
    cost; ``a @ b`` calls BLAS for the same arithmetic and is thousands of times faster.
    """
    ### BEGIN SOLUTION
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise _shape_error("matmul_loops", a, b, "needs 2-D (n, k) and (k, m) operands")
    n, k = a.shape
    m = b.shape[1]
    out = np.zeros((n, m), dtype=np.result_type(a.dtype, b.dtype))
    for i in range(n):
        for j in range(m):
            total = 0.0
            for p in range(k):
                total += a.data[i, p] * b.data[p, j]
            out[i, j] = total
    return Tensor._wrap(out)
    ### END SOLUTION
