"""Module 19 · Benchmarking — turn noisy timings into claims you can defend.

Connection map
    Prerequisites : 14 Profiling (time_call: warm-up and repeated samples) · 15–18 (the
                    optimizations whose speedups need proving)
    This module   : benchmark() with warm-up and repeats (benchmark_interleaved() for
                    several functions in alternating rounds, fair on a loaded machine);
                    median, mean, standard deviation;
                    confidence intervals (bootstrap with a seeded generator, Student's t with
                    its quantile computed here, no SciPy); compare(): is A really faster than
                    B (Welch's t-test or a permutation test); the system metadata that makes
                    a result reproducible
    Unlocks       : 20 Capstone (a submission reports latency with its interval and the
                    system it was measured on) · Milestone 6

Systems insight: one timing is an anecdote. Repeated runs of the same code vary by 10–30%
(other processes, caches, frequency scaling), so "B is 5% faster" means nothing until the
interval around each median is narrower than the difference, or a test says the
difference is unlikely under noise alone. Timing samples are skewed (a run can be much
slower than usual, never much faster), which is why the default interval is a bootstrap
interval for the median rather than a t-interval for the mean.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import numpy as np

from tinytorch.perf.measure import SampleStatistics, format_seconds, time_call

TIERS = ("tinytorch-foundation", "tinytorch-arch", "tinytorch-opt")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# ============================================================================= Student's t


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularized incomplete beta function (0 at x=0, 1 at x=1)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The fraction converges fast on one side of the mean; use the symmetry on the other.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom (any real df > 0).

    The tail P(|T| > |t|) is I_x(df/2, 1/2) with x = df / (df + t^2).
    """
    if df <= 0:
        raise ValueError(f"t_cdf: degrees of freedom must be positive, got {df}")
    ### BEGIN SOLUTION
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * regularized_beta(df / (df + t * t), df / 2.0, 0.5)
    return 1.0 - tail if t > 0 else tail
    ### END SOLUTION


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p: Student's t quantile, by bisection on :func:`t_cdf`.

    t_quantile(0.975, 10) = 2.228 (the factor of a 95% interval from 11 samples); as df
    grows it tends to the normal 1.960. Accurate to about 1e-10.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_quantile: p must be strictly between 0 and 1, got {p}")
    if df <= 0:
        raise ValueError(f"t_quantile: degrees of freedom must be positive, got {df}")
    ### BEGIN SOLUTION
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, 2.0 * high
    for _ in range(200):
        middle = 0.5 * (low + high)
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return 0.5 * (low + high)
    ### END SOLUTION


# ============================================================================= intervals


def _samples(values: Sequence[float] | np.ndarray, what: str, minimum: int = 2) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size < minimum:
        raise ValueError(f"{what}: needs at least {minimum} samples, got {array.size}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what}: samples must be finite numbers")
    return array


def _check_confidence(confidence: float, what: str) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"{what}: confidence must be in (0, 1), got {confidence}")


