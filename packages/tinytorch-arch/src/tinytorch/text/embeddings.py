"""Module 11 · Embeddings — token ids become vectors, and positions become visible.

Connection map
    Prerequisites : 01 Tensor · 03 Layers (Module, Parameter) · 05 Autograd (Function)
                    · 10 Tokenization (the ids)
    This module   : Embedding (a table lookup whose gradient scatters into only the rows
                    that were used), sinusoidal PositionalEncoding (no parameters) and
                    LearnedPositionalEmbedding (one learned row per position)
    Unlocks       : 12 Attention (which is blind to order without positions) ·
                    13 Transformers · Milestone 5

Systems insight: an embedding lookup does no arithmetic — it copies rows. Its backward
pass is a scatter-add (``np.add.at``) into the rows the batch used: a batch of 4,096
tokens drawn from a 50,000-row table touches at most 4,096 rows, so the other rows'
gradients are exactly zero. Frameworks exploit this with sparse gradients (PyTorch's
``sparse=True``); ``Embedding.gradient_report`` shows what that saves. The table itself
is V × d × 4 bytes: 50,000 × 768 floats is 154 MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor, _data, get_rng
from tinytorch.nn.layers import Module, Parameter, check_positive


def _indices(op: str, indices: Any, num_embeddings: int) -> np.ndarray:
    """``indices`` as an integer array, checked against a table of ``num_embeddings`` rows."""
    array = np.asarray(_data(indices))
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(
            f"{op}: indices must be integers, got dtype {array.dtype} with shape {array.shape}; "
            "convert token ids with np.asarray(ids, dtype=np.int64)"
        )
    if array.size and (array.min() < 0 or array.max() >= num_embeddings):
        bad = array.max() if array.max() >= num_embeddings else array.min()
        raise IndexError(
            f"{op}: index {bad} is out of range for a table of {num_embeddings} rows "
            f"(indices shape {array.shape}); valid ids are 0..{num_embeddings - 1}"
        )
    return array


class EmbeddingFunction(Function):
    """out = weight[indices]: (V, d) table, integer indices (...) -> (..., d).

    Backward: dWeight = zeros (V, d), then ``np.add.at(dWeight, indices, grad)`` — a
    scatter that adds (never overwrites), so a token used twice gets both gradients.
    Only the rows in ``indices`` become non-zero; they are kept in ``rows_touched``.
    The scatter runs on flat views: element (n, j) of the gradient goes to element
    indices[n]·d + j of the table, and ``np.add.at`` has a fast path for such 1-D
    indices (about 5x faster than indexing whole rows of a 2-D table).
    """

    def forward(self, weight: np.ndarray, *, indices: np.ndarray) -> np.ndarray:
        ### BEGIN SOLUTION
        return weight[indices]
        ### END SOLUTION

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        ### BEGIN SOLUTION
        indices, weight = self.indices, self.array(0)
        dim = weight.shape[-1]
        grad_weight = np.zeros_like(weight)
        flat_index = indices.reshape(-1, 1) * dim + np.arange(dim)  # (N, d): row·d + column
        np.add.at(grad_weight.reshape(-1), flat_index.reshape(-1), grad.reshape(-1))
        self.rows_touched = np.unique(indices)
        return (grad_weight,)
        ### END SOLUTION


@dataclass(frozen=True)
class EmbeddingGradReport:
    """How sparse one batch's embedding gradient is, and what a sparse update would cost."""

    rows_used: int
    num_embeddings: int
    embedding_dim: int
    itemsize: int = 4

    @property
    def dense_bytes(self) -> int:
        """A full (V, d) gradient array, what this framework stores."""
        return self.num_embeddings * self.embedding_dim * self.itemsize

    @property
    def sparse_bytes(self) -> int:
        """Only the used rows plus their int64 row ids."""
        return self.rows_used * (self.embedding_dim * self.itemsize + 8)

    @property
    def fraction_used(self) -> float:
        return self.rows_used / self.num_embeddings

    def __str__(self) -> str:
        return (
            f"{self.rows_used:,} of {self.num_embeddings:,} rows receive a gradient "
            f"({self.fraction_used:.1%}); dense gradient {self.dense_bytes:,} B, "
            f"sparse {self.sparse_bytes:,} B"
        )


