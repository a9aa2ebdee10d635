"""tinytorch.nn — layers, activations and losses, PyTorch-style.

Modules 02–04 live here (foundation tier). Higher tiers add their layers (``Conv2d``,
``MultiHeadAttention``, ``LayerNorm``, ...) under the entry-point group ``tinytorch.nn``:
``from tinytorch.nn import Conv2d`` resolves through that group, so the foundation tier
never imports a higher tier, and a name no installed tier provides says which tiers are
installed.
"""

from __future__ import annotations

from importlib.metadata import distributions, entry_points
from typing import Any

# tinytorch.core first: loading it switches autograd on, and Module 05 reads Module 02's
# constants, so Modules 02-04 must not be half-loaded when it starts.
import tinytorch.core  # noqa: F401  (isort: skip)
from tinytorch.nn import functional
from tinytorch.nn.layers import (
    GELU,
    Activation,
    Dropout,
    Linear,
    LogSoftmax,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinytorch.nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss

ENTRY_POINT_GROUP = "tinytorch.nn"

__all__ = [
    "GELU",
    "Activation",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
]


def _registered() -> dict[str, Any]:
    """Layers that installed higher tiers register, by name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def installed_tiers() -> list[str]:
    """Installed tier distributions with their versions, e.g. ['tinytorch-foundation 0.1.0']."""
    found = {
        dist.metadata["Name"].lower(): dist.version
        for dist in distributions()
        if (dist.metadata["Name"] or "").lower().startswith("tinytorch-")
    }
    return [f"{name} {version}" for name, version in sorted(found.items())]


# Where the curriculum's higher-tier layers live, to say which tier to install.
HIGHER_TIER_LAYERS = {
    **dict.fromkeys(
        [
            "Conv2d",
            "MaxPool2d",
            "AvgPool2d",
            "Flatten",
            "Embedding",
            "PositionalEncoding",
            "LearnedPositionalEmbedding",
            "MultiHeadAttention",
            "LayerNorm",
            "TransformerBlock",
        ],
        "tinytorch-arch",
    ),
    **dict.fromkeys(["QuantizedLinear", "QuantizedConv2d"], "tinytorch-opt"),
}


class TierNotInstalledError(ImportError):
    """A layer of a tier that is not installed was requested from ``tinytorch.nn``.

    An ImportError (not only an AttributeError) so that ``from tinytorch.nn import
    Conv2d`` shows this message instead of Python's generic "cannot import name".
    """


def __getattr__(name: str) -> Any:
    """PEP 562: resolve layers registered by higher tiers on first use, then cache them."""
    if name.startswith("__"):
        raise AttributeError(name)
    entry = _registered().get(name)
    if entry is None:
        tiers = ", ".join(installed_tiers()) or "none found (running from a source tree?)"
        if name in HIGHER_TIER_LAYERS:
            raise TierNotInstalledError(
                f"tinytorch.nn.{name} comes with {HIGHER_TIER_LAYERS[name]}, which is not "
                f"installed (installed tiers: {tiers}); pip install {HIGHER_TIER_LAYERS[name]}",
                name=name,
            )
        raise AttributeError(
            f"tinytorch.nn has no {name!r} (installed tiers: {tiers}). Layers such as Conv2d, "
            "Embedding, MultiHeadAttention and LayerNorm come with tinytorch-arch."
        )
    value = entry.load()
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_registered()))
