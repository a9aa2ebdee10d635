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
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.nn.layers import Module
from tinytorch.optim.optimizers import Optimizer

FORMAT = "tinytorch-checkpoint"
VERSION = 1


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
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    _atomic_savez(path, arrays)
    return path
    ### END SOLUTION


def _atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez into a temp file beside ``path``, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_all(path: Path) -> dict[str, np.ndarray]:
    """Every array in the file, CRC-checked, without pickle; CheckpointError otherwise."""
    if not path.exists():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as error:
        raise CheckpointError(
            f"load_checkpoint: {path} is corrupted or not a .npz checkpoint ({error})"
        ) from None


def _optimizer_state(arrays: dict[str, np.ndarray], saved: dict[str, Any]) -> dict[str, Any]:
    """Rebuild ``Optimizer.state_dict()`` from the file's arrays and JSON scalars."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in arrays.items():
        if key.startswith("optimizer/"):
            _, index, buffer = key.split("/", 2)
            state.setdefault(int(index), {})[buffer] = value
    for index, scalars in saved["scalars"].items():
        state.setdefault(int(index), {}).update(scalars)
    groups = [
        {k: tuple(v) if isinstance(v, list) else v for k, v in g.items()} for g in saved["groups"]
    ]
    return {"step_count": saved["step_count"], "groups": groups, "state": state}


def load_checkpoint(
    path: str | os.PathLike,
    model: Module,
    optimizer: Optimizer | None = None,
    scheduler: Any = None,
) -> dict[str, Any]:
    """Restore state saved by :func:`save_checkpoint`; returns the saved ``metadata``.

    Checks the format and version, that parameter names and shapes match ``model``,
    and that the optimizer class matches, before changing anything.
    """
    ### BEGIN SOLUTION
    path = Path(path)
    arrays = _read_all(path)
    if "meta" not in arrays:
        raise CheckpointError(
            f"load_checkpoint: {path} has no 'meta' entry; not a tinytorch checkpoint"
        )
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"load_checkpoint: {path} has unreadable metadata ({error})"
        ) from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointError(
            f"load_checkpoint: {path} is format {meta.get('format')!r} v{meta.get('version')}, "
            f"expected {FORMAT!r} v{VERSION}"
        )
    saved = meta.get("optimizer")
    if optimizer is not None and (saved is None or saved["class"] != type(optimizer).__name__):
        found = saved["class"] if saved else "no optimizer"
        raise CheckpointError(
            f"load_checkpoint: {path} holds {found} state, "
            f"cannot restore a {type(optimizer).__name__}"
        )
    optimizer_state = None
    if optimizer is not None:
        optimizer_state = _optimizer_state(arrays, saved)
        try:  # check everything before changing anything
            optimizer.check_state_dict(optimizer_state)
        except ValueError as error:
            raise CheckpointError(
                f"load_checkpoint: {path} does not fit this optimizer: {error}"
            ) from None
    model_state = {k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")}
    try:
        model.load_state_dict(model_state)
    except (KeyError, ValueError) as error:
        raise CheckpointError(f"load_checkpoint: {path} does not fit this model: {error}") from None
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    if scheduler is not None and "scheduler" in meta:
        scheduler.load_state_dict(meta["scheduler"])
    return meta["metadata"]
    ### END SOLUTION
