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
JSON read with ``json`` alone (never pickle, never code), within bounds on its size,
its nesting and its integers, and a file that fails validation is reported in full,
not stopped at its first problem. A file and the same document in memory go through
one validator, so they can never disagree.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators

from tinytorch.files import atomic_write
from tinytorch.perf.benchmarking import BenchmarkResult, compare, system_metadata

SCHEMA_VERSION = "1.0"
MAX_FILE_BYTES = 1 << 20  # a submission is a few KB; refuse to parse anything huge
MAX_DEPTH = 16  # the schema nests objects 3 deep; json.loads would recurse once per level
MAX_SAFE_INTEGER = 2**53 - 1  # the integers a JSON number holds exactly (I-JSON, RFC 7493)
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


class _LongInteger:
    """What an integer literal of more than 17 characters parses to: not a number, so the
    checks report it at its location (``int()`` would refuse past 4,300 digits anyway)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"an integer of {self.digits} digits"


def _parse_int(text: str) -> int | _LongInteger:
    """``json.loads``'s hook for integer literals: at most 17 characters become ints."""
    return int(text) if len(text) <= 17 else _LongInteger(len(text.lstrip("-")))


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[][{},:]')  # a string, or a structural character


def _too_deep(text: str) -> list[Any] | None:
    """The location of the first container the JSON ``text`` opens deeper than MAX_DEPTH,
    found from its brackets alone, before ``json.loads`` would recurse into it."""
    path: list[Any] = []  # the key or index of each open container's current member
    key = None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            if len(path) == MAX_DEPTH:
                return path
            path.append(0 if token == "[" else None)
        elif token in ("]", "}"):
            del path[-1:]
        elif token == ",":
            if path and isinstance(path[-1], int):
                path[-1] += 1
        elif token == ":":
            if path:
                path[-1] = key
        else:
            key = token[1:-1]  # a string: the key of the member if a colon follows
    return None


def _read(path: Path, problems: list[str]) -> Any:
    """Parse ``path`` as JSON within bounds; None (and why, in ``problems``) if it cannot be.

    Bounds: at most MAX_FILE_BYTES of UTF-8, nesting at most MAX_DEPTH deep, integer
    literals of at most 17 characters (longer ones become markers that the document
    checks report at their location). Duplicate keys are noted. NaN and Infinity
    literals (and 1e999, which overflows to infinity) parse to floats that the
    validator refuses at their location, exactly as it does in an in-memory document.
    """
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
    deep = _too_deep(text)
    if deep is not None:
        problems.append(f"{_where(deep)}: nested more than {MAX_DEPTH} levels deep")
        return None

    ### BEGIN SOLUTION
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                problems.append(f"key {key!r} appears more than once in one object")
            seen[key] = value
        return seen

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        problems.append(
            f"{path}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        )
        return None
    ### END SOLUTION


def _where(path: Sequence[Any]) -> str:
    """``$.baseline.latency.median_s`` / ``$.optimizations[2]`` for a JSON location."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _finite_number(checker: Any, instance: Any) -> bool:
    """The schema's "number": what JSON (RFC 8259) can write, so never NaN or ±Infinity."""
    return Draft202012Validator.TYPE_CHECKER.is_type(instance, "number") and math.isfinite(instance)


# Draft 2020-12 with JSON's own numbers: NaN and infinities fail "type": "number", and
# the numeric keywords (minimum, maximum, ...) skip them instead of comparing with them.
_JSONNumbersValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _finite_number),
)


def _structure_problems(document: Any) -> list[str]:
    """Nesting deeper than MAX_DEPTH and integers beyond ±MAX_SAFE_INTEGER, with their
    locations. Checked first, without recursion: jsonschema recurses once per level and
    prints values in its messages, which a 100,000-deep list or a 5,000-digit integer
    turns into a crash."""
    problems = []
    todo: list[tuple[tuple[Any, ...], Any]] = [((), document)]
    while todo:
        where, value = todo.pop()
        if isinstance(value, (dict, list)):
            if len(where) == MAX_DEPTH:
                problems.append(f"{_where(where)}: nested more than {MAX_DEPTH} levels deep")
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            todo.extend(reversed([((*where, key), item) for key, item in items]))
        elif isinstance(value, _LongInteger) or (
            isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER
        ):
            digits = value.digits if isinstance(value, _LongInteger) else _digits(value)
            problems.append(
                f"{_where(where)}: an integer of {digits} digits is beyond ±(2**53 - 1), "
                "the integers a JSON number holds exactly"
            )
    return problems


