"""Lessons: check their structure, execute them, convert them to notebooks.

Every curriculum module has one lesson, ``packages/<tier>/lessons/NN_name.py`` (its
``lesson`` in ``curriculum.toml``), in jupytext's percent format (``# %%`` code cells,
``# %% [markdown]`` cells). A lesson

* opens with ``Module NN · Name — ...`` (the same line its source file opens with),
* has a connection map (Prerequisites, This module, Unlocks),
* has the three sections ``## Build``, ``## Use`` and ``## Reflect``, in that order,
* names in Build every function the student branch stubs (every ``### BEGIN SOLUTION``
  block in the module's source files, as the manifest lists them), as ```Class.method```,
* runs the module's tests from Use (``run_tests("NN")``, from ``tinytorch_learn.lesson``),
* keeps a worked answer in at least one solution block inside Reflect.

``check_structure`` enforces that without running anything (``tests/docs`` runs it in
the tooling session); ``execute`` runs a lesson top to bottom in a fresh Jupyter kernel
with nbclient against the installed tiers (``nox -s lessons``).

Usage::

    python tools/lessons.py --check                # structure of every lesson
    python tools/lessons.py --execute [NN ...]     # run lessons (all, or these modules)
    python tools/lessons.py --tier arch --execute  # one tier's lessons
    python tools/lessons.py --to-ipynb DIR         # write DIR/<tier>/NN_name.ipynb
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import sys
import time
import tokenize
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tinytorch_learn import curriculum

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "packages"

MODULE_HEADER = re.compile(r"Module (\d{2}) · (.+?) — ")
CELL = re.compile(r"^# %%(?: \[(?P<kind>\w+)\])?")
SECTIONS = ("## Build", "## Use", "## Reflect")
MAP_ENTRIES = ("Prerequisites", "This module", "Unlocks")
BEGIN = re.compile(r"^\s*(?:# )?### BEGIN SOLUTION\s*$")


@dataclass(frozen=True)
class Lesson:
    tier: str
    number: int
    path: Path


def tiers(root: Path = ROOT) -> list[Path]:
    """The folders of the manifest's tiers present under ``root/packages``, lowest first."""
    folders = [root / "packages" / t.package for t in curriculum.load(root).tiers]
    return [folder for folder in folders if folder.is_dir()]


def lessons(root: Path = ROOT, numbers: set[int] | None = None) -> list[Lesson]:
    """The lessons the manifest lists that exist (of modules ``numbers``), in module order."""
    manifest = curriculum.load(root)
    found = []
    for module in manifest.modules:
        path = root / "packages" / manifest.tier(module.tier).package / module.lesson
        if path.is_file() and (numbers is None or module.number in numbers):
            found.append(Lesson(module.tier, module.number, path))
    return found


def module_sources(tier_dir: Path) -> dict[int, list[Path]]:
    """Module number -> its source files in ``tier_dir`` (a tier's folder), per the manifest."""
    manifest = curriculum.load(tier_dir)
    return {
        module.number: [tier_dir / source for source in module.sources]
        for module in manifest.modules_of(tier_dir.name)
    }


