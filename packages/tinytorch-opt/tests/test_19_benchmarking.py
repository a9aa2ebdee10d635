"""Module 19 · Benchmarking — the specification, as tests.

Statistics are checked on seeded synthetic samples whose truth is known (no timing):
t quantiles against printed tables, interval coverage over many seeded trials, the
significance test's power on a clear difference and its false-positive rate on none.
"""

from __future__ import annotations

import json
import math
import os
import platform
from importlib import metadata

import numpy as np
import pytest

from tinytorch.perf import benchmarking

# ============================================================================= Student's t

# Two-sided critical values as printed in any t table (and by scipy.stats.t.ppf).
T_TABLE = [
    (0.975, 1, 12.706204736),
    (0.975, 2, 4.302652730),
    (0.975, 5, 2.570581836),
    (0.975, 10, 2.228138852),
    (0.975, 30, 2.042272456),
    (0.975, 1000, 1.962339081),
    (0.95, 10, 1.812461123),
    (0.995, 4, 4.604094871),
    (0.9, 3, 1.637744354),
]


@pytest.mark.parametrize(("p", "df", "expected"), T_TABLE)
def test_t_quantile_matches_the_table(p: float, df: int, expected: float) -> None:
    assert benchmarking.t_quantile(p, df) == pytest.approx(expected, rel=1e-8)
    assert benchmarking.t_quantile(1 - p, df) == pytest.approx(-expected, rel=1e-8)  # symmetric


def test_t_quantile_tends_to_the_normal_and_is_zero_at_the_median() -> None:
    assert benchmarking.t_quantile(0.5, 7) == pytest.approx(0.0, abs=1e-10)
    assert benchmarking.t_quantile(0.975, 1e7) == pytest.approx(1.959964, abs=1e-5)


def test_t_cdf_closed_forms() -> None:
    # df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/pi.
    for t in (-3.0, -0.5, 0.0, 1.0, 10.0):
        assert benchmarking.t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)
    # df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)).
    for t in (-2.0, 0.3, 4.0):
        assert benchmarking.t_cdf(t, 2) == pytest.approx(
            0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-12
        )
    assert benchmarking.t_cdf(math.inf, 3) == 1.0 and benchmarking.t_cdf(-math.inf, 3) == 0.0
    assert benchmarking.t_cdf(benchmarking.t_quantile(0.9, 2.5), 2.5) == pytest.approx(
        0.9, abs=1e-10
    )  # real df too


@pytest.mark.ungraded
def test_regularized_beta_limits() -> None:
    assert (
        benchmarking.regularized_beta(0.0, 2, 3) == 0.0
        and benchmarking.regularized_beta(1.0, 2, 3) == 1.0
    )
    assert benchmarking.regularized_beta(0.3, 1, 1) == pytest.approx(0.3)  # I_x(1, 1) = x


@pytest.mark.ungraded
def test_t_functions_reject_impossible_arguments() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        benchmarking.t_quantile(1.0, 5)
    with pytest.raises(ValueError, match="degrees of freedom"):
        benchmarking.t_quantile(0.9, 0)
    with pytest.raises(ValueError, match="degrees of freedom"):
        benchmarking.t_cdf(1.0, -1)


# ============================================================================= intervals


def test_t_interval_by_hand() -> None:
    # [1, 2, 3, 4, 5]: mean 3, s = sqrt(2.5), n = 5, t(0.975, 4) = 2.776445.
    low, high = benchmarking.t_interval([1, 2, 3, 4, 5], 0.95)
    half = 2.7764451052 * math.sqrt(2.5) / math.sqrt(5)
    assert low == pytest.approx(3 - half, rel=1e-8) and high == pytest.approx(3 + half, rel=1e-8)
    assert low == pytest.approx(1.0367568385, rel=1e-8)


def test_t_interval_widens_with_confidence_and_narrows_with_samples(rng) -> None:
    x = rng.normal(10, 2, 50)
    w90, w99 = (np.diff(benchmarking.t_interval(x, c))[0] for c in (0.90, 0.99))
    assert w99 > w90
    assert (
        np.diff(benchmarking.t_interval(x, 0.95))[0]
        < np.diff(benchmarking.t_interval(x[:10], 0.95))[0]
    )


def test_t_interval_covers_the_true_mean_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(2024)
    trials, hits = 400, 0
    for _ in range(trials):
        low, high = benchmarking.t_interval(rng.normal(10.0, 2.0, size=8), 0.95)
        hits += low <= 10.0 <= high
    # Binomial standard deviation over 400 trials is ~1.1 points; allow ~3.
    assert 0.92 <= hits / trials <= 0.98


def test_bootstrap_interval_covers_the_true_median_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(7)
    trials, hits = 200, 0
    for trial in range(trials):
        low, high = benchmarking.bootstrap_interval(
            rng.normal(5.0, 1.0, 40), 0.95, resamples=1000, seed=trial
        )
        hits += low <= 5.0 <= high
    assert 0.88 <= hits / trials <= 0.99  # the percentile bootstrap runs a little narrow


