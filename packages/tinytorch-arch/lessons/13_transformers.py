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
# # Module 13 · Transformers — attention, MLP and LayerNorm stacked into a language model
#
# Everything of the architecture tier meets here. A transformer block lets tokens
# exchange information (multi-head attention), then transforms each token on its own
# (an MLP), with a layer normalization before each branch and a residual connection
# around it. Stack blocks on token and position vectors, add a head that scores every
# vocabulary entry, and you have GPT: a model trained to predict the next token, which
# generates text by feeding its own predictions back in. The systems questions change
# character: a model's size is fixed by its width and depth, but generating text costs
# more with every token already written.
#
# ## Connection map
#
# - **Prerequisites**: 02 Activations (GELU, softmax), 03 Layers, 05 Autograd
#   (`Function`), 10 Tokenization, 11 Embeddings and 12 Attention.
# - **This module**: `LayerNorm` (one fused Function with its own backward pass), the
#   `MLP` block, the pre-norm `TransformerBlock`, a decoder-only `GPT` with autoregressive
#   `generate` (greedy, temperature, top-k), and a per-layer memory report that includes
#   the bytes needed to keep every earlier token's keys and values.
# - **Unlocks**: Milestone 5 (2017 Transformer), 14 Profiling, 15 Quantization and
#   17 Memoization (KV cache, through the hook in `GPT.forward`).

# %%
import os
import time
from pathlib import Path

import numpy as np
import pytest

import tinytorch.nn.functional as F
from tinytorch.core import Tensor, graph_stats, manual_seed
from tinytorch.datasets import load_tinytalks
from tinytorch.nn import LayerNorm, TransformerBlock
from tinytorch.optim import Adam
from tinytorch.text import GPT, CharTokenizer


def module_tests(number: str) -> Path | None:
    """This module's test file: in a ``tests`` folder beside or above the lessons.

    Set the environment variable TINYTORCH_TESTS to a folder to look there first.
    """
    here = Path.cwd().resolve()
    folders = [Path(os.environ["TINYTORCH_TESTS"])] if "TINYTORCH_TESTS" in os.environ else []
    folders += [folder / "tests" for folder in (here, *here.parents)]
    for folder in folders:
        found = sorted(folder.glob(f"test_{number}_*.py"))
        if found:
            return found[0]
    return None


