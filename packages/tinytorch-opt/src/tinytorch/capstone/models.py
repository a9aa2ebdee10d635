"""Module 20 · Capstone — a submitted model as data: its architecture in JSON, its arrays in .npz.

Connection map
    Prerequisites : 03 Layers (Module, Sequential, named_modules) · 07 save/load (a dict
                    of arrays as .npz, never pickle) · 09 Spatial and 13 Transformers (the
                    layers a model is built of) · 15 Quantization and 16 Compression (int8
                    layers; size counted dense or as CSR) · 17 Memoization (cached generation)
    This module   : save_model / load_model: a model as two files that anyone can check —
                    JSON naming each layer from an allow-list with its constructor arguments,
                    and an .npz of every array the layers hold — plus what a leaderboard
                    needs to measure it: its held-out set, how inputs are shaped and
                    normalized, how its size is counted, how it answers questions
    Unlocks       : classroom leaderboards that re-measure each submission's accuracy,
                    latency and size on one machine instead of trusting what it claims

Systems insight: a claim is checkable only if the thing claimed about travels with it,
in a form the checker can load without running the claimant's code. Pickle would carry
the model, and run anything on loading. This format carries what a model *is* — layer
types from a fixed list, their constructor arguments, their arrays — so loading builds
the model from the course's own classes, reads at most the bytes that model holds, and
keeps an array only if its name, shape and dtype are what the rebuilt model holds. The
price: only layers on the list can be submitted, and a new kind of layer needs a line
here to be measurable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.files import atomic_write
from tinytorch.nn.layers import (
    GELU,
    Dropout,
    Linear,
    LogSoftmax,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinytorch.perf.compression import sparse_size_bytes
from tinytorch.perf.memoization import generate_cached
from tinytorch.perf.quantization import (
    QuantizedConv2d,
    QuantizedLinear,
    QuantizedTensor,
    model_size_bytes,
)
from tinytorch.text.tokenization import Tokenizer
from tinytorch.text.transformers import GPT
from tinytorch.training.checkpoint import load, save
from tinytorch.vision.spatial import AvgPool2d, Conv2d, Flatten, MaxPool2d

FORMAT, VERSION = "tinytorch-model", 1
MODELS_SUFFIX = ".model"  # mlp-int8.json's models live in mlp-int8.model/
MAX_JSON_BYTES = 1 << 20  # a model's JSON is a few KB
MAX_TOKENIZER_BYTES = 16 << 20
MAX_DEPTH = 16  # Sequentials inside Sequentials
SIZES = ("dense", "csr")  # how size_bytes counts the weights (Module 15 / Module 16)
ENTRY_OVERHEAD = 4096  # zip and .npy headers per array, for the file's size bound
META_BYTES = 1 << 20  # the structure save() writes beside the arrays


class ModelFileError(ValueError):
    """A model that cannot be saved, or a model file that cannot be loaded, and why."""


# ============================================================================= the allow-list


def _read(*names: str) -> Callable[[Module], dict[str, Any]]:
    """Constructor arguments that a layer keeps as attributes of the same name."""
    return lambda layer: {name: _json(getattr(layer, name)) for name in names}


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _has_bias(layer: Module) -> dict[str, Any]:
    return {"bias": layer.bias is not None}


def _int8(shape: tuple[int, ...], axis: int | None) -> QuantizedTensor:
    """A symmetric int8 tensor of ``shape`` with placeholder values, filled in on loading."""
    channels = () if axis is None else (shape[axis],)
    return QuantizedTensor(
        np.zeros(shape, dtype=np.int8),
        np.ones(channels, dtype=np.float32),
        np.zeros(channels, dtype=np.int32),
        axis,
        symmetric=True,
    )


def _quantized_args(layer: QuantizedLinear | QuantizedConv2d) -> dict[str, Any]:
    return {
        "per_channel": layer.weight.axis is not None,
        "static": layer.input_scale is not None,
        "compute": layer.compute,
        **_has_bias(layer),
    }


def _quantized_linear(
    in_features: int, out_features: int, bias: bool, per_channel: bool, static: bool, compute: str
) -> QuantizedLinear:
    return QuantizedLinear(
        _int8((in_features, out_features), 1 if per_channel else None),
        np.zeros(out_features, dtype=np.float32) if bias else None,
        (1.0, 0) if static else None,
        compute,
    )


def _quantized_conv2d(
    in_channels: int,
    out_channels: int,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    bias: bool,
    per_channel: bool,
    static: bool,
    compute: str,
) -> QuantizedConv2d:
    shape = (out_channels, in_channels, *kernel_size)
    return QuantizedConv2d(
        _int8(shape, 0 if per_channel else None),
        np.zeros(out_channels, dtype=np.float32) if bias else None,
        stride,
        padding,
        (1.0, 0) if static else None,
        compute,
    )


def _gpt_args(model: GPT) -> dict[str, Any]:
    return {
        **_read("vocab_size", "d_model", "n_heads", "n_layers", "max_len")(model),
        "mlp_ratio": model.blocks[0].mlp.fc.out_features // model.d_model,
        "positional": "learned" if hasattr(model.position, "weight") else "sinusoidal",
    }


@dataclass(frozen=True)
class Layer:
    """How one allow-listed class is written (``args``) and rebuilt (``build(**args)``)."""

    kind: type
    args: Callable[[Any], dict[str, Any]]
    build: Callable[..., Module] | None = None


LAYERS: dict[str, Layer] = {
    layer.kind.__name__: layer
    for layer in (
        Layer(Linear, lambda m: {**_read("in_features", "out_features")(m), **_has_bias(m)}),
        Layer(ReLU, _read()),
        Layer(Sigmoid, _read()),
        Layer(Tanh, _read()),
        Layer(GELU, _read()),
        Layer(Softmax, _read("dim")),
        Layer(LogSoftmax, _read("dim")),
        Layer(Dropout, _read("p")),
        Layer(Flatten, _read("start_dim", "end_dim")),
        Layer(
            Conv2d,
            lambda m: {
                **_read("in_channels", "out_channels", "kernel_size", "stride", "padding")(m),
                **_has_bias(m),
            },
        ),
        Layer(MaxPool2d, _read("kernel_size", "stride")),
        Layer(AvgPool2d, _read("kernel_size", "stride")),
        Layer(
            QuantizedLinear,
            lambda m: {**_read("in_features", "out_features")(m), **_quantized_args(m)},
            _quantized_linear,
        ),
        Layer(
            QuantizedConv2d,
            lambda m: {
                **_read("in_channels", "out_channels", "kernel_size", "stride", "padding")(m),
                **_quantized_args(m),
            },
            _quantized_conv2d,
        ),
        Layer(GPT, _gpt_args),
    )
}


def describe(model: Module) -> dict[str, Any]:
    """The architecture of ``model`` as JSON data: ``{"type": "Linear", "args": {...}}``,
    or ``{"type": "Sequential", "layers": [...]}``. Refuses a layer not on the list."""
    if type(model) is Sequential:
        return {"type": "Sequential", "layers": [describe(stage) for stage in model.stages]}
    layer = LAYERS.get(type(model).__name__)
    if layer is None or type(model) is not layer.kind:
        raise ModelFileError(
            f"save_model: a model file cannot hold a {type(model).__name__}; it holds "
            f"Sequential and {', '.join(sorted(LAYERS))}"
        )
    return {"type": layer.kind.__name__, "args": layer.args(model)}


def build(architecture: Any, where: str = "architecture", depth: int = 0) -> Module:
    """The model an architecture describes, built from the course's own classes.

    Every node is checked before its constructor runs: a known type, arguments as a JSON
    object; the constructors then check the values (sizes, strides) as they always do.
    """
    if not isinstance(architecture, dict) or not isinstance(architecture.get("type"), str):
        raise ModelFileError(
            f'{where}: expected an object with a "type", got {_short(architecture)}'
        )
    kind = architecture["type"]
    if kind == "Sequential":
        stages = architecture.get("layers")
        if set(architecture) != {"type", "layers"} or not isinstance(stages, list):
            raise ModelFileError(f'{where}: a Sequential has exactly "type" and "layers" (a list)')
        if depth >= MAX_DEPTH:
            raise ModelFileError(f"{where}: Sequentials nested more than {MAX_DEPTH} deep")
        return Sequential(
            *(build(stage, f"{where}.layers[{i}]", depth + 1) for i, stage in enumerate(stages))
        )
    layer = LAYERS.get(kind)
    if layer is None:
        raise ModelFileError(
            f"{where}: {_short(kind)} is not a layer a model file may hold; it may hold "
            f"Sequential and {', '.join(sorted(LAYERS))}"
        )
    args = architecture.get("args", {})
    if set(architecture) - {"type", "args"} or not isinstance(args, dict):
        raise ModelFileError(f'{where}: a {kind} has "type" and "args" (an object) only')
    args = {key: tuple(v) if isinstance(v, list) else v for key, v in args.items()}
    try:
        return (layer.build or layer.kind)(**args)
    except (TypeError, ValueError, OverflowError) as error:
        raise ModelFileError(f"{where}: {kind}(**{_short(args)}) failed: {error}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ============================================================================= arrays


def arrays(model: Module) -> Iterator[tuple[str, Any, str]]:
    """``(name, holder, attribute)`` for every array ``model`` holds, each array once.

    Names are the modules' dotted names plus the attribute (``stages.0.weight``); an int8
    weight contributes ``.data``, ``.scale`` and ``.zero_point``. This is what
    ``model_size_bytes`` counts and what the ``.npz`` stores.
    """
    seen: set[int] = set()
    for path, module in model.named_modules():
        for attribute, value in list(vars(module).items()):
            if id(value) in seen:
                continue
            seen.add(id(value))
            name = f"{path}.{attribute}" if path else attribute
            if isinstance(value, QuantizedTensor):
                for part in ("data", "scale", "zero_point"):
                    yield f"{name}.{part}", value, part
            elif isinstance(value, Tensor):
                yield name, value, "data"
            elif isinstance(value, np.ndarray):
                yield name, module, attribute


# ============================================================================= what to measure


@dataclass(frozen=True)
class Inputs:
    """How a classifier takes a held-out sample: reshaped to ``shape``, then
    ``(x - mean) / scale`` when the model was trained on normalized inputs (``mean`` and
    ``scale`` broadcast against one sample with a leading batch axis, ``(1, *shape)``)."""

    shape: tuple[int, ...]
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def prepare(self, samples: np.ndarray) -> np.ndarray:
        """Held-out samples (N, ...) as this model's float32 input (N, *shape)."""
        x = np.asarray(samples, dtype=np.float32).reshape(len(samples), *self.shape)
        if self.mean is not None:
            x = (x - self.mean) / self.scale
        return x.astype(np.float32)


