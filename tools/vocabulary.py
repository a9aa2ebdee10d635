"""Forward-dependency check: no module may talk in terms that a later module introduces.

The paper behind this curriculum names "forward dependency creep" as an unsolved
maintenance problem: an error message in Module 03 that mentions a computational graph
assumes Module 05. Import contracts (``lint-imports``) catch forward *imports*; this
tool catches forward *vocabulary*.

``docs/glossary.toml`` says which module introduces which term; the modules and their
tiers are the curriculum manifest's (``curriculum.toml``). For every curriculum file
this tool reads the prose a learner sees, namely

* comments (a jupytext lesson's Markdown cells are comments too),
* docstrings and every other string literal with a space in it (error messages,
  assertion messages, ``pytest.raises(match=...)`` patterns, xfail reasons),

and reports each term whose module comes after the file's own module as
``path:line: 'term' is introduced in Module NN (Name), after Module MM (Name)``.

Which module a file belongs to: the one whose sources, lesson or tests the curriculum
manifest lists it among; any other file of a tier (package ``__init__``, datasets,
``conftest.py``) belongs to the tier's last module: it may use the tier's own
vocabulary, never a higher tier's.

Matching is case-insensitive, on word boundaries (``enable_autograd`` is an identifier,
not the word "autograd"), across line breaks and hyphens for multi-word terms
("computational graph", "computational-graph"), with an optional plural ``s``/``es``.
Words inside dotted or slashed names (``tinytorch.core.autograd``) are module paths,
not prose, and are skipped.

Two things are allowed by construction, not by exception:

* a connection map's ``Unlocks`` entry (and its continuation lines): naming what comes
  next is the whole point of that entry;
* ``# competency:`` marker comments (read by ``tools/competency.py``).

Everything else that must stay is an ``[[allow]]`` entry in the glossary: one file, one
term, a snippet of the offending line, and the reason. An entry that no longer matches
anything is itself an error, so the allow-list cannot go stale or grow into a loophole.

Usage::

    python tools/vocabulary.py                 # check every tier; exit 1 on a violation
    python tools/vocabulary.py --list-terms    # the glossary, module by module
    python tools/vocabulary.py FILE...         # check only these files
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import re
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tinytorch_learn import curriculum

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "docs" / "glossary.toml"

#: A connection map's "Unlocks" entry, in a docstring (``Unlocks : ...``) or a lesson's
#: Markdown list (``- **Unlocks**: ...``).
UNLOCKS = re.compile(r"^(?P<indent>\s*)(?:[-*]\s+)?(?:\*\*)?Unlocks(?:\*\*)?\s*(?:\*\*)?:")
#: A new ``Label :`` entry ends an Unlocks entry's continuation lines.
_LABEL = re.compile(r"^\s*(?:[-*]\s+)?(?:\*\*)?[A-Z][\w ]*(?:\*\*)?\s*:")
COMPETENCY_MARKER = re.compile(r"^\s*competency\s*:", re.IGNORECASE)


# ----------------------------------------------------------------------------- glossary


@dataclass(frozen=True)
class Term:
    """One glossary entry: the canonical spelling, its variants, where it is introduced."""

    term: str
    module: int
    means: str = ""
    also: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.term, *self.also)


@dataclass(frozen=True)
class Allow:
    """A deliberate use of later terms: one file (glob), named terms, a narrow place.

    The place is ``text`` (snippets, one of which the offending line must contain) or
    ``after`` (a snippet of a line that opens a section running to the end of the file,
    such as the gradient checks that close the Module 01-04 tests), or both.
    """

    path: str
    terms: tuple[str, ...]
    reason: str
    kind: str = "debt"  # "design": permanent and documented; "debt": to be reworded
    text: tuple[str, ...] = ()
    after: str = ""

    def matches(self, violation: Violation, source_lines: list[str]) -> bool:
        if not fnmatch.fnmatchcase(violation.path, self.path):
            return False
        if violation.term.lower() not in {t.lower() for t in self.terms}:
            return False
        if self.text and not any(snippet in violation.line_text for snippet in self.text):
            return False
        if self.after:
            opened = next(
                (i + 1 for i, line in enumerate(source_lines) if self.after in line), None
            )
            if opened is None or violation.line <= opened:
                return False
        return True

    def describe(self) -> str:
        where = f"text {self.text!r}" if self.text else f"after {self.after!r}"
        return f"({self.path}, {', '.join(map(repr, self.terms))}, {where})"


@dataclass(frozen=True)
class Tier:
    name: str
    package: str  # its folder, relative to the repository root
    first: int
    last: int


@dataclass
class Glossary:
    modules: dict[int, str]
    tiers: list[Tier]
    terms: list[Term]
    allow: list[Allow] = field(default_factory=list)
    owners: dict[str, int] = field(default_factory=dict)  # repository path -> its module

    def module_label(self, number: int) -> str:
        return f"Module {number:02d} ({self.modules.get(number, '?')})"

    def pattern(self) -> re.Pattern[str]:
        """One regex with a named group per spelling, longest spellings first."""
        spellings = sorted(
            ((s, t) for t in self.terms for s in t.spellings), key=lambda st: -len(st[0])
        )
        self._by_group = {}
        parts = []
        for i, (spelling, term) in enumerate(spellings):
            group = f"t{i}"
            self._by_group[group] = term
            parts.append(f"(?P<{group}>{term_regex(spelling)})")
        return re.compile("|".join(parts), re.IGNORECASE)

    def term_of(self, match: re.Match[str]) -> Term:
        return self._by_group[match.lastgroup]


def term_regex(spelling: str) -> str:
    """Regex for one spelling: word boundaries, flexible spaces/hyphens, optional plural."""
    words = re.split(r"[\s\-]+", spelling.strip())
    body = r"[\s\-]+".join(re.escape(w) for w in words)
    plural = "" if spelling.endswith("s") or not spelling[-1].isalpha() else r"(?:e?s)?"
    return rf"(?<![\w./]){body}{plural}(?![\w]|\.\w|/)"


def load_glossary(path: Path = GLOSSARY) -> Glossary:
    """The glossary's terms and allow-list, with the modules and tiers of the curriculum
    manifest above it (``docs/glossary.toml`` -> ``curriculum.toml``)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    manifest = curriculum.load(path.parent)
    modules = {m.number: m.name for m in manifest.modules}
    tiers = [
        Tier(t.name, f"packages/{t.package}", numbers[0], numbers[-1])
        for t in manifest.tiers
        if (numbers := [m.number for m in manifest.modules_of(t.name)])
    ]
    owners = {
        f"packages/{manifest.tier(m.tier).package}/{file}": m.number
        for m in manifest.modules
        for file in (*m.sources, m.lesson, *m.tests)
    }
    terms = [
        Term(t["term"], int(t["module"]), t.get("means", ""), tuple(t.get("also", ())))
        for t in data.get("term", [])
    ]
    problems = [
        f"unknown module {t.module} for term {t.term!r}" for t in terms if t.module not in modules
    ]
    seen: dict[str, Term] = {}
    for t in terms:
        for spelling in t.spellings:
            key = spelling.lower()
            if key in seen:
                problems.append(f"{spelling!r} is listed twice ({seen[key].term!r}, {t.term!r})")
            seen[key] = t
    allow = [
        Allow(
            path=a["path"],
            terms=tuple(a["terms"]) if "terms" in a else (a["term"],),
            reason=a.get("reason", ""),
            kind=a.get("kind", "debt"),
            text=(a["text"],) if isinstance(a.get("text"), str) else tuple(a.get("text", ())),
            after=a.get("after", ""),
        )
        for a in data.get("allow", [])
    ]
    known = {t.term.lower() for t in terms}
    for a in allow:
        where = f"allow entry for {a.path}"
        problems += [f"{where} names unknown term {t!r}" for t in a.terms if t.lower() not in known]
        if not a.reason.strip():
            problems.append(f"{where} gives no reason")
        if not (a.text or a.after):
            problems.append(f"{where} needs `text` or `after`: a whole file is never allowed")
        if a.kind not in ("design", "debt"):
            problems.append(f"{where}: kind must be 'design' or 'debt', not {a.kind!r}")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return Glossary(modules, tiers, terms, allow, owners)


