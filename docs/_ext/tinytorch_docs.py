"""Sphinx extension: generate the site's curriculum pages from the repository itself.

At ``config-inited`` (before Sphinx reads any source) it writes, under ``_generated/``:

``modules/index.md``      the curriculum: every tier (its description) and its modules
``tiers/<tier>.md``       one page per tier: description, version, dependencies, modules,
                          milestones, changelog
``modules/NN_name.md``    one page per module, rendered from its lesson (jupytext percent
                          format: Markdown cells as Markdown, code cells as code, worked
                          answers folded into dropdowns); a module without a lesson yet
                          gets its source file's connection map and a note
``curriculum-table.md``   the home page's table of tiers and modules
``milestones.md``         the latest results from ``milestones/results/*.json`` and their
                          plots, or how to produce them when there are none

Tiers, modules and milestones, and their order, are the curriculum manifest's
(``curriculum.toml``): the sidebar and the next/previous links follow it (the module
index holds the tier pages, each tier page its modules), foundation → arch → opt,
Module 01 → 20, then the milestones.
``errors.md``             every error message a learner can meet, by module (from the
                          ``raise`` statements of each module's source)
``glossary.md``           the vocabulary of ``docs/glossary.toml`` and the allow-list
``competency.md``         the 40-cell matrix from ``tools/competency.py``
``api/``                  one ``automodule`` page per installed ``tinytorch`` module

A file is rewritten only when its content changes, so incremental builds stay fast.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import pkgutil
import re
import shutil
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
OUT = DOCS / "_generated"
sys.path.insert(0, str(ROOT / "tools"))

import competency  # noqa: E402
import lessons  # noqa: E402
import vocabulary  # noqa: E402

from tinytorch_learn import curriculum  # noqa: E402

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
COMPETENCY_LINE = re.compile(r"^\s*#\s*competency\s*:\s*(?P<cells>.+)$", re.IGNORECASE)
MODULE_HEADER = re.compile(r"Module (\d{2}) · (.+?) — (.*)")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------- tiers


def _manifest() -> curriculum.Curriculum:
    return curriculum.load(ROOT)


def _tier_dir(manifest: curriculum.Curriculum, tier: str) -> Path:
    return ROOT / "packages" / manifest.tier(tier).package


def _project(tier_dir: Path) -> dict:
    return tomllib.loads((tier_dir / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _glossary() -> vocabulary.Glossary:
    return vocabulary.load_glossary(DOCS / "glossary.toml")


def _prune(folder: Path, keep: set[str]) -> None:
    """Delete generated pages in ``folder`` that this build did not write (a renamed or
    removed module), so that no orphan page fails the build."""
    for stale in folder.glob("*.md"):
        if stale.name not in keep:
            stale.unlink()


def _module_docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


# ----------------------------------------------------------------------------- lessons


def _markdown_lines(body: str) -> list[str]:
    out = []
    for line in body.splitlines():
        if line.startswith("# "):
            out.append(line[2:])
        elif line.startswith("#"):
            out.append(line[1:])
        else:
            out.append(line)
    return out


def _fence(code: list[str]) -> list[str]:
    while code and not code[0].strip():
        code = code[1:]
    while code and not code[-1].strip():
        code = code[:-1]
    return ["```python", *code, "```", ""] if code else []


def lesson_to_myst(path: Path) -> tuple[str, list[str]]:
    """The lesson as a MyST page, and the competency cells it claims."""
    text = path.read_text(encoding="utf-8")
    claimed: list[str] = []
    out: list[str] = []
    for kind, _, body in lessons.cells(text):
        if kind == "markdown":
            for line in _markdown_lines(body):
                if BEGIN.match(line):
                    out += ["", ":::{dropdown} Worked answer", ""]
                elif END.match(line):
                    out += ["", ":::", ""]
                else:
                    out.append(line)
            out.append("")
            continue
        code: list[str] = []
        answer: list[str] | None = None
        for line in body.splitlines():
            if match := COMPETENCY_LINE.match(line):
                claimed += [c.strip() for c in match.group("cells").split(",") if c.strip()]
                continue
            begin = BEGIN.match(line)
            if begin and not begin.group("indent"):
                out += _fence(code)
                code, answer = [], []
                continue
            if END.match(line) and answer is not None:
                out += ["::::{dropdown} Worked answer (code)", "", *_fence(answer), "::::", ""]
                answer = None
                continue
            if BEGIN.match(line) or END.match(line):
                continue
            (answer if answer is not None else code).append(line)
        out += _fence(code)
    return "\n".join(out).rstrip() + "\n", claimed


def module_page(module: curriculum.Module, tier_dir: Path, lesson: Path | None) -> str:
    number, name = module.number, module.name
    project = _project(tier_dir)
    sources = [tier_dir / s for s in module.sources if (tier_dir / s).is_file()]
    source_list = ", ".join(f"`{p.relative_to(tier_dir / 'src').as_posix()}`" for p in sources)
    if lesson is None:
        lines = [f"# Module {number:02d} · {name}", ""]
        if sources:
            doc = _module_docstring(sources[0])
            lines += [
                f"Tier: {project['name']} {project['version']} · source: {source_list}",
                "",
                "This module has no lesson yet. Its source file opens with this connection",
                "map:",
                "",
                "```text",
                doc,
                "```",
                "",
            ]
        else:
            lines += [f"Part of {project['name']}; not written yet.", ""]
        lines += [
            "Adding the lesson is one file, checked by `tools/lessons.py --check`: ",
            f"`{tier_dir.relative_to(ROOT).as_posix()}/{module.lesson}`.",
            "",
        ]
        return "\n".join(lines)
    body, claimed = lesson_to_myst(lesson)
    title, _, rest = body.partition("\n")
    lesson_path = lesson.relative_to(ROOT).as_posix()
    intro = [
        title,
        "",
        ":::{note}",
        f"Tier **{project['name']} {project['version']}** · source {source_list} · lesson "
        f"`{lesson_path}`. This page shows the lesson without running it; open it as a "
        f"notebook with `jupytext --to ipynb {lesson_path}` (course bundles ship the "
        "`.ipynb`) and run it against your own code.",
        ":::",
        "",
    ]
    outro = []
    if claimed:
        refs = ", ".join(
            f"{{ref}}`{c} <cell-{c.replace('/', '-')}>`" for c in dict.fromkeys(claimed)
        )
        outro = ["", "---", "", f"Competencies this lesson's Reflect questions train: {refs}.", ""]
    return "\n".join(intro) + rest + "\n".join(outro)


def generate_modules(manifest: curriculum.Curriculum) -> list[curriculum.Module]:
    """Write a page per module whose tier is in this tree; the modules written, in order."""
    written = []
    for module in manifest.modules:
        tier_dir = _tier_dir(manifest, module.tier)
        lesson = tier_dir / module.lesson
        if not lesson.is_file() and not any((tier_dir / s).is_file() for s in module.sources):
            continue
        page = module_page(module, tier_dir, lesson if lesson.is_file() else None)
        _write(OUT / "modules" / f"{module.slug}.md", page)
        written.append(module)
    _prune(OUT / "modules", {f"{m.slug}.md" for m in written} | {"index.md"})
    return written


def _module_link(module: curriculum.Module) -> str:
    return f"{{doc}}`{module.title} </_generated/modules/{module.slug}>`"


def _modules_list(manifest: curriculum.Curriculum, tier: str, written: list) -> list[str]:
    """One bullet per module of ``tier``: a link to its page, or a note that it is not here."""
    return [
        f"- {_module_link(m)}" if m in written else f"- {m.title} (not in this tree yet)"
        for m in manifest.modules_of(tier)
    ]


def _ranges(numbers: tuple[int, ...]) -> str:
    """``(1, 2, 3, 4, 10, 11)`` -> ``"01–04, 10–11"``: the modules a milestone needs."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]:02d}" + (f"–{r[-1]:02d}" if len(r) > 1 else "") for r in runs)


