"""Shared fixtures for the optimization tier's tests.

Nothing here (or in the tests) asserts on time: timing functions are checked for the
structure of what they return, FLOP counts against hand calculations, statistics on
seeded synthetic samples.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core import manual_seed


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


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state."""
    manual_seed(0)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
