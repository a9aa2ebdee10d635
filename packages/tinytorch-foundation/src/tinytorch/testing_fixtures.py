"""tinytorch.testing_fixtures — the pytest fixtures and hooks every tier's tests share.

Each tier's ``tests/conftest.py`` imports them by name (pytest finds fixtures and hooks
in a conftest's namespace, wherever they were defined), so the random state every test
starts from and the ``ungraded`` marker are defined once for the three tiers.

Imported only by tests: pytest is a test dependency of every tier, never a runtime one,
so nothing a tier runs imports this module.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tinytorch.core import manual_seed


def pytest_configure(config: pytest.Config) -> None:
    # Tests of code the student tree provides pass before a learner writes anything:
    # they count as passing tests, never as points (grading and `tinytorch grade`).
    config.addinivalue_line("markers", "ungraded: passes on the untouched student tree")


@pytest.fixture(autouse=True)
def _seeded() -> Iterator[None]:
    """Every test starts from the same state of tinytorch's shared generator."""
    manual_seed(0)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    """A private NumPy generator for test data (independent of tinytorch's)."""
    return np.random.default_rng(1234)
