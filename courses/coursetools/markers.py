"""Solution and hidden-test blocks: find them, check them, strip them.

The tiers mark what a learner writes with nbgrader's markers, each alone on its line::

    def memory_footprint(self) -> int:
        \"\"\"Bytes held by this tensor's data.\"\"\"
        ### BEGIN SOLUTION
        return self.data.nbytes
        ### END SOLUTION

Stripping turns that block into one line at the markers' indentation::

        raise NotImplementedError("Module 01 (Tensor): implement Tensor.memory_footprint — see ...")

The rules, which ``tests/courses/test_markers.py`` pins down:

* A marker is a comment that is the only thing on its line: ``### BEGIN SOLUTION``,
  ``### END SOLUTION``, ``### BEGIN HIDDEN TESTS``, ``### END HIDDEN TESTS``. In a
  lesson's Markdown cell (jupytext writes every Markdown line as a comment) the same
  marker reads ``# ### BEGIN SOLUTION``.
* Text inside a string literal is never a marker: ``tokenize`` tells real comments
  from docstrings that merely show the syntax.
* A solution block that holds code becomes ``raise NotImplementedError(...)`` naming the
  module, the enclosing function (``Class.method``; nested functions as
  ``outer.inner``) and the lesson. A block that holds only comments (a worked answer
  to a Reflect question) becomes ``# YOUR ANSWER HERE``.
* A hidden-test block disappears, markers and all.
* Malformed markers are errors with ``file:line``: BEGIN without END, END without
  BEGIN, a BEGIN inside an open block, an END of the other kind, BEGIN and END at
  different indentation (or a body line left of them), a marker sharing its line
  with code, and any comment that looks like a marker without being exactly one
  (``### begin solution``, ``###  BEGIN SOLUTION``, ``### BEGIN SOLUTON``: see
  :func:`looks_like_marker`). A near miss never ships a solution silently.
* Line endings are kept (a CRLF file stays CRLF), and the output depends on the
  input alone.
"""

from __future__ import annotations

import ast
import difflib
import functools
import io
import json
import re
import tokenize
from dataclasses import dataclass, replace
from pathlib import Path

from coursetools.tiers import module_header

SOLUTION = "SOLUTION"
HIDDEN_TESTS = "HIDDEN TESTS"
ANSWER_PLACEHOLDER = "# YOUR ANSWER HERE"

_MARKER = re.compile(r"(?:# )?### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*")
_HEADER_HINT = "'Module NN · Name — ...' line to name it by"
#: The markers' words, lower case, without spaces or punctuation.
_MARKER_LETTERS = ("beginsolution", "endsolution", "beginhiddentests", "endhiddentests")
_NEAR_MISS = 0.85  # difflib similarity from which a comment counts as meant to be a marker
_LAYOUT = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
_NOT_CODE = _LAYOUT | {tokenize.COMMENT}


class MarkerError(ValueError):
    """One or more files whose markers cannot be trusted; each problem reads ``file:line: what``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems

    @classmethod
    def at(cls, path: Path, line: int, message: str) -> MarkerError:
        return cls([f"{path}:{line}: {message}"])


@dataclass(frozen=True)
class Block:
    """One marked block: its markers' lines (1-based, inclusive) and what surrounds it."""

    path: Path
    kind: str
    begin: int
    end: int
    indent: str
    qualname: str | None
    comment_only: bool

    @property
    def location(self) -> str:
        return f"{self.path}:{self.begin}"

    @property
    def body(self) -> range:
        """Line numbers between the two markers."""
        return range(self.begin + 1, self.end)


@dataclass(frozen=True)
class Module:
    """The curriculum module a file belongs to, from its ``Module NN · Name — ...`` line."""

    number: int
    name: str


@dataclass(frozen=True)
class ParsedFile:
    """A source file split into lines (endings kept) with its marked blocks."""

    path: Path
    lines: tuple[str, ...]
    blocks: tuple[Block, ...]
    module: Module | None

    @property
    def solutions(self) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.kind == SOLUTION)


def parse(path: Path, text: str | None = None) -> ParsedFile:
    """Read ``path`` (or parse ``text`` as if it were that file) and find its blocks.

    Raises :class:`MarkerError` for a file whose markers are malformed or that is not
    valid Python, checked in that order: a misplaced marker often breaks the syntax
    too, and the marker is what needs fixing.
    """
    if text is None:
        text = path.read_bytes().decode("utf-8")
    return _parse(path, text)


