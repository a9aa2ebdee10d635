"""Leak check: no line of a solution may reach a student artefact.

The secrets of a tier are the lines inside its solution blocks, each stripped of
surrounding whitespace, minus

* trivial lines (``return x``, ``pass``, ``)``, anything shorter than
  :data:`MIN_LENGTH` characters), which any code contains, and
* lines that also occur outside solution blocks anywhere in the same tier, whole or
  as part of a longer line (a signature repeated in a docstring, a line the tests
  share, ``raise KeyError(`` inside a test's ``raise KeyError("boom")``): the search
  below is by substring, and what the tier shows openly cannot be a secret.

Every file of an artefact is searched for every secret: a directory tree (``.git``
aside: its objects are compressed), a ``.zip``/``.whl`` or a ``.tar.gz``, descending
into archives inside archives. A notebook is JSON, so each secret is also searched
for as a JSON string would spell it, and a comment line also without its ``#``
(jupytext turns a ``# text`` line of a Markdown cell into ``text``).

Every file is also searched for anything that looks like a solution marker, exact or
misspelt (:func:`coursetools.markers.looks_like_marker`): the comments of a Python file,
any line holding a ``#`` elsewhere. A marker the generator did not recognise leaves its
block in place, so its mere presence is a leak. Files inside a wheel are exempt: a
course ships wheels of its solution tiers only, and they keep their markers.

Command line::

    python -m coursetools.leaks TIER ARTEFACT [ARTEFACT ...]

``TIER`` is a tier name (``foundation``) or directory; exit status 1 if anything leaks.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tarfile
import tokenize
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from coursetools import markers
from coursetools.tiers import Tier, resolve_tier

MIN_LENGTH = 12
_TRIVIAL = re.compile(r"pass|continue|break|else:|try:|finally:|return(?: [\w.]+)?|[\s()\[\]{},:]*")
_ARCHIVES = (".zip", ".whl", ".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class Secret:
    """One line of a solution block, as it reads in the source."""

    text: str
    path: Path
    line: int
    block: markers.Block
    forms: tuple[str, ...]  # the line, and a comment line's text without its ``#``

    def spellings(self) -> set[str]:
        """The forms in which this line would show up in an artefact file, JSON included."""
        spelled = set(self.forms)
        for form in self.forms:
            spelled.add(json.dumps(form)[1:-1])
            spelled.add(json.dumps(form, ensure_ascii=False)[1:-1])
        return spelled


@dataclass(frozen=True)
class Leak:
    """A secret found in one file of an artefact."""

    artefact_file: str
    secret: Secret

    def __str__(self) -> str:
        return (
            f"{self.artefact_file}: contains {self.secret.text!r} "
            f"(line {self.secret.line} of the solution block at {self.secret.block.location})"
        )


def is_trivial(text: str) -> bool:
    """Too short or too common to say anything about a solution."""
    return len(text) < MIN_LENGTH or _TRIVIAL.fullmatch(text) is not None


def tier_sources(tier: Tier) -> list[Path]:
    """Every file of the tier that a student artefact is made from."""
    files = [p for p in sorted(tier.root.glob("*")) if p.is_file()]
    for folder in (tier.src, tier.tests, tier.lessons):
        files += [
            p for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
        ]
    return files


def tier_secrets(tier: Tier, public_texts: Iterable[str] = ()) -> list[Secret]:
    """The lines of the tier's solution blocks that must not appear in a student artefact.

    ``public_texts`` are files shipped beside the tier's own (the course's grader,
    milestones, runner): like the tier's public lines, what they show is no secret.
    """
    solution_lines: list[tuple[str, Path, int, markers.Block]] = []
    public: list[str] = list(public_texts)
    for path in tier_sources(tier):
        if path.suffix != ".py":
            public.append(path.read_bytes().decode("utf-8", errors="replace"))
            continue
        parsed = markers.parse(path)
        hidden = {line for block in parsed.solutions for line in block.body}
        public += [line for n, line in enumerate(parsed.lines, start=1) if n not in hidden]
        for block in parsed.solutions:
            solution_lines += [(parsed.lines[n - 1].strip(), path, n, block) for n in block.body]
    public_text = "".join(public)
    secrets = []
    for text, path, line, block in solution_lines:
        forms = tuple(form for form in _forms(text) if form not in public_text)
        if forms:
            secrets.append(Secret(text, path, line, block, forms))
    return secrets


def _forms(text: str) -> list[str]:
    """The non-trivial forms of a solution line: itself, and a comment without its ``#``."""
    forms = [text]
    if text.startswith("#"):
        forms.append(text.lstrip("#").strip())
    return [form for form in forms if not is_trivial(form)]


