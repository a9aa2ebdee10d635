"""What lessons share: the test cell that runs a module's tests, and a trained model to start from.

A lesson ends its Use section with::

    from tinytorch_learn.lesson import run_tests

    run_tests("03")

The tests are found through the curriculum manifest above the lesson (a student tree, a
course bundle whose notebooks sit in ``lessons/<tier>/``, or the repository), so the
cell works wherever Jupyter was started. Set ``TINYTORCH_TESTS`` to a folder of test
files to look there instead.

The optimization lessons (15, 16, 20) quantize, prune and benchmark one model, the
Milestone 3 MLP trained on TinyDigits: ``trained_tinydigits_mlp()`` trains it the same way
for each of them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tinytorch_learn import workspace

if TYPE_CHECKING:
    import numpy as np

    from tinytorch.nn import Sequential


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


def trained_tinydigits_mlp() -> tuple[Sequential, tuple[np.ndarray, ...]]:
    """The Milestone 3 MLP (64 → 256 → 10) trained on TinyDigits, and the data it saw.

    Seeded (``manual_seed(0)``), 10 epochs of Adam at 3e-3 in batches of 64: under a
    second, about 97% test accuracy. Returns the model and ``(x_train, y_train, x_test,
    y_test)``, the images flattened to 64 features. tinytorch is imported here, not at the
    top: the rest of this package runs without the tiers.
    """
    from tinytorch.core import manual_seed
    from tinytorch.datasets import load_tinydigits
    from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
    from tinytorch.optim import Adam
    from tinytorch.training import Trainer

    x_train, y_train = load_tinydigits("train", flatten=True)
    x_test, y_test = load_tinydigits("test", flatten=True)
    manual_seed(0)
    model = Sequential(Linear(64, 256), ReLU(), Linear(256, 10))
    Trainer(model, Adam(model.parameters(), lr=3e-3), CrossEntropyLoss(), progress=False).fit(
        x_train, y_train, epochs=10, batch_size=64
    )
    return model, (x_train, y_train, x_test, y_test)
