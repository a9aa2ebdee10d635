"""Graded checks of Module 19 · Benchmarking: the t distribution, intervals, tests, metadata.

Resampling methods depend on how random draws are made, so their checks look at what
any correct interval or test must satisfy rather than at exact bounds.
"""

import numpy as np

from tinytorch.perf.benchmarking import (
    benchmark_interleaved,
    bootstrap_interval,
    permutation_test,
    system_metadata,
    t_cdf,
    t_interval,
    t_quantile,
    welch_t_test,
)

RNG = np.random.default_rng(1919)
SLOW = RNG.normal(10.0, 0.5, 30).tolist()
FAST = RNG.normal(8.0, 0.4, 25).tolist()


def check_t_distribution():
    """Student's t: the CDF at a few points and quantiles for a few degrees of freedom."""
    return {
        "cdf": [t_cdf(t, df) for t, df in ((0.0, 3), (1.5, 4), (-2.0, 10), (2.5, 1.5))],
        "quantile": [t_quantile(p, df) for p, df in ((0.975, 5), (0.95, 29), (0.5, 7), (0.01, 3))],
    }


def check_t_interval():
    """A t interval for the mean at 95% and 99%."""
    return [list(t_interval(SLOW)), list(t_interval(FAST, confidence=0.99))]


def check_bootstrap_interval():
    """Bootstrap intervals bracket their statistic, widen with confidence, repeat with a seed."""
    median = bootstrap_interval(SLOW, seed=3)
    wide = bootstrap_interval(SLOW, confidence=0.99, seed=3)
    mean = bootstrap_interval(FAST, statistic="mean", seed=3)
    return {
        "brackets": median[0] <= float(np.median(SLOW)) <= median[1],
        "mean_brackets": mean[0] <= float(np.mean(FAST)) <= mean[1],
        "wider": wide[0] <= median[0] and median[1] <= wide[1],
        "repeatable": bootstrap_interval(SLOW, seed=3) == median,
        "constant": list(bootstrap_interval([2.0] * 10, seed=1)),
    }


def check_welch_t_test():
    """Welch's one-sided test: t, degrees of freedom and p, both ways round."""
    return [list(welch_t_test(FAST, SLOW)), list(welch_t_test(SLOW, FAST))]


def check_permutation_test():
    """The median difference exactly; p tiny for a real difference, large for none."""
    real_difference, real_p = permutation_test(FAST, SLOW, permutations=2000, seed=4)
    _, no_p = permutation_test(SLOW[:15], SLOW[15:], permutations=2000, seed=4)
    return {"difference": real_difference, "real": real_p < 0.01, "none": no_p > 0.05}


def check_system_metadata():
    """Metadata a result needs to be reproduced: the fields are there, with sensible values."""
    meta = system_metadata()
    return {
        "keys": sorted(meta),
        "cpu_count": isinstance(meta["cpu_count"], int) and meta["cpu_count"] > 0,
        "numpy": meta["numpy"] == np.__version__,
    }


def check_benchmark_interleaved():
    """Alternating rounds: the call order, and one result per function with its samples."""
    calls = []
    results = benchmark_interleaved(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, warmup=1, repeats=2
    )
    return {
        "order": "".join(calls),
        "names": [r.name for r in results.values()],
        "samples": [len(r.samples) for r in results.values()],
    }
