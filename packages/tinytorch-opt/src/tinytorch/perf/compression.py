"""Module 16 · Compression — prune weights away and distill big models into small ones.

Connection map
    Prerequisites : 03 Layers (Linear, parameters) · 04 Losses (cross-entropy) · 05 Autograd
                    (Function, gradcheck) · 06 Optimizers · 07 Training (Trainer) · 09 Spatial
                    (Conv2d filters)
    This module   : magnitude pruning — unstructured (smallest weights, one global threshold
                    or one per layer) and structured (whole output neurons or filters by L2
                    norm) — with masks that stay applied while fine-tuning; sparsity and
                    sparse (CSR) storage measured; knowledge distillation (a temperature-
                    softened teacher → a smaller student) as a differentiable loss
    Unlocks       : 19 Benchmarking and 20 Capstone (smaller models to submit) · stacked
                    with 15 Quantization: 8× fewer parameters, each in a quarter the bytes

Systems insight: pruning 90% of a weight matrix to zero does not make it smaller in memory
— a dense array stores its zeros. Stored sparse (CSR: a float32 value and an int32 column
index per non-zero, plus a pointer per row) a 90%-sparse matrix takes 10% × 8 bytes, 5×
less than dense, not 10×, because every kept value carries its index. Structured pruning
removes whole neurons or filters, so the layer can simply be rebuilt narrower and every
dense kernel speeds up; unstructured sparsity needs sparse kernels to save time at all.
Distillation shrinks differently: a student with an eighth of the teacher's parameters
learns from the teacher's softened probabilities, which say which wrong classes are
*almost* right — more signal per example than the one-hot label. (On TinyDigits the same
student trained on the labels alone does about as well: measure before assuming a
technique helps.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinytorch.core.arguments import NUMERIC_KINDS
from tinytorch.core.autograd import Function, no_grad
from tinytorch.core.tensor import Tensor, _data
from tinytorch.nn.layers import Linear, Module, Parameter
from tinytorch.nn.losses import class_indices
from tinytorch.optim.optimizers import AdamW, Optimizer
from tinytorch.optim.schedulers import CosineAnnealingLR
from tinytorch.training.trainer import History, Trainer
from tinytorch.vision.spatial import Conv2d

SCOPES = ("global", "layer")


def prunable_layers(model: Module) -> list[tuple[str, Module]]:
    """(dotted name, layer) of every Linear and Conv2d in ``model``, each listed once."""
    found = model.named_modules()
    return [(name, layer) for name, layer in found if isinstance(layer, (Linear, Conv2d))]


def _output_axis(layer: Module) -> int:
    """Axis of the weight that indexes output units: Linear (in, out) -> 1, Conv2d -> 0."""
    return 1 if isinstance(layer, Linear) else 0


def _parameter_names(model: Module) -> dict[int, str]:
    return {id(p): name for name, p in model.named_parameters()}


def _selected(model: Module, layers: list[str] | None) -> list[tuple[str, Module]]:
    """The prunable layers named in ``layers`` (all of them when None); unknown names fail."""
    found = prunable_layers(model)
    if layers is None:
        return found
    by_name = dict(found)
    unknown = [name for name in layers if name not in by_name]
    if unknown:
        raise ValueError(f"pruning: no Linear/Conv2d named {unknown}; prunable: {list(by_name)}")
    return [(name, by_name[name]) for name in layers]


def _check_amount(op: str, amount: float) -> None:
    if not 0.0 <= amount < 1.0:
        raise ValueError(f"{op}: amount is the fraction to prune, in [0, 1), got {amount}")


# ============================================================================= measuring


# competency: efficiency/measures
def sparsity(x: Module | Tensor | np.ndarray) -> float:
    """Fraction of entries that are exactly zero.

    For a model: over the weights of its Linear and Conv2d layers (biases are a tiny
    fraction and are left out, as pruning papers count); for a Tensor or array: over it.
    """
    if isinstance(x, Module):
        arrays = [layer.weight.data for _, layer in prunable_layers(x)]
        if not arrays:
            raise ValueError(f"sparsity: {type(x).__name__} has no Linear or Conv2d weights")
    else:
        arrays = [np.asarray(_data(x))]
        if arrays[0].dtype.kind not in NUMERIC_KINDS:
            raise TypeError(
                f"sparsity: expected a Module, a Tensor or a numeric array, got {type(x).__name__}"
            )
    ### BEGIN SOLUTION
    zeros = sum(int(np.count_nonzero(a == 0)) for a in arrays)
    return zeros / sum(a.size for a in arrays)
    ### END SOLUTION


# competency: efficiency/knows, efficiency/measures
def sparse_size_bytes(model: Module) -> int:
    """Bytes of ``model`` with Linear/Conv2d weights stored as CSR, everything else dense.

    A weight is viewed as a matrix with one row per output unit; CSR keeps each non-zero
    value (4 bytes) with its int32 column index (4 bytes) and one int32 pointer per row
    plus one. Dense storage wins below 50% sparsity; at 90% CSR is about 5× smaller.
    """
    weights = {id(layer.weight): layer for _, layer in prunable_layers(model)}
    dense = sum(p.data.nbytes for p in model.parameters() if id(p) not in weights)
    ### BEGIN SOLUTION
    sparse = 0
    for layer in weights.values():
        rows = layer.weight.data.shape[_output_axis(layer)]
        nonzero = int(np.count_nonzero(layer.weight.data))
        sparse += nonzero * (4 + 4) + (rows + 1) * 4
    return dense + sparse
    ### END SOLUTION


# ============================================================================= masks


# competency: efficiency/implements
def magnitude_masks(
    model: Module, amount: float, scope: str = "global", layers: list[str] | None = None
) -> dict[str, np.ndarray]:
    """Unstructured pruning masks: drop the ``amount`` fraction of weights smallest in |w|.

    ``scope="global"`` ranks the weights of all selected layers together (layers whose
    weights matter less lose more); ``"layer"`` prunes each layer by the same fraction.
    Exactly round(amount · n) weights are dropped (ties broken by position), so the
    sparsity is exact. Returns {parameter name: bool mask, True = keep}, weights only.
    """
    _check_amount("magnitude_masks", amount)
    if scope not in SCOPES:
        raise ValueError(f"magnitude_masks: scope must be one of {SCOPES}, got {scope!r}")
    names = _parameter_names(model)
    weights = {names[id(layer.weight)]: layer.weight.data for _, layer in _selected(model, layers)}
    ### BEGIN SOLUTION
    groups = [list(weights)] if scope == "global" else [[name] for name in weights]
    masks = {}
    for group in groups:
        magnitudes = np.concatenate([np.abs(weights[name]).reshape(-1) for name in group])
        drop = np.argsort(magnitudes, kind="stable")[: round(amount * magnitudes.size)]
        keep = np.ones(magnitudes.size, dtype=bool)
        keep[drop] = False
        start = 0
        for name in group:
            size = weights[name].size
            masks[name] = keep[start : start + size].reshape(weights[name].shape)
            start += size
    return masks
    ### END SOLUTION


# competency: efficiency/optimizes
def structured_masks(
    model: Module, amount: float, layers: list[str] | None = None
) -> dict[str, np.ndarray]:
    """Structured pruning masks: drop whole output units with the smallest L2 norm.

    Per selected layer, round(amount · units) output neurons (a column of a Linear weight,
    whose layout is (in, out)) or filters (a slice weight[j] of a Conv2d) are removed,
    and so is their bias. Leave the classifier out (``layers=``): removing one of its
    units removes a class. Returns {parameter name: bool mask, True = keep}.
    """
    _check_amount("structured_masks", amount)
    names = _parameter_names(model)
    masks = {}
    for _, layer in _selected(model, layers):
        weight, axis = layer.weight.data, _output_axis(layer)
        ### BEGIN SOLUTION
        others = tuple(i for i in range(weight.ndim) if i != axis)
        norms = np.sqrt((weight.astype(np.float64) ** 2).sum(axis=others))
        drop = np.argsort(norms, kind="stable")[: round(amount * norms.size)]
        keep_units = np.ones(norms.size, dtype=bool)
        keep_units[drop] = False
        shape = [1] * weight.ndim
        shape[axis] = -1
        masks[names[id(layer.weight)]] = np.broadcast_to(keep_units.reshape(shape), weight.shape)
        if layer.bias is not None:
            masks[names[id(layer.bias)]] = keep_units
        ### END SOLUTION
    return masks


# ============================================================================= keeping masks


class Pruner:
    """Masks bound to a model's parameters, re-applied whenever weights may have moved.

    ``apply()`` zeroes every masked entry in place. During fine-tuning the optimizer keeps
    moving weights, so use ``pruner.wrap(optimizer)`` (or :func:`fine_tune`), which re-applies
    the masks after every step. Why after the step rather than masking the gradient: with
    momentum, Adam's moments or weight decay a zero gradient does not mean a zero update
    (momentum remembers earlier gradients), so masking gradients alone lets pruned weights
    grow back; projecting the weights back onto the mask holds for every optimizer, at the
    cost of one multiply per weight per step.
    """

    def __init__(self, model: Module, masks: dict[str, np.ndarray]) -> None:
        params = dict(model.named_parameters())
        unknown = sorted(set(masks) - set(params))
        if unknown:
            raise KeyError(f"Pruner: masks for unknown parameters {unknown}")
        for name, mask in masks.items():
            if np.shape(mask) != params[name].shape:
                raise ValueError(
                    f"Pruner: mask for '{name}' has shape {np.shape(mask)}, "
                    f"parameter has {params[name].shape}"
                )
        self.model = model
        self.masks = {name: np.array(mask, dtype=bool) for name, mask in masks.items()}
        self.params: dict[str, Parameter] = {name: params[name] for name in masks}

    def apply(self) -> None:
        """Zero every pruned entry, in place (the model keeps its arrays and shapes)."""
        ### BEGIN SOLUTION
        for name, mask in self.masks.items():
            self.params[name].data *= mask
        ### END SOLUTION

    def wrap(self, optimizer: Optimizer) -> MaskedOptimizer:
        """``optimizer`` with the masks re-applied after each step."""
        return MaskedOptimizer(optimizer, self)

    def sparsity(self) -> float:
        """Sparsity of the pruned model's weights (see :func:`sparsity`)."""
        return sparsity(self.model)


