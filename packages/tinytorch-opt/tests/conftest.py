"""Shared fixtures for the optimization tier's tests.

Nothing here (or in the tests) asserts on time: timing functions are checked for the
structure of what they return, FLOP counts against hand calculations, statistics on
seeded synthetic samples.
"""

from __future__ import annotations

import numpy as np
import pytest

# Imported for its settings: hypothesis's profile (ci, or HYPOTHESIS_PROFILE=thorough) for
# every property of this tier, and hypothesis's caches kept out of the tree under test.
from tinytorch import testing_strategies  # noqa: F401
from tinytorch.core import manual_seed
from tinytorch.datasets import load_tinydigits
from tinytorch.nn import CrossEntropyLoss, Dropout, Linear, ReLU, Sequential
from tinytorch.optim import AdamW, CosineAnnealingLR
from tinytorch.testing_fixtures import _seeded, pytest_configure, rng  # noqa: F401 (by name)
from tinytorch.training import Trainer


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """Run BLAS on one thread when threadpoolctl is available.

    On a shared 2-core machine, BLAS threads that wait for each other can make a small
    matmul 50x slower (Module 18's ``blas_threads`` lesson measures exactly that); the
    tests never time anything, but they should finish quickly.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="session")
def digits() -> dict[str, np.ndarray]:
    """TinyDigits standardized by training statistics, as Milestone 3 does."""
    (x_train, y_train), (x_test, y_test) = (
        load_tinydigits(split, flatten=True) for split in ("train", "test")
    )
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0) + 0.1
    return {
        "x_train": ((x_train - mean) / scale).astype(np.float32),
        "y_train": y_train,
        "x_test": ((x_test - mean) / scale).astype(np.float32),
        "y_test": y_test,
    }


@pytest.fixture(scope="session")
def m3(digits: dict[str, np.ndarray]) -> Sequential:
    """The M3 MLP (64 -> 256 -> 10, dropout 0.3), trained briefly once for every test that
    quantizes or prunes it (tests copy it before changing it): about 97.5% test accuracy."""
    manual_seed(0)
    model = Sequential(Linear(64, 256), ReLU(), Dropout(0.3), Linear(256, 10))
    optimizer = AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    trainer = Trainer(
        model,
        optimizer,
        CrossEntropyLoss(),
        scheduler=CosineAnnealingLR(optimizer, 10),
        progress=False,
    )
    trainer.fit(digits["x_train"], digits["y_train"], epochs=10, batch_size=64, seed=0)
    return model.eval()
