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
# # Module 17 · Memoization — compute each token's keys and values once, then keep them
#
# Module 13's `GPT.generate` re-runs the whole sequence through the model for every new
# token. Yet in a causal model nothing about an earlier token ever changes once it has
# been processed: position t only looks back, so its key and value vectors in every
# layer are final. Memoization keeps them. A KV cache per layer holds the keys and
# values of every position so far; each generation step then feeds only the newest
# token, appends its key and value, and attends over everything kept. The work per
# sequence drops from O(n²) token passes to O(n), the output stays the same token for
# token, and the price is memory that grows with every token and every sequence served.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor (bytes per element), 05 Autograd (`no_grad`),
#   12 Attention (`MultiHeadAttention`'s cache hook, `causal_mask` with a past),
#   13 Transformers (`GPT.forward(ids, caches, start_pos)`, `generate`,
#   `kv_cache_bytes`) and 14 Profiling (`time_call`, Amdahl's law).
# - **This module**: `KVCache` (preallocated keys and values, a write position, a clear
#   error on overflow, `reset`), `make_caches`, `generate_cached` (identical to
#   `GPT.generate`), `kv_cache_memory`, `token_passes`, and timings at several lengths.
# - **Unlocks**: 18 Acceleration, 19 Benchmarking (cached vs uncached generation with
#   statistics), 20 Capstone and Milestone 6 (the generation row).

# %%
import time

import numpy as np

from tinytorch.core import Tensor, manual_seed
from tinytorch.perf.measure import peak_memory
from tinytorch.perf.memoization import (
    KVCache,
    generate_cached,
    growth_exponent,
    kv_cache_memory,
    make_caches,
    scaling_table,
    time_generation,
    token_passes,
)
from tinytorch.text import GPT
from tinytorch_learn.lesson import run_tests

