"""tinytorch.training — Module 07: the loop, clipping, memory, gradient flow, checkpoints,
save and load."""

from tinytorch.optim.schedulers import CosineAnnealingLR
from tinytorch.training.checkpoint import (
    CheckpointError,
    load,
    load_checkpoint,
    save,
    save_checkpoint,
)
from tinytorch.training.trainer import (
    CheckpointFunction,
    GradientFlow,
    History,
    MemoryReport,
    Trainer,
    accuracy,
    checkpoint,
    clip_grad_norm_,
    dead_relu_fractions,
    memory_report,
)

__all__ = [
    "CheckpointError",
    "CheckpointFunction",
    "CosineAnnealingLR",
    "GradientFlow",
    "History",
    "MemoryReport",
    "Trainer",
    "accuracy",
    "checkpoint",
    "clip_grad_norm_",
    "dead_relu_fractions",
    "load",
    "load_checkpoint",
    "memory_report",
    "save",
    "save_checkpoint",
]
