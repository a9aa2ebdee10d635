"""Module 15 · Quantization — store weights in 8 bits and compute with integers.

Connection map
    Prerequisites : 01 Tensor (dtypes, bytes per element) · 03 Layers (Linear, Module) ·
                    07 Training (a trained model and its accuracy) · 09 Spatial (Conv2d and
                    im2col) · 14 Profiling (counting FLOPs)
    This module   : INT8 affine quantization (scale and zero-point), per tensor and per
                    channel; calibration observers (min-max, percentile) that find the range
                    of activations on sample data; QuantizedLinear and QuantizedConv2d with
                    int32 accumulation; quantize_model; size reports before and after
    Unlocks       : 16 Compression (pruning and int8 stack) · 19 Benchmarking (float vs
                    int8 latency) · 20 Capstone and Milestone 6 (the size column)

Systems insight: a float32 weight takes 4 bytes and an int8 weight 1. The M3 MLP
(64 → 256 → 10) has 18,944 weights: 75,776 bytes as float32, 18,944 bytes as int8, 4.00×
less. A real number x is stored as the integer q = clamp(round(x / s) + z, −128, 127) and
read back as s · (q − z). The scale s is the step between neighbouring representable
values, so inside the calibrated range the error is at most s/2; the zero-point z is the
integer that stands for 0.0, so zeros (padding, ReLU outputs, pruned weights) stay exact.
One scale per output channel costs 4 bytes per channel (266 × 4 = 1,064 bytes in M3), and
float32 biases stay float32, which is why the whole model shrinks 3.64×, not 4×.

Two ways to compute with int8 weights:
    * ``compute="int8"`` (W8A8): quantize the input too, multiply int8 × int8 and add the
      products in int32, then rescale once per output by s_x · s_w. This is what int8
      hardware does (x86 VNNI, ARM dot-product instructions, TPUs): 4× less memory traffic
      and integer units that do 2–4× more multiply-adds per cycle. With symmetric weights
      (z_w = 0) the integer sum needs no correction terms.
    * ``compute="dequantize"`` (W8A32): expand the weights back to float32 and run the float
      matrix product. Only storage shrinks; the input keeps full precision.
NumPy has no integer BLAS (``int32 @ int32`` is a loop, ~50× slower than float32 BLAS for
the M3 layers), so :func:`int_matmul` gets the very same integers from a float BLAS call: a
float holds every integer below 2^24 (float32) or 2^53 (float64) exactly. The int8 path still
costs a few float passes more than the float layer (``benchmarks/bench_opt.py`` measures
both); it is the default because its accuracy is a deployed int8 model's.

One file on purpose (about 760 lines): the quantized layers are the affine maps and the
observers above, applied to Linear and Conv2d; apart, that would be harder to see. Only
the checks on inputs and (scale, zero_point) pairs live beside it, in
``quantization_checks.py``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.tensor import Tensor
from tinytorch.nn.layers import Linear, Module, check_module
from tinytorch.perf.flops import conv2d_rule, linear_rule, register_flops
from tinytorch.perf.quantization_checks import _array, _check_qparams
from tinytorch.vision.spatial import Conv2d, as_pair, conv2d, conv_output_size, im2col

INT8_MIN, INT8_MAX = -128, 127
#: Smallest scale ever used: a range narrower than 255 · eps (an all-zero channel) still
#: gets a positive step, as in PyTorch's observers.
MIN_SCALE = float(np.finfo(np.float32).eps)
COMPUTE_MODES = ("int8", "dequantize")
OBSERVERS = ("minmax", "percentile")

QParams = tuple[np.ndarray, np.ndarray]  # (scale float32, zero_point int32)


# ============================================================================= parameters


# competency: efficiency/knows, efficiency/implements
def compute_qparams(min_val: Any, max_val: Any, symmetric: bool = False) -> QParams:
    """Scale and zero-point that map the real range [min_val, max_val] onto int8.

    Args:
        min_val, max_val: the range to represent, scalars (per tensor) or arrays of shape
            (C,) (per channel). The range is first widened to include 0.0.
        symmetric: False (affine): the 256 levels −128..127 span [min, max] exactly, with
            s = (max − min) / 255 and z = round(−128 − min / s). True: z = 0 and
            s = max(|min|, |max|) / 127, so ±amax map to ±127 and no zero-point is stored
            (what weights use; it wastes range when the data is one-sided, like ReLU).

    Returns:
        ``(scale, zero_point)``: float32 and int32 arrays of the inputs' shape (0-d for
        scalars). Scales are at least ``MIN_SCALE`` so an all-zero range still works.
    """
    lo, hi = np.asarray(min_val, dtype=np.float64), np.asarray(max_val, dtype=np.float64)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("compute_qparams: min_val and max_val must be finite")
    if lo.shape != hi.shape:
        raise ValueError(f"compute_qparams: min_val {lo.shape} and max_val {hi.shape} differ")
    if np.any(lo > hi):
        raise ValueError("compute_qparams: min_val is above max_val")
    ### BEGIN SOLUTION
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)  # 0.0 must be representable
    if symmetric:
        scale = np.maximum(np.maximum(-lo, hi) / INT8_MAX, MIN_SCALE).astype(np.float32)
        zero_point = np.zeros(scale.shape, dtype=np.int32)
    else:
        scale = np.maximum((hi - lo) / (INT8_MAX - INT8_MIN), MIN_SCALE).astype(np.float32)
        zero_point = np.clip(np.round(INT8_MIN - lo / scale), INT8_MIN, INT8_MAX)
        zero_point = zero_point.astype(np.int32)
    return scale, zero_point
    ### END SOLUTION


# competency: efficiency/implements
def quantize(x: Any, scale: Any, zero_point: Any, axis: int | None = None) -> np.ndarray:
    """Real values -> int8: clamp(round(x / scale) + zero_point, −128, 127).

    ``x`` is any Tensor or array; ``scale``/``zero_point`` are scalars, or (C,) arrays with
    ``axis`` naming the channel axis of ``x``. Values outside the representable range
    saturate at −128 or 127 (never wrap around, as a bare ``astype(np.int8)`` would).
    Returns an int8 array of ``x``'s shape: 1 byte per element instead of 4.
    """
    x = _array("quantize", x)
    scale, zero_point = _check_qparams("quantize", x.shape, scale, zero_point, axis)
    ### BEGIN SOLUTION
    q = np.round(x / scale) + zero_point
    return np.clip(q, INT8_MIN, INT8_MAX).astype(np.int8)
    ### END SOLUTION


def dequantize(q: Any, scale: Any, zero_point: Any, axis: int | None = None) -> np.ndarray:
    """int8 -> real values: scale · (q − zero_point), as float32 of ``q``'s shape.

    The subtraction happens in int32: q − z can reach 255 in magnitude, outside int8.
    """
    q = _array("dequantize", q)
    scale, zero_point = _check_qparams("dequantize", q.shape, scale, zero_point, axis)
    ### BEGIN SOLUTION
    return ((q.astype(np.int32) - zero_point) * scale).astype(np.float32)
    ### END SOLUTION


def channel_range(x: Any, axis: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of ``x``: scalars, or one per index of ``axis`` (the channel axis).

    Per channel reduces over every other axis: a Linear weight (in, out) with axis=1 gives
    one range per output neuron; a Conv2d weight (C_out, C_in, K, K) with axis=0 one per filter.
    """
    x = _array("channel_range", x)
    if x.size == 0:
        raise ValueError(f"channel_range: empty input of shape {x.shape}")
    if axis is not None and not -x.ndim <= axis < x.ndim:
        raise ValueError(f"channel_range: axis {axis} is not an axis of shape {x.shape}")
    ### BEGIN SOLUTION
    if axis is None:
        return np.asarray(x.min()), np.asarray(x.max())
    others = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    return x.min(axis=others), x.max(axis=others)
    ### END SOLUTION


