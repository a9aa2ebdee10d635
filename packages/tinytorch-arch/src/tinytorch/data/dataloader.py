"""Module 08 · DataLoader — from single samples to shuffled batches, loaded ahead of time.

Connection map
    Prerequisites : 01 Tensor · 07 Training (the manual batching this module replaces) ·
                    ``tinytorch.datasets`` (the arrays the Dataset classes here wrap)
    This module   : the Dataset protocol (``__len__`` + ``__getitem__``), TensorDataset,
                    collation of samples into batch Tensors, DataLoader with seeded
                    shuffling and ``drop_last``, and background prefetch on a thread pool
                    that never changes the order of the batches
    Unlocks       : 09 Spatial (image batches for CNNs) · 10–13 (token batches for
                    transformers) · Milestones 4 and 5

Systems insight: a batch is ``batch_size`` calls to ``dataset[i]`` plus one stack per
field. A CIFAR-10 batch of 128 images holds 128 × 3 × 32 × 32 × 4 bytes = 1.5 MiB; a
TinyDigits batch of 64 holds 16 KiB. Without prefetch, loading and training take turns:
the model waits while the next batch is read. With ``num_workers`` threads, up to
``prefetch`` batches are loaded while the model trains (memory: ``prefetch`` batches
more). Threads share Python's GIL, so they pay off when loading *waits* — on a disk,
a network, or NumPy/C code that releases the GIL — and cost a little when every step
is pure Python; ``benchmarks/bench_arch.py`` measures both cases.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tinytorch.checks import check_instance, check_int
from tinytorch.core.tensor import Tensor, _data, get_rng
from tinytorch.datasets import load_cifar10, load_mnist, load_tinydigits

#: What a DataLoader yields: one Tensor, or a tuple of them when samples are tuples.
Batch = Tensor | tuple[Tensor, ...]

WORKER_THREAD_PREFIX = "tinytorch-dataloader"


@runtime_checkable
class Dataset(Protocol):
    """Anything with a length and indexed samples: the contract a DataLoader relies on.

    ``dataset[i]`` for ``0 <= i < len(dataset)`` returns one sample: a tuple such as
    ``(image, label)``, or a single array. Subclass it, or just define both methods
    (a list of arrays is a Dataset too). Samples must be safe to read from several
    threads at once when a DataLoader uses ``num_workers > 0``.
    """

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


# competency: pipelines/implements
class TensorDataset(Dataset):
    """Samples are the i-th rows of arrays that share their first dimension.

    ``TensorDataset(x, y)`` with x (N, ...) and y (N,) gives ``dataset[i] == (x[i], y[i])``.
    Holds references to the arrays (no copy); Tensors are accepted and unwrapped.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array, e.g. TensorDataset(x, y)")
        self.arrays = tuple(np.asarray(_data(a)) for a in arrays)
        shapes = [a.shape for a in self.arrays]
        if any(len(shape) == 0 for shape in shapes) or len({s[0] for s in shapes}) != 1:
            raise ValueError(
                f"TensorDataset: every array needs the same first (sample) dimension, got "
                f"shapes {shapes}"
            )

    def __len__(self) -> int:
        ### BEGIN SOLUTION
        return len(self.arrays[0])
        ### END SOLUTION

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        ### BEGIN SOLUTION
        if not isinstance(index, (int, np.integer)):
            raise TypeError(
                f"TensorDataset: index must be an int, got {type(index).__name__}; "
                "a DataLoader gathers batches for you"
            )
        if not -len(self) <= index < len(self):
            raise IndexError(
                f"TensorDataset: index {index} is out of range for {len(self)} samples"
            )
        return tuple(a[index] for a in self.arrays)
        ### END SOLUTION


