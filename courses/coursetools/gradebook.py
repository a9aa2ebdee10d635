"""Grade a folder of learner submissions into one gradebook (CSV and JSON).

``nox -s grade-batch -- DIR`` grades every submission in ``DIR``: a student tree
(a folder with ``pyproject.toml``), a course bundle (a folder with ``bundle.lock.json``,
whose trees are graded in tier order), a folder holding one of those, or a ``.zip`` of
any of them (extracted with :func:`coursetools.bundle.safe_extract`, which refuses
entries with ``..`` or absolute paths: such a submission is recorded as refused).

Each tree is graded in its own process (``python -m coursetools.grade``), several at
once (``--jobs``, default the number of cores), each with a wall-clock limit
(``--time-limit``, default 1800 s) on top of the grader's own per-test limit. A
submission that overruns is killed with everything it started and recorded as
``timeout``; one that crashes the grader is recorded as ``error``: one bad submission
never stops the batch.

By default learners' code is graded with the course's own tests (the tier's tests in
this monorepo, hidden tests included) and the trusted solution tiers below it, not
with whatever tests the learner's tree carries; ``--learner-tests`` uses the trees'
own tests instead.

Output (``--out``, default ``build/grades``): ``gradebook.csv`` (one row per graded
tree: submission, tier, status, points, max points, the points of each module, the
first failure or what went wrong) and ``gradebook.json`` (the same rows with each
tree's full report), both written atomically.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from coursetools.bundle import BundleError, safe_extract
from coursetools.tiers import COURSES_DIR, PACKAGES_DIR, REPO_ROOT, Tier

DEFAULT_TIME_LIMIT = 1800.0
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Job:
    submission: str
    tree: Path | None
    problem: str = ""  # set when the submission cannot be graded at all


@dataclass
class Row:
    submission: str
    tier: str = ""
    project: str = ""
    version: str = ""
    status: str = "graded"  # graded, timeout, error, refused
    points: float = 0.0
    max_points: int = 0
    modules: dict[str, float] = field(default_factory=dict)
    detail: str = ""
    seconds: float = 0.0
    report: dict | None = None


def find_trees(folder: Path) -> list[Path]:
    """The learner trees of one submission folder, lowest tier first."""
    lock = folder / "bundle.lock.json"
    if lock.is_file():
        tiers = json.loads(lock.read_text(encoding="utf-8"))["tiers"]
        return [folder / t["tree"] for t in tiers if "tree" in t]
    if (folder / "pyproject.toml").is_file():
        return [folder]
    children = [c for c in sorted(folder.iterdir()) if c.is_dir() and not c.name.startswith(".")]
    if len(children) == 1:  # a zip or clone with one top folder
        return find_trees(children[0])
    return []


def collect(folder: Path, scratch: Path) -> list[Job]:
    """One job per tree of every submission in ``folder`` (zips extracted into ``scratch``)."""
    jobs = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        name = entry.stem if entry.suffix == ".zip" else entry.name
        if entry.is_file() and entry.suffix != ".zip":
            continue
        if entry.suffix == ".zip":
            try:
                root = safe_extract(entry, scratch / name)
            except (BundleError, OSError, ValueError) as error:
                jobs.append(Job(name, None, f"refused: {error}"))
                continue
        else:
            root = entry
        trees = find_trees(root)
        if not trees:
            jobs.append(Job(name, None, "refused: no student tree (pyproject.toml) found"))
        jobs += [Job(name, tree) for tree in trees]
    return jobs


def grade_job(
    job: Job,
    out: Path,
    time_limit: float,
    learner_tests: bool,
    test_timeout: float | None,
    packages_dir: Path = PACKAGES_DIR,
) -> Row:
    """Grade one tree in its own process under a wall-clock limit."""
    if job.tree is None:
        return Row(job.submission, status="refused", detail=job.problem)
    try:
        tier = Tier.load(job.tree)
    except (FileNotFoundError, KeyError, ValueError) as error:
        return Row(job.submission, status="refused", detail=f"not a tier tree: {error}")
    row = Row(job.submission, tier.name, tier.project, tier.version)
    report_file = out / "reports" / f"{_safe(job.submission)}-{tier.name}.json"
    report_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "coursetools.grade", str(job.tree), "--json", str(report_file)]
    course_tests = packages_dir / tier.project / "tests"
    if not learner_tests:
        if not course_tests.is_dir():
            row.status, row.detail = (
                "refused",
                f"no course tests for {tier.project} in {packages_dir}",
            )
            return row
        command += ["--tests", str(course_tests)]
    if test_timeout:
        command += ["--timeout", str(test_timeout)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(COURSES_DIR), os.environ.get("PYTHONPATH")])
        ),
    }
    started = time.monotonic()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command,
            cwd=job.tree,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = _wait(process, time_limit)
        output.seek(0)
        printed = output.read().decode("utf-8", errors="replace").strip()
    row.seconds = round(time.monotonic() - started, 1)
    if timed_out:
        row.status, row.detail = "timeout", f"grading took over {time_limit:g} s and was stopped"
        return row
    if process.returncode != 0 or not report_file.is_file():
        row.status = "refused" if process.returncode == 2 else "error"
        row.detail = printed.splitlines()[-1] if printed else f"exit code {process.returncode}"
        return row
    report = json.loads(report_file.read_text(encoding="utf-8"))
    row.report = report
    row.points, row.max_points = report["points"], report["max_points"]
    row.modules = {f"{m['module']:02d}": m["points"] for m in report["modules"]}
    row.detail = next((m["first_failure"] for m in report["modules"] if m["first_failure"]), "")
    return row


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _wait(process: subprocess.Popen, limit: float) -> bool:
    """Wait for ``process``; past ``limit`` seconds kill it and all it started. True if killed."""
    deadline = time.monotonic() + limit
    while process.poll() is None:
        if time.monotonic() > deadline:
            for pid in [*_descendants(process.pid), process.pid]:
                _kill(pid)
            process.wait()
            return True
        time.sleep(_POLL_SECONDS)
    return False


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, deepest first. The grader starts each pytest run in a
    session of its own, so killing the grader's process group would miss them."""
    children: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat_file.parent.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found[::-1]


