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
# # Module 07 · Training — the loop that composes every earlier module
#
# Everything so far meets here: tensors flow through layers and activations into a
# loss, autograd fills the gradients, the optimizer steps. This module builds the
# training loop around them and the tools that keep real runs healthy: learning-rate
# schedules, gradient clipping, checkpoints that survive a crash, a memory report of a
# training step, and activation checkpointing, which trades compute for memory.
#
# ## Connection map
#
# - **Prerequisites**: 03 Layers, 04 Losses, 05 Autograd and 06 Optimizers.
# - **This module**: `Trainer` (fit and evaluate with shuffling and manual batching),
#   `CosineAnnealingLR` with warm-up, `clip_grad_norm_`, `save_checkpoint` and
#   `load_checkpoint` (atomic `.npz`, validated on load), `save` and `load` (PyTorch's
#   `torch.save(model.state_dict(), path)` without pickle), `memory_report` and
#   `checkpoint` (activation checkpointing).
# - **Unlocks**: Milestones 1 to 3, and 08 DataLoader, which replaces manual batching.

# %%
import tempfile
from pathlib import Path

import numpy as np

import tinytorch.nn.functional as F
from tinytorch.core import Tensor, graph_stats, manual_seed
from tinytorch.datasets import load_tinydigits
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import SGD, Adam, CosineAnnealingLR
from tinytorch.training import (
    GradientFlow,
    Trainer,
    accuracy,
    checkpoint,
    clip_grad_norm_,
    load,
    load_checkpoint,
    memory_report,
    save,
    save_checkpoint,
)
from tinytorch_learn.lesson import run_tests

# %% [markdown]
# ## Build
#
# Module 07 spans three files:
#
# - **`tinytorch/optim/schedulers.py`**: `CosineAnnealingLR.lr_at`, the rate after a
#   given number of steps: a linear warm-up over `warmup_steps`, then
#   `eta_min + (lr_0 - eta_min) (1 + cos(pi t / T)) / 2`, constant after `T_max`.
# - **`tinytorch/training/trainer.py`**: `clip_grad_norm_` (one joint norm over every
#   gradient, scaled in place by `max_norm / (norm + 1e-6)` when that is below 1; return
#   the norm before clipping) and `Trainer.train_step` (zero the gradients, forward,
#   loss, backward, optional clipping, step; return the loss as a float).
# - **`tinytorch/training/checkpoint.py`**: `save_checkpoint` (model, optimizer and
#   scheduler state as arrays plus one JSON metadata entry, written through
#   `atomic_write`: a temporary file renamed into place) and `load_checkpoint` (all or
#   nothing: check every entry, the format, names, shapes, the optimizer's and the
#   scheduler's state before changing anything; never unpickle); and the two halves of
#   `save` and `load`: `_encode` turns an object into JSON, setting its arrays aside as
#   numbered entries, and `_decode` turns that JSON back into the object, refusing
#   anything `_encode` could not have written.
#
# `Trainer.fit`, `evaluate`, `memory_report`, `checkpoint`, and `save` and `load` around
# your two halves (the checks of sizes and names before any data is read, the atomic
# write) are given: they show how the pieces compose.

# %% [markdown]
# ## Use
#
# Train a small classifier on TinyDigits (8×8 images, shipped with the package), with a
# validation split watched every epoch:

# %%
x_train, y_train = load_tinydigits("train", flatten=True)
x_test, y_test = load_tinydigits("test", flatten=True)
manual_seed(0)
model = Sequential(Linear(64, 64), ReLU(), Linear(64, 10))
optimizer = Adam(model.parameters(), lr=3e-3)
scheduler = CosineAnnealingLR(optimizer, T_max=15, warmup_steps=2)
trainer = Trainer(
    model,
    optimizer,
    CrossEntropyLoss(),
    scheduler=scheduler,
    max_grad_norm=5.0,
    metrics={"accuracy": accuracy},
    progress=False,
)
history = trainer.fit(x_train, y_train, epochs=15, batch_size=64, validation=(x_test, y_test))
for epoch in (0, 4, 9, 14):
    print(
        f"epoch {epoch + 1:>2}: loss {history['loss'][epoch]:.3f}  lr {history['lr'][epoch]:.5f}"
        f"  val accuracy {history['val_accuracy'][epoch]:.3f}"
    )

