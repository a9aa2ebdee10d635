"""Module 07 · Training — learning-rate schedules (the optimizer side of the training loop).

Connection map
    Prerequisites : 06 Optimizers (``param_groups[i]['lr']``)
    This module   : CosineAnnealingLR with optional linear warm-up
    Unlocks       : stable training runs in 07 and every milestone

Systems insight: a schedule costs nothing at run time (one cosine per epoch) yet often
decides whether a run converges: large steps early explore, small steps late settle.
"""

from __future__ import annotations

import math

from tinytorch.checks import check_instance, check_int, check_number
from tinytorch.optim.optimizers import Optimizer


# competency: training/optimizes
class CosineAnnealingLR:
    """lr_t = eta_min + (lr_0 - eta_min) * (1 + cos(pi * t / T_max)) / 2, as in PyTorch.

    With ``warmup_steps=w`` the first w steps ramp linearly from lr_0/w up to lr_0 and the
    cosine then runs over the remaining ``T_max - w`` steps. Call ``step()`` once per epoch
    (or per batch, with T_max counted in batches). After ``T_max`` the rate stays at eta_min.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, warmup_steps: int = 0
    ) -> None:
        check_instance(
            "CosineAnnealingLR", "optimizer", optimizer, Optimizer, "an Optimizer (SGD, Adam, ...)"
        )
        check_int("CosineAnnealingLR", "T_max", T_max, minimum=1)
        check_int("CosineAnnealingLR", "warmup_steps", warmup_steps, minimum=0)
        if warmup_steps >= T_max:
            raise ValueError(
                f"CosineAnnealingLR: warmup_steps must be in [0, T_max), got {warmup_steps}"
            )
        check_number("CosineAnnealingLR", "eta_min", eta_min, minimum=0)
        self.optimizer = optimizer
        self.T_max = T_max
        self.eta_min = eta_min
        self.warmup_steps = warmup_steps
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_step = 0
        self._apply()

    def lr_at(self, step: int, base_lr: float) -> float:
        """The learning rate after ``step`` calls to ``step()``."""
        ### BEGIN SOLUTION
        if step < self.warmup_steps:
            return base_lr * (step + 1) / self.warmup_steps
        progress = min(step - self.warmup_steps, self.T_max - self.warmup_steps)
        span = self.T_max - self.warmup_steps
        return (
            self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * progress / span)) / 2
        )
        ### END SOLUTION

    def _apply(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(self.last_step, base)

    def step(self) -> None:
        self.last_step += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, int]:
        return {"last_step": self.last_step}

    def check_state_dict(self, state: dict[str, int]) -> None:
        """Raise ValueError (TypeError for a mistyped value) unless ``state`` is what
        ``state_dict`` saves; changes nothing."""
        where = "CosineAnnealingLR.load_state_dict"
        if not isinstance(state, dict) or set(state) != {"last_step"}:
            raise ValueError(f"{where}: expected {{'last_step': int}}, got {state!r:.60}")
        check_int(where, "last_step", state["last_step"], minimum=0)

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.check_state_dict(state)
        self.last_step = state["last_step"]
        self._apply()
