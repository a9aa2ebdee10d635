"""Module 18 · Acceleration — the same math, faster, with proof that nothing else changed.

Connection map
    Prerequisites : 01 Tensor (dtype, bytes) · 02 Activations (GELU) · 05 Autograd (Function) ·
                    09 Spatial (the seven-loop convolution) · 13 Transformers (LayerNorm) ·
                    14 Profiling (time_call, and which layer is worth speeding up)
    This module   : vectorization (Python loops vs NumPy), memory access (contiguous vs strided),
                    fused element-wise kernels (GELU, LayerNorm) with ``out=`` buffers, float32
                    vs float64, BLAS threads — each measured as a Speedup — and
                    ``accelerate(model)``: an opt-in swap to fused layers, verified on a sample
    Unlocks       : 19 Benchmarking (is a measured speedup real or noise?) · 20 Capstone

Systems insight: element-wise NumPy code spends its time moving memory, not computing.
The tanh-form GELU written as one expression allocates about eight temporary arrays: for
a (256, 1024) float32 activation, eight 1 MiB buffers each written and read back, some
16 MiB of memory traffic for 1 MiB of input. The same operations done in place in one
buffer (``out=``) keep the arithmetic and drop most of the traffic. Layout matters the
same way: reading every 16th float32 touches a new 64-byte cache line per element, 16x
the bytes for the same numbers.

One file (about 630 lines) because each measured lesson and the fused layer it justifies
belong together: the kernels ``accelerate`` swaps in are the ones the lessons time.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinytorch.core.autograd import is_autograd_active
from tinytorch.core.tensor import Tensor, _data, record
from tinytorch.nn.activations import GELU_C, gelu
from tinytorch.nn.layers import GELU, Module
from tinytorch.perf.measure import format_seconds, time_call
from tinytorch.perf.quantization import swap_modules
from tinytorch.text.transformers import LayerNorm, LayerNormFunction
from tinytorch.vision.spatial import conv2d_loops

# ============================================================================= measured lessons


@dataclass(frozen=True)
class Speedup:
    """One lesson's measurement: the same result computed two ways, and the time ratio."""

    lesson: str
    baseline: str
    optimized: str
    baseline_s: float
    optimized_s: float
    max_abs_error: float

    @property
    def ratio(self) -> float:
        """Baseline time / optimized time: above 1 means the optimized version is faster."""
        return self.baseline_s / self.optimized_s

    def __str__(self) -> str:
        return (
            f"{self.lesson}: {self.baseline} {format_seconds(self.baseline_s)} -> "
            f"{self.optimized} {format_seconds(self.optimized_s)} = {self.ratio:.2f}x "
            f"(max |difference| {self.max_abs_error:.2e})"
        )


def measure_speedup(
    lesson: str,
    baseline: tuple[str, Callable[[], Any]],
    optimized: tuple[str, Callable[[], Any]],
    repeats: int = 5,
    number: int = 1,
) -> Speedup:
    """Time two zero-argument callables that compute the same thing; compare their results.

    Both run once first (that is the warm-up, and gives the outputs to compare), then
    ``repeats`` timed samples each; the ratio is of the medians.
    """
    ### BEGIN SOLUTION
    (base_name, base_fn), (fast_name, fast_fn) = baseline, optimized
    expected, got = np.asarray(_data(base_fn())), np.asarray(_data(fast_fn()))
    if expected.shape != got.shape:
        raise ValueError(
            f"measure_speedup({lesson!r}): {base_name} gives shape {expected.shape} but "
            f"{fast_name} gives {got.shape}; they must compute the same thing"
        )
    error = float(np.max(np.abs(expected.astype(np.float64) - got))) if got.size else 0.0
    slow = time_call(base_fn, warmup=0, repeats=repeats, number=number)
    fast = time_call(fast_fn, warmup=0, repeats=repeats, number=number)
    return Speedup(lesson, base_name, fast_name, slow.median, fast.median, error)
    ### END SOLUTION


# ----------------------------------------------------------------------------- 1. vectorization


