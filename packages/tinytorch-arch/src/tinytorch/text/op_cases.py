"""Modules 11–13's rows of the op table (see ``tinytorch.testing``).

The embedding lookup, scaled dot-product attention and LayerNorm, each checked through
the layer or function a learner calls. Registered under the entry-point group
``tinytorch.testing``. Nothing here runs learner code at import: a table of a tree whose
modules are still stubs must load.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.testing import Arg, OpCase, np_softmax
from tinytorch.text.attention import causal_mask, scaled_dot_product_attention
from tinytorch.text.embeddings import Embedding
from tinytorch.text.transformers import LayerNorm


def _embedding(weight: Tensor, indices: np.ndarray) -> Tensor:
    layer = Embedding(*weight.shape)
    layer.weight = weight
    return layer(indices)


def np_attention(q, k, v, mask=None) -> np.ndarray:
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return np_softmax(scores) @ v


def _layer_norm(x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None) -> Tensor:
    n_axes = 1 if weight is None else weight.ndim
    layer = LayerNorm(x.shape[x.ndim - n_axes :], elementwise_affine=weight is not None)
    layer.weight, layer.bias = weight, bias
    return layer(x)


def np_layer_norm(x, weight=None, bias=None) -> np.ndarray:
    axes = tuple(range(x.ndim - (1 if weight is None else weight.ndim), x.ndim))
    out = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    return out if weight is None else out * weight + bias


CASES = [
    OpCase(
        "Embedding with repeated ids",
        11,
        Embedding.forward,
        "EmbeddingFunction",
        (Arg((5, 3)),),
        lambda weight, indices: weight[indices],
        _embedding,
        lambda rng: {"indices": np.array([[0, 4, 4], [2, 0, 1]])},
    ),
    *(
        OpCase(
            f"scaled_dot_product_attention {name}",
            12,
            scaled_dot_product_attention,
            "ScaledDotProductAttention",
            (Arg((*batch, 3, 4)), Arg((*batch, 5, 4)), Arg((*batch, 5, 2))),
            np_attention,
            scaled_dot_product_attention,
            lambda rng, causal=causal: {"mask": causal_mask(3, past_len=2) if causal else None},
        )
        for name, batch, causal in (
            ("one sequence", (), False),
            ("batched heads", (2, 2), False),
            ("causal over a past of 2", (2,), True),
        )
    ),
    OpCase(
        "LayerNorm with weight and bias",
        13,
        LayerNorm.forward,
        "LayerNormFunction",
        (Arg((2, 3, 4)), Arg((4,)), Arg((4,))),
        np_layer_norm,
        _layer_norm,
    ),
    OpCase(
        "LayerNorm over two axes",
        13,
        LayerNorm.forward,
        "LayerNormFunction",
        (Arg((2, 3, 4)), Arg((3, 4)), Arg((3, 4))),
        np_layer_norm,
        _layer_norm,
    ),
    OpCase(
        "LayerNorm without weight and bias",
        13,
        LayerNorm.forward,
        "LayerNormFunction",
        (Arg((3, 5)),),
        np_layer_norm,
        _layer_norm,
    ),
]
