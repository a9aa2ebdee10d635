"""Modules 16 and 18's rows of the op table (see ``tinytorch.testing``).

The distillation loss and the fused kernels that stand in for Module 02's GELU and Module
13's LayerNorm (each records the rule of the op it replaces). Registered under the
entry-point group ``tinytorch.testing``.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.perf.acceleration import FusedGELU, layer_norm
from tinytorch.perf.compression import distillation_loss
from tinytorch.testing import ACTIVATION_REFERENCES, AWAY_FROM_ZERO, Arg, OpCase, np_log_softmax
from tinytorch.text.op_cases import np_layer_norm


def np_distillation_loss(student, teacher_logits, targets, temperature, alpha) -> np.ndarray:
    n, t = len(student), temperature
    log_p, log_q = np_log_softmax(student / t), np_log_softmax(teacher_logits / t)
    soft = (np.exp(log_q) * (log_q - log_p)).sum() / n * t * t
    hard = -np_log_softmax(student)[np.arange(n), targets].mean()
    return alpha * soft + (1 - alpha) * hard


def _fused_gelu(x: Tensor) -> Tensor:
    return FusedGELU()(x)


CASES = [
    *(
        OpCase(
            f"distillation_loss alpha={alpha}",
            16,
            distillation_loss,
            "DistillationLossFunction",
            (Arg((4, 3)),),
            np_distillation_loss,
            distillation_loss,
            lambda rng, alpha=alpha: {
                "teacher_logits": rng.standard_normal((4, 3)) * 2,
                "targets": rng.integers(0, 3, 4),
                "temperature": 2.0,
                "alpha": alpha,
            },
        )
        for alpha in (0.5, 1.0)
    ),
    OpCase(
        "FusedGELU",
        18,
        FusedGELU.forward,
        "GELUBackward",
        (Arg((3, 4), AWAY_FROM_ZERO),),
        ACTIVATION_REFERENCES["gelu"],
        _fused_gelu,
    ),
    OpCase(
        "fused layer_norm over two axes",
        18,
        layer_norm,
        "FusedLayerNormFunction",
        (Arg((2, 3, 4)), Arg((3, 4)), Arg((3, 4))),
        np_layer_norm,
        lambda x, w, b: layer_norm(x, w, b, n_axes=2),
    ),
]
