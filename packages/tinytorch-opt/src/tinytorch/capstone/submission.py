"""Module 20 · Capstone — an MLPerf-style submission that anyone can check.

Connection map
    Prerequisites : 14 Profiling (size, FLOPs) · 15 Quantization · 16 Compression ·
                    17 Memoization · 18 Acceleration (the optimizations) · 19 Benchmarking
                    (latency with confidence intervals, compare(), system_metadata())
    This module   : the submission format — a JSON Schema (draft 2020-12, shipped as
                    ``schema.json``) with system metadata, normalized metrics (accuracy as a
                    fraction, latency in seconds with its interval, size in bytes, throughput
                    in samples/s) and the improvement over a baseline; atomic writing; and
                    ``validate_submission``, which lists every problem in a file
    Unlocks       : Milestone 6 (Profile → Optimize → Benchmark → Submit) and classroom
                    leaderboards that compare submissions from different machines

Systems insight: a result is only as good as its record. "3x faster" needs the baseline
it is relative to, the interval around each latency, the significance of the difference
and the machine it ran on; a leaderboard needs every submission to state them the same
way, and to be checked by a program rather than by trust. A submission is data, so it is
JSON read with ``json`` alone (never pickle, never code), and a file that fails
validation is reported in full, not stopped at its first problem.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from tinytorch.perf.benchmarking import BenchmarkResult, compare, system_metadata

SCHEMA_VERSION = "1.0"
MAX_FILE_BYTES = 1 << 20  # a submission is a few KB; refuse to parse anything huge
RELATIVE_TOLERANCE = 1e-6  # recomputed ratios must match what the file states


class SubmissionError(ValueError):
    """A submission that cannot be written or loaded; ``problems`` lists every reason."""

    def __init__(self, where: str, problems: list[str]) -> None:
        super().__init__(f"{where}: {len(problems)} problem(s)\n  " + "\n  ".join(problems))
        self.problems = problems


@cache
def load_schema() -> dict[str, Any]:
    """The submission JSON Schema shipped with this package (``tinytorch/capstone/schema.json``)."""
    text = resources.files("tinytorch.capstone").joinpath("schema.json").read_text("utf-8")
    return json.loads(text)


# ============================================================================= building


@dataclass(frozen=True)
class ModelResult:
    """One model's measured metrics, in the submission's units.

    ``latency`` is seconds per call on ``batch_size`` samples (from ``benchmark``);
    ``accuracy`` a fraction in [0, 1]; ``size_bytes`` what the model's weights occupy.
    """

    model: str
    accuracy: float
    latency: BenchmarkResult
    size_bytes: int
    batch_size: int = 1
    parameters: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as the schema's ``result`` object; throughput = batch_size / median."""
        ### BEGIN SOLUTION
        result = {
            "model": self.model,
            "accuracy": float(self.accuracy),
            "latency": self.latency.to_dict(),
            "size_bytes": int(self.size_bytes),
            "batch_size": int(self.batch_size),
            "throughput": self.batch_size / self.latency.median,
        }
        if self.parameters is not None:
            result["parameters"] = int(self.parameters)
        return result
        ### END SOLUTION


# competency: efficiency/measures
def improvement(baseline: dict[str, Any], optimized: dict[str, Any]) -> dict[str, float]:
    """How the optimized result compares with the baseline (two ``result`` objects).

    speedup = baseline median latency / optimized median latency; size_reduction =
    baseline bytes / optimized bytes; throughput_gain = optimized / baseline throughput;
    accuracy_delta = optimized - baseline accuracy (negative: accuracy was lost).
    """
    ### BEGIN SOLUTION
    return {
        "speedup": baseline["latency"]["median_s"] / optimized["latency"]["median_s"],
        "size_reduction": baseline["size_bytes"] / optimized["size_bytes"],
        "accuracy_delta": optimized["accuracy"] - baseline["accuracy"],
        "throughput_gain": optimized["throughput"] / baseline["throughput"],
    }
    ### END SOLUTION


