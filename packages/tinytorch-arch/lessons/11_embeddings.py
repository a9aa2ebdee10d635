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
# # Module 11 · Embeddings — token ids become vectors, and positions become visible
#
# Module 10 turned text into ids; a model needs vectors. An embedding is the simplest
# possible layer: a table with one learned row per id, and the forward pass is a
# lookup. There is no arithmetic at all, which makes its systems behaviour unusual: the
# backward pass only touches the rows a batch used. The second half of the module adds
# positions. A layer that treats its input as a set of vectors cannot tell "dog bites
# man" from "man bites dog", so each token's vector gets a position vector added: a
# fixed sinusoidal pattern, or one learned row per position.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor, 03 Layers (`Module`, `Parameter`), 05 Autograd
#   (`Function`) and 10 Tokenization (the ids).
# - **This module**: `Embedding` (a lookup whose gradient is a scatter-add into the rows
#   used), `Embedding.gradient_report`, the sinusoidal `PositionalEncoding` (no
#   parameters) and `LearnedPositionalEmbedding` (one learned row per position).
# - **Unlocks**: 12 Attention (which is blind to order without positions),
#   13 Transformers and Milestone 5.

# %%
import numpy as np

from tinytorch.core import gradcheck, manual_seed
from tinytorch.datasets import load_tinytalks
from tinytorch.nn import Embedding, LearnedPositionalEmbedding, PositionalEncoding
from tinytorch.text import CharTokenizer, sinusoidal_table
from tinytorch_learn.lesson import run_tests

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/text/embeddings.py`**:
#
# - `EmbeddingFunction.forward`: `weight[indices]`, a (V, d) table and integer ids of
#   any shape give (..., d).
# - `EmbeddingFunction.backward`: a zero (V, d) gradient and a scatter-*add* of the
#   upstream gradient into the rows the ids name (`np.add.at`), so an id used twice
#   receives both contributions; remember which rows were touched.
# - `Embedding.forward`: check the ids (integers, inside the table, with an error that
#   shows the shape) and apply the Function.
# - `Embedding.gradient_report`: how many distinct rows a batch uses, and the bytes of
#   a dense against a sparse gradient.
# - `sinusoidal_table`: PE[pos, 2i] = sin(pos / 10000^(2i/d)),
#   PE[pos, 2i+1] = cos(pos / 10000^(2i/d)), computed in float64, returned as float32.
# - `PositionalEncoding.forward`: add the rows `start_pos .. start_pos + T − 1` of the
#   fixed table (refusing positions beyond `max_len`).
# - `LearnedPositionalEmbedding.forward`: the same with a learned table, looked up
#   through `EmbeddingFunction` so that only the positions used get a gradient.
#
# The constructors, `EmbeddingGradReport` and the id checks are given.

# %% [markdown]
# ## Use
#
# A character tokenizer's ids, looked up in a table of 8-dimensional vectors:

# %%
manual_seed(0)
corpus = [f"{q} {a}" for q, a in load_tinytalks("train")]
tokenizer = CharTokenizer().train(corpus)
ids = np.array([tokenizer.encode("hello"), tokenizer.encode("world")])
table = Embedding(tokenizer.vocab_size, 8)
vectors = table(ids)
print(table, "->", table.num_parameters(), "parameters")
print("ids", ids.shape, "-> vectors", vectors.shape)
print("row for 'l' each time:", np.array_equal(vectors.data[0, 2], vectors.data[0, 3]))

# %% [markdown]
# **The gradient touches only the rows used**, and an id used several times ("l"
# three times, "o" twice) receives the sum of its gradients.

# %%
vectors.sum().backward()
used = np.flatnonzero(np.abs(table.weight.grad.data).sum(axis=1))
print("rows with a gradient:", [tokenizer.vocab[i] for i in used])
print("gradient of 'l' (used 3 times):", table.weight.grad.data[tokenizer.encode("l")[0], :3])
print(table.gradient_report(ids))

# %% [markdown]
# **Sinusoidal positions.** Each pair of columns is a clock with its own period; nearby
# positions get similar vectors, and the similarity depends only on the distance.

# %%
pe = sinusoidal_table(64, 16)
similarity = pe @ pe.T
print("table", pe.shape, pe.dtype)
print("pos 10 vs 11, 12, 20:", [round(float(similarity[10, j]), 2) for j in (11, 12, 20)])
print("pos 40 vs 41, 42, 50:", [round(float(similarity[40, j]), 2) for j in (41, 42, 50)])

encode_positions = PositionalEncoding(max_len=64, embedding_dim=8)
learned_positions = LearnedPositionalEmbedding(max_len=64, embedding_dim=8)
print("fixed:", encode_positions(vectors).shape, encode_positions.num_parameters(), "parameters")
print(
    "learned:", learned_positions(vectors).shape, learned_positions.num_parameters(), "parameters"
)

# %% [markdown]
# The lookup is differentiable like any other op; `gradcheck` confirms the scatter-add
# in float64:

# %%
small = Embedding(6, 3)
small.weight.data = small.weight.data.astype(np.float64)
print(
    "gradcheck:", gradcheck(lambda w: small(np.array([[0, 2, 2], [5, 0, 1]])) * 1.0, [small.weight])
)

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("11")

# %% [markdown]
# ## Reflect
#
# **Q1 · Table memory.** GPT-2 keeps 50,257 token vectors of 768 numbers. How many
# bytes is that table in float32, and how much memory does training it with Adam need
# (weights, gradients, two moments)?

# %%
# competency: models/measures, tensors/measures
### BEGIN SOLUTION
gpt2_rows, gpt2_dim = 50_257, 768
table_bytes = gpt2_rows * gpt2_dim * 4
training_bytes = 4 * table_bytes
### END SOLUTION
print(f"table {table_bytes / 1e6:.0f} MB; with gradient and Adam {training_bytes / 1e6:.0f} MB")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** 50,257 × 768 × 4 B = 154 MB for the table, about 618 MB once the dense
# gradient and Adam's two moment buffers (each the table's size) are added. For a
# model with 124 M parameters in all, the token table is almost a third of the
# weights, which is why many models reuse (tie) it as the output layer.
# ### END SOLUTION
#
# **Q2 · Dense or sparse gradient.** A batch of 4,096 token ids drawn from that 50,257-row
# table: how many rows get a gradient, and how many bytes would a sparse gradient
# (rows plus their ids) take against the dense one this framework stores?

# %%
# competency: graphs/measures
### BEGIN SOLUTION
batch_ids = np.random.default_rng(0).zipf(1.3, size=4096) % gpt2_rows
report = Embedding(gpt2_rows, 8).gradient_report(batch_ids)
dense_768 = gpt2_rows * gpt2_dim * 4
sparse_768 = report.rows_used * (gpt2_dim * 4 + 8)
### END SOLUTION
print(
    f"{report.rows_used:,} of {gpt2_rows:,} rows ({report.fraction_used:.1%}); "
    f"dense {dense_768 / 1e6:.0f} MB vs sparse {sparse_768 / 1e6:.2f} MB"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** At most 4,096 rows, and with word frequencies as skewed as real text
# (the Zipf draw above) well under a thousand distinct ones: under 2% of the table.
# The dense gradient is 154 MB of mostly zeros; the sparse one a few megabytes. A
# sparse update also touches only those rows, but it is incompatible with optimizers
# that decay or update every row every step (weight decay, Adam's moments), which is
# why PyTorch makes `sparse=True` opt-in and pairs it with special optimizers.
# ### END SOLUTION
#
# **Q3 · Why positions.** Summarise a sentence by the largest value of each feature
# over its tokens (max-pooling, blind to order). Without positions, does that summary
# tell "dog bites man" from "man bites dog"? Add a positional encoding and compare
# again. Would an average do as well?

# %%
# competency: models/knows
words = {"dog": 0, "bites": 1, "man": 2}
lookup = Embedding(3, 8)
positions = PositionalEncoding(max_len=8, embedding_dim=8)
first = np.array([[words["dog"], words["bites"], words["man"]]])
second = np.array([[words["man"], words["bites"], words["dog"]]])
### BEGIN SOLUTION
plain = [lookup(s).data.max(axis=1) for s in (first, second)]
placed = [positions(lookup(s)).data.max(axis=1) for s in (first, second)]
averaged = [positions(lookup(s)).data.mean(axis=1) for s in (first, second)]
### END SOLUTION
print("without positions, same summary:", np.allclose(*plain))
print("with positions, same summary:", np.allclose(*placed))
print("with positions but averaged, same summary:", np.allclose(*averaged))

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Without positions both sentences are the same set of vectors, so any
# order-blind combination (a maximum, a sum, and also the similarity-weighted mixing
# of Module 12) gives identical results: "who bit whom" is lost. Adding a position
# vector makes the same word at different positions a different vector, so order
# becomes part of the input and the maxima differ. A plain average still cannot see
# it: the mean of (word + position) is the mean of the words plus the mean of the
# positions, and both are the same for any order. Positions only help a model whose
# next step is non-linear in each token's vector, as every real one is.
# ### END SOLUTION
#
# **Q4 · Fixed or learned positions.** Compare the two on parameters, on what happens
# past `max_len`, and on what each costs in memory for `max_len` = 1,024 and d = 768.
#
# ### BEGIN SOLUTION
# **Answer.** The learned table holds 1,024 × 768 = 786,432 parameters (3.1 MB, plus
# its gradient and optimizer state) and has no row at all for position 1,024: the
# model cannot read longer sequences. The sinusoidal table has no parameters, the
# same 3.1 MB as a constant that is not saved with the model, and can be computed for
# any position; because PE[pos + k] is a fixed rotation of PE[pos], relative offsets
# are easy to read from it. In practice learned positions do as well on lengths seen
# in training (GPT-2 uses them), and neither extrapolates well far beyond them.
# ### END SOLUTION
#
# **Q5 · A silent gradient bug.** A learner writes the backward pass as
# `grad_weight[indices] += grad` instead of `np.add.at`. The tests for distinct ids
# pass. What goes wrong for "hello", and why?

# %%
# competency: operations/debugs
hello = np.array(tokenizer.encode("hello"))
upstream = np.ones((len(hello), 2))
### BEGIN SOLUTION
buggy = np.zeros((tokenizer.vocab_size, 2))
buggy[hello] += upstream
correct = np.zeros((tokenizer.vocab_size, 2))
np.add.at(correct, hello, upstream)
l_row = tokenizer.encode("l")[0]
### END SOLUTION
print(f"gradient of 'l': buggy {buggy[l_row, 0]}, correct {correct[l_row, 0]}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** "l" appears twice, so its row should receive the sum of two gradients
# (2.0), but fancy-index `+=` is a read, an add and a write per index: both writes
# target the same row, and the last one wins (1.0). Nothing crashes; frequent tokens
# simply learn too slowly. Only a test with repeated ids (or a gradient check on such
# a batch) catches it, which is why the specification includes one.
# ### END SOLUTION
