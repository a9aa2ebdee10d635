"""Bad input at the optimization tier's entry points: each names itself, what it expected
and what arrived. One row per entry point; module test files hold the rest."""

from __future__ import annotations

import pytest

from tinytorch.perf import compare, linear_flops, size_report, sparsity
from tinytorch.perf.acceleration import accelerate

BAD_CALLS = {
    "sparsity('a')": (
        lambda: sparsity("a"),
        TypeError,
        "sparsity: expected a Module, a Tensor or a numeric array, got str",
    ),
    "size_report(1, 2)": (
        lambda: size_report(1, 2),
        TypeError,
        r"model_size_bytes: expected a Module \(a layer or a model\), got int",
    ),
    "accelerate(5)": (lambda: accelerate(5), TypeError, "accelerate: expected a Module"),
    "compare(samples, 'b')": (
        lambda: compare([1.0, 2.0, 3.0], "b"),
        TypeError,
        "samples must be numbers, got 'b'",
    ),
    "linear_flops(-1, 2, 3)": (
        lambda: linear_flops(-1, 2, 3),
        ValueError,
        "linear_flops: rows must be >= 0, got -1",
    ),
    "linear_flops(4, 2.5, 3)": (
        lambda: linear_flops(4, 2.5, 3),
        TypeError,
        "linear_flops: in_features must be an int, got float 2.5",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_each_entry_point_names_itself_and_what_arrived(case) -> None:
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error, match=message):
        call()