@dataclass(frozen=True)
class Generation:
    """How a language model answers a held-out question: ``<bos>`` (when ``bos``) and
    ``prompt`` with ``{question}`` replaced, then greedy tokens until ``<eos>``; the answer
    is the decoded text, stripped. ``cache``: generate with Module 17's KV cache."""

    tokenizer: Tokenizer
    prompt: str = " {question}\n"
    bos: bool = True
    cache: bool = False

    def prompt_ids(self, question: str) -> list[int]:
        text = self.prompt.replace("{question}", question)
        return [self.tokenizer.bos_id] * self.bos + list(self.tokenizer.encode(text))

    def answer(self, ids: Any) -> str:
        ids = [int(i) for i in ids]
        if self.tokenizer.eos_id in ids:
            ids = ids[: ids.index(self.tokenizer.eos_id)]
        return self.tokenizer.decode(ids).strip()

    def generate(self, model: GPT, ids: np.ndarray, new_tokens: int, stop: bool) -> np.ndarray:
        """Greedy continuation of a batch of equal-length prompts (stopping at ``<eos>``
        when ``stop``), with or without the cache: the same tokens either way."""
        eos = self.tokenizer.eos_id if stop else None
        if self.cache:
            return generate_cached(model, ids, new_tokens, eos_id=eos)
        return model.generate(ids, new_tokens, temperature=0.0, eos_id=eos)


