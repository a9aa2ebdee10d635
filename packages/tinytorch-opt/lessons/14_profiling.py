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
# # Module 14 · Profiling — measure time, memory and FLOPs before optimizing anything
#
# The optimization tier starts with a rule: measure first. Intuition about where a
# model spends its time is wrong often enough that every optimization should begin
# with a profile. This module builds the instruments: a timer that warms up and
# repeats and reports the median, a peak-memory probe on `tracemalloc`, FLOP counts
# derived by hand for every layer type (and checked against hand counts), and a
# `Profiler` that puts them together layer by layer. Two analyses turn numbers into
# decisions: Amdahl's law says how much speeding up one layer can win at best, and a
# roofline says whether a layer is limited by arithmetic or by memory bandwidth.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor (bytes per element), 03 Layers (parameters,
#   `Sequential`), and the models of 09 Spatial, 12 Attention and 13 Transformers.
# - **This module**: `time_call` (warm-up, repeats, median), `peak_memory`
#   (tracemalloc), analytic FLOP counts per layer and per model, parameter counts, the
#   per-layer `Profiler` table, Amdahl's law, and a roofline against a measured
#   machine peak.
# - **Unlocks**: 15 Quantization, 16 Compression, 17 Memoization, 18 Acceleration
#   (which layer to optimize, and how much that can win) and 19 Benchmarking
#   (confidence intervals on top of these timings).

# %%
import numpy as np

from tinytorch.core import Tensor, manual_seed
from tinytorch.nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from tinytorch.perf import (
    Profiler,
    amdahl_speedup,
    attention_flops,
    conv2d_flops,
    count_flops,
    linear_flops,
    measure_peak,
    peak_memory,
    roofline,
    time_call,
)
from tinytorch_learn.lesson import run_tests

rng = np.random.default_rng(0)

# %% [markdown]
# ## Build
#
# Module 14 is four files in `tinytorch/perf/`, one per concern: `measure.py` (timing
# and memory), `flops.py` (FLOP formulas and one rule per layer type), `profiling.py`
# (the per-layer profiler) and `roofline.py`. What you write:
#
# - `time_call`: `warmup` untimed calls, then `repeats` samples, each the mean of
#   `number` back-to-back calls timed with `time.perf_counter`.
# - `peak_memory`: switch `tracemalloc` on if it is off, reset its peak, run the
#   function, and return the peak above the starting level (leaving tracing as it was).
# - `matmul_flops`: 2·n·k·m per product (one multiply and one add).
# - `linear_flops`: the matmul plus one FLOP per output element for the bias.
# - `conv2d_flops`: two FLOPs per multiply-accumulate, C_in·K_h·K_w of them per output
#   element, plus the bias.
# - `activation_flops`: the documented FLOPs per element times the element count.
# - `attention_flops`: the two T×S products, the scale and the softmax, plus (optionally)
#   the four projections.
# - `Profiler._time`: a forward hook that adds each layer's elapsed time to its running
#   total (the pre-hook that starts its clock is given); warm up, then time whole
#   passes while every leaf layer times itself, one sample per pass and per layer.
# - `amdahl_speedup`: 1 / ((1 − f) + f / s).
# - `measure_peak`: the best FLOP/s of a large matmul and the best bytes/s of a large
#   copy, the two ceilings of the roofline.
# - `roofline_point`: intensity = FLOPs / bytes, the attainable rate
#   min(peak FLOP/s, intensity × bandwidth), and which limit binds.
#
# The FLOP rules per layer type, `count_flops`, `Profiler.profile`, the memory pass,
# the report classes and `roofline` are given. The profiler looks inside a model only
# through Module 03's forward hooks (`register_forward_pre_hook`,
# `register_forward_hook`), and removes them when it is done. Parameters are counted by
# Module 03's `num_parameters`, which already counts a shared layer once.

# %% [markdown]
# ## Use
#
# **Timing.** One matmul, warmed up and repeated; the median is the headline number.

# %%
a = rng.standard_normal((256, 256)).astype(np.float32)
print(time_call(lambda: a @ a, warmup=2, repeats=7))

# %% [markdown]
# **Peak memory.** The paper's example: A @ B with both (1000, 1000) in float32 needs
# 4 MB for A, 4 MB for B and 4 MB for the product.