def _milestone_line(milestone: curriculum.Milestone) -> str:
    return f"- Milestone {milestone.number}, {milestone.name}: modules {_ranges(milestone.modules)}"


def generate_tiers(manifest: curriculum.Curriculum, written: list[curriculum.Module]) -> list:
    """A page per tier present (the parent of its modules' pages); the tiers written."""
    tiers = [
        t for t in manifest.tiers if (_tier_dir(manifest, t.name) / "pyproject.toml").is_file()
    ]
    for tier in tiers:
        tier_dir = _tier_dir(manifest, tier.name)
        project = _project(tier_dir)
        deps = project.get("dependencies", [])
        milestones = [m for m in manifest.milestones if m.tier == tier.name]
        lines = [
            f"# {tier.title} tier",
            "",
            tier.description,
            "",
            f"**{project['name']} {project['version']}**: {project.get('description', '')}",
            "",
            "```bash",
            f"pip install {project['name']}=={project['version']}",
            "```",
            "",
            "Depends on: " + (", ".join(f"`{d}`" for d in deps) or "nothing") + ".",
            "",
            "## Modules",
            "",
            *_modules_list(manifest, tier.name, written),
            "",
        ]
        if milestones:
            lines += [
                "## Milestones",
                "",
                "What this tier's modules unlock ({doc}`results </_generated/milestones>`):",
                "",
                *map(_milestone_line, milestones),
                "",
            ]
        changelog = tier_dir / "CHANGELOG.md"
        if changelog.is_file():
            lines += [
                "## Changelog",
                "",
                "```{include} " + f"../../../{changelog.relative_to(ROOT).as_posix()}",
                ":start-line: 1",
                "```",
                "",
            ]
        mine = [f"/_generated/modules/{m.slug}" for m in written if m.tier == tier.name]
        lines += ["```{toctree}", ":hidden:", "", *mine, "```", ""]
        _write(OUT / "tiers" / f"{tier.name}.md", "\n".join(lines))
    _prune(OUT / "tiers", {f"{t.name}.md" for t in tiers})
    return tiers


