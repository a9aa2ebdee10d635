"""Debug mode: catalogs of planted bugs, exact patches, and the check that tests catch them.

The real catalogs' full check (every bug caught by a shipped test, the clean solution
passing) runs through ``nox -s debug`` in test_course_sessions.py; here the mechanics run
on the demo tier, and the real catalogs are checked against the current source.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coursetools import debug, markers
from coursetools.courses import KNOWN_TIERS
from coursetools.tiers import PACKAGES_DIR, Tier

CATALOG = '''
    [[bugs]]
    id = "norm-without-sqrt"
    title = "norm forgets the square root"
    module = 1
    file = "src/tinytorch/demo/vector.py"
    symptom = "norm([3, 4]) is 25."
    hint = "Pythagoras."

    [[bugs.patches]]
    find = """
            return total ** 0.5
    """
    replace = """
            return total
    """

    [[bugs]]
    id = "docstring-only"
    title = "A change no test can see"
    module = 2
    file = "src/tinytorch/demo/stats.py"
    symptom = "None."
    hint = "None."

    [[bugs.patches]]
    find = """
        \\"\\"\\"Arithmetic mean of the values.\\"\\"\\"
    """
    replace = """
        \\"\\"\\"The arithmetic mean.\\"\\"\\"
    """
    '''


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "debug"
    folder.mkdir()
    (folder / "demo.toml").write_text(textwrap.dedent(CATALOG).lstrip(), encoding="utf-8")
    return folder


def real_tiers() -> list[str]:
    return [t for t in KNOWN_TIERS if (debug.DEBUG_DIR / f"{t}.toml").is_file()]


# ----------------------------------------------------------------------------- the real catalogs


@pytest.mark.parametrize("tier", real_tiers())
def test_every_catalogued_bug_still_applies_to_the_source(tier: str):
    if not (PACKAGES_DIR / f"tinytorch-{tier}").is_dir():
        pytest.skip(f"tinytorch-{tier} is not in this tree yet")
    solution = Tier.load(PACKAGES_DIR / f"tinytorch-{tier}")
    catalog = debug.load_catalog(tier)
    assert len(catalog) >= 2
    for bug in catalog:
        assert bug.symptom and bug.hint and bug.title
        ((path, text),) = debug.patched_sources(solution, [bug]).items()
        assert text != path.read_text(encoding="utf-8")
        markers.parse(path, text)  # still valid Python with well-formed markers
    files = debug.debug_tree_files(solution, catalog)  # every bug at once stacks cleanly
    assert all(
        patch.replace in files[bug.file].decode("utf-8") for bug in catalog for patch in bug.patches
    )


def test_the_catalogs_cover_the_bugs_the_issue_names():
    ids = {bug.id for tier in real_tiers() for bug in debug.load_catalog(tier)}
    assert {
        "unbroadcast-skipped",
        "softmax-no-max-shift",
        "adam-no-bias-correction",
        "conv-padding-off-by-one",
        "causal-mask-leaks-future",
    } <= ids


# ----------------------------------------------------------------------------- patches


def test_a_patch_that_no_longer_applies_fails_loudly(demo_tier: Path, catalog_dir: Path):
    vector = demo_tier / "src/tinytorch/demo/vector.py"
    vector.write_text(vector.read_text().replace("total ** 0.5", "total**0.5"), encoding="utf-8")
    (bug, _) = debug.load_catalog("demo", catalog_dir)
    with pytest.raises(debug.PatchError) as caught:
        debug.patched_sources(Tier.load(demo_tier), [bug])
    assert "bug 'norm-without-sqrt' (demo): patch 1 no longer applies" in str(caught.value)
    assert "does not occur" in str(caught.value)


def test_a_find_text_that_occurs_twice_is_refused(demo_tier: Path, catalog_dir: Path):
    vector = demo_tier / "src/tinytorch/demo/vector.py"
    copy = "\n\ndef _twice(total):\n    if total:\n        return total ** 0.5\n"
    vector.write_text(vector.read_text() + copy, encoding="utf-8")
    (bug, _) = debug.load_catalog("demo", catalog_dir)
    with pytest.raises(debug.PatchError, match="occurs 2 times"):
        debug.apply(bug, vector.read_text())


def test_a_malformed_catalog_is_refused_with_where(tmp_path: Path):
    (tmp_path / "demo.toml").write_text(
        '[[bugs]]\nid = "x"\ntitle = "t"\nmodule = 1\nfile = "f"\nsymptom = "s"\n'
        'patches = [{ find = "### BEGIN SOLUTION", replace = "" }]\n',
        encoding="utf-8",
    )
    with pytest.raises(debug.CatalogError) as caught:
        debug.load_catalog("demo", tmp_path)
    assert "bugs[0] (x): missing ['hint']" in str(caught.value)
    with pytest.raises(debug.CatalogError, match="no debug catalog for tier 'nope'"):
        debug.load_catalog("nope", tmp_path)


def test_a_debug_tree_is_the_solution_with_bugs_and_without_markers(
    demo_tier: Path, catalog_dir: Path
):
    tier = Tier.load(demo_tier)
    bugs = debug.load_catalog("demo", catalog_dir)[:1]
    files = debug.debug_tree_files(tier, bugs)
    vector = files["src/tinytorch/demo/vector.py"].decode()
    assert "        return total\n" in vector and "total ** 0.5" not in vector
    assert "zip(self.values, other.values)" in vector  # the rest of the solution is there
    assert "        ### BEGIN SOLUTION" not in vector  # the docstring's example stays, at 4
    assert "constant" not in files["tests/test_02_stats.py"].decode()  # hidden tests removed
    assert "# YOUR ANSWER HERE" in files["lessons/01_vector.py"].decode()
    readme = files["README.md"].decode()
    assert "debugging edition" in readme and "1 realistic bug(s)" in readme
    assert "norm" not in readme  # no hint of where the bug is


# ----------------------------------------------------------------------------- the check


def test_the_check_names_the_test_that_catches_a_bug_and_flags_one_no_test_sees(
    demo_tier: Path, catalog_dir: Path
):
    caught, unseen = debug.check_catalog(demo_tier, lower=[], debug_dir=catalog_dir)
    assert caught.caught and "test_norm_of_3_4_is_5" in caught.detail
    assert not unseen.caught
    assert unseen.detail == "every shipped test passes with this bug applied"
    assert "vector.py" in debug.catalog_markdown({"demo": [caught, unseen]})
    assert (demo_tier / "src/tinytorch/demo/vector.py").read_text().count("total ** 0.5") == 1


def test_the_check_refuses_a_tier_whose_tests_fail_without_any_bug(
    demo_tier: Path, catalog_dir: Path
):
    test_file = demo_tier / "tests/test_03_boost.py"
    test_file.write_text(test_file.read_text() + "\n\ndef test_broken():\n    assert False\n")
    with pytest.raises(debug.CatalogError, match="fail on the solution with no bug applied"):
        debug.check_catalog(demo_tier, lower=[], debug_dir=catalog_dir)
