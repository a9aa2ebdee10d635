"""tinytorch.data — Module 08: datasets and the DataLoader (architecture tier)."""

from tinytorch.data import dataloader
from tinytorch.data.dataloader import *  # noqa: F403 (its __all__, listed once)

__all__ = dataloader.__all__
