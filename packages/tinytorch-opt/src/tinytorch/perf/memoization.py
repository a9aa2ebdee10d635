"""Module 17 · Memoization — compute each token's keys and values once, then keep them.

Connection map
    Prerequisites : 01 Tensor (bytes per element) · 05 Autograd (no_grad) · 12 Attention
                    (MultiHeadAttention's cache hook, ``causal_mask`` with a past) ·
                    13 Transformers (``GPT.forward(ids, caches, start_pos)``,
                    ``generate(..., caches=)``, ``kv_cache_bytes``) · 14 Profiling
                    (``time_call``, Amdahl's law)
    This module   : a KV cache per layer (keys and values preallocated for the whole
                    generation, a write position, a clear error on overflow, reset); cached
                    generation through ``GPT.generate``'s own loop, token for token the
                    uncached output (greedy, temperature, top-k, end of sequence); the
                    cache's bytes, checked against Module 13's formula; a lean one-token
                    decode step on the parameters' arrays, gathered once per generation;
                    the work saved, counted by hand and timed at several lengths
    Unlocks       : 18 Acceleration · 19 Benchmarking (cached vs uncached generation with
                    statistics) · 20 Capstone and Milestone 6 (the generation row)

Systems insight: ``GPT.generate`` runs the whole sequence through the model again for every
new token. From a prompt of P tokens, n new tokens cost n·P + n(n−1)/2 token passes through
every layer: from a one-token prompt, 100 new tokens cost 1 + 2 + … + 100 = 5,050 passes
where 100 would do. In a causal model a token's key and value never change once computed
(position t only ever looks back), so they can be computed once and remembered — memoization.
Each step then feeds one token and attends over the remembered keys: O(n) token passes for n
tokens instead of O(n²). The price is memory held for the whole generation: one key and one
value vector of d_model numbers per token per layer, 2 × layers × T × d_model × 4 bytes
(1 KiB per token for d_model 64 and 2 layers; GPT-2 small at 1,024 tokens: 72 MiB per
sequence). What the cache cannot remove is each step's fixed cost — every layer's call
overhead for one token — so, by Amdahl's law, the measured speedup is smaller than the
ratio of token passes. Through the Tensor ops of the full forward pass a one-token step
at d_model 64 is almost all fixed cost (about 85 ops at several microseconds each; the
cache gains only 4× through them for 200 tokens at batch 1), which is why cached steps
run :func:`decode_token`: the same arithmetic on the parameters' arrays, gathered once
per generation into a :class:`DecodePlan` (q, k and v side by side, rows shaped for
batch 1, numbers as arrays), so that each of a step's ~120 NumPy calls costs 0.3-2 µs.
Generating 200 tokens from an 8-token prompt then runs about 18× faster cached than
uncached — far below the 104× fewer token passes, because at this size a step's fixed
cost, not its tokens, is most of the time (``benchmarks/bench_torch.py`` measures both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from tinytorch.core.autograd import is_grad_enabled
from tinytorch.core.tensor import Tensor
from tinytorch.nn.activations import GELU_C
from tinytorch.nn.layers import GELU, Dropout, Linear, check_positive
from tinytorch.perf.measure import Timing, format_bytes, format_seconds, time_call
from tinytorch.text.attention import MultiHeadAttention
from tinytorch.text.embeddings import Embedding, LearnedPositionalEmbedding, PositionalEncoding
from tinytorch.text.transformers import (
    GPT,
    MLP,
    LayerNorm,
    TransformerBlock,
    prompt_batch,
)

# ============================================================================= the cache


# competency: deployment/implements
class KVCache:
    """One attention layer's keys and values for every position processed so far.

    ``KVCache(batch, num_heads, head_dim, max_len, dtype=np.float32)`` holds ``keys`` and
    ``values``, each (batch, num_heads, max_len, head_dim), allocated once, and a write
    ``position``: positions [0, position) are filled. ``update(k, v)`` — the hook
    ``MultiHeadAttention`` calls — writes this step's (B, H, T_new, head_dim) keys and values
    at the write position and returns everything filled so far, (B, H, position, head_dim),
    as views into the buffers (no copy). Bytes: 2 × B × H × max_len × head_dim × itemsize,
    from the first token on.

    Why preallocate rather than grow: a cache grown with ``np.concatenate`` holds only the
    positions used, but every step copies the whole cache into a new array — O(T) bytes per
    step, O(T²) over a generation (the very growth the cache exists to remove), with old and
    new arrays alive together during the copy (2× memory at the peak). Preallocated, a step
    writes only its own rows, O(T_new), and nothing is ever reallocated; the cost is that
    the full ``max_len`` is reserved up front, used or not. ``generate_cached`` therefore
    sizes each cache to exactly the positions its generation needs. (Measured in
    ``benchmarks/bench_opt.py``: at 2,048 positions the grown cache's bookkeeping is about
    3× slower and peaks at twice the memory.)

    The returned views alias the buffers: they stay valid while positions are only added,
    and are overwritten once the cache is ``reset()`` and reused.
    """

    def __init__(
        self, batch: int, num_heads: int, head_dim: int, max_len: int, dtype: Any = np.float32
    ) -> None:
        check_positive(
            "KVCache", batch=batch, num_heads=num_heads, head_dim=head_dim, max_len=max_len
        )
        ### BEGIN SOLUTION
        shape = (batch, num_heads, max_len, head_dim)
        self.keys = np.zeros(shape, dtype=dtype)
        self.values = np.zeros(shape, dtype=dtype)
        self.position = 0
        ### END SOLUTION

    @property
    def max_len(self) -> int:
        """Positions the cache can hold."""
        return self.keys.shape[2]

    @property
    def nbytes(self) -> int:
        """Bytes reserved by the key and value buffers (whatever the write position)."""
        return int(self.keys.nbytes + self.values.nbytes)

    def __len__(self) -> int:
        """Positions filled so far."""
        return self.position

    # competency: deployment/debugs
    def update(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store this step's keys and values; return every key and value so far.

        ``k``, ``v``: (B, H, T_new, head_dim) from ``MultiHeadAttention.project_qkv``.
        Returns two Tensors (B, H, position + T_new, head_dim). The cache keeps plain
        arrays, so no gradient can flow through it: it refuses inputs that are recording a
        graph (run generation under ``no_grad()``, as ``generate_cached`` does).
        """
        batch, heads, _, head_dim = self.keys.shape
        for name, x in (("k", k), ("v", v)):
            if x.ndim != 4 or (x.shape[0], x.shape[1], x.shape[3]) != (batch, heads, head_dim):
                raise ValueError(
                    f"KVCache.update: {name} has shape {x.shape}, expected "
                    f"({batch}, {heads}, T_new, {head_dim}) for this cache"
                )
            if x.dtype != self.keys.dtype:
                raise ValueError(
                    f"KVCache.update: {name} is {x.dtype} but the cache holds "
                    f"{self.keys.dtype}; build the cache in the model's dtype"
                )
        if k.shape[2] != v.shape[2]:
            raise ValueError(f"KVCache.update: k {k.shape} and v {v.shape} differ in length")
        if is_grad_enabled() and (k.requires_grad or v.requires_grad):
            raise RuntimeError(
                "KVCache.update: the cache stores plain arrays, so gradients cannot flow "
                "through it; run cached generation under no_grad()"
            )
        ### BEGIN SOLUTION
        keys, values = self.append(k.data, v.data)
        return Tensor(keys, dtype=keys.dtype), Tensor(values, dtype=values.dtype)
        ### END SOLUTION

    def append(self, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``update`` on plain arrays, unchecked: write (B, H, T_new, head_dim) at the write
        position and return views of every key and value so far. The step ``update`` ends
        in, and what the lean decode path (:func:`decode_token`) calls directly.
        """
        ### BEGIN SOLUTION
        start, end = self.position, self.position + k.shape[2]
        if end > self.max_len:
            raise ValueError(
                f"KVCache.update: writing {k.shape[2]} position(s) at position {start} would "
                f"overflow the cache of max_len {self.max_len}; build a longer cache or "
                "reset() this one"
            )
        self.keys[:, :, start:end] = k
        self.values[:, :, start:end] = v
        self.position = end
        return self.keys[:, :, :end], self.values[:, :, :end]
        ### END SOLUTION

    def reset(self) -> None:
        """Forget every position (the buffers stay allocated, ready for the next sequence)."""
        ### BEGIN SOLUTION
        self.position = 0
        ### END SOLUTION

    def __repr__(self) -> str:
        batch, heads, max_len, head_dim = self.keys.shape
        return (
            f"KVCache(batch={batch}, num_heads={heads}, head_dim={head_dim}, "
            f"max_len={max_len}, position={self.position}, {format_bytes(self.nbytes)})"
        )


def make_caches(model: GPT, batch: int = 1, max_len: int | None = None) -> list[KVCache]:
    """One empty :class:`KVCache` per transformer block of ``model``, in the model's dtype.

    ``max_len`` (default: the model's ``max_len``) is the number of positions each cache
    holds; it cannot exceed the model's, which has no positions beyond it. Together the
    caches take ``kv_cache_memory(model, max_len, batch).total_bytes``.
    """
    max_len = model.max_len if max_len is None else max_len
    if not 0 < max_len <= model.max_len:
        raise ValueError(
            f"make_caches: max_len must be in [1, {model.max_len}] (the model's max_len), "
            f"got {max_len}"
        )
    ### BEGIN SOLUTION
    dtype = model.head.weight.dtype
    return [
        KVCache(batch, block.attn.num_heads, block.attn.head_dim, max_len, dtype)
        for block in model.blocks
    ]
    ### END SOLUTION


# ============================================================================= memory


@dataclass(frozen=True)
class KVCacheMemory:
    """What caching keys and values costs for ``batch`` sequences of ``context_len`` tokens."""

    n_layers: int
    batch: int
    context_len: int
    bytes_per_token: int  # one token of one sequence, keys and values of every layer
    total_bytes: int
    parameter_bytes: int  # the model's weights, for scale

    @property
    def per_layer_bytes(self) -> int:
        return self.total_bytes // self.n_layers

    @property
    def break_even_tokens(self) -> float:
        """Tokens cached (over the whole batch) at which the cache outweighs the weights."""
        return self.parameter_bytes / self.bytes_per_token

    def __str__(self) -> str:
        return (
            f"KV cache for {self.batch} × {self.context_len} tokens: "
            f"{format_bytes(self.total_bytes)} ({self.bytes_per_token:,} B per token, "
            f"{format_bytes(self.per_layer_bytes)} per layer); weights "
            f"{format_bytes(self.parameter_bytes)}, outweighed from "
            f"{self.break_even_tokens:,.0f} cached tokens on"
        )


# competency: deployment/knows
def kv_cache_memory(model: GPT, context_len: int, batch: int = 1) -> KVCacheMemory:
    """Bytes of the KV cache ``model`` needs for ``batch`` sequences of ``context_len`` tokens.

    Counted from the layers themselves: every block's attention caches, per token, one key
    and one value of num_heads × head_dim numbers, each ``itemsize`` bytes. It must agree
    with ``GPT.kv_cache_bytes`` (Module 13's formula) and with the buffers
    ``make_caches`` allocates.
    """
    if context_len < 0 or batch <= 0:
        raise ValueError(
            f"kv_cache_memory: need context_len >= 0 and batch > 0, got {context_len}, {batch}"
        )
    ### BEGIN SOLUTION
    itemsize = model.head.weight.dtype.itemsize
    per_token = sum(2 * b.attn.num_heads * b.attn.head_dim * itemsize for b in model.blocks)
    return KVCacheMemory(
        n_layers=len(model.blocks),
        batch=batch,
        context_len=context_len,
        bytes_per_token=per_token,
        total_bytes=per_token * batch * context_len,
        parameter_bytes=model.parameter_bytes(),
    )
    ### END SOLUTION


# ============================================================================= the work


def token_passes(prompt_len: int, new_tokens: int) -> tuple[int, int]:
    """Token positions pushed through the model to generate ``new_tokens``: (uncached, cached).

    Uncached, step i runs all P + i tokens so far: n·P + n(n−1)/2 in total, O(n²). Cached,
    the prompt runs once and every later step feeds only the newest token: P + n − 1, O(n).
    (From a one-token prompt, 100 new tokens: 5,050 vs 100.)
    """
    if prompt_len <= 0 or new_tokens < 0:
        raise ValueError(
            f"token_passes: need prompt_len > 0 and new_tokens >= 0, got {prompt_len}, {new_tokens}"
        )
    ### BEGIN SOLUTION
    if new_tokens == 0:
        return 0, 0
    uncached = new_tokens * prompt_len + new_tokens * (new_tokens - 1) // 2
    return uncached, prompt_len + new_tokens - 1
    ### END SOLUTION


# ============================================================================= generation


# competency: deployment/optimizes
def generate_cached(
    model: GPT,
    prompt_ids: Any,
    max_new_tokens: int,
    temperature: float = 0.0,
    top_k: int | None = None,
    eos_id: int | None = None,
) -> np.ndarray:
    """``model.generate`` with a KV cache: the same tokens, O(n) instead of O(n²) work.

    ``prompt_ids`` (T,) or (B, T). Builds one :class:`KVCache` per layer, sized to exactly
    the positions this generation runs, and hands them to ``GPT.generate(..., caches=)``:
    the prompt runs through the model once, filling the caches, and every later step feeds
    only the token just chosen, at its position. Tokens are picked by ``GPT.generate``'s
    own loop (greedy at ``temperature=0``, else sampled, ``top_k``, ``eos_id``), so the
    output is the uncached output, token for token. Returns prompt + new ids (int64).

    A cache cannot slide: learned positions stop at ``max_len``, so the prompt plus the new
    tokens must fit (P + n − 1 ≤ max_len positions are run), where ``GPT.generate`` would
    crop its context.
    """
    ### BEGIN SOLUTION
    ids, _ = prompt_batch("generate_cached", prompt_ids)
    needed = ids.shape[1] + max_new_tokens - 1
    if needed > model.max_len:
        raise ValueError(
            f"generate_cached: a prompt of {ids.shape[1]} tokens and {max_new_tokens} new "
            f"tokens run {needed} positions, more than the model's max_len {model.max_len}; "
            "a KV cache cannot slide its window (GPT.generate crops the context instead)"
        )
    if max_new_tokens == 0:
        return model.generate(prompt_ids, 0)
    caches = make_caches(model, len(ids), needed)
    decode = partial(decode_token, DecodePlan.of(model), caches) if has_lean_path(model) else None
    return model.generate(
        prompt_ids, max_new_tokens, temperature, top_k, eos_id, caches=caches, decode=decode
    )
    ### END SOLUTION


# ============================================================================= lean decode

# The exact layer types decode_token knows how to stand in for (a swapped, quantized or
# hooked layer computes something else, so such a model keeps the full forward pass).
LEAN_TYPES = (
    GPT, TransformerBlock, MultiHeadAttention, MLP, LayerNorm, Linear, GELU, Dropout,
    Embedding, LearnedPositionalEmbedding, PositionalEncoding,
)  # fmt: skip


def has_lean_path(model: GPT) -> bool:
    """Whether :func:`decode_token` computes exactly what ``model``'s forward pass does:
    every module is one of ``LEAN_TYPES`` (not a subclass) and none has a hook."""
    return all(
        type(m) in LEAN_TYPES and not vars(m).get("_forward_hooks")
        and not vars(m).get("_forward_pre_hooks")
        for m in model.modules()
    )  # fmt: skip


# A step's fixed costs, and what the plan removes from them. At batch 1 and d_model 64 a
# NumPy call costs about as much as its arithmetic or more: ~0.3 µs for an element-wise
# op on arrays of one shape, ~1 µs when one operand broadcasts (a (B, 1) row statistic),
# ~1.5 µs for a reduction or a small matrix product. A Python number in an op costs a
# conversion each time (~0.3 µs), a Module attribute chain or a Tensor property costs
# Python lookups, a 1-D bias against (1, n) rows is a broadcast. So the parameters are
# gathered once per generation into a DecodePlan: plain arrays in the model's dtype,
# rows stored (1, n) (batch 1 then takes NumPy's same-shape path), Python numbers turned
# into 0-d arrays of the dtype, and the q, k and v projections side by side, one
# (d, 3d) product instead of three, with the attention scale folded into q's columns
# (one pass over the scores fewer per step). Only that fold changes any arithmetic, and
# only when 1/sqrt(head_dim) is not a power of two; every other number is computed by the
# same operations, in the same order, as in the forward pass's own functions (the tests
# compare the step with the full forward pass).


@dataclass(frozen=True, slots=True)
class DenseArrays:
    """A projection x @ weight + bias: weight (in, out), bias (1, out), zeros if the layer
    has none (adding 0 changes no number)."""

    weight: np.ndarray
    bias: np.ndarray

    @classmethod
    def of(cls, layer: Linear) -> DenseArrays:
        """The layer's own arrays (views: nothing is copied)."""
        weight = layer.weight.data
        bias = np.zeros(layer.out_features, weight.dtype) if layer.bias is None else layer.bias.data
        return cls(weight, bias[None, :])

    @classmethod
    def side_by_side(cls, layers: Sequence[Linear]) -> DenseArrays:
        """Linear layers that read the same input, as one: weights concatenated along the
        output axis, (in, Σ out), so their outputs come out side by side in one product."""
        parts = [cls.of(layer) for layer in layers]
        return cls(
            np.concatenate([p.weight for p in parts], axis=1),
            np.concatenate([p.bias for p in parts], axis=1),
        )


@dataclass(frozen=True, slots=True)
class NormArrays:
    """A LayerNorm over the last axis: weight and bias (1, d) (ones and zeros without
    ``elementwise_affine``: the same numbers), ``count`` (d) and ``eps`` as 0-d arrays."""

    weight: np.ndarray
    bias: np.ndarray
    count: np.ndarray
    eps: np.ndarray

    @classmethod
    def of(cls, norm: LayerNorm, dtype: np.dtype) -> NormArrays:
        (d,) = norm.normalized_shape
        weight = np.ones(d, dtype) if norm.weight is None else norm.weight.data
        bias = np.zeros(d, dtype) if norm.bias is None else norm.bias.data
        return cls(weight[None, :], bias[None, :], np.array(d, dtype), np.array(norm.eps, dtype))


@dataclass(frozen=True, slots=True)
class GeluArrays:
    """Module 02's gelu constants as 0-d arrays: 0.044715, sqrt(2/π), 1 and 0.5."""

    cubic: np.ndarray
    sqrt_2_over_pi: np.ndarray
    one: np.ndarray
    half: np.ndarray

    @classmethod
    def of(cls, dtype: np.dtype) -> GeluArrays:
        return cls(*(np.array(value, dtype) for value in (0.044715, GELU_C, 1.0, 0.5)))


@dataclass(frozen=True, slots=True)
class BlockArrays:
    """One TransformerBlock: its norms, the q, k, v projections side by side (d, 3d) with
    the attention scale folded into q's columns, the output projection, the MLP's two
    projections, and the number of heads."""

    ln1: NormArrays
    qkv: DenseArrays
    out: DenseArrays
    ln2: NormArrays
    fc: DenseArrays
    proj: DenseArrays
    num_heads: int

    @classmethod
    def of(cls, block: TransformerBlock, dtype: np.dtype) -> BlockArrays:
        attn = block.attn
        qkv = DenseArrays.side_by_side([attn.q_proj, attn.k_proj, attn.v_proj])
        # Scores are (q·k)/sqrt(head_dim); scaling q's weights and bias once here saves a
        # pass over the scores every step. When 1/sqrt(head_dim) is a power of two
        # (head_dim 4, 16, 64, 256, ...) scaling commutes with rounding and the scores
        # are bit for bit ScaledDotProductAttention's; otherwise they differ by rounding.
        scale = 1.0 / np.sqrt(attn.head_dim)
        qkv.weight[:, : attn.embed_dim] *= scale  # side_by_side made a copy: ours to scale
        qkv.bias[:, : attn.embed_dim] *= scale
        return cls(
            ln1=NormArrays.of(block.ln1, dtype),
            qkv=qkv,
            out=DenseArrays.of(attn.out_proj),
            ln2=NormArrays.of(block.ln2, dtype),
            fc=DenseArrays.of(block.mlp.fc),
            proj=DenseArrays.of(block.mlp.proj),
            num_heads=attn.num_heads,
        )


@dataclass(frozen=True, slots=True)
class DecodePlan:
    """What :func:`decode_token` reads: a GPT's parameters as plain arrays, gathered once.

    ``DecodePlan.of(model)`` — built once per generation by :func:`generate_cached`, for
    a model ``has_lean_path`` accepts. ``token_embedding`` (vocab_size, d); ``positions``
    (max_len, d), the learned table or the sinusoidal one in the model's dtype; one
    ``BlockArrays`` per block; the final norm, the head, the gelu constants. The
    arrays are the parameters' own, except the side-by-side q/k/v weights (a copy of
    3·d² + 3·d numbers per block): a plan describes the parameters as they were when it
    was built.
    """

    token_embedding: np.ndarray
    positions: np.ndarray
    blocks: tuple[BlockArrays, ...]
    ln_f: NormArrays
    head: DenseArrays
    gelu: GeluArrays

    @classmethod
    def of(cls, model: GPT) -> DecodePlan:
        dtype = model.head.weight.dtype
        if isinstance(model.position, LearnedPositionalEmbedding):
            positions = model.position.weight.data
        else:
            positions = model.position.table.astype(dtype, copy=False)
        blocks = tuple(BlockArrays.of(block, dtype) for block in model.blocks)
        return cls(
            model.token_embedding.weight.data,
            positions,
            blocks,
            NormArrays.of(model.ln_f, dtype),
            DenseArrays.of(model.head),
            GeluArrays.of(dtype),
        )


def _layer_norm(x: np.ndarray, norm: NormArrays) -> np.ndarray:
    """LayerNorm of each row of x (B, d): ``layer_norm_arrays``' operations, in its order
    (so its numbers), on the plan's arrays. 12 NumPy calls, 2 of them reductions."""
    mean = x.sum(axis=-1, keepdims=True) / norm.count
    centred = x - mean
    var = (centred * centred).sum(axis=-1, keepdims=True) / norm.count
    centred *= np.reciprocal(np.sqrt(var + norm.eps))
    centred *= norm.weight
    centred += norm.bias
    return centred


def _dense(x: np.ndarray, dense: DenseArrays) -> np.ndarray:
    """Linear.forward on rows: x @ W + b. 2 NumPy calls."""
    out = x @ dense.weight
    out += dense.bias
    return out


def _attend(x: np.ndarray, block: BlockArrays, cache: KVCache) -> np.ndarray:
    """One token's self-attention over every cached position: (B, d) -> (B, d).

    ScaledDotProductAttention.forward for one query row (its causal mask keeps every
    cached key, so there is nothing to mask), with q already scaled by 1/sqrt(head_dim)
    (see ``BlockArrays.of``). About 13 NumPy calls: q, k and v in one product, two
    writes into the cache, two small batched products, a 5-call softmax, the output
    projection.
    """
    b, heads = len(x), block.num_heads
    qkv = _dense(x, block.qkv).reshape(b, 3, heads, 1, -1)  # q, k, v: (B, H, 1, head_dim)
    keys, values = cache.append(qkv[:, 1], qkv[:, 2])
    scores = np.matmul(qkv[:, 0], keys.swapaxes(-1, -2))  # (B, H, 1, positions), scaled
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return _dense(np.matmul(scores, values).reshape(b, -1), block.out)


def _gelu(x: np.ndarray, c: GeluArrays) -> np.ndarray:
    """Module 02's gelu, 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))), in its order of
    operations, computed in place (x is overwritten). 9 NumPy calls."""
    inner = x * c.cubic
    inner *= x
    inner *= x
    inner += x
    inner *= c.sqrt_2_over_pi
    np.tanh(inner, out=inner)
    inner += c.one
    x *= c.half
    x *= inner
    return x


# competency: deployment/optimizes
def decode_token(
    plan: DecodePlan, caches: Sequence[KVCache], ids: np.ndarray, position: int
) -> np.ndarray:
    """Next-token logits (B, vocab_size) for one new token per row, ids (B, 1), at ``position``.

    The numbers of ``model(ids, caches, start_pos=position).data[:, -1]`` (in eval mode,
    where dropout is the identity), computed on ``plan = DecodePlan.of(model)``:
        x = E[id] + P[position]                      (B, d)
        per block:  x += Attn(LN1(x))   this token's key and value appended to the cache
                    x += MLP(LN2(x))    proj(gelu(fc(·)))
        logits = head(LN_f(x))
    Rows of the batch stay (B, d) matrices, so every projection is one 2-D BLAS call.
    Cost: about 50 NumPy calls per block and 16 more, ~120 at two blocks, nearly all
    per-call overhead at batch 1 (the arithmetic is ~0.35 MFLOP); the full forward pass
    spends several microseconds per op instead (a Tensor, a Module call, shape checks and
    a graph decision apiece), which is what caps the cache's speedup (Amdahl).
    """
    ### BEGIN SOLUTION
    x = plan.token_embedding[ids[:, 0]] + plan.positions[position : position + 1]
    for block, cache in zip(plan.blocks, caches):
        x += _attend(_layer_norm(x, block.ln1), block, cache)
        x += _dense(_gelu(_dense(_layer_norm(x, block.ln2), block.fc), plan.gelu), block.proj)
    return _dense(_layer_norm(x, plan.ln_f), plan.head)
    ### END SOLUTION


# ============================================================================= measuring


@dataclass(frozen=True)
class GenerationTiming:
    """Uncached vs cached generation of ``new_tokens`` tokens: both timings, same output?"""

    new_tokens: int
    uncached: Timing
    cached: Timing
    identical: bool

    @property
    def speedup(self) -> float:
        """Median uncached time / median cached time."""
        return self.uncached.median / self.cached.median


def time_generation(
    model: GPT,
    prompt_ids: Any,
    lengths: Sequence[int] = (25, 50, 100, 200),
    repeats: int = 3,
    warmup: int = 0,
) -> list[GenerationTiming]:
    """Time greedy generation with and without the cache, for each number of new tokens.

    Each length first generates both ways once and compares the outputs (``identical``) —
    which also warms both up — then times each way with Module 14's ``time_call``
    (``warmup`` more untimed calls, ``repeats`` samples, median). Uncached time grows
    about as n², cached time as n: see :func:`growth_exponent`.
    """
    if not lengths or min(lengths) <= 0:
        raise ValueError(f"time_generation: lengths must be positive, got {list(lengths)}")
    rows = []
    for n in lengths:
        uncached_out = model.generate(prompt_ids, n, temperature=0.0)
        cached_out = generate_cached(model, prompt_ids, n)
        rows.append(
            GenerationTiming(
                n,
                time_call(lambda n=n: model.generate(prompt_ids, n, 0.0), warmup, repeats),
                time_call(lambda n=n: generate_cached(model, prompt_ids, n), warmup, repeats),
                bool(np.array_equal(uncached_out, cached_out)),
            )
        )
    return rows


def growth_exponent(lengths: Sequence[float], seconds: Sequence[float]) -> float:
    """The k in time ∝ nᵏ that fits the measurements best (slope of log t against log n).

    About 2 for work that grows quadratically, 1 for linear work; fixed per-step costs pull
    a quadratic curve's exponent below 2 at small n.
    """
    n, t = np.asarray(lengths, dtype=np.float64), np.asarray(seconds, dtype=np.float64)
    if n.shape != t.shape or n.size < 2 or np.unique(n).size < 2:
        raise ValueError(
            f"growth_exponent: need at least two distinct lengths with one time each, got "
            f"{n.size} lengths and {t.size} times"
        )
    if np.any(n <= 0) or np.any(t <= 0):
        raise ValueError("growth_exponent: lengths and times must be positive")
    ### BEGIN SOLUTION
    slope, _ = np.polyfit(np.log(n), np.log(t), 1)
    return float(slope)
    ### END SOLUTION


def scaling_table(rows: Sequence[GenerationTiming], prompt_len: int) -> str:
    """The timings of :func:`time_generation` as a table, with token passes and exponents."""
    lines = [
        f"{'new tokens':>10}{'passes uncached':>17}{'passes cached':>15}{'uncached':>12}"
        f"{'cached':>12}{'speedup':>9}  same output"
    ]
    for row in rows:
        uncached_passes, cached_passes = token_passes(prompt_len, row.new_tokens)
        lines.append(
            f"{row.new_tokens:>10}{uncached_passes:>17,}{cached_passes:>15,}"
            f"{format_seconds(row.uncached.median):>12}{format_seconds(row.cached.median):>12}"
            f"{row.speedup:>8.1f}x  {'yes' if row.identical else 'NO'}"
        )
    if len({row.new_tokens for row in rows}) >= 2:
        lengths = [row.new_tokens for row in rows]
        exponents = [
            growth_exponent(lengths, [getattr(row, way).median for row in rows])
            for way in ("uncached", "cached")
        ]
        lines.append(
            f"time ∝ n^k: uncached k = {exponents[0]:.2f}, cached k = {exponents[1]:.2f} "
            f"(quadratic work: 2, linear: 1)"
        )
    return "\n".join(lines)


__all__ = [
    "DecodePlan",
    "GenerationTiming",
    "KVCache",
    "KVCacheMemory",
    "decode_token",
    "generate_cached",
    "growth_exponent",
    "has_lean_path",
    "kv_cache_memory",
    "make_caches",
    "scaling_table",
    "time_generation",
    "token_passes",
]
