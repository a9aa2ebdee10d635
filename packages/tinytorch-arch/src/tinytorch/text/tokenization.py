"""Module 10 · Tokenization — turning text into the integer ids a model can embed.

Connection map
    Prerequisites : 01 Tensor (ids become int64 tensors) · the TinyTalks dataset
                    (``tinytorch.datasets``) for the trade-off study
    This module   : CharTokenizer and a byte-pair BPETokenizer that learns merges from a
                    corpus; the special tokens <pad>, <bos>, <eos>, <unk>; exact
                    encode/decode round trips; save/load as validated JSON; the
                    vocabulary-size vs sequence-length trade-off measured on TinyTalks
    Unlocks       : 11 Embeddings (one table row per token id) · 12 Attention (cost grows
                    with the square of the token count) · 13 Transformers · Milestone 5

Systems insight: the vocabulary size V and the sequence length T pull against each
other. A model keeps one learned vector of d numbers per token id (and a language
model's output layer has one row per id again): V × d numbers, so V = 50,000 at d = 768
is 38.4 M parameters, 154 MB in float32. The models of Modules 12–13 compare every token
with every other, T² scores per head and layer. Characters give a tiny V and long sequences; BPE
merges frequent pairs into new tokens, buying shorter sequences (T shrinks, the T² term
shrinks quadratically) with a bigger table. ``print_vocab_tradeoff()`` measures both
sides on TinyTalks.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

from tinytorch.checks import check_int
from tinytorch.files import atomic_write

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, BOS, EOS, UNK)  # ids 0, 1, 2, 3 in every tokenizer
FORMAT = "tinytorch-tokenizer"
VERSION = 1
MAX_FILE_BYTES = 64 << 20  # a 50,000-token BPE tokenizer saves to about 2 MB

# A pre-tokenizer in the spirit of GPT-2's: a word with its leading space, one digit (so
# numbers stay digit by digit, which keeps arithmetic learnable), a run of punctuation,
# or one whitespace character. The chunks concatenate back to the text exactly, and BPE
# never merges across a chunk boundary.
_CHUNK = re.compile(r" ?[^\W\d_]+| ?\d| ?(?:[^\w\s]|_)+|\s")


class TokenizerFileError(ValueError):
    """A saved tokenizer file is unreadable, incomplete or inconsistent."""


class Tokenizer:
    """What every tokenizer shares: the id table, special tokens, decode, save and load.

    Ids 0–3 are always ``<pad>``, ``<bos>``, ``<eos>``, ``<unk>``; the regular tokens
    follow. Subclasses decide how text becomes regular tokens (``_encode_text``).
    """

    kind: ClassVar[str] = ""
    pad_id: ClassVar[int] = 0
    bos_id: ClassVar[int] = 1
    eos_id: ClassVar[int] = 2
    unk_id: ClassVar[int] = 3

    def __init__(self) -> None:
        self.vocab: list[str] = list(SPECIAL_TOKENS)
        self.token_to_id: dict[str, int] = {t: i for i, t in enumerate(SPECIAL_TOKENS)}

    @property
    def vocab_size(self) -> int:
        """Number of ids, special tokens included: the rows of a model's token table."""
        return len(self.vocab)

    def _add_token(self, token: str) -> int:
        """The id of ``token``, appending it to the vocabulary if it is new."""
        if token not in self.token_to_id:
            self.token_to_id[token] = len(self.vocab)
            self.vocab.append(token)
        return self.token_to_id[token]

    def _encode_text(self, text: str) -> list[int]:  # pragma: no cover - overridden
        raise TypeError(f"{type(self).__name__} must define _encode_text")

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        """Token ids of ``text``; with ``add_special_tokens`` wrapped in <bos> ... <eos>.

        Characters the tokenizer never saw become ``<unk>`` (id 3).
        """
        if not isinstance(text, str):
            raise TypeError(f"{type(self).__name__}.encode: expected a str, got {type(text)}")
        if len(self.vocab) == len(SPECIAL_TOKENS):
            raise RuntimeError(
                f"{type(self).__name__}.encode: the vocabulary is empty; call train(corpus) "
                "or load a saved tokenizer first"
            )
        ids = self._encode_text(text)
        return [self.bos_id, *ids, self.eos_id] if add_special_tokens else ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """The text of ``ids``: token strings joined with nothing in between.

        ``skip_special_tokens`` drops <pad>, <bos> and <eos>; an ``<unk>`` is always
        shown as the string ``<unk>``, so lost characters stay visible.
        """
        ### BEGIN SOLUTION
        pieces = []
        for i in ids:
            i = int(check_int(f"{type(self).__name__}.decode", "every id", i))
            if not 0 <= i < len(self.vocab):
                raise ValueError(
                    f"{type(self).__name__}.decode: id {i} is outside the vocabulary "
                    f"[0, {len(self.vocab)})"
                )
            if skip_special_tokens and i in (self.pad_id, self.bos_id, self.eos_id):
                continue
            pieces.append(self.vocab[i])
        return "".join(pieces)
        ### END SOLUTION

    # ------------------------------------------------------------------ files
    def _payload(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise TypeError(f"{type(self).__name__} must define _payload")

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], fail: Any) -> Tokenizer:  # pragma: no cover
        raise TypeError(f"{cls.__name__} must define _from_payload")

    def save(self, path: str | os.PathLike) -> Path:
        """Write the tokenizer as JSON, atomically (``atomic_write``: a temporary file
        renamed over ``path``, so a crash never leaves half a tokenizer)."""
        ### BEGIN SOLUTION
        path = Path(path)
        document = {
            "format": FORMAT,
            "version": VERSION,
            "type": self.kind,
            "special_tokens": list(SPECIAL_TOKENS),
            **self._payload(),
        }
        with atomic_write(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        return path
        ### END SOLUTION

    @classmethod
    def load(cls, path: str | os.PathLike) -> Tokenizer:
        """Read a tokenizer saved by :meth:`save`, checking every field before trusting it.

        ``Tokenizer.load`` returns whichever kind the file holds; ``BPETokenizer.load``
        insists on a BPE file. Problems raise :class:`TokenizerFileError` naming the file.
        """
        ### BEGIN SOLUTION
        path = Path(path)

        def fail(problem: str) -> TokenizerFileError:
            return TokenizerFileError(f"{cls.__name__}.load: {path}: {problem}")

        if not path.is_file():
            raise FileNotFoundError(f"{cls.__name__}.load: no tokenizer file at {path}")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise fail(f"{path.stat().st_size:,} bytes, more than a tokenizer file can be")
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            raise fail(f"not valid JSON ({error})") from None
        if not isinstance(document, dict):
            raise fail(f"expected a JSON object, got {type(document).__name__}")
        if document.get("format") != FORMAT or document.get("version") != VERSION:
            raise fail(
                f"format {document.get('format')!r} v{document.get('version')}, "
                f"expected {FORMAT!r} v{VERSION}"
            )
        if document.get("special_tokens") != list(SPECIAL_TOKENS):
            raise fail(f"special_tokens must be {list(SPECIAL_TOKENS)}")
        kinds = {sub.kind: sub for sub in (CharTokenizer, BPETokenizer)}
        kind = document.get("type")
        if kind not in kinds:
            raise fail(f"unknown tokenizer type {kind!r}; expected one of {sorted(kinds)}")
        if cls is not Tokenizer and kind != cls.kind:
            raise fail(f"holds a {kind!r} tokenizer, not {cls.kind!r}")
        return kinds[kind]._from_payload(document, fail)
        ### END SOLUTION


def _documents(corpus: str | Iterable[str], where: str) -> Iterator[str]:
    """The texts of ``corpus``: a str is one text, not a sequence of one-letter texts."""
    if isinstance(corpus, str):
        yield corpus
        return
    if not isinstance(corpus, Iterable) or isinstance(corpus, (bytes, bytearray)):
        raise TypeError(
            f"{where}: corpus must be a str or an iterable of str, got {type(corpus).__name__}"
        )
    for i, text in enumerate(corpus):
        if not isinstance(text, str):
            raise TypeError(f"{where}: corpus item {i} is a {type(text).__name__}, not a str")
        yield text


def _string_list(document: dict[str, Any], key: str, fail: Any) -> list[str]:
    value = document.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise fail(f"'{key}' must be a list of non-empty strings")
    if len(set(value)) != len(value):
        raise fail(f"'{key}' has duplicate entries")
    return value


class CharTokenizer(Tokenizer):
    """One token per character: the smallest vocabulary, the longest sequences.

    ``CharTokenizer().train(corpus)`` takes every distinct character of the corpus (in
    sorted order, so the ids never depend on the order of the corpus); or pass the
    characters directly: ``CharTokenizer("abc")``.
    """

    kind = "char"

    def __init__(self, chars: Iterable[str] = ()) -> None:
        if not isinstance(chars, Iterable):
            raise TypeError(
                f"CharTokenizer: chars must be a str or an iterable of characters, got "
                f"{type(chars).__name__}"
            )
        super().__init__()
        self._set_chars(chars)

    def _set_chars(self, chars: Iterable[str]) -> None:
        """Specials first, then one id per character in the given order."""
        Tokenizer.__init__(self)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharTokenizer: tokens must be single characters, got {c!r}")
            self._add_token(c)

    def train(self, corpus: str | Iterable[str]) -> CharTokenizer:
        """Build the vocabulary from the characters of ``corpus``; returns self.

        ``corpus`` is one text (a str) or an iterable of texts.
        """
        corpus = _documents(corpus, "CharTokenizer.train")
        ### BEGIN SOLUTION
        chars = sorted({c for text in corpus for c in text})
        if not chars:
            raise ValueError("CharTokenizer.train: the corpus has no characters")
        self._set_chars(chars)
        return self
        ### END SOLUTION

    def _encode_text(self, text: str) -> list[int]:
        ### BEGIN SOLUTION
        return [self.token_to_id.get(c, self.unk_id) for c in text]
        ### END SOLUTION

    def _payload(self) -> dict[str, Any]:
        return {"vocab": self.vocab[len(SPECIAL_TOKENS) :]}

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], fail: Any) -> CharTokenizer:
        chars = _string_list(payload, "vocab", fail)
        if any(len(c) != 1 or c in SPECIAL_TOKENS for c in chars):
            raise fail("a char tokenizer's vocab must hold single characters")
        return cls(chars)


