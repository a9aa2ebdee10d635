"""Graded checks of Module 10 · Tokenization: round trips, special tokens, BPE, files.

Which id a token gets is the implementation's choice, so these checks look at what any
correct tokenizer must do: vocabulary sizes, exact round trips, special tokens, how BPE
shortens text, and a saved tokenizer that encodes like the original.
"""

from tinytorch.text import (
    BPETokenizer,
    CharTokenizer,
    TokenizerFileError,
    load_tokenizer,
    vocab_tradeoff,
)

CORPUS = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog met on the mat",
    "then the cat ran to the dog, 42 times!",
] * 3
TEXT = "the cat met the dog on the mat"
FILE = "tokenizer.json"


def check_char_tokenizer():
    """Vocabulary of the corpus's characters plus 4 specials; round trip; <bos>/<eos>; <unk>."""
    tokenizer = CharTokenizer().train(CORPUS)
    ids = tokenizer.encode(TEXT)
    wrapped = tokenizer.encode(TEXT, add_special_tokens=True)
    return {
        "vocab_size": tokenizer.vocab_size,
        "length": len(ids),
        "round_trip": tokenizer.decode(ids),
        "wrapped": [wrapped[0], wrapped[-1], len(wrapped)],
        "unknown": tokenizer.decode(tokenizer.encode("cat#")),
        "kept_specials": tokenizer.decode(wrapped, skip_special_tokens=False),
    }


def check_bpe_training_and_round_trip():
    """BPE grows the vocabulary to its target, shortens text, and decodes it exactly."""
    tokenizer = BPETokenizer().train(CORPUS, vocab_size=48)
    ids = tokenizer.encode(TEXT)
    chars = CharTokenizer().train(CORPUS).encode(TEXT)
    return {
        "vocab_size": tokenizer.vocab_size,
        "shorter": len(ids) < len(chars) / 2,
        "round_trip": tokenizer.decode(ids),
        "unseen": tokenizer.decode(tokenizer.encode("a tame cod, 7")),
    }


def check_save_and_load():
    """A saved tokenizer loads as the same kind and encodes the same; a broken file is refused."""
    results = {}
    for name, tokenizer in (
        ("char", CharTokenizer().train(CORPUS)),
        ("bpe", BPETokenizer().train(CORPUS, vocab_size=40)),
    ):
        tokenizer.save(FILE)
        loaded = load_tokenizer(FILE)
        results[name] = {
            "kind": type(loaded).__name__,
            "same": loaded.encode(TEXT) == tokenizer.encode(TEXT)
            and loaded.vocab_size == tokenizer.vocab_size,
        }
    with open(FILE, "w") as handle:
        handle.write('{"format": "tinytorch-tokenizer", "version": 1}')
    try:
        load_tokenizer(FILE)
        results["broken"] = "loaded"
    except TokenizerFileError:
        results["broken"] = "refused"
    return results


def check_vocab_tradeoff():
    """The trade-off table: a character row, then BPE rows with larger tables and shorter text."""
    rows = vocab_tradeoff(CORPUS, vocab_sizes=(36, 48), embedding_dim=8)
    char, *bpe = rows
    return {
        "rows": len(rows),
        "char": [char.vocab_size, char.max_tokens, char.mean_tokens, char.embedding_parameters],
        "bpe_sizes": [row.vocab_size for row in bpe],
        "bpe_shorter": [row.mean_tokens < char.mean_tokens for row in bpe],
    }
