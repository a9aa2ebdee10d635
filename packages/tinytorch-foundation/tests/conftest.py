"""Shared fixtures for the foundation tier's tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tinytorch.core import activate_if_implemented
from tinytorch.core.tensor import DORMANT, set_gradient_engine
from tinytorch.testing_fixtures import _seeded, pytest_configure, rng  # noqa: F401 (by name)


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


_PEAK = """
import resource, sys
{setup}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    {call}
except ValueError as error:
    print(error, file=sys.stderr)
else:
    sys.exit("the file was accepted")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


# Peak memory a refusal may cost: 4x the 7.8 MB that 10,000 real MNIST images take. The
# hostile files in the tests would cost from 512 MiB to terabytes to a reader that
# believed them.
REFUSAL_BUDGET = 32 << 20


@pytest.fixture
def refused_in_bounded_memory() -> Callable[[str, str, Path], str]:
    """Run ``call`` (after ``setup``) in a fresh Python that must refuse a hostile file.

    Asserts that peak resident memory grew by less than ``REFUSAL_BUDGET`` during the
    call and returns the ValueError's message. A child process, because peak RSS only
    ever grows: an earlier test would hide a later one's peak.
    """
    pytest.importorskip("resource", reason="peak RSS is measured with the resource module")

    def run(setup: str, call: str, cwd: Path) -> str:
        code = _PEAK.format(setup=setup, call=call)
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        kib = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
        grew = int(result.stdout) * kib
        assert grew < REFUSAL_BUDGET, f"peak memory grew by {grew >> 20} MiB: {result.stderr}"
        return result.stderr

    return run
