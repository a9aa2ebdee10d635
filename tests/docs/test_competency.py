"""The competency matrix generator (``tools/competency.py``).

The page is generated from ``# competency:`` markers, so these tests pin down how a
marker attaches to a definition, how its tests are found, and that bad markers fail
with ``file:line`` instead of silently dropping a cell.
"""

from __future__ import annotations

from pathlib import Path

import competency
import pytest
from docs_helpers import ROOT, write, write_manifest

FOUNDATION_ROWS = ("tensors", "operations", "graphs", "training")


def demo(tmp_path: Path, source: str, tests: str = "", lesson: str = "") -> Path:
    write_manifest(tmp_path, "demo", ["Vector"])
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "competency.toml").write_bytes(
        (ROOT / "docs" / "competency.toml").read_bytes()
    )
    tier = tmp_path / "packages" / "tinytorch-demo"
    write(tier / "src" / "tinytorch" / "demo" / "vector.py", source)
    if tests:
        write(tier / "tests" / "test_01_vector.py", tests)
    if lesson:
        write(tier / "lessons" / "01_vector.py", lesson)
    return tmp_path


def cells(root: Path) -> dict:
    matrix = competency.load_matrix(root / "docs" / "competency.toml")
    return competency.coverage(matrix, competency.collect(root, matrix))


def test_the_matrix_has_forty_cells() -> None:
    matrix = competency.load_matrix()
    assert len(matrix.areas) == 8
    assert matrix.levels == ["knows", "measures", "implements", "debugs", "optimizes"]
    assert len(matrix.cells) == 40


def test_the_foundation_tier_covers_its_rows_with_tested_code() -> None:
    matrix, found = competency.summary(ROOT)
    for area in FOUNDATION_ROWS:
        for level in matrix.levels:
            cell = found[(area, level)]
            assert cell.status == "covered", (area, level)
            assert any(e.kind == "code" and e.tests for e in cell.evidence), (area, level)
    assert competency.counts(found)["covered"] >= 20


SOURCE = '''
    """Module 01 · Vector — a demo."""


    class Vector:
        # competency: tensors/measures
        def nbytes(self):
            return 0

        # competency: operations/implements
        def __add__(self, other):
            return self

    # competency: graphs/knows via=walk
    @staticmethod
    def run_walk():
        pass
    '''

TESTS = """
    def test_size():
        assert Vector().nbytes() == 0

    def test_plus():
        assert Vector() + Vector()

    def test_walks():
        walk()
    """


def test_markers_attach_to_the_definition_below_and_find_their_tests(tmp_path: Path) -> None:
    found = cells(demo(tmp_path, SOURCE, TESTS))
    measured = found[("tensors", "measures")].evidence[0]
    assert (measured.symbol, measured.module, measured.tests) == (
        "Vector.nbytes",
        1,
        ["test_01_vector.py::test_size"],
    )
    assert found[("operations", "implements")].evidence[0].tests == ["test_01_vector.py::test_plus"]
    walked = found[("graphs", "knows")].evidence[0]
    assert (walked.symbol, walked.tests) == ("run_walk", ["test_01_vector.py::test_walks"])
    assert found[("tensors", "measures")].status == "covered"
    assert found[("tensors", "knows")].status == "open"


def test_untested_code_and_lessons_are_partial(tmp_path: Path) -> None:
    lesson = """
        # %%
        # competency: training/knows
        print("reflect")
        """
    found = cells(demo(tmp_path, SOURCE, "", lesson))
    assert found[("tensors", "measures")].status == "partial"
    assert found[("training", "knows")].status == "partial"
    assert found[("training", "knows")].evidence[0].kind == "lesson"


@pytest.mark.parametrize(
    ("marker", "problem"),
    [
        ("# competency: tensors/understands", "unknown competency 'tensors/understands'"),
        ("# competency: memory/knows", "unknown competency 'memory/knows'"),
        ("# competency: tensors/knows tests=test_missing", "tests=test_missing names no test"),
    ],
)
def test_bad_markers_fail_with_file_and_line(tmp_path: Path, marker: str, problem: str) -> None:
    source = f'"""Module 01 · Vector — a demo."""\n\n{marker}\ndef f():\n    pass\n'
    root = demo(tmp_path, source, "def test_f():\n    f()\n")
    with pytest.raises(competency.MarkerError) as error:
        cells(root)
    assert "packages/tinytorch-demo/src/tinytorch/demo/vector.py:3:" in str(error.value)
    assert problem in str(error.value)


def test_a_marker_must_sit_directly_above_a_definition(tmp_path: Path) -> None:
    source = '"""Module 01 · Vector — a demo."""\n\nx = 1\n# competency: tensors/knows\nx = 2\n'
    with pytest.raises(competency.MarkerError, match=r"vector.py:4: .*not directly above"):
        cells(demo(tmp_path, source))


def test_the_page_lists_every_cell_with_an_anchor() -> None:
    matrix, found = competency.summary(ROOT)
    page = competency.markdown(matrix, found)
    for area, level in matrix.cells:
        assert f"(cell-{area}-{level})=" in page
    assert f"**{competency.counts(found)['covered']} of 40 cells covered**" in page
