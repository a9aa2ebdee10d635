"""tinytorch.optim — Module 06 (optimizers) and the schedules of Module 07."""

from tinytorch.optim.optimizers import SGD, Adam, AdamW, Optimizer, StateMemory
from tinytorch.optim.schedulers import CosineAnnealingLR

__all__ = ["SGD", "Adam", "AdamW", "CosineAnnealingLR", "Optimizer", "StateMemory"]