rng = np.random.default_rng(0)

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/perf/memoization.py`**:
#
# - `KVCache.__init__`: allocate `keys` and `values`, each (batch, heads, max_len,
#   head_dim), once, and start the write position at 0.
# - `KVCache.append`: write this step's keys and values (plain arrays) at the write
#   position (refusing, with a message that says what to do, to run past `max_len`),
#   advance the position, and return every position filled so far as views of the
#   buffers; `KVCache.update` does the same for Tensors, through `append`.
# - `KVCache.reset`: forget every position, keep the buffers.
# - `make_caches`: one cache per transformer block, shaped like its attention, in the
#   model's dtype.
# - `kv_cache_memory`: per token, one key and one value of heads × head_dim numbers in
#   every layer; total for a batch and a context, with the weights for scale.
# - `token_passes`: token positions pushed through the model, uncached (n·P + n(n−1)/2)
#   and cached (P + n − 1).
# - `generate_cached`: size one cache per layer to the positions the generation runs and
#   hand them to `GPT.generate(..., caches=...)`, whose loop runs the prompt once and then
#   feeds one token per step at its position: the sampling loop exists once, in Module 13.
#   Each step after the prompt goes through `decode_token` (passed as `decode=`, with a
#   `DecodePlan.of(model)` built once) when `has_lean_path(model)` says it computes what
#   the model's forward pass does.
# - `decode_token`: one token per row through the model on the plan's arrays —
#   embedding and position, then per block x += Attn(LN1(x)) (appending to the layer's
#   cache) and x += MLP(LN2(x)), then the final LayerNorm and the head: the forward
#   pass's numbers without a Tensor, a Module call and a graph decision per op.
# - `growth_exponent`: the slope of log(time) against log(n).
#
# `KVCache`'s checks, `KVCacheMemory`, `time_generation` and `scaling_table` are given,
# and so are `DecodePlan` and the array functions `decode_token` calls (`_layer_norm`,
# `_attend`, `_dense`, `_gelu`). Read the plan: it gathers the parameters once per
# generation so that a step pays only for NumPy calls — q, k and v side by side (one
# product instead of three), biases and norm weights as (1, n) rows (batch 1 then skips
# broadcasting), Python numbers as 0-d arrays of the model's dtype (no conversion per
# call), the attention's 1/sqrt(head_dim) folded into q's weights (one pass over the
# scores fewer). Apart from that fold — exact when the scale is a power of two, as for
# head_dim 16 or 64 — every number comes from the same operations, in the same order, as
# in the forward pass.

# %% [markdown]
# ## Use
#
# **One cache.** Two heads of size 4, room for 6 positions: a 3-token prompt, then one
# token at a time. `update` returns every position so far, as views of one buffer.

# %%
cache = KVCache(batch=1, num_heads=2, head_dim=4, max_len=6)
keys, values = cache.update(
    *(Tensor(rng.standard_normal((1, 2, 3, 4)), dtype=np.float32) for _ in range(2))
)
print(cache, "| returned", keys.shape)
keys, values = cache.update(
    *(Tensor(rng.standard_normal((1, 2, 1, 4)), dtype=np.float32) for _ in range(2))
)
print(
    cache,
    "| returned",
    keys.shape,
    "| a view of the buffer:",
    np.shares_memory(keys.data, cache.keys),
)
try:
    cache.update(*(Tensor(np.zeros((1, 2, 3, 4)), dtype=np.float32) for _ in range(2)))
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# **A model's caches and their memory**, checked against Module 13's formula:

# %%
manual_seed(0)
model = GPT(vocab_size=50, d_model=64, n_heads=4, n_layers=2, max_len=128)
caches = make_caches(model, batch=1)
print(len(caches), "caches:", caches[0])
print(kv_cache_memory(model, context_len=128))
print("Module 13 says:", model.kv_cache_bytes(128), "bytes")

# %% [markdown]
# **Same tokens, less work.** Greedy generation with and without the cache, from a
# 4-token prompt:

# %%
prompt = np.array([1, 7, 3, 9])
plain = model.generate(prompt, 30, temperature=0)
cached = generate_cached(model, prompt, 30)
print("identical:", np.array_equal(plain, cached))
for new in (10, 100):
    uncached_passes, cached_passes = token_passes(len(prompt), new)
    print(f"{new} new tokens: {uncached_passes:,} token passes uncached, {cached_passes} cached")

# %% [markdown]
# **Timed at several lengths** (the uncached time grows about as n², the cached as n):

# %%
rows = time_generation(model, prompt, lengths=(15, 30, 60), repeats=2)
print(scaling_table(rows, prompt_len=len(prompt)))

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("17")

# %% [markdown]
# ## Reflect
#
# **Q1 · The memory bill.** For this model, how many bytes does the cache take per
# token, and from how many cached tokens on does it outweigh the model's weights? Then
# GPT-2 small (12 layers, d = 768, 124 M parameters): 32 users with 1,024-token
# contexts.

# %%
# competency: deployment/knows
### BEGIN SOLUTION
small = kv_cache_memory(model, context_len=128, batch=8)
gpt2_per_token = 2 * 12 * 768 * 4
gpt2_served = gpt2_per_token * 1024 * 32
gpt2_weights = 124_000_000 * 4
### END SOLUTION
print(small)
print(
    f"GPT-2 small: {gpt2_per_token:,} B per token; 32 × 1,024 tokens = "
    f"{gpt2_served / 2**30:.2f} GiB against {gpt2_weights / 2**30:.2f} GiB of weights"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Here every token costs 2 × 2 layers × 64 × 4 B = 1 KiB, and about 450
# cached tokens (over all sequences) outweigh the 448 KiB of weights: 8 sequences of 128
# tokens already hold twice the model. For GPT-2 small a token costs 72 KiB, 72 MiB per
# 1,024-token sequence, and 32 such users need 2.25 GiB, almost five times the weights.
# The weights are paid once; the cache is paid per token and per user, for as long as
# the conversation lasts. That is the memory-for-compute trade of memoization, and it
# is what limits how many requests a server can batch.
# ### END SOLUTION
#
# **Q2 · Saved work against saved time.** 40 new tokens from the 4-token prompt save
# 940 / 43 ≈ 22× the token passes. Time them (best of two runs) for one sequence and for
# four at once, and compare the measured speed-ups with that ratio. Why can a speed-up
# come out below the ratio, and why can it come out above?

# %%
# competency: deployment/measures, deployment/optimizes
### BEGIN SOLUTION
by_batch = {}
for batch in (1, 4):
    prompts = np.tile(prompt, (batch, 1))
    (row,) = time_generation(model, prompts, lengths=(40,), repeats=2)
    by_batch[batch] = (row.uncached.min, row.cached.min)
### END SOLUTION
passes = token_passes(len(prompt), 40)
print(f"token passes saved: {passes[0] / passes[1]:.0f}x")
for batch, (slow, fast) in by_batch.items():
    print(
        f"{batch} sequence(s): uncached {slow * 1e3:.0f} ms, cached {fast * 1e3:.0f} ms "
        f"({slow / fast:.1f}x)"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Token passes are not all equally expensive, and steps are not only
# token passes. Below the ratio: the cache removes repeated passes, not each step's
# fixed cost (calling every layer, checks, small matrix products), which a one-token
# step is mostly made of; by Amdahl's law (Module 14) that untouched part caps the
# gain, and it matters most for one short sequence (`decode_token` shrinks it by doing
# each step's arithmetic on plain arrays, but its ~120 NumPy calls per step remain).
# Above the ratio: an uncached step
# over T tokens also computes T × T attention scores per head, while a cached step
# scores one query against T keys, so the uncached work per pass grows with the length
# (its time grows faster than n²); with four sequences per step every uncached step
# handles four times the arrays, and the machine's caches and load make the long steps
# slower still. Batches of requests and long outputs therefore gain most, which is why
# serving systems batch their cached generations.
# ### END SOLUTION
#
# **Q3 · A cache that grows.** Instead of preallocating, a cache could append with
# `np.concatenate` at every step. For 1,024 positions of (1, 4, ·, 64) keys, compare
# the peak memory and time of growing an array with writing into a preallocated one,
# as `KVCache` does. Why does the obvious version bloat?

# %%
# competency: deployment/debugs
step_key = rng.standard_normal((1, 4, 1, 64)).astype(np.float32)
positions = 1024


### BEGIN SOLUTION
def grown() -> np.ndarray:
    kept = np.zeros((1, 4, 0, 64), dtype=np.float32)
    for _ in range(positions):
        kept = np.concatenate([kept, step_key], axis=2)
    return kept


def preallocated() -> np.ndarray:
    buffer = np.zeros((1, 4, positions, 64), dtype=np.float32)
    for t in range(positions):
        buffer[:, :, t : t + 1] = step_key
    return buffer


comparison = {}
for name, fn in (("np.concatenate", grown), ("preallocated", preallocated)):
    start = time.perf_counter()
    fn()
    comparison[name] = (time.perf_counter() - start, peak_memory(fn))
### END SOLUTION
final_bytes = positions * 4 * 64 * 4
for name, (seconds, peak) in comparison.items():
    print(
        f"{name:<15} {seconds * 1e3:6.1f} ms, peak {peak / 2**20:5.2f} MiB "
        f"(final keys: {final_bytes / 2**20:.2f} MiB)"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Each `np.concatenate` allocates a new array one position longer and
# copies the whole cache into it, so step t copies t positions: O(T²) bytes copied over
# a generation (here about half a GiB to end with 1 MiB), the very quadratic growth the
# cache exists to remove, and at every step the old and the new array are alive
# together, so the peak is about twice the final size. The preallocated buffer writes
# only the new row and never reallocates; its cost is reserving `max_len` up front.
# In a server, a cache that reallocates shows up as memory that climbs in steps and
# latency per token that grows with the conversation; sizing each cache to the
# positions its generation needs (as `generate_cached` does) and refusing overflow
# with a clear error keep both bounded. `KVCache.update` adds its shape checks to the
# write, a fixed cost per step.
# ### END SOLUTION
#
# **Q4 · When a cache is allowed.** Why are the cached keys and values of earlier
# positions exactly what a full forward pass would compute? Name one change to the
# model that would make caching wrong, and explain why the cache refuses inputs that
# record a graph.
#
# ### BEGIN SOLUTION
# **Answer.** Under the causal mask (Module 12) position t attends only to positions
# ≤ t, and every layer works per position otherwise, so the hidden state, key and value
# at position t depend only on tokens 0..t: appending a token never changes them, and
# computing them once is exact (the tests check the cached logits against the full
# forward pass). Drop the mask (bidirectional attention, as in BERT), or make the
# position encoding depend on the sequence length, and a new token changes every
# earlier key and value, so a cache would return stale numbers. The cache keeps plain
# arrays and writes in place; a gradient cannot flow through in-place writes into a
# shared buffer, so it refuses graph-recording inputs instead of silently cutting the
# graph: cached generation is for inference, under `no_grad()`.
# ### END SOLUTION
#
# **Q5 · The paper's count.** From a one-token prompt, how many token passes do 100 new
# tokens take with and without the cache, and what growth exponents do the timings
# above give?

# %%
# competency: deployment/measures
### BEGIN SOLUTION
paper = token_passes(1, 100)
lengths = [row.new_tokens for row in rows]
exponents = (
    growth_exponent(lengths, [row.uncached.median for row in rows]),
    growth_exponent(lengths, [row.cached.median for row in rows]),
)
### END SOLUTION
print(f"100 tokens from a 1-token prompt: {paper[0]:,} passes uncached, {paper[1]} cached")
print(f"measured: uncached time ∝ n^{exponents[0]:.2f}, cached ∝ n^{exponents[1]:.2f}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** 1 + 2 + ... + 100 = 5,050 passes without the cache against 100 with it:
# O(n²) against O(n). The fitted exponents are near 2 and near 1 when the work per
# step dominates; fixed per-step costs pull the uncached exponent below 2 at small n,
# and a busy machine can push single timings either way (Module 19 turns such timings
# into statements with stated uncertainty). The token-pass count is exact and
# machine-independent, which is why it comes first.
# ### END SOLUTION