# %% [markdown]
# **Checkpoints.** Save mid-run, load into fresh objects, and the run continues
# bit for bit. The file is a plain `.npz` (no pickle), written atomically.

# %%
with tempfile.TemporaryDirectory() as folder:
    path = save_checkpoint(Path(folder) / "run.npz", model, optimizer, scheduler, epoch=15)
    size = path.stat().st_size
    manual_seed(1)
    restored = Sequential(Linear(64, 64), ReLU(), Linear(64, 10))
    restored_opt = Adam(restored.parameters(), lr=3e-3)
    metadata = load_checkpoint(path, restored, restored_opt)
probe = Tensor(x_test[:5])
print("metadata:", metadata, "| file:", size, "bytes")
print("same predictions:", np.array_equal(model(probe).data, restored(probe).data))

# %% [markdown]
# **Save and load, as in PyTorch.** `torch.save(model.state_dict(), "model.pth")` pickles,
# so loading a file can run any code it names. `save` writes the same state dict as
# numbered arrays plus a JSON structure; `load` checks every entry before reading it, and
# refuses any file it did not write — here a pickle, as `torch.save` would write one.

# %%
with tempfile.TemporaryDirectory() as folder:
    save(model.state_dict(), Path(folder) / "model.pth")
    fresh = Sequential(Linear(64, 64), ReLU(), Linear(64, 10))
    fresh.load_state_dict(load(Path(folder) / "model.pth", weights_only=True))
    print("same predictions:", np.array_equal(model(probe).data, fresh(probe).data))
    pickled = Path(folder) / "pickled.pth"
    pickled.write_bytes(b"\x80\x04\x95" + bytes(40))  # how a pickle starts
    try:
        load(pickled)
    except ValueError as error:
        print("refused:", str(error)[:110], "...")

# %% [markdown]
# **Where a training step's memory goes.** Pass the loss before `backward` so the
# report can count the activations the graph holds.

# %%
batch_x, batch_y = x_train[:256], y_train[:256]
optimizer.zero_grad()
loss = CrossEntropyLoss()(model(Tensor(batch_x)), batch_y)
print(memory_report(model, optimizer, loss))
loss.backward()
print("gradient norm before clipping:", round(clip_grad_norm_(model.parameters(), 1.0), 3))

# %% [markdown]
# **Watching the gradients flow.** `GradientFlow` records, after each step, the norm of
# every parameter's gradient and the share of ReLU units that are dead on the batch: they
# output 0 for every example, so no gradient flows back through them and the weights
# feeding them stop learning. The same network with a sound learning rate and with one
# forty times too large:


# %%
def watch(lr: float) -> GradientFlow:
    manual_seed(0)
    net = Sequential(Linear(64, 64), ReLU(), Linear(64, 10))
    flow = GradientFlow(every=5)
    Trainer(
        net, SGD(net.parameters(), lr=lr), CrossEntropyLoss(), progress=False, on_step=flow.record
    ).fit(x_train, y_train, epochs=3, batch_size=64)
    return flow


for lr in (0.05, 2.0):
    flow = watch(lr)
    norms = ", ".join(f"{name} {values[-1]:.3f}" for name, values in flow.norms.items())
    print(f"lr {lr}: gradient norms {norms}; dead ReLU units {flow.dead['1 (ReLU)'][-1]:.0%}")
try:  # the picture needs matplotlib, which tinytorch does not install
    flow.plot()
except ImportError as missing:
    print(missing)

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("07")

# %% [markdown]
# ## Reflect
#
# **Q1 · The memory lifecycle.** For a wider model, 64 → 512 → 512 → 10, trained with
# Adam, which term of `memory_report` dominates at batch 32, and which at batch 4096?

# %%
# competency: models/knows
### BEGIN SOLUTION
wide = Sequential(Linear(64, 512), ReLU(), Linear(512, 512), ReLU(), Linear(512, 10))
wide_opt = Adam(wide.parameters())
for size in (32, 4096):
    inputs = Tensor(np.resize(x_train, (size, 64)))
    targets = np.resize(y_train, size)
    wide_opt.zero_grad()
    F.cross_entropy(wide(inputs), targets).backward()
    wide_opt.step()  # now gradients and Adam's state exist
    report = memory_report(wide, wide_opt, F.cross_entropy(wide(inputs), targets))
    print(f"batch {size:>4}: parameters + gradients + state", end=" ")
    fixed = report.parameters + report.gradients + report.optimizer_state
    print(f"{fixed / 1e6:.2f} MB, activations {report.activations / 1e6:.2f} MB")