# %%
peak = peak_memory(lambda: np.ones((1000, 1000), np.float32) @ np.ones((1000, 1000), np.float32))
print(f"peak {peak / 1e6:.1f} MB")

# %% [markdown]
# **FLOPs by hand.** A Linear layer on a batch, the paper's CIFAR-10 convolution, and
# one attention layer at two sequence lengths:

# %%
print(f"Linear(784, 128) on 32 rows: {linear_flops(32, 784, 128):,}")
print(f"Conv2d(3, 32, 5) on (128, 3, 32, 32): {conv2d_flops((128, 3, 32, 32), 32, 5):,}")
for length in (128, 256):
    print(f"attention, T={length}, E=64, 4 heads: {attention_flops(1, length, 64, 4):,}")

# %% [markdown]
# **A profile.** A small CNN on a batch of 16 CIFAR-sized images, layer by layer:

# %%
manual_seed(0)
cnn = Sequential(
    Conv2d(3, 16, 3, padding=1),
    ReLU(),
    MaxPool2d(2),
    Conv2d(16, 32, 3, padding=1),
    ReLU(),
    MaxPool2d(2),
    Flatten(),
    Linear(32 * 8 * 8, 10),
)
profile = Profiler(warmup=2, repeats=7).profile(cnn, (16, 3, 32, 32))
print(profile)
slowest = profile.bottleneck()
print(f"\nbottleneck: layer {slowest.name} ({slowest.kind}), {profile.fraction(slowest.name):.0%}")

# %% [markdown]
# **The roofline.** Calibrate this machine's two ceilings, then place every layer:

# %%
machine = measure_peak(n=256, copy_bytes=16 * 2**20, repeats=3)
print(roofline(cnn, (16, 3, 32, 32), peak=machine, profile=profile))

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("14")

# %% [markdown]
# ## Reflect
#
# **Q1 · Count before you run.** For the MLP 784 → 256 → 10 (ReLU between) on a batch
# of 64, count the FLOPs and parameters by hand, then check both with the profiler's
# counters.

