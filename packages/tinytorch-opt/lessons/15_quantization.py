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
# # Module 15 · Quantization — store weights in 8 bits and compute with integers
#
# A trained network's weights are float32 numbers, four bytes each, most of them small
# and close together. Quantization stores each as one byte instead: an integer from
# −128 to 127 plus, per tensor or per channel, a scale (the step between neighbouring
# values) and a zero-point (the integer that stands for 0.0). The model shrinks four
# times, int8 arithmetic is what phones and accelerators do fastest, and the accuracy
# usually drops by well under a point, provided each layer's range was chosen well.
# Choosing it is calibration: run sample data through the model and watch what each
# layer receives.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor (dtypes, bytes per element), 03 Layers (`Linear`),
#   07 Training (a trained model and its accuracy), 09 Spatial (`Conv2d`, im2col) and
#   14 Profiling (counting FLOPs).
# - **This module**: INT8 affine quantization (scale and zero-point) per tensor and per
#   channel, calibration observers (min-max, percentile), `QuantizedLinear` and
#   `QuantizedConv2d` with int32 accumulation, `quantize_model`, and size reports.
# - **Unlocks**: 16 Compression (pruning and int8 stack), 19 Benchmarking (float vs
#   int8 latency), 20 Capstone and Milestone 6 (the size column).

# %%
import numpy as np

from tinytorch.core import Tensor
from tinytorch.perf.quantization import (
    Calibrator,
    QuantizedLinear,
    compute_qparams,
    dequantize,
    int_matmul,
    quantize,
    quantize_model,
    quantize_tensor,
    size_report,
)
from tinytorch_learn.lesson import run_tests, trained_tinydigits_mlp

