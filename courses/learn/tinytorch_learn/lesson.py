"""The test cell of every lesson: find this module's tests wherever the lesson runs, run them.

A lesson ends its Use section with::

    from tinytorch_learn.lesson import run_tests

    run_tests("03")

The tests are found through the curriculum manifest above the lesson (a student tree, a
course bundle whose notebooks sit in ``lessons/<tier>/``, or the repository), so the
cell works wherever Jupyter was started. Set ``TINYTORCH_TESTS`` to a folder of test
files to look there instead.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tinytorch_learn import workspace


def module_tests(number: str | int) -> list[Path]:
    """The test files of module ``number``, found from the working folder upwards."""
    if "TINYTORCH_TESTS" in os.environ:
        folder = Path(os.environ["TINYTORCH_TESTS"])
        found = sorted(folder.glob(f"test_{int(number):02d}_*.py"))
        if not found:
            raise FileNotFoundError(
                f"TINYTORCH_TESTS={folder} holds no test_{int(number):02d}_*.py"
            )
        return found
    tree = workspace.find()
    return tree.tests(tree.module(number))


def run_tests(number: str | int) -> None:
    """Run module ``number``'s tests here; AssertionError naming the module if any fails."""
    import pytest

    # Hypothesis (used by some tests) keeps a cache folder: keep it out of the lessons.
    os.environ.setdefault(
        "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir(), "hypothesis"))
    )
    files = module_tests(number)
    code = pytest.main([*map(str, files), "-q", "-rN", "--color=no", "-p", "no:cacheprovider"])
    assert code == pytest.ExitCode.OK, (
        f"Module {int(number):02d}'s tests failed ({code!r}): the first failure above "
        f"says what to fix; `tinytorch test {int(number):02d}` gives the same answer in a terminal"
    )