@dataclass
class QuantizedTensor:
    """int8 values with the parameters that give them meaning: real = scale · (data − zero_point).

    ``data`` int8 (any shape); ``scale`` float32 and ``zero_point`` int32, both 0-d (per
    tensor) or (C,) along ``axis`` (per channel). A symmetric tensor's zero-points are 0 by
    construction and are not stored, so ``nbytes`` leaves them out.
    """

    data: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int | None = None
    symmetric: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def nbytes(self) -> int:
        """Stored bytes: 1 per value, 4 per scale, 4 per zero-point (none when symmetric)."""
        zero_points = 0 if self.symmetric else self.zero_point.nbytes
        return int(self.data.nbytes + self.scale.nbytes + zero_points)

    def dequantize(self) -> np.ndarray:
        """The float32 values this tensor stands for (within scale/2 of the originals)."""
        return dequantize(self.data, self.scale, self.zero_point, self.axis)


def quantize_tensor(x: Any, axis: int | None = None, symmetric: bool = False) -> QuantizedTensor:
    """Quantize ``x`` with parameters fitted to its own range (per tensor, or per ``axis``).

    Per channel pays 8 bytes per channel (4 when symmetric) so that a channel of small
    values does not share the coarse step of a channel of large ones.
    """
    ### BEGIN SOLUTION
    scale, zero_point = compute_qparams(*channel_range(x, axis), symmetric=symmetric)
    return QuantizedTensor(quantize(x, scale, zero_point, axis), scale, zero_point, axis, symmetric)
    ### END SOLUTION


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact product of two integer matrices (..., n, k) @ (k, m), as an int32 accumulator would.

    The integer GEMM of int8 inference, computed by float BLAS: every product and partial
    sum is an integer no larger than k · max|a| · max|b|; below 2^24 float32 holds all of them
    exactly (below 2^53, float64), so the float result *is* the integer result. Above 2^31 an
    int32 accumulator itself would overflow, which is refused. For int8 operands shifted by
    a zero-point (|a| ≤ 255, |b| ≤ 127) float32 suffices up to k = 518.
    """
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"int_matmul: shapes {a.shape} and {b.shape} do not chain (k differs)")
    bound = a.shape[-1] * int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0))
    if bound >= 2**31:
        raise OverflowError(
            f"int_matmul: sums of up to {bound:,} overflow an int32 accumulator "
            f"(shapes {a.shape} and {b.shape})"
        )
    exact = np.float32 if bound < 2**24 else np.float64
    ### BEGIN SOLUTION
    return (a.astype(exact) @ b.astype(exact)).astype(np.int32)
    ### END SOLUTION


# ============================================================================= calibration


class MinMaxObserver:
    """Running minimum and maximum of everything observed (e.g. one layer's inputs).

    Two floats of memory whatever the data. One outlier stretches the range, and every
    other value then gets a coarser step: see :class:`PercentileObserver`.
    """

    def __init__(self) -> None:
        self.min = math.inf
        self.max = -math.inf
        self.batches = 0

    def observe(self, x: Any) -> None:
        """Fold one batch into the running range."""
        x = _array(f"{type(self).__name__}.observe", x)
        if x.size == 0:
            raise ValueError(f"{type(self).__name__}.observe: empty batch of shape {x.shape}")
        ### BEGIN SOLUTION
        self.min = min(self.min, float(x.min()))
        self.max = max(self.max, float(x.max()))
        ### END SOLUTION
        self.batches += 1

    def range(self) -> tuple[float, float]:
        """The (low, high) range to quantize: here the extremes seen."""
        self._check_observed()
        return self.min, self.max

    def qparams(self, symmetric: bool = False) -> QParams:
        """Per-tensor (scale, zero_point) for the observed range."""
        return compute_qparams(*self.range(), symmetric=symmetric)

    def _check_observed(self) -> None:
        if self.batches == 0:
            raise RuntimeError(
                f"{type(self).__name__}: nothing observed yet; run calibration batches first"
            )


# competency: efficiency/optimizes, efficiency/debugs
class PercentileObserver(MinMaxObserver):
    """Range from the (100 − p)-th to the p-th percentile of every value observed.

    Ignoring the rarest 2 · (100 − p)% of values lets outliers saturate while the bulk gets a
    finer step. The price is memory: it keeps every observed value (4 bytes each), which
    is fine for a calibration set of a few hundred samples.
    """

    def __init__(self, percentile: float = 99.99) -> None:
        if not 50.0 < percentile <= 100.0:
            raise ValueError(
                f"PercentileObserver: percentile must be in (50, 100], got {percentile}"
            )
        super().__init__()
        self.percentile = percentile
        self.values: list[np.ndarray] = []

    def observe(self, x: Any) -> None:
        super().observe(x)
        self.values.append(
            np.array(_array("PercentileObserver.observe", x), dtype=np.float32).reshape(-1)
        )

    def range(self) -> tuple[float, float]:
        self._check_observed()
        ### BEGIN SOLUTION
        values = np.concatenate(self.values)
        low, high = np.percentile(values, [100.0 - self.percentile, self.percentile])
        return float(low), float(high)
        ### END SOLUTION


def quantizable_layers(model: Module) -> list[tuple[str, Module]]:
    """(dotted name, layer) of every Linear and Conv2d in ``model``, each listed once."""
    found = model.named_modules()
    return [(name, layer) for name, layer in found if isinstance(layer, (Linear, Conv2d))]


def _batches(data: Any, batch_size: int) -> Iterator[np.ndarray]:
    """Input batches from an array/Tensor (split into ``batch_size`` rows) or an iterable.

    An iterable may yield arrays, Tensors, or tuples whose first item is the input (what a
    DataLoader over (image, label) pairs yields).
    """
    if isinstance(data, (Tensor, np.ndarray)):
        data = _array("Calibrator", data)
        if data.ndim == 0 or len(data) == 0:
            raise ValueError(f"calibration data must hold at least one sample, got {data.shape}")
        for start in range(0, len(data), batch_size):
            yield data[start : start + batch_size]
        return
    for batch in data:
        yield _array("Calibrator", batch[0] if isinstance(batch, (tuple, list)) else batch)


# competency: efficiency/optimizes
class Calibrator:
    """Observe the input range of every Linear and Conv2d of a model over sample batches.

    Static quantization needs each layer's activation range before deployment:
    ``Calibrator(model).collect(x_sample)`` runs the model in eval mode without recording
    a graph, and each layer's observer sees every batch that reaches it. ``method`` is
    ``"minmax"`` or ``"percentile"`` (with ``percentile``).
    """

    def __init__(self, model: Module, method: str = "minmax", percentile: float = 99.99) -> None:
        if method not in OBSERVERS:
            raise ValueError(f"Calibrator: method must be one of {OBSERVERS}, got {method!r}")
        self.model = model
        self.layers = dict(quantizable_layers(model))
        if not self.layers:
            raise ValueError(
                f"Calibrator: {type(model).__name__} has no Linear or Conv2d layer to calibrate"
            )
        self.observers: dict[str, MinMaxObserver] = {
            name: MinMaxObserver() if method == "minmax" else PercentileObserver(percentile)
            for name in self.layers
        }

    def collect(self, data: Any, batch_size: int = 256) -> Calibrator:
        """Run ``data`` through the model (eval mode, no graph) and observe; returns self."""
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad(), self._observing():
                ### BEGIN SOLUTION
                for batch in _batches(data, batch_size):
                    self.model(Tensor(batch))
                ### END SOLUTION
        finally:
            self.model.train(was_training)
        missing = [name for name, obs in self.observers.items() if obs.batches == 0]
        if missing:
            raise RuntimeError(f"Calibrator.collect: layers {missing} saw no data")
        return self

    def qparams(self, name: str) -> QParams:
        """Per-tensor (scale, zero_point) for the input of layer ``name`` (asymmetric)."""
        if name not in self.observers:
            raise KeyError(f"Calibrator.qparams: no layer {name!r}; layers: {list(self.layers)}")
        return self.observers[name].qparams()

    @contextmanager
    def _observing(self) -> Iterator[None]:
        """Each layer's observer sees the layer's input through a forward pre-hook (Module
        03); the hooks come off afterwards, even after an error."""
        handles = [
            layer.register_forward_pre_hook(
                lambda module, args, observer=self.observers[name]: observer.observe(args[0])
            )
            for name, layer in self.layers.items()
        ]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()


# ============================================================================= layers


def _store_input_qparams(layer: Module, qparams: QParams | None) -> None:
    """Keep calibrated input parameters as two 0-d arrays (8 bytes), or None for dynamic."""
    if qparams is None:
        layer.input_scale = layer.input_zero_point = None
        return
    layer.input_scale = np.array(qparams[0], dtype=np.float32)
    layer.input_zero_point = np.array(qparams[1], dtype=np.int32)
    _check_qparams(type(layer).__name__, (), layer.input_scale, layer.input_zero_point, None)


def _input_qparams(op: str, layer: Module, x: np.ndarray) -> QParams:
    """Calibrated (static) parameters, or this batch's own range (dynamic quantization)."""
    if layer.input_scale is not None:
        return layer.input_scale, layer.input_zero_point
    if x.size == 0:
        raise ValueError(f"{op}: empty input of shape {x.shape}")
    return compute_qparams(x.min(), x.max())


def _check_compute(op: str, compute: str) -> None:
    if compute not in COMPUTE_MODES:
        raise ValueError(f"{op}: compute must be one of {COMPUTE_MODES}, got {compute!r}")


def _float_bias(bias: Any, size: int, op: str) -> np.ndarray | None:
    if bias is None:
        return None
    bias = np.array(_array(op, bias), dtype=np.float32)
    if bias.shape != (size,):
        raise ValueError(f"{op}: bias must have shape ({size},), got {bias.shape}")
    return bias


# competency: efficiency/implements
class QuantizedLinear(Module):
    """Linear with int8 weights: y ≈ x @ W + b, with W stored in 1 byte per weight.

    ``weight`` is a symmetric :class:`QuantizedTensor` of shape (in, out) (TinyTorch's
    Linear layout), per output neuron (axis 1) or per tensor. ``bias`` stays float32 (out,).
    ``input_qparams`` = (scale, zero_point) of the input from calibration (static); None
    quantizes each batch with its own range (dynamic). Inference only: nothing here is a
    Parameter, so no optimizer will touch it.
    """

    def __init__(
        self,
        weight: QuantizedTensor,
        bias: Any = None,
        input_qparams: QParams | None = None,
        compute: str = "int8",
    ) -> None:
        _check_compute("QuantizedLinear", compute)
        if weight.data.ndim != 2 or weight.data.dtype != np.int8 or not weight.symmetric:
            raise ValueError(
                f"QuantizedLinear: weight must be a symmetric int8 (in, out) QuantizedTensor, "
                f"got {weight.data.dtype} {weight.shape} (symmetric={weight.symmetric})"
            )
        if weight.axis is not None and weight.axis % 2 != 1:
            raise ValueError("QuantizedLinear: per-channel weights need axis=1 (output neurons)")
        self.in_features, self.out_features = weight.shape
        self.weight = weight
        self.bias = _float_bias(bias, self.out_features, "QuantizedLinear")
        _store_input_qparams(self, input_qparams)
        self.compute = compute

    @classmethod
    def from_float(
        cls,
        linear: Linear,
        input_qparams: QParams | None = None,
        per_channel: bool = True,
        compute: str = "int8",
    ) -> QuantizedLinear:
        """Quantize a trained Linear's weights (symmetric, one scale per output neuron)."""
        ### BEGIN SOLUTION
        weight = quantize_tensor(linear.weight, axis=1 if per_channel else None, symmetric=True)
        ### END SOLUTION
        return cls(weight, linear.bias, input_qparams, compute)

    def forward(self, x: Tensor) -> Tensor:
        x = _array("QuantizedLinear.forward", x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"QuantizedLinear.forward: input shape {x.shape} does not end in "
                f"in_features={self.in_features} (weight {self.weight.shape})"
            )
        if self.compute == "int8":
            out = self._integer_matmul(x)
        else:
            out = self._dequantized_matmul(x)
        if self.bias is not None:
            out = out + self.bias
        return Tensor._wrap(out.astype(np.float32))

    def _integer_matmul(self, x: np.ndarray) -> np.ndarray:
        """int8 input × int8 weight, summed in int32, rescaled once by s_x · s_w per column.

        (x_q − z_x) fits in 9 bits and w_q in 8, so each product is below 2^15 and int32
        holds the sum of up to 65,000 of them; :func:`int_matmul` checks that bound.
        """
        ### BEGIN SOLUTION
        scale, zero_point = _input_qparams("QuantizedLinear.forward", self, x)
        x_int = quantize(x, scale, zero_point).astype(np.int32) - zero_point
        accumulated = int_matmul(x_int, self.weight.data)  # int32 accumulation
        return accumulated * (scale * self.weight.scale)
        ### END SOLUTION

    def _dequantized_matmul(self, x: np.ndarray) -> np.ndarray:
        """Expand the int8 weights back to float32 and run the float matmul (W8A32)."""
        ### BEGIN SOLUTION
        return x @ self.weight.dequantize()
        ### END SOLUTION

    def extra_repr(self) -> str:
        per = "tensor" if self.weight.axis is None else "channel"
        mode = "static" if self.input_scale is not None else "dynamic"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, per_{per}, {mode} input, compute={self.compute!r}"
        )