def stubbed_functions(path: Path) -> list[str]:
    """Qualified names of the functions that hold a ``### BEGIN SOLUTION`` block."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    scopes: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                scopes.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    names = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and BEGIN.match(token.string):
            line = token.start[0]
            inner = [s for s in scopes if s[0] <= line <= s[1]]
            if inner:
                name = max(inner, key=lambda s: s[0])[2]
                if name not in names:
                    names.append(name)
    return names


def cells(text: str) -> list[tuple[str, int, str]]:
    """(kind, first line, body) per cell: kind is "markdown" or "code"."""
    out: list[tuple[str, int, list[str]]] = []
    for i, line in enumerate(text.splitlines(), start=1):
        match = CELL.match(line)
        if match:
            out.append(("markdown" if match["kind"] == "markdown" else "code", i, []))
        elif out:
            out[-1][2].append(line)
    return [(kind, line, "\n".join(body)) for kind, line, body in out]


def check_structure(lesson: Lesson, root: Path = ROOT) -> list[str]:
    """Problems with one lesson, each as ``path:line: what``; empty when it is fine."""
    path = lesson.path
    where = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    text = path.read_text(encoding="utf-8")
    problems: list[str] = []
    try:
        compile(text, str(path), "exec")
    except SyntaxError as error:
        return [f"{where}:{error.lineno}: not valid Python: {error.msg}"]
    header = next((m for line in text.splitlines()[:40] if (m := MODULE_HEADER.search(line))), None)
    if header is None or int(header.group(1)) != lesson.number:
        problems.append(f"{where}:1: no 'Module {lesson.number:02d} · Name — ...' title line")
    parts = cells(text)
    if not parts:
        return [*problems, f"{where}:1: no '# %%' cells (jupytext percent format)"]
    markdown = [(line, body) for kind, line, body in parts if kind == "markdown"]
    heading_line: dict[str, int] = {}
    for line, body in markdown:
        for offset, row in enumerate(body.splitlines(), start=1):
            stripped = row.removeprefix("#").strip()
            for section in SECTIONS:
                if stripped == section and section not in heading_line:
                    heading_line[section] = line + offset
    for section in SECTIONS:
        if section not in heading_line:
            problems.append(f"{where}:1: missing the '{section}' section")
    order = [heading_line[s] for s in SECTIONS if s in heading_line]
    if order != sorted(order):
        problems.append(f"{where}:1: sections must come in the order Build, Use, Reflect")
    before_build = "\n".join(
        body for _, line, body in parts if line < heading_line.get("## Build", 10**9)
    )
    for entry in MAP_ENTRIES:
        if not re.search(rf"\*\*{entry}\*\*\s*:|^#\s*-?\s*{entry}\s*:", before_build, re.M):
            problems.append(f"{where}:1: the connection map has no '{entry}' entry")
    build = _section(text, heading_line, "## Build")
    sources = module_sources(path.parents[1]).get(lesson.number, [])
    if not sources:
        problems.append(
            f"{where}:1: curriculum.toml lists no source file of module {lesson.number}"
        )
    for source in sources:
        for name in stubbed_functions(source):
            if f"`{name}`" not in build:
                problems.append(
                    f"{where}:{heading_line.get('## Build', 1)}: Build does not name "
                    f"`{name}` ({source.relative_to(path.parents[1]).as_posix()})"
                )
    use = _section(text, heading_line, "## Use")
    if f'run_tests("{lesson.number:02d}")' not in use:
        problems.append(
            f"{where}:{heading_line.get('## Use', 1)}: Use does not run this module's tests "
            f'(run_tests("{lesson.number:02d}"))'
        )
    reflect = _section(text, heading_line, "## Reflect")
    if not re.search(r"^\s*(?:# )?### BEGIN SOLUTION", reflect, re.M):
        problems.append(
            f"{where}:{heading_line.get('## Reflect', 1)}: Reflect keeps no worked answer "
            "in a ### BEGIN SOLUTION block"
        )
    return problems


def _section(text: str, heading_line: dict[str, int], section: str) -> str:
    """The lines from a section heading to the next section heading."""
    if section not in heading_line:
        return ""
    start = heading_line[section]
    later = [line for line in heading_line.values() if line > start]
    end = min(later) if later else 10**9
    return "\n".join(text.splitlines()[start - 1 : end - 1])


# ----------------------------------------------------------------------------- running


def to_notebook(path: Path):
    """The lesson as an nbformat notebook (jupytext's percent format)."""
    import jupytext

    return jupytext.read(path, fmt="py:percent")


def execute(lesson: Lesson, timeout: int = 600) -> float:
    """Run a lesson top to bottom in a fresh kernel, from its own folder; seconds taken."""
    from nbclient import NotebookClient

    notebook = to_notebook(lesson.path)
    start = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(lesson.path.parent)}},
    )
    client.execute()
    return time.perf_counter() - start


def write_ipynb(lesson: Lesson, out_dir: Path) -> Path:
    import jupytext

    target = out_dir / lesson.tier / lesson.path.with_suffix(".ipynb").name
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(to_notebook(lesson.path), target, fmt="ipynb")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", type=int, help="module numbers (default: all)")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--tier", help="only this tier's lessons (foundation, arch, opt)")
    parser.add_argument("--check", action="store_true", help="check every lesson's structure")
    parser.add_argument("--execute", action="store_true", help="run lessons with nbclient")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="lessons run at once (default: cores)"
    )
    parser.add_argument("--to-ipynb", type=Path, metavar="DIR", help="write .ipynb files")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    chosen = lessons(root, set(args.modules) or None)
    if args.tier:
        chosen = [lesson for lesson in chosen if lesson.tier == args.tier]
    if not chosen:
        print("lessons: none found", file=sys.stderr)
        return 1
    status = 0
    if args.check or not (args.execute or args.to_ipynb):
        for lesson in chosen:
            for problem in check_structure(lesson, root):
                print(problem)
                status = 1
        print(f"lessons: structure of {len(chosen)} lesson(s) checked", file=sys.stderr)
    if args.to_ipynb:
        for lesson in chosen:
            print(f"wrote {write_ipynb(lesson, args.to_ipynb)}")
    if args.execute:
        status |= execute_all(chosen, root, args.jobs)
    return status


def execute_all(chosen: list[Lesson], root: Path, jobs: int) -> int:
    """Run lessons ``jobs`` at a time (each in its own kernel process); 1 if any failed.

    Every lesson is reported as it finishes, and every failing one with its error.
    """
    started, status = time.perf_counter(), 0
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        running = {pool.submit(execute, lesson): lesson for lesson in chosen}
        for done in as_completed(running):
            where = running[done].path.relative_to(root)
            try:
                print(f"ok  {where}  {done.result():.1f}s", flush=True)
            except Exception as error:  # report every failing lesson, then fail
                print(f"FAILED {where}:\n{error}", flush=True)
                status = 1
    seconds = time.perf_counter() - started
    print(f"lessons: executed {len(chosen)} in {seconds:.1f}s ({jobs} at a time)", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
