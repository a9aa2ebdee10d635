"""tinytorch.training — Module 07: the loop, clipping, memory, gradient flow, checkpoints."""

from tinytorch.optim.schedulers import CosineAnnealingLR
from tinytorch.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
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
    "load_checkpoint",
    "memory_report",
    "save_checkpoint",
]
