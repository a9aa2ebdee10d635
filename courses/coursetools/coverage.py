"""Solution coverage: every solution block must be noticed by its module's tests and checks.

A block the tests do not notice is one a learner could leave as a stub and still pass
its module's tests; a block the graded checks do not notice is one a learner could
leave as a stub and still get full marks. (The report also says when another module's
tests notice the stub: the learner then loses that module's points instead.)

For each code block in a tier's ``src`` this check builds a tree with only that block
stripped and runs the module's test files (``tests/test_NN_*.py``, ``-x``): at least one
test must fail. With ``--checks`` it runs the module's graded checks instead
(:mod:`coursetools.grading`, in the sandbox) against an answer key recorded from the
solution: at least one check must come out wrong. Blocks that hold only comments are
not code and are not checked.

Fast enough to run often: the tier's ``src`` is copied once per worker (two by
default, the size of the reference laptop); a worker writes the one stripped file
into its copy, runs the tests, and writes the file back. First, every test file
involved must pass on the untouched copy, or the check means nothing and stops.

With ``--ungraded`` it checks the other direction, that stubs earn nothing: on the
untouched student tree (every block stubbed) no module test may pass unless it is
marked ``@pytest.mark.ungraded`` (such a test checks provided code and carries no
points in the learner's estimate).

Command line::

    python -m coursetools.coverage foundation [--checks | --ungraded] [--workers 2] [--timeout 300]

prints one row per block (or per unmarked passing test) and exits 1 if any block goes
unnoticed (or any test would give an untouched tree points).
"""

from __future__ import annotations

import argparse
import dataclasses
import queue
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from coursetools import markers
from coursetools.classroom import run_pytest
from coursetools.tiers import (
    Tier,
    WrongCodeError,
    lower_tiers,
    python_env,
    require_own_code,
    resolve_tier,
    write_metadata_shim,
)


class CoverageError(RuntimeError):
    """The check could not be run meaningfully (tests fail on the solution, wrong code imported)."""


@dataclasses.dataclass(frozen=True)
class BlockCoverage:
    """Whether the tests noticed one stripped block, and how."""

    block: markers.Block
    module: int
    noticed: bool
    detail: str


@dataclasses.dataclass(frozen=True)
class _Job:
    parsed: markers.ParsedFile
    block: markers.Block
    test_files: tuple[Path, ...]


@dataclasses.dataclass(frozen=True)
class _Run:
    """One pytest run: exit code (-1 for a time-out) and the first failure, if any."""

    code: int
    failed_in: str  # the test file of the first failure ("" if none)
    detail: str

    @property
    def noticed(self) -> bool:
        """A test failed, a test file failed to import, or the run timed out."""
        return self.code in (1, 2, -1)


