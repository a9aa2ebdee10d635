"""The forward-dependency check (``tools/vocabulary.py``, run by ``nox -s lint``).

A planted forward reference must fail the check with ``path:line``, the term and the
module that introduces it; identifiers, dotted module paths, a connection map's Unlocks
entry and the documented allow-list must not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import vocabulary
from docs_helpers import ROOT, write, write_manifest

MINI_GLOSSARY = """
[[term]]
term = "computational graph"
module = 3
also = ["computation graph"]

[[term]]
term = "chain rule"
module = 3

[[term]]
term = "autograd"
module = 3

[[term]]
term = "attention"
module = 3

[[term]]
term = "dropout"
module = 2
"""


def demo_repo(tmp_path: Path, files: dict[str, str], allow: str = "") -> Path:
    write_manifest(tmp_path, "demo", ["Tensor", "Layers", "Autograd"])
    write(tmp_path / "docs" / "glossary.toml", MINI_GLOSSARY + allow)
    for name, text in files.items():
        write(tmp_path / "packages" / "tinytorch-demo" / name, text)
    return tmp_path


def violations(root: Path) -> list[tuple[str, int, str, int]]:
    report = vocabulary.check(root)
    return [(Path(v.path).name, v.line, v.term, v.term_module) for v in report.violations]


# ----------------------------------------------------------------------------- the real tree


def test_glossary_names_all_twenty_modules_and_their_tiers() -> None:
    glossary = vocabulary.load_glossary(ROOT / "docs" / "glossary.toml")
    assert sorted(glossary.modules) == list(range(1, 21))
    covered = sorted(n for t in glossary.tiers for n in range(t.first, t.last + 1))
    assert covered == list(range(1, 21))
    for example in ("computational graph", "backward pass", "chain rule", "convolution"):
        assert any(t.term == example for t in glossary.terms), example
    modules = {t.term: t.module for t in glossary.terms}
    assert modules["computational graph"] == 5
    assert modules["convolution"] == 9
    assert modules["attention"] == 12
    assert modules["KV cache"] == 17


def test_the_foundation_tier_has_no_forward_reference() -> None:
    glossary = vocabulary.load_glossary(ROOT / "docs" / "glossary.toml")
    tier = next(t for t in glossary.tiers if t.name == "foundation")
    files = [p for p, t in vocabulary.curriculum_files(ROOT, glossary) if t == tier]
    report = vocabulary.check(ROOT, glossary, files)
    assert [v.format(glossary) for v in report.violations] == []


def test_the_dormant_backward_message_is_allowed_by_one_narrow_entry() -> None:
    glossary = vocabulary.load_glossary(ROOT / "docs" / "glossary.toml")
    tensor = ROOT / "packages/tinytorch-foundation/src/tinytorch/core/tensor.py"
    report = vocabulary.check(ROOT, glossary, [tensor])
    dormant = [
        (v, a)
        for v, a in report.allowed
        if "gradients switch on in Module 05 (Autograd)" in v.line_text
    ]
    assert len(dormant) == 1
    _, entry = dormant[0]
    assert entry.kind == "design"
    assert entry.path == "packages/tinytorch-foundation/src/tinytorch/core/tensor.py"
    assert entry.terms == ("autograd",)


# ----------------------------------------------------------------------------- planted


PLANTED = """\
    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError("Linear.forward: this breaks the computational graph")
