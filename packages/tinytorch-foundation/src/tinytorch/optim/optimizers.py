"""Module 06 · Optimizers — turning gradients into better parameters.

Connection map
    Prerequisites : 01 Tensor · 03 Layers (parameters) · 05 Autograd (``.grad``)
    This module   : SGD (momentum, Nesterov, weight decay), Adam, AdamW with PyTorch's exact
                    update rules; ``zero_grad``; a report of optimizer state memory
    Unlocks       : 07 Training · every milestone

Systems insight: optimizer state is memory you pay for every parameter. Plain SGD keeps
nothing, momentum keeps one buffer (1x the parameters), Adam keeps two (2x). With the
weights and their gradients, training with Adam holds 4x the parameter bytes before a
single activation is stored. All updates here are in-place NumPy operations, so a step
allocates no new parameter arrays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from tinytorch.checks import check_int, check_number
from tinytorch.core.tensor import Tensor


@dataclass
class StateMemory:
    """Bytes held by parameters and by the optimizer's per-parameter state."""

    optimizer: str
    parameter_bytes: int
    state_bytes: int

    @property
    def ratio(self) -> float:
        """State bytes per parameter byte (SGD 0, momentum 1, Adam 2)."""
        return self.state_bytes / self.parameter_bytes if self.parameter_bytes else 0.0

    def __str__(self) -> str:
        return (
            f"{self.optimizer}: parameters {self.parameter_bytes:,} B, "
            f"state {self.state_bytes:,} B ({self.ratio:.1f}x parameters)"
        )


# competency: training/knows tests=test_state_is_allocated_on_the_first_step
class Optimizer:
    """Holds parameter groups and per-parameter state; subclasses define ``step``.

    ``param_groups`` is a list of dicts (``params`` plus hyper-parameters such as ``lr``),
    as in PyTorch, so learning-rate schedulers can change ``group['lr']`` during training.
    ``buffers`` names the arrays a subclass keeps per parameter.
    """

    buffers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Iterable[Tensor], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor):  # iterating it would give its rows, not one parameter
            raise TypeError(
                f"{name}: params must be an iterable of Tensors such as model.parameters(), "
                f"got a single Tensor of shape {params.shape}; pass [tensor]"
            )
        params = list(params)
        if not params:
            raise ValueError(
                f"{name}: got an empty parameter list (did you pass model.parameters()?)"
            )
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameters must be Tensors, got {type(p).__name__}")
        self.check_hyperparameters(defaults)
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = [{"params": params, **defaults}]
        self.state: dict[int, dict[str, Any]] = {}
        self.step_count = 0

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise unless ``group``'s values are ones PyTorch accepts, and finite.

        Every optimizer has a learning rate ``lr`` and ``weight_decay``, both >= 0 as in
        PyTorch. Unlike PyTorch, NaN and infinity are refused too: one step with them
        turns every weight into NaN.
        """
        check_number(type(self).__name__, "learning rate (lr)", group["lr"], minimum=0)
        check_number(type(self).__name__, "weight_decay", group["weight_decay"], minimum=0)

    @property
    def params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        return self.param_groups[0]["lr"]

    def zero_grad(self) -> None:
        """Clear every parameter's gradient (``grad = None``) before the next backward."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:  # pragma: no cover - overridden
        raise TypeError(f"{type(self).__name__} must define step()")

    def _state_for(self, p: Tensor, *buffers: str) -> dict[str, Any]:
        """Per-parameter state, creating zero buffers shaped like ``p`` on first use."""
        state = self.state.get(id(p))
        if state is None:
            state = {name: np.zeros_like(p.data) for name in buffers}
            state["step"] = 0
            self.state[id(p)] = state
        return state

    # competency: training/measures
    def state_memory(self) -> StateMemory:
        """Bytes of parameters vs bytes of optimizer state (after at least one step)."""
        state_bytes = sum(
            v.nbytes for s in self.state.values() for v in s.values() if isinstance(v, np.ndarray)
        )
        return StateMemory(
            type(self).__name__, sum(p.data.nbytes for p in self.params), state_bytes
        )

    # -------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and state buffers, keyed by parameter position (not id)."""
        index = {id(p): i for i, p in enumerate(self.params)}
        return {
            "step_count": self.step_count,
            "groups": [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups],
            "state": {index[key]: _copy_buffers(value) for key, value in self.state.items()},
        }

    def check_state_dict(self, state: dict[str, Any]) -> None:
        """Raise ValueError (TypeError for a mistyped value) unless ``state`` fits this
        optimizer exactly; changes nothing.

        Checked: a step count that is an int >= 0; one group per parameter group, with
        this optimizer's hyper-parameter names and values it would accept; and per
        parameter, exactly this optimizer's ``buffers`` (number arrays shaped like the
        parameter) plus its step count.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict) or set(state) != {"step_count", "groups", "state"}:
            raise ValueError(f"{where}: expected a dict of step_count, groups and state")
        check_int(where, "step_count", state["step_count"], minimum=0)
        groups = state["groups"]
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError(
                f"{where}: saved {_count(groups)} parameter groups, optimizer has "
                f"{len(self.param_groups)}"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, groups)):
            expected = sorted(set(group) - {"params"})
            if not isinstance(saved, dict) or sorted(saved) != expected:
                raise ValueError(f"{where}: group {i} should hold {expected}, got {_keys(saved)}")
            try:
                self.check_hyperparameters(saved)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{where}: group {i}: {error}") from None
        params = self.params
        if not isinstance(state["state"], dict):
            raise ValueError(f"{where}: 'state' should be a dict, got {_keys(state['state'])}")
        for i, buffers in state["state"].items():
            if type(i) is not int or not 0 <= i < len(params):
                raise ValueError(
                    f"{where}: state for parameter {i!r}, but the optimizer has "
                    f"{len(params)} parameters"
                )
            if not isinstance(buffers, dict) or sorted(buffers) != sorted({*self.buffers, "step"}):
                raise ValueError(
                    f"{where}: parameter {i} should hold {sorted({*self.buffers, 'step'})}, "
                    f"got {_keys(buffers)}"
                )
            check_int(where, f"step of parameter {i}", buffers["step"], minimum=0)
            for key in self.buffers:
                value = buffers[key]
                if not (isinstance(value, np.ndarray) and value.dtype.kind in "biuf"):
                    raise ValueError(
                        f"{where}: buffer '{key}' of parameter {i} should be a number array, "
                        f"got {type(value).__name__} {getattr(value, 'dtype', '')}"
                    )
                if value.shape != params[i].shape:
                    raise ValueError(
                        f"{where}: buffer '{key}' of parameter {i} has shape "
                        f"{value.shape}, parameter has {params[i].shape}"
                    )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` saved; all or nothing (checked first, then copied)."""
        self.check_state_dict(state)
        params = self.params
        self.state = {
            id(params[i]): {
                **{key: buffers[key].astype(params[i].dtype) for key in self.buffers},
                "step": buffers["step"],
            }
            for i, buffers in state["state"].items()
        }
        for group, saved in zip(self.param_groups, state["groups"]):
            group.update(saved)
        self.step_count = state["step_count"]