@dataclass(frozen=True)
class SavedModel:
    """A model with what a leaderboard needs to measure it (see :func:`save_model`)."""

    model: Module
    heldout: str
    inputs: Inputs | None = None
    generation: Generation | None = None
    size: str = "dense"

    @property
    def size_bytes(self) -> int:
        """Bytes stored: every array (Module 15), or Linear/Conv2d weights as CSR (Module 16)."""
        return sparse_size_bytes(self.model) if self.size == "csr" else model_size_bytes(self.model)


def models_folder(submission: str | os.PathLike[str]) -> Path:
    """Where a submission's models live: ``mlp-int8.json`` -> ``mlp-int8.model/``, holding
    ``baseline.json`` and ``optimized.json`` (each with its ``.npz``)."""
    return Path(submission).with_suffix(MODELS_SUFFIX)


# ============================================================================= saving


def save_model(
    path: str | os.PathLike[str],
    model: Module,
    heldout: str,
    inputs: Inputs | None = None,
    generation: Generation | None = None,
    size: str = "dense",
) -> Path:
    """Write ``model`` as ``path`` (JSON) and ``path`` with ``.npz`` (its arrays); returns ``path``.

    ``heldout`` names the held-out set a leaderboard measures it on (``tinydigits``,
    ``tinydigits-canvas16``, ``tinytalks``); a classifier gives its ``inputs``, a GPT its
    ``generation`` (whose tokenizer is saved as ``<name>.tokenizer.json``); ``size`` is
    ``"dense"`` or ``"csr"``. The arrays go through Module 07's ``save`` (a dict of
    arrays by name); each file is written atomically, the JSON last.
    """
    path = Path(path)
    if path.suffix != ".json":
        raise ModelFileError(f"save_model: {path} should end in .json (the arrays go beside it)")
    if size not in SIZES:
        raise ModelFileError(f"save_model: size must be one of {SIZES}, got {size!r}")
    if (inputs is None) == (generation is None):
        raise ModelFileError("save_model: give inputs (a classifier) or generation (a GPT)")
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": describe(model),
        "heldout": heldout,
        "size": size,
    }
    stored = {name: np.asarray(getattr(holder, part)) for name, holder, part in arrays(model)}
    if inputs is not None:
        document["inputs"] = {"shape": list(inputs.shape), "normalized": inputs.mean is not None}
        if inputs.mean is not None:
            stored["inputs.mean"], stored["inputs.scale"] = inputs.mean, inputs.scale
    else:
        document["generation"] = {
            "prompt": generation.prompt,
            "bos": generation.bos,
            "cache": generation.cache,
        }
        generation.tokenizer.save(_tokenizer_path(path))
    save(stored, path.with_suffix(".npz"))
    with atomic_write(path, "w", encoding="utf-8") as file:
        json.dump(document, file, indent=2)
        file.write("\n")
    return path