def conv2d_windows(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int = 1,
    padding: int = 0,
) -> np.ndarray:
    """The same convolution vectorized: a zero-copy window view, then one BLAS contraction.

    ``sliding_window_view`` gives a (B, C_in, H_out, W_out, K_h, K_w) *view* of the input:
    strides that revisit the same memory, no bytes copied. ``tensordot`` contracts it with
    the (C_out, C_in, K_h, K_w) weights over (C_in, K_h, K_w); NumPy lays the windows out
    once for BLAS (the im2col matrix), and the seven loops become one matrix product.
    """
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"conv2d_windows: need x (B, C_in, H, W) and weight (C_out, C_in, K_h, K_w) with "
            f"the same C_in, got {x.shape} and {weight.shape}"
        )
    ### BEGIN SOLUTION
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = weight.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    out = np.tensordot(windows, weight, axes=([1, 4, 5], [1, 2, 3]))  # (B, H_out, W_out, C_out)
    if bias is not None:
        out += bias
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))
    ### END SOLUTION


def loops_vs_vectorized(
    batch: int = 2,
    channels: int = 3,
    size: int = 16,
    out_channels: int = 8,
    kernel: int = 3,
    repeats: int = 3,
) -> Speedup:
    """Module 09's seven Python loops vs the window view + tensordot, on one small convolution."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, channels, size, size))
    w = rng.standard_normal((out_channels, channels, kernel, kernel))
    b = rng.standard_normal(out_channels)
    return measure_speedup(
        "loops vs vectorized (conv2d)",
        ("seven loops", lambda: conv2d_loops(x, w, b, padding=1)),
        ("window view + tensordot", lambda: conv2d_windows(x, w, b, padding=1)),
        repeats=repeats,
    )


# ----------------------------------------------------------------------------- 2. memory layout


def contiguous_vs_strided(n: int = 2**20, stride: int = 16, repeats: int = 5) -> Speedup:
    """The same n float32 multiplies on a contiguous array and on every ``stride``-th element.

    Memory moves in 64-byte cache lines. Contiguous, one line brings 16 float32 values;
    with stride 16 each value sits on its own line, so the same arithmetic pulls 16x the
    bytes through the memory system (and SIMD units cannot load neighbours together).
    """
    big = np.random.default_rng(0).standard_normal(n * stride).astype(np.float32)
    strided = big[::stride]
    contiguous = np.ascontiguousarray(strided)
    out_strided, out_contiguous = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
    return measure_speedup(
        f"contiguous vs strided (stride {stride})",
        (f"every {stride}th element", lambda: np.multiply(strided, 2.0, out=out_strided)),
        ("contiguous", lambda: np.multiply(contiguous, 2.0, out=out_contiguous)),
        repeats=repeats,
    )


# ----------------------------------------------------------------------------- 3. fused kernels


# competency: tensors/optimizes, operations/optimizes
def gelu_fused(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """tanh-form GELU in a single buffer: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    The one-line formula allocates a temporary per operation (x**3, the product, the sum,
    the scaled sum, tanh, 1 + tanh, 0.5 x, the result); here every step writes into
    ``out`` (allocated once if not given), and x^3 is x*x*x, two multiplies instead of a
    general power. Same FLOPs, one full-size array instead of eight.
    """
    ### BEGIN SOLUTION
    if out is None:
        out = np.empty_like(x)
    np.multiply(x, x, out=out)
    out *= x
    out *= 0.044715
    out += x
    out *= GELU_C
    np.tanh(out, out=out)
    out += 1.0
    out *= x
    out *= 0.5
    return out
    ### END SOLUTION


def layer_norm_fused(
    x: np.ndarray,
    weight: np.ndarray | None,
    bias: np.ndarray | None,
    eps: float = 1e-5,
    n_axes: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LayerNorm with one full-size buffer; returns (out, mean, rstd), the last two per row.

    Rows of n = prod(last ``n_axes`` sizes) numbers: the centred values are written once
    into ``out``; the variance comes from ``einsum('ij,ij->i')`` (a dot product per row, no
    squared temporary); scaling by 1/std, gamma and beta happen in place. Like Module 13's
    LayerNorm, backward recomputes the normalized values from (x, mean, rstd).
    """
    n = math.prod(x.shape[x.ndim - n_axes :])
    if n == 0 or x.ndim < n_axes:
        raise ValueError(f"layer_norm_fused: cannot normalize the last {n_axes} axes of {x.shape}")
    ### BEGIN SOLUTION
    rows = x.reshape(-1, n)
    mean = rows.mean(axis=1, keepdims=True)
    out = np.subtract(rows, mean)
    var = np.einsum("ij,ij->i", out, out)[:, None] / n
    rstd = 1.0 / np.sqrt(var + eps)
    out *= rstd
    if weight is not None:
        out *= weight.reshape(-1)
    if bias is not None:
        out += bias.reshape(-1)
    return out.reshape(x.shape), mean, rstd
    ### END SOLUTION


