"""Graded checks of Module 07 · Training: schedule, clipping, one training step, checkpoints."""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn import CrossEntropyLoss, Linear, Parameter, Sequential, Tanh
from tinytorch.optim import SGD, Adam
from tinytorch.training import (
    CosineAnnealingLR,
    Trainer,
    clip_grad_norm_,
    load_checkpoint,
    save_checkpoint,
)

RNG = np.random.default_rng(707)
X = RNG.standard_normal((6, 3))
Y = np.array([0, 1, 1, 0, 1, 0])
W1, B1 = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
W2, B2 = RNG.standard_normal((4, 2)), RNG.standard_normal(2)


def _model():
    model = Sequential(Linear(3, 4), Tanh(), Linear(4, 2))
    model.load_state_dict({"0.weight": W1, "0.bias": B1, "2.weight": W2, "2.bias": B2})
    return model


def _weights(model):
    return {name: p.data for name, p in model.named_parameters()}


def check_cosine_schedule():
    """Learning rates along a cosine schedule, with and without warm-up, and past T_max."""
    optimizer = SGD([Parameter(np.zeros(1))], lr=0.1)
    plain = CosineAnnealingLR(optimizer, T_max=10, eta_min=0.01)
    warm = CosineAnnealingLR(optimizer, T_max=10, warmup_steps=3)
    return {
        "plain": [plain.lr_at(step, 0.1) for step in range(13)],
        "warmup": [warm.lr_at(step, 0.1) for step in range(13)],
    }


def check_clip_grad_norm():
    """The norm before clipping, and gradients scaled together (2-norm and max-norm)."""
    results = {}
    for name, max_norm, norm_type in (
        ("clipped", 1.0, 2.0),
        ("kept", 100.0, 2.0),
        ("inf", 0.5, float("inf")),
    ):
        a, b = Parameter(np.zeros((2, 2))), Parameter(np.zeros(3))
        a.grad, b.grad = Tensor(W1[:2, :2] * 3), Tensor(B1[:3])
        norm = clip_grad_norm_([a, b], max_norm, norm_type=norm_type)
        results[name] = {"norm": norm, "a": a.grad.data, "b": b.grad.data}
    return results


def check_train_step():
    """One step of a Trainer: forward, loss, backward, SGD; the loss and the new weights."""
    model = _model()
    trainer = Trainer(model, SGD(model.parameters(), lr=0.5), CrossEntropyLoss(), progress=False)
    losses = [trainer.train_step(X, Y) for _ in range(3)]
    return {"losses": losses, "weights": _weights(model)}


def check_train_step_clips():
    """A Trainer with max_grad_norm clips before it steps."""
    model = _model()
    trainer = Trainer(
        model,
        SGD(model.parameters(), lr=0.5),
        CrossEntropyLoss(),
        max_grad_norm=0.1,
        progress=False,
    )
    trainer.train_step(X, Y)
    return _weights(model)


def check_checkpoint_round_trip():
    """Save after two Adam steps, load into a fresh model and optimizer, and continue."""
    model = _model()
    optimizer = Adam(model.parameters(), lr=0.05)
    trainer = Trainer(model, optimizer, CrossEntropyLoss(), progress=False)
    trainer.train_step(X, Y)
    trainer.train_step(X, Y)
    save_checkpoint("round-trip.npz", model, optimizer, epoch=2, note="graded")
    fresh = Sequential(Linear(3, 4), Tanh(), Linear(4, 2))
    fresh_optimizer = Adam(fresh.parameters(), lr=0.05)
    metadata = load_checkpoint("round-trip.npz", fresh, fresh_optimizer)
    restored = _weights(fresh)
    Trainer(fresh, fresh_optimizer, CrossEntropyLoss(), progress=False).train_step(X, Y)
    trainer.train_step(X, Y)
    return {
        "metadata": metadata,
        "restored": restored,
        "continued": _weights(fresh),
        "same": _weights(model),
    }
