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
# # Module 06 · Optimizers — turning gradients into better parameters
#
# Gradients say which way is downhill; an optimizer decides how far to step. This
# module builds PyTorch's update rules exactly (SGD with momentum and Nesterov, Adam,
# AdamW) and makes their hidden cost visible: the state each optimizer keeps for every
# parameter, which for Adam is twice the model.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor, 03 Layers (`parameters()`) and 05 Autograd (`.grad`).
# - **This module**: `SGD` (momentum, Nesterov, weight decay), `Adam`, `AdamW`,
#   `zero_grad`, and `state_memory()`, a report of the optimizer state's bytes.
# - **Unlocks**: 07 Training and every milestone.

# %%
import numpy as np

import tinytorch.nn.functional as F
from tinytorch.core import Tensor, manual_seed
from tinytorch.nn import Linear, ReLU, Sequential
from tinytorch.optim import SGD, Adam, AdamW
from tinytorch_learn.lesson import run_tests

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/optim/optimizers.py`**. The `Optimizer`
# base class (parameter groups, `zero_grad`, `state_dict`, `state_memory`) is given.
#
# - `SGD.step`: `buf = momentum * buf + g` (with `buf = g` on the first step), then
#   `p -= lr * buf`; Nesterov uses `g + momentum * buf`; weight decay adds
#   `weight_decay * p` to `g` first.
# - `Adam.step`: running averages `m` and `v` of `g` and `g²`, bias-corrected by
#   `1 - beta**t`, then `p -= lr * m_hat / (sqrt(v_hat) + eps)`. With
#   `decoupled_weight_decay` (AdamW), shrink `p` by `1 - lr * weight_decay` instead of
#   adding to the gradient.
#
# Update parameters **in place** (`p.data -= ...`, `buf *= ...`): a step must not
# allocate new parameter arrays, and the tests check that it does not.

# %% [markdown]
# ## Use
#
# The same small regression problem, solved by three optimizers from the same start:

# %%
rng = np.random.default_rng(0)
inputs = rng.standard_normal((256, 8)).astype(np.float32)
true_w = rng.standard_normal((8, 1)).astype(np.float32)
outputs = inputs @ true_w + 0.01 * rng.standard_normal((256, 1)).astype(np.float32)


def fit(make_optimizer, steps: int = 100) -> tuple[float, object]:
    manual_seed(0)
    model = Sequential(Linear(8, 16), ReLU(), Linear(16, 1))
    optimizer = make_optimizer(model.parameters())
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(Tensor(inputs)), outputs)
        loss.backward()
        optimizer.step()
    return loss.item(), optimizer


for name, make in {
    "SGD": lambda ps: SGD(ps, lr=0.05),
    "SGD + momentum": lambda ps: SGD(ps, lr=0.05, momentum=0.9),
    "Adam": lambda ps: Adam(ps, lr=0.01),
}.items():
    final, optimizer = fit(make)
    print(f"{name:<15} loss after 100 steps {final:.4f}   {optimizer.state_memory()}")

# %% [markdown]
# **In place.** A step writes into the existing parameter arrays, so anything that
# holds a reference to them (a checkpoint writer, another view) sees the update.

# %%
manual_seed(0)
layer = Linear(4, 2)
before = layer.weight.data
optimizer = SGD(layer.parameters(), lr=0.1)
F.mse_loss(layer(Tensor(np.ones((3, 4)))), np.zeros((3, 2), dtype=np.float32)).backward()
optimizer.step()
print("same array after the step:", layer.weight.data is before)

# %% [markdown]
# **Weight decay, two ways.** Adam adds `wd * p` to the gradient, where the adaptive
# scaling then shrinks it for parameters with large gradients; AdamW shrinks every
# parameter by the same factor, independently of its gradient.

# %%
for cls in (Adam, AdamW):
    manual_seed(0)
    weights = Linear(4, 4, bias=False)
    opt = cls(weights.parameters(), lr=0.1, weight_decay=0.5)
    for _ in range(20):
        opt.zero_grad()
        weights(Tensor(np.ones((1, 4)))).sum().backward()
        opt.step()
    norm = np.linalg.norm(weights.weight.data)
    print(f"{cls.__name__:<5} weight norm after 20 steps: {norm:.3f}")

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("06")

# %% [markdown]
# ## Reflect
#
# **Q1 · The memory bill.** A model has one billion float32 parameters. How much memory
# do the weights, their gradients and Adam's state take together, before a single
# activation is stored? Check the ratio on a small model with `state_memory()`.

# %%
# competency: training/measures
### BEGIN SOLUTION
n_params = 1_000_000_000
weights_gb = n_params * 4 / 1e9
total_gb = weights_gb * (1 + 1 + 2)  # weights, gradients, Adam's two moments
_, adam = fit(lambda ps: Adam(ps, lr=0.01), steps=1)
ratio = adam.state_memory().ratio
### END SOLUTION
print(f"weights {weights_gb:.0f} GB; with gradients and Adam state {total_gb:.0f} GB")
print(f"measured Adam state / parameters = {ratio:.1f}")

# %% [markdown]
# **Q2 · Adam's first step.** Both moving averages start at zero. What would the first
# update be without bias correction, and what is it with it?

# %%
# competency: training/knows
### BEGIN SOLUTION
beta1, beta2, g = 0.9, 0.999, 0.37
m, v = (1 - beta1) * g, (1 - beta2) * g * g
uncorrected = m / np.sqrt(v)
corrected = (m / (1 - beta1)) / np.sqrt(v / (1 - beta2))
### END SOLUTION
print(f"uncorrected step: {uncorrected:.3f} x lr; corrected: {corrected:.3f} x lr")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** After one step `m = 0.1 g` and `v = 0.001 g²`, so `m / sqrt(v)` is about
# 3.16 (the ratio of 0.1 to sqrt(0.001)), whatever the gradient: the first steps would
# be more than three times too long. Dividing by `1 - beta**t` turns both averages into
# unbiased estimates, and the first step becomes `lr * sign(g)`: exactly `lr` in size.
# The correction fades as `beta**t` goes to 0.
# ### END SOLUTION
#
# **Q3 · When is Adam worth it?** Adam keeps twice the parameters in state; SGD with
# momentum keeps once. When is the extra memory a good trade, and when not?
#
# ### BEGIN SOLUTION
# **Answer.** Adam's per-parameter step sizes make it robust to badly scaled
# gradients (rare features, layers of very different widths) and to the
# choice of learning rate, so it usually reaches a good loss in fewer steps and less
# tuning: worth it whenever engineer time or run count dominates and the state fits.
# When memory is the binding constraint (the largest model that fits on a device,
# where Adam's state would be a quarter of all memory), or for problems where
# well-tuned SGD with momentum is known to generalise as well or better (classic image
# classifiers), the cheaper optimizer lets you spend that memory on a bigger model or
# batch instead.
# ### END SOLUTION
#
# **Q4 · In place, or not.** `p.data -= lr * g` and `p.data = p.data - lr * g` compute
# the same numbers. Which one allocates a new parameter-sized array, and why does it
# matter beyond memory?

# %%
# competency: tensors/optimizes
### BEGIN SOLUTION
p = layer.weight
view = p.data
p.data -= 0.1 * np.ones_like(p.data)
in_place_kept = np.shares_memory(view, p.data)
p.data = p.data - 0.1 * np.ones_like(p.data)
rebind_kept = np.shares_memory(view, p.data)
### END SOLUTION
print("in place keeps the buffer:", in_place_kept, "| rebinding keeps it:", rebind_kept)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Both create the temporary `lr * g`, but only the second allocates a new
# array for the result and rebinds `p.data` to it, so the peak holds two copies of the
# parameter. Beyond memory, rebinding silently breaks every other reference to the old
# buffer: a view, a tied weight, or anything that captured the array would keep the
# stale values. In-place updates keep a single source of truth.
# ### END SOLUTION
