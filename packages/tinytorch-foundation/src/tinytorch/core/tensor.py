"""Module 01 · Tensor — an n-dimensional array that knows what it costs.

Connection map
    Prerequisites : Python and NumPy
    This module   : Tensor — storage (dtype, shape, bytes), broadcasting arithmetic,
                    comparisons, matrix multiplication, reductions, reshapes and views,
                    indexing, conversions (dtypes, Python numbers, the CPU device);
                    the checks on their arguments are in ``arguments.py``
    Unlocks       : 02 Activations · 03 Layers · 04 Losses · 05 Autograd wakes up the
                    dormant ``requires_grad`` / ``grad`` / ``backward()`` seen here

Systems insight: every Tensor is a NumPy buffer plus metadata. A (1000, 1000) float32
tensor holds 4,000,000 bytes; ``A @ B`` on two of them needs 12 MB at peak (two inputs,
one output) and 2 * 1000**3 = 2 GFLOPs of work.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinytorch.checks import check_int
from tinytorch.core.arguments import (
    CPU,
    NUMERIC_KINDS,
    _axis,
    _check_device,
    _numeric_dtype,
    _reduction_args,
    _varargs,
    device,
)

DEFAULT_DTYPE = np.float32
Dims = int | tuple[int, ...] | None  # one axis, several, or all of them (None)

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


def _operand(value: Any) -> str:
    """An operand as an error message shows it: dtype and shape, or its Python type."""
    if isinstance(value, (Tensor, np.ndarray)):
        return f"{value.dtype} {value.shape}"
    return f"{type(value).__name__} {value!r:.40}"


def _comparable(value: Any) -> bool:
    """Whether comparing with ``value`` is element-wise: a Tensor, array, number or list of them."""
    if isinstance(value, Tensor):
        return True
    try:
        return np.asarray(value).dtype.kind in NUMERIC_KINDS
    except (TypeError, ValueError):  # ragged lists and other objects
        return False


def _check_data(data: Any, dtype: Any) -> None:
    """Refuse what ``Tensor(data, dtype=dtype)`` cannot hold as numbers, naming it.

    NumPy would turn ``None`` into NaN (as an object array), ``"hello"`` into a string
    array, and a ragged list into an error about "inhomogeneous shape": none of those is
    a tensor of numbers, and each is a mistake best caught where it is made.
    """
    if dtype is not None:
        _numeric_dtype("Tensor", dtype)
    if isinstance(data, Tensor):
        return
    try:
        kind = np.asarray(data).dtype.kind
    except ValueError as error:
        raise ValueError(
            f"Tensor: cannot make an array of this {type(data).__name__} ({error}); nested "
            "lists must be rectangular, every row of the same length"
        ) from None
    if kind not in NUMERIC_KINDS:
        raise TypeError(
            f"Tensor: expected numbers (a number, nested lists of numbers or a numeric "
            f"array), got {type(data).__name__} {data!r:.40}, which NumPy would store as "
            f"dtype {np.asarray(data).dtype}; convert it to numbers first"
        )


def _comparison(name: str, fn: Any, operator: bool = False) -> Any:
    """The method ``Tensor.<name>`` (``eq``, ``lt``, ...): ``fn`` element-wise, broadcasting.

    One factory for twelve methods, as in NumPy's ``NDArrayOperatorsMixin``; the operator
    forms (``__eq__``) return NotImplemented for a value that is not comparable.
    """

    def compare(self: Tensor, other: Any) -> Any:
        if _comparable(other):
            return self._elementwise(other, name, fn)
        if operator:
            return NotImplemented
        raise TypeError(f"Tensor.{name}: cannot compare with {type(other).__name__}")

    compare.__name__ = f"__{name}__" if operator else name
    compare.__qualname__ = f"Tensor.{compare.__name__}"
    return compare


def _cast(dtype: Any) -> Any:
    """The method ``x.float()``, ``x.long()``, ...: ``x.to(dtype)``, PyTorch's shorthands."""

    def cast(self: Tensor) -> Tensor:
        return self.to(dtype)

    cast.__doc__ = f"``self.to({np.dtype(dtype)})``."
    return cast


