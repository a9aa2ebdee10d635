"""Graded checks of Module 01 · Tensor: construction, arithmetic, matmul, reductions, views.

Each check calls the learner's code on inputs chosen here and returns what it computed;
the grader compares that with the answer the solution gave (see coursetools.grading).
"""

import numpy as np

from tinytorch.core import Tensor, matmul_loops

RNG = np.random.default_rng(101)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4, 2))
ROW = RNG.standard_normal(4)


def check_construction_and_footprint():
    """A Tensor from nested lists: float32 data, shape, and its bytes."""
    t = Tensor([[1, 2, 3], [4, 5, 6]])
    wide = Tensor(np.zeros((5, 7)), dtype=np.float64)
    return {
        "data": t.data,
        "dtype": str(t.data.dtype),
        "bytes": t.memory_footprint(),
        "wide_bytes": wide.memory_footprint(),
    }


def check_broadcast_arithmetic():
    """+, -, *, /, ** and unary minus between a (3, 4) matrix and a row or a number."""
    a, row = Tensor(A), Tensor(ROW)
    return {
        "add": (a + row).data,
        "sub": (a - 2.5).data,
        "mul": (a * row).data,
        "div": (a / (row * row + 1.0)).data,
        "pow": (a**2).data,
        "neg": (-a).data,
    }


def check_matrix_products():
    """(3, 4) @ (4, 2), a batched product, and the three-loop reference."""
    batch = Tensor(np.stack([A, 2 * A]))
    return {
        "matmul": (Tensor(A) @ Tensor(B)).data,
        "batched": (batch @ Tensor(B)).data,
        "loops": matmul_loops(Tensor(A), Tensor(B)).data,
    }


def check_reductions():
    """sum, mean and max over everything, over an axis, and with keepdims."""
    a = Tensor(A)
    return {
        "sum": a.sum().data,
        "sum0": a.sum(axis=0).data,
        "mean1": a.mean(axis=1, keepdims=True).data,
        "max": a.max().data,
        "max_last": a.max(axis=-1).data,
    }


def check_views_and_indexing():
    """reshape (with -1), permute, and indexing by int, slice, list and mask."""
    a = Tensor(np.arange(24.0).reshape(2, 3, 4))
    m = Tensor(A)
    return {
        "reshape": a.reshape(4, -1).data,
        "permute": a.permute(2, 0, 1).data,
        "row": m[1].data,
        "slice": m[:, 1:3].data,
        "rows": m[[0, 2]].data,
        "mask": m[m.data > 0].data,
    }


def check_elementwise_math():
    """exp, log and sqrt of positive values."""
    x = Tensor(np.abs(A) + 0.5)
    return {"exp": x.exp().data, "log": x.log().data, "sqrt": x.sqrt().data}
