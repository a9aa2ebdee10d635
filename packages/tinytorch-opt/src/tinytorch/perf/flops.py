"""Module 14 · Profiling — FLOPs counted from shapes, by rules that can be checked by hand.

Connection map
    Prerequisites : 01 Tensor (matmul costs) · 03 Layers · 09 Spatial (Conv2d, pooling) ·
                    11 Embeddings · 12 Attention · 13 Transformers — the layers counted
    This module   : the FLOP formulas of a matmul, Linear, Conv2d, the activations, LayerNorm
                    and multi-head attention, and one rule per layer class
                    (``register_flops``) that the profiler applies to the shapes it saw
    Unlocks       : the profiler (``profiling``) and the roofline (``roofline``) ·
                    15 Quantization (its layers register rules here)

FLOP conventions (so counts can be checked by hand):
    * a matrix product (n, k) @ (k, m) is 2*n*k*m FLOPs (one multiply and one add per
      multiply-accumulate), as ``Tensor.__matmul__`` documents;
    * adding a bias is one FLOP per output element;
    * element-wise functions count one FLOP per arithmetic operation in their formula, a
      transcendental (exp, tanh) counting as one: ReLU 1, Tanh 1, Sigmoid 4 (negate, exp,
      add, divide), GELU 9 (the tanh form), Softmax and LogSoftmax 5 (max, subtract, exp,
      sum, divide/subtract);
    * a reduction reads each element once and counts one FLOP per element read (LayerNorm
      7 per element: mean, subtract, square, variance sum, scale by 1/std, gamma, beta).
The profiler counts FLOPs from the shapes each layer actually saw during one forward pass.
Glue a composite layer computes itself (a transformer block's residual additions, one
FLOP per element) belongs to no leaf layer and is not counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinytorch.checks import check_int
from tinytorch.nn.layers import (
    GELU,
    Dropout,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    check_positive,
)
from tinytorch.text.attention import MultiHeadAttention
from tinytorch.text.embeddings import Embedding, LearnedPositionalEmbedding, PositionalEncoding
from tinytorch.text.transformers import MLP, LayerNorm
from tinytorch.vision.spatial import (
    AvgPool2d,
    Conv2d,
    Flatten,
    MaxPool2d,
    as_pair,
    conv_output_size,
)

Shape = tuple[int, ...]


def _numel(shape: Shape) -> int:
    return math.prod(shape)


def matmul_flops(n: int, k: int, m: int, batch: int = 1) -> int:
    """FLOPs of ``batch`` products (n, k) @ (k, m): 2*n*k*m each (a multiply and an add)."""
    ### BEGIN SOLUTION
    return 2 * batch * n * k * m
    ### END SOLUTION


def linear_flops(rows: int, in_features: int, out_features: int, bias: bool = True) -> int:
    """FLOPs of ``Linear(in, out)`` on ``rows`` input rows: rows * (2*in*out [+ out]).

    The matmul (rows, in) @ (in, out) costs 2*rows*in*out; the bias adds one FLOP per
    output element. Linear(784, 128) on a batch of 32: 32 * (2*784*128 + 128) = 6,426,624.
    """
    check_int("linear_flops", "rows", rows, minimum=0)
    check_positive("linear_flops", in_features=in_features, out_features=out_features)
    ### BEGIN SOLUTION
    return matmul_flops(rows, in_features, out_features) + (rows * out_features if bias else 0)
    ### END SOLUTION


def conv2d_output_shape(
    input_shape: Shape,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Shape:
    """(B, C_in, H, W) -> (B, C_out, H_out, W_out), H_out = (H + 2*pad - K) // stride + 1."""
    return _conv2d_output_shape(
        "conv2d_output_shape", input_shape, out_channels, kernel_size, stride, padding
    )


def _conv2d_output_shape(
    op: str,
    input_shape: Shape,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int],
    padding: int | tuple[int, int],
) -> Shape:
    if len(input_shape) != 4:
        raise ValueError(f"{op}: input must be (batch, channels, height, width), got {input_shape}")
    (kh, kw), (sh, sw), (ph, pw) = (
        as_pair(op, "kernel_size", kernel_size, 1),
        as_pair(op, "stride", stride, 1),
        as_pair(op, "padding", padding, 0),
    )
    batch, _, height, width = input_shape
    h_out, w_out = conv_output_size(height, kh, sh, ph), conv_output_size(width, kw, sw, pw)
    if h_out <= 0 or w_out <= 0:
        raise ValueError(
            f"{op}: a {kh}x{kw} kernel with padding {(ph, pw)} does not fit input {input_shape}"
        )
    return batch, out_channels, h_out, w_out


