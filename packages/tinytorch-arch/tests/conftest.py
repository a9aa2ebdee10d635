"""Shared fixtures for the architecture tier's tests."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core import manual_seed


def pytest_configure(config: pytest.Config) -> None:
    # Tests of code the student tree provides pass before a learner writes anything:
    # they count as passing tests, never as points (grading and `tinytorch grade`).
    config.addinivalue_line("markers", "ungraded: passes on the untouched student tree")


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same state of tinytorch's shared generator."""
    manual_seed(0)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    """A private NumPy generator for test data (independent of tinytorch's)."""
    return np.random.default_rng(1234)