@functools.lru_cache(maxsize=1024)
def _parse(path: Path, text: str) -> ParsedFile:
    """:func:`parse`, remembered per path and text: building a bundle reads each tier file
    several times (student tree, answer keys, leak check), and a ParsedFile is immutable.
    A file that fails raises every time (exceptions are not remembered)."""
    lines = tuple(io.StringIO(text, newline="").readlines())
    found = _find_blocks(path, lines, _tokens(path, text))
    tree = _syntax_tree(path, text)
    blocks = [replace(block, qualname=_qualname_at(tree, block.begin)) for block in found]
    module = _module_of(lines)
    if module is None and any(b.kind == SOLUTION and not b.comment_only for b in blocks):
        first = next(b for b in blocks if b.kind == SOLUTION and not b.comment_only)
        raise MarkerError.at(path, first.begin, f"solution block in a file with no {_HEADER_HINT}")
    return ParsedFile(path=path, lines=lines, blocks=tuple(blocks), module=module)


def strip(parsed: ParsedFile, lesson: str | None = None) -> str:
    """The learner's version of a parsed file: solutions stubbed, hidden tests gone.

    ``lesson`` is the path the stubs point learners to (``lessons/01_tensor.py``).
    """
    starts = {block.begin: block for block in parsed.blocks}
    out: list[str] = []
    line_no = 1
    while line_no <= len(parsed.lines):
        block = starts.get(line_no)
        if block is None:
            out.append(parsed.lines[line_no - 1])
            line_no += 1
            continue
        if block.kind == SOLUTION:
            newline = _ending(parsed.lines[block.begin - 1])
            out.append(block.indent + _stub(block, parsed.module, lesson) + newline)
        line_no = block.end + 1
    return "".join(out)


def stub_message(block: Block, module: Module, lesson: str | None) -> str:
    """What a learner reads when they call code they have not written yet."""
    target = block.qualname or "this exercise"
    message = f"Module {module.number:02d} ({module.name}): implement {target}"
    return f"{message} — see {lesson}" if lesson else message


def _stub(block: Block, module: Module | None, lesson: str | None) -> str:
    if block.comment_only:
        return ANSWER_PLACEHOLDER
    assert module is not None  # parse() refused code blocks without a module
    message = json.dumps(stub_message(block, module, lesson), ensure_ascii=False)
    return f"raise NotImplementedError({message})"


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :] or "\n"


def _tokens(path: Path, text: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text, newline="").readline))
    except (tokenize.TokenError, SyntaxError) as error:
        _syntax_tree(path, text)  # the parser says precisely what is wrong, and where
        line = getattr(error, "lineno", None) or error.args[1][0]
        raise MarkerError.at(path, line, f"cannot tokenize: {error.args[0]}") from None


def _syntax_tree(path: Path, text: str) -> ast.Module:
    try:
        return ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise MarkerError.at(path, error.lineno, f"not valid Python: {error.msg}") from None


def _module_of(lines: tuple[str, ...]) -> Module | None:
    header = module_header(lines)
    return Module(*header) if header else None


@dataclass(frozen=True)
class _Marker:
    line: int
    edge: str  # BEGIN or END
    kind: str
    indent: str


def _markers(path: Path, lines: tuple[str, ...], tokens: list[tokenize.TokenInfo]) -> list[_Marker]:
    """The real marker comments, in order; misspelt or misplaced ones are errors."""
    first_token_col: dict[int, int] = {}
    for token in tokens:
        first_token_col.setdefault(token.start[0], token.start[1])
    found = []
    for token in tokens:
        if token.type != tokenize.COMMENT or not looks_like_marker(token.string):
            continue
        line, col = token.start
        match = _MARKER.fullmatch(token.string)
        if match is None:
            raise MarkerError.at(path, line, f"malformed marker {token.string.strip()!r}")
        if first_token_col[line] != col:
            raise MarkerError.at(path, line, "marker must be alone on its line")
        found.append(_Marker(line, match.group(1), match.group(2), lines[line - 1][:col]))
    return found