def make_submission(
    *,
    submitter: str,
    task: str,
    dataset: str,
    baseline: ModelResult,
    optimized: ModelResult,
    optimizations: Sequence[str],
    division: str = "closed",
    accuracy_target: float | None = None,
    alpha: float = 0.05,
    test: str = "welch",
    system: dict[str, Any] | None = None,
    notes: str | None = None,
) -> dict[str, Any]:
    """Assemble a submission: results, improvement, significance and system metadata.

    Significance answers "is the optimized model really faster than the baseline?" with
    :func:`~tinytorch.perf.benchmarking.compare` on the two sets of latency samples.
    ``system`` defaults to this machine's :func:`system_metadata`.
    """
    base, best = baseline.to_dict(), optimized.to_dict()
    verdict = compare(optimized.latency, baseline.latency, alpha=alpha, method=test)
    task_info: dict[str, Any] = {"name": task, "dataset": dataset, "division": division}
    if accuracy_target is not None:
        task_info["accuracy_target"] = accuracy_target
    document = {
        "schema_version": SCHEMA_VERSION,
        "submitter": submitter,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "task": task_info,
        "system": system_metadata() if system is None else system,
        "baseline": base,
        "optimized": best,
        "improvement": {
            **improvement(base, best),
            "significance": {
                "test": test,
                "p_value": verdict.p_value,
                "alpha": alpha,
                "significant": verdict.significant,
            },
        },
        "optimizations": list(optimizations),
    }
    if notes is not None:
        document["notes"] = notes
    return document


# ============================================================================= reading


