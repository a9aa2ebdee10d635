"""Module 07 · Training — checkpoints: saving and resuming a run safely.

Connection map
    Prerequisites : 03 Layers (``state_dict``) · 06 Optimizers (``state_dict``)
    This module   : model + optimizer (+ scheduler) state in one ``.npz`` file, written
                    atomically and validated on load — no pickle anywhere; ``save`` and
                    ``load``, PyTorch's ``torch.save(model.state_dict(), path)`` and
                    ``torch.load(path)``, in the same safe format
    Unlocks       : long runs that survive interruption; sharing trained models

Systems insight: a checkpoint of an Adam run is about 3x the parameter bytes (weights
plus two moment buffers). Writing it to a temporary file and renaming it over the old
one (``os.replace``, atomic on POSIX and Windows) means a crash mid-write leaves the
previous checkpoint intact instead of a half-written file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.checks import check_int
from tinytorch.core.arguments import _check_device
from tinytorch.core.tensor import Tensor
from tinytorch.files import atomic_write, read_npz
from tinytorch.nn.layers import Module, Parameter
from tinytorch.optim.optimizers import Optimizer

FORMAT = "tinytorch-checkpoint"
VERSION = 1
MAX_META_BYTES = 1 << 20  # the JSON document: hyper-parameters, step counts, your metadata


class CheckpointError(ValueError):
    """A checkpoint file is missing pieces, corrupted, or belongs to another model."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


# competency: deployment/implements
def save_checkpoint(
    path: str | os.PathLike,
    model: Module,
    optimizer: Optimizer | None = None,
    scheduler: Any = None,
    **metadata: Any,
) -> Path:
    """Write model, optimizer and scheduler state to ``path`` (.npz) atomically.

    Arrays go in as ``model/<name>`` and ``optimizer/<param index>/<buffer>``; everything
    else (hyper-parameters, step counts, your ``metadata``) as one JSON document.
    """
    ### BEGIN SOLUTION
    path = Path(path)
    arrays = {f"model/{name}": value for name, value in model.state_dict().items()}
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "metadata": metadata,
        "model": {name: [list(v.shape), str(v.dtype)] for name, v in model.state_dict().items()},
    }
    if optimizer is not None:
        state = optimizer.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, buffers in state["state"].items():
            for key, value in buffers.items():
                if isinstance(value, np.ndarray):
                    arrays[f"optimizer/{index}/{key}"] = value
                else:
                    scalars.setdefault(str(index), {})[key] = _jsonable(value)
        meta["optimizer"] = {
            "class": type(optimizer).__name__,
            "step_count": state["step_count"],
            "groups": [{k: _jsonable(v) for k, v in g.items()} for g in state["groups"]],
            "scalars": scalars,
        }
    if scheduler is not None:
        meta["scheduler"] = scheduler.state_dict()
    arrays["meta"] = _meta_array("save_checkpoint", meta)
    _atomic_savez(path, arrays)
    return path
    ### END SOLUTION