class QuantizedConv2d(Module):
    """Conv2d with int8 filters (C_out, C_in, K_h, K_w), one scale per filter (axis 0).

    Same ``stride``/``padding`` as the float layer; ``bias`` float32 (C_out,);
    ``input_qparams`` and ``compute`` as in :class:`QuantizedLinear`. The int8 path reuses
    Module 09's im2col on the integer input (shifted by its zero-point, so the zero padding
    im2col adds stands for a real 0.0) and does one int32 GEMM.
    """

    def __init__(
        self,
        weight: QuantizedTensor,
        bias: Any = None,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        input_qparams: QParams | None = None,
        compute: str = "int8",
    ) -> None:
        _check_compute("QuantizedConv2d", compute)
        if weight.data.ndim != 4 or weight.data.dtype != np.int8 or not weight.symmetric:
            raise ValueError(
                f"QuantizedConv2d: weight must be a symmetric int8 (C_out, C_in, K_h, K_w) "
                f"QuantizedTensor, got {weight.data.dtype} {weight.shape}"
            )
        if weight.axis is not None and weight.axis % 4 != 0:
            raise ValueError("QuantizedConv2d: per-channel weights need axis=0 (filters)")
        self.out_channels, self.in_channels = weight.shape[:2]
        self.kernel_size = weight.shape[2], weight.shape[3]
        self.stride = as_pair("QuantizedConv2d", "stride", stride, 1)
        self.padding = as_pair("QuantizedConv2d", "padding", padding, 0)
        self.weight = weight
        self.bias = _float_bias(bias, self.out_channels, "QuantizedConv2d")
        _store_input_qparams(self, input_qparams)
        self.compute = compute

    @classmethod
    def from_float(
        cls,
        conv: Conv2d,
        input_qparams: QParams | None = None,
        per_channel: bool = True,
        compute: str = "int8",
    ) -> QuantizedConv2d:
        """Quantize a trained Conv2d's filters (symmetric, one scale per filter)."""
        ### BEGIN SOLUTION
        weight = quantize_tensor(conv.weight, axis=0 if per_channel else None, symmetric=True)
        ### END SOLUTION
        return cls(weight, conv.bias, conv.stride, conv.padding, input_qparams, compute)

    def forward(self, x: Tensor) -> Tensor:
        x = _array("QuantizedConv2d.forward", x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"QuantizedConv2d.forward: expects (batch, {self.in_channels}, height, width), "
                f"got shape {x.shape} (weight {self.weight.shape})"
            )
        if self.compute == "int8":
            out = self._integer_conv(x)
        else:
            out = self._dequantized_conv(x)
        if self.bias is not None:
            out = out + self.bias[None, :, None, None]
        return Tensor._wrap(out.astype(np.float32))

    def _integer_conv(self, x: np.ndarray) -> np.ndarray:
        """im2col on the zero-point-shifted int input, one int32 GEMM, rescale per filter."""
        batch, _, height, width = x.shape
        h_out = conv_output_size(height, self.kernel_size[0], self.stride[0], self.padding[0])
        w_out = conv_output_size(width, self.kernel_size[1], self.stride[1], self.padding[1])
        ### BEGIN SOLUTION
        scale, zero_point = _input_qparams("QuantizedConv2d.forward", self, x)
        x_int = quantize(x, scale, zero_point).astype(np.int32) - zero_point
        cols = im2col(x_int, self.kernel_size, self.stride, self.padding)  # pads with real 0
        filters = self.weight.data.reshape(self.out_channels, -1)
        accumulated = int_matmul(filters, cols)  # (C_out, B·H_out·W_out), int32 accumulation
        w_scale = self.weight.scale.reshape(-1, 1) if self.weight.scale.ndim else self.weight.scale
        out = accumulated * (scale * w_scale)
        ### END SOLUTION
        return out.reshape(self.out_channels, batch, h_out, w_out).transpose(1, 0, 2, 3)

    def _dequantized_conv(self, x: np.ndarray) -> np.ndarray:
        """Expand the filters to float32 and reuse Module 09's im2col convolution."""
        ### BEGIN SOLUTION
        weight = Tensor._wrap(self.weight.dequantize())
        return conv2d(Tensor._wrap(x), weight, None, self.stride, self.padding).data
        ### END SOLUTION

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, compute={self.compute!r}"
        )


