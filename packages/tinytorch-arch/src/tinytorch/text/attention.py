"""Module 12 · Attention — every token looks at every other token, at O(N²) cost.

Connection map
    Prerequisites : 01 Tensor (batched matmul) · 02 Activations (stable softmax) ·
                    03 Layers (Linear) · 05 Autograd (Function) · 11 Embeddings
    This module   : scaled dot-product attention as one fused, gradchecked Function;
                    boolean and causal masks; MultiHeadAttention with all heads in one
                    batched matmul; the O(N²) attention-score memory, reported
    Unlocks       : 13 Transformers (attention + MLP + LayerNorm) · Milestone 5 ·
                    17 Memoization (the KV cache plugs into ``MultiHeadAttention``)

Systems insight: attention materialises a (T, T) score matrix per head, and the
backward pass needs it again. For one sequence of 1,024 tokens with 12 heads that is
12 × 1024² × 4 B = 48 MiB per layer; double T and it is 4× as much. The arithmetic grows
the same way: QKᵀ and P·V are 2 × 2·T²·d FLOPs per head. ``attention_memory`` and
``print_attention_memory`` put numbers on it; FlashAttention's trick is to never store
the whole matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tinytorch.checks import check_int
from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor, _data
from tinytorch.nn.layers import Linear, Module, check_positive


def causal_mask(seq_len: int, past_len: int = 0) -> np.ndarray:
    """Boolean (seq_len, past_len + seq_len): True where query i may look at key j.

    Query i sits at position past_len + i and may see every key up to and including
    itself: j <= past_len + i. With ``past_len = 0`` this is the lower triangle.
    ``past_len > 0`` is the shape for new queries over cached + new keys (Module 17).
    """
    check_int("causal_mask", "seq_len", seq_len)
    check_int("causal_mask", "past_len", past_len)
    ### BEGIN SOLUTION
    if seq_len <= 0 or past_len < 0:
        raise ValueError(
            f"causal_mask: need seq_len > 0 and past_len >= 0, got {seq_len} and {past_len}"
        )
    keys = np.arange(past_len + seq_len)
    queries = np.arange(seq_len)[:, None] + past_len
    return keys[None, :] <= queries
    ### END SOLUTION


def _check_attention_inputs(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: Any) -> Any:
    """Raise a clear error for inconsistent shapes; return the mask as a bool array."""
    op = "scaled_dot_product_attention"
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(
            f"{op}: q, k, v need at least 2 dimensions (..., seq, dim), got {q.shape}, "
            f"{k.shape}, {v.shape}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"{op}: q {q.shape} and k {k.shape} must share their last (feature) dimension"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{op}: k {k.shape} and v {v.shape} must have the same number of keys")
    scores_shape = (q.shape[-2], k.shape[-2])
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{op}: the batch dimensions of q {q.shape}, k {k.shape}, v {v.shape} do not broadcast"
        ) from None
    if mask is None:
        return None
    mask = np.asarray(_data(mask))
    if mask.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be boolean (True = may attend), got dtype {mask.dtype}")
    try:
        np.broadcast_shapes(mask.shape, (*batch, *scores_shape))
    except ValueError:
        raise ValueError(
            f"{op}: mask {mask.shape} does not broadcast to the scores "
            f"{(*batch, *scores_shape)} of q {q.shape} and k {k.shape}"
        ) from None
    return mask


class ScaledDotProductAttention(Function):
    """softmax(Q Kᵀ / sqrt(d_k), masked) V, as one graph node.

    Shapes: q (..., Tq, d_k), k (..., Tk, d_k), v (..., Tk, d_v) -> (..., Tq, d_v); batch
    dimensions broadcast. Forward keeps the attention weights P (..., Tq, Tk) for
    backward — that array is the O(T²) memory. With S = QKᵀ/sqrt(d_k), P = softmax(S),
    O = PV and upstream gradient G:
        dV = Pᵀ G,  dP = G Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
        dQ = dS K / sqrt(d_k),  dK = dSᵀ Q / sqrt(d_k).
    Masked entries get probability exactly 0 (and so no gradient). A row whose every key
    is masked is uniform instead of NaN.

    Cost is memory traffic as much as FLOPs: every pass over a (..., Tq, Tk) array reads
    and writes the O(T²) buffer. So the score buffer is masked (by adding a penalty shaped
    like the mask), shifted, exponentiated and normalised in place, and backward uses
    rowsum(dP ⊙ P) = rowsum(G ⊙ O) (the sum over keys of G·Vᵀ·P is G·O, FlashAttention's
    trick), a product of (Tq, d_v) arrays instead of a third (Tq, Tk) one; the scale is
    applied to dQ and dK, not to dS. Row sums use ``np.einsum``, one C loop over all rows:
    ``.sum(axis=-1)`` pays a setup per row, about 4x slower on rows as short as a head's
    64 keys.
    """

    def forward(
        self, q: np.ndarray, k: np.ndarray, v: np.ndarray, *, mask: np.ndarray | None = None
    ) -> np.ndarray:
        ### BEGIN SOLUTION
        self.scale = 1.0 / math.sqrt(q.shape[-1])  # a Python float: float32 stays float32
        scores = np.matmul(q, np.swapaxes(k, -1, -2))
        scores *= self.scale
        if mask is not None:
            # + 0 where allowed, + the lowest float where blocked: in place, one pass (np.where
            # would allocate a second score array); lowest + score rounds back to lowest.
            penalty = np.where(mask, 0, np.finfo(scores.dtype).min).astype(scores.dtype)
            if np.broadcast_shapes(scores.shape, penalty.shape) == scores.shape:
                scores += penalty
            else:  # the mask has batch axes that q and k lack
                scores = scores + penalty
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= np.einsum("...k->...", scores)[..., None]  # row sums
        self.weights = scores
        return np.matmul(scores, v)
        ### END SOLUTION

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ### BEGIN SOLUTION
        q, k, v = self.array(0), self.array(1), self.array(2)
        p = self.weights
        grad_v = np.matmul(np.swapaxes(p, -1, -2), grad)
        grad_s = np.matmul(grad, np.swapaxes(v, -1, -2))  # dP, turned into dS in place
        grad_s -= np.einsum("...d,...d->...", grad, self.out)[..., None]  # rowsum(dP ⊙ P)
        grad_s *= p
        grad_q = np.matmul(grad_s, k)
        grad_q *= self.scale
        grad_k = np.matmul(np.swapaxes(grad_s, -1, -2), q)
        grad_k *= self.scale
        return grad_q, grad_k, grad_v
        ### END SOLUTION


# competency: operations/implements, operations/debugs
def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Any = None) -> Tensor:
    """Attention of queries q over keys k and values v (see :class:`ScaledDotProductAttention`).

    ``mask`` is boolean, broadcastable to (..., Tq, Tk), True where a query may attend
    (PyTorch's convention for boolean masks); ``causal_mask(T)`` blocks the future.
    FLOPs: 2·Tq·Tk·d_k + 2·Tq·Tk·d_v per batch element; memory: Tq·Tk weights kept.
    """
    mask = _check_attention_inputs(
        np.asarray(_data(q)), np.asarray(_data(k)), np.asarray(_data(v)), mask
    )
    return ScaledDotProductAttention.apply(q, k, v, mask=mask)


# ----------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class AttentionMemory:
    """Bytes of the attention weights one layer keeps for a batch of sequences."""

    seq_len: int
    num_heads: int = 1
    batch: int = 1
    itemsize: int = 4

    @property
    def score_elements(self) -> int:
        """batch × heads × T × T entries of the score (= weight) matrix."""
        return self.batch * self.num_heads * self.seq_len * self.seq_len

    @property
    def score_bytes(self) -> int:
        return self.score_elements * self.itemsize

    def __str__(self) -> str:
        return (
            f"T={self.seq_len:,}: {self.batch} × {self.num_heads} heads × {self.seq_len:,}² "
            f"scores = {self.score_bytes / 2**20:,.2f} MiB"
        )


# competency: tensors/measures, operations/measures
def attention_memory(
    seq_len: int, num_heads: int = 1, batch: int = 1, itemsize: int = 4
) -> AttentionMemory:
    """The O(T²) score memory of one attention layer (float32 unless ``itemsize`` says)."""
    ### BEGIN SOLUTION
    check_positive(
        "attention_memory", seq_len=seq_len, num_heads=num_heads, batch=batch, itemsize=itemsize
    )
    return AttentionMemory(seq_len, num_heads, batch, itemsize)
    ### END SOLUTION


def print_attention_memory(
    seq_lens: Sequence[int] = (128, 256, 512, 1024, 2048, 4096), num_heads: int = 12, batch: int = 1
) -> list[AttentionMemory]:
    """Print score memory per layer for each length: every doubling of T quadruples it."""
    rows = [attention_memory(t, num_heads, batch) for t in seq_lens]
    print(f"Attention-score memory per layer ({num_heads} heads, batch {batch}, float32)")
    previous = None
    for row in rows:
        growth = f"  ({row.score_bytes / previous.score_bytes:.1f}x)" if previous else ""
        print(f"  {row}{growth}")
        previous = row
    return rows


# ----------------------------------------------------------------------------- multi-head


class KVCacheLayer(Protocol):
    """What ``MultiHeadAttention`` needs from a key/value cache (built in Module 17).

    ``update(k, v)`` stores this step's keys and values, shaped (B, H, T_new, d_head), and
    returns every cached key and value so far, (B, H, T_past + T_new, d_head).
    """

    def update(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]: ...


def _linear(layer: Linear, x: Tensor) -> Tensor:
    """Apply ``layer`` to (..., in) as one 2-D matmul (rows = every token of the batch).

    Flattening first makes the weight gradient one (in, rows) @ (rows, out) product
    instead of one product per batch element followed by a sum.
    """
    lead = x.shape[:-1]
    return layer(x.reshape(-1, x.shape[-1])).reshape(*lead, layer.out_features)


# competency: models/implements
class MultiHeadAttention(Module):
    """Self-attention with ``num_heads`` heads: (B, T, E) -> (B, T, E).

    Q, K, V are three Linear(E, E) projections; their outputs are viewed as
    (B, H, T, E/H) so that all heads run in one batched attention call (no loop over
    heads), then merged back and projected by ``out_proj``.
    Parameters: 4·(E² + E). FLOPs for one sequence: 8·T·E² (projections) + 4·T²·E
    (scores and weighted sum). Memory kept for backward: H·T² attention weights.

    Hook for Module 17: ``forward(x, mask, cache)`` with a ``cache`` object
    (see :class:`KVCacheLayer`) projects only the new tokens, lets the cache append
    their keys/values and attends over everything cached. The steps are also public:
    ``project_qkv`` then ``attend``.
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiHeadAttention: embed_dim ({embed_dim}) must be a positive multiple "
                f"of num_heads ({num_heads})"
            )
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.q_proj = Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)

    def split_heads(self, x: Tensor) -> Tensor:
        """(B, T, E) -> (B, H, T, E/H): a reshape and a permute, no copy of the math."""
        ### BEGIN SOLUTION
        b, t, _ = x.shape
        return x.reshape(b, t, self.num_heads, self.head_dim).permute(0, 2, 1, 3)
        ### END SOLUTION

    def merge_heads(self, x: Tensor) -> Tensor:
        """(B, H, T, E/H) -> (B, T, E): the inverse of ``split_heads``."""
        ### BEGIN SOLUTION
        b, _, t, _ = x.shape
        return x.permute(0, 2, 1, 3).reshape(b, t, self.embed_dim)
        ### END SOLUTION

    def project_qkv(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries, keys and values of x (B, T, E), each split into heads (B, H, T, E/H)."""
        ### BEGIN SOLUTION
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(
                f"MultiHeadAttention: expected input (batch, seq, {self.embed_dim}), got "
                f"shape {x.shape}"
            )
        return tuple(
            self.split_heads(_linear(p, x)) for p in (self.q_proj, self.k_proj, self.v_proj)
        )
        ### END SOLUTION

    def attend(self, q: Tensor, k: Tensor, v: Tensor, mask: Any = None) -> Tensor:
        """Attention of head-split q over k, v, heads merged and projected: (B, Tq, E)."""
        ### BEGIN SOLUTION
        heads = scaled_dot_product_attention(q, k, v, mask)
        return _linear(self.out_proj, self.merge_heads(heads))
        ### END SOLUTION

    def forward(self, x: Tensor, mask: Any = None, cache: KVCacheLayer | None = None) -> Tensor:
        ### BEGIN SOLUTION
        q, k, v = self.project_qkv(x)
        if cache is not None:
            k, v = cache.update(k, v)
        return self.attend(q, k, v, mask)
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