# competency: efficiency/debugs tests=test_masks_survive_fine_tuning_steps_even_with_momentum
class MaskedOptimizer:
    """Any optimizer, followed by ``pruner.apply()`` after every step.

    Everything else (``zero_grad``, ``params``, ``lr``, ``param_groups`` for schedulers,
    ``state_memory``) is the wrapped optimizer's, so a Trainer takes it as is.
    """

    def __init__(self, optimizer: Optimizer, pruner: Pruner) -> None:
        self.optimizer = optimizer
        self.pruner = pruner

    def step(self) -> None:
        ### BEGIN SOLUTION
        self.optimizer.step()
        self.pruner.apply()
        ### END SOLUTION

    def __getattr__(self, name: str) -> Any:
        return getattr(self.optimizer, name)


# competency: models/optimizes
def prune_magnitude(
    model: Module, amount: float, scope: str = "global", layers: list[str] | None = None
) -> Pruner:
    """Unstructured magnitude pruning of ``model`` in place; returns the Pruner to keep it."""
    pruner = Pruner(model, magnitude_masks(model, amount, scope, layers))
    pruner.apply()
    return pruner


def prune_structured(model: Module, amount: float, layers: list[str] | None = None) -> Pruner:
    """Structured (neuron/filter) pruning of ``model`` in place; returns the Pruner."""
    pruner = Pruner(model, structured_masks(model, amount, layers))
    pruner.apply()
    return pruner


