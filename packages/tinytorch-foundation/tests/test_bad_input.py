"""Bad input at the foundation tier's entry points: each names itself, what it expected
and what arrived, in the shape ``tinytorch.checks`` gives every message.

One row per entry point; the module test files hold the cases that need a set-up.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch.nn.functional as F
from tinytorch.core import Tensor, rand, randn, zeros
from tinytorch.nn import CrossEntropyLoss, Linear, Sequential
from tinytorch.optim import SGD
from tinytorch.training import Trainer, clip_grad_norm_


def x() -> Tensor:
    return Tensor(np.ones((2, 3)))


def trainer() -> Trainer:
    model = Sequential(Linear(3, 2))
    return Trainer(model, SGD(model.parameters(), lr=0.1), CrossEntropyLoss(), progress=False)


BAD_CALLS = {
    "zeros(-1)": (lambda: zeros(-1), ValueError, "zeros: every size in the shape must be >= 0"),
    "zeros(2.5)": (lambda: zeros(2, 2.5), TypeError, "zeros: every size .* an int, got float 2.5"),
    "randn('a')": (lambda: randn("a"), TypeError, "randn: every size .* an int, got str 'a'"),
    "rand((2, None))": (lambda: rand((2, None)), TypeError, "rand: every size .* got NoneType"),
    "reshape(2.5, 2)": (
        lambda: x().reshape(2.5, 2),
        TypeError,
        "Tensor.reshape: every size in the shape must be an int, got float 2.5",
    ),
    "reshape(-2, 3)": (lambda: x().reshape(-2, 3), ValueError, "must be >= -1, got -2"),
    "permute('a', 1)": (
        lambda: x().permute("a", 1),
        TypeError,
        "Tensor.permute: axis must be an int, got str 'a'",
    ),
    "permute(0, 5)": (
        lambda: x().permute(0, 5),
        ValueError,
        r"Tensor.permute: axis=5 is out of range .* shape \(2, 3\) \(valid: -2 to 1\)",
    ),
    "softmax(dim=5)": (lambda: F.softmax(x(), dim=5), ValueError, "softmax: dim=5 is out of"),
    "log_softmax(dim=-3)": (
        lambda: F.log_softmax(x(), dim=-3),
        ValueError,
        "log_softmax: dim=-3 is out of range",
    ),
    "relu('a')": (lambda: F.relu("a"), TypeError, "relu: expected a Tensor, got str 'a'"),
    "gelu([1.0])": (lambda: F.gelu([1.0]), TypeError, r"gelu: expected a Tensor, got list"),
    "clip_grad_norm_(nan)": (
        lambda: clip_grad_norm_(Linear(2, 2).parameters(), float("nan")),
        ValueError,
        r"clip_grad_norm_: max_norm must be a number >= 0 \(inf measures .*\), got nan",
    ),
    "Trainer(None, ...)": (
        lambda: Trainer(None, SGD(Linear(2, 2).parameters(), lr=0.1), CrossEntropyLoss()),
        TypeError,
        r"Trainer: expected a Module \(a layer or a model\), got NoneType",
    ),
    "Trainer(model, 'sgd', ...)": (
        lambda: Trainer(Linear(2, 2), "sgd", CrossEntropyLoss()),
        TypeError,
        "Trainer: optimizer.step must be callable",
    ),
    "Trainer(..., loss_fn='ce')": (
        lambda: Trainer(Linear(2, 2), SGD(Linear(2, 2).parameters(), lr=0.1), "ce"),
        TypeError,
        "Trainer: loss_fn must be callable .*got str 'ce'",
    ),
    "Trainer.fit(batch_size=2.5)": (
        lambda: trainer().fit(np.ones((4, 3)), np.zeros(4, np.int64), batch_size=2.5),
        TypeError,
        "Trainer.fit: batch_size must be an int, got float 2.5",
    ),
    "Trainer.fit(epochs=0)": (
        lambda: trainer().fit(np.ones((4, 3)), np.zeros(4, np.int64), epochs=0),
        ValueError,
        "Trainer.fit: epochs must be >= 1, got 0",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_each_entry_point_names_itself_and_what_arrived(case) -> None:
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error, match=message):
        call()
