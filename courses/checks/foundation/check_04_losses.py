"""Graded checks of Module 04 · Losses: reductions, class targets, extreme logits."""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)

RNG = np.random.default_rng(404)
PREDICTION = RNG.standard_normal((4, 3))
TARGET = RNG.standard_normal((4, 3))
LOGITS = np.array([[2.0, 0.5, -1.0], [1e4, 0.0, -1e4], [-1e4, 0.0, 1e4], [0.1, 0.2, 0.3]])
CLASSES = np.array([0, 2, 2, 1])


def check_mse_loss():
    """Mean squared error with the mean, sum and no reduction."""
    p = Tensor(PREDICTION)
    return {r: mse_loss(p, TARGET, reduction=r).data for r in ("mean", "sum", "none")}


def check_cross_entropy():
    """Cross-entropy of class targets, logits up to ±1e4: finite, per row and averaged."""
    x = Tensor(LOGITS)
    return {
        "mean": cross_entropy(x, CLASSES).data,
        "none": cross_entropy(x, CLASSES, reduction="none").data,
    }


def check_binary_cross_entropy():
    """BCE on probabilities, including exactly 0 and 1 (logs floored at -100)."""
    probs = Tensor(np.array([0.0, 0.2, 0.5, 0.9, 1.0]))
    target = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    return {
        "mean": binary_cross_entropy(probs, target).data,
        "none": binary_cross_entropy(probs, target, reduction="none").data,
    }


def check_binary_cross_entropy_with_logits():
    """BCE on raw scores up to ±1e4: finite for any score."""
    logits = Tensor(np.array([-1e4, -3.0, 0.0, 2.0, 1e4]))
    target = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    return {
        "sum": binary_cross_entropy_with_logits(logits, target, reduction="sum").data,
        "none": binary_cross_entropy_with_logits(logits, target, reduction="none").data,
    }