def _read(path: Path, problems: list[str]) -> Any:
    """Parse ``path`` as JSON only, noting duplicate keys and NaN/Infinity; None if unreadable."""
    if not path.is_file():
        problems.append(f"{path}: no such file")
        return None
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        problems.append(
            f"{path}: {size:,} bytes is larger than a submission can be ({MAX_FILE_BYTES:,})"
        )
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        problems.append(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})")
        return None

    ### BEGIN SOLUTION
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                problems.append(f"key {key!r} appears more than once in one object")
            seen[key] = value
        return seen

    def no_constants(name: str) -> float:
        problems.append(f"{name} is not a valid JSON number (NaN and Infinity are not allowed)")
        return math.nan

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as error:
        problems.append(
            f"{path}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        )
        return None
    ### END SOLUTION


def _where(path: Sequence[Any]) -> str:
    """``$.baseline.latency.median_s`` / ``$.optimizations[2]`` for a JSON location."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _schema_problems(document: Any) -> list[str]:
    """Every schema violation, each as 'location: message', in document order."""
    ### BEGIN SOLUTION
    validator = Draft202012Validator(load_schema())  # formats: checked below, always
    errors = sorted(
        validator.iter_errors(document),
        key=lambda e: ([str(p) for p in e.absolute_path], e.message),
    )
    return [f"{_where(e.absolute_path)}: {e.message}" for e in errors]
    ### END SOLUTION


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _close(stated: Any, expected: float) -> bool:
    return _number(stated) and math.isclose(
        stated, expected, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12
    )


def _result_problems(name: str, result: Any) -> list[str]:
    """Checks the schema cannot express inside one result: the interval and the throughput."""
    if not isinstance(result, dict) or not isinstance(result.get("latency"), dict):
        return []
    problems = []
    latency = result["latency"]
    low, high = latency.get("ci_low_s"), latency.get("ci_high_s")
    statistic = latency.get("ci_statistic", "median")
    center = latency.get(f"{statistic}_s")
    where = f"$.{name}.latency"
    ### BEGIN SOLUTION
    if _number(low) and _number(high) and low > high:
        problems.append(f"{where}: ci_low_s {low} is above ci_high_s {high}")
    elif statistic in ("median", "mean") and center is None:
        problems.append(
            f"{where}: the interval is for the {statistic}, but {statistic}_s is missing"
        )
    elif _number(center) and _number(low) and _number(high) and not low <= center <= high:
        problems.append(
            f"{where}: the {statistic} {center} lies outside its own interval [{low}, {high}]"
        )
    median, batch, throughput = (
        latency.get("median_s"),
        result.get("batch_size"),
        result.get("throughput"),
    )
    if _number(median) and median > 0 and _number(batch) and _number(throughput):
        expected = batch / median
        if not math.isclose(throughput, expected, rel_tol=1e-3):
            problems.append(
                f"$.{name}.throughput: {throughput} does not match batch_size / median_s = "
                f"{expected:.6g} samples/s"
            )
    ### END SOLUTION
    return problems


def _improvement_problems(document: dict[str, Any]) -> list[str]:
    """The stated improvement must be what the two results say it is."""
    stated = document.get("improvement")
    if not isinstance(stated, dict):
        return []
    try:
        expected = improvement(document["baseline"], document["optimized"])
    except (KeyError, TypeError, ZeroDivisionError):
        return []  # a result is missing or malformed: the schema problems say which
    problems = []
    ### BEGIN SOLUTION
    for key, value in expected.items():
        if key in stated and _number(value) and not _close(stated[key], value):
            problems.append(
                f"$.improvement.{key}: states {stated[key]} but the results give {value:.6g}"
            )
    significance = stated.get("significance")
    if isinstance(significance, dict):
        p, alpha, flag = (significance.get(k) for k in ("p_value", "alpha", "significant"))
        if _number(p) and _number(alpha) and isinstance(flag, bool) and flag != (p < alpha):
            problems.append(
                f"$.improvement.significance: significant is {flag} but p_value {p} "
                f"{'<' if p < alpha else '>='} alpha {alpha}"
            )
    ### END SOLUTION
    return problems


def _time_problems(document: dict[str, Any]) -> list[str]:
    """Date-times must be ISO 8601 with a time zone (checked here whatever jsonschema has)."""
    system = document.get("system")
    stamps = {
        "$.created": document.get("created"),
        "$.system.timestamp": system.get("timestamp") if isinstance(system, dict) else None,
    }
    problems = []
    for where, value in stamps.items():
        if not isinstance(value, str):
            continue
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{where}: {value!r} is not an ISO 8601 date-time")
            continue
        if moment.tzinfo is None:
            problems.append(f"{where}: {value!r} has no time zone (write UTC, e.g. ...+00:00)")
    return problems


def validate_submission(submission: str | os.PathLike[str] | dict[str, Any]) -> list[str]:
    """Every problem with a submission file (or an in-memory submission); [] when valid.

    Reading: the file must exist, be at most 1 MiB of UTF-8 JSON, with no duplicate keys
    and no NaN/Infinity. Schema: every violation of ``schema.json``, not just the first.
    Meaning: each latency interval contains the statistic it is for, throughput equals
    batch_size / median latency, the improvement ratios match the two results, the
    significance flag matches p < alpha, and ``created`` is a date-time with a zone.
    Nothing in the file is ever executed.
    """
    problems: list[str] = []
    if isinstance(submission, dict):
        document = submission
    else:
        document = _read(Path(submission), problems)
        if document is None:
            return problems
    problems += _schema_problems(document)
    if isinstance(document, dict):
        problems += _time_problems(document)
        for name in ("baseline", "optimized"):
            problems += _result_problems(name, document.get(name))
        problems += _improvement_problems(document)
    return problems


def load_submission(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a submission; raise :class:`SubmissionError` listing every problem."""
    problems = validate_submission(path)
    if problems:
        raise SubmissionError(f"load_submission({os.fspath(path)!r})", problems)
    return json.loads(Path(path).read_text("utf-8"))


# ============================================================================= writing


def write_submission(path: str | os.PathLike[str], submission: dict[str, Any]) -> Path:
    """Validate ``submission`` and write it to ``path`` atomically; returns the path.

    An invalid submission is refused (:class:`SubmissionError` listing every problem) and
    nothing is written. The JSON goes to a temporary file in the same directory, is
    flushed to disk, then renamed over ``path`` with ``os.replace``: a reader sees the old
    file or the new one, never half of one, even if the writer is killed midway.
    """
    target = Path(path)
    problems = validate_submission(submission)
    if problems:
        raise SubmissionError(f"write_submission({os.fspath(path)!r})", problems)
    text = json.dumps(submission, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    ### BEGIN SOLUTION
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
    ### END SOLUTION