def fused_gelu(shape: tuple[int, ...] = (256, 1024), repeats: int = 7) -> Speedup:
    """Foundation's one-expression GELU vs :func:`gelu_fused` on a float32 activation."""
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    tx, out = Tensor(x), np.empty_like(x)
    return measure_speedup(
        "fused GELU",
        ("one expression (8 temporaries)", lambda: gelu(tx)),
        ("fused, out= buffer", lambda: gelu_fused(x, out)),
        repeats=repeats,
    )


def fused_layer_norm(shape: tuple[int, ...] = (256, 1024), repeats: int = 7) -> Speedup:
    """Module 13's LayerNorm forward (5 full-size temporaries) vs :func:`layer_norm_fused`."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(shape[-1]).astype(np.float32)
    b = rng.standard_normal(shape[-1]).astype(np.float32)
    tx, tw, tb = Tensor(x), Tensor(w), Tensor(b)
    return measure_speedup(
        "fused LayerNorm",
        (
            "Module 13's (5 temporaries)",
            lambda: LayerNormFunction.apply(tx, tw, tb, n_axes=1, eps=1e-5),
        ),
        ("fused, 1 buffer", lambda: layer_norm_fused(x, w, b)[0]),
        repeats=repeats,
    )


# ----------------------------------------------------------------------------- 4. precision


def float32_vs_float64(n: int = 256, repeats: int = 5) -> Speedup:
    """An (n, n) matmul in float64 vs float32: half the bytes, twice the numbers per SIMD op.

    ``max_abs_error`` is what float32 costs in accuracy on this product (about 1e-5
    relative): fine for inference and training, not for gradient checks.
    """
    rng = np.random.default_rng(0)
    a64, b64 = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    a32, b32 = a64.astype(np.float32), b64.astype(np.float32)
    return measure_speedup(
        "float32 vs float64 (matmul)",
        ("float64", lambda: a64 @ b64),
        ("float32", lambda: a32 @ b32),
        repeats=repeats,
    )


# ----------------------------------------------------------------------------- 5. BLAS threads


def blas_threads(n: int = 512, threads: int | None = None, repeats: int = 5) -> Speedup:
    """An (n, n) float32 matmul with BLAS on one thread vs on ``threads`` (default: every CPU).

    Needs ``threadpoolctl`` (``pip install threadpoolctl``). More threads help a large
    product on idle cores; on a machine whose cores are busy, threads that wait for
    each other can make it many times slower: measure, don't assume.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "blas_threads: this lesson needs threadpoolctl to set the BLAS thread count; "
            "pip install threadpoolctl (or tinytorch-opt[threads])"
        ) from None
    threads = threads or os.cpu_count() or 1
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    # Each limit is entered once around its timing: entering one costs ~0.1-1 ms.
    with threadpool_limits(limits=1, user_api="blas"):
        expected = a @ b
        single = time_call(lambda: a @ b, warmup=1, repeats=repeats)
    with threadpool_limits(limits=threads, user_api="blas"):
        got = a @ b
        many = time_call(lambda: a @ b, warmup=1, repeats=repeats)
    return Speedup(
        "BLAS threads (matmul)",
        "1 thread",
        f"{threads} threads",
        single.median,
        many.median,
        float(np.max(np.abs(expected - got))),
    )


