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
                    decode step on plain arrays; the work saved, counted by hand and
                    timed at several lengths
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
at d_model 64 is almost all fixed cost (about 85 ops, 4× for 200 tokens at batch 1), which
is why cached steps run :func:`decode_token`: the same arithmetic on plain arrays, with
a fraction of the per-op cost (``benchmarks/bench_torch.py`` measures both).
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
    layer_norm_arrays,
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
    decode = partial(decode_token, model, caches) if has_lean_path(model) else None
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


def _layer_norm(x: np.ndarray, norm: LayerNorm) -> np.ndarray:
    """LayerNorm.forward on an array (the same function its Function runs)."""
    weight, bias = (None, None) if norm.weight is None else (norm.weight.data, norm.bias.data)
    return layer_norm_arrays(x, weight, bias, len(norm.normalized_shape), norm.eps)[0]


def _dense(x: np.ndarray, layer: Linear) -> np.ndarray:
    """Linear.forward on an array: x @ W (+ b)."""
    out = x @ layer.weight.data
    return out + layer.bias.data if layer.bias is not None else out


def _attend(x: np.ndarray, attn: MultiHeadAttention, cache: KVCache) -> np.ndarray:
    """One token's self-attention over every cached position: (B, d) -> (B, d).

    ScaledDotProductAttention.forward for one query row: its causal mask keeps every
    cached key, so there is nothing to mask.
    """
    b, heads, head_dim = len(x), attn.num_heads, attn.head_dim
    q, k, v = (
        _dense(x, p).reshape(b, heads, 1, head_dim) for p in (attn.q_proj, attn.k_proj, attn.v_proj)
    )
    keys, values = cache.append(k, v)
    scores = np.matmul(q, np.swapaxes(keys, -1, -2))  # (B, H, 1, positions)
    scores *= 1.0 / np.sqrt(head_dim)
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return _dense(np.matmul(scores, values).reshape(b, heads * head_dim), attn.out_proj)


def _gelu(x: np.ndarray) -> np.ndarray:
    """Module 02's gelu on an array (tanh form)."""
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x * x * x)))


# competency: deployment/optimizes
def decode_token(
    model: GPT, caches: Sequence[KVCache], ids: np.ndarray, position: int
) -> np.ndarray:
    """Next-token logits (B, vocab_size) for one new token per row, ids (B, 1), at ``position``.

    The same numbers as ``model(ids, caches, start_pos=position).data[:, -1]`` (in eval mode,
    where dropout is the identity), computed on the parameters' arrays directly: about 140
    NumPy calls per step at about a microsecond each, instead of about 85 Tensor ops at
    several microseconds each (a Tensor, a Module call, shape checks and a graph decision
    apiece) — at batch 1 that overhead, not the arithmetic, is nearly the whole cost of a
    step, and it is what caps the cache's speedup (Amdahl). Per block: x += Attn(LN1(x)),
    with this token's key and value appended to the layer's cache; x += MLP(LN2(x)). Then
    the final LayerNorm and the head. Rows of the batch stay (B, d) matrices throughout,
    so every projection is one 2-D BLAS call, as in the full forward pass.
    """
    ### BEGIN SOLUTION
    x = model.token_embedding.weight.data[ids[:, 0]]  # (B, d)
    if isinstance(model.position, LearnedPositionalEmbedding):
        x = x + model.position.weight.data[position]
    else:
        x = x + model.position.table[position].astype(x.dtype, copy=False)
    for block, cache in zip(model.blocks, caches):
        x = x + _attend(_layer_norm(x, block.ln1), block.attn, cache)
        mlp = block.mlp
        x = x + _dense(_gelu(_dense(_layer_norm(x, block.ln2), mlp.fc)), mlp.proj)
    return _dense(_layer_norm(x, model.ln_f), model.head)
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
