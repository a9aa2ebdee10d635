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
# # Module 08 · DataLoader — from single samples to shuffled batches, loaded ahead of time
#
# Module 07's `Trainer` sliced pre-made arrays by hand. Real data does not arrive that
# way: it is a collection of samples, read one at a time from a disk or a network,
# that has to be shuffled, grouped into batches and stacked into tensors before a
# model can use it. This module builds that pipeline the way PyTorch does. A
# `Dataset` is anything with a length and indexed samples; `collate` stacks samples
# into batch tensors; the `DataLoader` decides the order, cuts it into batches and,
# with `num_workers`, reads the next batches on background threads while the model
# is busy with the current one.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor (batches are tensors), 07 Training (the manual
#   batching this module replaces) and the arrays of `tinytorch.datasets`.
# - **This module**: the `Dataset` protocol (`__len__` + `__getitem__`),
#   `TensorDataset`, `collate`, `DataLoader` with seeded shuffling and `drop_last`,
#   background prefetch that never changes the order of the batches, and the shipped
#   datasets as Dataset classes.
# - **Unlocks**: 09 Spatial (image batches for CNNs), 10–13 (token batches for
#   transformers), Milestones 4 and 5.

# %%
import time

import numpy as np

import tinytorch.nn.functional as F
from tinytorch.core import Tensor, manual_seed
from tinytorch.data import DataLoader, Dataset, TensorDataset, TinyDigitsDataset, collate
from tinytorch.nn import Linear, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch_learn.lesson import run_tests


class SlowDataset(Dataset):
    """Sample i is (i, float(i)); each read waits ``delay`` seconds, like a disk or network."""

    def __init__(self, n: int, delay: float) -> None:
        self.n, self.delay = n, delay

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> tuple[int, float]:
        time.sleep(self.delay)
        return index, float(index)


# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/data/dataloader.py`**:
#
# - `TensorDataset.__len__` and `TensorDataset.__getitem__`: sample i is the i-th row of
#   every array (negative indices count from the end); a non-integer index is a
#   `TypeError` and an index out of range an `IndexError`, both saying what was asked.
# - `_stack`: one field of a batch, the samples stacked along a new first axis. Integer
#   values become int64 (what losses expect for class ids), floating arrays keep their
#   dtype, plain Python floats become float32; samples of different shapes are an error
#   that shows the shapes.
# - `collate`: a list of tuples becomes a tuple of batch tensors (one `_stack` per
#   field); a list of single arrays becomes one tensor.
# - `DataLoader.__len__`: batches per epoch, ceil(N / batch_size), or floor with
#   `drop_last`.
# - `DataLoader.batch_indices`: the order of one epoch (in sequence, a permutation from
#   the shared generator, or one from a generator seeded by `(seed, epoch)`), cut into
#   batches.
# - `DataLoader.load_batch`: read each index from the dataset and collate.
# - `DataLoader._in_turn`: load each batch only when the loop asks for it.
# - `DataLoader._prefetched`: a pool of `num_workers` threads with at most `prefetch`
#   batches in flight, results taken in submission order so the batches come out
#   exactly as `_in_turn` would yield them; leaving the loop early must cancel the
#   queued work and join the threads.
#
# `DataLoader.__init__`, `__iter__`, `set_epoch` and the dataset classes
# (`TinyDigitsDataset`, `MNISTDataset`, `CIFAR10Dataset`) are given.

# %% [markdown]
# ## Use
#
# TinyDigits as a Dataset: 1,438 training samples, each an (image, label) pair with the
# image channels first, (1, 8, 8).

# %%
train = TinyDigitsDataset("train")
image, label = train[0]
print(len(train), "samples; sample 0:", image.shape, image.dtype, "label", label)

batch_images, batch_labels = collate([train[i] for i in range(4)])
print(
    "collated:",
    batch_images.shape,
    batch_images.dtype,
    "|",
    batch_labels.shape,
    batch_labels.dtype,
    batch_labels.data,
)

# %% [markdown]
# **Batching and shuffling.** With `drop_last`, the short final batch disappears; with
# a seed, every run sees the same sequence of epochs, and each epoch a new order.