def generate_curriculum(manifest: curriculum.Curriculum, written: list, tiers: list) -> None:
    """The curriculum page (the tier pages are its children) and the home page's table."""
    index = [
        "# Curriculum",
        "",
        "Every tier and module of this tree, in curriculum order: each tier is its own",
        "distribution with its own version and changelog, and depends only on the tiers",
        "below it. Work through them from Module 01; the milestones after each tier put",
        "what it built to work.",
        "",
    ]
    for tier in tiers:
        index += [
            f"## {{doc}}`{tier.title} tier </_generated/tiers/{tier.name}>`",
            "",
            tier.description,
            "",
            *_modules_list(manifest, tier.name, written),
            "",
        ]
    index += [
        "```{toctree}",
        ":hidden:",
        "",
        *[f"/_generated/tiers/{t.name}" for t in tiers],
        "```",
        "",
    ]
    _write(OUT / "modules" / "index.md", "\n".join(index))
    table = ["| tier | package | modules |", "| --- | --- | --- |"]
    for tier in manifest.tiers:
        names = " · ".join(m.title for m in manifest.modules_of(tier.name))
        table.append(f"| {tier.title} | `{tier.package}` | {names} |")
    _write(OUT / "curriculum-table.md", "\n".join(table) + "\n")


# ----------------------------------------------------------------------------- milestones


def _installed(milestone: curriculum.Milestone, manifest: curriculum.Curriculum) -> bool:
    """Whether every tier the milestone needs is installed in the build environment."""
    packages = {
        ".".join(Path(s).parts[1:3]) for n in milestone.modules for s in manifest.module(n).sources
    }
    try:
        return all(importlib.util.find_spec(name) for name in packages)
    except ModuleNotFoundError:  # no tinytorch at all
        return False