# ----------------------------------------------------------------------------- prose


@dataclass(frozen=True)
class Prose:
    """A piece of prose from a file: its text and the line it starts on."""

    line: int
    text: str
    kind: str  # "comment" or "string"


def prose(source: str) -> Iterator[Prose]:
    """Comments (consecutive full-line comments joined) and strings with a space in them."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    code_lines = {
        t.start[0]
        for t in tokens
        if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT)
        and t.type != tokenize.DEDENT
    }
    block: list[str] = []
    block_start = 0
    last_line = -1
    for token in tokens:
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#")
            text = text[1:] if text.startswith(" ") else text
            line = token.start[0]
            full_line = line not in code_lines
            if full_line and block and line == last_line + 1:
                block.append(text)
            else:
                if block:
                    yield Prose(block_start, "\n".join(block), "comment")
                block, block_start = [text], line
                if not full_line:
                    yield Prose(line, "\n".join(block), "comment")
                    block = []
            last_line = line
        elif token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            if any(c.isspace() for c in token.string):
                yield Prose(token.start[0], _string_body(token.string), "string")
    if block:
        yield Prose(block_start, "\n".join(block), "comment")


def _string_body(literal: str) -> str:
    """The text between the quotes of a string token (escapes left as written)."""
    match = re.match(r"(?is)^[rbuf]*('''|\"\"\"|'|\")", literal)
    if not match:  # an f-string middle part (Python 3.12+)
        return literal
    quote = match.group(1)
    return literal[match.end() : len(literal) - len(quote)]


def _exempt_lines(text: str) -> set[int]:
    """Line offsets of a text that belong to an Unlocks entry or a competency marker."""
    exempt: set[int] = set()
    unlocks_indent: int | None = None
    for i, line in enumerate(text.split("\n")):
        if COMPETENCY_MARKER.match(line):
            exempt.add(i)
            continue
        match = UNLOCKS.match(line)
        if match:
            unlocks_indent = len(match.group("indent"))
            exempt.add(i)
            continue
        if unlocks_indent is not None:
            indent = len(line) - len(line.lstrip())
            if line.strip() and indent > unlocks_indent and not _LABEL.match(line):
                exempt.add(i)
                continue
            unlocks_indent = None
    return exempt


# ----------------------------------------------------------------------------- files


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    term: str
    found: str
    term_module: int
    file_module: int
    line_text: str

    def format(self, glossary: Glossary) -> str:
        return (
            f"{self.path}:{self.line}: {self.found!r} (term {self.term!r}) is introduced in "
            f"{glossary.module_label(self.term_module)}, after this file's "
            f"{glossary.module_label(self.file_module)}"
        )


def file_module(relative: str, tier: Tier, glossary: Glossary) -> int:
    """The curriculum module a file speaks for (see the module docstring)."""
    return glossary.owners.get(relative, tier.last)


def curriculum_files(root: Path, glossary: Glossary) -> Iterator[tuple[Path, Tier]]:
    """Every Python file of every tier's src/, tests/ and lessons/ that exists."""
    for tier in glossary.tiers:
        base = root / tier.package
        for folder in ("src", "tests", "lessons"):
            for path in sorted((base / folder).rglob("*.py")):
                if "__pycache__" not in path.parts:
                    yield path, tier