def _stack(op: str, values: Sequence[Any]) -> Tensor:
    """One field of a batch: the samples stacked along a new first axis.

    Integer values become int64 (what losses expect for class ids), floating arrays
    keep their dtype, plain Python floats become float32. Bytes: B × the sample's.
    """
    ### BEGIN SOLUTION
    arrays = [np.asarray(_data(v)) for v in values]
    shapes = sorted({a.shape for a in arrays})
    if len(shapes) > 1:
        raise ValueError(
            f"{op}: samples have different shapes {shapes}; every sample of a batch must "
            "have the same shape (crop or pad them first)"
        )
    batch = np.stack(arrays)
    if batch.dtype.kind in "iu":
        batch = batch.astype(np.int64, copy=False)
    elif batch.dtype.kind == "f" and all(type(v) is float for v in values):
        batch = batch.astype(np.float32)
    elif batch.dtype.kind not in "fb":
        raise TypeError(
            f"{op}: cannot batch samples of dtype {batch.dtype}; samples must be numbers "
            "or numeric arrays"
        )
    return Tensor(batch, dtype=batch.dtype)
    ### END SOLUTION


def collate(samples: Sequence[Any]) -> Batch:
    """Turn a list of samples into one batch (the default ``collate_fn`` of PyTorch).

    Samples that are tuples, e.g. (image (1, 8, 8), label), give a tuple of Tensors
    (image batch (B, 1, 8, 8), label batch (B,) int64); samples that are single arrays
    give one Tensor. Shapes must agree within each field.
    """
    if not isinstance(samples, (Sequence, np.ndarray)):
        raise TypeError(f"collate: expected a list of samples, got {type(samples).__name__}")
    ### BEGIN SOLUTION
    if len(samples) == 0:
        raise ValueError("collate: got no samples to batch")
    first = samples[0]
    if not isinstance(first, (tuple, list)):
        return _stack("collate", samples)
    for sample in samples:
        if not isinstance(sample, (tuple, list)) or len(sample) != len(first):
            raise ValueError(
                f"collate: samples disagree in structure: the first is a {len(first)}-tuple, "
                f"another is {sample!r:.60}"
            )
    return tuple(
        _stack(f"collate (field {k})", [sample[k] for sample in samples]) for k in range(len(first))
    )
    ### END SOLUTION