def run_lessons(quick: bool = False) -> list[Speedup]:
    """Every lesson with its default sizes (``quick``: small sizes, for a smoke run)."""
    if quick:
        results = [
            loops_vs_vectorized(batch=1, channels=2, size=6, out_channels=2, repeats=2),
            contiguous_vs_strided(n=2**12, repeats=2),
            fused_gelu((16, 64), repeats=2),
            fused_layer_norm((16, 64), repeats=2),
            float32_vs_float64(32, repeats=2),
        ]
    else:
        results = [
            loops_vs_vectorized(),
            contiguous_vs_strided(),
            fused_gelu(),
            fused_layer_norm(),
            float32_vs_float64(),
        ]
    try:
        results.append(blas_threads(64 if quick else 512, repeats=2 if quick else 5))
    except ModuleNotFoundError:
        pass  # optional lesson: threadpoolctl is not a dependency
    return results


def speedup_table(results: Sequence[Speedup]) -> str:
    """The lessons as one table of medians and ratios."""
    lines = [
        f"{'lesson':<34}{'baseline':>12}{'optimized':>12}{'ratio':>9}{'max |diff|':>12}",
    ]
    for r in results:
        lines.append(
            f"{r.lesson[:33]:<34}{format_seconds(r.baseline_s):>12}"
            f"{format_seconds(r.optimized_s):>12}{r.ratio:>8.2f}x{r.max_abs_error:>12.1e}"
        )
    return "\n".join(lines)


# ============================================================================= fused layers


class FusedGELU(GELU):
    """GELU computed by :func:`gelu_fused`; its gradient is Module 05's ``GELUBackward``."""

    def forward(self, x: Tensor) -> Tensor:
        return record(Tensor._wrap(gelu_fused(x.data)), "GELUBackward", x)


class FusedLayerNormFunction(LayerNormFunction):
    """Module 13's LayerNorm node with the fused forward; its backward is Module 13's."""

    def forward(self, x: np.ndarray, weight: Any, bias: Any, *, n_axes: int, eps: float) -> Any:
        out, mean, rstd = layer_norm_fused(x, weight, bias, eps, n_axes)
        per_row = x.shape[: x.ndim - n_axes] + (1,) * n_axes
        self.mean, self.rstd = mean.reshape(per_row), rstd.reshape(per_row)
        return out


def layer_norm(
    x: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float = 1e-5, n_axes: int = 1
) -> Tensor:
    """Fused LayerNorm on Tensors over the last ``n_axes`` axes, with gradients.

    ``weight`` and ``bias`` (both or neither) have the shape of those axes.
    """
    shape = np.shape(_data(x))
    normalized = shape[len(shape) - n_axes :]
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and np.shape(_data(value)) != normalized:
            raise ValueError(
                f"layer_norm: {name} has shape {np.shape(_data(value))}, but the last {n_axes} "
                f"axes of the input {shape} are {normalized}"
            )
    return FusedLayerNormFunction.apply(x, weight, bias, n_axes=n_axes, eps=eps)


class FusedLayerNorm(LayerNorm):
    """Module 13's LayerNorm computed by :func:`layer_norm_fused`.

    Reads PyTorch's attribute names (``normalized_shape``, ``weight``, ``bias``,
    ``eps``), so it can also stand in for another LayerNorm that uses them.
    """

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return layer_norm(x, self.weight, self.bias, self.eps, len(self.normalized_shape))


def default_candidates() -> dict[type, type]:
    """What :func:`accelerate` may swap: GELU layers and Module 13's LayerNorm."""
    return {GELU: FusedGELU, LayerNorm: FusedLayerNorm}


# ============================================================================= accelerate()


class AccelerationWarning(UserWarning):
    """accelerate() refused a faster layer because it changed the model's results."""