def fine_tune(
    pruner: Pruner,
    x: np.ndarray,
    y: np.ndarray,
    loss_fn: Callable[..., Tensor],
    epochs: int = 8,
    lr: float = 1e-2,
    batch_size: int = 64,
    seed: int = 0,
) -> History:
    """Recover accuracy after pruning: AdamW with a cosine schedule, masks kept after each step.

    A fresh optimizer starts without momentum from before pruning. The defaults are the
    recipe measured on the M3 MLP at 90% sparsity: one-shot pruning cost it about 9 points,
    and 8 epochs at a fairly high learning rate, decaying to 0, won all but 0–1 point back
    (at 3e-3 for 5 epochs about 1–2 points stayed lost). Returns the Trainer's History.
    """
    optimizer = AdamW(pruner.model.parameters(), lr=lr, weight_decay=0.0)
    ### BEGIN SOLUTION
    trainer = Trainer(
        pruner.model,
        pruner.wrap(optimizer),
        loss_fn,
        scheduler=CosineAnnealingLR(optimizer, epochs),
        progress=False,
    )
    return trainer.fit(x, y, epochs=epochs, batch_size=batch_size, seed=seed)
    ### END SOLUTION


# ============================================================================= distillation


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax by the log-sum-exp trick: finite for logits of ±1e4."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class DistillationLossFunction(Function):
    """α·T²·KL(p_teacher^T ‖ p_student^T) + (1 − α)·CE(student, targets), batch means.

    p^T = softmax(logits / T). Gradient with respect to the student's logits, per row:
    α·T·(p_student^T − p_teacher^T)/N + (1 − α)·(softmax(student) − one_hot)/N. Softening by
    T shrinks the soft gradient by 1/T², so the loss multiplies by T² to keep both terms on
    the same scale whatever T is. The teacher is a constant: it gets no gradient.
    """

    def forward(
        self,
        student: np.ndarray,
        teacher: np.ndarray,
        targets: np.ndarray | None,
        *,
        temperature: float,
        alpha: float,
    ) -> np.ndarray:
        ### BEGIN SOLUTION
        n, t = student.shape[0], temperature
        log_p_student = _log_softmax(student / t)
        log_p_teacher = _log_softmax(teacher.astype(student.dtype) / t)
        p_teacher = np.exp(log_p_teacher)
        kl = (p_teacher * (log_p_teacher - log_p_student)).sum() / n
        self.soft_grad = alpha * t * (np.exp(log_p_student) - p_teacher) / n
        loss = alpha * t * t * kl
        if alpha < 1.0:
            log_p = _log_softmax(student)
            rows = np.arange(n)
            loss += (1.0 - alpha) * -log_p[rows, targets].mean()
            hard_grad = np.exp(log_p)
            hard_grad[rows, targets] -= 1.0
            self.soft_grad += (1.0 - alpha) * hard_grad / n
        return np.asarray(loss, dtype=student.dtype)
        ### END SOLUTION

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, None, None]:
        ### BEGIN SOLUTION
        return grad * self.soft_grad, None, None
        ### END SOLUTION


