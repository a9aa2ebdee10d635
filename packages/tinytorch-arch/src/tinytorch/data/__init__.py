"""tinytorch.data — Module 08: datasets and the DataLoader (architecture tier)."""

from tinytorch.data.dataloader import (
    Batch,
    CIFAR10Dataset,
    DataLoader,
    Dataset,
    MNISTDataset,
    TensorDataset,
    TinyDigitsDataset,
    collate,
)

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