class _Workspace:
    """Private copies of a tier's ``src``, handed out one per concurrent test run."""

    def __init__(self, tier: Tier, below: list[Tier], scratch: Path, copies: int, timeout: float):
        self.tier = tier
        self.timeout = timeout
        self.scratch = scratch
        self.shim = write_metadata_shim([tier, *below], scratch / "metadata")
        self.below = below
        self.free: queue.Queue[tuple[int, Path]] = queue.Queue()
        for index in range(copies):
            copy = scratch / f"src{index}"
            shutil.copytree(tier.src, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            try:  # the tests must run the copy, not an installed tier
                require_own_code(
                    copy, tier.subpackages(), [copy, *(t.src for t in below), self.shim], scratch
                )
            except (ImportError, WrongCodeError) as error:
                raise CoverageError(f"the tests do not run the copied source: {error}") from None
            self.free.put((index, copy))

    def run(self, judge, replace: tuple[Path, str] | None = None) -> _Run:
        """``judge(copy, slot)`` on a copy, with one source file replaced for the run.

        ``replace`` is (path inside the tier's ``src``, new text); ``slot`` tells
        concurrent sandboxes apart.
        """
        slot, copy = self.free.get()
        target = copy / replace[0].relative_to(self.tier.src) if replace else None
        original = target.read_bytes() if target else b""
        try:
            if target:
                target.write_bytes(replace[1].encode("utf-8"))
            return judge(copy, slot)
        finally:
            if target:
                target.write_bytes(original)
            self.free.put((slot, copy))

    def tests(self, test_files: list[Path]):
        """A judge that runs ``test_files``."""
        return lambda copy, slot: self._pytest(copy, test_files)

    def _pytest(self, copy: Path, test_files: list[Path]) -> _Run:
        pythonpath = [copy, *(t.src for t in self.below), self.shim]
        code, cases = run_pytest(
            test_files,
            self.tier.root,
            self.timeout,
            python_env(pythonpath),
            "-x",
            f"--confcutdir={self.tier.root}",
        )
        if code == -1:
            return _Run(-1, "", f"timed out after {self.timeout:g} s")
        first = next((case for case in cases if case.outcome == "failed"), None)
        if first is None:
            return _Run(code, "", "")
        return _Run(code, Path(first.file).name, f"{first.file}::{first.name}: {first.message}")


def check_coverage(
    tier_dir: Path | str, lower: list[Tier] | None = None, workers: int = 2, timeout: float = 300.0
) -> list[BlockCoverage]:
    """One :class:`BlockCoverage` per code solution block of the tier's ``src``, in file order."""
    tier = Tier.load(tier_dir)
    below = lower_tiers(tier) if lower is None else lower
    jobs = _jobs(tier, tier.module_tests())
    with tempfile.TemporaryDirectory(prefix="coursetools-coverage-") as scratch:
        workspace = _Workspace(tier, below, Path(scratch), workers, timeout)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            needed = sorted({f for job in jobs for f in job.test_files})
            runs = pool.map(lambda f: workspace.run(workspace.tests([f])), needed)
            for test_file, run in zip(needed, runs):
                if run.code != 0:
                    raise CoverageError(
                        f"{test_file.name} fails on the solution itself: {run.detail}"
                    )
            return list(pool.map(lambda job: _cover(workspace, tier, job), jobs))


def unmarked_passes(
    tier_dir: Path | str, lower: list[Tier] | None = None, workers: int = 2, timeout: float = 900.0
) -> list[str]:
    """Module tests that pass on the untouched student tree and are not marked ``ungraded``:
    each would give an untouched tree points. ``file::test`` ids, in file order."""
    from coursetools.student import student_files

    tier = Tier.load(tier_dir)
    below = lower_tiers(tier) if lower is None else lower
    with tempfile.TemporaryDirectory(prefix="coursetools-stubs-") as scratch:
        stubbed = Path(scratch) / tier.name  # the whole student tree: tests find its src
        for relative, content in student_files(tier).items():
            (stubbed / relative).parent.mkdir(parents=True, exist_ok=True)
            (stubbed / relative).write_bytes(content)
        shim = write_metadata_shim([tier, *below], Path(scratch) / "metadata")
        env = python_env([stubbed / "src", *(t.src for t in below), shim])
        files = [
            stubbed / f.relative_to(tier.root) for fs in tier.module_tests().values() for f in fs
        ]
        options = ("-m", "not ungraded", f"--confcutdir={stubbed}")

        def run(test_file: Path) -> tuple[int, list]:
            return run_pytest([test_file], stubbed, timeout, env, *options)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            runs = list(pool.map(run, files))
    return [
        f"{Path(case.file).name}::{case.name}"
        for _, cases in runs
        for case in cases
        if case.outcome == "passed"
    ]


def checks_coverage(
    tier_dir: Path | str,
    lower: list[Tier] | None = None,
    checks_dir: Path | None = None,
    workers: int = 2,
) -> list[BlockCoverage]:
    """One :class:`BlockCoverage` per code block: does stubbing it change a graded check?"""
    from coursetools import answers, grading  # the sandbox's tools: only this judge needs them

    tier = Tier.load(tier_dir)
    below = lower_tiers(tier) if lower is None else lower
    key = answers.record(tier, below, checks_dir)  # also: every check passes on the solution
    checks = key.checks()
    jobs = [
        job for job in _jobs(tier, {}) if any(c.module == job.parsed.module.number for c in checks)
    ]
    unjudged = [job for job in _jobs(tier, {}) if job not in jobs]

    def judge(job: _Job):
        own = [c for c in checks if c.module == job.parsed.module.number]

        def run(copy: Path, slot: int) -> _Run:
            outcomes = grading.run_checks(
                own,
                copy,
                key.sources,
                preload=key.subpackages,
                metadata=key.metadata_tiers(),
                lower=[t.src for t in below],
                seconds={c.id: grading.limit(key.seconds[c.id]) for c in own},
                slot=slot,
                trusted=True,
            )
            for check, outcome in zip(own, outcomes):
                wrong = outcome.message or grading.mismatch(key.answers[check.id], outcome.value)
                if outcome.status != "ok" or wrong:
                    return _Run(1, check.file, f"{check.id}: {outcome.status}: {wrong}")
            return _Run(0, "", "")

        return run

    with tempfile.TemporaryDirectory(prefix="coursetools-coverage-") as scratch:
        workspace = _Workspace(tier, below, Path(scratch), workers, timeout=0)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            runs = pool.map(lambda job: workspace.run(judge(job), replace=_stub(tier, job)), jobs)
            covered = [
                BlockCoverage(
                    job.block,
                    job.parsed.module.number,
                    run.noticed,
                    run.detail or "no check notices it",
                )
                for job, run in zip(jobs, runs)
            ]
    missing = [
        BlockCoverage(
            job.block,
            job.parsed.module.number,
            False,
            f"module {job.parsed.module.number:02d} has no graded checks",
        )
        for job in unjudged
    ]
    return sorted([*covered, *missing], key=lambda r: (str(r.block.path), r.block.begin))


def _jobs(tier: Tier, tests: dict[int, list[Path]]) -> list[_Job]:
    """One job per code solution block of the tier's ``src``, in file order."""
    jobs = []
    for path in sorted(tier.src.rglob("*.py")):
        parsed = markers.parse(path)
        jobs += [
            _Job(parsed, block, tuple(tests.get(parsed.module.number, ())))
            for block in parsed.solutions
            if not block.comment_only
        ]
    return jobs


def _stub(tier: Tier, job: _Job) -> tuple[Path, str]:
    """(file, text) of the file of ``job`` with its block alone stripped."""
    lesson = tier.lesson_for(job.parsed.module.number)
    only_this = dataclasses.replace(job.parsed, blocks=(job.block,))
    return job.parsed.path, markers.strip(
        only_this, lesson.relative_to(tier.root).as_posix() if lesson else None
    )


def _cover(workspace: _Workspace, tier: Tier, job: _Job) -> BlockCoverage:
    """Strip ``job.block`` alone and see whether its module's tests fail.

    When they do not, one more run over the other modules' tests tells whether anything
    notices the stub at all (a learner would then lose those modules' points instead).
    """
    module = job.parsed.module.number
    stub = _stub(tier, job)
    own = list(job.test_files)
    names = ", ".join(f.name for f in own)
    if own:
        run = workspace.run(workspace.tests(own), replace=stub)
        if run.noticed:
            return BlockCoverage(job.block, module, True, run.detail)
        if run.code not in (0, 5):
            raise CoverageError(f"pytest exited {run.code} on {names}: {run.detail}")
    verdict = f"{names} passes without it" if own else f"no tests/test_{module:02d}_*.py"
    others = [f for files in tier.module_tests().values() for f in files if f not in own]
    elsewhere = workspace.run(workspace.tests(others), replace=stub) if others else None
    if elsewhere is not None and elsewhere.noticed:
        verdict += f"; {elsewhere.failed_in or 'another module'} notices it"
    return BlockCoverage(job.block, module, False, verdict)


def table(
    tier: Tier, results: list[BlockCoverage], width: int = 70, judged_by: str = "tests"
) -> str:
    """One row per block: where it is, what it implements, and which test or check noticed it."""
    rows = [f"Solution coverage of {tier.project} {tier.version}", ""]
    for result in results:
        where = f"{result.block.path.relative_to(tier.root).as_posix()}:{result.block.begin}"
        status = "noticed " if result.noticed else "MISSED  "
        detail = result.detail.replace("\n", " ")
        detail = detail if len(detail) <= width else detail[: width - 1] + "…"
        rows.append(f"{status}{where:<42} {result.block.qualname or '-':<28} {detail}")
    missed = [r for r in results if not r.noticed]
    rows.append("")
    noticed = len(results) - len(missed)
    rows.append(
        f"{noticed} of {len(results)} solution blocks noticed by their module's {judged_by}"
    )
    rows += [
        f"  not noticed: {r.block.location} ({r.block.qualname or 'module level'}): {r.detail}"
        for r in missed
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.coverage", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("tier", help="tier name (foundation, arch, opt) or tier directory")
    judge = parser.add_mutually_exclusive_group()
    judge.add_argument(
        "--checks", action="store_true", help="judge by the graded checks instead of the tests"
    )
    judge.add_argument(
        "--ungraded",
        action="store_true",
        help="list tests that pass on the untouched tree without the ungraded mark",
    )
    parser.add_argument("--workers", type=int, default=2, help="test runs at once (default 2)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds per test file run (default 300)"
    )
    args = parser.parse_args(argv)
    tier = resolve_tier(args.tier)
    if args.ungraded:
        passing = unmarked_passes(tier.root, workers=args.workers, timeout=args.timeout)
        for test in passing:
            print(f"{test}: passes on the untouched tree; mark it @pytest.mark.ungraded")
        print(f"{tier.project}: {len(passing)} unmarked test(s) pass on the untouched tree")
        return 1 if passing else 0
    try:
        if args.checks:
            results = checks_coverage(tier.root, workers=args.workers)
        else:
            results = check_coverage(tier.root, workers=args.workers, timeout=args.timeout)
    except (markers.MarkerError, RuntimeError) as error:  # CoverageError, GradingError
        print(error, file=sys.stderr)
        return 2
    print(table(tier, results, judged_by="graded checks" if args.checks else "tests"))
    return 0 if all(r.noticed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
