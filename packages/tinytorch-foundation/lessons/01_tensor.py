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
# # Module 01 · Tensor — an n-dimensional array that knows what it costs
#
# Every number a neural network touches lives in a tensor. In this module you build
# TinyTorch's `Tensor`: a NumPy buffer plus the metadata that says what it is (shape,
# dtype) and what it costs (bytes, FLOPs). From the first day, memory is something you
# can ask a tensor about, not something you guess.
#
# ## Connection map
#
# - **Prerequisites**: Python and NumPy.
# - **This module**: the `Tensor` class: storage and dtype, memory footprint,
#   broadcasting arithmetic, matrix multiplication, reductions, reshapes and indexing;
#   PyTorch's comparisons, conversions and views come with it, ready-made.
# - **Unlocks**: 02 Activations, 03 Layers and 04 Losses build on it; 05 Autograd wakes
#   up the dormant `requires_grad`, `grad` and `backward()` you will see here.
#
# The lesson runs in three steps: **Build** (write the code), **Use** (run it and its
# tests), **Reflect** (reason about memory and compute).

# %%
import time

import numpy as np

from tinytorch.core import Tensor, matmul_loops
from tinytorch_learn.lesson import run_tests

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/core/tensor.py`**. In the student edition
# each of these raises `NotImplementedError` until you fill it in:
#
# - **storage**: `Tensor.__init__`: `np.asarray(data, dtype=...)`; unwrap a Tensor
#   passed in.
# - **cost**: `Tensor.memory_footprint`: the array already knows its `nbytes`.
# - **arithmetic**: `Tensor.__add__`, `Tensor.__sub__`, `Tensor.__mul__`,
#   `Tensor.__truediv__`, `Tensor.__pow__`, `Tensor.__neg__`: reuse `_elementwise`, which
#   turns NumPy's broadcast error into one that names the op and both shapes.
# - **matrix product**: `Tensor.__matmul__`: check the inner dimensions yourself and say
#   which ones disagree.
# - **reductions**: `Tensor.sum`, `Tensor.mean`, `Tensor.max`: honour `axis` and
#   `keepdims`; the max of an empty tensor is an error.
# - **shape**: `Tensor.reshape`, `Tensor.permute`, `Tensor.__getitem__`: accept both
#   `reshape(2, 3)` and `reshape((2, 3))`.
# - **element-wise math**: `Tensor.exp`, `Tensor.log`, `Tensor.sqrt`: one NumPy call each.
# - **reference**: `matmul_loops`: three explicit loops, the cost you can see.
#
# Given, not yours to write: comparisons (`==`, `<`, ... reuse `_elementwise`),
# conversions (`to`, `float()`, `int(t)`, `names[t]`), `view` and `flatten` (built on your
# `reshape`), and the functions that make tensors (`zeros`, `rand`, `from_numpy`, ... in
# `tinytorch/core/creation.py`).
#
# Results are always new Tensors (`Tensor._wrap` keeps the dtype of the result), and
# inputs are never modified. Each op computes its result into `out`; the line after
# your code, `return record(out, "MulBackward", self, other)`, is given. It names the
# rule that will know this op's derivative in Module 05 and, until then, returns `out`
# untouched: the same dormant gradient machinery as `requires_grad`, `grad` and
# `backward()`.

# %% [markdown]
# ## Use
#
# A tensor holds float32 numbers unless you ask for something else, and it can tell you
# how many bytes it holds.

# %%
x = Tensor([[1, 2, 3], [4, 5, 6]])
print(x, x.shape, x.dtype)
print("bytes:", x.memory_footprint(), "=", x.size, "elements x", x.data.itemsize, "bytes")
x64 = Tensor(np.ones((1000, 1000)), dtype=np.float64)
print("a (1000, 1000) float64 tensor holds", x64.memory_footprint() / 1e6, "MB")

# %% [markdown]
# **Broadcasting** lines shapes up from the right; a size-1 axis stretches to match.
# A column (3, 1) and a row (4,) make a (3, 4) table without copying either input.
# Shapes that cannot line up give an error that names the op and both shapes.

# %%
column = Tensor([[0.0], [10.0], [20.0]])
row = Tensor([1.0, 2.0, 3.0, 4.0])
print((column + row).shape)
print(column + row)
try:
    Tensor(np.ones((2, 3))) + Tensor(np.ones((4,)))
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# **Matrix multiplication** costs 2·n·k·m floating-point operations (a multiply and an
# add per term). `matmul_loops` does exactly that arithmetic one Python step at a time;
# `@` hands the same arithmetic to an optimised BLAS routine.

# %%
rng = np.random.default_rng(0)
a = Tensor(rng.standard_normal((48, 48)))
b = Tensor(rng.standard_normal((48, 48)))
start = time.perf_counter()
slow = matmul_loops(a, b)
loops_seconds = time.perf_counter() - start
start = time.perf_counter()
fast = a @ b
blas_seconds = time.perf_counter() - start
print("same result:", np.allclose(slow.data, fast.data, atol=1e-4))
print(f"loops {loops_seconds * 1e3:.1f} ms, @ {blas_seconds * 1e3:.3f} ms")
try:
    Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# **Views.** `permute` and `transpose` reorder axes without copying: the result shares
# the buffer and only its strides (bytes to step per axis) change.

# %%
m = Tensor(np.arange(6).reshape(2, 3))
t = m.permute(1, 0)
print("strides", m.data.strides, "->", t.data.strides)
print("shares memory:", np.shares_memory(m.data, t.data))

# %% [markdown]
# `view` is PyTorch's `reshape` that must never copy, and `flatten` merges axes. After the
# permute no strides can describe the flat order, so `view` refuses where `reshape`
# quietly copies:

# %%
print(m.view(3, 2).shape, m.flatten().shape, Tensor(np.zeros((4, 2, 3))).flatten(1).shape)
try:
    t.view(6)
except ValueError as error:
    print("ValueError:", error)
print("reshape copies instead:", t.reshape(6))

# %% [markdown]
# **Comparisons and conversions, as in PyTorch.** A comparison is element-wise, like the
# arithmetic, and gives a bool tensor: `(predicted == labels).sum()` counts matches. A
# one-element tensor stands in for its Python number (`float(t)`, `if t:`, `names[t]`);
# `bool()` of several elements is ambiguous and says so. `.to(...)`, `.float()` and
# `.long()` convert the dtype; the only device is the CPU, where NumPy keeps the data.

# %%
predicted = Tensor([2, 0, 1, 1], dtype=np.int64)
labels = Tensor([2, 0, 0, 1], dtype=np.int64)
matches = predicted == labels
print(matches, "->", matches.float().sum().item(), "of", len(labels), "match")
names = ["cat", "dog", "bird"]
print("first prediction:", names[predicted[0]])
try:
    bool(matches)
except RuntimeError as error:
    print("RuntimeError:", error)
print(Tensor([1.7, -1.7]).long(), Tensor([1.0]).to("cpu").device)
try:
    Tensor([1.0]).to("cuda")
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# **Dormant features.** `requires_grad`, `grad` and `backward()` are part of the API
# already. Until Module 05 they do nothing useful, and `backward()` says so loudly
# instead of silently doing nothing.

# %%
v = Tensor([1.0, 2.0])
print("requires_grad:", v.requires_grad, "grad:", v.grad)
try:
    v.backward()
except RuntimeError as error:
    print("RuntimeError:", error)

# %% [markdown]
# ### Run this module's tests
#
# The same tests grade your work. They are found in the `tests` folder next to the
# lessons (or in the folder named by `TINYTORCH_TESTS`).

# %%
run_tests("01")

# %% [markdown]
# ## Reflect
#
# Answer each question in the cell below it (`# YOUR ANSWER HERE` in your tree; the
# solution edition of the tier keeps a worked answer there to compare with).
#
# **Q1 · Peak memory.** Two (1000, 1000) float32 tensors `A` and `B` are multiplied.
# How many bytes are alive at the moment `A @ B` returns? What changes in float64?

