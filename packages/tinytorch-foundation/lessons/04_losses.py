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
# # Module 04 · Losses — one number that says how wrong the model is
#
# A model's outputs become useful once one number measures how far they are from the
# targets. This module builds the four losses the milestones need, each stable at
# extreme inputs, each with the reductions `'mean'`, `'sum'` and `'none'`, each as a
# function and as a Module.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor, 02 Activations (log-softmax and sigmoid) and 03 Layers
#   (the `Module` base class).
# - **This module**: `MSELoss`, `CrossEntropyLoss` (raw scores and integer class
#   targets), `BCELoss` (probabilities), `BCEWithLogitsLoss` (raw scores).
# - **Unlocks**: 05 Autograd (the loss is where learning signals start) and 07 Training.

# %%
import numpy as np

import tinytorch.nn.functional as F
from tinytorch.core import Tensor
from tinytorch.nn import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from tinytorch_learn.lesson import run_tests

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/nn/losses.py`**; validation helpers
# (`class_indices`, `_check_same_shape`, `_reduce`) are given.
#
# - `mse_loss`: mean of `(prediction - target)^2`, shapes must match exactly.
# - `cross_entropy`: per row, `logsumexp(logits) - logits[target]`, computed from the
#   max-shifted logits so it stays finite at ±1e4.
# - `binary_cross_entropy`: `-(y log p + (1 - y) log(1 - p))` for probabilities, with
#   each log floored at -100 as PyTorch does, so p = 0 or 1 gives a finite loss.
# - `binary_cross_entropy_with_logits`: the same loss from raw scores, as
#   `max(x, 0) - x y + log(1 + exp(-|x|))`.

# %% [markdown]
# ## Use
#
# Mean squared error and cross-entropy on ordinary values:

# %%
prediction = Tensor([[0.5], [2.0], [-1.0]])
target = Tensor([[0.0], [2.0], [1.0]])
print("MSE:", MSELoss()(prediction, target).item(), "=", (0.25 + 0 + 4) / 3)

logits = Tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
labels = np.array([0, 2])
print("cross-entropy:", CrossEntropyLoss()(logits, labels).item())
print("per example  :", CrossEntropyLoss(reduction="none")(logits, labels).data)

# %% [markdown]
# **At the extremes.** Logits of ±10,000 are a few bad steps away in any real run.
# Taking the log of a softmax fails there; the fused computation does not.

# %%
extreme = Tensor([[1e4, 0.0, -1e4]])
with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
    naive = -np.log(F.softmax(extreme).data[0, 2])
print("naive -log(softmax)[2]:", naive)
print("cross_entropy         :", F.cross_entropy(extreme, np.array([2])).item())

# %% [markdown]
# Clear errors beat silent broadcasting: a (N, 1) prediction against an (N,) target
# would otherwise compare every prediction with every target.

# %%
try:
    MSELoss()(Tensor(np.zeros((4, 1))), Tensor(np.zeros(4)))
except ValueError as error:
    print("ValueError:", error)
try:
    CrossEntropyLoss()(logits, np.array([0.0, 2.0]))
except TypeError as error:
    print("TypeError:", error)

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("04")

# %% [markdown]
# ## Reflect
#
# **Q1 · The loss at step zero.** A freshly initialised 10-class classifier outputs
# logits close to 0. What cross-entropy should you expect, and why is checking it a
# good first debugging step?

# %%
# competency: operations/debugs
### BEGIN SOLUTION
near_zero = Tensor(np.random.default_rng(0).normal(0, 1e-3, size=(256, 10)))
targets = np.random.default_rng(1).integers(0, 10, size=256)
initial = F.cross_entropy(near_zero, targets).item()
expected = np.log(10)
### END SOLUTION
print(f"measured {initial:.4f}, log(10) = {expected:.4f}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Equal logits give a uniform softmax, 1/C per class, so the loss is
# -log(1/C) = log C = 2.303 for C = 10. A first loss far above that means the
# initialisation is too large (confident and wrong); far below, the targets leak into
# the inputs or the labels are wrong. It costs one forward pass to check.
# ### END SOLUTION
#
# **Q2 · Probabilities or raw scores.** Why prefer `BCEWithLogitsLoss` on raw scores
# over `Sigmoid` followed by `BCELoss`? Try a score of 40 with target 0.

# %%
### BEGIN SOLUTION
score = Tensor([[40.0]])
zero = Tensor([[0.0]])
via_probability = BCELoss()(F.sigmoid(score), zero).item()
from_scores = BCEWithLogitsLoss()(score, zero).item()
### END SOLUTION
print(f"sigmoid + BCE: {via_probability}, BCE with logits: {from_scores}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** In float32, `sigmoid(40)` rounds to exactly 1.0, so `log(1 - p)` is
# `log(0)`; BCE floors it at -100 and reports 100, a number that no longer depends on
# the score. The loss on raw scores, `max(x, 0) - x y + log(1 + exp(-|x|))`, is exact:
# 40 plus a tiny term. One fused function is both cheaper (one pass, no intermediate
# probabilities) and more accurate.
# ### END SOLUTION
#
# **Q3 · Memory of a wide output.** A batch of 512 examples is scored over 50,000
# classes. How large are the logits in float32, and how much extra memory does the
# stable cross-entropy allocate while it runs?

# %%
# competency: tensors/measures
### BEGIN SOLUTION
logit_bytes = 512 * 50_000 * 4
# shifted = logits - max (one copy) and exp(shifted) (a second copy) exist together.
temporary_bytes = 2 * logit_bytes
### END SOLUTION
print(f"logits {logit_bytes / 1e6:.0f} MB; temporaries {temporary_bytes / 1e6:.0f} MB")

# %% [markdown]
# **Q4 · Mean or sum.** The default reduction averages over the batch. What changes
# if you switch to `'sum'` and double the batch size?
#
# ### BEGIN SOLUTION
# **Answer.** With `'mean'` the loss (and any quantity derived from it later) has the
# same scale at every batch size, so settings tuned at batch 32 still make sense at
# batch 64. With `'sum'` the loss doubles when the batch doubles, and so does every
# signal computed from it; the step sizes chosen later would have to be halved to
# compensate. `'none'` keeps one loss per example, for weighting or inspection.
# ### END SOLUTION
