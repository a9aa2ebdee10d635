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
# # Module 02 · Activations — the non-linearities that let stacked layers bend
#
# Matrix products compose into one matrix product: without something non-linear in
# between, a deep stack is no more expressive than a single step. This module builds
# the standard non-linearities, and builds them so that they never overflow: the
# interesting engineering is in what happens at inputs of ±10,000.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor (element-wise math, reductions along an axis).
# - **This module**: ReLU, Sigmoid, Tanh, GELU, Softmax and LogSoftmax as functions
#   (`relu(x)`), exact and finite for any float32 input.
# - **Unlocks**: 03 Layers (hidden units between linear maps, and each function as a
#   layer: `ReLU()(x)`) and 04 Losses (softmax inside cross-entropy).

# %%
import time

import numpy as np

import tinytorch.nn.functional as F
from tinytorch.core import Tensor
from tinytorch.nn import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from tinytorch_learn.lesson import run_tests

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/nn/activations.py`**. The layer forms
# (`ReLU()`, `Softmax(dim=1)`, ...) that this lesson also uses come with Module 03's
# `tinytorch/nn/layers.py`, already wired to call your functions.
#
# - `relu`: `max(0, x)` element-wise.
# - `sigmoid`: `1 / (1 + exp(-x))` without ever calling `exp` on a large positive
#   number. Hint: with `e = exp(-|x|)`, the answer is `1 / (1 + e)` for `x >= 0` and
#   `e / (1 + e)` otherwise.
# - `tanh`: NumPy's `tanh` is already stable.
# - `gelu`: the tanh approximation,
#   `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
# - `softmax`: subtract the maximum along `dim` before `exp`, so every exponent is at
#   most 0.
# - `log_softmax`: `(x - m) - log(sum(exp(x - m)))`, the log-sum-exp trick; never take
#   the log of a softmax that may have rounded to 0.
#
# Each returns a new Tensor of the input's shape and dtype.

# %% [markdown]
# ## Use
#
# Every activation, on ordinary numbers and on extreme ones:

# %%
x = Tensor([-1e4, -3.0, -0.5, 0.0, 0.5, 3.0, 1e4])
for layer in (ReLU(), Sigmoid(), Tanh(), GELU()):
    print(f"{layer!r:>10}", np.round(layer(x).data, 4))

# %% [markdown]
# **Why the care?** The textbook formulas overflow. `exp(1000)` is beyond float32's
# largest number (about 3.4e38), so it becomes `inf`, and `inf / inf` is NaN. The
# stable versions give exact limits instead.

# %%
big = np.array([1000.0, 0.0, -1000.0], dtype=np.float32)
with np.errstate(over="ignore", invalid="ignore"):
    naive_softmax = np.exp(big) / np.exp(big).sum()
    naive_sigmoid = 1.0 / (1.0 + np.exp(-big))
print("naive softmax  :", naive_softmax)
print("stable softmax :", F.softmax(Tensor(big)).data)
print("naive sigmoid  :", naive_sigmoid, "(right by luck: 1/inf is 0)")
print("stable sigmoid :", F.sigmoid(Tensor(big)).data)

# %% [markdown]
# Softmax turns each row into a probability distribution, and ignores a constant
# shift of the row: that is exactly why subtracting the maximum is allowed.

# %%
logits = Tensor([[2.0, 1.0, 0.1], [1002.0, 1001.0, 1000.1]])
probs = Softmax(dim=1)(logits)
print(np.round(probs.data, 4))
print("rows sum to", probs.data.sum(axis=1))
print("log-softmax:", np.round(LogSoftmax(dim=1)(logits).data, 4))

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("02")

# %% [markdown]
# ## Reflect
#
# **Q1 · Overflow.** For which float32 inputs does the textbook sigmoid
# `1 / (1 + exp(-x))` misbehave, and why does the stable form never do so?
#
# ### BEGIN SOLUTION
# **Answer.** `exp(-x)` overflows to `inf` once `-x` exceeds about 88.7 (the log of
# float32's largest number), i.e. for `x < -88.7`. The result `1 / inf = 0` happens to
# be the right limit, but NumPy warns, and the same `exp` in softmax gives `inf / inf =
# NaN`. The stable form only ever evaluates `exp(-|x|)`, which lies in (0, 1], so no
# intermediate can overflow; for very negative `x` it underflows gracefully to 0.
# ### END SOLUTION
#
# **Q2 · Memory traffic.** An activation reads its input and writes its output once.
# How many bytes move for a (64, 128) float32 input, and for a (256, 4096) one? Measure
# how long ReLU takes on the larger one, and work out the bandwidth it reached.

# %%
# competency: operations/measures
### BEGIN SOLUTION
small_bytes = 2 * 64 * 128 * 4
large = Tensor(np.random.default_rng(0).standard_normal((256, 4096)))
large_bytes = 2 * large.memory_footprint()
start = time.perf_counter()
for _ in range(20):
    F.relu(large)
seconds = (time.perf_counter() - start) / 20
bandwidth = large_bytes / seconds
### END SOLUTION
print(f"(64, 128): {small_bytes / 1024:.0f} KiB moved; (256, 4096): {large_bytes / 1e6:.1f} MB")
print(f"ReLU took {seconds * 1e3:.2f} ms: {bandwidth / 1e9:.1f} GB/s")

# %% [markdown]
# **Q3 · Vectorization.** Apply ReLU to 100,000 numbers with a Python loop and with
# `F.relu`. How large is the ratio, and where does the time of the loop go?

# %%
# competency: operations/optimizes
### BEGIN SOLUTION
values = np.random.default_rng(1).standard_normal(100_000).astype(np.float32)
start = time.perf_counter()
looped = [v if v > 0 else 0.0 for v in values]
loop_seconds = time.perf_counter() - start
start = time.perf_counter()
vectorized = F.relu(Tensor(values))
vector_seconds = time.perf_counter() - start
ratio = loop_seconds / vector_seconds
### END SOLUTION
print(f"loop {loop_seconds * 1e3:.1f} ms, vectorized {vector_seconds * 1e3:.2f} ms: {ratio:.0f}x")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The ratio is tens to hundreds. The arithmetic is the same one
# comparison per element; the loop pays the interpreter for every element (fetch a
# NumPy scalar, box it as a Python object, compare, append to a list), while the
# vectorized call runs one compiled loop over contiguous memory, limited only by how
# fast bytes move.
# ### END SOLUTION
#
# **Q4 · Stability of log-softmax.** For the row `[0, -200]` in float32, what do
# `log(softmax(x))` and `log_softmax(x)` return for the second entry, and why?
#
# ### BEGIN SOLUTION
# **Answer.** `softmax` gives `exp(-200) / (1 + exp(-200))`, and `exp(-200)` (about
# 1e-87) is below float32's smallest positive number, so the probability rounds to
# exactly 0 and its log is `-inf`. `log_softmax` never forms that probability: it
# computes `(x - m) - log(sum(exp(x - m))) = -200 - log(1 + tiny) = -200`, which is
# finite and exact. Anything that takes logs of probabilities should start from
# log-softmax.
# ### END SOLUTION

# %%
# competency: operations/debugs
row = Tensor([[0.0, -200.0]])
with np.errstate(divide="ignore"):
    print("log(softmax):", np.log(F.softmax(row).data)[0])
print("log_softmax :", F.log_softmax(row).data[0])