def generate_milestones(manifest: curriculum.Curriculum) -> None:
    results = ROOT / "milestones" / "results"
    lines = [
        "# Milestones",
        "",
        "Six historical results, re-created with nothing but `tinytorch.*`. Each script in",
        "`milestones/` trains on shipped, offline data and checks itself against a bar;",
        "`nox -s milestone` runs them all (`nox -s milestone -- 3` runs one) and writes",
        "`milestones/results/<name>.json` and a figure, which this page shows. Milestones 3",
        "and 4 also train on real, full-size data: see {doc}`/getting-started`.",
        "",
    ]
    images = OUT / "milestones"
    for milestone in manifest.milestones:
        number, name, title = milestone.number, milestone.slug, milestone.name
        package = manifest.tier(milestone.tier).package
        needs = f"Needs modules {_ranges(milestone.modules)} (`{package}`)."
        lines += [f"## {number}. {title}", "", needs, ""]
        data_file = results / f"{name}.json"
        if not data_file.is_file():
            why = (
                "it has not run in this build"
                if _installed(milestone, manifest)
                else f"`{package}` is not installed in this build"
            )
            lines += [
                f"No result yet: {why}. Produce it with",
                "",
                "```bash",
                f"nox -s milestone -- {number}",
                "```",
                "",
            ]
            continue
        try:
            data = json.loads(data_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            lines += [f"The result file could not be read ({error}); rerun the milestone.", ""]
            continue
        verdict = {True: "met its bar", False: "**missed its bar**"}.get(
            data.get("passed"), "was measured without a bar"
        )
        versions = ", ".join(f"{k} {v}" for k, v in sorted(data.get("versions", {}).items()))
        lines += [
            f"{data.get('title', title)}: {verdict} in {data.get('wall_time_s', '?')} s "
            f"(seeds {data.get('seeds', '?')}; {versions}).",
            "",
            "| check | value | bar | passed |",
            "| --- | --- | --- | --- |",
        ]
        for check, info in data.get("checks", {}).items():
            value = info.get("value")
            shown = f"{value:.4g}" if isinstance(value, (int, float)) else str(value)
            bar = f"{info['rule']} {info['bar']}" if info.get("rule") else "none"
            passed = {True: "yes", False: "no"}.get(info.get("passed"), "measured")
            lines.append(f"| {check} | {shown} | {bar} | {passed} |")
        lines.append("")
        plot = results / f"{name}.png"
        if plot.is_file():
            images.mkdir(parents=True, exist_ok=True)
            target = images / plot.name
            if not target.exists() or target.read_bytes() != plot.read_bytes():
                shutil.copyfile(plot, target)
            # Full width: the figures have three or four panels (see _static/tinytorch.css).
            lines += [
                f"```{{figure}} milestones/{plot.name}",
                ":figclass: milestone-figure",
                ":width: 100%",
                f":alt: {data.get('title', title)}",
                "```",
                "",
            ]
    _write(OUT / "milestones.md", "\n".join(lines))


# ----------------------------------------------------------------------------- errors


def _messages(path: Path) -> list[tuple[int, str, str]]:
    """(line, exception, message) for every raise with a literal message in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        func = node.exc.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if not name or not node.exc.args:
            continue
        text = _literal(node.exc.args[0])
        if text:
            found.append((node.lineno, name, text))
    return found


def _literal(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{…}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal(node.left) + _literal(node.right)
    return ""


def generate_errors(manifest: curriculum.Curriculum) -> None:
    lines = [
        "# Error messages by module",
        "",
        "Every error message with literal text that a module's own code raises, generated",
        "from the source (`{…}` marks a value filled in at run time). Use it to recognise",
        "which module a learner's traceback comes from; the TA guide says what usually",
        "causes each.",
        "",
    ]
    for module in manifest.modules:
        tier_dir = _tier_dir(manifest, module.tier)
        paths = [tier_dir / s for s in module.sources if (tier_dir / s).is_file()]
        if paths:
            lines += [f"## {module.title}", ""]
            for path in paths:
                rel = path.relative_to(tier_dir / "src").as_posix()
                for line, exc, text in _messages(path):
                    shown = " ".join(text.split()).replace("`", "'")
                    lines.append(f"- `{rel}:{line}` {exc}: {shown}")
            lines.append("")
    _write(OUT / "errors.md", "\n".join(lines))


# ----------------------------------------------------------------------------- glossary


def generate_glossary(glossary: vocabulary.Glossary) -> None:
    lines = [
        "# Glossary and the forward-dependency check",
        "",
        "Each term below is introduced by one module. `tools/vocabulary.py` (run by",
        "`nox -s lint`) fails when a module's comments, docstrings, error messages, tests",
        "or lesson use a term that a later module introduces: the *forward dependency",
        "creep* the TinyTorch paper names as an open maintenance problem. The list lives in",
        "`docs/glossary.toml`; add a module's new terms there when you add the module.",
        "",
    ]
    for number, name in sorted(glossary.modules.items()):
        terms = [t for t in glossary.terms if t.module == number]
        if not terms:
            continue
        lines += [f"## {number:02d} {name}", "", "```{glossary}"]
        for term in terms:
            heading = term.term + "".join(f"\n{alias}" for alias in term.also)
            lines += [heading, f"   {term.means or '(no definition yet)'}", ""]
        lines += ["```", ""]
    lines += [
        "## Allowed exceptions",
        "",
        "Connection maps may name later modules in their *Unlocks* entry. Everything else",
        "is listed here, file by file, with its reason. *Design* entries are deliberate",
        "(such as Module 01's dormant `backward()`, which must say that it arrives in",
        "Module 05); *debt* entries are real forward references waiting to be reworded.",
        "An entry that stops matching fails the check, so this list cannot go stale.",
        "",
        "| kind | file | terms | reason |",
        "| --- | --- | --- | --- |",
    ]
    for allow in sorted(glossary.allow, key=lambda a: (a.kind, a.path)):
        reason = " ".join(allow.reason.split()).replace("|", "/")
        lines.append(f"| {allow.kind} | `{allow.path}` | {', '.join(allow.terms)} | {reason} |")
    lines.append("")
    _write(OUT / "glossary.md", "\n".join(lines))


# ----------------------------------------------------------------------------- matrix, API


def generate_competency() -> None:
    matrix, cells = competency.summary(ROOT)
    _write(OUT / "competency.md", competency.markdown(matrix, cells))


def installed_modules() -> dict[str, list[str]]:
    """Installed ``tinytorch`` subpackages -> their modules (the package first)."""
    try:
        import tinytorch
    except ImportError:
        return {}
    found: dict[str, list[str]] = {}
    for info in sorted(pkgutil.iter_modules(tinytorch.__path__), key=lambda m: m.name):
        package = f"tinytorch.{info.name}"
        names = [package]
        try:
            module = importlib.import_module(package)
        except Exception:  # autodoc reports the import error itself, as a warning
            found[package] = names
            continue
        for sub in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=package + "."):
            if not sub.name.rsplit(".", 1)[-1].startswith("_"):
                names.append(sub.name)
        found[package] = names
    return found


def generate_api() -> None:
    """One page per installed module (``automodule``), and an index grouped by package.

    Pages are written directly rather than by autosummary, because packages here
    re-export functions that share a submodule's name (``tinytorch.core.tensor`` is
    both a module and, through ``tinytorch.core``, a function), which autosummary
    resolves to the function.
    """
    api = OUT / "api"
    modules = installed_modules()
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings of the tiers installed in the build environment",
        "(`nox -s docs` installs every tier of the tree). A module's page opens with the",
        "curriculum module that teaches it and its connection map.",
        "",
    ]
    if not modules:
        lines += ["No `tinytorch` tier is installed in this environment.", ""]
    wanted = set()
    for package, names in modules.items():
        lines += [f"## `{package}`", "", "```{toctree}", ":maxdepth: 1", ""]
        for name in names:
            wanted.add(f"{name}.rst")
            underline = "=" * len(name)
            _write(
                api / f"{name}.rst",
                f"{name}\n{underline}\n\n.. automodule:: {name}\n",
            )
            lines.append(name)
        lines += ["```", ""]
    for stale in api.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()
    _write(api / "index.md", "\n".join(lines))


# ----------------------------------------------------------------------------- sessions


def generate_sessions() -> None:
    """A table of the nox sessions in noxfile.py, from their docstrings."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    defaults: list[str] = []
    rows = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "nox.options.sessions":
            defaults = list(ast.literal_eval(node.value))
        if not isinstance(node, ast.FunctionDef):
            continue
        if not any("nox.session" in ast.unparse(d) for d in node.decorator_list):
            continue
        doc = (ast.get_docstring(node) or "").strip().split("\n\n")[0]
        doc = " ".join(doc.split()).replace("|", "/")
        default = " (default)" if node.name in defaults else ""
        rows.append(f"| `nox -s {node.name}`{default} | {doc} |")
    lines = [
        "Generated from `noxfile.py`; `nox` alone runs the sessions marked *default*.",
        "",
        "| session | what it does |",
        "| --- | --- |",
        *rows,
        "",
    ]
    _write(OUT / "sessions.inc", "\n".join(lines))