@dataclass(frozen=True)
class Swap:
    """Layers of one class that accelerate() swapped (or tried to) for a faster class."""

    original: str
    replacement: str
    layers: tuple[str, ...]
    max_abs_error: float | None = None
    reason: str | None = None


@dataclass
class AccelerationReport:
    """What accelerate() changed, what it refused and why, and the measured effect."""

    applied: list[Swap] = field(default_factory=list)
    rejected: list[Swap] = field(default_factory=list)
    max_abs_error: float = 0.0
    max_grad_error: float | None = None
    time_before: float | None = None
    time_after: float | None = None

    @property
    def speedup(self) -> float | None:
        if self.time_before is None or self.time_after is None:
            return None
        return self.time_before / self.time_after

    def __str__(self) -> str:
        lines = ["accelerate():"]
        for swap in self.applied:
            lines.append(
                f"  swapped {swap.original} -> {swap.replacement} at {', '.join(swap.layers)} "
                f"(max |output difference| {swap.max_abs_error:.1e})"
            )
        for swap in self.rejected:
            lines.append(
                f"  refused {swap.original} -> {swap.replacement} at {', '.join(swap.layers)}: "
                f"{swap.reason}"
            )
        if not self.applied and not self.rejected:
            lines.append("  nothing to swap: no layer of a class with a faster version")
        if self.speedup is not None:
            lines.append(
                f"  forward pass {format_seconds(self.time_before)} -> "
                f"{format_seconds(self.time_after)} ({self.speedup:.2f}x)"
            )
        return "\n".join(lines)


def _outputs(model: Module, sample: tuple[Tensor, ...], check_gradients: bool) -> list[np.ndarray]:
    """The model's output on ``sample`` and, if requested, every parameter's gradient.

    The gradient is of sum(output * v) for a fixed random v, so one backward checks the
    whole vector-Jacobian product. Parameters' own ``.grad`` are put back afterwards.
    """
    out = model(*sample)
    results = [np.array(out.data, dtype=np.float64)]
    if not (check_gradients and out.requires_grad):
        return results
    params = model.parameters()
    saved = [p.grad for p in params]
    try:
        for p in params:
            p.grad = None
        v = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
        out.backward(v)
        results += [
            np.zeros(p.shape) if p.grad is None else np.array(p.grad.data, dtype=np.float64)
            for p in params
        ]
    finally:
        for p, grad in zip(params, saved):
            p.grad = grad
    return results


def _max_error(reference: list[np.ndarray], results: list[np.ndarray]) -> tuple[float, float]:
    """(max |output difference|, max |gradient difference|)."""
    out = float(np.max(np.abs(reference[0] - results[0]), initial=0.0))
    grads = [float(np.max(np.abs(a - b), initial=0.0)) for a, b in zip(reference[1:], results[1:])]
    return out, max(grads, default=0.0)


def _agree(
    reference: list[np.ndarray], results: list[np.ndarray], rtol: float, atol: float
) -> str | None:
    """None if every array agrees within float tolerance, else what differs.

    Rounding errors scale with the largest numbers in play, not with each element: an
    element that should be 0 comes out as noise of the size of its neighbours' rounding.
    So each array is compared to within ``atol + rtol * scale``, where scale is its
    largest magnitude; for a gradient, at least 1/1000 of the largest gradient anywhere
    (a mathematically zero gradient is pure rounding noise of the others).
    """
    if len(reference) != len(results):
        return "the swapped model has a different set of gradients"
    largest_gradient = max(
        (float(np.max(np.abs(g), initial=0.0)) for g in reference[1:]), default=0.0
    )
    names = ["output"] + [f"gradient of parameter {i}" for i in range(len(reference) - 1)]
    for i, (name, a, b) in enumerate(zip(names, reference, results)):
        if a.shape != b.shape:
            return f"{name} changed shape from {a.shape} to {b.shape}"
        scale = float(np.max(np.abs(a), initial=0.0))
        if i > 0:
            scale = max(scale, 1e-3 * largest_gradient)
        worst = float(np.max(np.abs(a - b), initial=0.0))
        if not worst <= atol + rtol * scale:  # also catches NaN
            return (
                f"{name} differs by up to {worst:.3g}, more than {atol:g} + {rtol:g} x its scale "
                f"{scale:.3g}"
            )
    return None