def conv2d_flops(
    input_shape: Shape,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    bias: bool = True,
) -> int:
    """FLOPs of ``Conv2d(C_in, out_channels, kernel_size, stride, padding)`` on (B, C_in, H, W).

    Every output element (B * C_out * H_out * W_out of them) is a dot product of length
    C_in * K_h * K_w: that many multiply-accumulates, two FLOPs each, plus one for the bias.
    A CIFAR batch (128, 3, 32, 32) through 32 filters of 5x5 is 128*32*28*28*3*5*5 =
    240,844,800 multiply-accumulates, about 482 MFLOPs.
    """
    ### BEGIN SOLUTION
    batch, _, h_out, w_out = _conv2d_output_shape(
        "conv2d_flops", input_shape, out_channels, kernel_size, stride, padding
    )
    kh, kw = as_pair("conv2d_flops", "kernel_size", kernel_size, 1)
    outputs = batch * out_channels * h_out * w_out
    macs = outputs * input_shape[1] * kh * kw
    return 2 * macs + (outputs if bias else 0)
    ### END SOLUTION


ACTIVATION_FLOPS_PER_ELEMENT: dict[str, int] = {
    "relu": 1,
    "tanh": 1,
    "sigmoid": 4,
    "gelu": 9,
    "softmax": 5,
    "log_softmax": 5,
}


def activation_flops(name: str, numel: int) -> int:
    """FLOPs of an element-wise activation over ``numel`` elements (see the conventions)."""
    if name not in ACTIVATION_FLOPS_PER_ELEMENT:
        raise KeyError(
            f"activation_flops: unknown activation {name!r}; known: "
            f"{', '.join(sorted(ACTIVATION_FLOPS_PER_ELEMENT))}"
        )
    ### BEGIN SOLUTION
    return ACTIVATION_FLOPS_PER_ELEMENT[name] * numel
    ### END SOLUTION


def layer_norm_flops(numel: int, affine: bool = True) -> int:
    """FLOPs of LayerNorm over ``numel`` elements: 7 per element (5 without gamma/beta)."""
    return (7 if affine else 5) * numel


def attention_flops(
    batch: int,
    seq_len: int,
    embed_dim: int,
    num_heads: int,
    kv_len: int | None = None,
    projections: bool = True,
) -> int:
    """FLOPs of multi-head attention on (batch, seq_len, embed_dim) queries.

    With H heads of size d = embed_dim / H, queries of length T and keys/values of
    length S (``kv_len``, default T):
        scores  Q @ K^T    H * 2*T*d*S  = 2*T*S*embed_dim   per sequence
        scale   / sqrt(d)  H * T*S
        softmax            5 * H * T*S
        mix     P @ V      H * 2*T*S*d  = 2*T*S*embed_dim
    and, with ``projections``, four Linear(embed_dim, embed_dim) layers with bias (Q and the
    output on T rows, K and V on S rows). The score terms grow as T*S: for
    self-attention (S = T), doubling the sequence quadruples them, the O(N^2) of attention.
    """
    if embed_dim % num_heads:
        raise ValueError(
            f"attention_flops: embed_dim {embed_dim} is not divisible by num_heads {num_heads}"
        )
    ### BEGIN SOLUTION
    kv = seq_len if kv_len is None else kv_len
    scores = batch * num_heads * seq_len * kv
    core = 2 * matmul_flops(seq_len, embed_dim, kv, batch) + scores + 5 * scores
    if not projections:
        return core
    q_and_out = 2 * linear_flops(batch * seq_len, embed_dim, embed_dim)
    k_and_v = 2 * linear_flops(batch * kv, embed_dim, embed_dim)
    return core + q_and_out + k_and_v
    ### END SOLUTION


# ----------------------------------------------------------------------------- rules per layer


@dataclass(frozen=True)
class Call:
    """One call of a layer as the profiler saw it: shapes and bytes in and out."""

    inputs: tuple[Shape, ...]
    output: Shape
    input_bytes: int
    output_bytes: int