def _atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez into a temporary file beside ``path`` that then replaces it (atomic_write)."""
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def _meta_array(op: str, meta: dict[str, Any]) -> np.ndarray:
    """The JSON document as the uint8 array stored under ``meta``, within MAX_META_BYTES."""
    try:
        text = json.dumps(meta, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{op}: metadata must be JSON data (numbers, strings, lists, dicts): {error}"
        ) from None
    if len(text.encode()) > MAX_META_BYTES:
        raise ValueError(
            f"{op}: metadata and hyper-parameters take {len(text.encode()):,} bytes "
            f"of JSON, more than the {MAX_META_BYTES:,} a file may hold; store large "
            "data in its own file"
        )
    return np.frombuffer(text.encode(), dtype=np.uint8)


def _read_meta_json(op: str, path: Path, raw: np.ndarray) -> Any:
    """The JSON document stored as bytes under ``meta`` (never deeper than Python allows)."""
    try:
        return json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(f"{op}: {path} has unreadable metadata ({error})") from None


def _read_arrays(path: Path, model: Module, optimizer: Optimizer | None) -> dict[str, np.ndarray]:
    """The file's ``meta`` and the arrays ``model`` and ``optimizer`` need, each entry's
    name, dtype and shape checked against them before its data is read (no pickle)."""
    shapes = {f"model/{name}": p.shape for name, p in model.named_parameters()}
    positions = [p.shape for p in optimizer.params] if optimizer is not None else []

    def check(name: str, shape: tuple[int, ...], dtype: np.dtype) -> bool:
        if name == "meta":
            if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_META_BYTES:
                raise ValueError(f"should be at most {MAX_META_BYTES:,} bytes of JSON text")
            return True
        if name.startswith("optimizer/"):
            if optimizer is None:
                return False  # state for an optimizer nobody asked to restore: never read
            slot = re.fullmatch(r"optimizer/([0-9]{1,9})/\w+", name)
            if slot is None or int(slot[1]) >= len(positions):
                raise ValueError(f"does not fit this {type(optimizer).__name__}: no such slot")
            owner, expected = type(optimizer).__name__, positions[int(slot[1])]
        elif name in shapes:
            owner, expected = "model", shapes[name]
        else:
            raise ValueError("does not fit this model: it has no such parameter")
        if dtype.kind not in "biuf" or shape != expected:
            raise ValueError(
                f"does not fit this {owner}: a {dtype} array of shape {shape} where numbers "
                f"of shape {expected} belong"
            )
        return True

    if not path.exists():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint at {path}")
    # Every parameter in float64 with up to three optimizer buffers, the JSON, zip headers.
    size = sum(p.data.size for p in model.parameters())
    bound = 4 * 8 * size + MAX_META_BYTES + 4096 * (4 * len(shapes) + 16)
    try:
        arrays = read_npz(path, check, max_bytes=bound)
    except ValueError as error:
        raise CheckpointError(f"load_checkpoint: {error}") from None
    if "meta" not in arrays:
        raise CheckpointError(
            f"load_checkpoint: {path} has no 'meta' entry; not a tinytorch checkpoint"
        )
    return arrays


def _read_meta(path: Path, raw: np.ndarray) -> dict[str, Any]:
    """The JSON document of the checkpoint, after checking its format, version and metadata."""
    meta = _read_meta_json("load_checkpoint", path, raw)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        found = (meta.get("format"), meta.get("version")) if isinstance(meta, dict) else (meta, "")
        raise CheckpointError(
            f"load_checkpoint: {path} is format {found[0]!r:.40} v{found[1]!r:.10}, "
            f"expected {FORMAT!r} v{VERSION}"
        )
    if not isinstance(meta.get("metadata"), dict):
        raise CheckpointError(f"load_checkpoint: {path} has no 'metadata' object in its JSON")
    return meta


def _optimizer_state(arrays: dict[str, np.ndarray], saved: dict[str, Any]) -> dict[str, Any]:
    """Rebuild ``Optimizer.state_dict()`` from the file's arrays and JSON scalars; the
    optimizer's ``check_state_dict`` then judges the values."""
    groups, scalars = saved.get("groups"), saved.get("scalars")
    if not (isinstance(groups, list) and all(isinstance(g, dict) for g in groups)):
        raise ValueError("'groups' should be a list of objects")
    if not (isinstance(scalars, dict) and all(isinstance(v, dict) for v in scalars.values())):
        raise ValueError("'scalars' should map parameter positions to objects")
    state: dict[int, dict[str, Any]] = {}
    for key, value in arrays.items():
        if key.startswith("optimizer/"):  # optimizer/<position>/<buffer>, checked on reading
            _, index, buffer = key.split("/", 2)
            state.setdefault(int(index), {})[buffer] = value
    for index, values in scalars.items():
        if not re.fullmatch(r"[0-9]{1,9}", index):
            raise ValueError(f"'scalars' has key {index!r:.40}, not a parameter position")
        state.setdefault(int(index), {}).update(values)
    groups = [{k: tuple(v) if isinstance(v, list) else v for k, v in g.items()} for g in groups]
    return {"step_count": saved.get("step_count"), "groups": groups, "state": state}


