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
# # Module 03 · Layers — parameters, Linear, Sequential and Dropout
#
# A layer is a function with memory: numbers it keeps between calls (its parameters)
# and that a model will later adjust. This module builds the `Module` container that
# finds those numbers, the `Linear` layer with a careful random start, `Sequential` to
# stack layers, and `Dropout`. It also separates two kinds of memory that behave very
# differently: parameters (fixed by the architecture) and activations (growing with
# the batch).
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor (matmul, broadcasting) and 02 Activations (the
#   non-linearities between layers).
# - **This module**: `Module` (parameter discovery, train/eval, state dicts), `Parameter`,
#   `Linear` with Xavier initialization, `Sequential`, `Dropout`.
# - **Unlocks**: 04 Losses; every model of the curriculum (MLPs here, CNNs and
#   transformers in the architecture tier).

# %%
import numpy as np

from tinytorch.core import Tensor, manual_seed
from tinytorch.nn import Dropout, Linear, ReLU, Sequential
from tinytorch_learn.lesson import run_tests

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/nn/layers.py`**:
#
# - `Module.named_parameters`: walk the attributes (and sub-Modules, recursively) and
#   yield `(dotted name, Parameter)` pairs, each Parameter once even if it is reachable
#   twice.
# - `Module.load_state_dict`: check names and shapes first, then copy; a failed load
#   must change nothing.
# - `xavier_uniform`: draw from U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), using the
#   shared generator so `manual_seed` makes runs repeatable.
# - `Linear.forward`: `x @ W + b`, with an error naming both shapes when the last axis
#   of `x` is not `in_features`.
# - `Dropout.forward`: in training mode zero each element with probability p and scale
#   the survivors by 1 / (1 - p); in eval mode return the input unchanged.
#
# `Parameter`, `Module.parameters`, `train`, `eval`, `num_parameters` and `Sequential`
# are given: read them, since later modules lean on them.

# %% [markdown]
# ## Use
#
# A layer's parameter count is fixed by its shape, whatever the batch:

# %%
manual_seed(0)
layer = Linear(784, 128)
print(layer)
print("weight", layer.weight.shape, "bias", layer.bias.shape)
print("parameters:", layer.num_parameters(), "=", 784 * 128 + 128)
print("bytes:", layer.parameter_bytes())
for batch in (1, 64, 1024):
    out = layer(Tensor(np.zeros((batch, 784))))
    print(f"batch {batch:>4}: output {out.shape}, {out.memory_footprint():>8,} bytes")

# %% [markdown]
# `Sequential` stacks layers; parameters are found recursively and named by position,
# which is what a state dict stores.

# %%
model = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
for name, p in model.named_parameters():
    print(f"{name:<9} {p.shape}")
state = model.state_dict()
clone = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
clone.load_state_dict(state)
x = Tensor(np.random.default_rng(0).standard_normal((2, 4)))
print("same outputs after loading:", np.array_equal(model(x).data, clone(x).data))
try:
    Sequential(Linear(4, 5), ReLU(), Linear(5, 3)).load_state_dict(state)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# **Why Xavier?** Push a signal through ten layers. With weights drawn from N(0, 1) its
# size multiplies by about sqrt(fan_in) per layer; with Xavier's scaling it stays in
# the same range.

# %%
manual_seed(0)
signal = Tensor(np.random.default_rng(0).standard_normal((256, 256)))
xavier, naive = signal, signal
for _ in range(10):
    xavier = Linear(256, 256, bias=False)(xavier)
    naive = naive @ Tensor(np.random.default_rng(1).standard_normal((256, 256)))
print(f"std after 10 layers: Xavier {xavier.data.std():.3g}, N(0, 1) {naive.data.std():.3g}")

# %% [markdown]
# **Dropout** zeroes elements while training and rescales the rest, so the expected
# value is unchanged; in eval mode it is the identity.

# %%
drop = Dropout(p=0.5)
ones = Tensor(np.ones((1000, 100)))
trained = drop(ones)
print("training: zero fraction", (trained.data == 0).mean(), "mean", trained.data.mean())
drop.eval()
print("eval: unchanged", np.array_equal(drop(ones).data, ones.data))

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("03")

# %% [markdown]
# ## Reflect
#
# **Q1 · Counting parameters.** How many parameters, and how many bytes in float32,
# does the MLP 784 → 256 → 128 → 10 (ReLU between the layers) hold?

# %%
# competency: models/measures
### BEGIN SOLUTION
mlp = Sequential(Linear(784, 256), ReLU(), Linear(256, 128), ReLU(), Linear(128, 10))
count = mlp.num_parameters()
by_hand = (784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10)
### END SOLUTION
print(f"{count:,} parameters (by hand {by_hand:,}), {mlp.parameter_bytes() / 1e6:.2f} MB")

# %% [markdown]
# **Q2 · Parameters against activations.** Each example stores one output per layer:
# 256 + 128 + 10 numbers. From which batch size on do those activations take more
# memory than the parameters?

# %%
# competency: models/knows
### BEGIN SOLUTION
per_example = 256 + 128 + 10
crossover = count / per_example
### END SOLUTION
print(f"{per_example} floats per example; activations pass the parameters at batch {crossover:.0f}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** At about 597 examples. Parameters cost the same at any batch size, while
# activation memory grows linearly with it. For large batches, and for layers that
# reuse few weights over many positions, activations are the larger bill.
# ### END SOLUTION
#
# **Q3 · Layout.** TinyTorch stores `Linear.weight` as (in_features, out_features);
# PyTorch stores (out_features, in_features). What does each choice buy, and what does
# it cost?
#
# ### BEGIN SOLUTION
# **Answer.** (in, out) makes the forward pass the single product `x @ W`: each output
# column of `W` is contiguous in memory for the BLAS call and no transpose is needed.
# PyTorch's (out, in) matches the mathematical convention `y = W x` and each output
# unit's weights form one contiguous row. The cost of differing is interoperability:
# a weight copied between the two frameworks must be transposed, or the shapes will not
# even match (for a non-square layer) or, worse, silently compute the wrong thing (for
# a square one).
# ### END SOLUTION
#
# **Q4 · Dropout's scale.** Why divide the surviving activations by (1 - p) while
# training? What would go wrong in eval mode if you did not?
#
# ### BEGIN SOLUTION
# **Answer.** With p = 0.5 half the inputs of the next layer are zeroed, so its input
# sum is on average half as large. Scaling the survivors by 1 / (1 - p) = 2 keeps the
# expected value unchanged. Without it, the next layer would learn to expect inputs
# half the size; in eval mode, when nothing is dropped, it would receive twice what it
# saw in training and every later layer would be off by that factor. Dropping without
# rescaling would require multiplying by (1 - p) at evaluation instead.
# ### END SOLUTION

# %%
# competency: models/debugs
drop.train()
print("expected value kept:", round(float(drop(ones).data.mean()), 2))