def _carrying_state(faster: type, layer: Module) -> Module:
    """A new ``faster`` layer holding ``layer``'s state: the same Parameters, settings and mode.

    Nothing is copied: the new layer shares every attribute value with the original, so
    the state-dict names and the parameters an optimizer holds stay the same.
    """
    new = faster.__new__(faster)
    vars(new).update(vars(layer))
    return new


# competency: operations/optimizes
def accelerate(
    model: Module,
    *sample: Any,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    check_gradients: bool = True,
    candidates: dict[type, type] | None = None,
    repeats: int = 5,
) -> AccelerationReport:
    """Opt in to faster layers, keeping only swaps that leave results unchanged on ``sample``.

    For each class in ``candidates`` (default :func:`default_candidates`: GELU and
    LayerNorm) every layer of exactly that class is replaced, in its parent, by a layer of
    the faster class that carries its state (same parameters, same state-dict names) — a
    module swap, as ``torch.ao`` does it. The model's output on ``sample`` (Tensors or
    arrays) and, with autograd active, every parameter gradient are compared with the
    original's, each to within ``atol + rtol * scale`` (float32 rounding, see ``_agree``);
    a swap that raises or differs more is undone and reported, with an
    :class:`AccelerationWarning`. Checks run in eval mode (dropout off) and the modes are
    restored. With ``repeats`` > 0 the forward pass is timed before and after.
    """
    if not isinstance(model, Module):
        raise TypeError(f"accelerate: expects a Module, got {type(model).__name__}")
    if not sample:
        raise ValueError("accelerate: give a sample input to verify the swaps on")
    xs = tuple(x if isinstance(x, Tensor) else Tensor(x, dtype=np.asarray(x).dtype) for x in sample)
    candidates = default_candidates() if candidates is None else candidates
    places = list(model.named_modules(remove_duplicate=False))[1:]  # every place but the root
    modes = [(layer, layer.training) for layer in model.modules()]
    check_gradients = check_gradients and is_autograd_active()
    report = AccelerationReport()
    try:
        for layer, _ in modes:
            layer.training = False
        if repeats:
            report.time_before = time_call(lambda: model(*xs), warmup=1, repeats=repeats).median
        reference = _outputs(model, xs, check_gradients)
        ### BEGIN SOLUTION
        for original, faster in candidates.items():
            targets = [(name, layer) for name, layer in places if type(layer) is original]
            if not targets:
                continue
            names = tuple(name for name, _ in targets)
            originals = {id(layer): layer for _, layer in targets}
            fast = {i: _carrying_state(faster, layer) for i, layer in originals.items()}
            try:
                swap_modules(model, fast)
                results = _outputs(model, xs, check_gradients)
                problem = _agree(reference, results, rtol, atol)
            except Exception as failure:  # any failure at all means "do not swap"
                problem = f"the swapped model raised {type(failure).__name__}: {failure}"
            if problem is None:
                error, grad_error = _max_error(reference, results)
                report.applied.append(Swap(original.__name__, faster.__name__, names, error))
                report.max_abs_error = max(report.max_abs_error, error)
                if check_gradients and len(results) > 1:
                    report.max_grad_error = max(report.max_grad_error or 0.0, grad_error)
                continue
            swap_modules(model, {id(fast[i]): layer for i, layer in originals.items()})
            report.rejected.append(Swap(original.__name__, faster.__name__, names, reason=problem))
            warnings.warn(
                f"accelerate: kept {original.__name__} at {', '.join(names)}: {problem}",
                AccelerationWarning,
                stacklevel=2,
            )
        ### END SOLUTION
        if repeats and report.applied:
            report.time_after = time_call(lambda: model(*xs), warmup=1, repeats=repeats).median
        elif repeats:
            report.time_after = report.time_before
    finally:
        for layer, mode in modes:
            layer.training = mode
    return report
