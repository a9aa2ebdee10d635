"""Module 14 · Profiling — measure time, memory and FLOPs before optimizing anything.

Connection map
    Prerequisites : 01 Tensor (bytes per element) · 03 Layers (parameters, Sequential) ·
                    09 Spatial (Conv2d) · 12 Attention · 13 Transformers — the models measured
    This module   : wall time (warm-up, repeats, median), peak memory (tracemalloc), analytic
                    FLOPs and parameter counts per layer and per model, a per-layer table,
                    Amdahl's law, and a roofline view against a measured machine peak
    Unlocks       : 15 Quantization · 16 Compression · 17 Memoization · 18 Acceleration (which
                    layer to optimize, and how much that can win) · 19 Benchmarking (statistics
                    on top of the timings measured here)

Systems insight: a profile answers "where does the time go?" before anyone optimizes. If the
layer you speed up takes 70% of the run, making it 2x faster gives 1/(0.3 + 0.7/2) = 1.54x
overall, not 2x: the untouched 30% becomes the bottleneck (Amdahl's law). The roofline
adds "why": a layer doing few FLOPs per byte it moves (arithmetic intensity) is limited by
memory bandwidth, and no faster arithmetic will help it.

FLOP conventions (so counts can be checked by hand):
    * a matrix product (n, k) @ (k, m) is 2*n*k*m FLOPs (one multiply and one add per
      multiply-accumulate), as ``Tensor.__matmul__`` documents;
    * adding a bias is one FLOP per output element;
    * element-wise functions count one FLOP per arithmetic operation in their formula, a
      transcendental (exp, tanh) counting as one: ReLU 1, Tanh 1, Sigmoid 4 (negate, exp,
      add, divide), GELU 9 (the tanh form), Softmax and LogSoftmax 5 (max, subtract, exp,
      sum, divide/subtract);
    * a reduction reads each element once and counts one FLOP per element read (LayerNorm
      7 per element: mean, subtract, square, variance sum, scale by 1/std, gamma, beta).
The profiler counts FLOPs from the shapes each layer actually saw during one forward pass.
Glue a composite layer computes itself (a transformer block's residual additions, one
FLOP per element) belongs to no leaf layer and is not counted.
"""

from __future__ import annotations

import importlib
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.tensor import Tensor
from tinytorch.nn.activations import GELU, Activation, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from tinytorch.nn.layers import Dropout, Linear, Module, Parameter, Sequential

Shape = tuple[int, ...]

# ============================================================================= formatting


def format_count(n: float) -> str:
    """1234567 -> '1.23 M' (K, M, G, T): FLOP and parameter counts at a glance."""
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f}"


def format_bytes(n: float) -> str:
    """65536 -> '64.0 KiB' (binary units, as memory is sized)."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def format_seconds(s: float) -> str:
    """0.0002104 -> '210.4 us': four significant digits, from nanoseconds to minutes."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(s) >= scale:
            return f"{s / scale:.4g} {unit}"
    return f"{s / 1e-9:.4g} ns"


# ============================================================================= wall time


@dataclass(frozen=True)
class Timing:
    """Seconds per call, one sample per repeat, measured after ``warmup`` discarded calls.

    The median is the headline number: one slow repeat (the OS scheduled something else,
    a cache was cold) moves the mean but not the median.
    """

    samples: tuple[float, ...]
    warmup: int
    number: int

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def __str__(self) -> str:
        return (
            f"median {format_seconds(self.median)} per call over {len(self.samples)} repeats "
            f"(min {format_seconds(self.min)}, max {format_seconds(self.max)}; "
            f"after {self.warmup} warm-up call{'' if self.warmup == 1 else 's'})"
        )