def looks_like_marker(comment: str) -> bool:
    """Whether a comment reads like a marker, whatever its case, spacing, punctuation or a typo.

    Its letters are compared with the markers' letters: ``### begin solution``,
    ``#  ###  BEGIN SOLUTION``, ``### BEGIN-SOLUTION`` and ``### BEGIN SOLUTON`` all
    look like ``### BEGIN SOLUTION``; ``# begin with the solution of ...`` does not.
    """
    return _reads_like_a_marker(re.sub(r"[^a-z]", "", comment.lower()))


@functools.lru_cache(maxsize=4096)
def _reads_like_a_marker(letters: str) -> bool:
    """``looks_like_marker`` on a comment's letters; remembered, since comments repeat
    (every file of every tier and bundle is parsed several times)."""
    for marker in _MARKER_LETTERS:
        for size in (len(marker) - 1, len(marker), len(marker) + 1):
            matcher = difflib.SequenceMatcher(None, letters[:size], marker)
            # The two quick ratios are upper bounds of ratio() (difflib's own idiom in
            # get_close_matches): most comments fail them without the full comparison.
            if (
                matcher.real_quick_ratio() >= _NEAR_MISS
                and matcher.quick_ratio() >= _NEAR_MISS
                and matcher.ratio() >= _NEAR_MISS
            ):
                return True
    return False


def _find_blocks(
    path: Path, lines: tuple[str, ...], tokens: list[tokenize.TokenInfo]
) -> list[Block]:
    """The blocks in order (``qualname`` not yet filled in); malformed markers are errors."""
    blocks = []
    open_marker: _Marker | None = None
    for marker in _markers(path, lines, tokens):
        opened = (
            f"the {open_marker.kind} block opened at line {open_marker.line}" if open_marker else ""
        )
        if marker.edge == "BEGIN":
            if open_marker is not None:
                raise MarkerError.at(path, marker.line, f"BEGIN {marker.kind} inside {opened}")
            open_marker = marker
            continue
        if open_marker is None:
            raise MarkerError.at(
                path, marker.line, f"END {marker.kind} without a BEGIN {marker.kind}"
            )
        if marker.kind != open_marker.kind:
            raise MarkerError.at(path, marker.line, f"END {marker.kind} closes {opened}")
        if marker.indent != open_marker.indent:
            raise MarkerError.at(
                path, marker.line, f"END {marker.kind} is not indented like {opened}"
            )
        blocks.append(_block(path, lines, tokens, open_marker, marker.line))
        open_marker = None
    if open_marker is not None:
        raise MarkerError.at(path, open_marker.line, f"BEGIN {open_marker.kind} is never closed")
    return blocks


def _block(
    path: Path,
    lines: tuple[str, ...],
    tokens: list[tokenize.TokenInfo],
    begin: _Marker,
    end: int,
) -> Block:
    inside = [t for t in tokens if begin.line < t.start[0] < end]
    for token in inside:
        if token.type in _LAYOUT:
            continue
        line, col = token.start
        leading = lines[line - 1][:col]
        if not leading.strip() and not leading.startswith(begin.indent):
            raise MarkerError.at(
                path, line, f"line is left of the markers of the block opened at line {begin.line}"
            )
    return Block(
        path=path,
        kind=begin.kind,
        begin=begin.line,
        end=end,
        indent=begin.indent,
        qualname=None,
        comment_only=all(t.type in _NOT_CODE for t in inside),
    )


def _qualname_at(tree: ast.Module, line: int) -> str | None:
    """Dotted name of the innermost function or class around ``line`` (``Linear.forward``)."""
    names: list[str] = []
    scope: ast.AST = tree
    while True:
        inner = next(
            (
                node
                for node in ast.iter_child_nodes(scope)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and node.lineno <= line <= (node.end_lineno or node.lineno)
            ),
            None,
        )
        if inner is None:
            inner = _statement_containing(scope, line)
            if inner is None:
                return ".".join(names) or None
            scope = inner
            continue
        names.append(inner.name)
        scope = inner


def _statement_containing(scope: ast.AST, line: int) -> ast.AST | None:
    """A compound statement (``if``, ``for``, ``with``...) of ``scope`` that spans ``line``."""
    for node in ast.iter_child_nodes(scope):
        if isinstance(node, ast.stmt) and node.lineno < line <= (node.end_lineno or node.lineno):
            return node
    return None
