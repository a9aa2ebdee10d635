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
# # Module 10 · Tokenization — turning text into the integer ids a model can read
#
# A model computes on numbers, so text must first become a sequence of integer ids. How
# it is cut decides two costs at once. Cut into characters, the vocabulary is tiny but
# every sentence is long; cut into frequent fragments, sentences get short but the
# vocabulary grows. This module builds both ends: a `CharTokenizer`, and a byte-pair
# encoding (`BPETokenizer`) that learns which adjacent pairs to merge from a corpus.
# Both share four special tokens, decode back to exactly the text they encoded, and
# save to validated JSON so that a trained model and its tokenizer travel together.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor (ids become int64 tensors) and the TinyTalks dataset
#   of `tinytorch.datasets`, for the trade-off study.
# - **This module**: `CharTokenizer`, `BPETokenizer` (training and encoding), the
#   special tokens `<pad>`, `<bos>`, `<eos>`, `<unk>`, exact round trips, save/load as
#   JSON, and the vocabulary-size vs sequence-length trade-off measured on TinyTalks.
# - **Unlocks**: 11 Embeddings (one table row per token id), 12 Attention (cost grows
#   with the square of the token count), 13 Transformers and Milestone 5.

# %%
import tempfile
import time
from pathlib import Path

import numpy as np