def _kill(pid: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(pid, signal.SIGKILL)  # sessions the grader started lead their own group
        else:  # pragma: no cover - Windows
            os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            pass


def grade_batch(
    folder: Path | str,
    out: Path | str,
    jobs: int | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    learner_tests: bool = False,
    test_timeout: float | None = None,
    packages_dir: Path = PACKAGES_DIR,
) -> list[Row]:
    """Grade every submission of ``folder``; write the gradebook into ``out``; return its rows."""
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of submissions")
    (out / "reports").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="coursetools-batch-") as scratch:
        work = collect(folder, Path(scratch))
        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            rows = list(
                pool.map(
                    lambda job: grade_job(
                        job, out, time_limit, learner_tests, test_timeout, packages_dir
                    ),
                    work,
                )
            )
    write_gradebook(rows, out)
    return rows


def write_gradebook(rows: list[Row], out: Path) -> None:
    modules = sorted({m for row in rows for m in row.modules})
    columns = ["submission", "tier", "version", "status", "points", "max_points"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*columns, *(f"m{m}" for m in modules), "seconds", "detail"])
    for row in rows:
        writer.writerow(
            [
                row.submission,
                row.tier,
                row.version,
                row.status,
                f"{row.points:.2f}",
                row.max_points,
                *(f"{row.modules[m]:.2f}" if m in row.modules else "" for m in modules),
                row.seconds,
                row.detail.replace("\n", " ")[:300],
            ]
        )
    _atomic(out / "gradebook.csv", buffer.getvalue())
    payload = [
        {
            "submission": row.submission,
            "tier": row.tier,
            "project": row.project,
            "version": row.version,
            "status": row.status,
            "points": row.points,
            "max_points": row.max_points,
            "modules": row.modules,
            "seconds": row.seconds,
            "detail": row.detail,
            "report": row.report,
        }
        for row in rows
    ]
    _atomic(out / "gradebook.json", json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def _atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.gradebook", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("folder", type=Path, help="folder of submissions (trees, bundles, zips)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "grades")
    parser.add_argument("--jobs", type=int, help="submissions graded at once (default: cores)")
    parser.add_argument(
        "--time-limit", type=float, default=DEFAULT_TIME_LIMIT, help="seconds per tree (1800)"
    )
    parser.add_argument("--timeout", type=float, help="seconds per test (default: per module)")
    parser.add_argument(
        "--learner-tests", action="store_true", help="grade with the trees' own tests"
    )
    args = parser.parse_args(argv)
    try:
        rows = grade_batch(
            args.folder, args.out, args.jobs, args.time_limit, args.learner_tests, args.timeout
        )
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    for row in rows:
        score = f"{row.points:7.2f} / {row.max_points:<4}" if row.status == "graded" else " " * 14
        print(f"{row.submission:<28} {row.tier:<11} {row.status:<8} {score} {row.detail[:60]}")
    book = args.out / "gradebook"
    print(f"{len(rows)} tree(s); gradebook: {book}.csv, {book}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
