"""Specification of TinyTalks: shipped files, splits that measure generalisation, safe loading.

The shipped files must be exactly what ``scripts/generate_tinytalks.py`` writes; every
held-out question must ask about something training shows in other words; and the
loader must refuse files that do not match their manifest, naming the file and line.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest

from tinytorch.datasets import TINYTALKS_INFO, load_tinytalks, load_tinytalks_rows, tinytalks

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "generate_tinytalks.py"


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("generate_tinytalks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped files, to corrupt."""
    target = tmp_path / "tinytalks"
    shutil.copytree(Path(str(tinytalks.DATA_DIR)), target)
    return target


# ----------------------------------------------------------------------------- the files


def test_shipped_files_are_exactly_what_the_script_generates(generator):
    files = generator.build()
    assert sorted(files) == ["manifest.json", "test.tsv", "train.tsv", "validation.tsv"]
    for name, data in files.items():
        assert (tinytalks.DATA_DIR / name).read_bytes() == data, f"{name} is stale: rerun {SCRIPT}"


def test_the_script_writes_the_same_bytes_every_run(generator, tmp_path: Path):
    generator.main(["--out", str(tmp_path / "a")])
    generator.main(["--out", str(tmp_path / "b")])
    for name in ("train.tsv", "validation.tsv", "test.tsv", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "manifest.json",
        "test.tsv",
        "train.tsv",
        "validation.tsv",
    ]


def test_about_three_thousand_pairs_in_three_levels():
    sizes = {split: len(load_tinytalks(split)) for split in ("train", "validation", "test")}
    assert sizes == TINYTALKS_INFO["num_pairs"] == {"train": 2526, "validation": 275, "test": 308}
    assert 2900 <= sum(sizes.values()) <= 3200
    for split in sizes:
        levels = Counter(row[0] for row in load_tinytalks_rows(split))
        assert set(levels) == {"greetings", "facts", "reasoning"}
        assert sum(len(load_tinytalks(split, level)) for level in levels) == sizes[split]


def test_answers_are_short_and_text_is_clean():
    for split in ("train", "validation", "test"):
        for question, answer in load_tinytalks(split):
            assert question == question.strip() and answer == answer.strip()
            assert len(answer.split()) <= 6 and len(question) <= 40
            assert question == question.lower()


# ----------------------------------------------------------------------------- the splits


def test_no_question_is_in_two_splits():
    questions = {s: {q for q, _ in load_tinytalks(s)} for s in ("train", "validation", "test")}
    assert not questions["train"] & questions["test"]
    assert not questions["train"] & questions["validation"]
    assert not questions["validation"] & questions["test"]


def test_every_held_out_question_asks_about_something_training_shows_in_other_words(generator):
    """Splits hold out phrasings, not skills: each test key has a training phrasing."""
    splits = generator.split_pairs(generator.all_pairs())
    train_keys = {(p.skill, p.key) for p in splits["train"]}
    train_answers = {p.answer for p in splits["train"]}
    train_skills = {p.skill for p in splits["train"]}
    for held_out in (*splits["validation"], *splits["test"]):
        assert (held_out.skill, held_out.key) in train_keys, held_out
        assert held_out.answer in train_answers, held_out
        assert held_out.skill in train_skills
    test_skills = {p.skill for p in splits["test"]}
    assert len(test_skills) >= 20  # every level, nearly every skill, is tested


def test_answers_follow_from_the_questions():
    checked = Counter()
    for split in ("train", "validation", "test"):
        for _, skill, question, answer in load_tinytalks_rows(split):
            numbers = [int(n) for n in re.findall(r"\d+", question)]
            if skill == "addition":
                assert int(answer) == sum(numbers), question
            elif skill == "bigger":
                assert int(answer) == max(numbers), question
            elif skill == "before":
                assert int(answer) == numbers[0] - 1, question
            elif skill == "spelling":
                assert answer.replace(" ", "") in question, question
            elif skill == "capitals" and "france" in question:
                assert answer == "paris"
            else:
                continue
            checked[skill] += 1
    assert checked["capitals"] == 5 and checked["addition"] == 400


# ----------------------------------------------------------------------------- loading


def test_loader_returns_string_pairs_and_filters_by_level():
    pairs = load_tinytalks("test", level="facts")
    assert pairs and all(isinstance(q, str) and isinstance(a, str) for q, a in pairs)
    assert (
        len(pairs)
        == json.loads(tinytalks.DATA_DIR.joinpath("manifest.json").read_text())["splits"]["test"][
            "levels"
        ]["facts"]
    )


def test_unknown_split_or_level_is_refused():
    with pytest.raises(ValueError, match="split must be one of"):
        load_tinytalks("dev")
    with pytest.raises(ValueError, match="level must be one of"):
        load_tinytalks("train", level="poetry")
    with pytest.raises(ValueError, match="split must be one of"):
        load_tinytalks_rows("dev")


def rewrite(directory: Path, split: str, text: str) -> None:
    """Replace a split file and update its manifest entry, so only the content is wrong."""
    data = text.encode("utf-8")
    (directory / f"{split}.tsv").write_bytes(data)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["splits"][split]["sha256"] = hashlib.sha256(data).hexdigest()
    (directory / "manifest.json").write_text(json.dumps(manifest))


def test_a_file_that_differs_from_its_checksum_is_refused(data_copy: Path):
    path = data_copy / "test.tsv"
    path.write_bytes(path.read_bytes().replace(b"paris", b"lyon"))
    with pytest.raises(ValueError, match=r"test.tsv is corrupt: SHA-256 .* does not match"):
        tinytalks._read_split(data_copy, "test")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("question\tanswer\nhi\tho\n", "line 1 should be the header"),
        ("level\tskill\tquestion\tanswer\nfacts\tcolours\twhat?\n", "line 2 should be"),
        ("level\tskill\tquestion\tanswer\npoetry\tx\tq?\ta\n", "line 2 should be"),
        ("level\tskill\tquestion\tanswer\nfacts\tcolours\t\tblue\n", "line 2 should be"),
        ("level\tskill\tquestion\tanswer\nfacts\tcolours\tq?\tblue", "no newline"),
        ("level\tskill\tquestion\tanswer\nfacts\tcolours\tq?\tblue\n", "1 pairs, but the manifest"),
    ],
)
def test_malformed_lines_are_refused_with_the_line_number(data_copy: Path, text: str, message):
    rewrite(data_copy, "test", text)
    with pytest.raises(ValueError, match=message):
        tinytalks._read_split(data_copy, "test")


def test_a_missing_file_or_a_broken_manifest_says_so(data_copy: Path):
    (data_copy / "validation.tsv").unlink()
    with pytest.raises(FileNotFoundError, match=r"validation\.tsv is missing; reinstall"):
        tinytalks._read_split(data_copy, "validation")
    (data_copy / "manifest.json").write_text("{}")
    with pytest.raises(ValueError, match=r"manifest\.json is corrupt"):
        tinytalks._read_split(data_copy, "train")