# competency: pipelines/implements, pipelines/knows
class DataLoader:
    """Iterate over a Dataset in batches of Tensors, optionally shuffled and prefetched.

    ``for x, y in DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)``.

    * Order: without ``shuffle``, samples 0, 1, 2, ...; with it, a new permutation each
      epoch (each ``iter()``). With a ``seed``, epoch e uses a generator seeded by
      (seed, e): the same seed always gives the same sequence of epochs, and
      ``set_epoch`` resumes it anywhere. Without one, orders come from tinytorch's
      shared generator, so ``manual_seed`` makes them reproducible.
    * ``drop_last`` drops a final batch smaller than ``batch_size``.
    * ``num_workers > 0`` loads batches on that many background threads, keeping up to
      ``prefetch`` batches in flight ahead of the consumer (workers beyond ``prefetch``
      would wait, so raise both together), and yields them in exactly the order
      ``num_workers=0`` would. Abandoning the iterator (``break``) stops the threads.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        num_workers: int = 0,
        prefetch: int = 2,
    ) -> None:
        check_instance(
            "DataLoader",
            "dataset",
            dataset,
            Dataset,
            "a Dataset (it defines __len__ and __getitem__)",
        )
        check_int("DataLoader", "batch_size", batch_size, minimum=1)
        check_int("DataLoader", "num_workers", num_workers, minimum=0)
        check_int("DataLoader", "prefetch", prefetch, minimum=1)
        for name, value in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} must be True or False, got {value!r:.40}")
        if seed is not None:
            check_int("DataLoader", "seed", seed, minimum=0)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.num_workers = int(num_workers)
        self.prefetch = int(prefetch)
        self.epoch = 0

    def __len__(self) -> int:
        """Batches per epoch: ceil(N / batch_size), or floor with ``drop_last``."""
        ### BEGIN SOLUTION
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        ### END SOLUTION

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` produce epoch ``epoch`` (to resume a seeded run)."""
        check_int("DataLoader.set_epoch", "epoch", epoch, minimum=0)
        self.epoch = epoch

    def batch_indices(self, epoch: int) -> list[np.ndarray]:
        """The sample indices of every batch of ``epoch``, in the order they are yielded.

        With ``shuffle`` and no ``seed`` each call draws a new permutation from the
        shared generator (``epoch`` is then only a label).
        """
        ### BEGIN SOLUTION
        n = len(self.dataset)
        if not self.shuffle:
            order = np.arange(n)
        elif self.seed is None:
            order = get_rng().permutation(n)
        else:
            order = np.random.default_rng((self.seed, epoch)).permutation(n)
        stop = n - n % self.batch_size if self.drop_last else n
        return [order[start : start + self.batch_size] for start in range(0, stop, self.batch_size)]
        ### END SOLUTION

    def load_batch(self, indices: Sequence[int]) -> Batch:
        """Fetch ``dataset[i]`` for each index and collate the samples: one batch."""
        ### BEGIN SOLUTION
        return collate([self.dataset[int(i)] for i in indices])
        ### END SOLUTION

    def __iter__(self) -> Iterator[Batch]:
        """One epoch. The order is fixed here, when ``iter()`` is called."""
        batches = self.batch_indices(self.epoch)
        self.epoch += 1
        if self.num_workers == 0:
            return self._in_turn(batches)
        return self._prefetched(batches)

    def _in_turn(self, batches: list[np.ndarray]) -> Iterator[Batch]:
        """Load each batch when it is asked for (``num_workers=0``)."""
        ### BEGIN SOLUTION
        for indices in batches:
            yield self.load_batch(indices)
        ### END SOLUTION

    # competency: pipelines/optimizes tests=test_samples_are_read_on_worker_threads
    # competency: pipelines/optimizes tests=test_at_most_prefetch_batches_are_loaded_ahead
    def _prefetched(self, batches: list[np.ndarray]) -> Iterator[Batch]:
        """Load batches on ``num_workers`` threads, at most ``prefetch`` ahead; yield in order.

        Futures are queued in batch order and taken from the front, so a batch that a
        fast worker finishes early simply waits its turn. Leaving the loop early (or an
        error in a worker, re-raised here) cancels the queued batches and joins the
        threads before the iterator is gone.
        """
        ### BEGIN SOLUTION
        pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix=WORKER_THREAD_PREFIX)
        todo = iter(batches)
        pending: deque[Future] = deque(
            pool.submit(self.load_batch, indices) for indices in islice(todo, self.prefetch)
        )
        try:
            while pending:
                batch = pending.popleft().result()
                pending.extend(pool.submit(self.load_batch, i) for i in islice(todo, 1))
                yield batch
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        ### END SOLUTION


# ----------------------------------------------------------------------------- datasets


class TinyDigitsDataset(TensorDataset):
    """TinyDigits (shipped with tinytorch-foundation) as (image, label) samples.

    Images are float32 in [0, 1], shaped (1, 8, 8) — one channel, channels first — or
    (64,) with ``flatten=True``; labels are int64 in 0..9.
    ``split``: "train" (1,438 samples) or "test" (359).
    """

    def __init__(self, split: str = "train", flatten: bool = False) -> None:
        images, labels = load_tinydigits(split, flatten=flatten)
        super().__init__(images if flatten else images[:, None], labels)


class MNISTDataset(TensorDataset):
    """MNIST from the IDX files in ``root`` as (image (1, 28, 28) or (784,), label) samples."""

    def __init__(self, root: str, split: str = "train", flatten: bool = False) -> None:
        images, labels = load_mnist(root, split, flatten=flatten)
        super().__init__(images if flatten else images[:, None], labels)


class CIFAR10Dataset(TensorDataset):
    """CIFAR-10 from the batch files in ``root`` as (image (3, 32, 32), label) samples."""

    def __init__(self, root: str, split: str = "train") -> None:
        super().__init__(*load_cifar10(root, split))


__all__ = [
    "Batch",
    "CIFAR10Dataset",
    "DataLoader",
    "Dataset",
    "MNISTDataset",
    "TensorDataset",
    "TinyDigitsDataset",
    "collate",
]
