"""Graded checks of Module 12 · Attention: masks, scaled dot-product attention, many heads."""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.text import (
    MultiHeadAttention,
    attention_memory,
    causal_mask,
    scaled_dot_product_attention,
)

RNG = np.random.default_rng(1212)
Q, K, V = (RNG.standard_normal((2, 3, 4, 5)) for _ in range(3))
X = RNG.standard_normal((2, 4, 6))


def _attention(num_heads=2):
    layer = MultiHeadAttention(6, num_heads)
    rng = np.random.default_rng(12)
    for _, p in layer.named_parameters():
        p.data = (rng.standard_normal(p.shape) * 0.4).astype(np.float32)
    return layer


def check_causal_mask():
    """Which keys each query may see, with and without cached past tokens."""
    return {"plain": causal_mask(4).tolist(), "past": causal_mask(2, past_len=3).tolist()}


def check_scaled_dot_product_attention():
    """softmax(QKᵀ/√d)V with and without a causal mask, and a fully masked row (uniform)."""
    q, k, v = Tensor(Q), Tensor(K), Tensor(V)
    blocked = np.ones((4, 4), dtype=bool)
    blocked[1] = False
    return {
        "open": scaled_dot_product_attention(q, k, v).data,
        "causal": scaled_dot_product_attention(q, k, v, mask=causal_mask(4)).data,
        "blocked_row": scaled_dot_product_attention(q, k, v, mask=blocked).data[:, :, 1],
    }


def check_attention_gradients():
    """Gradients of Q, K and V through causal attention."""
    q, k, v = (Tensor(a, requires_grad=True) for a in (Q, K, V))
    out = scaled_dot_product_attention(q, k, v, mask=causal_mask(4))
    (out * Tensor(RNG.standard_normal(out.shape))).sum().backward()
    return [q.grad.data, k.grad.data, v.grad.data]


def check_heads_split_and_merge():
    """(B, T, E) -> (B, H, T, E/H) and back, and the projected, split queries, keys, values."""
    layer = _attention(num_heads=3)
    x = Tensor(X)
    split = layer.split_heads(x)
    return {
        "split": split.data,
        "merged": layer.merge_heads(split).data,
        "qkv": [part.data for part in layer.project_qkv(x)],
    }


def check_multi_head_attention():
    """Two-head self-attention, causal, forward and gradients of the input and a projection."""
    layer = _attention()
    x = Tensor(X, requires_grad=True)
    out = layer(x, mask=causal_mask(4))
    (out * Tensor(RNG.standard_normal(out.shape))).sum().backward()
    q, k, v = layer.project_qkv(Tensor(X))
    return {
        "out": out.data,
        "x_grad": x.grad.data,
        "q_grad": layer.q_proj.weight.grad.data,
        "attend": layer.attend(q, k, v).data,
    }


def check_attention_memory():
    """Score memory grows with T²: elements and bytes for a few lengths and heads."""
    sizes = [
        attention_memory(t, num_heads=h, batch=b)
        for t, h, b in ((128, 1, 1), (256, 12, 2), (1024, 8, 4))
    ]
    return [[m.score_elements, m.score_bytes] for m in sizes]