class BPETokenizer(Tokenizer):
    """Byte-pair encoding over characters (Sennrich et al., 2016; the GPT tokenizers).

    Training starts from the corpus's characters and repeatedly merges the most frequent
    adjacent pair of symbols into a new token until the vocabulary reaches
    ``vocab_size`` (or no pair occurs ``min_frequency`` times). Encoding replays the
    merges in the order they were learned. Ties are broken by the pair itself, so the
    same corpus always gives the same merges.
    """

    kind = "bpe"

    def __init__(self) -> None:
        super().__init__()
        self.alphabet: list[str] = []
        self.merges: list[tuple[str, str]] = []
        self._ranks: dict[tuple[str, str], int] = {}
        self._cache: dict[str, list[int]] = {}

    @staticmethod
    def pretokenize(text: str) -> list[str]:
        """Split text into chunks that BPE never merges across (they rejoin to ``text``)."""
        return _CHUNK.findall(text)

    def _set_merges(self, alphabet: Sequence[str], merges: Sequence[tuple[str, str]]) -> None:
        """Rebuild the vocabulary: specials, then the alphabet, then one token per merge."""
        Tokenizer.__init__(self)
        self.alphabet = list(alphabet)
        self.merges = [tuple(m) for m in merges]
        self._ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self._cache = {}
        for c in self.alphabet:
            self._add_token(c)
        for a, b in self.merges:
            self._add_token(a + b)

    def train(
        self, corpus: str | Iterable[str], vocab_size: int, min_frequency: int = 2
    ) -> BPETokenizer:
        """Learn merges from ``corpus`` until ``vocab_size`` ids exist; returns self.

        ``corpus`` is one text (a str) or an iterable of texts, as in other libraries'
        "train from text". Cost: each merge recounts the pairs of the distinct chunks,
        O(merges × symbols).
        """
        corpus = _documents(corpus, "BPETokenizer.train")
        check_int("BPETokenizer.train", "vocab_size", vocab_size, minimum=1)
        check_int("BPETokenizer.train", "min_frequency", min_frequency, minimum=1)
        ### BEGIN SOLUTION
        chunks = Counter(chunk for text in corpus for chunk in self.pretokenize(text))
        alphabet = sorted({c for chunk in chunks for c in chunk})
        if not alphabet:
            raise ValueError("BPETokenizer.train: the corpus has no characters")
        if vocab_size < len(SPECIAL_TOKENS) + len(alphabet):
            raise ValueError(
                f"BPETokenizer.train: vocab_size {vocab_size} is smaller than the "
                f"{len(SPECIAL_TOKENS)} special tokens plus the {len(alphabet)} characters "
                "of the corpus"
            )
        words = [(list(chunk), count) for chunk, count in chunks.items()]
        merges: list[tuple[str, str]] = []
        known = set(alphabet)
        while len(SPECIAL_TOKENS) + len(known) < vocab_size:
            pairs: Counter[tuple[str, str]] = Counter()
            for symbols, count in words:
                for pair in pairwise(symbols):
                    pairs[pair] += count
            if not pairs:
                break
            best = min(pairs, key=lambda pair: (-pairs[pair], pair))
            if pairs[best] < min_frequency:
                break
            merges.append(best)
            known.add(best[0] + best[1])
            for symbols, _ in words:
                _merge_pair(symbols, best)
        self._set_merges(alphabet, merges)
        return self
        ### END SOLUTION

    def _encode_chunk(self, chunk: str) -> list[int]:
        """Apply the learned merges to one chunk, lowest rank (earliest learned) first."""
        ### BEGIN SOLUTION
        symbols = list(chunk)
        while len(symbols) > 1:
            ranked = [
                (self._ranks[pair], pair) for pair in pairwise(symbols) if pair in self._ranks
            ]
            if not ranked:
                break
            _merge_pair(symbols, min(ranked)[1])
        return [self.token_to_id.get(s, self.unk_id) for s in symbols]
        ### END SOLUTION

    def _encode_text(self, text: str) -> list[int]:
        ids: list[int] = []
        for chunk in self.pretokenize(text):
            cached = self._cache.get(chunk)
            if cached is None:
                cached = self._cache[chunk] = self._encode_chunk(chunk)
            ids.extend(cached)
        return ids

    def _payload(self) -> dict[str, Any]:
        return {
            "alphabet": self.alphabet,
            "merges": [list(m) for m in self.merges],
            "vocab": self.vocab[len(SPECIAL_TOKENS) :],
        }

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], fail: Any) -> BPETokenizer:
        alphabet = _string_list(payload, "alphabet", fail)
        if any(len(c) != 1 for c in alphabet):
            raise fail("'alphabet' must hold single characters")
        merges = payload.get("merges")
        if not isinstance(merges, list) or not all(
            isinstance(m, list) and len(m) == 2 and all(isinstance(s, str) and s for s in m)
            for m in merges
        ):
            raise fail("'merges' must be a list of [left, right] string pairs")
        known = set(alphabet)
        for rank, (a, b) in enumerate(merges):
            if a not in known or b not in known:
                raise fail(f"merge {rank} {[a, b]} uses a token no earlier merge produced")
            known.add(a + b)
        tokenizer = cls()
        tokenizer._set_merges(alphabet, [(a, b) for a, b in merges])
        if payload.get("vocab") != tokenizer.vocab[len(SPECIAL_TOKENS) :]:
            raise fail("'vocab' does not match the alphabet and merges")
        return tokenizer


