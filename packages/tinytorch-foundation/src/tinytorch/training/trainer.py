"""Module 07 · Training — the loop that composes every earlier module.

Connection map
    Prerequisites : 03 Layers · 04 Losses · 05 Autograd · 06 Optimizers
    This module   : Trainer (fit / evaluate with manual batching and a progress bar),
                    gradient clipping, a memory lifecycle report, activation
                    checkpointing (recompute a segment's forward during backward), and
                    a gradient-flow record (norms per layer, dead ReLU units)
    Unlocks       : Milestones 1–3 · 08 DataLoader (which replaces manual batching)

Systems insight: at the peak of a training step memory holds parameters (P), gradients
(P), optimizer state (0–2P) and every activation the graph saved — often the largest
term. ``memory_report`` measures each; ``checkpoint`` trades recomputation (one extra
forward of the segment) for not storing that segment's activations.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from tinytorch.checks import check_callable, check_int
from tinytorch.core.autograd import Function, enable_grad, no_grad, run_backward
from tinytorch.core.graph_tools import graph_stats, optional_import
from tinytorch.core.tensor import Tensor, get_rng
from tinytorch.nn.layers import Module, ReLU, Sequential, check_module
from tinytorch.optim.optimizers import Optimizer

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(outputs: np.ndarray, targets: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction correct: argmax over classes, or ``output > threshold`` for one output.

    Pass ``threshold=0.0`` when the single output is a raw score (logit).
    """
    targets = np.asarray(targets)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(axis=1)
        return float((predicted == targets.reshape(-1)).mean())
    predicted = (outputs.reshape(-1) > threshold).astype(targets.dtype)
    return float((predicted == targets.reshape(-1)).mean())


