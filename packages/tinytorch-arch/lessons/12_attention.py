# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 12 · Attention — every token looks at every other token, at O(N²) cost
#
# Embeddings give each token a vector of its own; attention lets tokens exchange
# information. Each token asks a question (its query), every token offers a label (its
# key) and a content (its value); the answer is the values mixed by how well each key
# matches the query, weights from a softmax over the scaled dot products. It is a few
# matrix products, and the whole module is about their shape: the score matrix has one
# entry per *pair* of tokens, so memory and compute grow with the square of the
# sequence length. A causal mask hides later tokens from earlier ones, and several
# heads run side by side in one batched product.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor (batched matmul), 02 Activations (stable softmax),
#   03 Layers (`Linear`), 05 Autograd (`Function`) and 11 Embeddings.
# - **This module**: scaled dot-product attention as one Function with its own backward
#   pass, boolean and causal masks, `MultiHeadAttention` with every head in one batched
#   product, and the O(N²) score memory, measured and reported.
# - **Unlocks**: 13 Transformers (attention + MLP + LayerNorm), Milestone 5, and
#   17 Memoization (the KV cache plugs into `MultiHeadAttention`).

# %%
import time

import numpy as np

from tinytorch.core import Tensor, gradcheck, manual_seed
from tinytorch.nn import MultiHeadAttention
from tinytorch.text import causal_mask, print_attention_memory, scaled_dot_product_attention
from tinytorch_learn.lesson import run_tests

rng = np.random.default_rng(0)


def randn(*shape: int, requires_grad: bool = False) -> Tensor:
    return Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=requires_grad)


