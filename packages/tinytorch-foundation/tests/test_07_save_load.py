"""Module 07 · Training — ``save`` and ``load``: PyTorch's ``torch.save``/``torch.load``, safely.

``save(model.state_dict(), "model.pth")`` and ``model.load_state_dict(load("model.pth"))``
work as in PyTorch's "Save and Load the Model" tutorial, for state dicts and any nesting
of dicts, lists and tuples around tensors, arrays, numbers, strings and None. The file
is an ``.npz`` archive plus a JSON structure, written atomically; ``load`` checks every
entry before reading it and refuses any file ``save`` did not write — pickle never runs.
"""

from __future__ import annotations

import json
import math
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.nn import Linear, Module, Parameter, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.training import CheckpointError, load, save, save_checkpoint


def model() -> Sequential:
    return Sequential(Linear(4, 8), ReLU(), Linear(8, 3))


def rewrite_meta(path: Path, change) -> None:
    """Rewrite the JSON document of a saved file through ``change(meta) -> meta``."""
    with np.load(path) as archive:
        entries = dict(archive)
    meta = change(json.loads(entries["meta"].tobytes()))
    entries["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with path.open("wb") as file:
        np.savez(file, **entries)


def nested(depth: int) -> list:
    """``[[...[1]...]]``, ``depth`` lists deep."""
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value  # type: ignore[return-value]


# ----------------------------------------------------------------------------- round trips


def test_a_state_dict_round_trips_into_a_fresh_model(tmp_path) -> None:
    trained, fresh = model(), model()
    save(trained.state_dict(), tmp_path / "model.pth")
    fresh.load_state_dict(load(tmp_path / "model.pth", weights_only=True))
    x = Tensor(np.random.default_rng(0).standard_normal((5, 4)))
    np.testing.assert_array_equal(fresh(x).data, trained(x).data)


def test_the_file_is_exactly_the_name_given(tmp_path) -> None:
    save({"a": np.zeros(2)}, tmp_path / "model.pth")
    assert [p.name for p in tmp_path.iterdir()] == ["model.pth"]
    assert zipfile.is_zipfile(tmp_path / "model.pth")  # an .npz archive whatever its name


def test_containers_numbers_and_strings_keep_their_types(tmp_path) -> None:
    obj = {
        "name": "mlp",
        "epochs": 3,
        "lr": 0.5,
        "nan": math.nan,
        "done": True,
        "nothing": None,
        "shape": (2, [3, (4,)]),
        7: "an int key",
        "nested": {"deeper": [{"x": 1.0}]},
    }
    save(obj, tmp_path / "f")
    back = load(tmp_path / "f")
    assert back.keys() == obj.keys() and math.isnan(back.pop("nan"))
    obj.pop("nan")
    assert back == obj
    assert isinstance(back["shape"], tuple) and isinstance(back["shape"][1], list)


def test_tensors_arrays_and_numpy_scalars_keep_dtype_shape_and_kind(tmp_path) -> None:
    obj = {
        "float64": Tensor([[1.0, 2.0]], dtype=np.float64),
        "labels": Tensor([3, 1], dtype=np.int64),
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "scalar": np.float32(2.5),
        "leaf": Tensor([1.0], requires_grad=True),
        "weight": Parameter(np.ones((2, 2))),
    }
    save(obj, tmp_path / "f")
    back = load(tmp_path / "f")
    for key in ("float64", "labels", "leaf"):
        assert type(back[key]) is Tensor and back[key].dtype == obj[key].dtype
        np.testing.assert_array_equal(back[key].data, obj[key].data)
    assert back["leaf"].requires_grad and not back["labels"].requires_grad
    assert type(back["weight"]) is Parameter and back["weight"].requires_grad
    assert isinstance(back["mask"], np.ndarray) and back["mask"].dtype == np.bool_
    assert back["empty"].shape == (0, 3)
    assert type(back["scalar"]) is np.float32 and back["scalar"] == 2.5


def test_loaded_arrays_are_writable_copies(tmp_path) -> None:
    save({"w": np.ones(3), "t": Tensor([1.0])}, tmp_path / "f")
    back = load(tmp_path / "f")
    back["w"][0] = 5.0
    back["t"].data += 1.0
    assert back["w"][0] == 5.0 and back["t"].item() == 2.0


def test_a_tensor_saved_twice_is_stored_once_and_loads_as_one_object(tmp_path) -> None:
    shared = Tensor(np.arange(1000.0))
    save({"encoder": shared, "decoder": shared}, tmp_path / "f")
    with np.load(tmp_path / "f") as archive:
        assert sorted(archive.files) == ["0", "meta"]
    back = load(tmp_path / "f")
    assert back["encoder"] is back["decoder"]


def test_an_optimizer_state_dict_round_trips(tmp_path) -> None:
    net = model()
    optimizer = Adam(net.parameters(), lr=0.01)
    net(Tensor(np.ones((2, 4)))).sum().backward()
    optimizer.step()
    save(optimizer.state_dict(), tmp_path / "adam.pth")
    restored = Adam(net.parameters(), lr=0.01)
    restored.load_state_dict(load(tmp_path / "adam.pth"))
    assert restored.state_dict()["step_count"] == 1
    for index, buffers in optimizer.state_dict()["state"].items():
        for name, value in buffers.items():
            np.testing.assert_array_equal(restored.state_dict()["state"][index][name], value)


def test_a_failed_save_keeps_the_previous_file(tmp_path) -> None:
    path = tmp_path / "model.pth"
    save({"w": np.ones(2)}, path)
    with pytest.raises(TypeError):
        save({"w": np.zeros(2), "bad": object()}, path)
    np.testing.assert_array_equal(load(path)["w"], np.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["model.pth"]  # no temporary left


# ----------------------------------------------------------------------------- what save refuses


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (model, "cannot store a Sequential"),
        (lambda: len, "cannot store a builtin_function_or_method"),
        (lambda: {"text": np.array(["a", "b"])}, "dtype <U1"),
        (lambda: {"objects": np.array([None], dtype=object)}, "dtype object"),
        (lambda: {(1, 2): np.zeros(1)}, "keys must be str or int"),
        (lambda: {True: 1}, "keys must be str or int"),
    ],
    ids=["a model", "a function", "strings array", "object array", "tuple key", "bool key"],
)
def test_save_refuses_what_is_not_data(make, words, tmp_path) -> None:
    with pytest.raises(TypeError, match=words):
        save(make(), tmp_path / "f")
    assert not (tmp_path / "f").exists()