# %%
for drop_last in (False, True):
    loader = DataLoader(train, batch_size=64, drop_last=drop_last)
    sizes = [len(labels.data) for _, labels in loader]
    print(f"drop_last={drop_last}: {len(loader)} batches, the last of {sizes[-1]} samples")

numbers = TensorDataset(np.arange(10))
shuffled = DataLoader(numbers, batch_size=4, shuffle=True, seed=0)
for epoch in range(2):
    print(f"epoch {epoch}:", [ids.data.tolist() for (ids,) in shuffled])
again = DataLoader(numbers, batch_size=4, shuffle=True, seed=0)
print("same seed, same first epoch:", next(ids.data.tolist() for (ids,) in again))

# %% [markdown]
# **Training with a loader.** The loop of Module 07 becomes `for x, y in loader`:

# %%
manual_seed(0)
flat = TinyDigitsDataset("train", flatten=True)
test_x, test_y = TinyDigitsDataset("test", flatten=True).arrays
model = Sequential(Linear(64, 64), ReLU(), Linear(64, 10))
optimizer = Adam(model.parameters(), lr=3e-3)
loader = DataLoader(flat, batch_size=64, shuffle=True, seed=0)
for epoch in range(3):
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    accuracy = (model(Tensor(test_x)).data.argmax(axis=1) == test_y).mean()
    print(f"epoch {epoch + 1}: last loss {loss.item():.3f}, test accuracy {accuracy:.3f}")

# %% [markdown]
# **Prefetch.** A dataset whose reads wait 2 ms each (a stand-in for a disk). Serial
# loading pays every wait in turn; four worker threads overlap them. The batches come
# out in the same order either way.

# %%
slow = SlowDataset(64, delay=0.002)
timings, orders = {}, {}
for workers in (0, 4):
    loader = DataLoader(slow, batch_size=8, num_workers=workers, prefetch=4)
    start = time.perf_counter()
    orders[workers] = [ids.data.tolist() for ids, _ in loader]
    timings[workers] = time.perf_counter() - start
    print(f"num_workers={workers}: {timings[workers] * 1e3:6.1f} ms for {len(slow)} samples")
print("same order:", orders[0] == orders[4], "| speed-up", round(timings[0] / timings[4], 1))

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("08")

# %% [markdown]
# ## Reflect
#
# **Q1 · What a batch costs.** How many bytes does one batch of 128 CIFAR-10 images
# (3 × 32 × 32, float32) occupy, and how much extra memory does a loader with
# `prefetch=4` hold at most? Compare with a TinyDigits batch of 64.