@dataclass(frozen=True)
class MarkerLeak:
    """A line of an artefact file that looks like a solution marker."""

    artefact_file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.artefact_file}:{self.line}: looks like a solution marker: {self.text!r}"


def find_leaks(artefact: Path, secrets: list[Secret]) -> list[Leak | MarkerLeak]:
    """Every (file, secret) pair where a file of ``artefact`` contains a secret, and every
    line that looks like a solution marker."""
    spelled = [(secret, secret.spellings()) for secret in secrets]
    leaks: list[Leak | MarkerLeak] = []
    for name, data in _members(artefact, str(artefact)):
        text = data.decode("utf-8", errors="replace")
        leaks += [
            Leak(name, secret) for secret, forms in spelled if any(form in text for form in forms)
        ]
        if ".whl!" not in name:  # wheels are built from solution tiers, markers and all
            leaks += [MarkerLeak(name, n, line.strip()) for n, line in _marker_lines(name, text)]
    return leaks


def _marker_lines(name: str, text: str) -> list[tuple[int, str]]:
    """(line, text) of each comment of a Python file, or line with a ``#`` of any other
    file, that looks like a marker. Marker text inside a docstring is not a marker."""
    comments = None
    if name.endswith(".py"):
        try:
            tokens = tokenize.generate_tokens(io.StringIO(text).readline)
            comments = [(t.start[0], t.string) for t in tokens if t.type == tokenize.COMMENT]
        except (tokenize.TokenError, SyntaxError):
            comments = None  # not Python after all: read it as text
    if comments is None:
        lines = enumerate(text.splitlines(), start=1)
        comments = [(n, line[line.index("#") :]) for n, line in lines if "#" in line]
    return [(n, comment) for n, comment in comments if markers.looks_like_marker(comment)]


def _is_archive(name: str) -> bool:
    return name.endswith(_ARCHIVES)


def _members(artefact: Path, label: str) -> Iterator[tuple[str, bytes]]:
    """(name, content) of every file in a directory or archive, descending into archives."""
    if artefact.is_dir():
        for path in sorted(artefact.rglob("*")):
            relative = path.relative_to(artefact)
            if path.is_file() and ".git" not in relative.parts:
                yield from _expand(f"{label}/{relative.as_posix()}", path.read_bytes())
    else:
        yield from _expand(label, artefact.read_bytes())


def _expand(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    if not _is_archive(name):
        yield name, data
    elif name.endswith((".zip", ".whl")):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield from _expand(f"{name}!{info.filename}", archive.read(info))
    else:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                extracted = archive.extractfile(member) if member.isfile() else None
                if extracted is not None:
                    yield from _expand(f"{name}!{member.name}", extracted.read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.leaks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("tier", help="tier name (foundation, arch, opt) or tier directory")
    parser.add_argument(
        "artefacts", nargs="+", type=Path, help="directory, .zip, .whl or .tar.gz to search"
    )
    args = parser.parse_args(argv)
    secrets = tier_secrets(resolve_tier(args.tier))
    leaks = [leak for artefact in args.artefacts for leak in find_leaks(artefact, secrets)]
    for leak in leaks:
        print(f"LEAK {leak}")
    checked = ", ".join(str(a) for a in args.artefacts)
    print(f"{len(leaks)} leak(s) of {len(secrets)} solution lines in {checked}")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