def _digits(value: int) -> int:
    return math.floor(math.log10(abs(value))) + 1


def _schema_problems(document: Any) -> list[str]:
    """Every schema violation, each as 'location: message', in document order."""
    ### BEGIN SOLUTION
    validator = _JSONNumbersValidator(load_schema())  # formats: checked below, always
    errors = sorted(
        validator.iter_errors(document),
        key=lambda e: ([str(p) for p in e.absolute_path], e.message),
    )
    return [f"{_where(e.absolute_path)}: {_message(e)}" for e in errors]
    ### END SOLUTION


def _message(error: Any) -> str:
    """jsonschema's message, spelled out where it would puzzle: "inf is not of type
    'number'" is true of JSON, but says nothing about why."""
    instance = error.instance
    if error.validator == "type" and isinstance(instance, float) and not math.isfinite(instance):
        return (
            f"{instance!r} is not a JSON number: JSON has no NaN or Infinity (and a literal "
            "such as 1e999 overflows to infinity)"
        )
    return error.message


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


def _document_problems(document: Any) -> list[str]:
    """Every problem with a parsed submission, whether it came from a file or from memory."""
    problems = _structure_problems(document)
    if problems:
        return problems  # the other checks would recurse into it or print it whole
    problems = _schema_problems(document)
    if isinstance(document, dict):
        problems += _time_problems(document)
        for name in ("baseline", "optimized"):
            problems += _result_problems(name, document.get(name))
        problems += _improvement_problems(document)
    return problems


def _checked(submission: str | os.PathLike[str] | dict[str, Any]) -> tuple[Any, list[str]]:
    """The document (parsed first if ``submission`` is a path) and every problem with it."""
    if isinstance(submission, dict):
        return submission, _document_problems(submission)
    if not isinstance(submission, (str, os.PathLike)):
        raise TypeError(
            f"validate_submission: expected a path or a dict, got {type(submission).__name__}"
        )
    problems: list[str] = []
    document = _read(Path(submission), problems)
    if document is None:
        return None, problems
    return document, problems + _document_problems(document)


def validate_submission(submission: str | os.PathLike[str] | dict[str, Any]) -> list[str]:
    """Every problem with a submission file (or an in-memory submission); [] when valid.

    Reading: the file must exist and be at most 1 MiB of UTF-8 JSON, nested at most
    MAX_DEPTH deep, with no duplicate keys. Then a file and an in-memory document get
    the same checks. Structure: nothing deeper than MAX_DEPTH, no integer beyond
    ±(2**53 - 1). Schema: every violation of ``schema.json``, not just the first, with
    JSON's numbers (never NaN or ±Infinity). Meaning: each latency interval contains the
    statistic it is for, throughput equals batch_size / median latency, the improvement
    ratios match the two results, the significance flag matches p < alpha, and
    ``created`` is a date-time with a zone. Nothing in the file is ever executed.
    """
    return _checked(submission)[1]


def load_submission(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a submission; raise :class:`SubmissionError` listing every problem."""
    document, problems = _checked(Path(path))
    if problems:
        raise SubmissionError(f"load_submission({os.fspath(path)!r})", problems)
    return document


# ============================================================================= writing


def write_submission(path: str | os.PathLike[str], submission: dict[str, Any]) -> Path:
    """Validate ``submission`` and write it to ``path`` atomically; returns the path.

    An invalid submission is refused (:class:`SubmissionError` listing every problem) and
    nothing is written. The JSON goes through ``atomic_write``: a temporary file in the
    same directory, flushed to disk, then renamed over ``path`` with ``os.replace``, so a
    reader sees the old file or the new one, never half of one, even if the writer is
    killed midway.
    """
    target = Path(path)
    problems = validate_submission(submission)
    if problems:
        raise SubmissionError(f"write_submission({os.fspath(path)!r})", problems)
    text = json.dumps(submission, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    ### BEGIN SOLUTION
    with atomic_write(target, "w", encoding="utf-8") as file:
        file.write(text)
    return target
    ### END SOLUTION
