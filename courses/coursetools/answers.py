"""Answer keys: what each graded check must return, recorded from the solution.

:func:`record` runs every graded check of a tier (``courses/checks/<tier>/``, see
:mod:`coursetools.grading`) twice in the sandbox:

* on the solution: every check must return a value, and that value is its answer;
* on the untouched student tree: no check may match its answer there. A check that
  passes on the stubs grades code the learner was given, and the untouched tree must
  score exactly 0 — such a check is an error, named with its file and function.

A key holds, per tier, everything grading needs and nothing a learner has: the checks'
source, the answers, the solution's time per check (the basis of each check's time
limit), the subpackages and module names, the entry-point metadata of the tier and the
tiers below, and a fingerprint of the files it was recorded from.

Keys stay with the instructor. In the monorepo they live in ``build/answers/`` and are
recorded again whenever the fingerprint changes (:func:`for_tier`); ``nox -s bundle``
writes ``<bundle>.answers.json`` next to each bundle, never into it. Key files are
written with mode 0600 (their folder 0700) and never enter a worker, a student tree or
a bundle: the worker gets the checks' source and nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from coursetools import grading, student
from coursetools.files import write_atomic
from coursetools.points import module_spec
from coursetools.tiers import COURSES_DIR, REPO_ROOT, Tier, lower_tiers

FORMAT = 1
CHECKS_DIR = COURSES_DIR / "checks"
KEYS_DIR = REPO_ROOT / "build" / "answers"


class AnswerKeyError(grading.GradingError):
    """A key cannot be recorded (a check fails on the solution or passes on the stubs) or read."""


@dataclass(frozen=True)
class TierKey:
    """The answer key of one tier."""

    project: str
    version: str
    fingerprint: str
    subpackages: list[str]
    modules: dict[int, str]  # number -> name
    metadata: list[dict]  # project, version and entry points of the tier and the tiers below
    sources: dict[str, str]  # check file -> source
    answers: dict[str, object]  # check id -> the value the solution returned
    seconds: dict[str, float]  # check id -> how long the solution took

    def metadata_tiers(self) -> list[Tier]:
        """The tiers as :func:`coursetools.tiers.write_metadata_shim` wants them."""
        return [
            Tier(Path(), m["project"], m["version"], (), m["entry_points"]) for m in self.metadata
        ]

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["modules"] = {f"{n:02d}": name for n, name in self.modules.items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> TierKey:
        try:
            key = cls(**{**data, "modules": {int(n): name for n, name in data["modules"].items()}})
        except (TypeError, KeyError, ValueError, AttributeError) as error:
            raise AnswerKeyError(f"not an answer key of a tier: {error}") from None
        known = {c.id for c in grading.find_checks(key.sources)}
        strays = [i for i in key.answers if i not in known or i not in key.seconds]
        if strays or not key.answers:
            raise AnswerKeyError(f"the key of {key.project} does not match its checks: {strays}")
        return key

    def checks(self) -> list[grading.Check]:
        """The graded checks of this key, in module then source order."""
        return [c for c in grading.find_checks(self.sources) if c.id in self.answers]


def checks_folder(tier: Tier) -> Path:
    """Where the graded checks of ``tier`` live: ``courses/checks/<tier>/``."""
    return CHECKS_DIR / tier.name


def fingerprint(tier: Tier, lower: list[Tier], sources: dict[str, str]) -> str:
    """sha256 over the check files and the source files of the tier and the tiers below."""
    digest = hashlib.sha256(f"answer key {FORMAT}\n".encode())
    for name, text in sorted(sources.items()):
        digest.update(f"{name}\n{text}\n".encode())
    for one in [tier, *lower]:
        for path in sorted(one.src.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{one.project}/{path.relative_to(one.src).as_posix()}\n".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def record(
    tier: Tier,
    lower: list[Tier],
    checks_dir: Path | None = None,
    start: dict[str, bytes] | None = None,
) -> TierKey:
    """Record the answer key of ``tier`` from its solution; ``lower`` are the tiers below it.

    ``start`` holds the files of the tree learners start from when it is not the student
    tree (a debug tree: the solution with bugs planted). A check that passes on the
    student tree is an error; on a debug tree it only means the bugs leave it alone, so
    it is left out of the key and only what the bugs break is graded.
    """
    sources = grading.check_sources(checks_dir or checks_folder(tier))
    checks = grading.find_checks(sources)
    if not checks:
        raise AnswerKeyError(
            f"no graded checks for {tier.project} in {checks_dir or checks_folder(tier)}"
        )
    limits = {c.id: module_spec(c.module).timeout for c in checks}

    def run(src: Path) -> list:
        return grading.run_checks(
            checks,
            src,
            sources,
            preload=tier.subpackages(),
            metadata=[tier, *lower],
            lower=[t.src for t in lower],
            seconds=limits,
            trusted=True,
        )

    solved = run(tier.src)
    broken = [
        f"{c.id}: {o.status}: {o.message}" for c, o in zip(checks, solved) if o.status != "ok"
    ]
    if broken:
        raise AnswerKeyError(
            f"checks of {tier.project} fail on the solution:\n" + "\n".join(broken)
        )
    with _start_src(tier, start) as src:
        untouched = run(src)
    free = {
        c.id
        for c, answer, o in zip(checks, solved, untouched)
        if o.status == "ok" and not grading.mismatch(answer.value, o.value)
    }
    if free and start is None:
        raise AnswerKeyError(
            f"checks of {tier.project} pass on the untouched student tree, so they grade code "
            "the learner was given (an untouched tree must score 0):\n" + "\n".join(sorted(free))
        )
    graded = [(c, o) for c, o in zip(checks, solved) if c.id not in free]
    if not graded:
        raise AnswerKeyError(f"no check of {tier.project} notices what the learners must change")
    names = tier.module_names()
    return TierKey(
        project=tier.project,
        version=tier.version,
        fingerprint=fingerprint(tier, lower, sources),
        subpackages=tier.subpackages(),
        modules={
            n: names.get(n) or module_spec(n).name for n in sorted({c.module for c, _ in graded})
        },
        metadata=[
            {"project": t.project, "version": t.version, "entry_points": t.entry_points}
            for t in [tier, *lower]
        ],
        sources=sources,
        answers={c.id: o.value for c, o in graded},
        seconds={c.id: o.seconds for c, o in graded},
    )


@contextlib.contextmanager
def _start_src(tier: Tier, start: dict[str, bytes] | None) -> Iterator[Path]:
    """A temporary ``src`` folder as learners get it (default: the student tree's stubs)."""
    files = student.student_files(tier) if start is None else start
    with tempfile.TemporaryDirectory(prefix="coursetools-start-") as scratch:
        root = Path(scratch)
        for relative, content in files.items():
            if relative.startswith("src/"):
                (root / relative).parent.mkdir(parents=True, exist_ok=True)
                (root / relative).write_bytes(content)
        yield root / "src"


def save(keys: list[TierKey], path: Path) -> Path:
    """Write the keys to ``path`` (mode 0600, in a folder of mode 0700), atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    payload = {"format": FORMAT, "tiers": {k.project: k.to_json() for k in keys}}
    write_atomic(path, json.dumps(payload, indent=1, ensure_ascii=False) + "\n", permissions=0o600)
    return path


def load(path: Path) -> dict[str, TierKey]:
    """Project -> key, from a key file written by :func:`save`."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AnswerKeyError(f"cannot read the answer key {path}: {error}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise AnswerKeyError(f"{path} is not an answer key of format {FORMAT}")
    return {project: TierKey.from_json(data) for project, data in payload["tiers"].items()}


def for_tier(
    tier: Tier,
    lower: list[Tier] | None = None,
    checks_dir: Path | None = None,
    keys_dir: Path = KEYS_DIR,
) -> TierKey:
    """The key of a tier of the monorepo: reused from ``keys_dir`` while still current."""
    lower = lower_tiers(tier) if lower is None else lower
    checks_dir = checks_dir or checks_folder(tier)
    path = keys_dir / f"{tier.project}.json"
    if path.is_file():
        cached = load(path).get(tier.project)
        current = fingerprint(tier, lower, grading.check_sources(checks_dir))
        if cached is not None and cached.fingerprint == current:
            return cached
    key = record(tier, lower, checks_dir)
    save([key], path)
    return key
