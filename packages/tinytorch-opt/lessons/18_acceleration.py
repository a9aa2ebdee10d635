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
# # Module 18 · Acceleration — the same math, faster, with proof that nothing else changed
#
# Profiling said where the time goes; this module makes it go faster without changing
# what is computed. Five measured lessons, each the same result computed two ways:
# Python loops against vectorized NumPy, contiguous against strided memory access,
# element-wise kernels fused into one buffer against one temporary array per
# operation, float32 against float64, and one BLAS thread against several. What they
# share is that the arithmetic is rarely the cost: interpreting Python, and moving
# bytes between memory and the CPU, usually are. `accelerate(model)` then offers the
# faster layers as an opt-in swap that is verified on a sample, outputs and gradients,
# and refused when results change beyond float rounding.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor (dtype, bytes), 02 Activations (GELU), 05 Autograd
#   (`Function`), 09 Spatial (the seven-loop convolution), 13 Transformers
#   (`LayerNorm`) and 14 Profiling (`time_call`, and which layer is worth speeding up).
# - **This module**: vectorization, memory access (contiguous vs strided), fused GELU and
#   LayerNorm kernels with `out=` buffers, float32 vs float64, BLAS threads (each
#   measured as a `Speedup`), and `accelerate(model)`, an opt-in verified swap.
# - **Unlocks**: 19 Benchmarking (is a measured speed-up real or noise?) and 20 Capstone.

# %%
import copy
import warnings

import numpy as np

from tinytorch.core import Tensor, manual_seed
from tinytorch.nn import GELU, Linear, Sequential
from tinytorch.nn.activations import gelu, sigmoid
from tinytorch.perf import acceleration
from tinytorch.perf.acceleration import (
    AccelerationWarning,
    accelerate,
    conv2d_windows,
    gelu_fused,
    speedup_table,
)
from tinytorch.perf.measure import peak_memory, time_call
from tinytorch.perf.profiling import Profiler, amdahl_speedup
from tinytorch.text import GPT
from tinytorch.vision import conv2d_loops
from tinytorch_learn.lesson import run_tests

