"""Module 10 · Tokenization — the specification of the tokenizers.

Ids 0–3 are always <pad>, <bos>, <eos>, <unk>. Text that uses only known characters
survives encode → decode exactly; unknown characters become <unk> and stay visible.
BPE learns the same merges from the same corpus every time, and a saved tokenizer is
JSON that is checked field by field when it is loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinytorch.text import tokenization

CORPUS = ["low low low lower lowest", "newer wider", "the cat sat on the mat."]


# ----------------------------------------------------------------------------- specials


def test_special_tokens_have_the_same_ids_in_every_tokenizer():
    assert (
        tokenization.SPECIAL_TOKENS
        == (tokenization.PAD, tokenization.BOS, tokenization.EOS, tokenization.UNK)
        == ("<pad>", "<bos>", "<eos>", "<unk>")
    )
    for tokenizer in (
        tokenization.CharTokenizer().train(CORPUS),
        tokenization.BPETokenizer().train(CORPUS, 40),
    ):
        assert tokenizer.vocab[:4] == list(tokenization.SPECIAL_TOKENS)
        assert (tokenizer.pad_id, tokenizer.bos_id, tokenizer.eos_id, tokenizer.unk_id) == (
            0,
            1,
            2,
            3,
        )


# ----------------------------------------------------------------------------- characters


class TestCharTokenizer:
    def test_vocabulary_is_the_sorted_characters_after_the_specials(self):
        tokenizer = tokenization.CharTokenizer().train(["cab", "bad"])
        assert tokenizer.vocab == [*tokenization.SPECIAL_TOKENS, "a", "b", "c", "d"]
        assert tokenizer.vocab_size == 8

    def test_corpus_order_does_not_change_the_ids(self):
        assert (
            tokenization.CharTokenizer().train(["xyz", "abc"]).vocab
            == tokenization.CharTokenizer().train(["abc", "xyz"]).vocab
        )

    def test_encode_gives_one_id_per_character(self):
        tokenizer = tokenization.CharTokenizer("abc")
        assert tokenizer.encode("cab") == [6, 4, 5]

    def test_round_trip_is_exact(self):
        tokenizer = tokenization.CharTokenizer().train(CORPUS)
        for text in [*CORPUS, "", "ten owls", " . "]:
            assert tokenizer.decode(tokenizer.encode(text)) == text

    def test_unknown_characters_become_unk_and_stay_visible(self):
        tokenizer = tokenization.CharTokenizer("ab")
        ids = tokenizer.encode("abz!")
        assert ids == [4, 5, tokenizer.unk_id, tokenizer.unk_id]
        assert tokenizer.decode(ids) == "ab<unk><unk>"

    def test_special_tokens_wrap_the_sequence_and_are_skipped_when_decoding(self):
        tokenizer = tokenization.CharTokenizer("ab")
        ids = tokenizer.encode("ab", add_special_tokens=True)
        assert ids == [tokenizer.bos_id, 4, 5, tokenizer.eos_id]
        padded = [*ids, tokenizer.pad_id, tokenizer.pad_id]
        assert tokenizer.decode(padded) == "ab"
        assert tokenizer.decode(padded, skip_special_tokens=False) == "<bos>ab<eos><pad><pad>"

    @pytest.mark.parametrize("bad", ["4", 2.0, None, True])
    def test_decode_rejects_ids_that_are_not_integers(self, bad):
        with pytest.raises(TypeError, match=r"^CharTokenizer\.decode: every id must be an int"):
            tokenization.CharTokenizer("ab").decode([4, bad])

    def test_decode_rejects_ids_outside_the_vocabulary(self):
        with pytest.raises(ValueError, match=r"id 9 is outside the vocabulary \[0, 6\)"):
            tokenization.CharTokenizer("ab").decode([4, 9])

    def test_bad_inputs_get_clear_errors(self):
        with pytest.raises(ValueError, match="single characters"):
            tokenization.CharTokenizer(["ab"])
        with pytest.raises(ValueError, match="no characters"):
            tokenization.CharTokenizer().train(["", ""])
        with pytest.raises(RuntimeError, match="call train"):
            tokenization.CharTokenizer().encode("a")
        with pytest.raises(TypeError, match="expected a str"):
            tokenization.CharTokenizer("a").encode(["a"])


# ----------------------------------------------------------------------------- BPE


class TestBPETokenizer:
    @pytest.mark.ungraded
    def test_pretokenizer_keeps_leading_spaces_splits_digits_and_rejoins_exactly(self):
        text = "what is 12 + 3?\n  bye_now"
        chunks = tokenization.BPETokenizer.pretokenize(text)
        assert chunks[:7] == ["what", " is", " 1", "2", " +", " 3", "?"]
        assert "".join(chunks) == text

    def test_merges_follow_the_most_frequent_pair_with_ties_broken_by_the_pair(self):
        """Worked by hand on 'low low low lower lowest' (chunks low, ' low'×2, ' lower',
        ' lowest'): (l,o) and (o,w) both occur 5 times; ('l','o') sorts first. Then
        (lo,w) 5, (' ',low) 4, (' low',e) 2; every other pair occurs once."""
        tokenizer = tokenization.BPETokenizer().train(["low low low lower lowest"], vocab_size=100)
        assert tokenizer.merges == [("l", "o"), ("lo", "w"), (" ", "low"), (" low", "e")]
        assert tokenizer.vocab[4:] == [
            " ",
            "e",
            "l",
            "o",
            "r",
            "s",
            "t",
            "w",
            "lo",
            "low",
            " low",
            " lowe",
        ]

    def test_training_is_deterministic_and_independent_of_corpus_order(self):
        a = tokenization.BPETokenizer().train(CORPUS, 40)
        b = tokenization.BPETokenizer().train(list(reversed(CORPUS)), 40)
        assert a.merges == b.merges and a.vocab == b.vocab

    def test_vocabulary_stops_at_vocab_size(self):
        tokenizer = tokenization.BPETokenizer().train(CORPUS, 25)
        assert tokenizer.vocab_size == 25

    def test_min_frequency_stops_merging_pairs_that_occur_once(self):
        tokenizer = tokenization.BPETokenizer().train(["ab ab cd"], vocab_size=100, min_frequency=2)
        assert ("a", "b") in tokenizer.merges and ("c", "d") not in tokenizer.merges

    def test_encode_replays_merges_in_the_order_they_were_learned(self):
        tokenizer = tokenization.BPETokenizer().train(["low low low lower lowest"], vocab_size=100)
        tokens = [tokenizer.vocab[i] for i in tokenizer.encode("slow lowe lowlow")]
        assert tokens == ["s", "low", " lowe", " low", "low"]

    def test_round_trip_is_exact_for_new_text_over_known_characters(self):
        tokenizer = tokenization.BPETokenizer().train(CORPUS, 45)
        for text in [*CORPUS, "we  slow the tower.", "  ", ""]:
            ids = tokenizer.encode(text)
            assert tokenizer.decode(ids) == text
        assert len(tokenizer.encode("the lower")) < len("the lower")

    def test_unknown_characters_become_unk(self):
        tokenizer = tokenization.BPETokenizer().train(CORPUS, 40)
        ids = tokenizer.encode("low Z")
        assert ids[-1] == tokenizer.unk_id
        assert tokenizer.decode(ids) == "low <unk>"

    def test_vocab_size_smaller_than_the_alphabet_is_refused(self):
        with pytest.raises(ValueError, match=r"vocab_size 5 is smaller than the 4 special"):
            tokenization.BPETokenizer().train(CORPUS, 5)

    def test_a_string_is_one_document_not_a_list_of_letters(self):
        text = " ".join(CORPUS)
        from_text = tokenization.BPETokenizer().train(text, vocab_size=40)
        assert (
            from_text.merges
            and from_text.merges == tokenization.BPETokenizer().train([text], 40).merges
        )

    def test_any_iterable_of_strings_trains(self):
        assert (
            tokenization.BPETokenizer().train(iter(CORPUS), 40).merges
            == tokenization.BPETokenizer().train(CORPUS, 40).merges
        )

    @pytest.mark.parametrize(
        ("corpus", "problem"),
        [
            (None, "corpus must be a str or an iterable of str, got NoneType"),
            (b"low lower", "corpus must be a str or an iterable of str, got bytes"),
            (["low", 3], "corpus item 1 is a int, not a str"),
        ],
    )
    @pytest.mark.parametrize("make", [tokenization.CharTokenizer, tokenization.BPETokenizer])
    def test_a_corpus_that_is_not_text_is_a_type_error(self, make, corpus, problem):
        train = (
            make().train if make is tokenization.CharTokenizer else lambda c: make().train(c, 40)
        )
        with pytest.raises(TypeError, match=rf"^{make.__name__}\.train: {problem}"):
            train(corpus)

    @pytest.mark.parametrize(
        ("kwargs", "error", "problem"),
        [
            (dict(vocab_size="300"), TypeError, "vocab_size must be an int, got str '300'"),
            (dict(vocab_size=40.0), TypeError, "vocab_size must be an int"),
            (dict(vocab_size=40, min_frequency=0), ValueError, "min_frequency must be >= 1"),
        ],
    )
    @pytest.mark.ungraded
    def test_sizes_must_be_positive_ints(self, kwargs, error, problem):
        with pytest.raises(error, match=rf"^BPETokenizer\.train: {problem}"):
            tokenization.BPETokenizer().train(CORPUS, **kwargs)

    def test_char_training_on_a_string_matches_training_on_a_list(self):
        assert (
            tokenization.CharTokenizer().train("cab").vocab
            == tokenization.CharTokenizer().train(["cab"]).vocab
        )


# ----------------------------------------------------------------------------- files


@pytest.fixture(params=["char", "bpe"])
def trained(request) -> tokenization.Tokenizer:
    if request.param == "char":
        return tokenization.CharTokenizer().train(CORPUS)
    return tokenization.BPETokenizer().train(CORPUS, 40)


class TestSaveLoad:
    def test_round_trip_restores_the_same_tokenizer(
        self, trained: tokenization.Tokenizer, tmp_path: Path
    ):
        path = trained.save(tmp_path / "tok.json")
        loaded = tokenization.load_tokenizer(path)
        assert type(loaded) is type(trained)
        assert loaded.vocab == trained.vocab
        text = "the newest cat"
        assert loaded.encode(text) == trained.encode(text)
        assert type(trained).load(path).vocab == trained.vocab

    def test_the_file_is_readable_json_and_the_write_leaves_no_temp_files(self, trained, tmp_path):
        path = tmp_path / "sub" / "tok.json"
        trained.save(path)
        trained.save(path)  # overwriting is atomic too
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["format"] == "tinytorch-tokenizer" and document["version"] == 1
        assert document["type"] == trained.kind
        assert document["special_tokens"] == list(tokenization.SPECIAL_TOKENS)
        assert sorted(p.name for p in path.parent.iterdir()) == ["tok.json"]

    def test_loading_the_wrong_kind_is_refused(self, tmp_path: Path):
        path = tokenization.CharTokenizer("ab").save(tmp_path / "tok.json")
        with pytest.raises(
            tokenization.TokenizerFileError, match="holds a 'char' tokenizer, not 'bpe'"
        ):
            tokenization.BPETokenizer.load(path)

    def test_a_missing_file_says_so(self, tmp_path: Path):
        with pytest.raises(FileNotFoundError, match="no tokenizer file"):
            tokenization.load_tokenizer(tmp_path / "nope.json")

    @pytest.mark.parametrize(
        ("corrupt", "message"),
        [
            (lambda d: "{not json", "not valid JSON"),
            (lambda d: "[" * 100_000 + "]" * 100_000, "not valid JSON .*recursion"),
            (lambda d: '{"version": ' + "9" * 5000 + "}", "not valid JSON .*digits"),
            (lambda d: "[1, 2]", "expected a JSON object"),
            (lambda d: {**d, "version": 99}, "expected 'tinytorch-tokenizer' v1"),
            (lambda d: {**d, "special_tokens": ["<pad>"]}, "special_tokens must be"),
            (lambda d: {**d, "type": "wordpiece"}, "unknown tokenizer type"),
            (lambda d: {**d, "merges": [["q", "z"]]}, "merge 0 .* uses a token"),
            (lambda d: {**d, "merges": "ab"}, "list of \\[left, right\\] string pairs"),
            (lambda d: {**d, "vocab": d["vocab"][:-1]}, "'vocab' does not match"),
            (lambda d: {**d, "alphabet": ["a", "a"]}, "duplicate"),
            (lambda d: {**d, "alphabet": ["ab"]}, "single characters"),
        ],
    )
    def test_corrupt_bpe_files_are_refused_with_the_reason(self, tmp_path, corrupt, message):
        path = tokenization.BPETokenizer().train(CORPUS, 40).save(tmp_path / "tok.json")
        bad = corrupt(json.loads(path.read_text(encoding="utf-8")))
        path.write_text(bad if isinstance(bad, str) else json.dumps(bad), encoding="utf-8")
        with pytest.raises(tokenization.TokenizerFileError, match=message) as error:
            tokenization.load_tokenizer(path)
        assert str(path) in str(error.value)

    def test_a_file_larger_than_a_tokenizer_can_be_is_refused_unread(self, tmp_path, monkeypatch):
        path = tokenization.CharTokenizer("ab").save(tmp_path / "tok.json")
        monkeypatch.setattr(tokenization, "MAX_FILE_BYTES", 10)
        with pytest.raises(
            tokenization.TokenizerFileError, match="bytes, more than a tokenizer file can be"
        ):
            tokenization.load_tokenizer(path)

    def test_a_char_file_with_multi_character_tokens_is_refused(self, tmp_path: Path):
        path = tokenization.CharTokenizer("ab").save(tmp_path / "tok.json")
        document = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**document, "vocab": ["ab"]}), encoding="utf-8")
        with pytest.raises(tokenization.TokenizerFileError, match="single characters"):
            tokenization.load_tokenizer(path)


# ----------------------------------------------------------------------------- trade-off


class TestVocabTradeoff:
    def test_bigger_vocabularies_give_shorter_sequences_and_bigger_tables(self):
        corpus = CORPUS * 3 + ["a lower tower", "the newest mat"]
        rows = tokenization.vocab_tradeoff(corpus, vocab_sizes=(30, 40), embedding_dim=8)
        assert [r.name for r in rows] == ["characters", "BPE 30", "BPE 40"]
        chars = rows[0]
        assert chars.vocab_size == tokenization.CharTokenizer().train(corpus).vocab_size
        # <bos> + characters + <eos>
        assert chars.max_tokens == max(len(t) for t in corpus) + 2
        assert [r.vocab_size for r in rows[1:]] == [30, 40]
        assert rows[0].mean_tokens > rows[1].mean_tokens > rows[2].mean_tokens
        assert rows[2].embedding_parameters == 40 * 8
        assert rows[2].attention_scores == pytest.approx(rows[2].mean_tokens ** 2)

    def test_smaller_bpe_vocabularies_are_prefixes_of_the_largest_merge_list(self):
        small = tokenization.BPETokenizer().train(CORPUS, 30)
        large = tokenization.BPETokenizer().train(CORPUS, 45)
        assert large.merges[: len(small.merges)] == small.merges
        rows = tokenization.vocab_tradeoff(CORPUS, vocab_sizes=(30, 45))
        text_lengths = [len(small.encode(t, add_special_tokens=True)) for t in CORPUS]
        assert rows[1].mean_tokens == pytest.approx(sum(text_lengths) / len(CORPUS))

    def test_an_empty_corpus_is_refused(self):
        with pytest.raises(ValueError, match="corpus is empty"):
            tokenization.vocab_tradeoff([])

    def test_the_printed_table_on_tinytalks(self, capsys):
        rows = tokenization.print_vocab_tradeoff(vocab_sizes=(128, 512))
        out = capsys.readouterr().out
        assert "2,526 texts" in out and "BPE 512" in out and "characters" in out
        assert rows[0].mean_tokens > rows[1].mean_tokens > rows[2].mean_tokens
        assert rows[2].vocab_size == 512
