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
# # Module 09 · Spatial — convolution and pooling, the layers that see images
#
# A `Linear` layer on a flattened image connects every pixel to every output and has
# to learn the same edge detector separately at every position. A convolution slides
# one small filter over the whole image instead: the same few weights are reused at
# every position. This module writes convolution twice. First as the seven nested
# loops that spell out every multiply-add (the reference, slow on purpose, so the cost
# is countable), then vectorized: im2col copies every window of the input into a
# column of one matrix, and a single matrix product computes every output at once.
# Pooling layers and `Flatten` complete a CNN.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor, 03 Layers (`Module`, `Parameter`), 05 Autograd
#   (`Function`, `gradcheck`), 06 Optimizers, 07 Training and 08 DataLoader (image
#   batches).
# - **This module**: `conv2d_loops` (the seven-loop reference), `im2col` and `col2im`,
#   `Conv2d` as im2col plus one GEMM with its gradient, `MaxPool2d`, `AvgPool2d`,
#   `Flatten`, He initialisation, and the parameter count that shows what weight
#   sharing saves.
# - **Unlocks**: Milestone 4 (1998 CNN), CNN image classifiers, and 14–19 (profiling,
#   quantizing, pruning and accelerating these layers).

# %%
import time

import numpy as np

import tinytorch.nn.functional as F
from tinytorch.core import Tensor, manual_seed
from tinytorch.data import DataLoader, TinyDigitsDataset
from tinytorch.nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.vision import (
    conv2d_loops,
    conv_output_size,
    im2col,
    max_pool2d,
    parameter_comparison,
)
from tinytorch_learn.lesson import run_tests