# %%
# competency: operations/measures, models/measures
mlp = Sequential(Linear(784, 256), ReLU(), Linear(256, 10))
### BEGIN SOLUTION
by_hand = linear_flops(64, 784, 256) + 64 * 256 + linear_flops(64, 256, 10)
counted = count_flops(mlp, (64, 784))
params_by_hand = 784 * 256 + 256 + 256 * 10 + 10
### END SOLUTION
print(f"FLOPs by hand {by_hand:,}, counted {counted:,}")
print(f"parameters by hand {params_by_hand:,}, counted {mlp.num_parameters():,}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The first layer costs 64 × (2 × 784 × 256 + 256) = 25,706,496 FLOPs, the
# ReLU one per element (16,384), the second 64 × (2 × 256 × 10 + 10) = 328,320: about
# 26.05 M in all, 98.7% of it in the first matmul. Parameters: 200,960 + 2,570 =
# 203,530. A count by hand tells you before running anything where the work is, and
# a profiler that disagrees with it has a bug.
# ### END SOLUTION
#
# **Q2 · Amdahl.** The profile's bottleneck takes a fraction f of the forward pass.
# What does making only that layer 2× faster win overall, and what is the most any
# speed-up of that layer can win? Compare with the paper's 70% example.

# %%
# competency: operations/knows
### BEGIN SOLUTION
f = profile.fraction(slowest.name)
twice = profile.amdahl(slowest.name, 2.0)
ceiling = amdahl_speedup(f, 1e12)
paper = amdahl_speedup(0.7, 2.0)
### END SOLUTION
print(f"f = {f:.2f}: 2x on that layer -> {twice:.2f}x overall, at most {ceiling:.1f}x")
print(f"paper: 70% made 2x faster -> {paper:.2f}x")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Overall speed-up = 1 / ((1 − f) + f / s). One of the two convolutions is
# the bottleneck here, with f somewhere between about 0.3 and 0.7 depending on the
# machine and the run; 2× on it then gives between 1.2× and 1.5× overall, and even an
# infinitely fast layer caps the whole at 1 / (1 − f), between 1.4× and 3.3×. The
# paper's numbers: 70% made 2× faster is 1 / (0.3 + 0.35) = 1.54×. Each optimization
# shrinks the part it targets, so the rest becomes the new bottleneck: profile again
# after every change.
# ### END SOLUTION
#
# **Q3 · Compute-bound or memory-bound.** On the roofline, which layers of the CNN sit
# left of the ridge, and what does that mean for speeding them up? Why does the first
# convolution reach far less of its ceiling than the second?

# %%
# competency: operations/measures
### BEGIN SOLUTION
report = roofline(cnn, (16, 3, 32, 32), peak=machine, profile=profile)
memory_bound = [p.name for p in report.points if p.bound == "memory"]
first, second = report.point("0"), report.point("3")
### END SOLUTION
print("memory-bound layers:", memory_bound)
print(
    f"conv 0: {first.intensity:.1f} FLOP/B, {first.efficiency:.1%} of its ceiling; "
    f"conv 3: {second.intensity:.1f} FLOP/B, {second.efficiency:.1%}"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** ReLU, the pooling layers and `Flatten` do a fraction of a FLOP per byte
# they move, far below the ridge (a few FLOP/byte on a typical CPU): their speed is set
# by memory bandwidth, so faster arithmetic cannot help them; only moving fewer bytes
# can (merging them into the neighbouring convolution's pass, or smaller dtypes). The
# final Linear usually lands there too: its 20,490 weights are read for only 16 rows.
# The convolutions are compute-bound on paper, yet the first reaches a smaller share of
# its ceiling than the second: with 3 input channels its GEMM is (16, 27) @ (27,
# 16,384), too thin for BLAS to run at full speed, and building its im2col matrix is
# pure data movement that the FLOP count does not see. The second (144-long dot
# products) keeps the arithmetic units busier. The roofline tells you what is possible;
# the gap between achieved and attainable tells you where to look.
# ### END SOLUTION
#
# **Q4 · Does measuring change what is measured?** Time the CNN directly and through
# the profiler (which wraps every layer in two clock reads), comparing the fastest
# pass of each. How large is the overhead, and when would it matter?

# %%
# competency: operations/debugs
x = Tensor(rng.standard_normal((16, 3, 32, 32)).astype(np.float32))
### BEGIN SOLUTION
direct = time_call(lambda: cnn(x), warmup=2, repeats=15).min
profiled = Profiler(warmup=2, repeats=15, memory=False).profile(cnn, x).timing.min
overhead = profiled / direct - 1
### END SOLUTION
print(f"direct {direct * 1e3:.2f} ms, profiled {profiled * 1e3:.2f} ms ({overhead:+.1%})")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Two `perf_counter` calls cost well under a microsecond per layer, a few
# microseconds for eight layers against a pass of a millisecond or more: the
# difference is smaller than the run-to-run noise, and its sign can even flip between
# runs (which is why both sides use their fastest pass here, and why Module 19 treats
# such comparisons statistically). It matters when layers are tiny: a model of
# many microsecond-sized layers (token-by-token generation, small MLPs) would be
# measured slower than it is, and the profile would blame the cheapest layers. The
# same reasoning explains why memory is measured in a separate pass: `tracemalloc`
# slows every allocation down, so timing under it would mostly measure the tracer.
# ### END SOLUTION
#
# **Q5 · Why the median.** Time a 64×64 matmul 200 times with one call per sample. How
# do the mean, median, minimum and maximum compare, and why is the median the
# headline?

# %%
# competency: operations/measures
small = rng.standard_normal((64, 64)).astype(np.float32)
### BEGIN SOLUTION
timing = time_call(lambda: small @ small, warmup=3, repeats=200)
spread = (timing.min, timing.median, timing.mean, timing.max)
### END SOLUTION
print(
    "min {:.1f} us, median {:.1f} us, mean {:.1f} us, max {:.1f} us".format(
        *(s * 1e6 for s in spread)
    )
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The samples are skewed: most cluster near the minimum and a few are much
# slower (the OS scheduled another process, an interrupt, a cache that had been
# evicted), so the mean sits at or above the median and the maximum well above both; on
# a busy machine the maximum can be many times the median. The median ignores those rare
# slow samples without pretending, as the minimum does, that every call is as lucky as
# the best. For very short calls a single sample is close to the timer's resolution,
# which is what `number` (averaging back-to-back calls inside one sample) is for. Module
# 19 adds how sure one can be of the median.
# ### END SOLUTION
