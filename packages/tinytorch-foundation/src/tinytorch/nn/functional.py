"""tinytorch.nn.functional — function forms of Modules 02 and 04 (``F.relu(x)``).

The very functions the layers call: ``F.cross_entropy`` is the op ``CrossEntropyLoss``
uses, with gradients once Module 05 is active.
"""

from tinytorch.nn.activations import gelu, log_softmax, relu, sigmoid, softmax, tanh
from tinytorch.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "gelu",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]


def __getattr__(name: str) -> None:
    """Only for names that do not exist: say which ones do."""
    raise AttributeError(
        f"tinytorch.nn.functional has no {name!r}; available: {', '.join(__all__)}"
    )
