"""Sessions of this TinyTorch course bundle (written by the course tooling; do not edit).

    nox -s test                     every tier's tests: your trees, and the trusted wheels
    nox -s test -- foundation       one tier; pytest options may follow (-k tensor --tb=short)
    nox -s grade                    grade your trees: reports/grade.md, reports/grade.json
    nox -s milestone                the course's historical milestones (-- 3 for one)

Where the TinyTorch tiers come from: solution tiers from the wheels in ``wheels/``
(checked against the sha256 in ``bundle.lock.json`` first), your trees as editable
installs of the folders in this bundle, always with ``--no-index``: never from a
package index. Third-party packages (numpy, pytest, ...) come from your usual index.
"""

from __future__ import annotations

import hashlib
import json
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import nox

HERE = Path(__file__).resolve().parent
LOCK = json.loads((HERE / "bundle.lock.json").read_text(encoding="utf-8"))
TIERS = LOCK["tiers"]  # lowest first
REPORTS = HERE / "reports"
WHEELS = HERE / "wheels"
#: How TinyTorch tiers are installed: from this bundle, never from an index.
LOCAL = ["--no-index", *(["--find-links", str(WHEELS)] if WHEELS.is_dir() else [])]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = ["test"]
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


def verify_wheels(session: nox.Session) -> None:
    """Every bundled wheel is byte for byte the one the lock names."""
    for tier in TIERS:
        wheel = tier.get("wheel")
        if not wheel:
            continue
        path = HERE / wheel["file"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
        if digest != wheel["sha256"]:
            session.error(
                f"{wheel['file']}: sha256 {digest} differs from the lock's {wheel['sha256']}"
            )


def install(session: nox.Session, *extra: str) -> None:
    """Third-party packages from the index, then the tiers from this bundle only."""
    verify_wheels(session)
    requirements = LOCK["requirements"]
    session.install(*requirements["third_party"], *requirements["tools"], *extra)
    wheels = [str(HERE / tier["wheel"]["file"]) for tier in TIERS if tier["mode"] == "solution"]
    if wheels:
        session.install(*LOCAL, *wheels)
    for tier in TIERS:
        if tier["mode"] != "solution":
            session.install(*LOCAL, "--no-build-isolation", "-e", str(HERE / tier["tree"]))
    session.run("python", str(HERE / "grading" / "check_install.py"))


def _split(posargs: list[str]) -> tuple[list[dict], list[str]]:
    names = {tier["tier"] for tier in TIERS}
    chosen = [arg for arg in posargs if arg in names]
    rest = [arg for arg in posargs if arg not in names]
    return [tier for tier in TIERS if not chosen or tier["tier"] in chosen], rest


def _summary(junit: Path) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "skipped": 0, "not_implemented": 0}
    if not junit.is_file():
        return counts
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        problem = case.find("failure")
        problem = problem if problem is not None else case.find("error")
        if problem is not None:
            counts["failed"] += 1
            text = (problem.get("message") or "") + (problem.text or "")
            counts["not_implemented"] += "NotImplementedError" in text
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


@nox.session
def test(session: nox.Session) -> None:
    """Each tier's tests: ``nox -s test [-- TIER ...] [pytest options]``."""
    tiers, pytest_args = _split(session.posargs)
    install(session)
    REPORTS.mkdir(exist_ok=True)
    results = {}
    for tier in tiers:
        if tier["mode"] == "solution":
            root, tests = HERE / tier["tests"], HERE / tier["tests"]
            config = []
        else:
            root, tests = HERE / tier["tree"], HERE / tier["tree"] / "tests"
            config = [f"--config-file={root / 'pyproject.toml'}"]
        junit = REPORTS / f"test-{tier['tier']}.xml"
        junit.unlink(missing_ok=True)
        session.chdir(root)
        session.run(
            "python",
            "-m",
            "pytest",
            str(tests),
            "-q",
            "--tb=line",
            "-p",
            "no:cacheprovider",
            f"--rootdir={root}",
            *config,
            f"--junitxml={junit}",
            *pytest_args,
            success_codes=[0, 1, 5],
        )
        results[tier["tier"]] = {"mode": tier["mode"], **_summary(junit)}
    session.chdir(HERE)
    (REPORTS / "tests.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    session.log("summary (reports/tests.json):")
    for name, r in results.items():
        unwritten = f", {r['not_implemented']} not written yet" if r["not_implemented"] else ""
        session.log(
            f"  {name:<11} {r['mode']:<9} {r['passed']} passed, {r['failed']} failed"
            f"{unwritten}, {r['skipped']} skipped"
        )
    failing = [name for name, r in results.items() if r["failed"]]
    if failing:
        session.error(f"tests fail in: {', '.join(failing)}")


@nox.session
def grade(session: nox.Session) -> None:
    """Grade your trees, lowest tier first: reports/grade.md and reports/grade.json."""
    install(session, "tomli; python_version < '3.11'")
    trees = [str(HERE / tier["tree"]) for tier in TIERS if tier["mode"] != "solution"]
    if not trees:
        session.skip("this course has no tree of yours to grade")
    session.run(
        "python",
        "-m",
        "coursetools.classroom",
        *trees,
        "--out",
        str(REPORTS),
        env={"PYTHONPATH": str(HERE / "grading")},
    )


@nox.session
def milestone(session: nox.Session) -> None:
    """The course's milestones (``-- 3`` for one); they train on your code and the wheels."""
    install(session, *LOCK["requirements"]["milestone"])
    numbers = session.posargs or [str(m["number"]) for m in LOCK["milestones"]]
    if not numbers:
        session.skip("this course ships no milestones")
    session.run("python", str(HERE / "milestones" / "run.py"), *numbers)