def _tokenizer_path(path: Path) -> Path:
    return path.with_suffix(".tokenizer.json")


# ============================================================================= loading


def load_model(path: str | os.PathLike[str]) -> SavedModel:
    """Read a model written by :func:`save_model`, checking everything before trusting it.

    The JSON (at most 1 MiB) must have this format's fields; the architecture is built
    from the allow-list; then the ``.npz`` is read by Module 07's ``load`` (no pickle)
    within the bytes the rebuilt model holds, and must name exactly the arrays that model
    holds, each with its shape and dtype. Problems raise :class:`ModelFileError` naming
    the file.
    """
    path = Path(path)
    try:
        document = _document(path)
        model = build(document["architecture"])
        shape, normalized, generation = _how(path, document)
        sample = (1, *shape) if normalized else None
        found = _fill(path.with_suffix(".npz"), model, sample)
    except (ModelFileError, ValueError) as error:
        raise ModelFileError(f"load_model: {path.name}: {error}") from None
    inputs = None
    if shape is not None:
        inputs = Inputs(shape, found.get("inputs.mean"), found.get("inputs.scale"))
    return SavedModel(model.eval(), document["heldout"], inputs, generation, document["size"])


def _document(path: Path) -> dict[str, Any]:
    """The JSON object, within its size bound, with the fields every model file has."""
    if not path.is_file():
        raise ModelFileError("no such file")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ModelFileError(f"larger than the {MAX_JSON_BYTES:,} bytes a model's JSON may take")
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ModelFileError(f"not JSON ({error})") from None
    if not isinstance(document, dict) or (document.get("format"), document.get("version")) != (
        FORMAT,
        VERSION,
    ):
        raise ModelFileError(f"not a {FORMAT} v{VERSION} file")
    if not isinstance(document.get("heldout"), str) or document.get("size") not in SIZES:
        raise ModelFileError(f'needs "heldout" (a name) and "size" (one of {SIZES})')
    if ("inputs" in document) == ("generation" in document):
        raise ModelFileError('needs exactly one of "inputs" (a classifier) and "generation"')
    return document


