"""Shared fixtures for the architecture tier's tests.

The seeded state and ``rng`` come from ``tinytorch.testing_fixtures``, as in every tier.
"""

from __future__ import annotations

from tinytorch.testing_fixtures import _seeded, pytest_configure, rng  # noqa: F401 (by name)
