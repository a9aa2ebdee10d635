"""Module 14 · Profiling — measure time, memory and FLOPs before optimizing anything.

Connection map
    Prerequisites : 01 Tensor (bytes per element) · 03 Layers (Module, forward hooks) ·
                    09 Spatial (Conv2d) · 12 Attention · 13 Transformers — the models measured
    This module   : the per-layer profiler — one forward pass seen through forward hooks: the
                    shapes every layer got, its FLOPs (``flops``), parameters, median time
                    and peak memory (``measure``), in one table — and Amdahl's law. Module 14
                    spans four files: ``measure``, ``flops``, this one, and ``roofline``
    Unlocks       : 15 Quantization · 16 Compression · 17 Memoization · 18 Acceleration (which
                    layer to optimize, and how much that can win) · 19 Benchmarking (statistics
                    on top of the timings measured here)

Systems insight: a profile answers "where does the time go?" before anyone optimizes. If the
layer you speed up takes 70% of the run, making it 2x faster gives 1/(0.3 + 0.7/2) = 1.54x
overall, not 2x: the untouched 30% becomes the bottleneck (Amdahl's law). The roofline
(``roofline``) adds "why".

How it looks inside a model: every Module runs its forward hooks around ``forward``
(Module 03), so the profiler registers a pre-hook and a hook on each layer it reports and
removes them afterwards. Nothing in the model is replaced or wrapped. A plain function in
a ``Sequential`` is not a Module and has no hooks: its time counts as "between layers" and
``count_flops`` names it rather than guess its FLOPs.
"""

from __future__ import annotations

import math
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinytorch.checks import check_int
from tinytorch.core.autograd import no_grad
from tinytorch.core.tensor import Tensor
from tinytorch.nn.layers import Module, Sequential, check_module
from tinytorch.perf.flops import Call, flop_rule
from tinytorch.perf.measure import (
    Timing,
    format_bytes,
    format_count,
    format_seconds,
    peak_memory,
    time_call,
)

Shape = tuple[int, ...]


# ============================================================================= the layers reported


@dataclass
class _Leaf:
    """A layer the profiler measures as one unit, with what it recorded."""

    name: str
    layer: Any
    calls: list[Call] = field(default_factory=list)
    samples: list[float] = field(default_factory=list)
    pending: float = 0.0
    started: float = 0.0
    peak_bytes: int = 0


def _children(layer: Any) -> list[tuple[str, Any]]:
    """Direct sub-layers in forward order: a Module's children, and a Sequential's stages.

    A Sequential stage may be a plain function; it is listed (to be named in reports) but,
    not being a Module, it cannot be measured.
    """
    if isinstance(layer, Sequential):
        return [(str(i), stage) for i, stage in enumerate(layer.stages)]
    return list(layer.named_children()) if isinstance(layer, Module) else []


def leaves(model: Module) -> list[tuple[str, Any]]:
    """The layers a profile reports, as (dotted name, layer), in forward order.

    A layer with a FLOP rule (Linear, Conv2d, MultiHeadAttention, an activation, ...) is
    a leaf even if it has sub-layers; any other layer is opened up. A layer reached twice
    (the same ReLU used at two places) is listed once. A model that is itself a leaf is
    named after its class.
    """
    return [(leaf.name, leaf.layer) for leaf in _leaves(model)]


def _leaves(model: Module) -> list[_Leaf]:
    check_module("profiler", model)
    found: list[_Leaf] = []
    seen: set[int] = set()
    stack = [(type(model).__name__, model, True)]
    while stack:
        name, layer, is_root = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        children = _children(layer)
        if flop_rule(layer) is not None or not children:
            found.append(_Leaf(name, layer))
            continue
        prefix = "" if is_root else name + "."
        for child_name, child in reversed(children):
            stack.append((prefix + child_name, child, False))
    return found


@contextmanager
def _hooks(
    found: list[_Leaf],
    before: Callable[[_Leaf, tuple], None] | None,
    after: Callable[[_Leaf, tuple, Any], None],
) -> Iterator[None]:
    """Register ``before``/``after`` as forward (pre-)hooks on every measured leaf.

    Each leaf's hooks receive the leaf itself; all are removed on exit, even after an
    exception, so the model leaves the profiler exactly as it came in.
    """
    handles = []
    try:
        for leaf in found:
            if not isinstance(leaf.layer, Module):
                continue
            if before is not None:
                handles.append(
                    leaf.layer.register_forward_pre_hook(
                        lambda module, args, leaf=leaf: before(leaf, args)
                    )
                )
            handles.append(
                leaf.layer.register_forward_hook(
                    lambda module, args, out, leaf=leaf: after(leaf, args, out)
                )
            )
        yield
    finally:
        for handle in handles:
            handle.remove()


def _shape(value: Any) -> Shape | None:
    if isinstance(value, (Tensor, np.ndarray)):
        return tuple(value.shape)
    return None


def _nbytes(value: Any) -> int:
    if isinstance(value, Tensor):
        return int(value.data.nbytes)
    return int(value.nbytes) if isinstance(value, np.ndarray) else 0


def _record_shapes(leaf: _Leaf, args: tuple, out: Any) -> None:
    tensors = [a for a in args if _shape(a) is not None]
    result = out[0] if isinstance(out, tuple) else out
    leaf.calls.append(
        Call(
            inputs=tuple(_shape(a) for a in tensors),
            output=_shape(result) or (),
            input_bytes=sum(_nbytes(a) for a in tensors),
            output_bytes=_nbytes(result),
        )
    )


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


