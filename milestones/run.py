"""Run the historical milestones: ``nox -s milestone [-- 3 | m03_1986_mlp | --list]``.

Each milestone runs in its own process (a crash or a missed bar in one cannot hide
another), and a summary table closes the run. A milestone whose tier is not installed is
reported as not available — not as failed.

Every milestone trains on one BLAS thread, so on a machine with several cores ``--jobs``
of them run at once (default: two, or one on a single core), the later, larger ones
started first; each line a milestone prints appears as it is printed, after its tag
(``M5 |``), so progress stays live. ``--jobs 1`` runs them in order, untagged.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tinytorch_learn.curriculum import CurriculumError, Milestone, load

HERE = Path(__file__).parent
# One BLAS thread unless you export another count: on 2 cores, OpenBLAS threads contend on
# these small matrices and make training several times slower (see docs/architecture.md).
ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ}
RESULTS = HERE / "results"
NOT_WRITTEN = 3  # a milestone's exit status when it reached a learner's unwritten function


#: The milestones, in order, as curriculum.toml lists them: each one's script, the modules
#: it needs and the lowest tier that holds them (the repository's manifest, or a bundle's).
CURRICULUM = load(HERE)
MILESTONES = list(CURRICULUM.milestones)


def script(milestone: Milestone) -> Path:
    """The milestone's script (the manifest names it relative to its own folder)."""
    return CURRICULUM.root / milestone.script


def packages(milestone: Milestone) -> list[str]:
    """The ``tinytorch`` subpackages holding the modules it needs (``tinytorch.training``)."""
    found = {
        ".".join(Path(source).parts[1:3])  # src/tinytorch/training/trainer.py
        for number in milestone.modules
        for source in CURRICULUM.module(number).sources
    }
    return sorted(found)


def installed(name: str) -> bool:
    """Whether ``tinytorch.<sub>`` can be found (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # no tinytorch at all
        return False


def available(milestone: Milestone) -> bool:
    """Its script is here and every subpackage it needs is installed."""
    return script(milestone).exists() and all(map(installed, packages(milestone)))


def select(wanted: list[str]) -> list[Milestone]:
    """Milestones named by number (``3``) or script (``m03_1986_mlp``); all when empty."""
    try:
        return [CURRICULUM.milestone(key) for key in wanted] or MILESTONES
    except CurriculumError as error:
        raise SystemExit(f"run.py: {error}") from None


def needs(milestone: Milestone) -> str:
    """The distribution that brings what it needs (``tinytorch-arch``)."""
    return CURRICULUM.tier(milestone.tier).package


def list_milestones() -> None:
    print(f"{'#':<3}{'milestone':<24}{'tier':<12}{'status'}")
    for m in MILESTONES:
        status = "available" if available(m) else f"not available (needs {needs(m)})"
        print(f"{m.number:<3}{m.name:<24}{m.tier:<12}{status}")


def run(milestone: Milestone, extra: list[str], tag: str = "") -> tuple[str, float, list[str]]:
    """Run one milestone script, its output live on the terminal (each line after ``tag``
    when one is given); returns (status, seconds, one line per check)."""
    if not available(milestone):
        return "not available", 0.0, [f"needs {needs(milestone)}"]
    result_file = RESULTS / f"{milestone.slug}.json"
    result_file.unlink(missing_ok=True)
    start = time.perf_counter()
    # The caller's folder stays the working folder: every path a milestone prints is relative to it.
    command = [sys.executable, str(script(milestone)), *extra]
    if not tag:
        code = subprocess.call(command, env=ENV)
    else:
        code = run_tagged(command, tag)
    seconds = time.perf_counter() - start
    if code == NOT_WRITTEN:
        return "not ready", seconds, ["reached a function still to write (named above)"]
    if not result_file.exists():
        return "FAILED", seconds, [f"crashed (exit code {code}) before reporting"]
    report = json.loads(result_file.read_text())
    lines = [
        f"{name}: {c['value']:.4g}" + (f" (bar {c['rule']} {c['bar']:.4g})" if c["rule"] else "")
        for name, c in report["checks"].items()  # JSON keeps the order the checks were made in
    ]
    if "cpu_time_s" in report:
        lines.append(f"CPU time: {report['cpu_time_s']:.1f} s (wall {seconds:.1f} s)")
    status = {True: "passed", False: "FAILED", None: "measured"}[report["passed"]]
    return ("FAILED" if code else status), seconds, lines


_PRINTING = threading.Lock()  # one line at a time from milestones running side by side


def run_tagged(command: list[str], tag: str) -> int:
    """Run ``command``, printing each line of its output after ``tag`` as it arrives."""
    env = {**ENV, "PYTHONUNBUFFERED": "1"}  # lines as they are printed, not when a buffer fills
    with subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:
        for line in process.stdout:
            with _PRINTING:
                print(f"{tag} {line}", end="", flush=True)
    return process.returncode


def run_all(chosen: list[Milestone], extra: list[str], jobs: int) -> list[tuple]:
    """Run ``chosen``, ``jobs`` at a time; rows (milestone, status, seconds, lines) in order."""
    if jobs <= 1 or len(chosen) <= 1:
        return [(m, *run(m, extra)) for m in chosen]
    print(f"Running {len(chosen)} milestones, {jobs} at a time, each line tagged.", flush=True)
    width = max(len(f"M{m.number}") for m in chosen)
    with ThreadPoolExecutor(jobs) as pool:
        # Later milestones train larger models: starting them first keeps every core busy.
        futures = {
            m: pool.submit(run, m, extra, f"{f'M{m.number}':<{width}} |") for m in reversed(chosen)
        }
        results = {m: future.result() for m, future in futures.items()}
    return [(m, *results[m]) for m in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run TinyTorch's historical milestones.")
    parser.add_argument("milestones", nargs="*", help="numbers or names (default: all)")
    parser.add_argument("--list", action="store_true", help="list milestones and exit")
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="milestones run at once, one BLAS thread each (default: 2 on 2+ cores)",
    )
    args, extra = parser.parse_known_args(argv)
    if args.list:
        list_milestones()
        return 0
    chosen = select(args.milestones)
    if extra and len(chosen) != 1:
        raise SystemExit(
            "run.py: options for a milestone (e.g. --data-dir) need exactly one milestone"
        )
    rows = run_all(chosen, extra, args.jobs)
    print("\n" + "=" * 78 + "\nSummary\n" + "=" * 78)
    for m, status, seconds, lines in rows:
        print(f"M{m.number} {m.name:<18} {status:<14} {seconds:6.1f} s")
        print("".join(f"     {line}\n" for line in lines), end="")
    return 1 if any(status == "FAILED" for _, status, _, _ in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