# The profiler counts an integer multiply-add like a float one, so quantized profiles
# stay comparable with the float model's: the float layers' rules read the same attributes.
register_flops(QuantizedLinear, linear_rule)
register_flops(QuantizedConv2d, conv2d_rule)


# ============================================================================= whole models


def swap_modules(model: Module, replacements: dict[int, Module]) -> Module:
    """Put ``replacements[id(layer)]`` wherever ``layer`` sits in ``model``; return the model.

    A module swap, as ``torch.ao`` converts a model: each new layer takes the place of the
    old one in its parent (an attribute, a list item, a Sequential stage), at every place
    the old one is used. If the model itself is replaced, the replacement is returned.
    """
    places = list(model.named_modules(remove_duplicate=False))[1:]  # every place but the root
    for name, layer in places:
        if id(layer) in replacements:
            model.set_submodule(name, replacements[id(layer)])
    return replacements.get(id(model), model)


# competency: efficiency/implements
def quantize_model(
    model: Module,
    calibration_data: Any,
    per_channel: bool = True,
    method: str = "minmax",
    percentile: float = 99.99,
    compute: str = "int8",
    batch_size: int = 256,
) -> Module:
    """A quantized copy of ``model``: every Linear/Conv2d becomes its int8 counterpart.

    Post-training static quantization in three steps: copy the model (the original stays
    untouched and trainable), calibrate every layer's input range on
    ``calibration_data`` (an array/Tensor of inputs, or an iterable of batches), then swap
    each layer for ``QuantizedLinear``/``QuantizedConv2d`` with symmetric int8 weights
    (per output channel unless ``per_channel=False``) and the calibrated input parameters.
    Other layers (activations, pooling, dropout) are kept. The copy is in eval mode.
    ``method`` picks the observer ("minmax", or "percentile" at ``percentile``),
    ``compute`` the layers' arithmetic ("int8" or "dequantize"); an array of calibration
    inputs is run in batches of ``batch_size`` rows.
    """
    quantized = copy.deepcopy(model)
    calibrator = Calibrator(quantized, method, percentile).collect(calibration_data, batch_size)
    ### BEGIN SOLUTION
    replacements: dict[int, Module] = {}
    for name, layer in calibrator.layers.items():
        convert = QuantizedLinear if isinstance(layer, Linear) else QuantizedConv2d
        replacements[id(layer)] = convert.from_float(
            layer, calibrator.qparams(name), per_channel, compute
        )
    quantized = swap_modules(quantized, replacements)  # the model may be one layer itself
    ### END SOLUTION
    return quantized.eval()