def _trace_shapes(model: Module, inputs: tuple[Tensor, ...], found: list[_Leaf]) -> None:
    with _hooks(found, None, _record_shapes):
        model(*inputs)


# competency: operations/measures
def count_flops(model: Module, *inputs: Any, strict: bool = True) -> int:
    """FLOPs of one forward pass of ``model`` on ``inputs`` (Tensors, arrays or shapes).

    Runs the model once (without recording a graph) to see the shape every layer gets,
    then applies each layer's rule. ``strict`` raises for layers without a rule (and for
    plain functions in a Sequential, which no hook can see), naming them, instead of
    silently leaving their work out of the total.
    """
    found = _leaves(model)
    with no_grad():
        _trace_shapes(model, tuple(_as_input(x) for x in inputs), found)
    unknown = [
        f"{leaf.name} ({type(leaf.layer).__name__})"
        for leaf in found
        if (leaf.calls or not isinstance(leaf.layer, Module)) and flop_rule(leaf.layer) is None
    ]
    if strict and unknown:
        raise ValueError(
            f"count_flops: no FLOP rule for {', '.join(unknown)}; register one with "
            "register_flops(LayerClass, rule), make the stage a Module, or pass strict=False"
        )
    return sum(_layer_flops(leaf) or 0 for leaf in found)


def count_parameters(model: Module) -> int:
    """Deprecated: ``model.num_parameters()`` (Module 03) counts every shared Parameter once."""
    warnings.warn(
        "count_parameters(model) is deprecated; use model.num_parameters()",
        DeprecationWarning,
        stacklevel=2,
    )
    return model.num_parameters()


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
    shapes, ``warmup`` more times untimed, ``repeats`` times timed (each leaf layer timed
    by its forward hooks inside the same passes), and once under tracemalloc for memory
    (skipped with ``memory=False``). Gradients are not recorded unless ``grad=True``.

    The per-layer timers are two ``perf_counter`` calls in hooks around each layer: about a
    microsecond per layer call, a fraction of a percent of a forward pass of realistic
    size (``benchmarks/bench_opt.py`` measures both). Peak memory is measured in a
    separate pass because tracemalloc slows every allocation down.
    """

    def __init__(
        self, warmup: int = 2, repeats: int = 10, memory: bool = True, grad: bool = False
    ) -> None:
        check_int("Profiler", "warmup", warmup, minimum=0)
        check_int("Profiler", "repeats", repeats, minimum=1)
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

    def count_flops(self, model: Module, *inputs: Any) -> int:
        """FLOPs of one forward pass (see :func:`count_flops`)."""
        return count_flops(model, *inputs)

    def profile(self, model: Module, *inputs: Any) -> ModelProfile:
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
                params=_parameters(leaf.layer),
                param_bytes=_parameter_bytes(leaf.layer),
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
            params=model.num_parameters(),
            param_bytes=model.parameter_bytes(),
        )

    def _time(self, model: Module, xs: tuple[Tensor, ...], found: list[_Leaf]) -> Timing:
        """Time whole passes while each leaf times itself; one sample per pass and leaf."""
        clock = time.perf_counter

        def start(leaf: _Leaf, args: tuple) -> None:
            leaf.started = clock()

        ### BEGIN SOLUTION
        def stop(leaf: _Leaf, args: tuple, out: Any) -> None:
            leaf.pending += clock() - leaf.started

        samples = []
        with _hooks(found, start, stop):
            for _ in range(self.warmup):
                model(*xs)
            for leaf in found:
                leaf.pending = 0.0
            for _ in range(self.repeats):
                begin = clock()
                model(*xs)
                samples.append(clock() - begin)
                for leaf in found:
                    leaf.samples.append(leaf.pending)
                    leaf.pending = 0.0
        return Timing(tuple(samples), self.warmup, 1)
        ### END SOLUTION

    def _memory(self, model: Module, xs: tuple[Tensor, ...], found: list[_Leaf]) -> int:
        """Peak bytes of one pass above the start, and each leaf's own peak (``peak_bytes``).

        Each leaf resets tracemalloc's peak when it starts, so the running model-wide
        peak is read just before every reset.
        """
        state = {"peak": 0}

        def enter(leaf: _Leaf, args: tuple) -> None:
            current, peak = tracemalloc.get_traced_memory()
            state["peak"] = max(state["peak"], peak)
            tracemalloc.reset_peak()
            leaf.started = current

        def leave(leaf: _Leaf, args: tuple, out: Any) -> None:
            _, layer_peak = tracemalloc.get_traced_memory()
            leaf.peak_bytes = max(leaf.peak_bytes, int(layer_peak - leaf.started))
            state["peak"] = max(state["peak"], layer_peak)

        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            state["peak"] = base
            with _hooks(found, enter, leave):
                model(*xs)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            if started:
                tracemalloc.stop()
        return max(state["peak"], peak) - base


def _parameters(layer: Any) -> int:
    return layer.num_parameters() if isinstance(layer, Module) else 0


def _parameter_bytes(layer: Any) -> int:
    return layer.parameter_bytes() if isinstance(layer, Module) else 0


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