def t_interval(samples: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval for the mean: mean ± t_{(1+c)/2, n-1} * s / sqrt(n).

    Exact when the samples are normal; for n of 10 or more a fair approximation for most
    data, but timing data are skewed, so prefer :func:`bootstrap_interval` for latencies.
    """
    _check_confidence(confidence, "t_interval")
    x = _samples(samples, "t_interval")
    ### BEGIN SOLUTION
    n = x.size
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n)
    mean = float(x.mean())
    return mean - half, mean + half
    ### END SOLUTION


def bootstrap_interval(
    samples: Sequence[float],
    confidence: float = 0.95,
    statistic: str = "median",
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval for the median (or ``statistic="mean"``).

    Draw ``resamples`` samples of size n with replacement from the data, compute the
    statistic of each, and take the middle ``confidence`` of those values. No assumption
    about the distribution; the seeded generator makes the interval reproducible.
    """
    _check_confidence(confidence, "bootstrap_interval")
    x = _samples(samples, "bootstrap_interval")
    reducers = {"median": np.median, "mean": np.mean}
    if statistic not in reducers:
        raise ValueError(
            f"bootstrap_interval: statistic must be 'median' or 'mean', got {statistic!r}"
        )
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    draws = x[rng.integers(0, x.size, size=(resamples, x.size))]
    values = reducers[statistic](draws, axis=1)
    alpha = 1.0 - confidence
    low, high = np.quantile(values, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)
    ### END SOLUTION


# ============================================================================= benchmark()


@dataclass(frozen=True)
class BenchmarkResult(SampleStatistics):
    """Repeated timings of one thing, with their summary and a confidence interval.

    ``samples`` are seconds per call (each the average of ``number`` calls). The interval
    is for the median (``ci_method="bootstrap"``) or the mean (``"t"``): ``ci_statistic``.
    """

    name: str
    samples: tuple[float, ...]
    confidence: float
    ci_method: str
    ci_low: float
    ci_high: float
    warmup: int = 0
    number: int = 1

    @property
    def std(self) -> float:
        """Sample standard deviation (n - 1 in the denominator)."""
        return statistics.stdev(self.samples)

    @property
    def ci_statistic(self) -> str:
        return "mean" if self.ci_method == "t" else "median"

    @property
    def relative_ci_width(self) -> float:
        """Width of the interval relative to the median: below the effect you claim, or no claim."""
        return (self.ci_high - self.ci_low) / self.median

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary, as a capstone submission records latency."""
        return {
            "median_s": self.median,
            "mean_s": self.mean,
            "std_s": self.std,
            "ci_low_s": self.ci_low,
            "ci_high_s": self.ci_high,
            "confidence": self.confidence,
            "ci_method": self.ci_method,
            "ci_statistic": self.ci_statistic,
            "repeats": len(self.samples),
            "warmup": self.warmup,
        }

    def __str__(self) -> str:
        return (
            f"{self.name}: median {format_seconds(self.median)} "
            f"[{format_seconds(self.ci_low)}, {format_seconds(self.ci_high)}] "
            f"({100 * self.confidence:.0f}% {self.ci_method} CI of the {self.ci_statistic}), "
            f"mean {format_seconds(self.mean)} ± {format_seconds(self.std)}, "
            f"{len(self.samples)} repeats"
        )


def summarize(
    samples: Sequence[float],
    name: str = "samples",
    confidence: float = 0.95,
    ci: str = "bootstrap",
    seed: int = 0,
    warmup: int = 0,
    number: int = 1,
) -> BenchmarkResult:
    """A :class:`BenchmarkResult` from samples measured elsewhere (``ci``: 'bootstrap' or 't')."""
    x = _samples(samples, "summarize")
    if ci == "bootstrap":
        low, high = bootstrap_interval(x, confidence, "median", seed=seed)
    elif ci == "t":
        low, high = t_interval(x, confidence)
    else:
        raise ValueError(f"summarize: ci must be 'bootstrap' or 't', got {ci!r}")
    return BenchmarkResult(
        name, tuple(float(v) for v in x), confidence, ci, low, high, warmup, number
    )


# competency: deployment/measures
def benchmark(
    fn: Callable[[], Any],
    warmup: int = 3,
    repeats: int = 30,
    number: int = 1,
    confidence: float = 0.95,
    ci: str = "bootstrap",
    seed: int = 0,
    name: str | None = None,
) -> BenchmarkResult:
    """Time ``fn()`` the careful way: warm up, repeat, summarize with a confidence interval.

    ``warmup`` untimed calls absorb one-off costs; ``repeats`` samples (each the mean of
    ``number`` calls) give the spread. 30 repeats make a bootstrap interval of the median
    trustworthy; fewer make it wide, which is honest.
    """
    if repeats < 2:
        raise ValueError(f"benchmark: an interval needs repeats >= 2, got {repeats}")
    timing = time_call(fn, warmup=warmup, repeats=repeats, number=number)
    label = name or getattr(fn, "__name__", "fn")
    return summarize(timing.samples, label, confidence, ci, seed, warmup, number)


def benchmark_interleaved(
    fns: Mapping[str, Callable[[], Any]],
    warmup: int = 1,
    repeats: int = 15,
    number: int = 1,
    seed: int = 0,
) -> dict[str, BenchmarkResult]:
    """Time several functions in alternating rounds: {name: BenchmarkResult}.

    Each round times every function once (``number`` calls, mean per call), in the order
    given. Timed one after another instead, a burst of load elsewhere on the machine lands
    on whichever function happens to be running and turns into a false speedup or
    slowdown; interleaved, every function sees the same load, and the medians of
    ``repeats`` rounds compare like with like. ``warmup`` untimed rounds come first.
    """
    if repeats < 2:
        raise ValueError(f"benchmark_interleaved: an interval needs repeats >= 2, got {repeats}")
    if not fns:
        raise ValueError("benchmark_interleaved: give at least one function to time")
    ### BEGIN SOLUTION
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for round_ in range(warmup + repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            if round_ >= warmup:
                samples[name].append((time.perf_counter() - start) / number)
    return {
        name: summarize(times, name, seed=seed, warmup=warmup, number=number)
        for name, times in samples.items()
    }
    ### END SOLUTION


# ============================================================================= compare()


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """One-sided Welch t-test that A's mean is smaller than B's: (t, df, p).

    t = (mean_b - mean_a) / sqrt(var_a/n_a + var_b/n_b), with the Welch–Satterthwaite
    degrees of freedom (the two spreads need not be equal). p = P(T >= t) under "no
    difference": small p means A's times are genuinely lower.
    """
    x, y = _samples(a, "welch_t_test"), _samples(b, "welch_t_test")
    ### BEGIN SOLUTION
    va, vb = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    diff = float(y.mean() - x.mean())
    if va + vb == 0.0:  # no spread at all: the difference is certain, or there is none
        t = math.copysign(math.inf, diff) if diff else 0.0
        return t, math.inf, 0.0 if diff > 0 else 1.0
    t = diff / math.sqrt(va + vb)
    df = float((va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1)))
    return t, df, 1.0 - t_cdf(t, df)
    ### END SOLUTION


def permutation_test(
    a: Sequence[float], b: Sequence[float], permutations: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """One-sided permutation test that A's median is smaller than B's: (difference, p).

    If A and B were the same distribution, the labels "A" and "B" would be arbitrary:
    shuffle them ``permutations`` times (seeded) and count how often the shuffled
    difference median(B) - median(A) is at least the observed one. No normality assumed.
    """
    x, y = _samples(a, "permutation_test"), _samples(b, "permutation_test")
    ### BEGIN SOLUTION
    observed = float(np.median(y) - np.median(x))
    pooled = np.concatenate([x, y])
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(pooled, (permutations, 1)), axis=1)
    diffs = np.median(shuffled[:, x.size :], axis=1) - np.median(shuffled[:, : x.size], axis=1)
    p = (1 + np.count_nonzero(diffs >= observed - 1e-12 * abs(observed))) / (permutations + 1)
    return observed, float(p)
    ### END SOLUTION


@dataclass(frozen=True)
class Comparison:
    """The answer to "is A faster than B?", with the evidence."""

    a: str
    b: str
    speedup: float
    p_value: float
    alpha: float
    method: str
    statistic: float

    @property
    def significant(self) -> bool:
        """True when the difference is unlikely (p < alpha) under "no difference"."""
        return bool(self.p_value < self.alpha)

    def __str__(self) -> str:
        verdict = (
            f"{self.a} is faster than {self.b}"
            if self.significant
            else f"no evidence that {self.a} is faster than {self.b}"
        )
        return (
            f"{verdict}: {self.speedup:.3f}x by median, p = {self.p_value:.3g} "
            f"({self.method}, alpha {self.alpha})"
        )


def compare(
    a: BenchmarkResult | Sequence[float],
    b: BenchmarkResult | Sequence[float],
    alpha: float = 0.05,
    method: str = "welch",
    seed: int = 0,
    permutations: int = 10_000,
) -> Comparison:
    """Is A faster than B? One-sided test on two sets of timings (results or raw samples).

    ``speedup`` is median(B) / median(A); ``method`` is 'welch' (means, fast) or
    'permutation' (medians, assumption-free, seeded). A speedup without significance is
    noise until more repeats say otherwise.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"compare: alpha must be in (0, 1), got {alpha}")
    xa = a.samples if isinstance(a, BenchmarkResult) else a
    xb = b.samples if isinstance(b, BenchmarkResult) else b
    name_a = a.name if isinstance(a, BenchmarkResult) else "A"
    name_b = b.name if isinstance(b, BenchmarkResult) else "B"
    if method == "welch":
        statistic, _, p = welch_t_test(xa, xb)
    elif method == "permutation":
        statistic, p = permutation_test(xa, xb, permutations, seed)
    else:
        raise ValueError(f"compare: method must be 'welch' or 'permutation', got {method!r}")
    speedup = float(np.median(xb) / np.median(xa))
    return Comparison(name_a, name_b, speedup, float(p), alpha, method, float(statistic))


