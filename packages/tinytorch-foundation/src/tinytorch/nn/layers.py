"""Module 03 · Layers — Module, Parameter, Linear, Sequential, Dropout, activation layers.

Connection map
    Prerequisites : 01 Tensor · 02 Activations
    This module   : the Module container (parameters, train/eval, state_dict, forward
                    hooks), learnable Parameters, Linear with Xavier/Glorot initialisation,
                    Sequential, Dropout, and Module 02's functions as layers (``ReLU()``)
    Unlocks       : 04 Losses · every model in the curriculum (MLPs here, CNNs and
                    transformers in the architecture tier)

Systems insight: Linear(784, 128) stores 784*128 + 128 = 100,480 parameters = 401,920
bytes in float32, whatever the batch size; its output activation (batch, 128) grows
with the batch. Weights are laid out (in_features, out_features) so the forward pass
is one ``x @ W`` matrix product with no transpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from tinytorch.checks import check_callable, check_int, check_number
from tinytorch.core.arguments import NUMERIC_KINDS
from tinytorch.core.tensor import Tensor, _conversion_target, get_rng
from tinytorch.nn.activations import gelu, log_softmax, relu, sigmoid, softmax, tanh


class Parameter(Tensor):
    """A Tensor that a Module learns: ``requires_grad`` defaults to True."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``handle.remove()`` takes the hook off again.

    Also a context manager: ``with model.register_forward_hook(h): ...`` removes it on exit.
    """

    _next_id = 0

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


class Module:
    """Base class of every layer and model.

    Subclasses set Parameters and sub-Modules as attributes in ``__init__`` and define
    ``forward``. Discovery walks the attributes in the order they were set (lists and
    tuples of Modules count too), which fixes the order of ``parameters()``.

    Calling a Module runs its forward pre-hooks, ``forward`` and its forward hooks, in
    the order they were registered (see :meth:`register_forward_hook`): the one place
    where a tool looks inside a model (shapes, timings) without changing it.
    """

    training: bool = True

    def forward(self, *args: Any) -> Any:  # pragma: no cover - overridden
        raise TypeError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        hooks = vars(self)
        for hook in tuple(hooks.get("_forward_pre_hooks", {}).values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in tuple(hooks.get("_forward_hooks", {}).values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # -------------------------------------------------------------- hooks
    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; returns a removable handle.

        ``args`` is the tuple of positional inputs (keyword arguments go to ``forward``
        untouched). A hook that returns something other than None replaces the inputs (a
        single value is wrapped into a one-element tuple). As in PyTorch.
        """
        return self._add_hook("_forward_pre_hooks", hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward``; returns a handle.

        A hook that returns something other than None replaces the output. Hooks run in
        the order they were registered; an exception inside one propagates to the caller.
        """
        return self._add_hook("_forward_hooks", hook)

    def _add_hook(self, kind: str, hook: Callable[..., Any]) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}: a hook must be callable, got {hook!r}")
        hooks = vars(self).setdefault(kind, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

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
        """This Module and every Module below it (each once)."""
        for _, module in self.named_modules():
            yield module

    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This Module (named ``prefix``) and every Module below it, with dotted names.

        Depth first, in attribute order: ``("", model), ("encoder", ...),
        ("encoder.layers.0", ...)``. A Module reachable twice (a layer used at two
        places) is listed once unless ``remove_duplicate=False``.
        """
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module.named_children()
            ]
            stack.extend(reversed(children))

    def get_submodule(self, target: str) -> Module:
        """The Module at dotted path ``target`` (as :meth:`named_modules` names it)."""
        for name, module in self.named_modules(remove_duplicate=False):
            if name == target:
                return module
        raise AttributeError(f"{type(self).__name__} has no submodule {target!r}")

    def set_submodule(self, target: str, module: Module) -> None:
        """Put ``module`` at dotted path ``target``, where its parent holds that child.

        How a model changes without touching any class: a quantized or fused layer takes
        the place of the original in its parent (as in PyTorch's module swaps).
        """
        for parent_name, parent in self.named_modules(remove_duplicate=False):
            for child_name, _ in parent.named_children():
                if (f"{parent_name}.{child_name}" if parent_name else child_name) == target:
                    parent._set_child(child_name, module)
                    return
        raise AttributeError(f"{type(self).__name__} has no submodule {target!r}")

    def _set_child(self, name: str, module: Module) -> None:
        """Replace the direct child ``name`` (an attribute, or ``list.i`` for a list item)."""
        attribute, _, index = name.partition(".")
        if not index:
            setattr(self, attribute, module)
            return
        items = list(getattr(self, attribute))
        items[int(index)] = module
        held = getattr(self, attribute)
        if isinstance(held, list):
            held[:] = items
        else:
            setattr(self, attribute, tuple(items))

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

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Cast the floating-point parameters (and their grads) in place; returns self.

        PyTorch's ``model.to(device)``, ``model.to(dtype)``, ``model.to(device, dtype)``:
        the device can only be the CPU, so ``model.to("cpu")`` changes nothing. The
        Parameters stay the same objects, so whatever holds them keeps working.
        """
        name = f"{type(self).__name__}.to"
        dtype = _conversion_target(name, args, kwargs)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"{name}: only floating-point dtypes are accepted, got {dtype}")
        for p in self.parameters() if dtype is not None else ():
            if p.dtype.kind == "f":
                p.data = p.data.astype(dtype, copy=False)
                if p.grad is not None:
                    p.grad.data = p.grad.data.astype(dtype, copy=False)
        return self

    def float(self) -> Module:
        """``self.to(float32)``."""
        return self.to(np.float32)

    def double(self) -> Module:
        """``self.to(float64)``: e.g. before checking gradients numerically."""
        return self.to(np.float64)

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

    def load_state_dict(self, state: Mapping[str, np.ndarray], strict: bool = True) -> None:
        """Copy arrays into the parameters; names and shapes must match.

        Arrays are cast to each parameter's dtype. ``strict=False`` tolerates missing or
        unexpected names, never a wrong shape, a non-numeric array or a NaN/inf value;
        nothing changes unless every entry passes (a half-loaded model is worse than none).
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: expected a dict of name -> array "
                f"(what state_dict() returns), got {type(state).__name__}"
            )
        ### BEGIN SOLUTION
        own = dict(self.named_parameters())
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if strict and (missing or unexpected):
            raise KeyError(
                f"{type(self).__name__}.load_state_dict: missing {missing}, unexpected "
                f"{unexpected}; the state was saved from a different architecture"
            )
        where = f"{type(self).__name__}.load_state_dict"
        updates = {
            name: _loadable(where, name, value, own[name])
            for name, value in state.items()
            if name in own
        }
        for name, value in updates.items():  # only after every check passed
            own[name].data = value
        ### END SOLUTION

    def __repr__(self) -> str:
        """PyTorch's layout: settings on one line, or one indented line per setting and child."""
        children = [
            f"  ({name}): {child!r}".replace("\n", "\n  ") for name, child in self.named_children()
        ]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [f"  {line}" for line in extra.splitlines()] + children
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""


