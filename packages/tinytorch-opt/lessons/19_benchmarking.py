# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 19 · Benchmarking — turn noisy timings into claims you can defend
#
# Modules 15–18 made things smaller and faster, and each claim was a number measured
# once or a few times. Run the same code twice and the times differ, often by 10–30%:
# other processes, caches, clock frequency. One timing is an anecdote. This module turns
# repeated timings into statements with an honest uncertainty: a median with a
# confidence interval (by bootstrap, or by Student's t for the mean, its quantile
# computed here without SciPy), a test of whether A is really faster than B, and the
# system metadata without which nobody can reproduce or even interpret the number.
#
# ## Connection map
#
# - **Prerequisites**: 14 Profiling (`time_call`: warm-up and repeated samples) and
#   15–18 (the optimizations whose speed-ups need proving).
# - **This module**: `benchmark()` with warm-up and repeats; median, mean and standard
#   deviation; confidence intervals (seeded bootstrap, Student's t); `compare()` with
#   Welch's t-test or a permutation test; `system_metadata()`.
# - **Unlocks**: 20 Capstone (a submission reports latency with its interval and the
#   system it was measured on) and Milestone 6.

# %%
import os
import time
from pathlib import Path

import numpy as np
import pytest

from tinytorch.core import Tensor, manual_seed
from tinytorch.nn import Linear, ReLU, Sequential
from tinytorch.nn.activations import gelu
from tinytorch.perf.acceleration import gelu_fused
from tinytorch.perf.benchmarking import (
    benchmark,
    bootstrap_interval,
    compare,
    system_metadata,
    t_interval,
    t_quantile,
)


def module_tests(number: str) -> Path | None:
    """This module's test file: in a ``tests`` folder beside or above the lessons.

    Set the environment variable TINYTORCH_TESTS to a folder to look there first.
    """
    here = Path.cwd().resolve()
    folders = [Path(os.environ["TINYTORCH_TESTS"])] if "TINYTORCH_TESTS" in os.environ else []
    folders += [folder / "tests" for folder in (here, *here.parents)]
    for folder in folders:
        found = sorted(folder.glob(f"test_{number}_*.py"))
        if found:
            return found[0]
    return None


