"""Module 04 · Losses — one number that says how wrong the model is.

Connection map
    Prerequisites : 01 Tensor · 02 Activations (log-softmax, sigmoid) · 03 Layers (Module)
    This module   : MSELoss, CrossEntropyLoss (logits + integer targets), BCELoss,
                    BCEWithLogitsLoss, each with reduction 'mean' | 'sum' | 'none'
    Unlocks       : 05 Autograd (the loss is where learning signals start) · 07 Training

Systems insight: cross-entropy on logits never forms ``log(softmax(x))`` naively —
softmax can round to exactly 0 in float32 and log(0) = -inf. The log-sum-exp trick
computes ``logsumexp(x) - x[target]`` directly and stays finite at logits of ±1e4.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor, _data, check_tensor, record
from tinytorch.nn.layers import Module

REDUCTIONS = ("mean", "sum", "none")
_LOG_FLOOR = -100.0  # PyTorch clamps log(p) here so BCE stays finite at p = 0


def _check_reduction(op: str, reduction: str, input: Any = None) -> None:
    """Refuse an unknown ``reduction``, an ``input`` that is not a Tensor, or a mean over nothing.

    PyTorch returns nan for the mean loss of an empty batch (0 / 0); here it is an error,
    because an empty batch is always a slicing or loading mistake and a nan loss shows up
    far from it. ``reduction="sum"`` (0.0) and ``"none"`` (an empty tensor) are defined.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if input is None:
        return
    if check_tensor(op, input).size == 0 and reduction == "mean":
        raise ValueError(
            f"{op}: the batch is empty (input shape {input.shape}), and a mean over no "
            "elements is undefined (PyTorch returns nan); check the slice or loader that "
            "produced it, or pass reduction='sum'"
        )


def _reduce(values: np.ndarray, reduction: str) -> Tensor:
    if reduction == "mean":  # sum / count: np.mean's numbers without its Python overhead
        return Tensor._wrap(np.asarray(values.sum() / values.size))
    if reduction == "sum":
        return Tensor._wrap(np.asarray(values.sum()))
    return Tensor._wrap(values)


def _check_same_shape(op: str, prediction: Tensor, target: Any) -> np.ndarray:
    target = np.asarray(_data(target), dtype=prediction.dtype)
    if prediction.shape != target.shape:
        raise ValueError(
            f"{op}: prediction shape {prediction.shape} != target shape {target.shape}; "
            "reshape the target (e.g. y.reshape(-1, 1)) so they match element for element"
        )
    return target


def class_indices(op: str, logits: Tensor, targets: Any) -> np.ndarray:
    """Validate integer class targets of shape (N,) against logits (N, C)."""
    targets = np.asarray(_data(targets))
    if logits.ndim != 2:
        raise ValueError(f"{op}: logits must be (batch, classes), got shape {logits.shape}")
    if not np.issubdtype(targets.dtype, np.integer):
        raise TypeError(
            f"{op}: targets must be integer class indices, got dtype {targets.dtype} "
            f"with shape {targets.shape}; convert with y.astype(np.int64)"
        )
    if targets.shape != (logits.shape[0],):
        raise ValueError(
            f"{op}: targets shape {targets.shape} does not match logits {logits.shape}; "
            f"expected ({logits.shape[0]},)"
        )
    if targets.size and (targets.min() < 0 or targets.max() >= logits.shape[1]):
        raise ValueError(
            f"{op}: target classes must lie in [0, {logits.shape[1]}), got range "
            f"[{targets.min()}, {targets.max()}]"
        )
    return targets


def mse_loss(prediction: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: mean((prediction - target)^2)."""
    ### BEGIN SOLUTION
    _check_reduction("mse_loss", reduction, prediction)
    target = _check_same_shape("mse_loss", prediction, target)
    out = _reduce((prediction.data - target) ** 2, reduction)
    ### END SOLUTION
    return record(out, "MSELossBackward", prediction, target, reduction=reduction)


# competency: operations/debugs
def cross_entropy(logits: Tensor, targets: Any, reduction: str = "mean") -> Tensor:
    """-log softmax(logits)[target] per row; logits (N, C), targets int (N,)."""
    ### BEGIN SOLUTION
    _check_reduction("cross_entropy", reduction, logits)
    targets = class_indices("cross_entropy", logits, targets)
    shifted = logits.data - logits.data.max(axis=1, keepdims=True)
    picked = shifted[np.arange(len(targets)), targets]
    exps = np.exp(shifted, out=shifted)  # exp in place: one (N, C) buffer
    sums = exps.sum(axis=1)
    out = _reduce(np.log(sums) - picked, reduction)
    ### END SOLUTION
    # The gradient is softmax = exps / sums (Module 05): kept, backward needs no second exp.
    return record(
        out, "CrossEntropyBackward", logits, targets, reduction=reduction, exps=exps, sums=sums
    )


def binary_cross_entropy(probs: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1-y) log(1-p)) for probabilities p in [0, 1]; logs floored at -100."""
    ### BEGIN SOLUTION
    _check_reduction("binary_cross_entropy", reduction, probs)
    target = _check_same_shape("binary_cross_entropy", probs, target)
    p = probs.data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(
            "binary_cross_entropy: inputs must be probabilities in [0, 1] (apply sigmoid "
            "first, or use binary_cross_entropy_with_logits on raw scores)"
        )
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), _LOG_FLOOR)
        log_1mp = np.maximum(np.log1p(-p), _LOG_FLOOR)
    out = _reduce(-(target * log_p + (1 - target) * log_1mp), reduction)
    ### END SOLUTION
    return record(out, "BCELossBackward", probs, target, reduction=reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Any, reduction: str = "mean"
) -> Tensor:
    """BCE on raw scores x: max(x, 0) - x*y + log(1 + exp(-|x|)), finite for any x."""
    ### BEGIN SOLUTION
    _check_reduction("binary_cross_entropy_with_logits", reduction, logits)
    target = _check_same_shape("binary_cross_entropy_with_logits", logits, target)
    x = logits.data
    out = _reduce(np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x))), reduction)
    ### END SOLUTION
    return record(out, "BCEWithLogitsBackward", logits, target, reduction=reduction)


class _Loss(Module):
    """A loss as a Module: ``loss_fn = CrossEntropyLoss(); loss = loss_fn(logits, y)``."""

    def __init__(self, reduction: str = "mean") -> None:
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    def forward(self, prediction: Tensor, target: Any) -> Tensor:
        return mse_loss(prediction, target, self.reduction)


class CrossEntropyLoss(_Loss):
    def forward(self, logits: Tensor, targets: Any) -> Tensor:
        return cross_entropy(logits, targets, self.reduction)


class BCELoss(_Loss):
    def forward(self, probs: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy(probs, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy_with_logits(logits, target, self.reduction)
