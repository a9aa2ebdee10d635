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
# # Module 16 · Compression — prune weights away and distill big models into small ones
#
# Quantization kept every weight and stored it in fewer bits. Compression removes
# weights, or trains a smaller model outright. Magnitude pruning zeroes the weights
# with the smallest absolute values, either one by one (unstructured) or as whole
# neurons and filters (structured), and fine-tuning with the zeros held in place wins
# back most of the accuracy lost. Knowledge distillation trains a small student on a
# large teacher's softened probabilities. The systems questions are about what
# actually gets cheaper: zeros in a dense array cost as much as any other number, so
# sparsity only saves memory when stored sparsely, and only saves time when the
# kernels can skip it.
#
# ## Connection map
#
# - **Prerequisites**: 03 Layers, 04 Losses (cross-entropy), 05 Autograd (`Function`),
#   06 Optimizers, 07 Training (`Trainer`) and 09 Spatial (`Conv2d` filters).
# - **This module**: magnitude pruning (unstructured, with one global threshold or one
#   per layer, and structured by the L2 norm of whole neurons or filters), masks that
#   stay applied while fine-tuning, sparsity and sparse (CSR) storage measured, and
#   knowledge distillation as a differentiable loss.
# - **Unlocks**: 19 Benchmarking and 20 Capstone (smaller models to submit), and
#   stacking with 15 Quantization.

# %%
import copy

import numpy as np

