"""tinytorch.training — Module 07: the training loop, clipping, memory and checkpoints."""

from tinytorch.optim.schedulers import CosineAnnealingLR
from tinytorch.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from tinytorch.training.trainer import (
    CheckpointFunction,
    History,
    MemoryReport,
    Trainer,
    accuracy,
    checkpoint,
    clip_grad_norm_,
    memory_report,
)

__all__ = [
    "CheckpointError",
    "CheckpointFunction",
    "CosineAnnealingLR",
    "History",
    "MemoryReport",
    "Trainer",
    "accuracy",
    "checkpoint",
    "clip_grad_norm_",
    "load_checkpoint",
    "memory_report",
    "save_checkpoint",
]