rng = np.random.default_rng(0)

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/perf/quantization.py`**:
#
# - `compute_qparams`: widen the range to include 0; affine: s = (max − min) / 255 and
#   z = round(−128 − min / s); symmetric: z = 0 and s = max(|min|, |max|) / 127; never a
#   scale below `MIN_SCALE`.
# - `quantize`: clamp(round(x / s) + z, −128, 127) as int8 (saturating, never wrapping).
# - `dequantize`: s · (q − z), the subtraction done in int32.
# - `channel_range`: the minimum and maximum, overall or per index of one axis.
# - `quantize_tensor`: parameters fitted to the tensor's own range, then `quantize`.
# - `int_matmul`: the exact integer product through a float BLAS call (every partial sum
#   below 2^24 is exact in float32).
# - `MinMaxObserver.observe`: fold one batch into the running minimum and maximum.
# - `PercentileObserver.range`: the (100 − p)-th and p-th percentiles of every value seen.
# - `Calibrator.collect`: run every batch through the model while each layer's observer
#   watches its input.
# - `QuantizedLinear.from_float` and `QuantizedConv2d.from_float`: symmetric int8 weights,
#   one scale per output neuron or filter.
# - `QuantizedLinear._integer_matmul` and `QuantizedConv2d._integer_conv`: quantize the
#   input, subtract its zero-point, one integer GEMM (after im2col for the convolution),
#   rescale by s_x · s_w.
# - `QuantizedLinear._dequantized_matmul` and `QuantizedConv2d._dequantized_conv`: expand
#   the weights to float32 and run the float product.
# - `quantize_model`: calibrate a copy of the model, then swap each Linear and Conv2d for
#   its quantized counterpart.
# - `model_size_bytes`: every stored array once, or only the weight values.
#
# `QuantizedTensor`, the layers' constructors and `forward`, `size_report` and the
# observers' bookkeeping are given.

# %% [markdown]
# ## Use
#
# **One number line.** Quantize values in [−1, 3] affinely: 256 levels, a step of
# 4/255, zero exact, values beyond the range saturate.

# %%
scale, zero_point = compute_qparams(-1.0, 3.0)
values = np.array([-1.0, 0.0, 0.01, 1.234, 3.0, 7.5], dtype=np.float32)
q = quantize(values, scale, zero_point)
print(f"scale {float(scale):.5f}, zero-point {int(zero_point)}")
print("values   ", values)
print("int8     ", q)
print("read back", dequantize(q, scale, zero_point))

# %% [markdown]
# **Per tensor or per channel.** A weight matrix whose output neurons have very
# different ranges: one shared step is coarse for the small ones.

# %%
weights = rng.standard_normal((64, 8)).astype(np.float32) * np.array(
    [0.01, 0.05, 0.1, 0.5, 1, 2, 4, 8], dtype=np.float32
)
for axis in (None, 1):
    qt = quantize_tensor(weights, axis=axis, symmetric=True)
    error = np.abs(qt.dequantize() - weights)
    relative = error.max(axis=0) / np.abs(weights).max(axis=0)
    label = "per tensor " if axis is None else "per channel"
    print(f"{label}: {qt.nbytes:>4} B, worst relative error per neuron {np.round(relative, 3)}")

# %% [markdown]
# **A whole model.** Train the Milestone 3 MLP (64 → 256 → 10) on TinyDigits for a few
# seconds, then quantize it with 256 training images as calibration data.

# %%
# Trained by tinytorch_learn.lesson (seeded, 10 epochs of Adam); lessons 15, 16, 20 share it.
model, (x_train, y_train, x_test, y_test) = trained_tinydigits_mlp()


def accuracy(net) -> float:
    return float((net(Tensor(x_test)).data.argmax(axis=1) == y_test).mean())


int8_model = quantize_model(model, x_train[:256])
print(int8_model)
print(f"accuracy: float32 {accuracy(model):.3f}, int8 {accuracy(int8_model):.3f}")
print(size_report(model, int8_model))

# %% [markdown]
# **Two ways to compute.** `compute="int8"` multiplies integers and sums them in int32;
# `compute="dequantize"` expands the weights back to float32 first. Both stay close to
# the float layer:

# %%
layer = model.stages[0]
batch = Tensor(x_test[:32])
reference = layer(batch).data
for compute in ("int8", "dequantize"):
    quantized = QuantizedLinear.from_float(layer, compute=compute)
    gap = np.abs(quantized(batch).data - reference).max()
    print(f"{compute:>10}: max difference {gap:.4f} (outputs up to {np.abs(reference).max():.1f})")

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("15")

# %% [markdown]
# ## Reflect
#
# **Q1 · Why not exactly 4×.** The weights shrank 4.00×, the whole model less. Account
# for every byte of the int8 model.

# %%
# competency: efficiency/measures
### BEGIN SOLUTION
int8_weights = 64 * 256 + 256 * 10
weight_scales = (256 + 10) * 4
float_biases = (256 + 10) * 4
input_qparams = 2 * (4 + 4)
accounted = int8_weights + weight_scales + float_biases + input_qparams
### END SOLUTION
print(
    f"accounted {accounted:,} B; report says {size_report(model, int8_model).total_bytes_after:,} B"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** 18,944 int8 weights (1 byte each, 4× less than float32), plus one float32
# scale per output neuron (266 × 4 = 1,064 B; symmetric weights store no zero-points),
# plus the biases, which stay float32 (1,064 B), plus one calibrated input scale and
# zero-point per layer (16 B): 21,088 B against 76,840 B, 3.64×. Biases stay in float
# because they are few, and because they are added to the int32 sums at the input's
# scale times the weight's, where 8 bits would be too coarse. For large layers the
# per-channel overhead vanishes and the ratio approaches 4×.
# ### END SOLUTION
#
# **Q2 · How much error, and where.** The rounding error of one value is at most half a
# step. Measure the worst error of the first layer's weights per tensor and per
# channel, against half a step, and say which of the two errors the model's accuracy
# is more sensitive to.

# %%
# competency: efficiency/knows
first = model.stages[0].weight.data
### BEGIN SOLUTION
errors = {}
for axis in (None, 1):
    qt = quantize_tensor(first, axis=axis, symmetric=True)
    errors[axis] = (float(np.abs(qt.dequantize() - first).max()), float(qt.scale.max()) / 2)
### END SOLUTION
for axis, (worst, half_step) in errors.items():
    label = "per tensor " if axis is None else "per channel"
    print(f"{label}: worst error {worst:.5f}, half the largest step {half_step:.5f}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Within the range, rounding moves each weight by at most s/2, and both
# worst errors sit right at that bound. They are nearly equal because the worst case
# lives in the neuron with the largest weights, whose step is the same either way. The
# difference is in the other neurons: per tensor every neuron shares the step of the
# largest weight anywhere in the matrix, per channel each neuron's step follows its own
# largest weight, so small neurons are represented much more finely (the relative
# errors above) for 4 extra bytes each. The errors then propagate:
# each output sums `in_features` weight errors (partly cancelling, roughly √k times
# one error), then the activation's own rounding is added, layer after layer. The
# weight errors here are tiny against the weights; what usually costs accuracy is an
# activation range chosen badly, which the next question shows.
# ### END SOLUTION
#
# **Q3 · A calibration gone wrong.** One corrupted calibration image has a single pixel
# of 1000 (the others are in [0, 1]). Quantize with min-max and with the percentile
# observer, compare accuracies, and explain with the observed ranges.

# %%
# competency: efficiency/debugs, efficiency/optimizes
corrupted = x_train[:256].copy()
corrupted[0, 10] = 1000.0
### BEGIN SOLUTION
minmax_model = quantize_model(model, corrupted)
percentile_model = quantize_model(model, corrupted, method="percentile")
ranges = {
    method: Calibrator(model, method=method).collect(corrupted).observers["0"].range()
    for method in ("minmax", "percentile")
}
### END SOLUTION
print(f"min-max {accuracy(minmax_model):.3f}, percentile {accuracy(percentile_model):.3f}")
print("first layer's input range:", {m: tuple(round(v, 3) for v in r) for m, r in ranges.items()})

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Min-max stretches the first layer's input range to [0, 1000], so the step
# becomes 1000/255 ≈ 3.9: every real pixel (0 to 1) rounds to 0 and the model sees
# blank images, about chance accuracy. The percentile observer ignores the rarest
# 0.01% of values, keeps [0, 1], and the accuracy is back within a fraction of a
# point. The symptom to recognise: accuracy collapses after quantization while the
# float model is fine. The diagnosis is to print each layer's calibrated range (or
# compare each layer's output with the float model's, layer by layer) and look for a
# range far wider than the data's bulk. The price of percentiles is memory: that
# observer keeps every value it has seen.
# ### END SOLUTION
#
# **Q4 · Symmetric or affine.** ReLU outputs are never negative. Quantize a ReLU
# activation both ways and compare the step size and error. Why do weights use
# symmetric anyway?

# %%
# competency: efficiency/knows
hidden = np.maximum(model.stages[0](Tensor(x_test[:64])).data, 0)
### BEGIN SOLUTION
steps = {}
for symmetric in (False, True):
    qt = quantize_tensor(hidden, symmetric=symmetric)
    steps[symmetric] = (float(qt.scale), float(np.abs(qt.dequantize() - hidden).mean()))
### END SOLUTION
for symmetric, (step, mean_error) in steps.items():
    print(
        f"{'symmetric' if symmetric else 'affine   '}: step {step:.4f}, mean error {mean_error:.5f}"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Symmetric quantization spends half of its 256 levels on negative values
# that never occur, so its step is twice the affine one and the error about twice as
# large. Weights are roughly centred on zero, so for them symmetric loses little, and
# a zero-point of 0 removes correction terms from the integer product: with z_w = 0,
# Σ (x_q − z_x) · w_q needs no extra sums over the weights, which is why int8 hardware
# and libraries expect symmetric weights and affine activations.
# ### END SOLUTION
#
# **Q5 · Exact integers from a float BLAS.** `int_matmul` computes an int8 × int8 product
# with float32 arithmetic. Why is the result exact, and up to which inner dimension k
# is that guaranteed for operands shifted by a zero-point (|a| ≤ 255, |b| ≤ 127)?

# %%
# competency: operations/knows
a = rng.integers(-255, 256, size=(16, 500))
b = rng.integers(-127, 128, size=(500, 8))
### BEGIN SOLUTION
exact = np.array_equal(int_matmul(a, b), a.astype(np.int64) @ b.astype(np.int64))
largest_k = (2**24 - 1) // (255 * 127)
### END SOLUTION
print(f"exact at k=500: {exact}; float32 is exact up to k = {largest_k}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** float32 has a 24-bit significand, so it represents every integer up to
# 2^24 = 16,777,216 exactly, and a sum of integers that never leaves that range is
# never rounded. Each product is at most 255 × 127 = 32,385, so k products stay below
# 2^24 for k ≤ 518. Beyond that `int_matmul` switches to float64 (exact to 2^53), and
# beyond 2^31 it refuses, since a real int32 accumulator would overflow. NumPy has no
# integer BLAS, so this trick is what makes the int8 path fast enough to test here;
# real int8 hardware accumulates in int32 directly.
# ### END SOLUTION
