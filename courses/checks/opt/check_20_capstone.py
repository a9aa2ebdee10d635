"""Graded checks of Module 20 · Capstone: results, improvements and validated submission files."""

import json

import numpy as np

from tinytorch.capstone import (
    ModelResult,
    SubmissionError,
    improvement,
    load_submission,
    make_submission,
    validate_submission,
    write_submission,
)
from tinytorch.perf.benchmarking import summarize

BASE = summarize(np.random.default_rng(20).normal(0.010, 0.0005, 30).tolist(), "baseline", ci="t")
FAST = summarize(np.random.default_rng(21).normal(0.004, 0.0002, 30).tolist(), "optimized", ci="t")
BASELINE = ModelResult("mlp-fp32", 0.95, BASE, 400_000, 64, parameters=100_000)
OPTIMIZED = ModelResult("mlp-int8", 0.94, FAST, 100_000, 64)
FILE = "submission.json"


def _submission():
    return make_submission(
        submitter="Ada",
        task="tinydigits-mlp",
        dataset="TinyDigits",
        baseline=BASELINE,
        optimized=OPTIMIZED,
        optimizations=["int8-quantization"],
        accuracy_target=0.9,
    )


def _problems_at(damage):
    """Where validate_submission finds problems in a written submission damaged by ``damage``."""
    document = json.loads(open(FILE).read())
    damage(document)
    with open(FILE, "w") as handle:
        handle.write(json.dumps(document))
    return sorted({problem.split(":")[0] for problem in validate_submission(FILE)})


def check_result_and_improvement():
    """A result's normalised metrics, and how the optimized model compares."""
    base, fast = BASELINE.to_dict(), OPTIMIZED.to_dict()
    return {
        "baseline": {
            k: base[k] for k in ("model", "accuracy", "size_bytes", "batch_size", "throughput")
        },
        "improvement": improvement(base, fast),
    }


def check_valid_submission_round_trip():
    """A made submission is valid, written atomically, and loads back equal."""
    submission = _submission()
    write_submission(FILE, submission)
    loaded = load_submission(FILE)
    return {
        "valid": validate_submission(submission) == [],
        "equal": loaded == json.loads(json.dumps(submission)),
        "significant": loaded["improvement"]["significance"]["significant"],
    }


def check_problems_are_found_where_they_are():
    """Broken schema, inconsistent figures and a lying significance flag, each located."""
    write_submission(FILE, _submission())

    def schema(d):
        d["baseline"]["accuracy"] = 1.5
        d["extra"] = True

    def figures(d):
        d["improvement"]["speedup"] = 99.0
        d["optimized"]["batch_size"] = 32

    def flag(d):
        d["improvement"]["significance"].update(p_value=0.2, significant=True)

    found = {
        name: _problems_at(damage)
        for name, damage in (("schema", schema), ("figures", figures), ("flag", flag))
    }
    return found


def check_unreadable_files_are_refused():
    """Missing, non-JSON and binary files are problems listed, never crashes."""
    results = {}
    for name, content in (("text", "not json {"), ("binary", None)):
        if content is None:
            open(FILE, "wb").write(bytes(range(256)))
        else:
            open(FILE, "w").write(content)
        try:
            load_submission(FILE)
            results[name] = "loaded"
        except SubmissionError as error:
            results[name] = bool(error.problems)
    results["missing"] = bool(validate_submission("no-such-file.json"))
    return results
