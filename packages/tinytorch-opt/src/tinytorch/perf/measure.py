"""Module 14 · Profiling — wall time and peak memory, measured so they can be trusted.

Connection map
    Prerequisites : 01 Tensor (bytes per element)
    This module   : wall time (warm-up, repeats, median) and peak memory (tracemalloc) of any
                    call, and the units a profile prints them in. The rest of Module 14:
                    ``flops`` (analytic FLOPs), ``profiling`` (the per-layer profiler),
                    ``roofline`` (compute- or memory-bound)
    Unlocks       : the profiler (``profiling``) · 17 Memoization and 18 Acceleration (timed
                    comparisons) · 19 Benchmarking (statistics on top of these timings)

Systems insight: the first calls of anything pay one-off costs (allocating buffers,
filling caches, BLAS spinning up threads) that steady-state use never sees, and one slow
repeat (the OS ran something else) moves a mean but not a median: warm up, repeat, report
the median. Memory tracing slows every allocation down, so time and memory are never
measured in the same run.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinytorch.checks import check_callable, check_int

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


class SampleStatistics:
    """The summaries of ``self.samples`` (seconds per call) that every timing reports.

    The median is the headline number: one slow repeat (the OS scheduled something else,
    a cache was cold) moves the mean but not the median.
    """

    samples: tuple[float, ...]

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


@dataclass(frozen=True)
class Timing(SampleStatistics):
    """Seconds per call, one sample per repeat, measured after ``warmup`` discarded calls."""

    samples: tuple[float, ...]
    warmup: int
    number: int

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
    check_callable("time_call", "fn", fn)
    check_int("time_call", "warmup", warmup, minimum=0)
    check_int("time_call", "repeats", repeats, minimum=1)
    check_int("time_call", "number", number, minimum=1)
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
