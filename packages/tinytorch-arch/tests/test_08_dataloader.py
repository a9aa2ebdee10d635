"""Module 08 · DataLoader — the specification of datasets, collation, batching and prefetch."""

from __future__ import annotations

import gc
import struct
import threading
import time

import numpy as np
import pytest

from tinytorch.core import Tensor, manual_seed
from tinytorch.data import (
    CIFAR10Dataset,
    DataLoader,
    Dataset,
    MNISTDataset,
    TensorDataset,
    TinyDigitsDataset,
    collate,
)
from tinytorch.data.dataloader import WORKER_THREAD_PREFIX
from tinytorch.nn import CrossEntropyLoss, Linear
from tinytorch.optim import SGD
from tinytorch.training import Trainer


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(WORKER_THREAD_PREFIX)]


def order_of(loader: DataLoader) -> list[int]:
    """The sample ids of one epoch, for a dataset whose first field is the sample id."""
    return [int(i) for ids, *_ in loader for i in ids.data]


def numbered(n: int) -> TensorDataset:
    """Sample i is (i, i * 10.0): easy to trace through batching and shuffling."""
    return TensorDataset(np.arange(n), np.arange(n, dtype=np.float32) * 10)


class Recording(Dataset):
    """Sample i is (i,); remembers which samples were read, and optionally sleeps or fails."""

    def __init__(self, n: int, delay=None, fail_at: int | None = None) -> None:
        self.n, self.delay, self.fail_at = n, delay, fail_at
        self.read: list[int] = []
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> tuple[int]:
        if self.delay is not None:
            time.sleep(self.delay(index))
        if index == self.fail_at:
            raise KeyError(f"sample {index} is corrupt")
        with self.lock:
            self.read.append(index)
            self.threads.add(threading.current_thread().name)
        return (index,)