# competency: deployment/implements
def load_checkpoint(
    path: str | os.PathLike,
    model: Module,
    optimizer: Optimizer | None = None,
    scheduler: Any = None,
) -> dict[str, Any]:
    """Restore state saved by :func:`save_checkpoint`; returns the saved ``metadata``.

    All or nothing: every entry's size, dtype and shape is checked against ``model``
    and ``optimizer`` before its data is read; then the format, the parameter names,
    the optimizer's and scheduler's state are checked; only then does anything change.
    A bad file raises :class:`CheckpointError` naming it, and changes nothing.
    """
    ### BEGIN SOLUTION
    path = Path(path)
    arrays = _read_arrays(path, model, optimizer)
    meta = _read_meta(path, arrays.pop("meta"))
    model_state = {k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")}
    missing = sorted(name for name, _ in model.named_parameters() if name not in model_state)
    if missing:
        raise CheckpointError(f"load_checkpoint: {path} does not fit this model: lacks {missing}")
    optimizer_state = None
    if optimizer is not None:
        saved = meta.get("optimizer")
        if not isinstance(saved, dict) or saved.get("class") != type(optimizer).__name__:
            found = str(saved.get("class"))[:40] if isinstance(saved, dict) else "no optimizer"
            raise CheckpointError(
                f"load_checkpoint: {path} holds {found} state, "
                f"cannot restore a {type(optimizer).__name__}"
            )
        try:
            optimizer_state = _optimizer_state(arrays, saved)
            optimizer.check_state_dict(optimizer_state)
        except (TypeError, ValueError) as error:
            raise CheckpointError(
                f"load_checkpoint: {path} does not fit this optimizer: {error}"
            ) from None
    if scheduler is not None:
        if "scheduler" not in meta:
            raise CheckpointError(
                f"load_checkpoint: {path} holds no scheduler state, cannot restore a "
                f"{type(scheduler).__name__}"
            )
        try:
            scheduler.check_state_dict(meta["scheduler"])
        except (TypeError, ValueError) as error:
            raise CheckpointError(
                f"load_checkpoint: {path} does not fit this scheduler: {error}"
            ) from None
    # Everything is checked: from here on nothing can fail halfway.
    model.load_state_dict(model_state)
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    if scheduler is not None:
        scheduler.load_state_dict(meta["scheduler"])
    return meta["metadata"]
    ### END SOLUTION


# ----------------------------------------------------------------------------- save and load
# PyTorch's ``torch.save(model.state_dict(), "model.pth")`` and ``torch.load("model.pth")``
# pickle: loading a file runs whatever code it names. Here the numbers go into an .npz
# archive (entries "0", "1", ...) and the structure around them into one JSON document
# (entry "meta"), so a file holds data and nothing that could run.

SAVE_FORMAT = "tinytorch-save"
SAVE_VERSION = 1
MAX_DEPTH = 32  # containers inside containers: a state dict needs two or three
MAX_LOAD_BYTES = 1 << 30  # what load reads unless told otherwise (max_bytes=)


#: The JSON objects of the format: the tag that names each kind, and every key it has.
NODES = {
    "tuple": {"tuple"},
    "dict": {"dict"},
    "array": {"array"},
    "scalar": {"scalar"},
    "tensor": {"tensor", "requires_grad"},
    "parameter": {"parameter", "requires_grad"},
}


def _encode(obj: Any, arrays: list[np.ndarray], seen: dict[int, int], depth: int = 0) -> Any:
    """The JSON for ``obj``; its arrays are appended to ``arrays`` (each object once).

    None, bools, ints, floats and strings are JSON already; a list stays a list; a
    tuple is ``{"tuple": [...]}``, a dict ``{"dict": [[key, value], ...]}`` (keys: str or
    int). An array is ``{"array": i}``, a NumPy scalar ``{"scalar": i}``, a Tensor
    ``{"tensor": i, "requires_grad": ...}`` (``"parameter"`` for a Parameter), where i
    numbers the entry holding its data. ``seen`` maps ``id(obj)`` to that number, so a
    tensor saved twice is stored once and loads as one object.
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"save: nested deeper than {MAX_DEPTH} levels (does a list hold itself?)")
    ### BEGIN SOLUTION
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):  # np.float64 is a float: first
        data = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
        if data.dtype.kind not in "biuf":
            raise TypeError(f"save: cannot store an array of dtype {data.dtype}; only numbers")
        if id(obj) not in seen:
            seen[id(obj)] = len(arrays)
            arrays.append(data)
        if not isinstance(obj, Tensor):
            return {"array" if isinstance(obj, np.ndarray) else "scalar": seen[id(obj)]}
        kind = "parameter" if isinstance(obj, Parameter) else "tensor"
        return {kind: seen[id(obj)], "requires_grad": obj.requires_grad}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [_encode(item, arrays, seen, depth + 1) for item in obj]
        return items if isinstance(obj, list) else {"tuple": items}
    if isinstance(obj, dict):
        if not all(_is_key(key) for key in obj):
            raise TypeError(f"save: dict keys must be str or int, got {list(obj)!r:.60}")
        return {"dict": [[key, _encode(v, arrays, seen, depth + 1)] for key, v in obj.items()]}
    raise TypeError(
        f"save: cannot store a {type(obj).__name__}; save holds tensors, arrays, numbers, "
        "strings, None and lists, tuples and dicts of them (save model.state_dict(), "
        "not the model: its code is in your program, not in the file)"
    )
    ### END SOLUTION


def _decode(node: Any, arrays: dict[str, np.ndarray], made: dict, depth: int = 0) -> Any:
    """The object that ``node`` (JSON written by :func:`_encode`) stands for.

    ``arrays`` holds the file's entries by name ("0", "1", ...); ``made`` keeps each
    object built from an entry, so what was saved once loads as one object. Anything
    :func:`_encode` could not have written raises ValueError.
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    ### BEGIN SOLUTION
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(item, arrays, made, depth + 1) for item in node]
    kinds = [kind for kind in NODES if isinstance(node, dict) and set(node) == NODES[kind]]
    if not kinds:
        raise ValueError(f"{json.dumps(node)[:60]} is not part of the format")
    kind, value = kinds[0], node[kinds[0]]
    if kind in ("tuple", "dict") and not isinstance(value, list):
        raise ValueError(f"a {kind} must hold a list")
    if kind == "tuple":
        return tuple(_decode(item, arrays, made, depth + 1) for item in value)
    if kind == "dict":
        if not all(isinstance(p, list) and len(p) == 2 and _is_key(p[0]) for p in value):
            raise ValueError("a dict must be [key, value] pairs with str or int keys")
        return {key: _decode(item, arrays, made, depth + 1) for key, item in value}
    if not _is_key(value) or str(value) not in arrays:
        raise ValueError(f"refers to array {value!r:.20}, which the file does not hold")
    if not isinstance(node.get("requires_grad", False), bool):
        raise ValueError("requires_grad must be true or false")
    name = str(value)
    if (name, kind) not in made:
        data = np.array(arrays[name])  # a writable copy (read_npz hands out read-only views)
        if kind == "scalar" and data.ndim:
            raise ValueError(f"scalar {name} has shape {data.shape}")
        if kind == "array":
            made[name, kind] = data
        elif kind == "scalar":
            made[name, kind] = data[()]
        elif kind == "tensor":
            made[name, kind] = Tensor._wrap(data).requires_grad_(node["requires_grad"])
        else:
            made[name, kind] = Parameter(data, node["requires_grad"], data.dtype)
    return made[name, kind]
    ### END SOLUTION