# %%
# competency: pipelines/measures
### BEGIN SOLUTION
cifar_batch = 128 * 3 * 32 * 32 * 4
digits_batch = next(iter(DataLoader(train, batch_size=64)))[0].memory_footprint()
in_flight = 4 * cifar_batch
### END SOLUTION
print(
    f"CIFAR-10 batch {cifar_batch / 2**20:.2f} MiB, four in flight {in_flight / 2**20:.1f} MiB;"
    f" TinyDigits batch {digits_batch / 1024:.0f} KiB"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** 128 × 3,072 × 4 B = 1.5 MiB per CIFAR-10 batch, so `prefetch=4` keeps up
# to 6 MiB of finished batches waiting, plus the batch the model is using. A
# TinyDigits batch of 64 is 16 KiB. Prefetching costs memory linearly in `prefetch`;
# it is cheap for images this size and matters for large inputs (video, 3-D scans),
# where a few batches can be hundreds of megabytes.
# ### END SOLUTION
#
# **Q2 · Throughput.** Measure samples per second of the slow dataset for 0, 1, 2 and
# 4 workers. Why does the gain stop growing?

# %%
# competency: pipelines/measures, pipelines/optimizes
### BEGIN SOLUTION
rates = {}
for workers in (0, 1, 2, 4):
    loader = DataLoader(slow, batch_size=8, num_workers=workers, prefetch=max(workers, 1))
    start = time.perf_counter()
    for _ in loader:
        pass
    rates[workers] = len(slow) / (time.perf_counter() - start)
### END SOLUTION
print(", ".join(f"{w} workers: {r:,.0f} samples/s" for w, r in rates.items()))

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Each worker loads a whole batch (8 reads of 2 ms, about 16 ms), so with
# `k` workers and `prefetch >= k` about `k` batches load at once and throughput grows
# roughly k-fold while the reads *wait*. One worker alone gains little: it still reads
# one batch at a time, only on another thread. The gain stops when the loader is no
# longer the slowest part (the consumer, or the disk itself, becomes the limit), when
# `prefetch` caps the batches in flight, or when the work holds Python's GIL instead
# of waiting, since threads then take turns instead of running together.
# ### END SOLUTION
#
# **Q3 · Is the input the bottleneck?** A training step takes `t_step` and loading a
# batch `t_load`. Time how long the loop waits for each batch with and without workers
# while a 5 ms "step" runs, and say how you would spot a data stall in a real run.

# %%
# competency: pipelines/debugs
### BEGIN SOLUTION
waits = {}
for workers in (0, 4):
    loader = DataLoader(slow, batch_size=8, num_workers=workers, prefetch=4)
    waited, it = 0.0, iter(loader)
    while True:
        start = time.perf_counter()
        batch = next(it, None)
        waited += time.perf_counter() - start
        if batch is None:
            break
        time.sleep(0.005)  # the model's step
    waits[workers] = waited
### END SOLUTION
print(", ".join(f"{w} workers: {t * 1e3:.0f} ms waiting for data" for w, t in waits.items()))

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Without workers the loop waits the full `t_load` ≈ 16 ms before every
# step, so the model is idle most of the time: the step would take `t_load + t_step`.
# With k workers the next batches load during the step, and the wait per batch drops
# to `max(0, t_load / k - t_step)`: here zero, so what remains is the first batch,
# which nothing could load ahead (about one `t_load`). The symptom in a
# real run is the same measurement: time spent in `next(loader)` that is a large share
# of the step, or a CPU/accelerator that sits idle between steps while one core
# decodes data. The fixes are workers and prefetch, a cheaper `__getitem__` (decode
# once, cache), or bigger reads.
# ### END SOLUTION
#
# **Q4 · Reproducible shuffling.** A run crashes in epoch 7 and resumes from a
# checkpoint. Why does seeding each epoch's permutation with `(seed, epoch)` make the
# resumed run see exactly the orders of the original, while drawing every epoch from
# one running generator would not?
#
# ### BEGIN SOLUTION
# **Answer.** With `(seed, epoch)`, epoch 7's order is a function of two numbers the
# checkpoint records; `set_epoch(7)` rebuilds it without replaying epochs 0–6. A single
# running generator's state after six epochs depends on everything that drew from it
# (model initialisation, dropout, earlier shuffles), so a resumed run would have to
# save and restore that state exactly, and any extra draw changes every later order.
# ### END SOLUTION

# %%
# competency: pipelines/knows
original = DataLoader(numbers, batch_size=4, shuffle=True, seed=0)
epochs = [[ids.data.tolist() for (ids,) in original] for _ in range(2)]
resumed = DataLoader(numbers, batch_size=4, shuffle=True, seed=0)
resumed.set_epoch(1)
rebuilt = [ids.data.tolist() for (ids,) in resumed]
print("epoch 1 rebuilt without replaying epoch 0:", rebuilt == epochs[1])

# %% [markdown]
# **Q5 · Threads or processes.** The loader uses threads. When do threads speed up
# loading, and when would processes (PyTorch's `num_workers`) be needed instead?
#
# ### BEGIN SOLUTION
# **Answer.** Threads share one interpreter and its GIL, so only one runs Python code
# at a time. They pay off when loading *waits*: on a disk, a network, or NumPy and
# image-decoding code that releases the GIL while it works. When `__getitem__` is pure
# Python arithmetic (parsing text, augmenting in loops), threads only interleave and
# even add switching overhead; processes run truly in parallel but must copy each
# batch back to the main process (or share memory), which costs time and memory per
# batch. That is why PyTorch uses worker processes with shared-memory tensors.
# ### END SOLUTION