from tinytorch.core import Tensor
from tinytorch.datasets import load_tinytalks
from tinytorch.text import BPETokenizer, CharTokenizer, load_tokenizer, vocab_tradeoff
from tinytorch_learn.lesson import run_tests

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/text/tokenization.py`**:
#
# - `Tokenizer.decode`: ids back to text, joining token strings with nothing in
#   between; `<pad>`, `<bos>` and `<eos>` are skipped on request, `<unk>` always shows;
#   an id outside the vocabulary is an error.
# - `Tokenizer.save`: a JSON document (format, version, type, special tokens and the
#   subclass's payload) written through `atomic_write` (`tinytorch.files`): a temporary
#   file renamed over the target.
# - `Tokenizer.load`: read the file and check every field (format, version, special
#   tokens, type) before building a tokenizer from it; problems name the file.
# - `CharTokenizer.train`: the corpus's distinct characters, sorted, after the four
#   special tokens. (A corpus is one str or an iterable of them; `train` checks that
#   before your code runs.)
# - `CharTokenizer._encode_text`: one id per character, `<unk>` for unseen ones.
# - `BPETokenizer.train`: count chunks (the pre-tokenizer never merges across a word,
#   digit or punctuation boundary), then repeatedly merge the most frequent adjacent
#   pair (ties broken by the pair itself, so training is deterministic) until the
#   vocabulary is full or no pair occurs `min_frequency` times.
# - `BPETokenizer._encode_chunk`: replay the learned merges on one chunk, earliest
#   learned first.
# - `vocab_tradeoff`: measure a character tokenizer and BPE at several sizes on a
#   corpus: vocabulary, mean and longest sequence.
#
# `Tokenizer.encode` (which adds `<bos>`/`<eos>` on request), `pretokenize`,
# `_set_merges` and the JSON payload methods are given.

# %% [markdown]
# ## Use
#
# TinyTalks is a corpus of short question–answer pairs. Characters first:

# %%
pairs = load_tinytalks("train")
corpus = [f"{question} {answer}" for question, answer in pairs]
print(len(corpus), "texts, e.g.", repr(corpus[0]))

chars = CharTokenizer().train(corpus)
ids = chars.encode(corpus[0], add_special_tokens=True)
print("vocabulary:", chars.vocab_size, "ids | first tokens:", chars.vocab[:12])
print(len(ids), "ids:", ids[:12], "...")
print("round trip exact:", chars.decode(ids) == corpus[0])
print("unseen character:", chars.decode(chars.encode("hi €5")))

# %% [markdown]
# **Byte-pair encoding** learns its merges from the corpus. The first merges are the
# most frequent pairs: a space before a common letter, "th", "wh"...

# %%
start = time.perf_counter()
bpe = BPETokenizer().train(corpus, vocab_size=256)
print(f"trained in {time.perf_counter() - start:.2f} s; first merges: {bpe.merges[:8]}")
text = "what is the capital of france?"
pieces = [bpe.vocab[i] for i in bpe.encode(text)]
print(len(text), "characters ->", len(pieces), "tokens:", pieces)
print("round trip exact:", bpe.decode(bpe.encode(text)) == text)
print("as a batch tensor:", Tensor(np.array([bpe.encode(text)]), dtype=np.int64).shape)

# %% [markdown]
# **Save and load.** The file is plain JSON, checked field by field when it is read.

# %%
with tempfile.TemporaryDirectory() as folder:
    path = bpe.save(Path(folder) / "bpe.json")
    restored = load_tokenizer(path)
    print(
        type(restored).__name__,
        restored.vocab_size,
        "ids, same encoding:",
        restored.encode(text) == bpe.encode(text),
        f"| {path.stat().st_size:,} bytes",
    )
    path.write_text(path.read_text().replace('"bpe"', '"wordpiece"'))
    try:
        load_tokenizer(path)
    except ValueError as error:
        print(type(error).__name__, "-", str(error).split(": ", 2)[-1])

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("10")

# %% [markdown]
# ## Reflect
#
# **Q1 · Two costs that pull apart.** A model keeps one learned vector of d numbers
# per token id, and (Modules 12–13) compares every token of a sequence with every
# other, T² comparisons. Measure V and the mean T on TinyTalks for characters and BPE
# at 128, 256 and 512 ids, and compute both costs at d = 64.

# %%
# competency: models/measures
### BEGIN SOLUTION
rows = vocab_tradeoff(corpus, vocab_sizes=(128, 256, 512), embedding_dim=64)
table = [(r.name, r.vocab_size, r.mean_tokens, r.vocab_size * 64, r.mean_tokens**2) for r in rows]
### END SOLUTION
print(f"{'tokenizer':<11}{'V':>5}{'mean T':>8}{'V x d':>9}{'mean T^2':>10}")
for name, v, t, table_size, pairs_compared in table:
    print(f"{name:<11}{v:>5}{t:>8.1f}{table_size:>9,}{pairs_compared:>10,.0f}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Characters give V = 50 and a mean of about 32 tokens per text (3,200
# table numbers, about 1,000 token pairs per sequence); BPE 512 has ten times the
# vocabulary (32,768 numbers) but sequences of about 11.5 tokens, so the quadratic term
# shrinks to about 131, roughly 8× less. The table is paid once, in parameters; the T²
# term is paid on every sequence, in every layer, at training and at inference. That is
# why production vocabularies grew from about 50K to about 100K tokens: a larger
# table buys shorter sequences for long documents.
# ### END SOLUTION
#
# **Q2 · Where the savings stop.** Ask for 1,024 ids. What vocabulary do you get on
# TinyTalks, and what happens to the mean length from 512 on?

# %%
# competency: models/knows
### BEGIN SOLUTION
capped = BPETokenizer().train(corpus, vocab_size=1024)
lengths = [len(capped.encode(t, add_special_tokens=True)) for t in corpus]
### END SOLUTION
print(f"asked for 1,024, got {capped.vocab_size}; mean T {np.mean(lengths):.1f}")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Training stops at 984 ids: after that no adjacent pair occurs twice
# (`min_frequency=2`), so a further merge would only memorise a single text. The mean
# length barely moves, from about 11.5 to 10.6 tokens, while the table nearly doubles.
# Returns diminish because the common words are already single tokens; the remaining
# merges glue together rare words that few sequences contain. On a small corpus a
# large vocabulary also leaves many ids that appear only a handful of times, whose
# vectors the model can hardly learn.
# ### END SOLUTION
#
# **Q3 · Numbers.** The pre-tokenizer puts every digit in a chunk of its own, so BPE
# never learns "2024" as one token. Encode "12 + 34 = 46" and say why this helps a model
# do arithmetic, and what it costs.

# %%
### BEGIN SOLUTION
digits = [bpe.vocab[i] for i in bpe.encode("12 + 34 = 46")]
### END SOLUTION
print(digits)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Each digit becomes its own token (a leading space can attach to the
# first), so 46 is always "4" followed by "6" and the model sees the same place-value
# structure in every number. If frequent numbers were merged, "46" might be one token
# and "47" two, and the model would have to memorise sums of unrelated ids instead of
# learning digit-by-digit carrying. The cost is length: a ten-digit number is ten
# tokens, which adds to T and therefore to the T² term.
# ### END SOLUTION
#
# **Q4 · A silent failure.** A model is trained with one tokenizer file and served with
# another, trained on a slightly different corpus. Nothing crashes. What goes wrong,
# and what in the saved format lets you catch it?
#
# ### BEGIN SOLUTION
# **Answer.** Every id means a different string: id 300 was "the" in training and is
# now some other merge, so the model reads scrambled input and its outputs decode to
# wrong text, while shapes, dtypes and ranges all look valid (the two vocabularies may
# even have the same size). The saved tokenizer stores the alphabet, the ordered merge
# list and the resulting vocabulary, and `load` checks that they agree; storing the
# tokenizer file next to the model checkpoint (or a hash of it in the checkpoint's
# metadata) makes a mismatch detectable before serving, not after.
# ### END SOLUTION
