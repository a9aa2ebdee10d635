"""tinytorch.nn.functional — function forms of Modules 02 and 04 (``F.relu(x)``).

Each name resolves, at lookup time, to the function in the module that owns it, so
``F.cross_entropy`` is always the same op that ``CrossEntropyLoss`` calls — with
gradients once Module 05 is switched on.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tinytorch.nn import activations, losses

_OWNERS: dict[str, ModuleType] = {
    **{name: activations for name in ("relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax")},
    **{
        name: losses
        for name in (
            "mse_loss",
            "cross_entropy",
            "binary_cross_entropy",
            "binary_cross_entropy_with_logits",
        )
    },
}

__all__ = sorted(_OWNERS)


def __getattr__(name: str) -> Any:
    if name in _OWNERS:
        return getattr(_OWNERS[name], name)
    raise AttributeError(
        f"tinytorch.nn.functional has no {name!r}; available: {', '.join(__all__)}"
    )


def __dir__() -> list[str]:
    return __all__