# ----------------------------------------------------------------------------- docstrings

_LITERAL = re.compile(r"(``.+?``)")
_EMPHASIS = re.compile(r"(?<![\w*\\])(\*\*?)(?=\S)([^*\n]*?\S)\1(?![\w*])")
_MAP_ENTRY = re.compile(r"^\s+\S[\w ]*?\s*:")


def _escape_prose(text: str) -> str:
    """Escape what reStructuredText would misread in plain-text docstrings.

    ``|x|`` is not a substitution, ``lr*wd`` and ``*=`` are not emphasis, ``norm_`` is
    not a link target. Inline literals and real ``*emphasis*`` are left alone.
    """
    out = []
    for piece in _LITERAL.split(text):
        if piece.startswith("``") and piece.endswith("``") and len(piece) > 4:
            out.append(piece)
            continue
        piece = piece.replace("|", "\\|")
        spans = [m.span() for m in _EMPHASIS.finditer(piece)]
        chars = []
        for i, ch in enumerate(piece):
            inside = any(a <= i < b for a, b in spans)
            opens = i + 1 < len(piece) and not piece[i + 1].isspace()  # "* " never opens
            chars.append("\\*" if ch == "*" and opens and not inside else ch)
        piece = "".join(chars)
        piece = re.sub(r"(?<=\w)_(?=\W|$)", r"\\_", piece)
        out.append(piece)
    return "".join(out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def rst_safe(lines: list[str]) -> list[str]:
    """Docstring lines made valid reStructuredText, keeping what plain text meant.

    * a connection map (``Connection map`` then ``Label : text`` lines) and any block
      indented under a paragraph (formulas after "gradient G:") become literal blocks;
    * a line that steps back out of an indented block gets the blank line RST wants;
    * prose is escaped (see ``_escape_prose``).
    """
    out: list[str] = []
    literal: int | None = None  # indentation of the paragraph that opened a literal block
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if literal is not None:
            if not line.strip() or _indent(line) > literal:
                out.append(line)
                continue
            literal = None
            if out and out[-1].strip():
                out.append("")
        if line.strip() == "Connection map" and _MAP_ENTRY.match(nxt):
            out += ["Connection map::", ""]
            literal = _indent(line)
            continue
        prev = lines[i - 1] if i > 0 else ""
        before = lines[i - 2] if i > 1 else ""
        if line.strip() and prev.strip() and out:
            plain_prev = not prev.lstrip().startswith((":", "* ", "- ", ".. "))
            if _indent(line) > _indent(prev) and plain_prev:
                if prev.rstrip().endswith(":") or before.strip():
                    out[-1] = out[-1].rstrip()
                    out[-1] = out[-1] + ":" if out[-1].endswith(":") else out[-1] + " ::"
                    out += ["", line]
                    literal = _indent(prev)
                    continue
            if _indent(line) < _indent(prev) and out[-1].strip():
                out.append("")
        out.append(_escape_prose(line))
    return out


def _process_docstring(app, what, name, obj, options, lines) -> None:
    lines[:] = rst_safe(lines)


# ----------------------------------------------------------------------------- Sphinx


def generate(app=None, config=None) -> None:
    manifest = _manifest()
    modules = generate_modules(manifest)
    generate_curriculum(manifest, modules, generate_tiers(manifest, modules))
    generate_milestones(manifest)
    generate_sessions()
    generate_errors(manifest)
    generate_glossary(_glossary())
    generate_competency()
    generate_api()


def setup(app):
    app.connect("config-inited", generate)
    app.connect("autodoc-process-docstring", _process_docstring)
    # Importing the tiers for autodoc must not print progress bars or warnings.
    importlib.import_module("warnings").filterwarnings("ignore", module="tqdm")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
