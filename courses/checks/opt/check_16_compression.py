"""Graded checks of Module 16 · Compression: sparsity, pruning, pruned training, distillation."""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import SGD
from tinytorch.perf import compression

RNG = np.random.default_rng(1616)
X = RNG.standard_normal((64, 6)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def _model(seed=16):
    model = Sequential(Linear(6, 8), ReLU(), Linear(8, 2))
    rng = np.random.default_rng(seed)
    for _, p in model.named_parameters():
        p.data = rng.standard_normal(p.shape).astype(np.float32)
    return model


def _masks(masks):
    return {name: mask.astype(bool).tolist() for name, mask in sorted(masks.items())}


def check_sparsity_and_sparse_bytes():
    """The fraction of exact zeros, and the bytes of a model with its weights stored as CSR."""
    model = _model()
    model[0].weight.data[:, :3] = 0.0
    return {
        "array": compression.sparsity(np.array([0.0, 1.0, 0.0, -2.0])),
        "tensor": compression.sparsity(Tensor(np.eye(4))),
        "model": compression.sparsity(model),
        "csr_bytes": compression.sparse_size_bytes(model),
    }


def check_magnitude_masks():
    """Unstructured masks keeping the largest |w|: one threshold for all layers, or per layer."""
    model = _model()
    return {
        "global": _masks(compression.magnitude_masks(model, 0.5)),
        "per_layer": _masks(compression.magnitude_masks(model, 0.25, scope="layer")),
    }


def check_structured_masks():
    """Structured masks dropping whole output units with the smallest L2 norm."""
    return _masks(compression.structured_masks(_model(), 0.5))


def check_pruner_keeps_zeros_through_training():
    """apply() zeroes the pruned weights; a wrapped optimizer keeps them zero after each step."""
    model = _model()
    pruner = compression.Pruner(model, compression.magnitude_masks(model, 0.5))
    pruner.apply()
    after_apply = [p.data.copy() for p in model.parameters()]
    optimizer = pruner.wrap(SGD(model.parameters(), lr=0.1))
    for p in model.parameters():
        p.grad = Tensor(np.ones(p.shape))
    optimizer.step()
    return {"applied": after_apply, "stepped": [p.data for p in model.parameters()]}


def check_distillation_loss():
    """The distillation loss and its gradient in the student, with and without hard targets."""
    student = Tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    teacher = RNG.standard_normal((4, 3))
    loss = compression.distillation_loss(
        student, teacher, np.array([0, 2, 1, 1]), temperature=3.0, alpha=0.7
    )
    loss.backward()
    soft_only = compression.distillation_loss(
        Tensor(student.data), teacher, temperature=2.0, alpha=1.0
    )
    return {"loss": loss.data, "grad": student.grad.data, "soft_only": soft_only.data}


def check_fine_tune_and_distill():
    """Fine-tuning keeps pruned weights at zero and lowers the loss; distilling trains a student."""
    model = _model()
    pruner = compression.Pruner(model, compression.magnitude_masks(model, 0.6))
    pruner.apply()
    history = compression.fine_tune(
        pruner, X, Y, CrossEntropyLoss(), epochs=4, lr=0.05, batch_size=16
    )
    teacher, student = _model(1), _model(2)
    teacher_before = [p.data.copy() for p in teacher.parameters()]
    distilled = compression.distill(teacher, student, X, Y, epochs=4, lr=0.02, batch_size=16)
    return {
        "sparsity": compression.sparsity(model),
        "fine_tune_improves": history["loss"][-1] < history["loss"][0],
        "distill_improves": distilled["loss"][-1] < distilled["loss"][0],
        "teacher_untouched": all(
            np.array_equal(a, p.data) for a, p in zip(teacher_before, teacher.parameters())
        ),
    }