rng = np.random.default_rng(0)

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/perf/benchmarking.py`**:
#
# - `t_cdf`: P(T ≤ t) from the regularized incomplete beta function (given), with
#   x = df / (df + t²) and the symmetry of the distribution.
# - `t_quantile`: invert `t_cdf` by bisection (a bracket doubled until it contains p).
# - `t_interval`: mean ± t₍₁₊c₎/₂,ₙ₋₁ · s / √n.
# - `bootstrap_interval`: resample the data with replacement (a seeded generator), take
#   the median (or mean) of each resample, and the middle `confidence` of those values.
# - `welch_t_test`: one-sided Welch t statistic, the Welch–Satterthwaite degrees of
#   freedom and p = P(T ≥ t); no spread at all is a certain answer, not a division by 0.
# - `permutation_test`: shuffle the labels A/B many times (seeded) and count how often
#   the shuffled difference of medians reaches the observed one.
# - `system_metadata`: Python, NumPy, the BLAS and its threads, thread variables, CPUs,
#   machine, OS, the tier versions and the UTC time.
# - `benchmark_interleaved`: time several functions round by round (each once per round,
#   in order, after the warm-up rounds), so a burst of load elsewhere lands on all of
#   them alike; summarize each one's samples.
#
# `regularized_beta`, `BenchmarkResult`, `summarize`, `benchmark`, `compare` and the
# BLAS and version helpers are given.

# %% [markdown]
# ## Use
#
# **The t factor.** A 95% interval from n samples uses t at 0.975 with n − 1 degrees of
# freedom: wide for few samples, approaching the normal 1.96.

# %%
for n in (3, 5, 11, 31, 1001):
    print(f"n = {n:>4}: t = {t_quantile(0.975, n - 1):.3f}")

# %% [markdown]
# **Two intervals on skewed data.** Timing-like samples (log-normal: a long tail of slow
# runs): the t-interval is for the mean, the bootstrap interval for the median.

# %%
samples = rng.lognormal(mean=np.log(1e-3), sigma=0.3, size=30)
print(
    f"mean {samples.mean() * 1e3:.3f} ms, t-interval",
    np.round(np.array(t_interval(samples)) * 1e3, 3),
)
print(
    f"median {np.median(samples) * 1e3:.3f} ms, bootstrap interval",
    np.round(np.array(bootstrap_interval(samples)) * 1e3, 3),
)

# %% [markdown]
# **Is the fused GELU of Module 18 really faster?** Benchmark both, then test.

# %%
activation = rng.standard_normal((256, 1024)).astype(np.float32)
as_tensor, buffer = Tensor(activation), np.empty_like(activation)
plain = benchmark(lambda: gelu(as_tensor), warmup=3, repeats=30, name="one-expression GELU")
fused = benchmark(lambda: gelu_fused(activation, buffer), warmup=3, repeats=30, name="fused GELU")
print(plain)
print(fused)
print(compare(fused, plain))
print(compare(fused, plain, method="permutation"))

# %% [markdown]
# **An A/A test**: the same function benchmarked twice must not come out "faster".

# %%
again = benchmark(lambda: gelu_fused(activation, buffer), warmup=3, repeats=30, name="fused again")
print(compare(again, fused))

# %% [markdown]
# **What a result must carry**: where it was measured.

# %%
for key, value in system_metadata().items():
    print(f"{key:>14}: {value}")

# %% [markdown]
# ### Run this module's tests

# %%
tests = module_tests("19")
if tests is None:
    print("No tests for Module 19 found next to this lesson; skipping.")
else:
    exit_code = pytest.main([str(tests), "-q", "-rN", "--color=no", "-p", "no:cacheprovider"])
    assert exit_code == pytest.ExitCode.OK, f"Module 19 tests failed ({exit_code})"

# %% [markdown]
# ## Reflect
#
# **Q1 · Latency and throughput, one request or a batch.** Benchmark the Milestone 3
# MLP (64 → 256 → 10) on one example and on a batch of 64. Report the p50 and p99
# latency of each and the throughput in examples per second. What does a server choose
# between?

# %%
# competency: deployment/measures, deployment/knows
manual_seed(0)
mlp = Sequential(Linear(64, 256), ReLU(), Linear(256, 10))
one, many = (
    Tensor(rng.random((1, 64), dtype=np.float32)),
    Tensor(rng.random((64, 64), dtype=np.float32)),
)
### BEGIN SOLUTION
serving = {}
for label, batch in (("one example", one), ("batch of 64", many)):
    result = benchmark(lambda batch=batch: mlp(batch), warmup=5, repeats=200, name=label)
    p50, p99 = np.percentile(result.samples, [50, 99])
    serving[label] = (p50, p99, batch.shape[0] / result.median)
### END SOLUTION
for label, (p50, p99, throughput) in serving.items():
    print(
        f"{label:<12} p50 {p50 * 1e6:7.1f} us, p99 {p99 * 1e6:7.1f} us, "
        f"{throughput:>10,.0f} examples/s"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** One example takes some ten microseconds, mostly fixed overhead (Python
# calls, small allocations); a batch of 64 takes only a few times longer, so throughput
# is an order of magnitude higher. The p99 sits well above the p50 in both: the tail is
# what users notice, and it is what a latency target (say "p99 under 10 ms") is written
# against. The server's trade: answering each request as it arrives (streaming) gives
# the lowest latency and the lowest throughput; waiting to collect a batch raises
# throughput but adds the waiting time to every request's latency. Dynamic batching
# collects requests for at most a few milliseconds to get most of both.
# ### END SOLUTION
#
# **Q2 · How many repeats.** With timing-like noise (log-normal, σ = 0.15), how wide is
# the 95% bootstrap interval of the median relative to the median, for 5, 10, 30 and
# 100 repeats?

# %%
# competency: deployment/measures
### BEGIN SOLUTION
widths = {}
for repeats in (5, 10, 30, 100):
    draws = np.random.default_rng(repeats).lognormal(0.0, 0.15, size=repeats)
    low, high = bootstrap_interval(draws)
    widths[repeats] = (high - low) / np.median(draws)
### END SOLUTION
print(", ".join(f"{n} repeats: ±{w / 2:.1%}" for n, w in widths.items()))

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Roughly ±20% at 5 repeats (the interval of five samples is nearly their
# whole range), ±9% at 10, ±5% at 30 and ±4% at 100: the width shrinks roughly like
# 1/√n, so halving it costs about four times the repeats (one simulated run per size,
# so the figures wobble). A claimed 5% speed-up needs intervals no wider than that,
# 30 repeats or more at this noise level; with 5 repeats the same claim is
# indistinguishable from noise. That is why
# `benchmark` defaults to 30 repeats and reports the interval with the median.
# ### END SOLUTION
#
# **Q3 · Detecting a 5% speed-up.** Simulate 200 comparisons in which B is truly 5%
# faster (the same noise as Q2, but σ = 0.1), and 200 in which nothing differs, for 5,
# 10, 30 and 100 repeats. How often does `compare` say "faster"?


# %%
### BEGIN SOLUTION
def detection_rate(repeats: int, speedup: float) -> float:
    found = 0
    for seed in range(200):
        draws = np.random.default_rng(seed)
        faster = draws.lognormal(np.log(1 / speedup), 0.1, repeats)
        baseline = draws.lognormal(0.0, 0.1, repeats)
        found += compare(faster, baseline).significant
    return found / 200


rates = {n: (detection_rate(n, 1.05), detection_rate(n, 1.0)) for n in (5, 10, 30, 100)}
### END SOLUTION
for n, (power, false_alarms) in rates.items():
    print(
        f"{n:>3} repeats: real 5% found {power:.0%} of the time, "
        f"no difference flagged {false_alarms:.0%}"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** When nothing differs, about 5% of comparisons still come out "significant"
# whatever the number of repeats: that is what α = 0.05 means, and why one significant
# result among twenty tries proves nothing. When B really is 5% faster, 5 repeats find
# it less than a fifth of the time, 30 repeats about two thirds of the time, 100 almost
# always. A statistically significant result needs enough repeats to have a chance
# (the power of the test) and a fixed plan: deciding the number of repeats after
# looking at the p-value inflates the false alarms.
# ### END SOLUTION
#
# **Q4 · Why warm up.** Time filling a freshly allocated 32 MiB array, and filling it
# again. What does the first call pay for that later calls do not?

# %%
# competency: tensors/knows
### BEGIN SOLUTION
fresh = np.empty(2**23, dtype=np.float32)
start = time.perf_counter()
fresh.fill(1.0)
first = time.perf_counter() - start
start = time.perf_counter()
fresh.fill(2.0)
second = time.perf_counter() - start
### END SOLUTION
print(f"first fill {first * 1e3:.2f} ms, second {second * 1e3:.2f} ms ({first / second:.1f}x)")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** `np.empty` only reserves address space; the operating system maps a
# physical page the first time each 4 KiB page is touched, so the first fill pays a
# page fault per page, many times the cost of the writes themselves. Later calls
# find the pages mapped and the data perhaps in cache. First calls also pay for
# imports, lazily built tables, BLAS thread start-up and CPU frequency ramp-up. A
# benchmark that includes them measures start-up, not the steady state a server runs
# in; warm-up calls discard them (and a separate cold-start measurement can report
# them on purpose).
# ### END SOLUTION
#
# **Q5 · What a number needs.** A colleague reports "int8 inference: 1.8 ms". Which
# entries of `system_metadata` (and which other facts) are needed before you can
# compare it with your 2.3 ms?
#
# ### BEGIN SOLUTION
# **Answer.** The machine and CPU count (a laptop against a server), the BLAS and its
# thread count and the thread variables (one BLAS thread against all cores can change a
# product's time several-fold, in either direction on a busy machine), the NumPy and
# Python versions, and the tier versions (the code measured). Beyond the metadata: the
# batch size and input shape, the warm-up and number of repeats, which statistic (p50?
# mean?) with its interval, and when it was measured. Without them the two numbers
# cannot be compared, only quoted; with them, `compare` on the raw samples settles it.
# ### END SOLUTION