def check_file(
    path: Path, tier: Tier, glossary: Glossary, root: Path, pattern: re.Pattern[str]
) -> list[Violation]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    module = file_module(relative, tier, glossary)
    found: list[Violation] = []
    for piece in prose(source):
        exempt = _exempt_lines(piece.text)
        taken: list[tuple[int, int]] = []
        for match in pattern.finditer(piece.text):
            term = glossary.term_of(match)
            start, end = match.span()
            if any(a <= start and end <= b for a, b in taken):
                continue
            taken.append((start, end))
            offset = piece.text.count("\n", 0, start)
            if term.module <= module or offset in exempt:
                continue
            line = piece.line + offset
            found.append(
                Violation(
                    relative,
                    line,
                    term.term,
                    " ".join(match.group().split()),
                    term.module,
                    module,
                    lines[line - 1] if line <= len(lines) else "",
                )
            )
    return found


@dataclass
class Report:
    violations: list[Violation]
    allowed: list[tuple[Violation, Allow]]
    stale: list[Allow]
    files: int

    @property
    def ok(self) -> bool:
        return not self.violations and not self.stale


def check(
    root: Path = ROOT,
    glossary: Glossary | None = None,
    paths: Iterable[Path] | None = None,
) -> Report:
    """Check ``paths`` (default: every curriculum file under ``root``)."""
    glossary = glossary or load_glossary(root / "docs" / "glossary.toml")
    pattern = glossary.pattern()
    if paths is None:
        files = list(curriculum_files(root, glossary))
    else:
        files = [(p, _tier_of(p, root, glossary)) for p in paths]
    violations: list[Violation] = []
    allowed: list[tuple[Violation, Allow]] = []
    used: set[int] = set()
    for path, tier in files:
        source_lines = path.read_text(encoding="utf-8").splitlines()
        for v in check_file(path, tier, glossary, root, pattern):
            entry = next((a for a in glossary.allow if a.matches(v, source_lines)), None)
            if entry is None:
                violations.append(v)
            else:
                allowed.append((v, entry))
                used.add(id(entry))
    violations.sort(key=lambda v: (v.path, v.line))
    # Only a whole-tree run can tell that an allow entry is stale.
    stale = [a for a in glossary.allow if id(a) not in used] if paths is None else []
    return Report(violations, allowed, stale, len(files))


def _tier_of(path: Path, root: Path, glossary: Glossary) -> Tier:
    resolved = path.resolve()
    for tier in glossary.tiers:
        if resolved.is_relative_to((root / tier.package).resolve()):
            return tier
    raise ValueError(f"{path} is not in any tier of the glossary")


# ----------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files to check (default: all)")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    parser.add_argument("--glossary", type=Path, help="glossary TOML (default: docs/glossary.toml)")
    parser.add_argument("--list-terms", action="store_true", help="print the glossary and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list allowed uses")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    glossary = load_glossary(args.glossary or root / "docs" / "glossary.toml")
    if args.list_terms:
        for number, name in sorted(glossary.modules.items()):
            terms = [t.term for t in glossary.terms if t.module == number]
            print(f"{number:02d} {name}: {', '.join(terms) or '-'}")
        return 0
    report = check(root, glossary, args.paths or None)
    for v in report.violations:
        print(v.format(glossary))
    for a in report.stale:
        print(
            f"{args.glossary or 'docs/glossary.toml'}: stale allow entry {a.describe()} "
            "matches nothing any more; delete it"
        )
    if args.verbose:
        for v, a in report.allowed:
            print(f"allowed ({a.kind}): {v.format(glossary)} — {a.reason}")
    status = "ok" if report.ok else "FAILED"
    print(
        f"vocabulary: {status} — {report.files} files, {len(report.violations)} forward "
        f"reference(s), {len(report.allowed)} allowed, {len(report.stale)} stale allow entries",
        file=sys.stderr,
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