def _loadable(where: str, name: str, value: Any, parameter: Tensor) -> np.ndarray:
    """``value`` as a copy in ``parameter``'s dtype, if it fits its shape and is finite."""
    array = np.asarray(value)
    if array.dtype.kind not in NUMERIC_KINDS or array.shape != parameter.shape:
        raise ValueError(
            f"{where}: '{name}' is a {array.dtype} array of shape {array.shape} in the "
            f"state, but the model holds {parameter.dtype} numbers of shape {parameter.shape}"
        )
    with np.errstate(over="ignore"):  # 1e39 becomes inf in float32: refused just below
        array = array.astype(parameter.dtype, copy=True)
    if not np.isfinite(array).all():
        raise ValueError(
            f"{where}: '{name}' holds NaN or infinite values (as {parameter.dtype}); the "
            "state comes from a run that diverged, or was damaged"
        )
    return array


def check_module(op: str, value: Any) -> Module:
    """``value`` if it is a Module (a layer or a model); else a TypeError naming ``op``."""
    if not isinstance(value, Module):
        raise TypeError(f"{op}: expected a Module (a layer or a model), got {type(value).__name__}")
    return value


def check_positive(op: str, **sizes: int) -> None:
    """Refuse a size that is not a positive int, naming the op, the size and its value.

    ``check_positive("Linear", in_features=784, out_features=0)`` raises "Linear:
    out_features must be >= 1, got 0" (one size at a time, as ``tinytorch.checks`` words it).
    """
    for name, value in sizes.items():
        check_int(op, name, value, minimum=1)


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
        check_positive("Linear", in_features=in_features, out_features=out_features)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(xavier_uniform(in_features, out_features))
        self.bias = Parameter(np.zeros(out_features, dtype=np.float32)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, (Tensor, np.ndarray)):
            raise TypeError(f"Linear.forward: expected a Tensor input, got {type(x).__name__}")
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
        self.stages = [
            check_callable("Sequential", f"stage {i}", stage) for i, stage in enumerate(stages)
        ]

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

    def _set_child(self, name: str, module: Module) -> None:
        self.stages[int(name)] = module

    def __repr__(self) -> str:
        lines = [f"  ({i}): {stage!r}".replace("\n", "\n  ") for i, stage in enumerate(self.stages)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


class Dropout(Module):
    """Zero each element with probability p while training; scale the rest by 1/(1-p).

    The scaling keeps the expected activation unchanged, so ``eval()`` is the identity.
    """

    def __init__(self, p: float = 0.5) -> None:
        check_number("Dropout", "p", p, minimum=0.0)
        if p >= 1.0:
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


# ------------------------------------------------------------------------ activations as layers


class Activation(Module):
    """A parameter-free layer that applies one of Module 02's functions.

    ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``: the function becomes a stage of a
    model, with everything a Module has (train/eval, hooks, a place in ``modules()``).
    """

    def forward(self, x: Tensor) -> Tensor:  # pragma: no cover - overridden
        raise TypeError(f"{type(self).__name__} must define forward(x)")


class ReLU(Activation):
    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class Sigmoid(Activation):
    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Tanh(Activation):
    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


class GELU(Activation):
    def forward(self, x: Tensor) -> Tensor:
        return gelu(x)


class Softmax(Activation):
    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return softmax(x, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x: Tensor) -> Tensor:
        return log_softmax(x, dim=self.dim)