def _how(
    path: Path, document: dict[str, Any]
) -> tuple[tuple[int, ...] | None, bool, Generation | None]:
    """A classifier's input shape and whether it normalizes, or a GPT's generation settings."""
    if "inputs" in document:
        spec = document["inputs"]
        shape = spec.get("shape") if isinstance(spec, dict) else None
        if not (
            isinstance(shape, list)
            and 1 <= len(shape) <= 4
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)
            and isinstance(spec.get("normalized"), bool)
        ):
            raise ModelFileError('"inputs" needs "shape" (1 to 4 positive ints) and "normalized"')
        return tuple(shape), spec["normalized"], None
    spec = document["generation"]
    if not (
        isinstance(spec, dict)
        and isinstance(spec.get("prompt"), str)
        and spec["prompt"].count("{question}") == 1
        and isinstance(spec.get("bos"), bool)
        and isinstance(spec.get("cache"), bool)
    ):
        raise ModelFileError(
            '"generation" needs "prompt" (text with {question} once), "bos" and "cache"'
        )
    tokenizer = _tokenizer_path(path)
    if not tokenizer.is_file() or tokenizer.stat().st_size > MAX_TOKENIZER_BYTES:
        raise ModelFileError(f"{tokenizer.name} is missing or over {MAX_TOKENIZER_BYTES:,} bytes")
    generation = Generation(Tokenizer.load(tokenizer), spec["prompt"], spec["bos"], spec["cache"])
    return None, False, generation


def _fill(npz: Path, model: Module, sample: tuple[int, ...] | None) -> dict[str, np.ndarray]:
    """Read the arrays ``model`` holds from ``npz`` and put them in; returns what was read
    (with ``inputs.mean``/``inputs.scale`` when ``sample``, the shape of one input with
    its batch axis, says the model normalizes its inputs)."""
    slots = {name: (holder, part) for name, holder, part in arrays(model)}
    expected = {name: np.asarray(getattr(holder, part)) for name, (holder, part) in slots.items()}
    normalizers = ("inputs.mean", "inputs.scale") if sample is not None else ()
    bound = sum(a.nbytes for a in expected.values()) + META_BYTES
    bound += ENTRY_OVERHEAD * (len(expected) + 2) + 2 * 8 * int(np.prod(sample or ()))
    found = load(npz, max_bytes=bound)
    if not isinstance(found, dict) or set(found) != {*expected, *normalizers}:
        names = sorted(found) if isinstance(found, dict) else type(found).__name__
        raise ModelFileError(f"{npz.name} should hold {sorted(expected)[:5]}..., not {names}")
    for name, value in found.items():
        if not isinstance(value, np.ndarray):
            raise ModelFileError(f"{npz.name}: {name} is a {type(value).__name__}, not an array")
        if name in normalizers:
            if value.dtype.kind != "f" or np.broadcast_shapes(value.shape, sample) != sample:
                raise ModelFileError(
                    f"{npz.name}: {name} should be floats broadcasting to {sample}, got "
                    f"{value.dtype} {value.shape}"
                )
        elif (value.shape, value.dtype) != (expected[name].shape, expected[name].dtype):
            raise ModelFileError(
                f"{npz.name}: {name} should be {expected[name].dtype} {expected[name].shape}, "
                f"got {value.dtype} {value.shape}"
            )
    for name, (holder, part) in slots.items():
        setattr(holder, part, found[name])
    return found


__all__ = [
    "FORMAT",
    "LAYERS",
    "Generation",
    "Inputs",
    "ModelFileError",
    "SavedModel",
    "arrays",
    "build",
    "describe",
    "load_model",
    "models_folder",
    "save_model",
]