# %%
# competency: tensors/measures
### BEGIN SOLUTION
A = Tensor(np.zeros((1000, 1000)))
B = Tensor(np.zeros((1000, 1000)))
C = A @ B
peak_bytes = A.memory_footprint() + B.memory_footprint() + C.memory_footprint()
peak_float64 = 2 * peak_bytes
### END SOLUTION
print(f"float32: {peak_bytes / 1e6:.0f} MB alive (two inputs + the output)")
print(f"float64: {peak_float64 / 1e6:.0f} MB")

# %% [markdown]
# **Q2 · FLOPs and speed.** How many floating-point operations does a (1000, 1000) by
# (1000, 1000) product take? Measure how many of them per second `@` achieves here, and
# how many the explicit loops achieved in the Use section.

# %%
# competency: operations/measures
### BEGIN SOLUTION
n = 1000
flops = 2 * n**3
start = time.perf_counter()
A @ B
seconds = time.perf_counter() - start
blas_rate = flops / seconds
loops_rate = 2 * 48**3 / loops_seconds
### END SOLUTION
print(f"{flops / 1e9:.0f} GFLOP; @ runs at {blas_rate / 1e9:.1f} GFLOP/s")
print(f"explicit loops: {loops_rate / 1e6:.2f} MFLOP/s, {blas_rate / loops_rate:,.0f}x slower")

# %% [markdown]
# **Q3 · Views and copies.** `m.permute(1, 0)` copied nothing. What does
# `m.permute(1, 0).reshape(6)` have to do, and why?
#
# ### BEGIN SOLUTION
# **Answer.** A reshape walks the elements in row-major order. After the permute, that
# order no longer matches the order of the bytes in the buffer (the strides are no
# longer decreasing), so no choice of strides can describe the flat result: NumPy has
# to copy the six elements into a new contiguous buffer. Views are free; a view
# followed by an operation that needs contiguous memory pays for the copy then.
# ### END SOLUTION
#
# **Q4 · Broadcasting cost.** A (3, 1) column plus a (1, 4) row gives a (3, 4) result.
# How many elements are read and written? What would it cost to first expand both inputs
# to (3, 4) explicitly?
#
# ### BEGIN SOLUTION
# **Answer.** Broadcasting reads 3 + 4 = 7 input elements and writes the 12 outputs:
# the stretched axes have a stride of 0, not copies. Expanding first would allocate two
# (3, 4) arrays (24 extra elements) and read 24 elements instead of 7. For a (4096, 1)
# plus (1, 4096) float32 sum, that is 32 KB of inputs against two 67 MB temporaries.
# ### END SOLUTION

# %%
# competency: tensors/knows, operations/knows
print("Broadcasting reads", 3 + 4, "elements and writes", 3 * 4)