def check_tensor(op: str, value: Any) -> Tensor:
    """``value`` if it is a Tensor; else a TypeError naming ``op`` and what arrived."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(value).__name__} {value!r:.40}")
    return value


def _shape_error(op: str, a: Any, b: Any, hint: str) -> ValueError:
    return ValueError(
        f"{op}: shapes {np.shape(_data(a))} and {np.shape(_data(b))} are incompatible; {hint}"
    )


def _conversion_target(op: str, args: tuple, kwargs: dict) -> np.dtype | None:
    """The dtype ``.to(...)`` asks for (None: keep it), in PyTorch's forms ``to(dtype)``,
    ``to(device)``, ``to(device, dtype)``, ``to(device=, dtype=)``, ``to(other_tensor)``.
    Strings, devices and ints (an accelerator's number) are devices, the rest dtypes.
    """
    if len(args) > 2 or set(kwargs) - {"device", "dtype", "non_blocking"}:
        raise TypeError(
            f"{op}: expected to(dtype), to(device, dtype) or to(tensor), got "
            f"{len(args)} positional arguments and keywords {sorted(kwargs)}"
        )
    target, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, device, int)):
            target = arg
        else:
            dtype = arg
    _check_device(target)
    return None if dtype is None else _numeric_dtype(op, dtype)


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

    def backward(self, tensor: Tensor, gradient: Any, retain_graph: bool = False) -> None:
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
        _check_data(data, dtype)
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
        """Number of elements (NumPy's ``size``; PyTorch spells it ``numel()``)."""
        return self.data.size

    def numel(self) -> int:
        """Number of elements, PyTorch's name for ``size``."""
        return self.data.size

    @property
    def device(self) -> device:
        """Always the CPU: the data is a NumPy array in main memory."""
        return CPU

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

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """What ``np.asarray(x)`` sees: the data itself (a copy only if asked for one)."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return np.asarray(self.data, dtype=dtype)

    # A one-element tensor stands in for the Python number it holds, as in PyTorch:
    # ``float(loss)``, ``if done:``, ``classes[scores.argmax()]``, ``f"{loss:.3f}"``.
    def __bool__(self) -> bool:
        if self.data.size != 1:
            amount = "no values" if self.data.size == 0 else "more than one value"
            raise RuntimeError(
                f"Boolean value of Tensor with {amount} is ambiguous (shape {self.shape}); "
                "reduce it first, e.g. (a == b).all() or (a > 0).any()"
            )
        return bool(self.data.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """An integer (or bool) one-element tensor used as an index: ``labels[i]``."""
        if self.data.dtype.kind not in "biu" or self.data.size != 1:
            raise TypeError(
                f"only integer tensors of a single element can be converted to an index, "
                f"got dtype {self.dtype} and shape {self.shape}"
            )
        return int(self.data.item())

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``); others as ``str``."""
        if self.ndim == 0:
            return format(self.data.item(), spec)
        return object.__format__(self, spec)

    # ------------------------------------------------------------------ arithmetic
    def _elementwise(self, other: Any, op: str, fn: Any) -> Tensor:
        """Apply a broadcasting binary NumPy function; shape errors name the op."""
        if not _comparable(other):
            raise TypeError(
                f"Tensor.{op}: the other operand must be a Tensor, a number or an array of "
                f"numbers, got {type(other).__name__} {other!r:.40}"
            )
        try:
            return Tensor._wrap(fn(self.data, _data(other)))
        except (TypeError, ValueError) as error:
            if "broadcast" not in str(error):  # NumPy refused the dtypes (bool - bool, 2 ** -1)
                kind = TypeError if isinstance(error, TypeError) else ValueError
                raise kind(
                    f"Tensor.{op}: cannot combine {_operand(self)} with {_operand(other)}: {error}"
                ) from None
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
        if self.dtype == np.bool_:
            raise TypeError(
                f"Tensor.__neg__: a bool tensor {self.shape} has no negative; for the logical "
                "not, compare: x.eq(False)"
            )
        ### BEGIN SOLUTION
        out = Tensor._wrap(np.negative(self.data))
        ### END SOLUTION
        return record(out, "NegBackward", self)

    # Reflected forms (``2 - x``) turn the left operand into a Tensor and reuse the ops
    # above, so every later module (autograd included) sees one op per operator.
    def _lift(self, other: Any, op: str) -> Tensor:
        """The left operand of the reflected ``op`` as a Tensor of the dtype the op would
        produce anyway.

        ``2.5 * int_tensor`` must not truncate 2.5, and ``2 * float32_tensor`` must not
        become float64: NumPy's promotion rules decide, as they do for ``x * 2.5``. Text is
        refused first: NumPy would read ``"f4"`` as a dtype name.
        """
        if isinstance(other, Tensor):
            return other
        if not _comparable(other):
            raise TypeError(
                f"Tensor.{op}: cannot combine {_operand(other)} with {_operand(self)}; "
                "the left operand must be a number, an array of numbers or a Tensor"
            )
        # A list becomes an array first: np.result_type would read it as a dtype spec.
        value = other if np.isscalar(other) else np.asarray(other)
        return Tensor._wrap(np.asarray(value, dtype=np.result_type(value, self.data)))

    def __radd__(self, other: Any) -> Tensor:
        return self._lift(other, "__radd__") + self

    def __rsub__(self, other: Any) -> Tensor:
        return self._lift(other, "__rsub__") - self

    def __rmul__(self, other: Any) -> Tensor:
        return self._lift(other, "__rmul__") * self

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._lift(other, "__rtruediv__") / self

    def __rpow__(self, other: Any) -> Tensor:
        return self._lift(other, "__rpow__") ** self

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._lift(other, "__rmatmul__") @ self

    # Method forms, PyTorch's names for the operators above.
    add, sub, mul, div, pow = __add__, __sub__, __mul__, __truediv__, __pow__

    # ------------------------------------------------------------------ comparisons
    # Element-wise and broadcasting, with a bool result: ``(predicted == labels).sum()``
    # counts matches. No derivative, so nothing is recorded. A Tensor keeps hashing by
    # identity (as in PyTorch) for sets and dict keys; ``t in a_list`` uses ==, though.
    __hash__ = object.__hash__
    eq, ne = _comparison("eq", np.equal), _comparison("ne", np.not_equal)
    lt, le = _comparison("lt", np.less), _comparison("le", np.less_equal)
    gt, ge = _comparison("gt", np.greater), _comparison("ge", np.greater_equal)
    # The operators return NotImplemented for what is not comparable (None, a string):
    # Python then falls back to identity for == and != and refuses <, as with PyTorch.
    __eq__, __ne__ = _comparison("eq", np.equal, True), _comparison("ne", np.not_equal, True)
    __lt__, __le__ = _comparison("lt", np.less, True), _comparison("le", np.less_equal, True)
    __gt__ = _comparison("gt", np.greater, True)
    __ge__ = _comparison("ge", np.greater_equal, True)

    def __contains__(self, value: Any) -> bool:
        """``3 in x``: whether any element equals ``value``."""
        return bool(self.eq(value).any())

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Whether every element (along ``dim``) is non-zero: a bool tensor."""
        dim, keepdim = _reduction_args("Tensor.all", self.shape, dim, keepdim, None, None)
        return Tensor._wrap(np.all(self.data, axis=dim, keepdims=keepdim))

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Whether some element (along ``dim``) is non-zero: a bool tensor."""
        dim, keepdim = _reduction_args("Tensor.any", self.shape, dim, keepdim, None, None)
        return Tensor._wrap(np.any(self.data, axis=dim, keepdims=keepdim))

    def equal(self, other: Any) -> bool:
        """True if ``other`` is a Tensor of the same shape holding the same values."""
        same_shape = isinstance(other, Tensor) and self.shape == other.shape
        return same_shape and bool(np.array_equal(self.data, other.data))

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
    def sum(
        self, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: Any = None
    ) -> Tensor:
        """Sum over ``dim`` (all elements when None), keeping it as size 1 if ``keepdim``.

        PyTorch's signature; NumPy's ``axis=`` and ``keepdims=`` are accepted too.
        """
        axis, keepdims = _reduction_args("Tensor.sum", self.shape, dim, keepdim, axis, keepdims)
        ### BEGIN SOLUTION
        out = Tensor._wrap(np.asarray(self.data.sum(axis=axis, keepdims=keepdims)))
        ### END SOLUTION
        return record(out, "SumBackward", self, axis=axis, keepdims=keepdims)

    def mean(
        self, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: Any = None
    ) -> Tensor:
        """Arithmetic mean over ``dim`` (all elements when None)."""
        axis, keepdims = _reduction_args("Tensor.mean", self.shape, dim, keepdim, axis, keepdims)
        ### BEGIN SOLUTION
        out = Tensor._wrap(np.asarray(self.data.mean(axis=axis, keepdims=keepdims)))
        ### END SOLUTION
        return record(out, "MeanBackward", self, axis=axis, keepdims=keepdims)

    def max(
        self, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: Any = None
    ) -> Tensor:
        """Largest value over ``dim`` (all elements when None)."""
        axis, keepdims = _reduction_args("Tensor.max", self.shape, dim, keepdim, axis, keepdims)
        ### BEGIN SOLUTION
        if self.data.size == 0:
            raise ValueError(f"Tensor.max: cannot take the max of an empty tensor {self.shape}")
        out = Tensor._wrap(np.asarray(self.data.max(axis=axis, keepdims=keepdims)))
        ### END SOLUTION
        return record(out, "MaxBackward", self, axis=axis, keepdims=keepdims)

    def argmax(
        self, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: Any = None
    ) -> Tensor:
        """Index of the largest value over ``dim`` (of the flattened tensor when None).

        int64, like PyTorch's; a lookup, not a differentiable op. The 0-d result of
        ``scores.argmax()`` can index a Python list: ``classes[scores.argmax()]``.
        """
        axis, keepdims = _reduction_args("Tensor.argmax", self.shape, dim, keepdim, axis, keepdims)
        return Tensor(np.argmax(self.data, axis=axis, keepdims=keepdims), dtype=np.int64)

    # ------------------------------------------------------------------ shape ops
    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """Same elements, new shape (one entry may be -1). No data is copied when possible."""
        for size in _varargs(shape):
            check_int("Tensor.reshape", "every size in the shape", size, minimum=-1)
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

    def view(self, *shape: int | tuple[int, ...]) -> Tensor:
        """``reshape`` that never copies: the result always shares this tensor's memory.

        After a ``permute`` no strides may describe the new shape: then this refuses.
        """
        out = self.reshape(*shape)
        if out.size and not np.may_share_memory(out.data, self.data):
            raise ValueError(
                f"Tensor.view: shape {self.shape} with strides {self.data.strides} cannot "
                f"be viewed as {_varargs(shape)} without a copy; use .reshape(...) instead"
            )
        return out

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge the axes ``start_dim`` to ``end_dim`` into one: a ``reshape``.

        ``(B, C, H, W).flatten(1)`` is ``(B, C*H*W)``; ``self`` when nothing is merged.
        """
        if self.ndim == 0:
            return self.reshape(1)
        start = _axis("Tensor.flatten", "start_dim", start_dim, self.shape)
        end = _axis("Tensor.flatten", "end_dim", end_dim, self.shape)
        if start > end:
            raise ValueError(
                f"Tensor.flatten: start_dim={start_dim} comes after end_dim={end_dim} "
                f"for shape {self.shape}"
            )
        if start == end:
            return self
        merged = math.prod(self.shape[start : end + 1])
        return self.reshape(*self.shape[:start], merged, *self.shape[end + 1 :])

    def permute(self, *axes: int) -> Tensor:
        """Reorder all axes, e.g. ``x.permute(0, 2, 1)``. Returns a strided view."""
        for axis in _varargs(axes):
            _axis("Tensor.permute", "axis", axis, self.shape)
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
        dim0 = _axis("Tensor.transpose", "dim0", dim0, self.shape)
        dim1 = _axis("Tensor.transpose", "dim1", dim1, self.shape)
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return self.permute(*axes)

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-D tensors)."""
        return self.permute(*reversed(range(self.ndim)))

    def t(self) -> Tensor:
        """The matrix transpose of a tensor with at most 2 dimensions (others unchanged)."""
        if self.ndim > 2:
            raise ValueError(f"Tensor.t: needs at most 2 dimensions, got shape {self.shape}")
        return self.transpose() if self.ndim == 2 else self

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
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Fill ``.grad`` of every input this tensor was computed from.

        The graph is spent afterwards (PyTorch's rule): a second ``backward()`` through it
        raises unless this call passes ``retain_graph=True``. Dormant until Module 05:
        until then it says so instead of silently doing nothing.
        """
        _gradients.backward(self, gradient, retain_graph)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return this tensor (PyTorch's spelling)."""
        self.requires_grad = requires_grad
        return self

    def zero_(self) -> Tensor:
        """Fill with zeros in place and return this tensor: ``x.grad.zero_()``.

        Refused if this tensor requires a gradient, which would then be computed wrongly.
        """
        if self.requires_grad:
            raise RuntimeError(
                "Tensor.zero_: this tensor requires a gradient, so it cannot change in "
                "place; zero a detach()ed copy, or set its .grad to None"
            )
        self.data[...] = 0
        return self

    # ------------------------------------------------------------------ dtype conversions
    # Defined last: their names (float, int, bool, type) hide Python's inside a class body.
    def to(self, *args: Any, copy: bool = False, **kwargs: Any) -> Tensor:
        """PyTorch's ``to``: ``x.to("cpu")``, ``x.to(np.float64)``, ``x.to(other)``.

        ``self`` when nothing changes (unless ``copy=True``), else a converted copy. A cast
        between float dtypes passes gradients through; one to an integer or bool dtype
        never requires a gradient (as in PyTorch).
        """
        dtype = _conversion_target("Tensor.to", args, kwargs)
        if dtype is None or dtype == self.dtype:
            if not copy:
                return self
            dtype = self.dtype
        out = Tensor._wrap(self.data.astype(dtype))
        if dtype.kind != "f":
            return out
        return record(out, "ToCopyBackward", self)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Tensor:
        """``self.to(dtype)``: ``(pred == y).type(float32).sum()``."""
        if dtype is None or isinstance(dtype, str):
            raise TypeError(
                f"Tensor.type: pass a dtype (e.g. tinytorch.core.float32), got {dtype!r:.40}; "
                ".dtype tells the current one"
            )
        return self.to(dtype)

    float, double = _cast(np.float32), _cast(np.float64)
    long, int, bool = _cast(np.int64), _cast(np.int32), _cast(np.bool_)


def matmul(input: Tensor, other: Any) -> Tensor:
    """``input @ other`` (``torch.matmul``)."""
    return input @ other


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``input.flatten(start_dim, end_dim)`` (``torch.flatten``)."""
    return input.flatten(start_dim, end_dim)


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