"""


def test_a_planted_error_message_fails_the_real_check(foundation_copy: Path) -> None:
    layers = foundation_copy / "packages/tinytorch-foundation/src/tinytorch/nn/layers.py"
    source = layers.read_text(encoding="utf-8")
    anchor = "class Dropout(Module):"
    planted = source.replace(anchor, "class Planted:\n" + PLANTED + "\n\n" + anchor)
    layers.write_text(planted, encoding="utf-8")
    line = planted.splitlines().index(
        '            raise ValueError("Linear.forward: this breaks the computational graph")'
    )
    report = vocabulary.check(foundation_copy)
    found = [(v.path, v.line, v.term, v.term_module, v.file_module) for v in report.violations]
    assert found == [
        (
            "packages/tinytorch-foundation/src/tinytorch/nn/layers.py",
            line + 1,
            "computational graph",
            5,
            3,
        )
    ]
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "vocabulary.py"), "--root", str(foundation_copy)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert f"nn/layers.py:{line + 1}: 'computational graph'" in result.stdout
    assert "Module 05 (Autograd), after this file's Module 03 (Layers)" in result.stdout


def test_a_planted_lesson_sentence_and_test_comment_fail(foundation_copy: Path) -> None:
    tier = foundation_copy / "packages/tinytorch-foundation"
    lesson = tier / "lessons" / "02_activations.py"
    lesson.write_text(
        lesson.read_text(encoding="utf-8") + "\n# %% [markdown]\n# The chain rule is next.\n",
        encoding="utf-8",
    )
    test = tier / "tests" / "test_03_layers.py"
    test.write_text(
        test.read_text(encoding="utf-8") + "\n# attention heads come later\n", encoding="utf-8"
    )
    found = {(Path(v.path).name, v.term) for v in vocabulary.check(foundation_copy).violations}
    assert found == {("02_activations.py", "chain rule"), ("test_03_layers.py", "attention")}


def test_the_cli_passes_on_an_unchanged_copy(foundation_copy: Path) -> None:
    report = vocabulary.check(foundation_copy)
    assert report.violations == []


# ----------------------------------------------------------------------------- precision


def test_prose_is_checked_in_comments_docstrings_and_messages(tmp_path: Path) -> None:
    root = demo_repo(
        tmp_path,
        {
            "src/tinytorch/demo/tensor.py": '''
                """Module 01 · Tensor — arrays.

                Nothing here knows the Chain
                Rule yet.
                """
                # a computation-graph would be premature
                def f():
                    raise ValueError(f"f: dropout {1} is for later")
                ''',
        },
    )
    assert violations(root) == [
        ("tensor.py", 3, "chain rule", 3),
        ("tensor.py", 6, "computational graph", 3),
        ("tensor.py", 8, "dropout", 2),
    ]


def test_identifiers_paths_and_similar_words_are_not_terms(tmp_path: Path) -> None:
    root = demo_repo(
        tmp_path,
        {
            "src/tinytorch/demo/tensor.py": '''
                """Module 01 · Tensor — arrays.

                Call ``enable_autograd()`` from ``tinytorch.core.autograd`` or read
                docs/autograd/index.md; be attentive: dropouts_rate, autogradient.
                """
                autograd_mode = "autograd_mode"
                ''',
        },
    )
    assert violations(root) == []


def test_unlocks_entries_may_name_later_modules(tmp_path: Path) -> None:
    root = demo_repo(
        tmp_path,
        {
            "src/tinytorch/demo/tensor.py": '''
                """Module 01 · Tensor — arrays.

                Connection map
                    Prerequisites : none
                    This module   : arrays
                    Unlocks       : 02 Layers (dropout) · 03 Autograd builds the
                                    computational graph
                    Note          : attention is not allowed here
                """
                ''',
            "lessons/01_tensor.py": """
                # %% [markdown]
                # # Module 01 · Tensor — arrays
                #
                # - **Prerequisites**: none.
                # - **Unlocks**: 03 Autograd and its chain rule,
                #   and the computational graph.
                # - **Later**: the chain rule.
                """,
        },
    )
    assert violations(root) == [
        ("01_tensor.py", 7, "chain rule", 3),
        ("tensor.py", 8, "attention", 3),
    ]


def test_a_file_speaks_for_its_module_or_its_tiers_last(tmp_path: Path) -> None:
    root = demo_repo(
        tmp_path,
        {
            "tests/test_02_layers.py": "# dropout is fine here, the chain rule is not\n",
            "tests/conftest.py": "# the chain rule is fine in a tier-wide file\n",
            "src/tinytorch/demo/__init__.py": '"""All of the tier: autograd included."""\n',
        },
    )
    assert violations(root) == [("test_02_layers.py", 1, "chain rule", 3)]


# ----------------------------------------------------------------------------- allow-list


ALLOW = """
[[allow]]
kind = "design"
path = "packages/tinytorch-demo/src/tinytorch/demo/tensor.py"
terms = ["autograd"]
text = "arrives with Module 03 (Autograd)"
reason = "The dormant backward() says where it comes alive."
"""

TENSOR = '''
    """Module 01 · Tensor — arrays."""
    def backward():
        raise RuntimeError("backward() arrives with Module 03 (Autograd)")
    '''


def test_an_allow_entry_covers_exactly_its_line(tmp_path: Path) -> None:
    root = demo_repo(
        tmp_path,
        {"src/tinytorch/demo/tensor.py": TENSOR + "# autograd is mentioned again here\n"},
        ALLOW,
    )
    report = vocabulary.check(root)
    assert [(v.line, v.term) for v in report.violations] == [(4, "autograd")]
    assert [(v.line, a.kind) for v, a in report.allowed] == [(3, "design")]
    assert report.stale == []


def test_a_stale_allow_entry_fails(tmp_path: Path) -> None:
    root = demo_repo(
        tmp_path, {"src/tinytorch/demo/tensor.py": '"""Module 01 · Tensor — x."""\n'}, ALLOW
    )
    report = vocabulary.check(root)
    assert not report.ok
    assert [a.terms for a in report.stale] == [("autograd",)]


def test_an_allow_entry_needs_a_place_and_a_reason(tmp_path: Path) -> None:
    loose = '\n[[allow]]\npath = "packages/**"\nterms = ["autograd"]\nreason = ""\n'
    root = demo_repo(tmp_path, {}, loose)
    with pytest.raises(ValueError, match="needs `text` or `after`") as error:
        vocabulary.load_glossary(root / "docs" / "glossary.toml")
    assert "gives no reason" in str(error.value)