# ============================================================================= the system


def blas_info() -> dict[str, Any] | None:
    """Name and version of the BLAS NumPy was built with (NumPy >= 1.26), else None."""
    try:
        config = np.show_config(mode="dicts")
    except TypeError:  # NumPy < 1.26 can only print its configuration
        return None
    blas = (config or {}).get("Build Dependencies", {}).get("blas", {})
    if not blas:
        return None
    return {"name": blas.get("name"), "version": blas.get("version")}


def blas_thread_count() -> int | None:
    """Threads the BLAS will use, via threadpoolctl when installed (else None)."""
    try:
        from threadpoolctl import threadpool_info
    except ModuleNotFoundError:
        return None
    pools = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(pools) if pools else None


def tier_versions() -> dict[str, str | None]:
    """Installed version of each TinyTorch tier (None for a tier not installed)."""
    versions: dict[str, str | None] = {}
    for tier in TIERS:
        try:
            versions[tier] = metadata.version(tier)
        except metadata.PackageNotFoundError:
            versions[tier] = None
    return versions


def system_metadata() -> dict[str, Any]:
    """Everything a benchmark result needs to be reproduced or put in context.

    Python and NumPy versions, the BLAS and its threads, the thread-count environment
    variables, CPU count, machine and OS, the installed tier versions, and the UTC time.
    A number measured on an unknown machine with an unknown BLAS cannot be compared.
    """
    ### BEGIN SOLUTION
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "blas_threads": blas_thread_count(),
        "thread_env": {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
        "cpu_count": os.cpu_count() or 1,
        "machine": platform.machine(),
        "platform": platform.platform(),
        "tiers": tier_versions(),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    ### END SOLUTION