### END SOLUTION

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** At batch 32 the fixed costs dominate: parameters (1.2 MB), their
# gradients (the same again) and Adam's state (twice that) make about 4.8 MB, against
# well under 1 MB of activations. Activations grow linearly with the batch; at 4096
# they are about ten times the fixed costs, and they are what runs out first when the
# batch grows.
# ### END SOLUTION
#
# **Q2 · Recompute or remember.** Wrap the two hidden layers in `checkpoint` and compare
# the bytes the graph holds. What does the saving cost?

# %%
# competency: graphs/optimizes
### BEGIN SOLUTION
hidden = Sequential(Linear(64, 512), ReLU(), Linear(512, 512), ReLU())
head = Linear(512, 10)
inputs = Tensor(np.resize(x_train, (1024, 64)))
targets = np.resize(y_train, 1024)
exclude = [p.data for p in (*hidden.parameters(), *head.parameters())]
plain = graph_stats(F.cross_entropy(head(hidden(inputs)), targets), exclude)
saved = graph_stats(F.cross_entropy(head(checkpoint(hidden, inputs)), targets), exclude)
### END SOLUTION
print(
    f"plain graph {plain.saved_bytes / 1e6:.2f} MB, checkpointed {saved.saved_bytes / 1e6:.2f} MB"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The checkpointed segment stores only its input and output; the
# intermediate activations (the 512-wide layers before and after each ReLU) are
# recomputed during `backward`. The cost is one extra forward pass of the segment per
# step, roughly a third more compute for a segment that is most of the model, in return
# for memory that no longer grows with the segment's depth.
# ### END SOLUTION
#
# **Q3 · When the loss explodes.** Train the same model with plain SGD at a learning
# rate far too large, with and without clipping. What do the logged gradient norms
# tell you?

# %%
# competency: training/debugs
### BEGIN SOLUTION
for clip in (None, 1.0):
    manual_seed(0)
    net = Sequential(Linear(64, 64), ReLU(), Linear(64, 10))
    sgd = SGD(net.parameters(), lr=2.0)
    norms, losses = [], []
    for _ in range(3):
        for start in range(0, 1280, 64):
            xb, yb = Tensor(x_train[start : start + 64]), y_train[start : start + 64]
            sgd.zero_grad()
            step_loss = F.cross_entropy(net(xb), yb)
            step_loss.backward()
            norms.append(clip_grad_norm_(net.parameters(), clip or float("inf")))
            sgd.step()
            losses.append(step_loss.item())
    print(
        f"clip {clip}: loss {losses[0]:.2f} -> {np.mean(losses[-20:]):.2f}, "
        f"largest gradient norm {max(norms):.1f}"
    )
### END SOLUTION

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Without clipping, the gradient norm spikes to around ten within a few
# steps, each spike throws the weights far off, and the loss stalls near its starting
# value; at larger rates the norms reach the hundreds and many ReLUs die for good (the
# norm then collapses towards zero), or the loss turns into `inf` and NaN. The norm log
# shows the trouble before the loss does, which makes it the first thing to print when
# a run misbehaves. Clipping at 1.0 caps every step's length, and the same learning
# rate trains. It treats the symptom: a smaller rate or a warm-up treats the cause.
# ### END SOLUTION
#
# **Q4 · Checkpoint size.** How large is a checkpoint of a model trained with Adam,
# relative to the parameters? Why write it to a temporary file and rename it?

# %%
# competency: training/optimizes
### BEGIN SOLUTION
with tempfile.TemporaryDirectory() as folder:
    ckpt = save_checkpoint(Path(folder) / "wide.npz", wide, wide_opt)
    ratio = ckpt.stat().st_size / wide.parameter_bytes()
### END SOLUTION
print(f"checkpoint / parameters = {ratio:.2f}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** About 3×: the weights plus Adam's two moment buffers, each the size of the
# parameters (plus a small header and JSON metadata). Writing the whole file under a
# temporary name and then `os.replace`-ing it over the old one is atomic: a crash or a
# full disk in the middle of the write leaves the previous checkpoint intact, instead
# of a truncated file that would fail to load exactly when it is needed.
# ### END SOLUTION