FlopRule = Callable[[Any, Call], int]

_RULES: dict[type, FlopRule] = {}


def register_flops(layer_type: type, rule: FlopRule) -> None:
    """Teach the profiler how many FLOPs a layer type costs: ``rule(layer, call) -> int``.

    Rules apply to subclasses too. Later modules' layers (a quantized Linear, a cached
    attention) call this so that profiles of optimized models stay complete.
    """
    if not isinstance(layer_type, type):
        raise TypeError(f"register_flops: expects a layer class, got {layer_type!r}")
    _RULES[layer_type] = rule


def flop_rule(layer: Any) -> FlopRule | None:
    """The rule registered for ``layer``'s class or its nearest base class, if any."""
    for cls in type(layer).__mro__:
        if cls in _RULES:
            return _RULES[cls]
    return None


def _activation_rule(name: str) -> FlopRule:
    return lambda layer, call: activation_flops(name, _numel(call.output))


def linear_rule(layer: Any, call: Call) -> int:
    """Linear's rule; any layer with ``in_features``, ``out_features``, ``bias`` may use it."""
    rows = _numel(call.inputs[0][:-1])
    return linear_flops(rows, layer.in_features, layer.out_features, layer.bias is not None)


def _dropout_rule(layer: Dropout, call: Call) -> int:
    # Training: draw-and-compare plus a multiply per element; evaluation: the identity.
    return 2 * _numel(call.output) if layer.training and layer.p > 0 else 0


def conv2d_rule(layer: Any, call: Call) -> int:
    """Conv2d's rule; any layer with Conv2d's attributes (``kernel_size``, ...) may use it."""
    return conv2d_flops(
        call.inputs[0],
        layer.out_channels,
        layer.kernel_size,
        layer.stride,
        layer.padding,
        bias=layer.bias is not None,
    )


def _pool_rule(extra_per_window: int) -> FlopRule:
    def rule(layer: MaxPool2d | AvgPool2d, call: Call) -> int:
        kh, kw = layer.kernel_size
        return _numel(call.output) * (kh * kw + extra_per_window)

    return rule


def _attention_rule(layer: MultiHeadAttention, call: Call) -> int:
    # Self-attention: the keys are the input's own tokens. Keys the layer kept from
    # earlier calls (during generation) are not visible in the call and not counted.
    batch, seq_len = call.inputs[0][:2]
    return attention_flops(batch, seq_len, layer.embed_dim, layer.num_heads)


def _mlp_rule(layer: MLP, call: Call) -> int:
    # Transformer MLP: Linear(d, h) -> GELU -> Linear(h, d), counted as one layer.
    rows = _numel(call.inputs[0][:-1])
    fc, proj = layer.fc, layer.proj
    return (
        linear_flops(rows, fc.in_features, fc.out_features, fc.bias is not None)
        + activation_flops("gelu", rows * fc.out_features)
        + linear_flops(rows, proj.in_features, proj.out_features, proj.bias is not None)
    )


def _layer_norm_rule(layer: LayerNorm, call: Call) -> int:
    return layer_norm_flops(_numel(call.output), layer.weight is not None)


def _per_output_element(layer: Any, call: Call) -> int:
    return _numel(call.output)


for _cls, _name in (
    (ReLU, "relu"),
    (Tanh, "tanh"),
    (Sigmoid, "sigmoid"),
    (GELU, "gelu"),
    (Softmax, "softmax"),
    (LogSoftmax, "log_softmax"),
):
    register_flops(_cls, _activation_rule(_name))
register_flops(Linear, linear_rule)
register_flops(Dropout, _dropout_rule)
register_flops(Conv2d, conv2d_rule)
register_flops(MaxPool2d, _pool_rule(0))
register_flops(AvgPool2d, _pool_rule(1))
register_flops(Flatten, lambda layer, call: 0)
register_flops(Embedding, lambda layer, call: 0)
register_flops(PositionalEncoding, _per_output_element)
register_flops(LearnedPositionalEmbedding, _per_output_element)
register_flops(MultiHeadAttention, _attention_rule)
register_flops(LayerNorm, _layer_norm_rule)
register_flops(MLP, _mlp_rule)