def time_call(fn: Callable[[], Any], warmup: int = 1, repeats: int = 5, number: int = 1) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` samples of ``number`` calls.

    Why warm up: the first calls pay one-off costs (allocating buffers, filling caches,
    BLAS spinning up threads) that steady-state use never sees. Why ``number``: a call
    much shorter than ~10 us is dominated by the timer itself, so each sample averages
    ``number`` back-to-back calls. ``time.perf_counter`` is the clock: monotonic, with the
    finest resolution the platform offers.
    """
    if warmup < 0 or repeats < 1 or number < 1:
        raise ValueError(
            f"time_call: need warmup >= 0, repeats >= 1 and number >= 1, got "
            f"warmup={warmup}, repeats={repeats}, number={number}"
        )
    ### BEGIN SOLUTION
    for _ in range(warmup):
        fn()
    clock = time.perf_counter
    samples = []
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            fn()
        samples.append((clock() - start) / number)
    return Timing(tuple(samples), warmup, number)
    ### END SOLUTION


# ============================================================================= peak memory


# competency: tensors/measures
def peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated while ``fn()`` runs, above what was allocated when it started.

    tracemalloc sees every Python allocation and NumPy array buffers (NumPy reports them
    to it). Tracing slows allocation down, so never time code while tracing it: measure
    time and memory in separate runs, as :class:`Profiler` does. If tracing is already on,
    it stays on (its peak is reset); otherwise it is switched on just for this call.
    """
    ### BEGIN SOLUTION
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if started:
            tracemalloc.stop()
    return max(peak - before, 0)
    ### END SOLUTION


# ============================================================================= FLOPs


def _numel(shape: Shape) -> int:
    return math.prod(shape)


def _pair(value: int | tuple[int, int], what: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    pair = tuple(value)
    if len(pair) != 2:
        raise ValueError(f"conv2d_flops: {what} must be an int or a pair, got {value!r}")
    return int(pair[0]), int(pair[1])


def matmul_flops(n: int, k: int, m: int, batch: int = 1) -> int:
    """FLOPs of ``batch`` products (n, k) @ (k, m): 2*n*k*m each (a multiply and an add)."""
    ### BEGIN SOLUTION
    return 2 * batch * n * k * m
    ### END SOLUTION


def linear_flops(rows: int, in_features: int, out_features: int, bias: bool = True) -> int:
    """FLOPs of ``Linear(in, out)`` on ``rows`` input rows: rows * (2*in*out [+ out]).

    The matmul (rows, in) @ (in, out) costs 2*rows*in*out; the bias adds one FLOP per
    output element. Linear(784, 128) on a batch of 32: 32 * (2*784*128 + 128) = 6,426,624.
    """
    ### BEGIN SOLUTION
    return matmul_flops(rows, in_features, out_features) + (rows * out_features if bias else 0)
    ### END SOLUTION


def conv2d_output_shape(
    input_shape: Shape,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Shape:
    """(B, C_in, H, W) -> (B, C_out, H_out, W_out), H_out = (H + 2*pad - K) // stride + 1."""
    if len(input_shape) != 4:
        raise ValueError(
            f"conv2d_flops: input must be (batch, channels, height, width), got {input_shape}"
        )
    (kh, kw), (sh, sw), (ph, pw) = (
        _pair(kernel_size, "kernel_size"),
        _pair(stride, "stride"),
        _pair(padding, "padding"),
    )
    batch, _, height, width = input_shape
    h_out, w_out = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    if h_out <= 0 or w_out <= 0:
        raise ValueError(
            f"conv2d_flops: a {kh}x{kw} kernel with padding {(ph, pw)} does not fit input "
            f"{input_shape}"
        )
    return batch, out_channels, h_out, w_out


def conv2d_flops(
    input_shape: Shape,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    bias: bool = True,
) -> int:
    """FLOPs of ``Conv2d(C_in, out_channels, kernel_size, stride, padding)`` on (B, C_in, H, W).

    Every output element (B * C_out * H_out * W_out of them) is a dot product of length
    C_in * K_h * K_w: that many multiply-accumulates, two FLOPs each, plus one for the bias.
    A CIFAR batch (128, 3, 32, 32) through 32 filters of 5x5 is 128*32*28*28*3*5*5 =
    240,844,800 multiply-accumulates, about 482 MFLOPs.
    """
    ### BEGIN SOLUTION
    batch, _, h_out, w_out = conv2d_output_shape(
        input_shape, out_channels, kernel_size, stride, padding
    )
    kh, kw = _pair(kernel_size, "kernel_size")
    outputs = batch * out_channels * h_out * w_out
    macs = outputs * input_shape[1] * kh * kw
    return 2 * macs + (outputs if bias else 0)
    ### END SOLUTION


ACTIVATION_FLOPS_PER_ELEMENT: dict[str, int] = {
    "relu": 1,
    "tanh": 1,
    "sigmoid": 4,
    "gelu": 9,
    "softmax": 5,
    "log_softmax": 5,
}


def activation_flops(name: str, numel: int) -> int:
    """FLOPs of an element-wise activation over ``numel`` elements (see the conventions)."""
    if name not in ACTIVATION_FLOPS_PER_ELEMENT:
        raise KeyError(
            f"activation_flops: unknown activation {name!r}; known: "
            f"{', '.join(sorted(ACTIVATION_FLOPS_PER_ELEMENT))}"
        )
    ### BEGIN SOLUTION
    return ACTIVATION_FLOPS_PER_ELEMENT[name] * numel
    ### END SOLUTION


def layer_norm_flops(numel: int, affine: bool = True) -> int:
    """FLOPs of LayerNorm over ``numel`` elements: 7 per element (5 without gamma/beta)."""
    return (7 if affine else 5) * numel


def attention_flops(
    batch: int,
    seq_len: int,
    embed_dim: int,
    num_heads: int,
    kv_len: int | None = None,
    projections: bool = True,
) -> int:
    """FLOPs of multi-head attention on (batch, seq_len, embed_dim) queries.

    With H heads of size d = embed_dim / H, queries of length T and keys/values of
    length S (``kv_len``, default T):
        scores  Q @ K^T    H * 2*T*d*S  = 2*T*S*embed_dim   per sequence
        scale   / sqrt(d)  H * T*S
        softmax            5 * H * T*S
        mix     P @ V      H * 2*T*S*d  = 2*T*S*embed_dim
    and, with ``projections``, four Linear(embed_dim, embed_dim) layers with bias (Q and the
    output on T rows, K and V on S rows). The score terms grow as T*S: for
    self-attention (S = T), doubling the sequence quadruples them, the O(N^2) of attention.
    """
    if embed_dim % num_heads:
        raise ValueError(
            f"attention_flops: embed_dim {embed_dim} is not divisible by num_heads {num_heads}"
        )
    ### BEGIN SOLUTION
    kv = seq_len if kv_len is None else kv_len
    scores = batch * num_heads * seq_len * kv
    core = 2 * matmul_flops(seq_len, embed_dim, kv, batch) + scores + 5 * scores
    if not projections:
        return core
    q_and_out = 2 * linear_flops(batch * seq_len, embed_dim, embed_dim)
    k_and_v = 2 * linear_flops(batch * kv, embed_dim, embed_dim)
    return core + q_and_out + k_and_v
    ### END SOLUTION


# ----------------------------------------------------------------------------- rules per layer


@dataclass(frozen=True)
class Call:
    """One call of a layer as the profiler saw it: shapes and bytes in and out."""

    inputs: tuple[Shape, ...]
    output: Shape
    input_bytes: int
    output_bytes: int


FlopRule = Callable[[Any, Call], int]

_RULES: dict[type, FlopRule] = {}
# Layers of the architecture tier, resolved on first use so profiling imports (and works
# for foundation models) whatever is installed.
_LAZY_RULES: dict[str, FlopRule] = {}
_lazy_resolved = False


def register_flops(layer_type: type | str, rule: FlopRule) -> None:
    """Teach the profiler how many FLOPs a layer type costs: ``rule(layer, call) -> int``.

    ``layer_type`` is a class, or ``"module.path:ClassName"`` to resolve lazily (the class
    is imported the first time FLOPs are counted, and skipped if it cannot be). Rules apply
    to subclasses too. Later tiers' modules (a quantized Linear, a cached attention) call
    this so that profiles of optimized models stay complete.
    """
    if isinstance(layer_type, str):
        global _lazy_resolved
        _LAZY_RULES[layer_type] = rule
        _lazy_resolved = False
    else:
        _RULES[layer_type] = rule


def _resolve_lazy_rules() -> None:
    global _lazy_resolved
    if _lazy_resolved:
        return
    for path in list(_LAZY_RULES):
        module_name, _, class_name = path.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue  # that tier is not installed: its layers cannot appear in a model
        _RULES[cls] = _LAZY_RULES.pop(path)
    _lazy_resolved = True


def flop_rule(layer: Any) -> FlopRule | None:
    """The rule registered for ``layer``'s class or its nearest base class, if any."""
    _resolve_lazy_rules()
    for cls in type(layer).__mro__:
        if cls in _RULES:
            return _RULES[cls]
    return None


def _activation_rule(name: str) -> FlopRule:
    return lambda layer, call: activation_flops(name, _numel(call.output))


def _linear_rule(layer: Linear, call: Call) -> int:
    rows = _numel(call.inputs[0][:-1])
    return linear_flops(rows, layer.in_features, layer.out_features, layer.bias is not None)


def _dropout_rule(layer: Dropout, call: Call) -> int:
    # Training: draw-and-compare plus a multiply per element; evaluation: the identity.
    return 2 * _numel(call.output) if layer.training and layer.p > 0 else 0


def _conv2d_rule(layer: Any, call: Call) -> int:
    return conv2d_flops(
        call.inputs[0],
        layer.out_channels,
        layer.kernel_size,
        layer.stride,
        layer.padding,
        bias=getattr(layer, "bias", None) is not None,
    )


def _pool_rule(extra_per_window: int) -> FlopRule:
    def rule(layer: Any, call: Call) -> int:
        kh, kw = _pair(layer.kernel_size, "kernel_size")
        return _numel(call.output) * (kh * kw + extra_per_window)

    return rule


def _attention_rule(layer: Any, call: Call) -> int:
    # Self-attention: the keys are the input's own tokens. Keys the layer kept from
    # earlier calls (during generation) are not visible in the call and not counted.
    batch, seq_len = call.inputs[0][:2]
    return attention_flops(batch, seq_len, layer.embed_dim, layer.num_heads)


def _mlp_rule(layer: Any, call: Call) -> int:
    # Transformer MLP: Linear(d, h) -> gelu -> Linear(h, d), the GELU called as a function.
    rows = _numel(call.inputs[0][:-1])
    fc, proj = layer.fc, layer.proj
    return (
        linear_flops(rows, fc.in_features, fc.out_features, fc.bias is not None)
        + activation_flops("gelu", rows * fc.out_features)
        + linear_flops(rows, proj.in_features, proj.out_features, proj.bias is not None)
    )


def _layer_norm_rule(layer: Any, call: Call) -> int:
    affine = getattr(layer, "weight", getattr(layer, "gamma", None)) is not None
    return layer_norm_flops(_numel(call.output), affine)


for _cls, _name in (
    (ReLU, "relu"),
    (Tanh, "tanh"),
    (Sigmoid, "sigmoid"),
    (GELU, "gelu"),
    (Softmax, "softmax"),
    (LogSoftmax, "log_softmax"),
):
    register_flops(_cls, _activation_rule(_name))
register_flops(Linear, _linear_rule)
register_flops(Dropout, _dropout_rule)
register_flops("tinytorch.vision.spatial:Conv2d", _conv2d_rule)
register_flops("tinytorch.vision.spatial:MaxPool2d", _pool_rule(0))
register_flops("tinytorch.vision.spatial:AvgPool2d", _pool_rule(1))
register_flops("tinytorch.vision.spatial:Flatten", lambda layer, call: 0)
register_flops("tinytorch.text.embeddings:Embedding", lambda layer, call: 0)
register_flops(
    "tinytorch.text.embeddings:PositionalEncoding", lambda layer, call: _numel(call.output)
)
register_flops(
    "tinytorch.text.embeddings:LearnedPositionalEmbedding",
    lambda layer, call: _numel(call.output),
)
register_flops("tinytorch.text.attention:MultiHeadAttention", _attention_rule)
register_flops("tinytorch.text.transformers:LayerNorm", _layer_norm_rule)
register_flops("tinytorch.text.transformers:MLP", _mlp_rule)


# ============================================================================= parameters


# competency: models/measures
def count_parameters(model: Any) -> int:
    """Learnable numbers in ``model``, each shared Parameter counted once.

    Activations hold none. Weight tying (one embedding matrix used twice) is why this
    de-duplicates by identity rather than summing every layer's parameters.
    """
    ### BEGIN SOLUTION
    unique = {id(p): p for p in _parameters(model)}
    return sum(p.size for p in unique.values())
    ### END SOLUTION


def parameter_bytes(model: Any) -> int:
    """Bytes of parameter storage (4 per float32 number), shared Parameters counted once."""
    unique = {id(p): p for p in _parameters(model)}
    return sum(p.memory_footprint() for p in unique.values())


def _parameters(model: Any) -> list[Parameter]:
    return model.parameters() if isinstance(model, Module) else []


# ============================================================================= the layer tree


def _is_layer(value: Any) -> bool:
    return isinstance(value, (Module, Activation))


def _children(layer: Any) -> list[tuple[str, Any, Any, Any]]:
    """(name, child, container, key) for each direct sub-layer, in forward order.

    ``container[key]`` is where the child lives, so a plain function stage of a
    Sequential (which has no ``forward`` to wrap) can be swapped in its list.
    """
    if isinstance(layer, Sequential):
        return [(str(i), stage, layer.stages, i) for i, stage in enumerate(layer.stages)]
    if not isinstance(layer, Module):
        return []
    found = []
    for name, value in vars(layer).items():
        if _is_layer(value):
            found.append((name, value, None, None))
        elif isinstance(value, (list, tuple)):
            found += [(f"{name}.{i}", v, None, None) for i, v in enumerate(value) if _is_layer(v)]
    return found


@dataclass
class _Leaf:
    """A layer the profiler measures as one unit, with what it recorded."""

    name: str
    layer: Any
    container: Any = None
    key: Any = None
    calls: list[Call] = field(default_factory=list)
    samples: list[float] = field(default_factory=list)
    pending: float = 0.0
    peak_bytes: int = 0


def walk(model: Any) -> Iterator[tuple[str, Any]]:
    """Every layer of ``model`` (itself first, as ``""``) with its dotted name, depth first.

    Sub-layers are Modules and activations held as attributes, in lists or tuples, or as
    stages of a Sequential; a layer reached twice is yielded once.
    """
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("", model)]
    while stack:
        name, layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        yield name, layer
        prefix = name + "." if name else ""
        for child_name, child, _, _ in reversed(_children(layer)):
            if _is_layer(child):
                stack.append((prefix + child_name, child))


def leaves(model: Any) -> list[tuple[str, Any]]:
    """The layers a profile reports, as (dotted name, layer), in forward order.

    A layer with a FLOP rule (Linear, Conv2d, MultiHeadAttention, an activation, ...) is
    a leaf even if it has sub-layers; any other layer is opened up. A layer reached twice
    (the same ReLU used at two places) is listed once.
    """
    return [(leaf.name, leaf.layer) for leaf in _leaves(model)]


def _leaves(model: Any) -> list[_Leaf]:
    found: list[_Leaf] = []
    seen: set[int] = set()
    stack = [(type(model).__name__, model, None, None, True)]
    while stack:
        name, layer, container, key, is_root = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        children = _children(layer)
        if flop_rule(layer) is not None or not children:
            found.append(_Leaf(name, layer, container, key))
            continue
        prefix = "" if is_root else name + "."
        for child_name, child, child_container, child_key in reversed(children):
            stack.append((prefix + child_name, child, child_container, child_key, False))
    return found


@contextmanager
def _wrapped(leaves_: list[_Leaf], wrap: Callable[[_Leaf, Callable], Callable]) -> Iterator[None]:
    """Temporarily route every leaf's forward through ``wrap(leaf, forward)``.

    Modules and activations get an instance attribute ``forward`` (which shadows the
    class's method, since ``__call__`` calls ``self.forward``); a plain function inside a
    Sequential is swapped in its list. Everything is put back, even after an exception.
    """
    undo: list[Callable[[], None]] = []
    try:
        for leaf in leaves_:
            layer = leaf.layer
            if hasattr(layer, "forward") and hasattr(layer, "__dict__"):
                had_own = "forward" in vars(layer)
                original = vars(layer).get("forward")
                layer.forward = wrap(leaf, layer.forward)
                undo.append(
                    (lambda l=layer, o=original: setattr(l, "forward", o))
                    if had_own
                    else (lambda l=layer: delattr(l, "forward"))
                )
            elif leaf.container is not None:
                leaf.container[leaf.key] = wrap(leaf, layer)
                undo.append(lambda c=leaf.container, k=leaf.key, l=layer: c.__setitem__(k, l))
        yield
    finally:
        for restore in reversed(undo):
            restore()


def _shape(value: Any) -> Shape | None:
    if isinstance(value, (Tensor, np.ndarray)):
        return tuple(value.shape)
    return None


def _nbytes(value: Any) -> int:
    if isinstance(value, Tensor):
        return int(value.data.nbytes)
    return int(value.nbytes) if isinstance(value, np.ndarray) else 0


def _record_shapes(leaf: _Leaf, forward: Callable) -> Callable:
    def run(*args: Any, **kwargs: Any) -> Any:
        out = forward(*args, **kwargs)
        tensors = [a for a in (*args, *kwargs.values()) if _shape(a) is not None]
        result = out[0] if isinstance(out, tuple) else out
        leaf.calls.append(
            Call(
                inputs=tuple(_shape(a) for a in tensors),
                output=_shape(result) or (),
                input_bytes=sum(_nbytes(a) for a in tensors),
                output_bytes=_nbytes(result),
            )
        )
        return out

    return run


def _record_time(leaf: _Leaf, forward: Callable) -> Callable:
    ### BEGIN SOLUTION
    clock = time.perf_counter

    def run(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        out = forward(*args, **kwargs)
        leaf.pending += clock() - start
        return out

    return run
    ### END SOLUTION


def _as_input(x: Any) -> Tensor:
    """A Tensor from a Tensor, an array (dtype kept: token ids stay integers) or a shape."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x, dtype=x.dtype)
    if isinstance(x, tuple) and all(isinstance(n, int) for n in x):
        return Tensor(np.random.default_rng(0).standard_normal(x).astype(np.float32))
    raise TypeError(
        "profiler: an input must be a Tensor, a NumPy array or a shape tuple, "
        f"got {type(x).__name__}"
    )


def _layer_flops(leaf: _Leaf) -> int | None:
    rule = flop_rule(leaf.layer)
    if rule is None:
        return None
    return sum(int(rule(leaf.layer, call)) for call in leaf.calls)


def _bytes_moved(calls: list[Call], param_bytes: int) -> int:
    """Bytes a layer must move at least: inputs read, outputs written, parameters read."""
    return sum(c.input_bytes + c.output_bytes + param_bytes for c in calls)


def _trace_shapes(model: Any, inputs: tuple[Tensor, ...], found: list[_Leaf]) -> None:
    with _wrapped(found, _record_shapes):
        model(*inputs)


# competency: operations/measures
def count_flops(model: Any, *inputs: Any, strict: bool = True) -> int:
    """FLOPs of one forward pass of ``model`` on ``inputs`` (Tensors, arrays or shapes).

    Runs the model once (without recording a graph) to see the shape every layer gets,
    then applies each layer's rule. ``strict`` raises for layers without a rule, naming
    them, instead of silently leaving their work out of the total.
    """
    found = _leaves(model)
    with no_grad():
        _trace_shapes(model, tuple(_as_input(x) for x in inputs), found)
    unknown = [
        f"{leaf.name} ({type(leaf.layer).__name__})"
        for leaf in found
        if leaf.calls and flop_rule(leaf.layer) is None
    ]
    if strict and unknown:
        raise ValueError(
            f"count_flops: no FLOP rule for {', '.join(unknown)}; register one with "
            "register_flops(LayerClass, rule) or pass strict=False"
        )
    return sum(_layer_flops(leaf) or 0 for leaf in found)


# ============================================================================= the profile


@dataclass
class LayerProfile:
    """What one layer cost during the profiled forward passes (per forward pass)."""

    name: str
    kind: str
    calls: list[Call]
    params: int
    param_bytes: int
    flops: int | None
    time_samples: list[float]
    peak_bytes: int | None

    @property
    def time(self) -> float:
        """Median seconds this layer spent per forward pass."""
        return statistics.median(self.time_samples) if self.time_samples else 0.0

    @property
    def input_shape(self) -> Shape | None:
        return self.calls[0].inputs[0] if self.calls and self.calls[0].inputs else None

    @property
    def output_shape(self) -> Shape | None:
        return self.calls[0].output if self.calls else None

    @property
    def bytes_moved(self) -> int:
        """Compulsory traffic: inputs read, outputs written, parameters read once per call."""
        return _bytes_moved(self.calls, self.param_bytes)


@dataclass
class ModelProfile:
    """A whole forward pass, layer by layer: see :meth:`table` (also ``str(profile)``)."""

    model: str
    input_shapes: tuple[Shape, ...]
    layers: list[LayerProfile]
    timing: Timing
    peak_bytes: int | None
    params: int
    param_bytes: int

    @property
    def time(self) -> float:
        """Median seconds per forward pass (measured around the whole model)."""
        return self.timing.median

    @property
    def flops(self) -> int:
        """FLOPs of the layers that have a rule (see :attr:`unknown_flops`)."""
        return sum(layer.flops or 0 for layer in self.layers)

    @property
    def unknown_flops(self) -> list[str]:
        """Layers whose FLOPs are not counted because no rule is registered for them."""
        return [layer.name for layer in self.layers if layer.flops is None]

    @property
    def untracked_time(self) -> float:
        """Median per pass of the time spent outside every leaf (the glue between layers)."""
        per_pass = [
            total - sum(layer.time_samples[i] for layer in self.layers)
            for i, total in enumerate(self.timing.samples)
        ]
        return max(statistics.median(per_pass), 0.0)

    def layer(self, name: str) -> LayerProfile:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(
            f"ModelProfile.layer: no layer {name!r}; layers are "
            f"{', '.join(l.name for l in self.layers)}"
        )

    def fraction(self, name: str) -> float:
        """Share of the forward pass spent in layer ``name`` (0..1)."""
        return min(self.layer(name).time / self.time, 1.0) if self.time > 0 else 0.0

    def bottleneck(self) -> LayerProfile:
        """The layer that takes the most time: where optimizing pays most."""
        return max(self.layers, key=lambda layer: layer.time)

    def amdahl(self, name: str, factor: float) -> float:
        """Whole-model speedup if layer ``name`` alone became ``factor`` times faster."""
        return amdahl_speedup(self.fraction(name), factor)

    def table(self) -> str:
        """The per-layer table: shapes, parameters, FLOPs, median time and its share, memory."""
        header = (
            f"{'layer':<20}{'type':<20}{'output':<18}{'params':>10}{'FLOPs':>11}"
            f"{'time':>11}{'share':>8}{'peak mem':>11}"
        )
        shapes = ", ".join(str(s) for s in self.input_shapes)
        lines = [
            f"Profile of {self.model} on input {shapes}: {self.timing}",
            header,
            "-" * len(header),
        ]
        total = self.time or 1.0
        for layer in self.layers:
            flops = "?" if layer.flops is None else format_count(layer.flops)
            memory = "-" if layer.peak_bytes is None else format_bytes(layer.peak_bytes)
            lines.append(
                f"{layer.name[:19]:<20}{layer.kind[:19]:<20}{str(layer.output_shape)[:17]:<18}"
                f"{layer.params:>10,}{flops:>11}{format_seconds(layer.time):>11}"
                f"{100 * layer.time / total:>7.1f}%{memory:>11}"
            )
        untracked = self.untracked_time
        lines.append(
            f"{'(between layers)':<58}{'':>10}{'':>11}{format_seconds(untracked):>11}"
            f"{100 * untracked / total:>7.1f}%"
        )
        lines.append("-" * len(header))
        flops = format_count(self.flops) + ("+?" if self.unknown_flops else "")
        memory = "-" if self.peak_bytes is None else format_bytes(self.peak_bytes)
        lines.append(
            f"{'total':<58}{self.params:>10,}{flops:>11}{format_seconds(self.time):>11}"
            f"{100.0:>7.1f}%{memory:>11}"
        )
        if self.unknown_flops:
            lines.append(f"no FLOP rule (register_flops) for: {', '.join(self.unknown_flops)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


class Profiler:
    """Measure a model's forward pass: time, peak memory, FLOPs and parameters per layer.

    ``Profiler(warmup=2, repeats=10).profile(model, x)`` runs ``model(x)`` once to see the
    shapes, ``warmup`` more times untimed, ``repeats`` times timed (each leaf layer's
    forward timed inside the same passes), and once under tracemalloc for memory
    (skipped with ``memory=False``). Gradients are not recorded unless ``grad=True``.

    The per-layer timers are two ``perf_counter`` calls around each layer: well under a
    microsecond per layer call, a fraction of a percent of a forward pass of realistic
    size (``benchmarks/bench_opt.py`` measures both). Peak memory is measured in a
    separate pass because tracemalloc slows every allocation down.
    """

    def __init__(
        self, warmup: int = 2, repeats: int = 10, memory: bool = True, grad: bool = False
    ) -> None:
        if warmup < 0 or repeats < 1:
            raise ValueError(
                f"Profiler: need warmup >= 0 and repeats >= 1, got {warmup} and {repeats}"
            )
        self.warmup = warmup
        self.repeats = repeats
        self.memory = memory
        self.grad = grad

    def time(self, fn: Callable[[], Any]) -> Timing:
        """Median wall time of ``fn()`` with this profiler's warm-up and repeats."""
        return time_call(fn, warmup=self.warmup, repeats=self.repeats)

    def peak_memory(self, fn: Callable[[], Any]) -> int:
        """Peak bytes ``fn()`` allocates (see :func:`peak_memory`)."""
        return peak_memory(fn)

    def count_flops(self, model: Any, *inputs: Any) -> int:
        """FLOPs of one forward pass (see :func:`count_flops`)."""
        return count_flops(model, *inputs)

    def profile(self, model: Any, *inputs: Any) -> ModelProfile:
        """Profile ``model(*inputs)``; inputs are Tensors, arrays or shape tuples."""
        if not inputs:
            raise ValueError("Profiler.profile: give at least one input (a Tensor or a shape)")
        xs = tuple(_as_input(x) for x in inputs)
        found = _leaves(model)
        with nullcontext() if self.grad else no_grad():
            _trace_shapes(model, xs, found)
            totals = self._time(model, xs, found)
            peak = self._memory(model, xs, found) if self.memory else None
        layers = [
            LayerProfile(
                name=leaf.name,
                kind=type(leaf.layer).__name__,
                calls=leaf.calls,
                params=count_parameters(leaf.layer),
                param_bytes=parameter_bytes(leaf.layer),
                flops=_layer_flops(leaf),
                time_samples=leaf.samples,
                peak_bytes=leaf.peak_bytes if self.memory else None,
            )
            for leaf in found
        ]
        return ModelProfile(
            model=type(model).__name__,
            input_shapes=tuple(x.shape for x in xs),
            layers=layers,
            timing=totals,
            peak_bytes=peak,
            params=count_parameters(model),
            param_bytes=parameter_bytes(model),
        )

    def _time(self, model: Any, xs: tuple[Tensor, ...], found: list[_Leaf]) -> Timing:
        """Time whole passes while each leaf times itself; one sample per pass and leaf."""
        ### BEGIN SOLUTION
        clock = time.perf_counter
        samples = []
        with _wrapped(found, _record_time):
            for _ in range(self.warmup):
                model(*xs)
            for leaf in found:
                leaf.pending = 0.0
            for _ in range(self.repeats):
                start = clock()
                model(*xs)
                samples.append(clock() - start)
                for leaf in found:
                    leaf.samples.append(leaf.pending)
                    leaf.pending = 0.0
        return Timing(tuple(samples), self.warmup, 1)
        ### END SOLUTION

    def _memory(self, model: Any, xs: tuple[Tensor, ...], found: list[_Leaf]) -> int:
        """Peak bytes of one pass above the start, and each leaf's own peak (``peak_bytes``).

        Each leaf resets tracemalloc's peak when it starts, so the running model-wide
        peak is read just before every reset.
        """
        state = {"peak": 0}

        def watch(leaf: _Leaf, forward: Callable) -> Callable:
            def run(*args: Any, **kwargs: Any) -> Any:
                current, peak = tracemalloc.get_traced_memory()
                state["peak"] = max(state["peak"], peak)
                tracemalloc.reset_peak()
                out = forward(*args, **kwargs)
                _, layer_peak = tracemalloc.get_traced_memory()
                leaf.peak_bytes = max(leaf.peak_bytes, layer_peak - current)
                state["peak"] = max(state["peak"], layer_peak)
                return out

            return run

        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            state["peak"] = base
            with _wrapped(found, watch):
                model(*xs)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            if started:
                tracemalloc.stop()
        return max(state["peak"], peak) - base


# ============================================================================= Amdahl's law


def amdahl_speedup(fraction: float, factor: float) -> float:
    """Overall speedup when a part taking ``fraction`` of the time gets ``factor`` times faster.

    1 / ((1 - fraction) + fraction / factor). Speeding up 70% of the run by 2x gives
    1 / (0.3 + 0.35) = 1.538x (1.54x rounded); even an infinitely fast 70% caps the whole
    at 1 / 0.3 = 3.33x.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"amdahl_speedup: fraction must be in [0, 1], got {fraction}")
    if not factor > 0:
        raise ValueError(f"amdahl_speedup: factor must be positive, got {factor}")
    ### BEGIN SOLUTION
    remaining = (1.0 - fraction) + fraction / factor
    return math.inf if remaining == 0 else 1.0 / remaining
    ### END SOLUTION


# ============================================================================= roofline


@dataclass(frozen=True)
class MachinePeak:
    """What this machine can do at best: FLOP/s from a big matmul, bytes/s from a big copy."""

    flops_per_s: float
    bytes_per_s: float

    @property
    def ridge(self) -> float:
        """FLOPs per byte at which compute and memory limits meet (the roofline's corner)."""
        return self.flops_per_s / self.bytes_per_s

    def __str__(self) -> str:
        return (
            f"peak {format_count(self.flops_per_s)}FLOP/s, {format_bytes(self.bytes_per_s)}/s; "
            f"ridge at {self.ridge:.3g} FLOP/byte"
        )


def measure_peak(
    n: int = 512, copy_bytes: int = 64 * 2**20, repeats: int = 5, dtype: Any = np.float32
) -> MachinePeak:
    """Calibrate the roofline: best FLOP/s of an (n, n) @ (n, n) matmul, best bytes/s of a copy.

    The matmul does 2*n^3 FLOPs on 3*n^2 numbers: compute-bound, so it shows the
    arithmetic ceiling. The copy moves ``copy_bytes`` in and the same out with no
    arithmetic: it shows the bandwidth ceiling (use a size well beyond the caches). The
    best of ``repeats`` is the peak: anything slower was disturbed.
    """
    ### BEGIN SOLUTION
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    matmul = time_call(lambda: a @ b, warmup=1, repeats=repeats)
    src = np.ones(max(copy_bytes // np.dtype(dtype).itemsize, 1), dtype=dtype)
    dst = np.empty_like(src)
    copy = time_call(lambda: np.copyto(dst, src), warmup=1, repeats=repeats)
    return MachinePeak(
        flops_per_s=matmul_flops(n, n, n) / matmul.min,
        bytes_per_s=2 * src.nbytes / copy.min,
    )
    ### END SOLUTION


@dataclass(frozen=True)
class RooflinePoint:
    """One layer on the roofline: its intensity, its ceiling, and which limit binds it."""

    name: str
    flops: int
    bytes: int
    intensity: float
    attainable_flops_per_s: float
    bound: str
    achieved_flops_per_s: float | None = None

    @property
    def efficiency(self) -> float | None:
        """Achieved / attainable: how close the measured layer runs to its roofline."""
        if self.achieved_flops_per_s is None:
            return None
        return self.achieved_flops_per_s / self.attainable_flops_per_s


# competency: operations/measures
def roofline_point(
    name: str, flops: int, bytes_moved: int, peak: MachinePeak, seconds: float | None = None
) -> RooflinePoint:
    """Place work of ``flops`` FLOPs moving ``bytes_moved`` bytes on ``peak``'s roofline.

    Arithmetic intensity I = flops / bytes. The attainable rate is min(peak FLOP/s,
    I * peak bytes/s): below the ridge point (I < peak FLOP/s / bytes/s) memory bandwidth
    is the limit ("memory"-bound), above it arithmetic is ("compute"-bound). With a
    measured time, ``achieved_flops_per_s`` = flops / seconds.
    """
    if bytes_moved <= 0:
        raise ValueError(f"roofline_point: {name} moves {bytes_moved} bytes; need > 0")
    ### BEGIN SOLUTION
    intensity = flops / bytes_moved
    attainable = min(peak.flops_per_s, intensity * peak.bytes_per_s)
    bound = "compute" if intensity >= peak.ridge else "memory"
    achieved = flops / seconds if seconds else None
    return RooflinePoint(name, flops, bytes_moved, intensity, attainable, bound, achieved)
    ### END SOLUTION


@dataclass
class RooflineReport:
    """Every layer with a FLOP rule on one roofline, plus the whole model."""

    peak: MachinePeak
    points: list[RooflinePoint]
    total: RooflinePoint

    def point(self, name: str) -> RooflinePoint:
        for p in self.points:
            if p.name == name:
                return p
        raise KeyError(f"RooflineReport.point: no layer {name!r}")

    def __str__(self) -> str:
        lines = [
            f"Roofline — {self.peak}",
            f"{'layer':<16}{'FLOPs':>11}{'bytes':>11}{'FLOP/B':>9}  {'bound':<8}"
            f"{'ceiling':>12}{'achieved':>12}",
        ]
        for p in [*self.points, self.total]:
            achieved = (
                "-" if p.achieved_flops_per_s is None else format_count(p.achieved_flops_per_s)
            )
            lines.append(
                f"{p.name[:15]:<16}{format_count(p.flops):>11}{format_bytes(p.bytes):>11}"
                f"{p.intensity:>9.2f}  {p.bound:<8}{format_count(p.attainable_flops_per_s):>12}"
                f"{achieved:>12}"
            )
        return "\n".join(lines)


def roofline(
    model: Any, *inputs: Any, peak: MachinePeak, profile: ModelProfile | None = None
) -> RooflineReport:
    """Arithmetic intensity and compute- or memory-bound verdict for each layer of ``model``.

    Without ``profile`` one untimed pass records the shapes (deterministic: no clock
    involved); with a :class:`ModelProfile` of the same model its shapes and median times
    are used, adding the FLOP/s each layer achieved.
    """
    if profile is None:
        found = _leaves(model)
        with no_grad():
            _trace_shapes(model, tuple(_as_input(x) for x in inputs), found)
        rows = [
            (
                leaf.name,
                _layer_flops(leaf),
                _bytes_moved(leaf.calls, parameter_bytes(leaf.layer)),
                None,
            )
            for leaf in found
            if leaf.calls
        ]
    else:
        rows = [
            (layer.name, layer.flops, layer.bytes_moved, layer.time or None)
            for layer in profile.layers
            if layer.calls
        ]
    points = [
        roofline_point(name, flops, nbytes, peak, seconds)
        for name, flops, nbytes, seconds in rows
        if flops is not None
    ]
    if not points:
        raise ValueError("roofline: no layer of the model has a FLOP rule (see register_flops)")
    total_time = profile.time if profile is not None else None
    total = roofline_point(
        "total",
        sum(p.flops for p in points),
        sum(p.bytes for p in points),
        peak,
        total_time,
    )
    return RooflineReport(peak, points, total)