rng = np.random.default_rng(0)

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/perf/acceleration.py`**:
#
# - `measure_speedup`: run both callables once (the warm-up, and the outputs to
#   compare: same shape required), then time each and return the ratio of the medians
#   with the largest difference between the results.
# - `conv2d_windows`: the seven-loop convolution as a zero-copy window view
#   (`sliding_window_view`) contracted with the weights by one `tensordot`.
# - `gelu_fused`: the tanh-form GELU computed step by step in one `out` buffer, x³ as
#   x·x·x.
# - `layer_norm_fused`: LayerNorm with one full-size buffer: centre into `out`, the
#   variance as one dot product per row (`einsum`), then scale, gamma and beta in place;
#   return the per-row mean and 1/σ as well.
# - `accelerate`: for each candidate class, put a faster layer carrying the same
#   parameters in the place of every layer of exactly that class (a module swap, in the
#   parent, as `torch.ao` does it), compare outputs (and gradients) with the original's
#   within float tolerance, and swap back with a warning whatever raises or differs.
#
# The fused layers reuse what the tiers below already have: `FusedGELU` records Module
# 05's `GELUBackward`, and the fused LayerNorm is Module 13's `LayerNormFunction` with
# only its forward replaced by `layer_norm_fused` (its backward recomputes x̂ from the
# mean and 1/σ, which the fused kernel returns).
#
# The five measured lessons (`loops_vs_vectorized`, `contiguous_vs_strided`,
# `fused_gelu`, `fused_layer_norm`, `float32_vs_float64`, `blas_threads`), the fused layer
# classes and the report are given.

# %% [markdown]
# ## Use
#
# The measured lessons, each the same result two ways (small sizes, so they run in a
# second):

# %%
results = [
    acceleration.loops_vs_vectorized(),
    acceleration.contiguous_vs_strided(n=2**18),
    acceleration.fused_gelu(),
    acceleration.fused_layer_norm(),
    acceleration.float32_vs_float64(),
]
try:
    results.append(acceleration.blas_threads(n=256, repeats=3))
except ModuleNotFoundError as missing:
    print("skipping the BLAS-threads lesson:", missing)
print(speedup_table(results))

# %% [markdown]
# **The vectorized convolution** agrees with the seven loops:

# %%
x = rng.standard_normal((2, 3, 12, 12))
w = rng.standard_normal((4, 3, 3, 3))
print(
    "max difference:",
    np.abs(conv2d_windows(x, w, padding=1) - conv2d_loops(x, w, padding=1).data).max(),
)

# %% [markdown]
# **`accelerate` on a small GPT**: swaps the architecture tier's LayerNorm and the GELU
# inside every MLP for fused versions, verifies outputs and gradients on a sample
# batch, and times the forward pass before and after (one quick comparison, easily
# disturbed by anything else the machine is doing; Q5 looks closer). A copy keeps the
# original layers.

# %%
manual_seed(0)
model = GPT(vocab_size=50, d_model=64, n_heads=4, n_layers=2, max_len=32)
ids = rng.integers(0, 50, size=(8, 32))
original = copy.deepcopy(model)
report = accelerate(model, ids)
print(report)

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("18")

# %% [markdown]
# ## Reflect
#
# **Q1 · Where fusing wins.** Measure the peak memory that one GELU over a (256, 1024)
# float32 activation allocates, written as one expression and fused into one buffer.
# Why is the fused version faster when both do the same FLOPs?

# %%
# competency: tensors/optimizes, operations/optimizes
activation = rng.standard_normal((256, 1024)).astype(np.float32)
buffer = np.empty_like(activation)
### BEGIN SOLUTION
one_expression = peak_memory(lambda: gelu(Tensor(activation)))
fused = peak_memory(lambda: gelu_fused(activation, buffer))
### END SOLUTION
print(
    f"input {activation.nbytes / 2**20:.0f} MiB: one expression allocates "
    f"{one_expression / 2**20:.1f} MiB at peak, fused {fused / 2**20:.3f} MiB"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Written as one expression, every operation (x³, the scaled sum, tanh,
# 1 + tanh, the products) allocates a new 1 MiB array, writes it and has it read back by
# the next operation: a few MiB live at the peak and some 16 MiB of memory traffic for
# 1 MiB of input. The fused version writes every step into one buffer that was
# allocated beforehand, so it allocates nothing, and the 1 MiB it touches stays in the
# CPU's caches between steps. Element-wise work does about one FLOP per byte moved, far
# left of the roofline's ridge (Module 14): it is memory-bound, so cutting traffic is
# the only way to speed it up. Real frameworks go further with kernel fusion, one
# compiled loop doing every step per element in registers.
# ### END SOLUTION
#
# **Q2 · Strides and cache lines.** Multiply 2¹⁸ float32 values by 2 when they lie
# contiguously, and when they are every 2nd, 4th, ... 32nd element of a larger array.
# Explain the curve.

# %%
# competency: tensors/knows, tensors/measures
### BEGIN SOLUTION
stride_ratios = {
    stride: acceleration.contiguous_vs_strided(n=2**18, stride=stride, repeats=5).ratio
    for stride in (2, 4, 8, 16, 32)
}
### END SOLUTION
print(", ".join(f"stride {s}: {r:.1f}x slower" for s, r in stride_ratios.items()))

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Two effects stack. Already at stride 2 the loop is several times slower:
# contiguous data lets NumPy use SIMD instructions that load and multiply several
# neighbours at once, strided data is processed one value at a time. Then memory moves
# in 64-byte cache lines, 16 float32 values each: with stride s only one value per s is
# used from each line, so the bytes fetched grow with s until stride 16, where every
# value needs a line of its own, and the array spread over 16 MiB no longer fits the
# caches. Beyond that the cost per value stays about the same (a line each), which is
# why the curve jumps near 16 and then flattens; timings are noisy, but the jump is not.
# The same memory access pattern is why a transposed view can be slow to reduce over,
# and why `ascontiguousarray` before a hot loop often pays for its copy.
# ### END SOLUTION
#
# **Q3 · A faster layer that is wrong.** Someone proposes GELU ≈ x · sigmoid(1.702 x) as a
# faster replacement. Offer it to `accelerate` as a candidate. What happens, and why
# is that the right behaviour?


# %%
# competency: operations/debugs
class ApproximateGELU(GELU):
    """GELU ≈ x · sigmoid(1.702 x): cheaper, but not the same function."""

    def forward(self, x: Tensor) -> Tensor:
        return x * sigmoid(x * 1.702)


small = Sequential(Linear(16, 32), GELU(), Linear(32, 4))
sample = rng.standard_normal((8, 16)).astype(np.float32)
### BEGIN SOLUTION
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    verdict = accelerate(small, sample, candidates={GELU: ApproximateGELU}, repeats=0)
refused = [str(w.message) for w in caught if issubclass(w.category, AccelerationWarning)]
### END SOLUTION
print(verdict)
print("warning:", refused[0][:120] if refused else None)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The swap is refused and reverted, with an `AccelerationWarning` naming the
# layer and how far the outputs moved: the approximation differs from the tanh form
# by about 0.01 here, orders of magnitude beyond float32 rounding (about 1e-6 relative).
# An approximation may be a fine choice for a model trained with it, but it is a
# different model: accuracy can shift, and a checkpoint trained with the exact GELU
# no longer means what it meant. An optimization that silently changes results is a
# bug that surfaces much later, far from its cause; verifying on a sample, outputs and
# gradients, turns it into an immediate, explained refusal.
# ### END SOLUTION
#
# **Q4 · float32 or float64.** How much faster is a 256 × 256 matmul in float32, and how
# large is the error it introduces? Where in this curriculum is float64 still needed?

# %%
# competency: operations/knows
### BEGIN SOLUTION
precision = acceleration.float32_vs_float64(256, repeats=5)
relative_error = precision.max_abs_error / np.sqrt(256)
### END SOLUTION
print(precision)
print(f"relative to an entry's typical size (√256 = 16): {relative_error:.1e}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** float32 halves the bytes per number, so twice as many fit in every cache
# line and SIMD register, and the product runs about twice as fast. Its 24-bit
# significand gives about 7 decimal digits: entries of size ~16 come out with errors
# of a few 1e-5, a relative error around 1e-6, harmless for training and inference.
# float64 stays where tiny differences are the point: the gradient checks of Module 05
# compare finite differences with a step of 1e-6, which float32 would drown in
# rounding, so every gradcheck in the tiers runs in float64.
# ### END SOLUTION
#
# **Q5 · Kernel speed-ups against model speed-ups.** The fused LayerNorm is about 1.4×
# faster than the obvious one, yet `accelerate` changed the whole GPT's time by only a
# few percent. Profile the model, take the LayerNorms' share of the forward pass, and
# explain with Amdahl's law.

# %%
# competency: operations/measures
### BEGIN SOLUTION
profile = Profiler(warmup=2, repeats=7, memory=False).profile(original, ids)
share = sum(profile.fraction(layer.name) for layer in profile.layers if "LayerNorm" in layer.kind)
expected = amdahl_speedup(share, 1.4)
before = time_call(lambda: original(ids), warmup=2, repeats=15).min
after = time_call(lambda: model(ids), warmup=2, repeats=15).min
### END SOLUTION
print(
    f"LayerNorms take {share:.1%} of the forward pass: a 1.4x faster kernel gives "
    f"{expected:.3f}x overall; fastest passes {before * 1e3:.2f} ms -> {after * 1e3:.2f} ms "
    f"({before / after:.2f}x)"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Amdahl's law (Module 14): the LayerNorms (and the GELUs inside the MLPs)
# are a small share of the forward pass, which is dominated by the matrix products of
# the attention and MLP layers, already running in BLAS. With a share f of a few
# percent up to about 15%, a 1.4× faster kernel gives 1 / ((1 − f) + f / 1.4), between
# 1.01× and 1.04× overall, and the measured change is of that size, within the timing
# noise of a single comparison (Module 19 shows how to tell). Kernel-level wins
# only matter for the model in proportion to the time they cover; profile first, then
# decide whether the rest of the model is worth the same treatment.
# ### END SOLUTION
