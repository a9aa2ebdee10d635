"""PyTorch's beginner quickstart runs on tinytorch with nothing changed but its imports.

``scripts/quickstart.py`` is that script, written for TinyDigits: data and DataLoaders,
a model class, ``print(model)``, the train and test loops, accuracy counted with
``==``/``.type``/``.sum().item()``, ``save``/``load`` of the state dict and a prediction
named by list index. It runs here as a learner would run it, in a fresh Python process
in an empty folder.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.data import DataLoader, TensorDataset
from tinytorch.training import load

SCRIPT = Path(__file__).parent / "scripts" / "quickstart.py"

MODEL_PRINTOUT = """\
NeuralNetwork(
  (flatten): Flatten(start_dim=1, end_dim=-1)
  (linear_relu_stack): Sequential(
    (0): Linear(in_features=64, out_features=64, bias=True)
    (1): ReLU()
    (2): Linear(in_features=64, out_features=64, bias=True)
    (3): ReLU()
    (4): Linear(in_features=64, out_features=10, bias=True)
  )
)
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[str, Path]:
    """The script's output and the folder it ran in."""
    folder = tmp_path_factory.mktemp("quickstart")
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, folder


def test_the_script_imports_nothing_but_tinytorch() -> None:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    modules = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert modules and all(name.split(".")[0] == "tinytorch" for name in modules), modules


def test_it_prints_the_batch_shapes_and_the_model_as_pytorch_does(run) -> None:
    output, _ = run
    assert "Shape of X [N, C, H, W]: (64, 1, 8, 8)\nShape of y: (64,) int64\n" in output
    assert MODEL_PRINTOUT in output


def test_it_trains_past_90_percent_test_accuracy(run) -> None:
    output, _ = run
    accuracies = [float(a) for a in re.findall(r"Accuracy: ([0-9.]+)%", output)]
    losses = [float(v) for v in re.findall(r"loss: +([0-9.]+) +\[", output)]
    assert len(accuracies) == 10 and accuracies[-1] > 90.0
    assert losses[-1] < losses[0] / 4
    assert "[ 1344/ 1438]" in output  # len(dataloader.dataset) and len(X)


def test_the_saved_state_dict_loads_and_names_a_prediction(run) -> None:
    output, folder = run
    state = load(folder / "model.pth")
    assert sorted(state) == [
        f"linear_relu_stack.{i}.{p}" for i in (0, 2, 4) for p in ("bias", "weight")
    ]
    assert state["linear_relu_stack.0.weight"].shape == (64, 64)
    match = re.search(r'Predicted: "(\w+)", Actual: "(\w+)"', output)
    names = "zero one two three four five six seven eight nine".split()
    assert match is not None and match[1] in names and match[2] in names


def test_a_loader_knows_its_length_and_its_dataset() -> None:
    dataset = TensorDataset(np.zeros((10, 2)), np.arange(10))
    loader = DataLoader(dataset, batch_size=4)
    assert loader.dataset is dataset and len(loader) == 3 and len(loader.dataset) == 10
    x, y = next(iter(loader))
    assert isinstance(x, Tensor) and x.to("cpu") is x and len(x) == 4
    assert y.dtype == np.int64 and ["a", "b", "c"][y[2]] == "c"