from tinytorch.core import Tensor, manual_seed
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.perf.compression import (
    distill,
    fine_tune,
    prune_magnitude,
    prune_structured,
    sparse_size_bytes,
    sparsity,
)
from tinytorch.perf.measure import time_call
from tinytorch.training import Trainer
from tinytorch_learn.lesson import run_tests, trained_tinydigits_mlp

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/perf/compression.py`**:
#
# - `sparsity`: the fraction of exact zeros, over a model's Linear and Conv2d weights or
#   over one array.
# - `sparse_size_bytes`: the model's bytes with those weights stored as CSR: 4 bytes of
#   value and 4 of column index per non-zero, plus one 4-byte pointer per row and one more.
# - `magnitude_masks`: drop exactly round(amount · n) of the smallest |w|, ranked across
#   all layers together (`"global"`) or within each layer (`"layer"`).
# - `structured_masks`: per layer, drop the output neurons (or filters) with the smallest
#   L2 norm, weights and bias together.
# - `Pruner.apply`: multiply every masked parameter by its mask, in place.
# - `MaskedOptimizer.step`: the wrapped optimizer's step, then `apply` again.
# - `fine_tune`: a `Trainer` with a masked AdamW and a cosine schedule.
# - `DistillationLossFunction.forward` and `DistillationLossFunction.backward`:
#   α·T²·KL(p_teacher ‖ p_student) at temperature T plus (1 − α)·cross-entropy, computed
#   with a stable log-softmax; the gradient reaches only the student's logits.
# - `distill`: the teacher's logits once, then a `Trainer` whose loss looks them up.
#
# `Pruner`'s checks, `prune_magnitude`, `prune_structured`, `distillation_loss` and
# `teacher_logits` are given.

# %% [markdown]
# ## Use
#
# A trained Milestone 3 MLP (64 → 256 → 10) on TinyDigits as the model to compress:

# %%
# Trained by tinytorch_learn.lesson (seeded, 10 epochs of Adam); lessons 15, 16, 20 share it.
model, (x_train, y_train, x_test, y_test) = trained_tinydigits_mlp()


def accuracy(net) -> float:
    return float((net(Tensor(x_test)).data.argmax(axis=1) == y_test).mean())


dense_bytes = model.parameter_bytes()
print(f"accuracy {accuracy(model):.3f}, {model.num_parameters():,} parameters, {dense_bytes:,} B")

# %% [markdown]
# **90% unstructured pruning**, then fine-tuning with the masks held. The arrays keep
# their shapes; only CSR storage makes the model smaller.

# %%
pruned = copy.deepcopy(model)
pruner = prune_magnitude(pruned, 0.9)
print(f"pruned: sparsity {sparsity(pruned):.3f}, accuracy {accuracy(pruned):.3f}")
fine_tune(pruner, x_train, y_train, CrossEntropyLoss())
print(f"fine-tuned: sparsity {sparsity(pruned):.3f}, accuracy {accuracy(pruned):.3f}")
print(f"dense arrays {pruned.parameter_bytes():,} B, as CSR {sparse_size_bytes(pruned):,} B")

# %% [markdown]
# **Structured pruning** removes half of the hidden neurons (the classifier is left
# alone: a removed output unit would be a removed class). The zeroed columns mean the
# layer could be rebuilt narrower.

# %%
narrowed = copy.deepcopy(model)
structured = prune_structured(narrowed, 0.5, layers=["0"])
print(f"half the hidden neurons gone: accuracy {accuracy(narrowed):.3f}")
fine_tune(structured, x_train, y_train, CrossEntropyLoss())
alive = np.flatnonzero(np.abs(narrowed.stages[0].weight.data).sum(axis=0))
print(f"fine-tuned: accuracy {accuracy(narrowed):.3f}; {len(alive)} of 256 hidden neurons remain")

# %% [markdown]
# **Distillation.** A student an eighth of the teacher's size, trained on the teacher's
# softened probabilities (T = 4) and the labels, against the same student trained on
# the labels alone.

# %%
manual_seed(1)
student = Sequential(Linear(64, 32), ReLU(), Linear(32, 10))
labels_only = copy.deepcopy(student)
distill(model, student, x_train, y_train, temperature=4.0, alpha=0.5, epochs=20)
Trainer(
    labels_only, Adam(labels_only.parameters(), lr=3e-3), CrossEntropyLoss(), progress=False
).fit(x_train, y_train, epochs=20, batch_size=64)
print(f"teacher {model.num_parameters():,} parameters, accuracy {accuracy(model):.3f}")
print(
    f"student {student.num_parameters():,} parameters: distilled {accuracy(student):.3f}, "
    f"labels only {accuracy(labels_only):.3f}"
)

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("16")

# %% [markdown]
# ## Reflect
#
# **Q1 · Compression against accuracy.** Prune the trained model one-shot (no
# fine-tuning) to 50, 80, 90 and 95% sparsity. Tabulate the CSR size against the dense
# bytes and the accuracy lost.

# %%
# competency: efficiency/measures
### BEGIN SOLUTION
curve = []
for amount in (0.5, 0.8, 0.9, 0.95):
    trial = copy.deepcopy(model)
    prune_magnitude(trial, amount)
    curve.append(
        (amount, dense_bytes / sparse_size_bytes(trial), accuracy(model) - accuracy(trial))
    )
### END SOLUTION
for amount, ratio, lost in curve:
    print(
        f"{amount:.0%} pruned: CSR {ratio:.2f}x smaller than dense, {100 * lost:+.1f} points lost"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** At 50% CSR is no smaller than the dense arrays (each kept value carries
# a 4-byte index), and the accuracy barely moves. At 80% it is about 2.4× smaller and
# a few points are lost, at 90% about 4.4× and close to 15 points, at 95% about 8× and
# the model is broken. Without fine-tuning the curve is steep beyond 80%: the first
# weights removed were nearly useless, the last ones carry the function. Fine-tuning
# with the masks held (above) brings 90% back to within about a point, which is why the
# recipe is always prune, then fine-tune, possibly in several rounds.
# ### END SOLUTION
#
# **Q2 · Why 90% zeros is not 10× smaller.** Work out the CSR bytes of a 90%-sparse
# (256, 1024) float32 matrix by hand, and the sparsity below which CSR stops paying.

# %%
# competency: efficiency/knows
### BEGIN SOLUTION
rows, cols = 256, 1024
kept = round(0.1 * rows * cols)
csr = kept * (4 + 4) + (rows + 1) * 4
dense = rows * cols * 4
break_even = 0.5
### END SOLUTION
print(
    f"dense {dense:,} B, CSR {csr:,} B ({dense / csr:.2f}x); CSR pays above {break_even:.0%} zeros"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** 26,214 kept values × 8 bytes (value plus column index) + 257 row pointers
# × 4 = 210,740 B against 1,048,576 B dense: 4.98×, not 10×, because every kept value
# brings its index. Per weight CSR costs 8 bytes against 4, so it only wins when fewer
# than half the weights remain. Int8 values with 16-bit indices, or block formats that
# keep one index per block of weights, shift the break-even lower; structured pruning
# avoids indices altogether.
# ### END SOLUTION
#
# **Q3 · Pruned weights that come back.** Fine-tune the 90%-pruned model with a plain
# Adam optimizer that is not wrapped by the pruner. What happens to the sparsity and
# why? Would zeroing the pruned weights' gradients be enough?

# %%
# competency: efficiency/debugs
### BEGIN SOLUTION
leaky = copy.deepcopy(model)
prune_magnitude(leaky, 0.9)
before = sparsity(leaky)
Trainer(leaky, Adam(leaky.parameters(), lr=1e-2), CrossEntropyLoss(), progress=False).fit(
    x_train, y_train, epochs=2, batch_size=64
)
after = sparsity(leaky)
### END SOLUTION
print(f"sparsity {before:.3f} after pruning, {after:.3f} after two epochs without the masks")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The sparsity collapses from 0.90 to well under 0.2 in two epochs: a
# pruned weight still has a gradient (its input is not zero), so the optimizer moves
# it, and the "compressed" model quietly becomes dense again, while its accuracy looks
# fine. Zeroing those gradients is not enough either: Adam's moments and any momentum
# keep updating from gradients seen before pruning, and weight decay changes every
# weight. Re-applying the masks after every step (`MaskedOptimizer`) holds for any
# optimizer. The check that catches the bug is cheap: measure the sparsity after
# fine-tuning, not only before.
# ### END SOLUTION
#
# **Q4 · What distillation buys here.** Compare the teacher and the two students on
# parameters, bytes, accuracy and training memory. Did the teacher help?

# %%
# competency: models/optimizes
### BEGIN SOLUTION
rows_of = [
    ("teacher", model),
    ("student, distilled", student),
    ("student, labels only", labels_only),
]
adam_memory = {name: 4 * net.parameter_bytes() for name, net in rows_of}
### END SOLUTION
for name, net in rows_of:
    print(
        f"{name:<21}{net.num_parameters():>7,} parameters, accuracy {accuracy(net):.3f}, "
        f"training with Adam {adam_memory[name] / 1024:.0f} KiB"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The student holds 2,410 parameters against 19,210 (8× fewer, 9.6 KB
# instead of 77 KB) and stays within a few points of the teacher. On TinyDigits the
# student trained on labels alone does about as well as the distilled one, or better:
# with clean labels and a simple task, the teacher's soft probabilities ("this 3 looks
# a bit like an 8") add little. Distillation pays off when the student cannot find a
# good solution from the labels alone (large label spaces, noisy labels, much smaller
# students). On memory, the teacher only runs forward once to produce its logits (N × C
# numbers), so training memory is the student's: 4 × its parameter bytes with Adam.
# The lesson is the one the module's docstring states: measure before assuming a
# technique helps.
# ### END SOLUTION
#
# **Q5 · Which zeros save time.** Time a (256, 1024) batch through Linear(1024, 1024)
# dense, 90% unstructured-pruned, and with half of its output neurons removed and the
# layer rebuilt as Linear(1024, 512).

# %%
# competency: efficiency/optimizes
manual_seed(0)
wide = Sequential(Linear(1024, 1024))
batch = Tensor(np.random.default_rng(0).standard_normal((256, 1024)).astype(np.float32))
### BEGIN SOLUTION
sparse_layer = copy.deepcopy(wide)
prune_magnitude(sparse_layer, 0.9)
narrow_layer = Sequential(Linear(1024, 512))
timings = {
    name: time_call(lambda net=net: net(batch), warmup=2, repeats=7).median
    for name, net in (
        ("dense", wide),
        ("90% unstructured", sparse_layer),
        ("half the neurons", narrow_layer),
    )
}
### END SOLUTION
for name, seconds in timings.items():
    print(f"{name:<17} {seconds * 1e3:6.2f} ms")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The 90%-sparse layer takes as long as the dense one: BLAS multiplies
# every zero like any other number. Unstructured sparsity saves time only with sparse
# kernels, which on CPUs beat dense ones only at very high sparsity, and which break
# the regular memory layout vectorized code relies on. Removing whole neurons gives a
# smaller dense layer with half the FLOPs, and the time drops at least in proportion
# (often by more, as the smaller weight matrix and output fit the CPU's caches better;
# the exact ratio varies with the machine and its load). That is the trade: unstructured
# pruning keeps more accuracy at a given sparsity, structured pruning turns its
# savings into speed on ordinary hardware.
# ### END SOLUTION