def _is_key(value: Any) -> bool:
    """A dict key or an entry number as JSON gives it back: a str or an int (not a bool)."""
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def save(obj: Any, f: str | os.PathLike) -> None:
    """Write ``obj`` to the file ``f``, as ``torch.save(model.state_dict(), "model.pth")``.

    ``obj`` is a state dict, or any nesting of dicts, lists and tuples around tensors,
    NumPy arrays, numbers, strings and None (``optimizer.state_dict()`` too). The file is
    an ``.npz`` archive whatever its name: one entry per array plus the structure as
    JSON, written atomically (a crash leaves the previous file). Never pickle: a model
    object itself cannot be saved — save its ``state_dict()`` and rebuild it in code.
    """
    arrays: list[np.ndarray] = []
    structure = _encode(obj, arrays, {})
    entries = {str(i): array for i, array in enumerate(arrays)}
    meta = {"format": SAVE_FORMAT, "version": SAVE_VERSION, "object": structure}
    entries["meta"] = _meta_array("save", meta)
    _atomic_savez(Path(f), entries)


def load(
    f: str | os.PathLike,
    map_location: Any = None,
    *,
    weights_only: bool = True,
    max_bytes: int = MAX_LOAD_BYTES,
) -> Any:
    """Read what :func:`save` wrote: ``model.load_state_dict(load("model.pth"))``.

    Every entry's name, dtype and size is checked before any data is read, and the whole
    file may hold at most ``max_bytes``; then the JSON structure is checked part by
    part. Any other file — a checkpoint, a plain ``.npz``, a ``torch.save`` file
    (pickle), random bytes — raises :class:`CheckpointError` and nothing is returned.
    ``map_location`` may only name the CPU; ``weights_only`` must stay True (the
    format holds nothing else), as PyTorch's arguments of the same names.
    """
    if weights_only not in (None, True):
        raise ValueError(
            "load: weights_only=False would unpickle Python objects, which tinytorch never "
            "does: a file holds tensors, numbers and containers only"
        )
    _check_device(map_location)  # only the CPU
    check_int("load", "max_bytes", max_bytes, minimum=1)
    path = Path(f)
    if not path.exists():
        raise FileNotFoundError(f"load: no file at {path}")

    def check(name: str, shape: tuple[int, ...], dtype: np.dtype) -> bool:
        if name == "meta":
            if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_META_BYTES:
                raise ValueError(f"should be at most {MAX_META_BYTES:,} bytes of JSON text")
        elif not re.fullmatch(r"[0-9]{1,9}", name) or dtype.kind not in "biuf":
            raise ValueError(f"a {dtype} entry that save never writes")
        return True

    hint = (
        "load reads only what tinytorch's save wrote (.npz + JSON); it never unpickles, so "
        "a torch.save file cannot be read, and checkpoints are read by load_checkpoint"
    )
    try:
        arrays = read_npz(path, check, max_bytes=max_bytes)
    except ValueError as error:
        raise CheckpointError(f"load: {error}; {hint}") from None
    raw = arrays.pop("meta", None)
    meta = None if raw is None else _read_meta_json("load", path, raw)
    expected = {"format": SAVE_FORMAT, "version": SAVE_VERSION}
    if not (isinstance(meta, dict) and set(meta) == {*expected, "object"}) or any(
        meta[key] != value for key, value in expected.items()
    ):
        raise CheckpointError(f"load: {path} is not a file written by save; {hint}")
    made: dict[tuple[str, str], Any] = {}
    try:
        obj = _decode(meta["object"], arrays, made)
    except (ValueError, RecursionError) as error:
        raise CheckpointError(f"load: {path} has a damaged structure: {error}") from None
    unused = sorted(set(arrays) - {name for name, _ in made})
    if unused:
        raise CheckpointError(f"load: {path} holds arrays its structure never uses: {unused[:5]}")
    return obj