rng = np.random.default_rng(0)

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/text/transformers.py`**:
#
# - `layer_norm_arrays`: per row, subtract the mean, divide by √(variance + eps), then
#   scale and shift; return the output with the mean and 1/σ of each row (means as sums
#   over the count: `np.mean` costs microseconds per call in Python overhead alone).
# - `LayerNormFunction.forward`: run `layer_norm_arrays` and keep the mean and 1/σ of
#   each row for backward (two numbers per row, not a full-size array).
# - `LayerNormFunction.backward`: recompute x̂ = (x − mean)/σ, then with g = dy·weight,
#   dx = (g − mean(g) − x̂·mean(g·x̂)) / σ; dweight and dbias summed over the rows.
# - `LayerNorm.forward`: apply the Function over the last `len(normalized_shape)` axes
#   (the check that the input ends with `normalized_shape` is given).
# - `MLP.forward`: Linear(d, 4d), GELU, Linear(4d, d), applied to every token.
# - `TransformerBlock.forward`: pre-norm, x + Attn(LN(x)), then x + MLP(LN(x)), passing
#   the mask and the cache object to the attention.
# - `GPT.features`: token vectors plus positions, the blocks under a causal mask (its
#   shape shifted by `start_pos` when caches are given), and the final LayerNorm.
# - `GPT.forward`: the head on top of `features`: logits (B, T, vocab_size).
# - `GPT.generate`: extend a prompt one token at a time from the last position's
#   logits, greedy at temperature 0, else sampled (optionally among the top k), in eval
#   mode without recording a graph, stopping rows that produced `eos_id`; with caches,
#   the steps after the prompt call `decode(ids, position)` when one is given.
# - `GPT.kv_cache_bytes`: 2 × layers × batch × context × d_model × itemsize.
# - `GPT.memory_profile`: one row per layer with its parameters, the keys and values a
#   block would keep for a given context, and its attention scores.
#
# The constructors, `print_memory_profile` and the sampling helper are given.

# %% [markdown]
# ## Use
#
# **LayerNorm** gives every row mean 0 and variance 1, whatever its scale, and is one
# node of the graph:

# %%
rows = Tensor(rng.standard_normal((4, 16)).astype(np.float32) * 50 + 7, requires_grad=True)
normed = LayerNorm(16)(rows)
print(
    "means",
    np.round(normed.data.mean(axis=1), 4),
    "variances",
    np.round(normed.data.var(axis=1), 3),
)
print("graph:", graph_stats(normed.sum()))

# %% [markdown]
# **A block** maps (B, T, d) to the same shape and holds 12·d² + 13·d parameters:

# %%
manual_seed(0)
d = 32
block = TransformerBlock(embed_dim=d, num_heads=4)
x = Tensor(rng.standard_normal((2, 10, d)).astype(np.float32))
print("block:", x.shape, "->", block(x).shape)
print("parameters:", block.num_parameters(), "= 12·d² + 13·d =", 12 * d * d + 13 * d)
print(
    "  attention",
    block.attn.num_parameters(),
    "| MLP",
    block.mlp.num_parameters(),
    "| two LayerNorms",
    block.ln1.num_parameters() + block.ln2.num_parameters(),
)

# %% [markdown]
# **A tiny GPT on TinyTalks.** Characters as tokens, a stream of question–answer texts,
# random windows of 32 tokens, and a hundred Adam steps: the loss falls from about
# ln(50) ≈ 3.9 (a uniform guess) as the model picks up spelling and common phrases.
# Milestone 5 trains a larger one until it answers questions.

# %%
manual_seed(0)
pairs = load_tinytalks("train")
texts = [f"{q} {a}" for q, a in pairs]
tokenizer = CharTokenizer().train(texts)
stream = np.array([i for t in texts[:300] for i in tokenizer.encode(t, add_special_tokens=True)])
context = 32
model = GPT(tokenizer.vocab_size, d_model=32, n_heads=4, n_layers=2, max_len=context)
optimizer = Adam(model.parameters(), lr=3e-3)
windows = np.random.default_rng(0)
start = time.perf_counter()
for step in range(100):
    starts = windows.integers(0, len(stream) - context - 1, size=16)
    batch = np.stack([stream[s : s + context + 1] for s in starts])
    optimizer.zero_grad()
    logits = model(batch[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, tokenizer.vocab_size), batch[:, 1:].reshape(-1))
    loss.backward()
    optimizer.step()
    if step % 25 == 0 or step == 99:
        print(f"step {step:>3}: loss {loss.item():.3f}")
print(f"{model.num_parameters():,} parameters, {time.perf_counter() - start:.1f} s")

prompt = np.array(tokenizer.encode("hi, i am anna. ", add_special_tokens=True))
for temperature, top_k in ((0, None), (0.8, 5)):
    manual_seed(1)
    out = model.generate(prompt, 20, temperature=temperature, top_k=top_k, eos_id=tokenizer.eos_id)
    print(f"temperature {temperature}, top_k {top_k}: {tokenizer.decode(out)!r}")

# %% [markdown]
# **Where the memory goes**, layer by layer, for a context of 32 tokens:

# %%
profile = model.print_memory_profile(context_len=32)

# %% [markdown]
# ### Run this module's tests

# %%
tests = module_tests("13")
if tests is None:
    print("No tests for Module 13 found next to this lesson; skipping.")
else:
    exit_code = pytest.main([str(tests), "-q", "-rN", "--color=no", "-p", "no:cacheprovider"])
    assert exit_code == pytest.ExitCode.OK, f"Module 13 tests failed ({exit_code})"

# %% [markdown]
# ## Reflect
#
# **Q1 · Counting GPT-2 small.** 12 layers, d = 768, a vocabulary of 50,257 and 1,024
# learned positions, with the head tied to the token table (so it adds only its bias).
# Check the per-block formula on a small block first, then count the whole model
# without building it. How much memory does training it with Adam take?


# %%
# competency: models/measures, models/knows
### BEGIN SOLUTION
def block_parameters(width: int) -> int:
    return 12 * width * width + 13 * width


assert block_parameters(48) == TransformerBlock(48, 4).num_parameters()
width, layers, vocab, positions = 768, 12, 50_257, 1_024
gpt2 = vocab * width + positions * width + layers * block_parameters(width) + 2 * width + vocab
### END SOLUTION
print(
    f"GPT-2 small ≈ {gpt2 / 1e6:.1f} M parameters = {gpt2 * 4 / 1e6:.0f} MB; "
    f"with gradients and Adam {4 * gpt2 * 4 / 1e9:.1f} GB"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Each block has 12·768² + 13·768 ≈ 7.1 M parameters, so the twelve blocks
# hold 85 M; the token table 38.6 M and the positions 0.8 M bring the total to about
# 124.5 M (498 MB in float32). Training with Adam keeps the weights, their gradients
# and two moment buffers, 4 × 498 MB ≈ 2 GB, before a single activation. The sequence
# length appears nowhere in the count: a model's size is set by width, depth and
# vocabulary, while its activations and attention scores scale with the batch and T.
# ### END SOLUTION
#
# **Q2 · Keeping keys and values.** When generating, every layer could keep each
# earlier token's key and value vectors instead of recomputing them. How many bytes
# would that take for GPT-2 small at a context of 1,024, for one sequence and for 32
# served at once? Check the formula against `kv_cache_bytes` on the tiny model.


# %%
# competency: deployment/knows, tensors/measures
### BEGIN SOLUTION
def cached_bytes(n_layers: int, d_model: int, context_len: int, batch: int = 1) -> int:
    return 2 * n_layers * batch * context_len * d_model * 4


assert cached_bytes(2, 32, 32) == model.kv_cache_bytes(32)
one_sequence = cached_bytes(12, 768, 1024)
served = cached_bytes(12, 768, 1024, batch=32)
### END SOLUTION
print(
    f"one sequence {one_sequence / 2**20:.0f} MiB, 32 sequences {served / 2**30:.2f} GiB "
    f"(the weights: {gpt2 * 4 / 2**20:.0f} MiB)"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** 2 × 12 × 1,024 × 768 × 4 B = 72 MiB per sequence, 2.25 GiB for 32
# sequences: more than four times the weights themselves. Unlike the weights, this
# memory grows with every token generated and with every user served at once, so it
# is what limits how many requests a server can batch and how long their contexts may
# be. That is the trade Module 17 makes: memory for not recomputing.
# ### END SOLUTION
#
# **Q3 · The cost of generating.** Without kept keys and values, `generate` re-runs the
# whole sequence for every new token. Time 7, 14 and 28 new tokens from a 4-token
# prompt on the tiny model (best of three runs), and count the token positions
# processed.

# %%
# competency: deployment/measures
short_prompt = prompt[:4]
### BEGIN SOLUTION
costs = []
for new in (7, 14, 28):
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        model.generate(short_prompt, new, temperature=0)
        runs.append(time.perf_counter() - start)
    seconds = min(runs)
    positions = sum(len(short_prompt) + i for i in range(new))
    costs.append((new, positions, seconds))
### END SOLUTION
for new, positions, seconds in costs:
    print(
        f"{new:>2} new tokens: {positions:>4} positions processed, {seconds * 1e3:6.1f} ms, "
        f"{seconds / new * 1e3:.2f} ms per token"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Step i processes the prompt plus the i tokens generated so far, so n new
# tokens process P·n + n(n−1)/2 positions: 49, 147 and 490 here, growing with the
# square of n. At this tiny size the measured time hardly shows it: each step is
# dominated by a fixed overhead (Python, checks, many small matrix products), so the
# time per token stays roughly flat and noisy. With a wider model and longer outputs
# the work per step grows with the sequence and the quadratic term dominates; Module
# 17 measures that. For 100 tokens from an empty prompt
# that is 1 + 2 + ... + 100 = 5,050 positions where 100 would do if every position's
# keys and values were kept: the O(n²) to O(n) saving of Module 17.
# ### END SOLUTION
#
# **Q4 · One fused node.** `LayerNorm` is one Function with its own backward. Build the
# same normalisation from primitive Tensor ops and compare nodes and bytes kept for
# backward on a (64, 32, 128) activation.

# %%
# competency: graphs/measures, operations/optimizes
acts = Tensor(rng.standard_normal((64, 32, 128)).astype(np.float32), requires_grad=True)
### BEGIN SOLUTION
fused = graph_stats(LayerNorm(128, elementwise_affine=False)(acts).sum())
mean = acts.mean(axis=-1, keepdims=True)
centred = acts - mean
variance = (centred * centred).mean(axis=-1, keepdims=True)
composed = graph_stats((centred / (variance + 1e-5).sqrt()).sum())
### END SOLUTION
print("fused:   ", fused)
print("composed:", composed)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The fused LayerNorm is one node (plus the sum) and keeps two
# activation-sized arrays (its input and its output) and two numbers per row (the mean
# and 1/σ, from which backward recomputes x̂); composed from
# primitives it is eight nodes, several of which keep full-size arrays of their own
# (the centred input for the square and for the division, the quotient's operands):
# twice the bytes here, and more once the scale and shift are added as further ops.
# A transformer applies two LayerNorms per block, so fusing them saves activation
# memory in every layer and makes each direction one pass over memory instead of
# several.
# ### END SOLUTION
#
# **Q5 · Pre-norm and the residual path.** In a pre-norm block, what does the block
# compute when both branches output zero, and why does that help a deep stack train?

# %%
# competency: models/debugs
### BEGIN SOLUTION
quiet = TransformerBlock(embed_dim=d, num_heads=4)
for layer in (quiet.attn.out_proj, quiet.mlp.proj):
    layer.weight.data[:] = 0
    layer.bias.data[:] = 0
identity = np.allclose(quiet(x).data, x.data)
### END SOLUTION
print("block is the identity when its branches output zero:", identity)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** It returns its input unchanged: x + 0 + 0. In a pre-norm block the
# residual path carries x from the first block to the last with nothing in the way,
# so the gradient reaches early layers directly through the sums, and each block only
# adds a correction. In the 2017 post-norm layout the LayerNorm sits on that path
# after every addition, so a deep stack rescales the signal and its gradient at every
# block; such models need careful learning-rate warm-up and still diverge more easily.
# When a deep transformer's loss stalls or explodes early, the block layout is one of
# the first things to check.
# ### END SOLUTION
