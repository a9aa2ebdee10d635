"""Solution coverage: every solution block must be noticed by its module's tests.

A block the tests do not notice is one a learner could leave as a stub and still get
full marks for its module. (The report also says when another module's tests notice
the stub: the learner then loses that module's points instead.)

For each code block in a tier's ``src`` this check builds a tree with
only that block stripped and runs the module's test file (``tests/test_NN_*.py``,
``-x``): at least one test must fail. Blocks that hold only comments are not code and
are not checked.

Fast enough to run often: the tier's ``src`` is copied once per worker (two by
default, the size of the reference laptop); a worker writes the one stripped file
into its copy, runs the tests, and writes the file back. First, every test file
involved must pass on the untouched copy, or the check means nothing and stops.

Command line::

    python -m coursetools.coverage foundation [--workers 2] [--timeout 300]

prints one row per block and exits 1 if any block goes unnoticed.
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
        self.free: queue.Queue[Path] = queue.Queue()
        for index in range(copies):
            copy = scratch / f"src{index}"
            shutil.copytree(tier.src, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            try:  # the tests must run the copy, not an installed tier
                require_own_code(copy, tier.subpackages(), [copy, *(t.src for t in below), self.shim], scratch)
            except (ImportError, WrongCodeError) as error:
                raise CoverageError(f"the tests do not run the copied source: {error}") from None
            self.free.put(copy)

    def run(self, test_files: list[Path], replace: tuple[Path, str] | None = None) -> _Run:
        """Run ``test_files`` on a copy, with one source file replaced for the run.

        ``replace`` is (path inside the tier's ``src``, new text).
        """
        copy = self.free.get()
        target = copy / replace[0].relative_to(self.tier.src) if replace else None
        original = target.read_bytes() if target else b""
        try:
            if target:
                target.write_bytes(replace[1].encode("utf-8"))
            return self._pytest(copy, test_files)
        finally:
            if target:
                target.write_bytes(original)
            self.free.put(copy)

    def _pytest(self, copy: Path, test_files: list[Path]) -> _Run:
        pythonpath = [copy, *(t.src for t in self.below), self.shim]
        code, cases = run_pytest(
            test_files, self.tier.root, self.timeout, python_env(pythonpath), "-x", f"--confcutdir={self.tier.root}"
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
    tests = tier.module_tests()
    jobs = []
    for path in sorted(tier.src.rglob("*.py")):
        parsed = markers.parse(path)
        jobs += [
            _Job(parsed, block, tuple(tests.get(parsed.module.number, ())))
            for block in parsed.solutions
            if not block.comment_only
        ]
    with tempfile.TemporaryDirectory(prefix="coursetools-coverage-") as scratch:
        workspace = _Workspace(tier, below, Path(scratch), workers, timeout)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            needed = sorted({f for job in jobs for f in job.test_files})
            for test_file, run in zip(needed, pool.map(lambda f: workspace.run([f]), needed)):
                if run.code != 0:
                    raise CoverageError(
                        f"{test_file.name} fails on the solution itself: {run.detail}"
                    )
            return list(pool.map(lambda job: _cover(workspace, tier, job), jobs))


def _cover(workspace: _Workspace, tier: Tier, job: _Job) -> BlockCoverage:
    """Strip ``job.block`` alone and see whether its module's tests fail.

    When they do not, one more run over the other modules' tests tells whether anything
    notices the stub at all (a learner would then lose those modules' points instead).
    """
    module = job.parsed.module.number
    lesson = tier.lesson_for(module)
    only_this = dataclasses.replace(job.parsed, blocks=(job.block,))
    stub = (
        job.parsed.path,
        markers.strip(only_this, lesson.relative_to(tier.root).as_posix() if lesson else None),
    )
    own = list(job.test_files)
    names = ", ".join(f.name for f in own)
    if own:
        run = workspace.run(own, replace=stub)
        if run.noticed:
            return BlockCoverage(job.block, module, True, run.detail)
        if run.code not in (0, 5):
            raise CoverageError(f"pytest exited {run.code} on {names}: {run.detail}")
    verdict = f"{names} passes without it" if own else f"no tests/test_{module:02d}_*.py"
    others = [f for files in tier.module_tests().values() for f in files if f not in own]
    elsewhere = workspace.run(others, replace=stub) if others else None
    if elsewhere is not None and elsewhere.noticed:
        verdict += f"; {elsewhere.failed_in or 'another module'} notices it"
    return BlockCoverage(job.block, module, False, verdict)


def table(tier: Tier, results: list[BlockCoverage], width: int = 70) -> str:
    """One row per block: where it is, what it implements, and which test noticed it."""
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
    rows.append(f"{noticed} of {len(results)} solution blocks noticed by their module's tests")
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
    parser.add_argument("--workers", type=int, default=2, help="test runs at once (default 2)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds per test file run (default 300)"
    )
    args = parser.parse_args(argv)
    tier = resolve_tier(args.tier)
    try:
        results = check_coverage(tier.root, workers=args.workers, timeout=args.timeout)
    except (CoverageError, markers.MarkerError) as error:
        print(error, file=sys.stderr)
        return 2
    print(table(tier, results))
    return 0 if all(r.noticed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