def test_bootstrap_interval_is_reproducible_and_brackets_the_sample_statistic(rng) -> None:
    x = rng.lognormal(0, 0.5, 30)  # skewed, like timings
    assert benchmarking.bootstrap_interval(x, seed=3) == benchmarking.bootstrap_interval(x, seed=3)
    # Medians of resamples are order statistics of x, so their quantiles rarely move
    # between seeds; means of resamples are continuous and do.
    assert benchmarking.bootstrap_interval(
        x, statistic="mean", seed=3
    ) != benchmarking.bootstrap_interval(x, statistic="mean", seed=4)
    low, high = benchmarking.bootstrap_interval(x)
    assert low <= np.median(x) <= high
    low, high = benchmarking.bootstrap_interval(x, statistic="mean")
    assert low <= x.mean() <= high
    with pytest.raises(ValueError, match="statistic"):
        benchmarking.bootstrap_interval(x, statistic="mode")


@pytest.mark.ungraded
def test_intervals_refuse_too_few_or_non_finite_samples() -> None:
    with pytest.raises(ValueError, match="at least 2 samples"):
        benchmarking.t_interval([1.0])
    with pytest.raises(ValueError, match="finite"):
        benchmarking.bootstrap_interval([1.0, math.nan, 2.0])
    with pytest.raises(ValueError, match="confidence"):
        benchmarking.t_interval([1.0, 2.0], confidence=95)


# ============================================================================= benchmark()


def test_summarize_reports_median_mean_spread_and_interval() -> None:
    samples = [0.010, 0.011, 0.012, 0.013, 0.030]  # one slow outlier
    result = benchmarking.summarize(samples, "demo")
    assert result.median == 0.012
    assert result.mean == pytest.approx(0.0152)
    assert result.std == pytest.approx(np.std(samples, ddof=1))
    assert result.ci_low <= result.median <= result.ci_high
    assert result.ci_statistic == "median" and result.ci_method == "bootstrap"
    t_result = benchmarking.summarize(samples, "demo", ci="t")
    assert (t_result.ci_low, t_result.ci_high) == pytest.approx(benchmarking.t_interval(samples))
    assert t_result.ci_statistic == "mean"
    assert result.relative_ci_width == pytest.approx((result.ci_high - result.ci_low) / 0.012)
    assert "demo: median" in str(result) and "95% bootstrap CI of the median" in str(result)
    with pytest.raises(ValueError, match="ci must be"):
        benchmarking.summarize(samples, ci="normal")


def test_a_result_serializes_to_the_fields_a_submission_needs() -> None:
    record = benchmarking.summarize([0.5, 0.6, 0.7], "x").to_dict()
    assert set(record) == {
        "median_s",
        "mean_s",
        "std_s",
        "ci_low_s",
        "ci_high_s",
        "confidence",
        "ci_method",
        "ci_statistic",
        "repeats",
        "warmup",
    }
    assert record["repeats"] == 3 and record["median_s"] == 0.6
    json.dumps(record)  # plain numbers only


def test_benchmark_warms_up_repeats_and_summarizes() -> None:
    calls = []

    def work() -> None:
        calls.append(1)

    result = benchmarking.benchmark(work, warmup=3, repeats=6, number=2)
    assert isinstance(result, benchmarking.BenchmarkResult)
    assert len(calls) == 3 + 6 * 2
    assert len(result.samples) == 6 and all(s >= 0 for s in result.samples)
    assert result.name == "work" and result.warmup == 3 and result.number == 2
    assert result.ci_low <= result.median <= result.ci_high
    with pytest.raises(ValueError, match="repeats >= 2"):
        benchmarking.benchmark(work, repeats=1)


def test_benchmark_interleaved_alternates_the_functions_round_by_round() -> None:
    calls = []
    results = benchmarking.benchmark_interleaved(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        warmup=1,
        repeats=3,
        number=2,
    )
    assert calls == ["a", "a", "b", "b"] * 4  # one warm-up round, then three timed ones
    assert list(results) == ["a", "b"]
    for name, result in results.items():
        assert isinstance(result, benchmarking.BenchmarkResult) and result.name == name
        assert len(result.samples) == 3 and result.warmup == 1 and result.number == 2
    with pytest.raises(ValueError, match="repeats >= 2"):
        benchmarking.benchmark_interleaved({"a": lambda: None}, repeats=1)
    with pytest.raises(ValueError, match="at least one"):
        benchmarking.benchmark_interleaved({})


# ============================================================================= compare()


