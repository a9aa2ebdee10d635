"""Module 03 · Layers — Module, Parameter, Linear, Sequential, Dropout.

Connection map
    Prerequisites : 01 Tensor · 02 Activations
    This module   : the Module container (parameters, train/eval, state_dict), learnable
                    Parameters, Linear with Xavier/Glorot initialisation, Sequential, Dropout
    Unlocks       : 04 Losses · every model in the curriculum (MLPs here, CNNs and
                    transformers in the architecture tier)

Systems insight: Linear(784, 128) stores 784*128 + 128 = 100,480 parameters = 401,920
bytes in float32, whatever the batch size; its output activation (batch, 128) grows
with the batch. Weights are laid out (in_features, out_features) so the forward pass
is one ``x @ W`` matrix product with no transpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor, get_rng


class Parameter(Tensor):
    """A Tensor that a Module learns: ``requires_grad`` defaults to True."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model.

    Subclasses set Parameters and sub-Modules as attributes in ``__init__`` and define
    ``forward``. Discovery walks the attributes in the order they were set (lists and
    tuples of Modules count too), which fixes the order of ``parameters()``.
    """

    training: bool = True

    def forward(self, *args: Any) -> Any:  # pragma: no cover - overridden
        raise TypeError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -------------------------------------------------------------- discovery
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-Modules with their attribute names (list items as ``name.i``)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every Parameter below this Module, as (dotted name, parameter).

        A Parameter reachable twice (a layer reused, tied weights) is listed once, under
        its first name, so optimizers update it once and counts do not double.
        """
        ### BEGIN SOLUTION
        seen: set[int] = set()
        for name, param in self._all_parameters(prefix):
            if id(param) not in seen:
                seen.add(id(param))
                yield name, param
        ### END SOLUTION

    def _all_parameters(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        """Depth-first walk over own Parameters then children's, repeats included."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child._all_parameters(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def modules(self) -> Iterator[Module]:
        """This Module and every Module below it."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    # -------------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active); returns self."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Inference mode (dropout off); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (``grad = None``), before the next backward."""
        for p in self.parameters():
            p.grad = None

    # -------------------------------------------------------------- size reports
    # competency: models/measures
    def num_parameters(self) -> int:
        """Count of learnable numbers."""
        return sum(p.size for p in self.parameters())

    def parameter_bytes(self) -> int:
        """Bytes of parameter storage (4 per float32 parameter)."""
        return sum(p.memory_footprint() for p in self.parameters())

    # -------------------------------------------------------------- state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Name -> copy of each parameter's array: what a checkpoint saves."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> None:
        """Copy arrays into the parameters; names and shapes must match.

        Arrays are cast to each parameter's dtype. ``strict=False`` tolerates missing or
        unexpected names, never a shape mismatch; nothing changes unless every check passes.
        """
        ### BEGIN SOLUTION
        own = dict(self.named_parameters())
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if strict and (missing or unexpected):
            raise KeyError(
                f"{type(self).__name__}.load_state_dict: missing {missing}, unexpected "
                f"{unexpected}; the state was saved from a different architecture"
            )
        updates = {name: np.asarray(value) for name, value in state.items() if name in own}
        for name, value in updates.items():
            if value.shape != own[name].shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: '{name}' has shape "
                    f"{value.shape} in the state but {own[name].shape} in the model"
                )
        for name, value in updates.items():  # only after every check passed
            own[name].data = value.astype(own[name].dtype, copy=True)
        ### END SOLUTION

    def __repr__(self) -> str:
        children = [
            f"  ({name}): {child!r}".replace("\n", "\n  ") for name, child in self.named_children()
        ]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(children) + "\n)"

    def extra_repr(self) -> str:
        return ""


def xavier_uniform(fan_in: int, fan_out: int, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Glorot/Xavier uniform init: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).

    Keeps the variance of activations (forward) and gradients (backward) roughly equal
    from layer to layer, so deep stacks neither explode nor vanish at step 0.
    """
    ### BEGIN SOLUTION
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    shape = (fan_in, fan_out) if shape is None else shape
    return get_rng().uniform(-limit, limit, size=shape).astype(np.float32)
    ### END SOLUTION


# competency: models/knows, models/implements
class Linear(Module):
    """y = x @ W + b with W of shape (in_features, out_features).

    Input (..., in_features) -> output (..., out_features); 2*in*out FLOPs per row.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        if in_features <= 0 or out_features <= 0:
            raise ValueError(
                f"Linear: in_features and out_features must be positive, got "
                f"({in_features}, {out_features})"
            )
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(xavier_uniform(in_features, out_features))
        self.bias = Parameter(np.zeros(out_features, dtype=np.float32)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear.forward: input shape {x.shape} has {x.shape[-1]} features in its "
                f"last dimension, but this layer expects {self.in_features} "
                f"(weight {self.weight.shape})"
            )
        out = x @ self.weight
        return out + self.bias if self.bias is not None else out
        ### END SOLUTION

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Sequential(Module):
    """Apply stages in order: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``.

    A stage is a Module or any callable Tensor -> Tensor (e.g. an activation).
    """

    def __init__(self, *stages: Callable[[Tensor], Tensor]) -> None:
        self.stages = list(stages)

    def forward(self, x: Tensor) -> Tensor:
        for stage in self.stages:
            x = stage(x)
        return x

    def __getitem__(self, i: int) -> Callable[[Tensor], Tensor]:
        return self.stages[i]

    def __len__(self) -> int:
        return len(self.stages)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Children are named by position, as in PyTorch: ``0.weight``, ``2.bias``."""
        for i, stage in enumerate(self.stages):
            if isinstance(stage, Module):
                yield str(i), stage

    def __repr__(self) -> str:
        lines = [f"  ({i}): {stage!r}".replace("\n", "\n  ") for i, stage in enumerate(self.stages)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


class Dropout(Module):
    """Zero each element with probability p while training; scale the rest by 1/(1-p).

    The scaling keeps the expected activation unchanged, so ``eval()`` is the identity.
    """

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        if not self.training or self.p == 0.0:
            return x
        keep = get_rng().random(x.shape) >= self.p
        return x * (keep.astype(x.dtype) / (1.0 - self.p))
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"p={self.p}"