# competency: training/optimizes, training/debugs
def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    Returns the norm before clipping (log it: a spike means exploding gradients). The
    direction of the update is kept; only its length shrinks. Same rule as PyTorch:
    coefficient max_norm / (norm + 1e-6), applied only when it is below 1.
    """
    if not (isinstance(max_norm, numbers.Real) and max_norm >= 0):  # NaN fails too
        raise ValueError(
            f"clip_grad_norm_: max_norm must be a number >= 0 (inf measures the norm without "
            f"clipping, as in PyTorch), got {max_norm!r:.40}"
        )
    ### BEGIN SOLUTION
    grads = [p.grad.data for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    if norm_type == float("inf"):
        total = max(float(np.abs(g).max()) for g in grads)
    else:
        total = float(
            sum(float((np.abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
        )
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1.0:
        for g in grads:
            g *= coefficient
    return total
    ### END SOLUTION


@dataclass
class History:
    """Per-epoch curves recorded by ``Trainer.fit`` (lists keyed by metric name)."""

    curves: dict[str, list[float]] = field(default_factory=dict)

    def log(self, **values: float) -> None:
        for name, value in values.items():
            self.curves.setdefault(name, []).append(float(value))

    def __getitem__(self, name: str) -> list[float]:
        return self.curves[name]

    def last(self, name: str) -> float:
        return self.curves[name][-1]


class Trainer:
    """Fit a model on in-memory arrays: shuffle, batch, forward, loss, backward, step.

    ``metrics`` maps names to ``fn(outputs, targets) -> float`` (e.g. ``accuracy``).
    ``max_grad_norm`` clips gradients each step; ``scheduler.step()`` runs once per epoch.
    ``progress``: True shows a tqdm bar over the steps on a terminal (and nothing in a
    log), False shows nothing, and a callable is used instead of tqdm: it is called as
    ``progress(total=steps, unit="step")`` and must return a tqdm-like
    bar (``update``, ``set_postfix_str``, ``close``) — e.g. one that prints plain lines in
    a CI log. ``on_step(model, x)``, if given, is called after every step with the
    batch's inputs, while the step's gradients are still there (e.g. ``GradientFlow.record``).
    """

    def __init__(
        self,
        model: Module,
        optimizer: Optimizer,
        loss_fn: Callable[..., Tensor],
        scheduler: Any = None,
        max_grad_norm: float | None = None,
        metrics: dict[str, Metric] | None = None,
        progress: bool | Callable[..., Any] = True,
        on_step: Callable[[Module, np.ndarray], None] | None = None,
    ) -> None:
        check_module("Trainer", model)
        check_callable("Trainer", "optimizer.step", getattr(optimizer, "step", None))
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = check_callable("Trainer", "loss_fn", loss_fn)
        self.scheduler = scheduler
        self.max_grad_norm = max_grad_norm
        self.metrics = metrics or {}
        self.progress = progress
        self.on_step = on_step
        self.history = History()

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One optimisation step on one batch; returns the batch loss."""
        ### BEGIN SOLUTION
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(Tensor(x)), y)
        loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm_(self.optimizer.params, self.max_grad_norm)
        self.optimizer.step()
        return loss.item()
        ### END SOLUTION

    # competency: pipelines/knows
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        epochs: int = 1,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> History:
        """Train for ``epochs`` passes over (x, y); returns the History of every epoch."""
        _check_pairs("Trainer.fit", x, y)
        check_int("Trainer.fit", "epochs", epochs, minimum=1)
        check_int("Trainer.fit", "batch_size", batch_size, minimum=1)
        order_rng = np.random.default_rng(seed)
        steps = -(-len(x) // batch_size)
        bar = self._progress_bar(total=epochs * steps, unit="step")
        for epoch in range(1, epochs + 1):
            self.model.train()
            order = order_rng.permutation(len(x)) if shuffle else np.arange(len(x))
            loss_sum, seen = 0.0, 0  # the epoch's loss so far, weighted by batch size
            for start in range(0, len(x), batch_size):
                batch = order[start : start + batch_size]
                loss_sum += self.train_step(x[batch], y[batch]) * len(batch)
                seen += len(batch)
                if self.on_step is not None:
                    self.on_step(self.model, x[batch])
                bar.update()
                bar.set_postfix_str(
                    f"epoch {epoch}/{epochs}, loss {loss_sum / seen:.4f}", refresh=False
                )
            record = {"loss": loss_sum / seen, "lr": self.optimizer.lr}
            if validation is not None:
                record.update({f"val_{k}": v for k, v in self.evaluate(*validation).items()})
            self.history.log(**record)
            if self.scheduler is not None:
                self.scheduler.step()
            shown = ", ".join(f"{k} {v:.4g}" for k, v in record.items() if k != "lr")
            bar.set_postfix_str(f"epoch {epoch}/{epochs}, {shown}", refresh=False)
        bar.close()
        return self.history

    def _progress_bar(self, **kwargs: Any) -> Any:
        """The bar ``fit`` advances once per step (see ``progress`` in the class docstring)."""
        if callable(self.progress):
            return self.progress(**kwargs)
        # disable=None: a bar on a terminal, silence in logs and CI.
        return tqdm(**kwargs, leave=False, mininterval=0.5, disable=None if self.progress else True)

    def predict(self, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Model outputs for ``x`` in eval mode, without recording a graph."""
        self.model.eval()
        with no_grad():
            return np.concatenate(
                [
                    self.model(Tensor(x[i : i + batch_size])).data
                    for i in range(0, len(x), batch_size)
                ]
            )

    # competency: models/debugs
    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 512) -> dict[str, float]:
        """Loss and every metric on (x, y), in eval mode."""
        _check_pairs("Trainer.evaluate", x, y)
        outputs = self.predict(x, batch_size)
        with no_grad():
            loss = self.loss_fn(Tensor._wrap(outputs), y).item()
        return {"loss": loss, **{name: fn(outputs, y) for name, fn in self.metrics.items()}}


def _check_pairs(op: str, x: np.ndarray, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise ValueError(
            f"{op}: {len(x)} inputs but {len(y)} targets (shapes {np.shape(x)} "
            f"and {np.shape(y)}); they must pair up one to one"
        )
    if len(x) == 0:
        raise ValueError(f"{op}: no examples")


# ----------------------------------------------------------------------------- gradient flow


def dead_relu_fractions(model: Sequential, x: np.ndarray) -> dict[str, float]:
    """For each ReLU stage of ``model``: the fraction of its units that output 0 for all of ``x``.

    Such a unit is "dead" for this batch: its gradient is 0, so the weights feeding it do
    not learn from it. One forward pass without a graph, in eval mode (mode restored after).
    """
    training = model.training
    model.eval()
    fractions = {}
    with no_grad():
        out = Tensor(x)
        for i, stage in enumerate(model.stages):
            out = stage(out)
            if isinstance(stage, ReLU):
                units = out.data.reshape(len(out.data), -1)
                fractions[f"{i} (ReLU)"] = float(np.all(units == 0, axis=0).mean())
    model.train(training)
    return fractions


# competency: graphs/debugs
@dataclass
class GradientFlow:
    """How the gradients flow through a model while it trains, step by step.

    ``record(model, x)`` right after a backward pass — ``Trainer(..., on_step=flow.record)``
    calls it after every step — logs the L2 norm of each parameter's gradient and, for a
    ``Sequential``, the fraction of each ReLU's units that are dead on the batch ``x``.
    Every ``every``-th call is kept. A parameter whose latest gradient norm is below
    ``vanishing_below`` is flagged "vanishing" (its layer has stopped learning); above
    ``exploding_above``, or not finite, "exploding" (the next update may overshoot).
    Cost per kept call: one norm per parameter and one forward pass of ``x``.
    """

    every: int = 1
    vanishing_below: float = 1e-6
    exploding_above: float = 1e2
    steps: list[int] = field(default_factory=list)
    norms: dict[str, list[float]] = field(default_factory=dict)
    dead: dict[str, list[float]] = field(default_factory=dict)
    calls: int = 0

    def record(self, model: Module, x: np.ndarray | None = None) -> None:
        """Log this step's gradient norms (and dead ReLU fractions on ``x``, if given)."""
        self.calls += 1
        if (self.calls - 1) % self.every:
            return
        self.steps.append(self.calls)
        for name, p in model.named_parameters():
            norm = float(np.linalg.norm(p.grad.data)) if p.grad is not None else 0.0
            self.norms.setdefault(name, []).append(norm)
        if x is not None and isinstance(model, Sequential):
            for name, fraction in dead_relu_fractions(model, x).items():
                self.dead.setdefault(name, []).append(fraction)

    def flags(self) -> dict[str, str]:
        """Parameters whose latest gradient norm is out of range: name -> why."""
        found = {}
        for name, values in self.norms.items():
            if not np.isfinite(values[-1]) or values[-1] > self.exploding_above:
                found[name] = "exploding"
            elif values[-1] < self.vanishing_below:
                found[name] = "vanishing"
        return found

    def plot(self, ax: Any = None) -> Any:
        """Gradient norms per parameter over the steps (log scale), danger zones shaded.

        Draws into ``ax`` or a new figure; returns the figure. Needs matplotlib, which
        tinytorch does not install (the numbers are in ``norms`` and ``dead`` without it).
        """
        if ax is None:
            plt = optional_import(
                "matplotlib.pyplot", "GradientFlow.plot", "pip install matplotlib"
            )
            _, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
        flags = self.flags()
        for name, values in self.norms.items():
            flag = f" ({flags[name]})" if name in flags else ""
            ax.plot(self.steps, values, label=f"{name}{flag}")
        every = [v for values in self.norms.values() for v in values if np.isfinite(v) and v > 0]
        low = min([self.vanishing_below / 10, *every])
        high = max([self.exploding_above * 10, *every])
        ax.axhspan(low, self.vanishing_below, color="#56B4E9", alpha=0.2, label="vanishing")
        ax.axhspan(self.exploding_above, high, color="#D55E00", alpha=0.15, label="exploding")
        dead = ", ".join(f"{values[-1]:.0%}" for values in self.dead.values())
        ax.set(
            yscale="log",
            ylim=(low, high),
            xlabel="training step",
            ylabel="gradient L2 norm (log scale)",
            title="gradient flow" + (f" · dead ReLU units {dead}" if dead else ""),
        )
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
        return ax.figure


# ----------------------------------------------------------------------------- memory


@dataclass
class MemoryReport:
    """Bytes alive during a training step, split the way Module 07 teaches it."""

    parameters: int
    gradients: int
    optimizer_state: int
    activations: int

    @property
    def total(self) -> int:
        return self.parameters + self.gradients + self.optimizer_state + self.activations

    def __str__(self) -> str:
        rows = [
            ("parameters", self.parameters),
            ("gradients", self.gradients),
            ("optimizer state", self.optimizer_state),
            ("activations (graph)", self.activations),
            ("total", self.total),
        ]
        return "\n".join(f"{name:<20}{value / 1024:>12.1f} KiB" for name, value in rows)


# competency: tensors/debugs
def memory_report(
    model: Module, optimizer: Optimizer | None = None, loss: Tensor | None = None
) -> MemoryReport:
    """Measure each memory term; pass the loss before ``backward`` to see activations."""
    params = model.parameters()
    activations = 0
    if loss is not None:
        activations = graph_stats(loss, exclude=[p.data for p in params]).saved_bytes
    return MemoryReport(
        parameters=sum(p.data.nbytes for p in params),
        gradients=sum(p.grad.data.nbytes for p in params if p.grad is not None),
        optimizer_state=optimizer.state_memory().state_bytes if optimizer is not None else 0,
        activations=activations,
    )


# ----------------------------------------------------------------------------- checkpointing


class CheckpointFunction(Function):
    """Run a segment without recording; replay it with recording during backward.

    Stores only the segment's inputs (and output), not its internal activations. The
    random generator's state is saved so dropout draws the same mask on replay.
    """

    def forward(
        self, *arrays: np.ndarray, segment: Callable[..., Tensor], n_inputs: int
    ) -> np.ndarray:
        self.rng_state = get_rng().bit_generator.state
        with no_grad():
            return segment(*(Tensor._wrap(a) for a in arrays[:n_inputs])).data

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        replay = []
        for x in self.inputs[: self.n_inputs]:
            r = Tensor._wrap(x.data)
            r.requires_grad = x.requires_grad
            replay.append(r)
        rng = get_rng().bit_generator
        current, rng.state = rng.state, self.rng_state
        with enable_grad():
            out = self.segment(*replay)
        rng.state = current
        if out.requires_grad:
            run_backward(out, grad)  # parameters inside the segment receive their .grad here
        return tuple(r.grad.data if r.grad is not None else None for r in replay)


# competency: graphs/optimizes
def checkpoint(segment: Callable[..., Tensor], *inputs: Tensor) -> Tensor:
    """``segment(*inputs)`` without keeping its activations; recomputed in backward.

    Memory: the segment's internal activations are not stored (see ``graph_stats``).
    Compute: the segment's forward runs twice per training step.
    """
    params = tuple(segment.parameters()) if isinstance(segment, Module) else ()
    return CheckpointFunction.apply(*inputs, *params, segment=segment, n_inputs=len(inputs))