def test_welch_t_test_matches_a_hand_checked_value() -> None:
    a = [1.0, 1.1, 0.9, 1.05, 0.95]
    b = [1.2, 1.3, 1.1, 1.25, 1.15]
    t, df, p = benchmarking.welch_t_test(a, b)
    # Means 1.0 and 1.2, both variances 0.00625: t = 0.2 / sqrt(2 * 0.00625 / 5) = 4, df = 8.
    assert t == pytest.approx(4.0) and df == pytest.approx(8.0)
    assert p == pytest.approx(0.0019748864, rel=1e-7)
    t, df, p = benchmarking.welch_t_test(
        [1.0, 1.1, 0.9, 1.05, 0.95, 1.02], [1.0, 1.3, 0.8, 1.25, 1.15]
    )
    assert t == pytest.approx(1.0136514735) and df == pytest.approx(4.8203608729)
    assert p == pytest.approx(0.1794469404, rel=1e-7)


def test_welch_t_test_without_any_spread() -> None:
    assert benchmarking.welch_t_test([1.0, 1.0], [2.0, 2.0])[2] == 0.0
    assert benchmarking.welch_t_test([2.0, 2.0], [2.0, 2.0])[2] == 1.0


def test_compare_detects_a_clear_speedup_with_either_test() -> None:
    rng = np.random.default_rng(11)
    fast, slow = rng.normal(1.0, 0.05, 20), rng.normal(1.2, 0.05, 20)
    for method in ("welch", "permutation"):
        verdict = benchmarking.compare(fast, slow, method=method, permutations=2000)
        assert isinstance(verdict, benchmarking.Comparison)
        assert verdict.significant and verdict.p_value < 0.01
        assert verdict.speedup == pytest.approx(np.median(slow) / np.median(fast))
        assert "A is faster than B" in str(verdict)
        # One-sided: the slower one is never "significantly faster".
        assert not benchmarking.compare(slow, fast, method=method, permutations=2000).significant


def test_compare_finds_a_5_percent_speedup_only_with_enough_repeats() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.95, 0.1, 200), rng.normal(1.0, 0.1, 200)
    assert benchmarking.compare(a[:5], b[:5]).p_value > benchmarking.compare(a, b).p_value
    assert benchmarking.compare(a, b).significant


def test_compare_false_positive_rate_is_about_alpha_when_nothing_differs() -> None:
    rng = np.random.default_rng(99)
    welch = [
        benchmarking.compare(rng.normal(1, 0.1, 15), rng.normal(1, 0.1, 15)).significant
        for _ in range(400)
    ]
    assert 0.025 <= np.mean(welch) <= 0.08
    permutation = [
        benchmarking.compare(
            rng.normal(1, 0.1, 15),
            rng.normal(1, 0.1, 15),
            method="permutation",
            permutations=500,
            seed=i,
        ).significant
        for i in range(100)
    ]
    assert np.mean(permutation) <= 0.12


def test_permutation_test_is_seeded_and_its_p_value_is_never_zero() -> None:
    a, b = [1.0, 1.1, 0.9, 1.0], [2.0, 2.1, 1.9, 2.0]
    assert benchmarking.permutation_test(a, b, 1000, seed=1) == benchmarking.permutation_test(
        a, b, 1000, seed=1
    )
    difference, p = benchmarking.permutation_test(a, b, 1000)
    assert difference == pytest.approx(1.0)
    # Only 1 of the 70 ways to split 8 values 4/4 is this extreme: p ~ 1/70, never 0.
    assert 1 / 1001 <= p < 0.05


def test_compare_takes_benchmark_results_and_names_them() -> None:
    a = benchmarking.summarize([1.0, 1.01, 0.99, 1.0, 1.02], "fused")
    b = benchmarking.summarize([2.0, 2.01, 1.99, 2.0, 2.02], "naive")
    verdict = benchmarking.compare(a, b)
    assert (verdict.a, verdict.b) == ("fused", "naive") and verdict.significant
    assert verdict.speedup == pytest.approx(2.0)
    with pytest.raises(ValueError, match="method"):
        benchmarking.compare(a, b, method="eyeball")
    with pytest.raises(ValueError, match="alpha"):
        benchmarking.compare(a, b, alpha=5)


# ============================================================================= the system


def test_system_metadata_records_what_a_result_depends_on() -> None:
    meta = benchmarking.system_metadata()
    assert meta["python"] == platform.python_version()
    assert meta["numpy"] == np.__version__
    assert meta["cpu_count"] == (os.cpu_count() or 1)
    assert meta["machine"] == platform.machine() and meta["platform"]
    assert set(meta["tiers"]) == {"tinytorch-foundation", "tinytorch-arch", "tinytorch-opt"}
    for tier, version in meta["tiers"].items():  # the installed version, None if not installed
        try:
            assert version == metadata.version(tier)
        except metadata.PackageNotFoundError:
            assert version is None
    assert meta["blas"] is None or set(meta["blas"]) == {"name", "version"}
    assert meta["timestamp"].endswith("+00:00")
    assert all(isinstance(v, str) for v in meta["thread_env"].values())
    json.dumps(meta)  # plain JSON types only


def test_system_metadata_records_thread_settings(monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert benchmarking.system_metadata()["thread_env"]["OMP_NUM_THREADS"] == "3"