def best_time(fn, *args, repeats: int = 3) -> float:
    """The fastest of a few runs of ``fn(*args)``, in seconds (the first pays for warm-up)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/text/attention.py`**:
#
# - `causal_mask`: a boolean (T, past + T) matrix, True where query i (at position
#   past + i) may look at key j, that is j ≤ past + i.
# - `ScaledDotProductAttention.forward`: S = Q Kᵀ / √d_k, masked entries set to the
#   most negative float, a softmax that subtracts each row's maximum first, keep the
#   weights P for backward, return P V.
# - `ScaledDotProductAttention.backward`: dV = Pᵀ G, dP = G Vᵀ,
#   dS = P ⊙ (dP − rowsum(dP ⊙ P)), then dQ and dK through the scale.
# - `attention_memory`: check the sizes and return the report of B·H·T² scores.
# - `MultiHeadAttention.split_heads` and `MultiHeadAttention.merge_heads`:
#   (B, T, E) ↔ (B, H, T, E/H), a reshape and a permute each.
# - `MultiHeadAttention.project_qkv`: the three projections of the input, split into
#   heads.
# - `MultiHeadAttention.attend`: attention over the head-split q, k, v, heads merged,
#   then the output projection.
# - `MultiHeadAttention.forward`: `project_qkv`, then (when a cache object is passed)
#   let it append this step's keys and values, then `attend`.
#
# `scaled_dot_product_attention` (which checks shapes and masks and gives errors that
# name them), `AttentionMemory` and `print_attention_memory` are given.

# %% [markdown]
# ## Use
#
# **The causal mask** for four tokens: each row is a query, each column a key.

# %%
print(causal_mask(4).astype(int))

# %% [markdown]
# **One head by hand.** Three tokens with 4-dimensional queries, keys and values. Each
# row of weights is a probability distribution; with the causal mask, the future gets
# exactly zero.

# %%
q, k, v = (randn(1, 3, 4, requires_grad=True) for _ in range(3))
for mask in (None, causal_mask(3)):
    out = scaled_dot_product_attention(q, k, v, mask)
    print("causal mask" if mask is not None else "no mask", "-> output", out.shape, "weights:")
    print(np.round(out.grad_fn.weights[0], 3))

# %% [markdown]
# `out.grad_fn.weights` exists only when a graph is recorded; inputs that require
# gradients make sure of that. The backward pass agrees with finite differences:

# %%
q64, k64, v64 = (
    Tensor(rng.standard_normal((2, 5, 3)), requires_grad=True, dtype=np.float64) for _ in range(3)
)
print(
    "gradcheck with a causal mask:",
    gradcheck(
        lambda a, b, c: scaled_dot_product_attention(a, b, c, causal_mask(5)), [q64, k64, v64]
    ),
)

# %% [markdown]
# **Multi-head attention**: four projections of E × E, all heads in one batched call.

# %%
manual_seed(0)
mha = MultiHeadAttention(embed_dim=32, num_heads=4)
x = randn(2, 10, 32, requires_grad=True)
y = mha(x, causal_mask(10))
print(mha, "| input", x.shape, "-> output", y.shape)
print("parameters:", mha.num_parameters(), "= 4 * (32*32 + 32) =", 4 * (32 * 32 + 32))
print("heads:", mha.split_heads(x).shape)

# %% [markdown]
# **Quadratic growth.** The score memory per layer for 12 heads (float32):

# %%
rows = print_attention_memory((256, 512, 1024, 2048))

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("12")

# %% [markdown]
# ## Reflect
#
# **Q1 · Measure the O(N²).** Run one head of attention (d = 32) with gradients on for
# T = 256, 512, 1,024 and read how many bytes of weights the graph keeps, and how long
# the forward pass takes. What happens at every doubling of T?

# %%
# competency: tensors/measures, operations/measures
### BEGIN SOLUTION
growth = []
for length in (256, 512, 1024):
    qs, ks, vs = (randn(1, length, 32, requires_grad=True) for _ in range(3))
    out = scaled_dot_product_attention(qs, ks, vs)
    seconds = best_time(scaled_dot_product_attention, qs, ks, vs)
    growth.append((length, out.grad_fn.weights.nbytes, seconds))
### END SOLUTION
for length, kept, seconds in growth:
    print(f"T={length:>4}: weights kept {kept / 1024:>6.0f} KiB, forward {seconds * 1e3:.2f} ms")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The kept weights are exactly T² × 4 bytes: 256 KiB, 1 MiB, 4 MiB, four
# times as much per doubling. Time grows by about the same factor, since the two
# T × T products (and the exp over T² scores) dominate at these lengths. For
# a real model multiply by heads, layers and batch: 12 heads at T = 1,024 is 48 MiB per
# layer for one sequence, and the score matrix, not the weights of the model, is what
# limits context length. FlashAttention computes the same output in tiles without ever
# storing the whole matrix.
# ### END SOLUTION
#
# **Q2 · Where the FLOPs go.** For one sequence, the projections cost 8·T·E² FLOPs and
# the two T × T products 4·T²·E. At which length do the scores start to dominate for
# E = 64, and for E = 768?


# %%
# competency: operations/measures
### BEGIN SOLUTION
def attention_layer_flops(length: int, embed: int) -> tuple[int, int]:
    return 8 * length * embed**2, 4 * length**2 * embed


crossover = {embed: 2 * embed for embed in (64, 768)}
### END SOLUTION
for embed, length in crossover.items():
    proj, scores = attention_layer_flops(length, embed)
    print(f"E={embed}: equal at T={length} ({proj:,} vs {scores:,} FLOPs)")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** 8·T·E² = 4·T²·E when T = 2E: at 128 tokens for E = 64 and 1,536 for
# E = 768. Below that the layer behaves like any dense layer (linear in T); above it
# the quadratic term takes over. Small models with long inputs hit the quadratic wall
# first, and the tokenizer's choice of T (Module 10) moves a model across the line.
# ### END SOLUTION
#
# **Q3 · Why scale by √d.** Without the 1/√d_k factor, what do the weights look like for
# d_k = 512 (64 queries over 64 keys: how much weight does each query's top key get,
# on average)? What does that do to the gradient? And why do scores near 10⁸ not
# overflow?

# %%
# competency: operations/debugs
### BEGIN SOLUTION
wide_q, wide_k = rng.standard_normal((64, 512)), rng.standard_normal((64, 512))
scores = wide_q @ wide_k.T


def row_softmax(rows: np.ndarray) -> np.ndarray:
    shifted = np.exp(rows - rows.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


largest = [float(row_softmax(s).max(axis=-1).mean()) for s in (scores / np.sqrt(512), scores)]
huge = scaled_dot_product_attention(randn(1, 2, 4) * 1e4, randn(1, 2, 4) * 1e4, randn(1, 2, 4))
### END SOLUTION
print(f"mean top weight: scaled {largest[0]:.2f}, unscaled {largest[1]:.2f}")
print("scores around 1e8, output finite:", bool(np.isfinite(huge.data).all()))

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** A dot product of two random d-dimensional vectors has a standard
# deviation of √d, about 23 for d = 512. Unscaled, the largest score in a row is
# typically many units above the next, so the softmax gives the top key about 90% of
# the weight (against about 11% scaled): attention turns into a hard lookup, and its
# gradient, P ⊙ (dP − rowsum(dP ⊙ P)), is nearly zero for every other key, so the
# layer stops learning which keys matter. Dividing by √d brings the scores back to
# unit scale, whatever the head size. Huge scores never overflow because each row's
# maximum is subtracted before `exp`, so the largest exponent is exactly 0.
# ### END SOLUTION
#
# **Q4 · What the mask guarantees.** With a causal mask, change the last two tokens of
# a sequence and compare the outputs at the earlier positions.

# %%
# competency: models/knows
### BEGIN SOLUTION
tokens = randn(1, 6, 32)
edited = Tensor(tokens.data.copy())
edited.data[0, 4:] = rng.standard_normal((2, 32))
before, after = mha(tokens, causal_mask(6)), mha(edited, causal_mask(6))
unchanged = np.allclose(before.data[0, :4], after.data[0, :4])
changed = not np.allclose(before.data[0, 4:], after.data[0, 4:])
### END SOLUTION
print("positions 0-3 unchanged:", unchanged, "| positions 4-5 changed:", changed)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The first four outputs are identical: under the mask, position t mixes
# only values at positions ≤ t. That is what lets one forward pass over a sequence
# train every next-token prediction at once without any position seeing its answer,
# and it is also why, when generating, the outputs for earlier positions never change
# as new tokens arrive, so their keys and values could be kept instead of recomputed.
# ### END SOLUTION
#
# **Q5 · One batched call or a loop over heads.** Time 8 heads of attention as one
# call on (B, 8, T, d) against a Python loop of 8 calls, for short sequences (B=16,
# T=16, d=8) and longer ones (B=4, T=256, d=16). Same numbers? Which is faster, and
# why does it depend on T?


# %%
# competency: operations/optimizes
### BEGIN SOLUTION
def loop_over_heads(q: Tensor, k: Tensor, v: Tensor) -> list[Tensor]:
    return [scaled_dot_product_attention(q[:, h], k[:, h], v[:, h]) for h in range(q.shape[1])]


head_timings = {}
for batch, length, dim in ((16, 16, 8), (4, 256, 16)):
    hq, hk, hv = (randn(batch, 8, length, dim) for _ in range(3))
    batched = scaled_dot_product_attention(hq, hk, hv)
    looped = loop_over_heads(hq, hk, hv)
    same = np.allclose(batched.data, np.stack([o.data for o in looped], axis=1), atol=1e-5)
    t_batched = best_time(scaled_dot_product_attention, hq, hk, hv, repeats=5)
    t_looped = best_time(loop_over_heads, hq, hk, hv, repeats=5)
    head_timings[length] = (t_batched, t_looped, same)
### END SOLUTION
for length, (t_batched, t_looped, same) in head_timings.items():
    print(
        f"T={length:>3}: batched {t_batched * 1e3:.2f} ms, loop {t_looped * 1e3:.2f} ms "
        f"({t_looped / t_batched:.1f}x), same numbers: {same}"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The numbers agree to float32 rounding. For short sequences the batched
# call wins clearly: each of the eight looped calls pays Python, shape checking and
# dispatch overhead for a tiny product, and the batched call pays it once. At T = 256
# the two are about equal, because the products themselves (T² per head) now dominate
# and NumPy runs the same arithmetic either way. Batching removes per-call overhead,
# not arithmetic, so it matters most for many small heads and short sequences, which
# is exactly the generation regime of a small model. `split_heads` makes it free: a
# reshape and a permute, no arithmetic.
# ### END SOLUTION