def _count(value: object) -> object:
    """How many items ``value`` has, or its type when it is not a list."""
    return len(value) if isinstance(value, list) else type(value).__name__


def _keys(value: object) -> object:
    """The sorted keys of a dict, or its type when it is not one (for error messages)."""
    return sorted(map(str, value)) if isinstance(value, dict) else type(value).__name__


def _copy_buffers(state: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of one parameter's state: arrays copied, so training on never alters it."""
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}


def _gradient(p: Tensor, weight_decay: float) -> np.ndarray:
    """The gradient with L2 weight decay folded in: g + wd * p."""
    g = p.grad.data
    return g + weight_decay * p.data if weight_decay else g


# competency: training/implements
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    buf = momentum * buf + g   (buf = g on the first step);  p -= lr * buf
    Nesterov uses g + momentum * buf instead of buf. Same rules as ``torch.optim.SGD``
    with dampening 0.
    """

    buffers = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(
            params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
        )

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """lr, weight_decay and momentum >= 0; Nesterov needs momentum > 0 (as PyTorch)."""
        super().check_hyperparameters(group)
        check_number("SGD", "momentum", group["momentum"], minimum=0)
        if not isinstance(group["nesterov"], bool):
            raise TypeError(f"SGD: nesterov must be True or False, got {group['nesterov']!r}")
        if group["nesterov"] and group["momentum"] == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")

    # competency: tensors/optimizes tests=test_steps_update_parameters_in_place
    def step(self) -> None:
        ### BEGIN SOLUTION
        self.step_count += 1
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _gradient(p, group["weight_decay"])
                if momentum:
                    state = self._state_for(p, "momentum_buffer")
                    buf = state["momentum_buffer"]
                    if state["step"] == 0:
                        buf[...] = g
                    else:
                        buf *= momentum
                        buf += g
                    state["step"] += 1
                    g = g + momentum * buf if group["nesterov"] else buf
                p.data -= lr * g
        ### END SOLUTION


class Adam(Optimizer):
    """Adaptive moments (Kingma & Ba), as ``torch.optim.Adam``.

    m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  m^ = m/(1-b1^t);  v^ = v/(1-b2^t)
    p -= lr * m^ / (sqrt(v^) + eps).  ``weight_decay`` adds wd*p to g (L2, coupled).
    """

    decoupled_weight_decay = False
    buffers = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if isinstance(betas, (tuple, list)):
            betas = tuple(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """lr, weight_decay and eps >= 0, and two betas in [0, 1) (as PyTorch)."""
        super().check_hyperparameters(group)
        name, betas = type(self).__name__, group["betas"]
        check_number(name, "eps", group["eps"], minimum=0)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r:.60}")
        for i, beta in enumerate(betas):
            check_number(name, f"betas[{i}]", beta, minimum=0)
            if beta >= 1:
                raise ValueError(f"{name}: betas must lie in [0, 1), got betas[{i}] = {beta}")

    def step(self) -> None:
        ### BEGIN SOLUTION
        self.step_count += 1
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if self.decoupled_weight_decay:
                    p.data *= 1.0 - lr * wd
                    g = p.grad.data
                else:
                    g = _gradient(p, wd)
                state = self._state_for(p, "exp_avg", "exp_avg_sq")
                state["step"] += 1
                t = state["step"]
                m, v = state["exp_avg"], state["exp_avg_sq"]
                # One scratch buffer for the whole update (a temporary per operation
                # would allocate seven arrays the size of the parameter on every step).
                scratch = np.multiply(g, 1.0 - b1)
                m *= b1
                m += scratch
                np.multiply(g, g, out=scratch)
                scratch *= 1.0 - b2
                v *= b2
                v += scratch
                np.sqrt(v, out=scratch)  # denominator: sqrt(v^) + eps = sqrt(v)/sqrt(1-b2^t) + eps
                scratch *= 1.0 / math.sqrt(1.0 - b2**t)
                scratch += eps
                np.divide(m, scratch, out=scratch)
                scratch *= lr / (1.0 - b1**t)  # the step size, bias correction of m included
                p.data -= scratch
        ### END SOLUTION


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr*wd, then Adam."""

    decoupled_weight_decay = True

    # Adam's signature again, on purpose: a learner reading help(AdamW) sees the one
    # setting that differs, weight_decay=0.01 (torch.optim.AdamW's default), in place.
    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
