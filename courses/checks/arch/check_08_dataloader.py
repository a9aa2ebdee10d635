"""Graded checks of Module 08 · DataLoader: datasets, collation, batches, shuffles, prefetch."""

import numpy as np

from tinytorch.data import DataLoader, TensorDataset, collate

FEATURES = np.arange(30.0).reshape(10, 3)
LABELS = np.arange(10) % 3


def _data(batch):
    return [part.data for part in batch] if isinstance(batch, tuple) else batch.data


def check_tensor_dataset():
    """Length and samples (the i-th rows) of a TensorDataset, negative indices included."""
    dataset = TensorDataset(FEATURES, LABELS)
    return {"length": len(dataset), "third": list(dataset[3]), "last": list(dataset[-1])}


def check_collate():
    """Tuples of samples become a tuple of batches (labels int64); single arrays one batch."""
    features, labels = collate([(FEATURES[i], LABELS[i]) for i in (4, 1, 7)])
    single = collate([FEATURES[0], FEATURES[9]])
    return {
        "features": features.data,
        "labels": labels.data,
        "label_dtype": str(labels.data.dtype),
        "single": single.data,
    }


def check_batches_in_order():
    """Unshuffled batches of four, with and without the last partial batch."""
    dataset = TensorDataset(FEATURES, LABELS)
    keep, drop = (
        DataLoader(dataset, batch_size=4),
        DataLoader(dataset, batch_size=4, drop_last=True),
    )
    return {
        "lengths": [len(keep), len(drop)],
        "keep": [_data(batch) for batch in keep],
        "drop": [_data(batch) for batch in drop],
    }


def check_seeded_shuffle():
    """A seeded shuffle: every sample once per epoch, new order each epoch, same run twice."""
    dataset = TensorDataset(FEATURES, LABELS)

    def epochs(loader):
        return [np.concatenate(loader.batch_indices(e)).tolist() for e in range(3)]

    first = epochs(DataLoader(dataset, batch_size=3, shuffle=True, seed=11))
    again = epochs(DataLoader(dataset, batch_size=3, shuffle=True, seed=11))
    sizes = [
        len(b) for b in DataLoader(dataset, batch_size=3, shuffle=True, seed=11).batch_indices(0)
    ]
    return {
        "permutations": all(sorted(order) == list(range(10)) for order in first),
        "reshuffled": first[0] != first[1] or first[1] != first[2],
        "reproducible": first == again,
        "sizes": sizes,
    }


def check_prefetched_batches_keep_their_order():
    """Worker threads load ahead, yet batches arrive exactly as without workers."""
    dataset = TensorDataset(FEATURES, LABELS)
    loader = DataLoader(dataset, batch_size=3, num_workers=2, prefetch=2)
    return [_data(batch) for batch in loader]