def _merge_pair(symbols: list[str], pair: tuple[str, str]) -> None:
    """Replace every adjacent (a, b) in ``symbols`` by a + b, left to right, in place."""
    a, b = pair
    i = 0
    while i < len(symbols) - 1:
        if symbols[i] == a and symbols[i + 1] == b:
            symbols[i : i + 2] = [a + b]
        i += 1


def load_tokenizer(path: str | os.PathLike) -> Tokenizer:
    """Load a CharTokenizer or BPETokenizer saved with ``save``, whichever the file holds."""
    return Tokenizer.load(path)


# ----------------------------------------------------------------------------- trade-off


@dataclass(frozen=True)
class TradeoffRow:
    """One tokenizer measured on a corpus: table size against sequence length."""

    name: str
    vocab_size: int
    mean_tokens: float
    max_tokens: int
    embedding_dim: int

    @property
    def embedding_parameters(self) -> int:
        """V × d numbers in the token table (and again in an untied output layer)."""
        return self.vocab_size * self.embedding_dim

    @property
    def attention_scores(self) -> float:
        """Mean T² per sequence: token-pair scores per head and layer (Module 12)."""
        return self.mean_tokens**2


# competency: models/knows, models/measures
def vocab_tradeoff(
    corpus: Sequence[str],
    vocab_sizes: Sequence[int] = (128, 256, 512),
    embedding_dim: int = 64,
) -> list[TradeoffRow]:
    """Measure a CharTokenizer and one BPETokenizer per size on ``corpus``.

    BPE is trained once at the largest size: the first n merges of a longer run are
    exactly the merges a run stopped at n would learn, so smaller vocabularies are
    prefixes of that one merge list.
    """
    ### BEGIN SOLUTION
    if not corpus:
        raise ValueError("vocab_tradeoff: the corpus is empty")

    def measure(name: str, tokenizer: Tokenizer) -> TradeoffRow:
        lengths = [len(tokenizer.encode(text, add_special_tokens=True)) for text in corpus]
        return TradeoffRow(
            name, tokenizer.vocab_size, sum(lengths) / len(lengths), max(lengths), embedding_dim
        )

    rows = [measure("characters", CharTokenizer().train(corpus))]
    largest = BPETokenizer().train(corpus, max(vocab_sizes))
    for size in sorted(vocab_sizes):
        tokenizer = BPETokenizer()
        base = len(SPECIAL_TOKENS) + len(largest.alphabet)
        tokenizer._set_merges(largest.alphabet, largest.merges[: max(size - base, 0)])
        rows.append(measure(f"BPE {size}", tokenizer))
    return rows
    ### END SOLUTION


def print_vocab_tradeoff(
    corpus: Sequence[str] | None = None,
    vocab_sizes: Sequence[int] = (128, 256, 512, 1024),
    embedding_dim: int = 64,
) -> list[TradeoffRow]:
    """Print the trade-off table; the corpus defaults to TinyTalks' training pairs."""
    if corpus is None:
        from tinytorch.datasets import load_tinytalks

        corpus = [f"{q} {a}" for q, a in load_tinytalks("train")]
    rows = vocab_tradeoff(corpus, vocab_sizes, embedding_dim)
    print(f"Vocabulary size vs sequence length on {len(corpus):,} texts (d = {embedding_dim})")
    print(
        f"  {'tokenizer':<12}{'vocab':>7}{'mean T':>9}{'max T':>7}"
        f"{'table V×d':>12}{'table KiB':>11}{'mean T²':>10}"
    )
    for r in rows:
        print(
            f"  {r.name:<12}{r.vocab_size:>7,}{r.mean_tokens:>9.1f}{r.max_tokens:>7}"
            f"{r.embedding_parameters:>12,}{r.embedding_parameters * 4 / 1024:>11.1f}"
            f"{r.attention_scores:>10.0f}"
        )
    return rows