# competency: models/implements
class Embedding(Module):
    """A learnable lookup table: ``Embedding(num_embeddings, embedding_dim)``.

    Input: integer ids of any shape (...); output (..., embedding_dim). Weights start as
    N(0, 1), as in PyTorch. Parameters: num_embeddings × embedding_dim; FLOPs: none
    (a gather of (...) × d numbers).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        check_positive("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.weight = Parameter(
            get_rng().standard_normal((num_embeddings, embedding_dim)).astype(np.float32)
        )

    def forward(self, indices: Any) -> Tensor:
        ### BEGIN SOLUTION
        ids = _indices("Embedding.forward", indices, self.num_embeddings)
        return EmbeddingFunction.apply(self.weight, indices=ids)
        ### END SOLUTION

    # competency: graphs/measures
    def gradient_report(self, indices: Any) -> EmbeddingGradReport:
        """How many rows a batch with these ids updates, dense vs sparse gradient bytes."""
        ### BEGIN SOLUTION
        ids = _indices("Embedding.gradient_report", indices, self.num_embeddings)
        return EmbeddingGradReport(
            int(np.unique(ids).size),
            self.num_embeddings,
            self.embedding_dim,
            self.weight.dtype.itemsize,
        )
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


def _check_positions(op: str, x: Tensor, start_pos: int, max_len: int, dim: int) -> int:
    """The sequence length of x (batch, seq, dim), checked against the table."""
    if x.ndim < 2 or x.shape[-1] != dim:
        raise ValueError(f"{op}: expected input (..., seq_len, {dim}), got shape {x.shape}")
    seq_len = x.shape[-2]
    if start_pos < 0 or start_pos + seq_len > max_len:
        raise ValueError(
            f"{op}: positions {start_pos}..{start_pos + seq_len - 1} (input shape {x.shape}) "
            f"exceed max_len {max_len}; build the layer with a larger max_len"
        )
    return seq_len


def sinusoidal_table(max_len: int, embedding_dim: int) -> np.ndarray:
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(same), float32 (max_len, d).

    Each pair of columns is a clock with its own period, from 2π up to 10000·2π
    positions, so every position gets a distinct pattern and PE[pos + k] is a fixed
    rotation of PE[pos] (Vaswani et al., 2017).
    """
    ### BEGIN SOLUTION
    positions = np.arange(max_len, dtype=np.float64)[:, None]
    rates = 1.0 / 10000.0 ** (np.arange(0, embedding_dim, 2, dtype=np.float64) / embedding_dim)
    table = np.zeros((max_len, embedding_dim))
    table[:, 0::2] = np.sin(positions * rates)
    table[:, 1::2] = np.cos(positions * rates[: embedding_dim // 2])
    return table.astype(np.float32)
    ### END SOLUTION


class PositionalEncoding(Module):
    """Add the fixed sinusoidal table: x (..., T, d) -> x + PE[start_pos : start_pos + T].

    No parameters, works for any position below ``max_len`` (the table is precomputed:
    max_len × d × 4 bytes, not part of the state dict).
    """

    def __init__(self, max_len: int, embedding_dim: int) -> None:
        check_positive("PositionalEncoding", max_len=max_len, embedding_dim=embedding_dim)
        self.max_len = max_len
        self.embedding_dim = embedding_dim
        self.table = sinusoidal_table(max_len, embedding_dim)

    def forward(self, x: Tensor, start_pos: int = 0) -> Tensor:
        ### BEGIN SOLUTION
        seq_len = _check_positions(
            "PositionalEncoding.forward", x, start_pos, self.max_len, self.embedding_dim
        )
        return x + self.table[start_pos : start_pos + seq_len].astype(x.dtype, copy=False)
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, embedding_dim={self.embedding_dim}"


class LearnedPositionalEmbedding(Module):
    """Add one learned vector per position (GPT-2's ``wpe``): x (..., T, d) -> x + P[pos].

    Parameters: max_len × d, initialised N(0, 0.02²) as in GPT-2. Positions beyond
    ``max_len`` have no row: the model cannot read longer sequences.
    """

    def __init__(self, max_len: int, embedding_dim: int) -> None:
        check_positive("LearnedPositionalEmbedding", max_len=max_len, embedding_dim=embedding_dim)
        self.max_len = max_len
        self.embedding_dim = embedding_dim
        self.weight = Parameter(
            (0.02 * get_rng().standard_normal((max_len, embedding_dim))).astype(np.float32)
        )

    def forward(self, x: Tensor, start_pos: int = 0) -> Tensor:
        ### BEGIN SOLUTION
        seq_len = _check_positions(
            "LearnedPositionalEmbedding.forward", x, start_pos, self.max_len, self.embedding_dim
        )
        positions = np.arange(start_pos, start_pos + seq_len)
        return x + EmbeddingFunction.apply(self.weight, indices=positions)
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, embedding_dim={self.embedding_dim}"
