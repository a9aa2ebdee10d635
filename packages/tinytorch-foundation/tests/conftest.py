"""Shared fixtures for the foundation tier's tests."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core import activate_if_implemented, manual_seed
from tinytorch.core.tensor import DORMANT, set_gradient_engine


@pytest.fixture(params=["dormant", "active"])
def autograd_mode(request: pytest.FixtureRequest):
    """Run a test twice: with gradients dormant (as in Modules 01–04) and switched on.

    Modules 01–04 use it for every test, which is the proof that switching autograd on
    in Module 05 changes nothing those modules promised. "Dormant" is exactly the state
    Module 01 ships: the gradient hooks hold ``DORMANT``.
    """
    if request.param == "dormant":
        set_gradient_engine(DORMANT)
    elif not activate_if_implemented():
        pytest.skip("autograd (Module 05) is not implemented yet")
    try:
        yield request.param
    finally:
        activate_if_implemented()


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state."""
    manual_seed(0)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
