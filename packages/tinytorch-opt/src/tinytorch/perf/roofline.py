"""Module 14 · Profiling — the roofline: is a layer limited by arithmetic or by memory?

Connection map
    Prerequisites : 01 Tensor (bytes, matmul FLOPs) · the rest of Module 14: ``measure``
                    (timing), ``flops``, ``profiling`` (per-layer FLOPs, bytes and times)
    This module   : the machine's peak FLOP/s and bytes/s, measured; each layer's arithmetic
                    intensity (FLOPs per byte moved) placed under that roof, with a
                    compute- or memory-bound verdict and, from a profile, how close it runs
    Unlocks       : 15 Quantization (fewer bytes per weight) · 18 Acceleration (which kind of
                    speed-up can help a given layer)

Systems insight: a layer doing few FLOPs per byte it moves (arithmetic intensity) is
limited by memory bandwidth, and no faster arithmetic will help it; above the ridge point
(peak FLOP/s divided by peak bytes/s) it is limited by arithmetic instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinytorch.nn.layers import Module
from tinytorch.perf.flops import matmul_flops
from tinytorch.perf.measure import format_bytes, format_count, time_call
from tinytorch.perf.profiling import ModelProfile, Profiler


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
    model: Module, *inputs: Any, peak: MachinePeak, profile: ModelProfile | None = None
) -> RooflineReport:
    """Arithmetic intensity and compute- or memory-bound verdict for each layer of ``model``.

    Without ``profile`` one untimed pass records the shapes (the FLOPs and bytes do not
    depend on any clock); with a :class:`ModelProfile` of the same model its median times
    are used too, adding the FLOP/s each layer achieved.
    """
    timed = profile is not None
    if profile is None:
        profile = Profiler(warmup=0, repeats=1, memory=False).profile(model, *inputs)
    points = [
        roofline_point(
            layer.name, layer.flops, layer.bytes_moved, peak, layer.time if timed else None
        )
        for layer in profile.layers
        if layer.calls and layer.flops is not None
    ]
    if not points:
        raise ValueError("roofline: no layer of the model has a FLOP rule (see register_flops)")
    total = roofline_point(
        "total",
        sum(p.flops for p in points),
        sum(p.bytes for p in points),
        peak,
        profile.time if timed else None,
    )
    return RooflineReport(peak, points, total)
