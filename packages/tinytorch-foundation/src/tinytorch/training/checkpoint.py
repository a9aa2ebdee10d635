"""Module 07 · Training — checkpoints: saving and resuming a run safely.

Connection map
    Prerequisites : 03 Layers (``state_dict``) · 06 Optimizers (``state_dict``)
    This module   : model + optimizer (+ scheduler) state in one ``.npz`` file, written
                    atomically and validated on load — no pickle anywhere
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

from tinytorch.files import atomic_write, read_npz
from tinytorch.nn.layers import Module
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
    arrays["meta"] = _meta_array(meta)
    _atomic_savez(path, arrays)
    return path
    ### END SOLUTION


def _atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez into a temporary file beside ``path`` that then replaces it (atomic_write)."""
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def _meta_array(meta: dict[str, Any]) -> np.ndarray:
    """The JSON document as the uint8 array stored under ``meta``, within MAX_META_BYTES."""
    try:
        text = json.dumps(meta, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"save_checkpoint: metadata must be JSON data (numbers, strings, lists, dicts): {error}"
        ) from None
    if len(text.encode()) > MAX_META_BYTES:
        raise ValueError(
            f"save_checkpoint: metadata and hyper-parameters take {len(text.encode()):,} bytes "
            f"of JSON, more than the {MAX_META_BYTES:,} a checkpoint may hold; store large "
            "data in its own file"
        )
    return np.frombuffer(text.encode(), dtype=np.uint8)


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
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(
            f"load_checkpoint: {path} has unreadable metadata ({error})"
        ) from None
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