rng = np.random.default_rng(0)

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/vision/spatial.py`**:
#
# - `conv_output_size`: the output length along one axis,
#   (size + 2·padding − kernel) // stride + 1.
# - `conv2d_loops`: the reference, seven nested loops over batch, output channel,
#   output row, output column, input channel, kernel row and kernel column, one
#   multiply-add per innermost step, then the bias.
# - `im2col`: pad, take every K×K window as a strided *view* (no copy yet), and copy
#   the windows once into a (C·K·K, B·H_out·W_out) matrix, one column per output pixel;
#   with `per_image=True`, the same columns grouped by image, (B, C·K·K, H_out·W_out);
#   with `out=`, copied into a buffer you pass instead of a new array.
# - `col2im`: the adjoint, adding every column back onto the pixels it came from (a
#   pixel in several windows receives the sum), one strided addition per kernel offset;
#   it reads either layout.
# - `Conv2dFunction.forward` and `Conv2dFunction.backward`: for each block of images
#   (cut so that its columns stay in cache), the forward pass is one matrix product,
#   `W.reshape(C_out, -1) @ cols` on the block's per-image columns, whose
#   (n, C_out, H_out·W_out) result already is that slice of the output; backward gives
#   dW = Σ_b G_b cols_bᵀ (with the columns kept from forward, or, for large ones, the
#   block unfolded again), db = G summed per channel, and dx = col2im(Wᵀ G), skipped
#   when the input needs no gradient.
# - `MaxPool2dFunction.forward` and `MaxPool2dFunction.backward`: the largest value of
#   each window (the max is separable: over its rows, then its columns); its gradient
#   goes only to the winner (the first one on ties).
# - `AvgPool2dFunction.forward` and `AvgPool2dFunction.backward`: the mean of each
#   window; every input gets an equal share of the gradient.
# - `kaiming_uniform`: He initialisation, U(−a, a) with a = √(6 / fan_in).
# - `Conv2d.forward`: check the input (4-D, the right channel count, with an error that
#   names the layer and both shapes), then call `conv2d`.
# - `Conv2d.macs`: multiply-adds of one forward pass, B·C_out·H_out·W_out·C_in·K_h·K_w.
# - `parameter_comparison`: the parameters of a convolution and of a dense layer over
#   the same image.
#
# The functional `conv2d`, `max_pool2d` and `avg_pool2d`, the layer constructors, the
# pooling modules around the Functions and `Flatten` (Module 01's `Tensor.flatten` as a
# layer) are given.

# %% [markdown]
# ## Use
#
# **Output sizes.** A 32-pixel side with a 5×5 kernel: no padding, "same" padding,
# stride 2.

# %%
for padding, stride in ((0, 1), (2, 1), (2, 2)):
    size = conv_output_size(32, 5, stride, padding)
    print(f"kernel 5, padding {padding}, stride {stride}: 32 -> {size}")

# %% [markdown]
# **Loops against im2col.** Both compute exactly the same numbers; one takes a Python
# step per multiply-add, the other one matrix product.

# %%
manual_seed(0)
conv = Conv2d(3, 4, kernel_size=3, padding=1)
x = Tensor(rng.standard_normal((2, 3, 10, 10)).astype(np.float32))
start = time.perf_counter()
reference = conv2d_loops(x, conv.weight, conv.bias, padding=1)
t_loops = time.perf_counter() - start
start = time.perf_counter()
fast = conv(x)
t_fast = time.perf_counter() - start
print("output", fast.shape, "| max difference", float(np.abs(fast.data - reference.data).max()))
print(
    f"{conv.macs(x.shape):,} multiply-adds: loops {t_loops * 1e3:.1f} ms, "
    f"im2col {t_fast * 1e3:.2f} ms ({t_loops / t_fast:,.0f}x)"
)

# %% [markdown]
# **What im2col costs in memory.** Every output pixel gets its own copy of the window
# it sees, so overlapping windows duplicate the input.

# %%
cols = im2col(x.data, 3, padding=1)
print(
    "input",
    x.shape,
    f"{x.data.nbytes:,} B -> cols",
    cols.shape,
    f"{cols.nbytes:,} B",
    f"({cols.nbytes / x.data.nbytes:.1f}x)",
)

# %% [markdown]
# **Pooling** keeps the largest value of each window and has no parameters:

# %%
grid = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
print(grid.data[0, 0])
print("max_pool2d(2):\n", max_pool2d(grid, 2).data[0, 0])

# %% [markdown]
# **Weight sharing**, the paper's comparison: a 3×3 convolution from 3 to 32 channels
# against a dense layer from the same 32×32×3 image to 32 outputs.

# %%
print(parameter_comparison())

# %% [markdown]
# **A small CNN on TinyDigits.** Images come from Module 08's loader as (B, 1, 8, 8).

# %%
manual_seed(0)
cnn = Sequential(
    Conv2d(1, 8, kernel_size=3, padding=1),
    ReLU(),
    MaxPool2d(2),
    Flatten(),
    Linear(8 * 4 * 4, 10),
)
optimizer = Adam(cnn.parameters(), lr=1e-2)
train_loader = DataLoader(TinyDigitsDataset("train"), batch_size=64, shuffle=True, seed=0)
test_x, test_y = TinyDigitsDataset("test").arrays
for epoch in range(2):
    for images, labels in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(cnn(images), labels)
        loss.backward()
        optimizer.step()
    accuracy = (cnn(Tensor(test_x)).data.argmax(axis=1) == test_y).mean()
    print(f"epoch {epoch + 1}: test accuracy {accuracy:.3f}")
print(cnn.num_parameters(), "parameters")

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("09")

# %% [markdown]
# ## Reflect
#
# **Q1 · The seven loops at scale.** A CIFAR-10 batch (128, 3, 32, 32) through
# `Conv2d(3, 32, 5)`: how many multiply-adds? Time the loops per multiply-add on a
# small input and extrapolate; then time the vectorized layer on a quarter of the
# batch.

# %%
# competency: operations/measures
### BEGIN SOLUTION
big = Conv2d(3, 32, kernel_size=5)
macs = big.macs((128, 3, 32, 32))
small = Tensor(rng.standard_normal((1, 3, 9, 9)).astype(np.float32))
start = time.perf_counter()
conv2d_loops(small, big.weight, big.bias)
per_mac = (time.perf_counter() - start) / big.macs(small.shape)
quarter = Tensor(rng.standard_normal((32, 3, 32, 32)).astype(np.float32))
start = time.perf_counter()
big(quarter)
vectorized = 4 * (time.perf_counter() - start)
### END SOLUTION
print(
    f"{macs:,} multiply-adds: loops ≈ {macs * per_mac / 60:.0f} min, "
    f"vectorized ≈ {vectorized:.2f} s ({macs * per_mac / vectorized:,.0f}x)"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** 128 × 32 × 28 × 28 × 3 × 5 × 5 = 240,844,800 multiply-adds (482 MFLOPs).
# One Python step costs on the order of a microsecond, so the loops need minutes for a
# single batch, while im2col plus one GEMM takes a fraction of a second: a ratio in
# the thousands. The arithmetic is identical; what changes is that the GEMM runs it in
# compiled, vectorized code over contiguous memory instead of one interpreted step at
# a time.
# ### END SOLUTION
#
# **Q2 · The price of im2col.** How many bytes does the im2col matrix of that CIFAR-10
# batch take, against the input's bytes? Where does the factor come from?

# %%
# competency: tensors/measures
### BEGIN SOLUTION
h_out = conv_output_size(32, 5)
cols_bytes = (3 * 5 * 5) * (128 * h_out * h_out) * 4
input_bytes = 128 * 3 * 32 * 32 * 4
### END SOLUTION
print(
    f"cols {cols_bytes / 2**20:.1f} MiB vs input {input_bytes / 2**20:.2f} MiB "
    f"({cols_bytes / input_bytes:.1f}x)"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The matrix is (75, 100,352) float32, about 28.7 MiB (30.1 MB) against the
# 1.5 MiB input: 19.1×. Each of the 28 × 28 output positions copies its own 5 × 5
# window, so every interior pixel is copied up to 25 times; the factor is
# K²·H_out·W_out / (H·W) = 25 × 784 / 1024. im2col trades memory for speed. A
# training step needs the columns again for the weight gradient: `Conv2d` keeps small
# matrices, but one this large it unfolds a few images at a time into one ~2 MB buffer
# and unfolds them again in backward, so the graph holds only the input; a second pass
# of copying costs less than writing 30 MB to memory and reading it back.
# ### END SOLUTION
#
# **Q3 · Receptive field and parameters.** Two stacked 3×3 convolutions see a 5×5
# region of the input, like one 5×5 convolution. With 64 channels in and out, which
# holds fewer parameters, and what else does the stack give you?

# %%
# competency: models/measures, models/knows
### BEGIN SOLUTION
two_small = Sequential(Conv2d(64, 64, 3), ReLU(), Conv2d(64, 64, 3)).num_parameters()
one_large = Conv2d(64, 64, 5).num_parameters()
probe = Tensor(np.zeros((1, 64, 9, 9), dtype=np.float32))
same_size = (
    Conv2d(64, 64, 5)(probe).shape == Sequential(Conv2d(64, 64, 3), Conv2d(64, 64, 3))(probe).shape
)
### END SOLUTION
print(f"two 3x3: {two_small:,} parameters, one 5x5: {one_large:,}; same output size: {same_size}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Two 3×3 layers hold 2 × (64·64·9 + 64) = 73,856 parameters, one 5×5
# layer 64·64·25 + 64 = 102,464: 28% fewer for the same 5×5 receptive field, and with
# a ReLU in between the stack is also more expressive. The cost is a second
# activation map to store for the backward pass. This is why VGG-style networks stack
# 3×3 kernels: the receptive field grows by K − 1 per layer (and doubles with every
# 2×2 pooling), while the parameters grow only with K².
# ### END SOLUTION
#
# **Q4 · Reading a shape error.** A learner feeds an RGB batch (8, 32, 32, 3), stored
# channels last, into `Conv2d(3, 16, 3)`. What does the error say, and what is the
# fix?

# %%
# competency: operations/debugs
channels_last = Tensor(np.zeros((8, 32, 32, 3), dtype=np.float32))
### BEGIN SOLUTION
try:
    Conv2d(3, 16, 3)(channels_last)
except ValueError as error:
    message = str(error)
fixed = Conv2d(3, 16, 3)(channels_last.permute(0, 3, 1, 2))
### END SOLUTION
print(message)
print("after permute(0, 3, 1, 2):", fixed.shape)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The layer reads axis 1 as the channels and finds 32 where it expects 3,
# so it refuses, naming the layer, the input shape and the weight shape. The data is
# channels last (NHWC, as images are usually stored on disk), while the layer wants
# channels first (NCHW, PyTorch's layout). `permute(0, 3, 1, 2)` fixes it. An image
# that happens to have 3 rows would pass the check and silently compute nonsense,
# which is why the layout must be fixed where data is loaded, not guessed later.
# ### END SOLUTION
#
# **Q5 · Why convolution generalises.** The weight-sharing comparison counts 896
# against 98,336 parameters at 32×32. How do both numbers change for a 224×224 image,
# and what does the dense layer's count mean for learning?

# %%
# competency: models/knows
### BEGIN SOLUTION
large_image = parameter_comparison(height=224, width=224)
### END SOLUTION
print(large_image)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The convolution still has 896 parameters: its filter does not depend on
# the image size. The dense layer grows with the pixels, 3 × 224 × 224 × 32 + 32 =
# 4,816,928, about 5,400× more. Besides memory, those are separate weights for every
# position, which must each be learned from data: a pattern seen only in one corner
# teaches nothing about the others. The convolution bakes in that the same feature
# matters anywhere (translation equivariance), which is the inductive bias that lets
# a CNN learn from far fewer examples.
# ### END SOLUTION
