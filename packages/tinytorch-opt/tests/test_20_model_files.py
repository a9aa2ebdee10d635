"""Module 20 · Capstone — a submitted model as data, the specification as tests.

A model saved with ``save_model`` loads back as the same function (the same outputs, the
same size); only layers on the allow-list are written or built; and a file whose arrays
do not fit the architecture it names is refused, naming what does not fit. The models
are what a capstone submits: optimized with Modules 15-17.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinytorch.capstone import (
    Generation,
    Inputs,
    ModelFileError,
    load_model,
    models_folder,
    save_model,
)
from tinytorch.capstone.models import MAX_DEPTH, arrays
from tinytorch.core import Tensor, manual_seed, no_grad
from tinytorch.nn import Dropout, Linear, Module, ReLU, Sequential
from tinytorch.perf import model_size_bytes, prune_magnitude, quantize_model, sparse_size_bytes
from tinytorch.text import GPT, BPETokenizer
from tinytorch.training import save
from tinytorch.vision import Conv2d, Flatten, MaxPool2d

X = np.random.default_rng(0).random((16, 64), dtype=np.float32)
DIGITS = {"heldout": "tinydigits", "inputs": Inputs((64,))}


def mlp() -> Sequential:
    manual_seed(0)
    return Sequential(Linear(64, 32), ReLU(), Dropout(0.1), Linear(32, 10)).eval()


def cnn() -> Sequential:
    manual_seed(0)
    return Sequential(
        Conv2d(1, 4, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(4 * 4 * 4, 10)
    ).eval()


def int8() -> Module:
    return quantize_model(mlp(), X)


def outputs(model: Module, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return model(Tensor(x)).data


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (mlp, (64,)),
        (int8, (64,)),
        (cnn, (1, 8, 8)),
        (lambda: quantize_model(cnn(), X.reshape(16, 1, 8, 8)), (1, 8, 8)),
    ],
    ids=["mlp", "mlp-int8", "cnn", "cnn-int8"],
)
def test_a_model_loads_back_as_the_same_function(tmp_path: Path, make, shape):
    model, mean, scale = make(), np.full(shape, 0.5, np.float32), np.full(shape, 2.0, np.float32)
    path = models_folder(tmp_path / "entry.json") / "optimized.json"
    save_model(path, model, "tinydigits", Inputs(shape, mean, scale))
    saved = load_model(tmp_path / "entry.model" / "optimized.json")
    x = X.reshape(16, *shape)
    assert np.array_equal(outputs(saved.model, x), outputs(model, x))
    assert saved.size_bytes == model_size_bytes(model) and saved.heldout == "tinydigits"
    assert np.array_equal(saved.inputs.prepare(X), ((x - 0.5) / 2.0).astype(np.float32))


def test_a_pruned_model_can_be_sized_as_csr(tmp_path: Path):
    model = mlp()
    prune_magnitude(model, 0.9)
    save_model(tmp_path / "pruned.json", model, size="csr", **DIGITS)
    assert load_model(tmp_path / "pruned.json").size_bytes == sparse_size_bytes(model)


def test_a_gpt_loads_back_with_its_tokenizer_and_way_of_generating(tmp_path: Path):
    tokenizer = BPETokenizer().train(["what is two plus two", "four", "hello there"], 40)
    manual_seed(0)
    model = GPT(tokenizer.vocab_size, 16, 2, 1, 32).eval()
    for cache in (False, True):
        save_model(
            tmp_path / "gpt.json", model, "tinytalks", generation=Generation(tokenizer, cache=cache)
        )
        saved = load_model(tmp_path / "gpt.json")
        ids = np.array([saved.generation.prompt_ids("what is two plus two")])
        assert ids[0, 0] == tokenizer.bos_id
        expected = model.generate(ids, 6, temperature=0.0)
        assert np.array_equal(saved.generation.generate(saved.model, ids, 6, stop=False), expected)
    answer = [*tokenizer.encode(" four "), tokenizer.eos_id, *tokenizer.encode("hello")]
    assert saved.generation.answer(answer) == "four"


def test_only_layers_on_the_list_are_written(tmp_path: Path):
    class Mine(Module):
        def forward(self, x):
            return x

    with pytest.raises(ModelFileError, match=r"cannot hold a Mine; it holds Sequential and"):
        save_model(tmp_path / "m.json", Sequential(int8(), Mine()), **DIGITS)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ModelFileError, match=r"give inputs \(a classifier\) or generation"):
        save_model(tmp_path / "m.json", int8(), "tinydigits")


@pytest.mark.parametrize(
    ("architecture", "problem"),
    [
        ({"type": "os.system", "args": {"command": "ls"}}, "'os.system' is not a layer"),
        ({"type": "Linear", "args": {"in_features": 64, "bias": True, "x": 1}}, "Linear.*failed"),
        ({"type": "Linear", "args": {"in_features": 0, "out_features": 1}}, "in_features"),
        ({"type": "Sequential", "layers": {"0": {}}}, "exactly .type. and .layers."),
        ({"type": "Linear", "args": [64, 10]}, "has .type. and .args."),
    ],
)
def test_a_file_is_refused_before_anything_but_its_allow_listed_layers_is_built(
    tmp_path: Path, architecture, problem
):
    save_model(tmp_path / "m.json", int8(), **DIGITS)
    document = json.loads((tmp_path / "m.json").read_text())
    document["architecture"] = architecture
    (tmp_path / "m.json").write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match=problem):
        load_model(tmp_path / "m.json")


def test_sequentials_nest_only_so_deep(tmp_path: Path):
    save_model(tmp_path / "m.json", int8(), **DIGITS)
    document = json.loads((tmp_path / "m.json").read_text())
    for _ in range(MAX_DEPTH):
        document["architecture"] = {"type": "Sequential", "layers": [document["architecture"]]}
    (tmp_path / "m.json").write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match=f"nested more than {MAX_DEPTH} deep"):
        load_model(tmp_path / "m.json")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda a: a.pop("3.bias"), "should hold"),
        (lambda a: a.update(extra=np.zeros(3, np.float32)), "should hold"),
        (lambda a: a.update({"0.weight.data": np.zeros((64, 33), np.int8)}), "data should be"),
        (lambda a: a.update({"0.weight.data": np.zeros((64, 32), np.float32)}), r"int8 \(64, 32\)"),
        (lambda a: a.update({"0.weight.data": np.zeros((4096, 4096), np.int8)}), "more than"),
    ],
    ids=["missing", "extra", "shape", "dtype", "too-large"],
)
def test_arrays_that_do_not_fit_the_architecture_are_refused(tmp_path: Path, change, problem):
    model = int8()
    save_model(tmp_path / "m.json", model, **DIGITS)
    stored = {name: np.asarray(getattr(holder, part)) for name, holder, part in arrays(model)}
    change(stored)
    save(stored, tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match=problem):
        load_model(tmp_path / "m.json")