def distillation_loss(
    student_logits: Tensor,
    teacher_logits: Any,
    targets: Any = None,
    temperature: float = 4.0,
    alpha: float = 0.5,
) -> Tensor:
    """Knowledge-distillation loss (Hinton et al., 2015), differentiable in the student.

    ``student_logits`` and ``teacher_logits`` (N, C); ``targets`` int (N,) class labels,
    needed unless ``alpha == 1`` (soft targets only). ``temperature`` T > 0 softens both
    distributions (T = 1: plain probabilities); ``alpha`` in [0, 1] weighs the soft term
    α·T²·KL against the hard cross-entropy (1 − α)·CE. Returns a scalar Tensor.
    """
    if not temperature > 0:
        raise ValueError(f"distillation_loss: temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: alpha must be in [0, 1], got {alpha}")
    s_shape, t_shape = np.shape(_data(student_logits)), np.shape(_data(teacher_logits))
    if len(s_shape) != 2 or s_shape != t_shape:
        raise ValueError(
            f"distillation_loss: student logits {s_shape} and teacher logits {t_shape} "
            "must both be (batch, classes)"
        )
    if alpha < 1.0:
        if targets is None:
            raise ValueError("distillation_loss: targets are needed unless alpha == 1")
        targets = class_indices("distillation_loss", student_logits, targets)
    else:
        targets = None
    return DistillationLossFunction.apply(
        student_logits, teacher_logits, targets, temperature=temperature, alpha=alpha
    )


class _LookupDistillationLoss:
    """A Trainer loss whose "targets" are example indices: it looks up the teacher's logits
    and the true labels of those examples, so the Trainer's loop needs no change."""

    def __init__(
        self, teacher_logits: np.ndarray, labels: np.ndarray, temperature: float, alpha: float
    ) -> None:
        self.teacher_logits = teacher_logits
        self.labels = labels
        self.temperature = temperature
        self.alpha = alpha

    def __call__(self, student_logits: Tensor, index: np.ndarray) -> Tensor:
        return distillation_loss(
            student_logits,
            self.teacher_logits[index],
            self.labels[index],
            self.temperature,
            self.alpha,
        )


def teacher_logits(teacher: Module, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The teacher's logits for every row of ``x``, without a graph (leaves it in eval mode)."""
    teacher.eval()
    with no_grad():
        return np.concatenate(
            [teacher(Tensor(x[i : i + batch_size])).data for i in range(0, len(x), batch_size)]
        )


# competency: models/optimizes
def distill(
    teacher: Module,
    student: Module,
    x: np.ndarray,
    y: np.ndarray,
    temperature: float = 4.0,
    alpha: float = 0.5,
    epochs: int = 20,
    lr: float = 3e-3,
    batch_size: int = 64,
    seed: int = 0,
    weight_decay: float = 0.01,
) -> History:
    """Train ``student`` on (x, y) with the distillation loss against a frozen ``teacher``.

    The teacher runs once over ``x`` (its logits are N × C floats, 57 KB for TinyDigits),
    not once per epoch, and holds no gradients or optimizer state: training memory is the
    student's alone. AdamW with a cosine schedule; returns the Trainer's History.
    """
    soft_targets = teacher_logits(teacher, x)
    labels = np.asarray(y)
    ### BEGIN SOLUTION
    loss_fn = _LookupDistillationLoss(soft_targets, labels, temperature, alpha)
    optimizer = AdamW(student.parameters(), lr=lr, weight_decay=weight_decay)
    trainer = Trainer(
        student, optimizer, loss_fn, scheduler=CosineAnnealingLR(optimizer, epochs), progress=False
    )
    return trainer.fit(x, np.arange(len(x)), epochs=epochs, batch_size=batch_size, seed=seed)
    ### END SOLUTION


__all__ = [
    "DistillationLossFunction",
    "MaskedOptimizer",
    "Pruner",
    "distill",
    "distillation_loss",
    "fine_tune",
    "magnitude_masks",
    "prunable_layers",
    "prune_magnitude",
    "prune_structured",
    "sparse_size_bytes",
    "sparsity",
    "structured_masks",
    "teacher_logits",
]
