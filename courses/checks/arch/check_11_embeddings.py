"""Graded checks of Module 11 · Embeddings: lookups, their sparse gradient, positions."""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.text import (
    Embedding,
    LearnedPositionalEmbedding,
    PositionalEncoding,
    sinusoidal_table,
)

RNG = np.random.default_rng(1111)
TABLE = RNG.standard_normal((10, 4))
IDS = np.array([[1, 5, 1], [9, 0, 5]])


def _embedding():
    layer = Embedding(10, 4)
    layer.weight.data = TABLE.astype(np.float32)
    return layer


def check_lookup_and_gradient():
    """Rows picked by id; gradient rows of repeated ids add up, unused rows stay zero."""
    layer = _embedding()
    out = layer(IDS)
    (out * Tensor(RNG.standard_normal(out.shape))).sum().backward()
    return {"out": out.data, "grad": layer.weight.grad.data}


def check_gradient_report():
    """Rows a batch updates, and dense vs sparse gradient bytes."""
    report = _embedding().gradient_report(IDS)
    return {
        "rows_used": report.rows_used,
        "dense": report.dense_bytes,
        "sparse": report.sparse_bytes,
        "fraction": report.fraction_used,
    }


def check_sinusoidal_positions():
    """The sinusoidal table, and adding it from a start position."""
    x = Tensor(RNG.standard_normal((2, 3, 6)))
    return {
        "table": sinusoidal_table(7, 6),
        "added": PositionalEncoding(16, 6)(x).data,
        "shifted": PositionalEncoding(16, 6)(x, start_pos=4).data,
    }


def check_learned_positions():
    """A learned position vector per position, added from a start position, with gradients."""
    layer = LearnedPositionalEmbedding(8, 4)
    layer.weight.data = RNG.standard_normal((8, 4)).astype(np.float32)
    x = Tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    out = layer(x, start_pos=2)
    (out * Tensor(RNG.standard_normal(out.shape))).sum().backward()
    return {"out": out.data, "table_grad": layer.weight.grad.data, "x_grad": x.grad.data}