_WEIGHT_LAYERS = (Linear, Conv2d, QuantizedLinear, QuantizedConv2d)


def model_size_bytes(model: Module, weights_only: bool = False) -> int:
    """Bytes a model stores, each array counted once (tied weights are not doubled).

    All bytes: float Parameters, int8 weights with their scales and zero-points, biases,
    calibrated input parameters — every Tensor, ndarray or QuantizedTensor a layer holds.
    ``weights_only``: just the weight values of Linear/Conv2d layers (4 bytes each as
    float32, 1 as int8), the number behind "4× smaller weights".
    """
    check_module("model_size_bytes", model)
    ### BEGIN SOLUTION
    total, seen = 0, set()
    for module in model.modules():
        for name, value in vars(module).items():
            if id(value) in seen:
                continue
            if weights_only and not (name == "weight" and isinstance(module, _WEIGHT_LAYERS)):
                continue
            if isinstance(value, QuantizedTensor):
                nbytes = value.data.nbytes if weights_only else value.nbytes
            elif isinstance(value, Tensor):
                nbytes = value.memory_footprint()
            elif isinstance(value, np.ndarray):
                nbytes = value.nbytes
            else:
                continue
            seen.add(id(value))
            total += int(nbytes)
    return total
    ### END SOLUTION


@dataclass(frozen=True)
class SizeReport:
    """Model bytes before and after an optimization: weights alone, and everything stored."""

    weight_bytes_before: int
    weight_bytes_after: int
    total_bytes_before: int
    total_bytes_after: int

    @property
    def weight_ratio(self) -> float:
        """How many times smaller the weights got (4.0 for float32 -> int8)."""
        return self.weight_bytes_before / self.weight_bytes_after

    @property
    def total_ratio(self) -> float:
        """How many times smaller the whole model got (below 4 once scales and biases count)."""
        return self.total_bytes_before / self.total_bytes_after

    def __str__(self) -> str:
        rows = [
            ("weights", self.weight_bytes_before, self.weight_bytes_after, self.weight_ratio),
            ("all bytes", self.total_bytes_before, self.total_bytes_after, self.total_ratio),
        ]
        lines = [f"{'':<12}{'before':>12}{'after':>12}{'smaller':>10}"]
        lines += [f"{n:<12}{b:>10,} B{a:>10,} B{r:>9.2f}x" for n, b, a, r in rows]
        return "\n".join(lines)


# competency: efficiency/measures
def size_report(before: Module, after: Module) -> SizeReport:
    """Compare two models' storage, e.g. ``size_report(model, quantize_model(model, x))``."""
    return SizeReport(
        model_size_bytes(before, weights_only=True),
        model_size_bytes(after, weights_only=True),
        model_size_bytes(before),
        model_size_bytes(after),
    )


__all__ = [
    "COMPUTE_MODES",
    "INT8_MAX",
    "INT8_MIN",
    "Calibrator",
    "MinMaxObserver",
    "PercentileObserver",
    "QuantizedConv2d",
    "QuantizedLinear",
    "QuantizedTensor",
    "SizeReport",
    "channel_range",
    "compute_qparams",
    "dequantize",
    "int_matmul",
    "model_size_bytes",
    "quantizable_layers",
    "quantize",
    "quantize_model",
    "quantize_tensor",
    "size_report",
    "swap_modules",
]