def wait_until(condition, timeout: float = 10.0) -> bool:
    """Poll ``condition`` (never a timing assertion: just a generous deadline)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


# ----------------------------------------------------------------------------- Dataset


class TestDatasetProtocol:
    @pytest.mark.ungraded
    def test_anything_with_len_and_getitem_is_a_dataset(self):
        assert isinstance(numbered(3), Dataset)
        assert isinstance([np.zeros(2), np.ones(2)], Dataset)
        assert not isinstance(iter([1, 2]), Dataset)

    @pytest.mark.ungraded
    def test_the_loader_refuses_something_that_is_not_a_dataset(self):
        with pytest.raises(TypeError, match=r"__len__ and __getitem__.*generator"):
            DataLoader(x for x in range(3))


class TestTensorDataset:
    def test_sample_i_is_the_ith_row_of_every_array(self):
        x, y = np.arange(12.0).reshape(4, 3), np.array([3, 1, 4, 1])
        dataset = TensorDataset(x, y)
        assert len(dataset) == 4
        row, label = dataset[2]
        np.testing.assert_array_equal(row, [6.0, 7.0, 8.0])
        assert label == 4

    def test_negative_indices_count_from_the_end(self):
        assert numbered(5)[-1][0] == 4

    def test_out_of_range_is_an_index_error(self):
        with pytest.raises(IndexError, match="index 5 is out of range for 5 samples"):
            numbered(5)[5]
        with pytest.raises(IndexError):
            numbered(5)[-6]

    def test_index_must_be_an_int(self):
        with pytest.raises(TypeError, match="index must be an int, got slice"):
            numbered(5)[1:3]

    def test_accepts_tensors(self):
        dataset = TensorDataset(Tensor(np.ones((3, 2))), np.zeros(3))
        assert len(dataset) == 3 and dataset[0][0].shape == (2,)

    @pytest.mark.ungraded
    def test_arrays_must_agree_on_the_number_of_samples(self):
        with pytest.raises(ValueError, match=r"same first .* dimension.*\(4, 3\), \(5,\)"):
            TensorDataset(np.zeros((4, 3)), np.zeros(5))
        with pytest.raises(ValueError, match="same first"):
            TensorDataset(np.float32(1.0))
        with pytest.raises(ValueError, match="at least one array"):
            TensorDataset()


# ----------------------------------------------------------------------------- collate


class TestCollate:
    def test_tuples_of_samples_become_a_tuple_of_batch_tensors(self):
        samples = [(np.full((1, 2, 2), i, dtype=np.float32), i) for i in range(3)]
        images, labels = collate(samples)
        assert isinstance(images, Tensor) and isinstance(labels, Tensor)
        assert images.shape == (3, 1, 2, 2) and images.dtype == np.float32
        np.testing.assert_array_equal(images.data[:, 0, 0, 0], [0, 1, 2])
        assert labels.shape == (3,) and labels.dtype == np.int64

    @pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.int64])
    def test_integer_labels_become_int64(self, dtype):
        (labels,) = collate([(np.array(i, dtype=dtype),) for i in range(4)])
        assert labels.dtype == np.int64

    def test_float_arrays_keep_their_dtype_and_python_floats_become_float32(self):
        assert collate([np.zeros(2, dtype=np.float64)] * 2).dtype == np.float64
        assert collate([np.zeros(2, dtype=np.float32)] * 2).dtype == np.float32
        assert collate([0.5, 1.5]).dtype == np.float32
        assert collate([True, False]).dtype == np.bool_

    def test_single_arrays_give_a_single_tensor(self):
        batch = collate([np.arange(3), np.arange(3)])
        assert isinstance(batch, Tensor) and batch.shape == (2, 3)

    def test_samples_of_different_shapes_cannot_be_stacked(self):
        with pytest.raises(
            ValueError, match=r"collate \(field 0\): .*different shapes \[\(2,\), \(3,\)\]"
        ):
            collate([(np.zeros(2), 0), (np.zeros(3), 1)])

    def test_samples_must_have_the_same_structure(self):
        with pytest.raises(ValueError, match="disagree in structure"):
            collate([(np.zeros(2), 0), (np.zeros(2),)])

    def test_empty_and_non_numeric_batches_are_errors(self):
        with pytest.raises(ValueError, match="no samples"):
            collate([])
        with pytest.raises(TypeError, match="cannot batch samples of dtype <U"):
            collate(["cat", "dog"])


# ----------------------------------------------------------------------------- batching


class TestBatching:
    def test_without_shuffle_batches_follow_the_dataset_in_order(self):
        loader = DataLoader(numbered(10), batch_size=4)
        batches = list(loader)
        assert len(loader) == 3 == len(batches)
        assert [b[0].shape for b in batches] == [(4,), (4,), (2,)]
        assert order_of(loader) == list(range(10))
        ids, values = batches[1]
        assert ids.dtype == np.int64 and values.dtype == np.float32
        np.testing.assert_array_equal(values.data, [40, 50, 60, 70])

    def test_drop_last_drops_the_short_final_batch(self):
        loader = DataLoader(numbered(10), batch_size=4, drop_last=True)
        assert len(loader) == 2
        assert [b[0].shape for b in loader] == [(4,), (4,)]

    def test_exact_multiple_and_oversized_batches(self):
        assert len(DataLoader(numbered(8), batch_size=4, drop_last=True)) == 2
        assert len(DataLoader(numbered(3), batch_size=8)) == 1
        assert list(DataLoader(numbered(3), batch_size=8, drop_last=True)) == []

    def test_default_batch_size_is_one(self):
        assert len(DataLoader(numbered(5))) == 5

    def test_a_dataset_of_single_arrays_yields_single_tensors(self):
        batches = list(DataLoader([np.zeros(3), np.ones(3), np.ones(3)], batch_size=2))
        assert isinstance(batches[0], Tensor) and batches[0].shape == (2, 3)

    @pytest.mark.parametrize(
        ("name", "value"), [("batch_size", 0), ("num_workers", -1), ("prefetch", 0)]
    )
    @pytest.mark.ungraded
    def test_bad_arguments_are_rejected(self, name, value):
        with pytest.raises(ValueError, match=f"DataLoader: {name} must be >= "):
            DataLoader(numbered(4), **{name: value})

    @pytest.mark.parametrize(
        ("kwargs", "error", "problem"),
        [
            (dict(shuffle="no"), TypeError, "shuffle must be True or False, got 'no'"),
            (dict(drop_last=None), TypeError, "drop_last must be True or False, got None"),
            (dict(shuffle=True, seed="abc"), TypeError, "seed must be an int, got str 'abc'"),
            (dict(batch_size=2.5), TypeError, "batch_size must be an int, got float 2.5"),
            (dict(shuffle=True, seed=1.5), TypeError, "seed must be an int, got float 1.5"),
            (dict(shuffle=True, seed=-1), ValueError, "seed must be >= 0, got -1"),
        ],
    )
    @pytest.mark.ungraded
    def test_mistyped_arguments_are_rejected_when_the_loader_is_made(self, kwargs, error, problem):
        with pytest.raises(error, match=f"^DataLoader: {problem}"):
            DataLoader(numbered(4), **kwargs)

    @pytest.mark.parametrize(("epoch", "error"), [("1", TypeError), (-2, ValueError)])
    @pytest.mark.ungraded
    def test_set_epoch_takes_a_count(self, epoch, error):
        with pytest.raises(error, match=r"^DataLoader.set_epoch: epoch must be"):
            DataLoader(numbered(4), shuffle=True, seed=0).set_epoch(epoch)

    @pytest.mark.ungraded
    def test_collate_names_what_it_got_instead_of_samples(self):
        with pytest.raises(TypeError, match=r"^collate: expected a list of samples, got NoneType"):
            collate(None)


class TestShuffling:
    def test_each_epoch_is_a_permutation_of_every_sample(self):
        loader = DataLoader(numbered(50), batch_size=8, shuffle=True, seed=0)
        first, second = order_of(loader), order_of(loader)
        assert sorted(first) == sorted(second) == list(range(50))
        assert first != list(range(50))

    def test_different_epochs_give_different_orders(self):
        loader = DataLoader(numbered(50), batch_size=8, shuffle=True, seed=0)
        orders = [order_of(loader) for _ in range(3)]
        assert orders[0] != orders[1] != orders[2] != orders[0]

    def test_the_same_seed_gives_the_same_sequence_of_epochs(self):
        a = DataLoader(numbered(50), batch_size=8, shuffle=True, seed=3)
        b = DataLoader(numbered(50), batch_size=5, shuffle=True, seed=3)
        assert [order_of(a) for _ in range(3)] == [order_of(b) for _ in range(3)]

    def test_different_seeds_give_different_orders(self):
        a = DataLoader(numbered(50), shuffle=True, seed=1)
        b = DataLoader(numbered(50), shuffle=True, seed=2)
        assert order_of(a) != order_of(b)

    def test_set_epoch_resumes_a_seeded_run(self):
        run = DataLoader(numbered(30), batch_size=4, shuffle=True, seed=9)
        epochs = [order_of(run) for _ in range(3)]
        resumed = DataLoader(numbered(30), batch_size=4, shuffle=True, seed=9)
        resumed.set_epoch(2)
        assert order_of(resumed) == epochs[2]
        assert [len(b) for b in resumed.batch_indices(0)] == [4] * 7 + [2]

    def test_without_a_seed_manual_seed_makes_it_reproducible(self):
        manual_seed(5)
        first = order_of(DataLoader(numbered(40), shuffle=True))
        manual_seed(5)
        assert order_of(DataLoader(numbered(40), shuffle=True)) == first
        assert sorted(first) == list(range(40)) and first != list(range(40))

    def test_drop_last_with_shuffle_still_drops_only_the_remainder(self):
        loader = DataLoader(numbered(10), batch_size=3, shuffle=True, seed=0, drop_last=True)
        ids = order_of(loader)
        assert len(ids) == 9 and len(set(ids)) == 9


# ----------------------------------------------------------------------------- prefetch


class TestPrefetch:
    def test_workers_yield_exactly_the_batches_of_the_serial_loader(self):
        """Slow samples make workers finish out of order; the batches still come in order."""
        dataset = numbered(60)
        slow = Recording(60, delay=lambda i: 0.003 * (i % 3 == 0))
        plain = DataLoader(dataset, batch_size=4, shuffle=True, seed=0, drop_last=True)
        threaded = DataLoader(
            dataset, batch_size=4, shuffle=True, seed=0, drop_last=True, num_workers=3, prefetch=4
        )
        threaded_slow = DataLoader(slow, batch_size=4, shuffle=True, seed=0, num_workers=3)
        for _ in range(2):
            expected = list(plain)
            got = list(threaded)
            assert len(got) == len(expected) == len(threaded)
            for (ids, values), (ids2, values2) in zip(expected, got):
                np.testing.assert_array_equal(ids.data, ids2.data)
                np.testing.assert_array_equal(values.data, values2.data)
            assert [int(i) for (ids,) in threaded_slow for i in ids.data] == [
                int(i)
                for batch in threaded_slow.batch_indices(threaded_slow.epoch - 1)
                for i in batch
            ]

    def test_samples_are_read_on_worker_threads(self):
        dataset = Recording(8)
        list(DataLoader(dataset, batch_size=2, num_workers=2))
        assert dataset.threads and all(n.startswith(WORKER_THREAD_PREFIX) for n in dataset.threads)
        assert sorted(dataset.read) == list(range(8))

    def test_at_most_prefetch_batches_are_loaded_ahead(self):
        dataset = Recording(20)
        loader = DataLoader(dataset, batch_size=1, num_workers=2, prefetch=3)
        batches = iter(loader)
        (first,) = next(batches)
        assert first.data.tolist() == [0]
        # the consumer holds batch 0; three more are loaded, then the workers stop
        assert wait_until(lambda: len(dataset.read) == 4)
        time.sleep(0.05)
        assert sorted(dataset.read) == [0, 1, 2, 3]
        batches.close()

    def test_leaving_the_loop_early_stops_the_threads(self):
        loader = DataLoader(Recording(100), batch_size=2, num_workers=2)
        for i, _ in enumerate(loader):
            assert worker_threads()
            if i == 3:
                break
        gc.collect()
        assert wait_until(lambda: not worker_threads())

    def test_an_abandoned_iterator_cleans_up_when_collected(self):
        batches = iter(DataLoader(Recording(100), batch_size=2, num_workers=2))
        next(batches)
        del batches
        gc.collect()
        assert wait_until(lambda: not worker_threads())

    def test_an_error_in_a_worker_reaches_the_consumer_at_its_batch(self):
        dataset = Recording(20, fail_at=5)
        seen = []
        with pytest.raises(KeyError, match="sample 5 is corrupt"):
            for (ids,) in DataLoader(dataset, batch_size=2, num_workers=2):
                seen.append(ids.data.tolist())
        assert seen == [[0, 1], [2, 3]]
        assert wait_until(lambda: not worker_threads())

    def test_no_threads_without_workers(self):
        dataset = Recording(4)
        list(DataLoader(dataset, batch_size=2))
        assert dataset.threads == {threading.current_thread().name}


# ----------------------------------------------------------------------------- datasets


class TestShippedDatasets:
    def test_tinydigits_gives_channel_first_images_and_int64_labels(self):
        train, test = TinyDigitsDataset("train"), TinyDigitsDataset("test")
        assert (len(train), len(test)) == (1438, 359)
        image, label = train[0]
        assert image.shape == (1, 8, 8) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
        assert label.dtype == np.int64 and 0 <= label <= 9
        images, labels = next(iter(DataLoader(train, batch_size=32)))
        assert images.shape == (32, 1, 8, 8) and labels.dtype == np.int64

    def test_tinydigits_flattened(self):
        assert TinyDigitsDataset("test", flatten=True)[0][0].shape == (64,)

    @pytest.mark.ungraded
    def test_unknown_split_is_an_error(self):
        with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
            TinyDigitsDataset("validation")

    def test_mnist_from_idx_files(self, tmp_path):
        images = np.arange(3 * 28 * 28, dtype=np.uint32).reshape(3, 28, 28) % 256
        (tmp_path / "t10k-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 0x803, 3, 28, 28) + images.astype(np.uint8).tobytes()
        )
        (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 0x801, 3) + bytes([7, 0, 9])
        )
        dataset = MNISTDataset(tmp_path, "test")
        assert len(dataset) == 3 and dataset[0][0].shape == (1, 28, 28) and dataset[2][1] == 9
        assert MNISTDataset(tmp_path, "test", flatten=True)[0][0].shape == (784,)

    def test_cifar10_from_binary_batches(self, tmp_path):
        records = b"".join(bytes([label]) + bytes(3072) for label in (3, 8))
        (tmp_path / "test_batch.bin").write_bytes(records)
        dataset = CIFAR10Dataset(tmp_path, "test")
        assert len(dataset) == 2 and dataset[0][0].shape == (3, 32, 32) and dataset[1][1] == 8


# ----------------------------------------------------------------------------- it trains


def test_the_loader_replaces_module_07s_manual_batching():
    """Batches from the DataLoader feed Module 07's train_step; the loss goes down."""
    loader = DataLoader(
        TinyDigitsDataset("train", flatten=True), batch_size=64, shuffle=True, seed=0
    )
    model = Linear(64, 10)
    trainer = Trainer(model, SGD(model.parameters(), lr=0.5), CrossEntropyLoss(), progress=False)
    epoch_losses = []
    for _ in range(3):
        losses = [trainer.train_step(images, labels) for images, labels in loader]
        epoch_losses.append(np.mean(losses))
    assert epoch_losses[2] < 0.5 * epoch_losses[0]
