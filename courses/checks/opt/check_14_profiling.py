"""Graded checks of Module 14 · Profiling: FLOP and parameter counts, timing, memory, roofline.

Times differ from run to run, so timing checks look at what any correct measurement
does (how many calls, how many samples, positive and ordered) rather than at seconds.
"""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn import Linear, ReLU, Sequential
from tinytorch.perf import (
    MachinePeak,
    Profiler,
    amdahl_speedup,
    attention_flops,
    conv2d_flops,
    count_parameters,
    linear_flops,
    measure_peak,
    peak_memory,
    time_call,
)
from tinytorch.perf.flops import activation_flops, matmul_flops
from tinytorch.perf.roofline import roofline_point


def _model():
    return Sequential(Linear(8, 16), ReLU(), Linear(16, 4))


def check_flop_counts():
    """FLOPs of matmuls, Linear layers, convolutions, activations and attention."""
    return {
        "matmul": [matmul_flops(3, 4, 5), matmul_flops(8, 16, 2, batch=3)],
        "linear": [linear_flops(32, 10, 20), linear_flops(32, 10, 20, bias=False)],
        "conv": [
            conv2d_flops((2, 3, 16, 16), 8, 3, padding=1),
            conv2d_flops((1, 4, 9, 9), 6, (3, 2), stride=2, bias=False),
        ],
        "activations": [
            activation_flops(name, 1000) for name in ("relu", "sigmoid", "tanh", "gelu")
        ],
        "attention": [
            attention_flops(2, 16, 32, 4),
            attention_flops(1, 1, 32, 4, kv_len=20, projections=False),
        ],
    }


def check_parameters_and_amdahl():
    """Parameters counted once even when shared; Amdahl's law for a few cases."""
    shared = Linear(6, 6)
    return {
        "model": count_parameters(_model()),
        "shared": count_parameters(Sequential(shared, ReLU(), shared)),
        "amdahl": [
            amdahl_speedup(f, s) for f, s in ((0.5, 2.0), (0.9, 10.0), (0.2, 1e9), (1.0, 4.0))
        ],
    }


def check_time_call():
    """Warm-up calls untimed, then ``repeats`` samples of ``number`` calls each."""
    calls = []
    timing = time_call(lambda: calls.append(1), warmup=3, repeats=4, number=5)
    return {
        "calls": len(calls),
        "samples": len(timing.samples),
        "positive": all(s >= 0 for s in timing.samples),
        "ordered": timing.min <= timing.median <= timing.max,
    }


def check_peak_memory():
    """The peak of a call that allocates 4 MB and frees it: about 4 MB, not zero."""
    peak = peak_memory(lambda: np.ones(1 << 20, dtype=np.float32).sum())
    return {"at_least": peak >= 4 << 20, "at_most": peak < 6 << 20}


def check_roofline():
    """Intensity, ceiling and verdict on a machine of 100 GFLOP/s and 10 GB/s."""
    peak = MachinePeak(flops_per_s=100e9, bytes_per_s=10e9)
    points = [
        roofline_point("mm", 2_000_000, 40_000, peak),
        roofline_point("add", 1000, 12_000, peak, seconds=1e-6),
    ]
    measured = measure_peak(n=64, copy_bytes=1 << 20, repeats=2)
    return {
        "points": [
            [p.intensity, p.attainable_flops_per_s, p.bound, p.achieved_flops_per_s] for p in points
        ],
        "measured": measured.flops_per_s > 0 and measured.bytes_per_s > 0,
    }


def check_profiler():
    """A profile of a three-layer model: layers in order, their FLOPs and a time for each."""
    profile = Profiler(warmup=1, repeats=3, memory=False).profile(_model(), Tensor(np.ones((5, 8))))
    names = ["0", "1", "2"]
    return {
        "flops": [profile.layer(name).flops for name in names],
        "samples": [len(profile.layer(name).time_samples) for name in names],
        "timed": all(profile.layer(name).time >= 0 for name in names) and profile.time > 0,
        "total_flops": profile.flops,
    }
