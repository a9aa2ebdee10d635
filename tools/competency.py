"""The competency matrix, generated from markers so that it cannot drift from the code.

The paper's matrix has 40 cells: 8 knowledge areas (``docs/competency.toml``) by 5
levels (knows, measures, implements, debugs, optimizes). A cell is claimed by a marker
comment placed directly above the function or class that teaches it::

    # competency: tensors/measures
    def memory_footprint(self) -> int:

One marker line may claim several cells (``tensors/knows, tensors/implements``) and may
end with options:

* ``tests=name[,name]``: the tests that assess it (checked to exist);
* ``via=name[,name]``: the names tests use to reach it (``run_backward`` is reached as
  ``backward``), used to find its tests when ``tests=`` is not given.

Without ``tests=``, a marked function's tests are found by reading the tier's tests:
every test function of the module's own test files (``curriculum.toml``) that mentions the
function's name (or, for ``__matmul__`` and friends, uses the operator). Markers in
tests (``# competency:`` above a test, or ``@pytest.mark.competency("area", "level")``)
name their test directly. Markers in a lesson record that its Reflect questions teach
the cell.

A cell is **covered** when a marked function has at least one test that assesses it (or
a marked test exists): implementation plus automated assessment. It is **partial** when
only lessons or untested functions claim it, and **open** otherwise.

Usage::

    python tools/competency.py              # summary: covered / partial / open of 40
    python tools/competency.py --markdown docs/_generated/competency.md
    python tools/competency.py --json out.json
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import re
import sys
import tokenize
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tinytorch_learn import curriculum

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
MATRIX = ROOT / "docs" / "competency.toml"
PACKAGES = ROOT / "packages"

MARKER = re.compile(r"^#\s*competency\s*:\s*(?P<body>.+)$", re.IGNORECASE)
CELL = re.compile(r"^(?P<area>[a-z]+)/(?P<level>[a-z]+)$")

#: Operators through which tests reach Tensor's dunder methods.
OPERATORS: dict[str, tuple[type, ...]] = {
    "__add__": (ast.Add,),
    "__sub__": (ast.Sub,),
    "__mul__": (ast.Mult,),
    "__truediv__": (ast.Div,),
    "__pow__": (ast.Pow,),
    "__matmul__": (ast.MatMult,),
    "__neg__": (ast.USub,),
}
#: ``operator.add`` and friends, as the tests' tables of binary ops spell them.
OPERATOR_NAMES = {
    "__add__": "add",
    "__sub__": "sub",
    "__mul__": "mul",
    "__truediv__": "truediv",
    "__pow__": "pow",
    "__matmul__": "matmul",
    "__neg__": "neg",
}


class MarkerError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# ----------------------------------------------------------------------------- matrix


@dataclass(frozen=True)
class Area:
    key: str
    name: str
    cells: dict[str, str]
    planned: dict[str, list[int]]


@dataclass
class Matrix:
    levels: list[str]
    level_names: dict[str, str]
    level_meaning: dict[str, str]
    areas: list[Area]

    @property
    def cells(self) -> list[tuple[str, str]]:
        return [(a.key, level) for a in self.areas for level in self.levels]

    def area(self, key: str) -> Area:
        return next(a for a in self.areas if a.key == key)


def load_matrix(path: Path = MATRIX) -> Matrix:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    levels = list(data["levels"])
    areas = [
        Area(a["key"], a["name"], {lv: a[lv] for lv in levels}, a.get("planned", {}))
        for a in data["area"]
    ]
    return Matrix(levels, data["level_names"], data["level_meaning"], areas)


# ----------------------------------------------------------------------------- markers


@dataclass
class Evidence:
    """One marker: where it is, what it claims, and the tests that assess it."""

    kind: str  # "code", "test" or "lesson"
    tier: str
    module: int | None
    path: str
    line: int
    symbol: str
    cells: list[tuple[str, str]]
    tests: list[str] = field(default_factory=list)

    @property
    def assessed(self) -> bool:
        return self.kind == "test" or bool(self.tests)


@dataclass(frozen=True)
class _Marker:
    line: int
    cells: list[tuple[str, str]]
    tests: list[str]
    via: list[str]


def _comments(source: str) -> Iterator[tuple[int, str]]:
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string


def parse_markers(path: Path, source: str, matrix: Matrix) -> list[_Marker]:
    problems: list[str] = []
    found = []
    known = set(matrix.cells)
    for line, comment in _comments(source):
        match = MARKER.match(comment.strip())
        if not match:
            continue
        cells, tests, via = [], [], []
        for part in re.split(r"[,\s]+(?=[a-z_]+[/=])", match.group("body").strip()):
            part = part.strip().rstrip(",")
            if part.startswith("tests="):
                tests += [t for t in part[len("tests=") :].split(",") if t]
            elif part.startswith("via="):
                via += [t for t in part[len("via=") :].split(",") if t]
            elif (cell := CELL.match(part)) and (cell["area"], cell["level"]) in known:
                cells.append((cell["area"], cell["level"]))
            else:
                problems.append(
                    f"{path}:{line}: unknown competency {part!r}; expected AREA/LEVEL with "
                    f"AREA in {[a.key for a in matrix.areas]} and LEVEL in {matrix.levels}"
                )
        if not cells:
            problems.append(f"{path}:{line}: competency marker claims no cell")
        found.append(_Marker(line, cells, tests, via))
    if problems:
        raise MarkerError(problems)
    return found


def _definitions(tree: ast.Module) -> list[tuple[ast.AST, str]]:
    """Every function and class with its qualified name, outermost first."""
    out: list[tuple[ast.AST, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                out.append((child, name))
                visit(child, name + ".")

    visit(tree, "")
    return out


def _attached(marker: _Marker, lines: list[str], tree: ast.Module, path: Path) -> str:
    """The qualified name of the def/class right below a marker (decorators allowed)."""
    defs = _definitions(tree)
    line = marker.line + 1
    while line <= len(lines):
        text = lines[line - 1].strip()
        if not text or text.startswith("#") or text.startswith("@"):
            line += 1
            continue
        break
    for node, name in defs:
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        if first <= line <= node.lineno:
            return name
    raise MarkerError(
        [f"{path}:{marker.line}: competency marker is not directly above a def or class"]
    )


# ----------------------------------------------------------------------------- tests


@dataclass
class TestFunction:
    file: Path
    nodeid: str
    node: ast.AST
    names: set[str]
    operators: set[type]
    marks: list[tuple[str, str]]


def _test_functions(path: Path) -> list[TestFunction]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def collect(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef) and child.name.startswith("Test"):
                collect(child, f"{prefix}{child.name}::")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                child.name.startswith("test")
            ):
                names: set[str] = set()
                ops: set[type] = set()
                for sub in ast.walk(child):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
                    elif isinstance(sub, ast.Attribute):
                        names.add(sub.attr)
                    elif isinstance(sub, (ast.BinOp, ast.UnaryOp)):
                        ops.add(type(sub.op))
                marks = []
                for deco in child.decorator_list:
                    if (
                        isinstance(deco, ast.Call)
                        and isinstance(deco.func, ast.Attribute)
                        and deco.func.attr == "competency"
                        and len(deco.args) == 2
                        and all(isinstance(a, ast.Constant) for a in deco.args)
                    ):
                        marks.append((deco.args[0].value, deco.args[1].value))
                found.append(
                    TestFunction(
                        path, f"{path.name}::{prefix}{child.name}", child, names, ops, marks
                    )
                )

    collect(tree, "")
    return found


def _tests_for(symbol: str, via: list[str], candidates: list[TestFunction]) -> list[str]:
    leaf = symbol.split(".")[-1]
    wanted = set(via) or {leaf}
    if not via and leaf in OPERATOR_NAMES:
        wanted.add(OPERATOR_NAMES[leaf])
    operators = OPERATORS.get(leaf, ()) if not via else ()
    return [
        t.nodeid
        for t in candidates
        if t.names & wanted or any(op in t.operators for op in operators)
    ]


# ----------------------------------------------------------------------------- collection


def _module_of(manifest: curriculum.Curriculum, tier: str, relative: Path) -> int | None:
    """The module a file of ``tier`` belongs to (``relative`` to the tier's folder)."""
    owner = manifest.owner(tier, relative.as_posix())
    return owner.number if owner else None


def collect(root: Path = ROOT, matrix: Matrix | None = None) -> list[Evidence]:
    """Every marker of every tier under ``root/packages``, with the tests that assess it."""
    matrix = matrix or load_matrix(root / "docs" / "competency.toml")
    problems: list[str] = []
    evidence: list[Evidence] = []
    manifest = curriculum.load(root)
    for tier_dir, tier in [(root / "packages" / t.package, t.name) for t in manifest.tiers]:
        tests = {p: _test_functions(p) for p in sorted((tier_dir / "tests").glob("test_*.py"))}
        all_tests = [t for ts in tests.values() for t in ts]
        by_id = {t.nodeid.split("::")[-1]: t for t in all_tests}
        by_id.update({t.nodeid: t for t in all_tests})
        for folder, kind in (("src", "code"), ("tests", "test"), ("lessons", "lesson")):
            for path in sorted((tier_dir / folder).rglob("*.py")):
                if "__pycache__" in path.parts:
                    continue
                source = path.read_text(encoding="utf-8")
                relative = path.relative_to(root).as_posix()
                try:
                    markers = parse_markers(Path(relative), source, matrix)
                except MarkerError as error:
                    problems += error.problems
                    continue
                module = _module_of(manifest, tier, path.relative_to(tier_dir))
                if not markers:
                    continue
                lines = source.splitlines()
                tree = ast.parse(source) if kind != "lesson" else None
                for marker in markers:
                    if kind == "lesson":
                        symbol = f"lesson {path.stem}"
                    else:
                        try:
                            symbol = _attached(marker, lines, tree, Path(relative))
                        except MarkerError as error:
                            problems += error.problems
                            continue
                    found_tests: list[str] = []
                    for name in marker.tests:
                        test = by_id.get(name)
                        if test is None:
                            problems.append(
                                f"{relative}:{marker.line}: tests={name} names no test in "
                                f"{tier_dir.name}/tests"
                            )
                        else:
                            found_tests.append(test.nodeid)
                    if kind == "code" and not marker.tests:
                        own_files = manifest.module(module).tests if module else ()
                        own = [
                            t
                            for p, ts in tests.items()
                            if p.relative_to(tier_dir).as_posix() in own_files
                            for t in ts
                        ]
                        found_tests = _tests_for(symbol, marker.via, own or all_tests)
                    evidence.append(
                        Evidence(
                            kind,
                            tier,
                            module,
                            relative,
                            marker.line,
                            symbol,
                            marker.cells,
                            found_tests,
                        )
                    )
        for test in all_tests:
            if test.marks:
                cells = [c for c in test.marks if c in set(matrix.cells)]
                bad = [c for c in test.marks if c not in set(matrix.cells)]
                problems += [
                    f"{test.file.relative_to(root)}:{test.node.lineno}: unknown competency {c}"
                    for c in bad
                ]
                if cells:
                    evidence.append(
                        Evidence(
                            "test",
                            tier,
                            _module_of(manifest, tier, test.file.relative_to(tier_dir)),
                            test.file.relative_to(root).as_posix(),
                            test.node.lineno,
                            test.nodeid,
                            cells,
                            [test.nodeid],
                        )
                    )
    if problems:
        raise MarkerError(problems)
    return evidence


# ----------------------------------------------------------------------------- coverage


@dataclass
class Cell:
    area: str
    level: str
    evidence: list[Evidence]

    @property
    def status(self) -> str:
        if any(e.assessed for e in self.evidence):
            return "covered"
        return "partial" if self.evidence else "open"

    @property
    def modules(self) -> list[int]:
        return sorted({e.module for e in self.evidence if e.module is not None})


def coverage(matrix: Matrix, evidence: list[Evidence]) -> dict[tuple[str, str], Cell]:
    by_cell: dict[tuple[str, str], list[Evidence]] = defaultdict(list)
    for e in evidence:
        for cell in e.cells:
            by_cell[cell].append(e)
    return {c: Cell(c[0], c[1], by_cell.get(c, [])) for c in matrix.cells}


def counts(cells: dict[tuple[str, str], Cell]) -> dict[str, int]:
    out = {"covered": 0, "partial": 0, "open": 0}
    for cell in cells.values():
        out[cell.status] += 1
    return out


# ----------------------------------------------------------------------------- output

_SYMBOL = {"covered": "✓", "partial": "◦", "open": "–"}
_SHOWN_TESTS = 3


def markdown(matrix: Matrix, cells: dict[tuple[str, str], Cell]) -> str:
    """A MyST page: the grid, then every cell with its functions and tests."""
    n = counts(cells)
    total = len(cells)
    out = [
        "# Competency matrix",
        "",
        "The TinyTorch paper describes what an ML-systems engineer should master as a grid of",
        f"{len(matrix.areas)} knowledge areas by {len(matrix.levels)} capability levels "
        f"({total} cells). This page is generated by `tools/competency.py` from "
        "`# competency:` markers in the tiers' code, tests and lessons, so it always "
        "describes the code as it is.",
        "",
        f"**{n['covered']} of {total} cells covered**, {n['partial']} partial, "
        f"{n['open']} open (tiers in this build: "
        f"{', '.join(sorted({e.tier for c in cells.values() for e in c.evidence})) or 'none'}).",
        "",
        "- ✓ covered: a marked function with tests that assess it, or a marked test",
        "- ◦ partial: taught in a lesson, or implemented without a test naming it",
        "- – open: nothing in the installed tiers claims it yet",
        "",
        "| Knowledge area | " + " | ".join(matrix.level_names[lv] for lv in matrix.levels) + " |",
        "| --- |" + " --- |" * len(matrix.levels),
    ]
    for area in matrix.areas:
        row = []
        for level in matrix.levels:
            cell = cells[(area.key, level)]
            mods = ", ".join(f"M{m:02d}" for m in cell.modules)
            row.append(f"[{_SYMBOL[cell.status]} {mods}](#cell-{area.key}-{level})".strip())
        out.append(f"| {area.name} | " + " | ".join(row) + " |")
    out += [
        "",
        "Levels: "
        + "; ".join(
            f"**{matrix.level_names[lv]}** {matrix.level_meaning[lv]}" for lv in matrix.levels
        )
        + ".",
        "",
        "To claim a cell, put `# competency: AREA/LEVEL` directly above the function or class",
        "that teaches it (see `tools/competency.py` for the options).",
        "",
    ]
    for area in matrix.areas:
        out += [f"## {area.name}", ""]
        for level in matrix.levels:
            cell = cells[(area.key, level)]
            planned = area.planned.get(level, [])
            plan = ", ".join(f"M{m:02d}" for m in planned) if planned else "no module"
            out += [
                f"({f'cell-{area.key}-{level}'})=",
                f"### {_SYMBOL[cell.status]} {matrix.level_names[level]}: {area.cells[level]}",
                "",
                f"Status: **{cell.status}**. The paper plans this cell for {plan}.",
                "",
            ]
            for e in sorted(cell.evidence, key=lambda e: (e.module or 0, e.path, e.line)):
                where = f"`{e.path}:{e.line}`"
                label = f"M{e.module:02d} " if e.module else ""
                if e.kind == "lesson":
                    out.append(f"- {label}lesson (Reflect) — {where}")
                    continue
                tests = ", ".join(f"`{t}`" for t in e.tests[:_SHOWN_TESTS])
                more = len(e.tests) - _SHOWN_TESTS
                if more > 0:
                    tests += f" and {more} more"
                kind = "test" if e.kind == "test" else "code"
                out.append(
                    f"- {label}{kind} `{e.symbol}` — {where}; tests: {tests or 'none found'}"
                )
            out.append("")
    return "\n".join(out)


def summary(root: Path = ROOT) -> tuple[Matrix, dict[tuple[str, str], Cell]]:
    matrix = load_matrix(root / "docs" / "competency.toml")
    return matrix, coverage(matrix, collect(root, matrix))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--markdown", type=Path, help="write the MyST page here")
    parser.add_argument("--json", type=Path, help="write the cells as JSON here")
    args = parser.parse_args(argv)
    try:
        matrix, cells = summary(args.root.resolve())
    except MarkerError as error:
        print(error, file=sys.stderr)
        return 1
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(matrix, cells), encoding="utf-8")
    if args.json:
        payload = {
            f"{c.area}/{c.level}": {
                "status": c.status,
                "modules": c.modules,
                "evidence": [
                    {
                        "kind": e.kind,
                        "path": e.path,
                        "line": e.line,
                        "symbol": e.symbol,
                        "tests": e.tests,
                    }
                    for e in c.evidence
                ],
            }
            for c in cells.values()
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    n = counts(cells)
    print(
        f"competency: {n['covered']}/{len(cells)} covered, {n['partial']} partial, {n['open']} open"
    )
    for area in matrix.areas:
        row = " ".join(_SYMBOL[cells[(area.key, lv)].status] for lv in matrix.levels)
        print(f"  {area.key:<11} {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
