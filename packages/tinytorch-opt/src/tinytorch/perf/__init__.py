"""tinytorch.perf — Modules 14–19: measure, optimize, and prove it (optimization tier).

One file per module — ``quantization`` (15), ``compression`` (16), ``memoization`` (17),
``acceleration`` (18), ``benchmarking`` (19) — except Module 14, which is split by concern:
``measure`` (timing, memory), ``flops``, ``profiling`` (the profiler) and ``roofline``.
Import the names below from here or from their module; each module's own helpers (FLOP
rules, the t distribution, the measured lessons) stay reachable through the module.
"""

from tinytorch.perf import compression, memoization, quantization
from tinytorch.perf.acceleration import (
    AccelerationReport,
    AccelerationWarning,
    FusedGELU,
    FusedLayerNorm,
    Speedup,
    accelerate,
    default_candidates,
    gelu_fused,
    layer_norm,
    layer_norm_fused,
    run_lessons,
    speedup_table,
)
from tinytorch.perf.benchmarking import (
    BenchmarkResult,
    Comparison,
    benchmark,
    benchmark_interleaved,
    bootstrap_interval,
    compare,
    summarize,
    system_metadata,
    t_interval,
    t_quantile,
)
from tinytorch.perf.compression import *  # noqa: F403 (its __all__, listed once)
from tinytorch.perf.flops import (
    attention_flops,
    conv2d_flops,
    linear_flops,
    register_flops,
)
from tinytorch.perf.measure import Timing, peak_memory, time_call
from tinytorch.perf.memoization import *  # noqa: F403 (its __all__, listed once)
from tinytorch.perf.profiling import (
    LayerProfile,
    ModelProfile,
    Profiler,
    amdahl_speedup,
    count_flops,
    count_parameters,
)
from tinytorch.perf.quantization import *  # noqa: F403 (its __all__, listed once)
from tinytorch.perf.roofline import MachinePeak, RooflineReport, measure_peak, roofline

# One block per module, in curriculum order.
__all__ = [  # 14 Profiling
    "LayerProfile",
    "MachinePeak",
    "ModelProfile",
    "Profiler",
    "RooflineReport",
    "Timing",
    "amdahl_speedup",
    "attention_flops",
    "conv2d_flops",
    "count_flops",
    "count_parameters",
    "linear_flops",
    "measure_peak",
    "peak_memory",
    "register_flops",
    "roofline",
    "time_call",
]
__all__ += quantization.__all__  # 15 Quantization
__all__ += compression.__all__  # 16 Compression
__all__ += memoization.__all__  # 17 Memoization
__all__ += [  # 18 Acceleration
    "AccelerationReport",
    "AccelerationWarning",
    "FusedGELU",
    "FusedLayerNorm",
    "Speedup",
    "accelerate",
    "default_candidates",
    "gelu_fused",
    "layer_norm",
    "layer_norm_fused",
    "run_lessons",
    "speedup_table",
]
__all__ += [  # 19 Benchmarking
    "BenchmarkResult",
    "Comparison",
    "benchmark",
    "benchmark_interleaved",
    "bootstrap_interval",
    "compare",
    "summarize",
    "system_metadata",
    "t_interval",
    "t_quantile",
]