def test_save_refuses_a_container_that_holds_itself(tmp_path) -> None:
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested deeper"):
        save(loop, tmp_path / "f")


# ----------------------------------------------------------------------------- what load refuses


@pytest.fixture
def loads_its_own(tmp_path) -> None:
    """The load that refuses a file below reads what save wrote next to it."""
    save({"w": np.arange(3.0)}, tmp_path / "good.pth")
    np.testing.assert_array_equal(load(tmp_path / "good.pth")["w"], np.arange(3.0))


def test_a_missing_file(tmp_path, loads_its_own) -> None:
    with pytest.raises(FileNotFoundError, match="no file"):
        load(tmp_path / "missing.pth")


def write_pickle_zip(path: Path) -> None:
    """A zip laid out like a ``torch.save`` file: pickled objects plus raw storages."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": [1.0, 2.0]}))
        archive.writestr("archive/data/0", b"\0" * 8)
        archive.writestr("archive/version", "3\n")


@pytest.mark.parametrize(
    "make",
    [
        lambda path: write_pickle_zip(path),
        lambda path: path.write_bytes(pickle.dumps({"weight": np.ones(2)})),
        lambda path: path.write_bytes(np.random.default_rng(0).bytes(300)),
        lambda path: np.savez(path.open("wb"), weight=np.ones(2)),
        lambda path: np.savez(path.open("wb"), meta=np.frombuffer(b"not json", np.uint8)),
        lambda path: save_checkpoint(path, model()),
    ],
    ids=["torch.save zip", "pickle", "random bytes", "plain npz", "meta not JSON", "checkpoint"],
)
def test_a_file_that_save_did_not_write_is_refused(make, tmp_path, loads_its_own) -> None:
    path = tmp_path / "model.pth"
    make(path)
    with pytest.raises(CheckpointError, match=r"^load: ") as info:
        load(path)
    message = str(info.value)
    assert str(path) in message or "not a file written by save" in message


def test_the_refusal_says_what_load_reads(tmp_path, loads_its_own) -> None:
    path = tmp_path / "model.pt"
    write_pickle_zip(path)
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert "never unpickles" in str(info.value) and "torch.save" in str(info.value)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda meta: {**meta, "format": "something-else"}, "not a file written by save"),
        (lambda meta: {**meta, "version": 99}, "not a file written by save"),
        (lambda meta: {**meta, "extra": 1}, "not a file written by save"),
        (lambda meta: {**meta, "object": {"array": 5}}, "refers to array 5"),
        (lambda meta: {**meta, "object": {"pickle": "os.system"}}, "not part of the format"),
        (lambda meta: {**meta, "object": {"dict": [["k"]]}}, r"\[key, value\] pairs"),
        (lambda meta: {**meta, "object": {"tuple": 3}}, "must hold a list"),
        (lambda meta: {**meta, "object": {"tensor": 0, "requires_grad": 1}}, "true or false"),
        (lambda meta: {**meta, "object": {"scalar": 0}}, "has shape"),
        (lambda meta: {**meta, "object": None}, "never uses"),
        (lambda meta: {**meta, "object": nested(40)}, "deeper"),
    ],
    ids=[
        "format", "version", "extra key", "missing array", "unknown kind", "bad pair",
        "tuple of a number", "requires_grad", "scalar with a shape", "unused array", "too deep",
    ],
)  # fmt: skip
def test_a_tampered_structure_is_refused(change, words, tmp_path) -> None:
    path = tmp_path / "f"
    save({"w": np.ones((2, 2))}, path)
    rewrite_meta(path, change)
    with pytest.raises(CheckpointError, match=words):
        load(path)


def test_an_entry_save_never_writes_is_refused_before_it_is_read(tmp_path) -> None:
    path = tmp_path / "f"
    save({"w": np.ones(2)}, path)
    with np.load(path) as archive:
        entries = dict(archive)
    with path.open("wb") as file:
        np.savez(file, **entries, extra=np.ones(2))
    with pytest.raises(CheckpointError, match=r"'extra'.*save never writes"):
        load(path)


def test_max_bytes_bounds_what_load_reads(tmp_path) -> None:
    path = tmp_path / "f"
    save({"w": np.ones(10_000)}, path)
    with pytest.raises(CheckpointError, match="more than the 1,000"):
        load(path, max_bytes=1000)
    assert load(path, max_bytes=200_000)["w"].shape == (10_000,)


def test_pytorchs_load_arguments(tmp_path) -> None:
    path = tmp_path / "f"
    save({"w": np.ones(2)}, path)
    assert load(path, map_location="cpu")["w"].shape == (2,)
    with pytest.raises(ValueError, match="CPU only"):
        load(path, map_location="cuda:0")
    with pytest.raises(ValueError, match="never"):
        load(path, weights_only=False)


def test_load_state_dict_takes_the_tensors_of_a_loaded_file(tmp_path) -> None:
    class Net(Module):
        def __init__(self) -> None:
            self.layer = Linear(2, 2)

        def forward(self, x: Tensor) -> Tensor:
            return self.layer(x)

    source, target = Net(), Net()
    state = {name: Tensor(value) for name, value in source.state_dict().items()}
    save(state, tmp_path / "f")
    target.load_state_dict(load(tmp_path / "f"))
    np.testing.assert_array_equal(target.layer.weight.data, source.layer.weight.data)
