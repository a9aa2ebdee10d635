"""Module 20 · Capstone — the specification, as tests.

A submission round-trips through the file system unchanged; a bad one is refused before
anything is written; and ``validate_submission`` names every problem of every kind in a
bad file, not only the first.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from tinytorch import capstone
from tinytorch.perf.benchmarking import summarize

BASE_SAMPLES = np.random.default_rng(0).normal(0.010, 0.0005, 30)
FAST_SAMPLES = np.random.default_rng(1).normal(0.004, 0.0002, 30)


def results() -> tuple[capstone.ModelResult, capstone.ModelResult]:
    baseline = capstone.ModelResult(
        "mlp-fp32", 0.95, summarize(BASE_SAMPLES, "baseline"), 400_000, 64, parameters=100_000
    )
    optimized = capstone.ModelResult(
        "mlp-int8", 0.94, summarize(FAST_SAMPLES, "optimized"), 100_000, 64
    )
    return baseline, optimized


def submission() -> dict:
    baseline, optimized = results()
    return capstone.make_submission(
        submitter="Ada",
        task="tinydigits-mlp",
        dataset="TinyDigits",
        baseline=baseline,
        optimized=optimized,
        optimizations=["int8-quantization"],
        accuracy_target=0.9,
        notes="Module 20 test",
    )


@pytest.fixture
def written(tmp_path: Path) -> Path:
    return capstone.write_submission(tmp_path / "submission.json", submission())


def rewrite(path: Path, change) -> Path:
    """Edit a written submission behind the validator's back."""
    document = json.loads(path.read_text("utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# ============================================================================= the schema


@pytest.mark.ungraded
def test_the_schema_ships_with_the_package_and_is_valid_draft_2020_12() -> None:
    schema = capstone.load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == capstone.SCHEMA_VERSION
    assert {"baseline", "optimized", "improvement", "system"} <= set(schema["required"])


# ============================================================================= building


def test_a_result_records_normalized_metrics() -> None:
    baseline, _ = results()
    record = baseline.to_dict()
    assert record["accuracy"] == 0.95 and record["size_bytes"] == 400_000
    assert record["batch_size"] == 64 and record["parameters"] == 100_000
    assert record["latency"]["median_s"] == pytest.approx(np.median(BASE_SAMPLES))
    assert record["throughput"] == pytest.approx(64 / np.median(BASE_SAMPLES))
    assert "parameters" not in results()[1].to_dict()


def test_improvement_by_hand() -> None:
    def result(median: float, size: int, accuracy: float, batch: int = 10) -> dict:
        return {
            "latency": {"median_s": median},
            "size_bytes": size,
            "accuracy": accuracy,
            "throughput": batch / median,
        }

    gain = capstone.improvement(result(0.010, 400_000, 0.95), result(0.004, 100_000, 0.94))
    assert gain["speedup"] == pytest.approx(2.5)
    assert gain["size_reduction"] == pytest.approx(4.0)
    assert gain["accuracy_delta"] == pytest.approx(-0.01)
    assert gain["throughput_gain"] == pytest.approx(2.5)


def test_make_submission_adds_significance_and_system_metadata() -> None:
    document = submission()
    assert document["schema_version"] == capstone.SCHEMA_VERSION
    significance = document["improvement"]["significance"]
    assert significance["significant"] is True and significance["p_value"] < 0.05
    assert significance["test"] == "welch" and significance["alpha"] == 0.05
    assert document["system"]["cpu_count"] >= 1
    assert document["task"] == {
        "name": "tinydigits-mlp",
        "dataset": "TinyDigits",
        "division": "closed",
        "accuracy_target": 0.9,
    }
    assert capstone.validate_submission(document) == []


# ============================================================================= writing and reading


def test_round_trip(tmp_path: Path) -> None:
    document = submission()
    path = capstone.write_submission(tmp_path / "runs" / "submission.json", document)
    assert path == tmp_path / "runs" / "submission.json"
    assert capstone.validate_submission(path) == []
    assert capstone.load_submission(path) == document
    text = path.read_text("utf-8")
    assert text.endswith("\n") and text.startswith("{\n  ")
    assert os.listdir(path.parent) == ["submission.json"]  # no temporary file left behind


def test_write_replaces_an_existing_file_whole(written: Path) -> None:
    second = submission()
    second["submitter"] = "Grace"
    capstone.write_submission(written, second)
    assert capstone.load_submission(written)["submitter"] == "Grace"
    assert os.listdir(written.parent) == ["submission.json"]


def test_an_invalid_submission_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    bad = submission()
    bad["submitter"] = ""
    del bad["system"]
    target = tmp_path / "out" / "bad.json"
    with pytest.raises(capstone.SubmissionError) as info:
        capstone.write_submission(target, bad)
    system, submitter = info.value.problems
    assert system == "$: 'system' is a required property"
    assert submitter.startswith("$.submitter: ''")  # wording varies across jsonschema 4.x
    assert "2 problem(s)" in str(info.value)
    assert not target.exists()


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    written: Path, monkeypatch
) -> None:
    before = written.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        capstone.write_submission(written, submission())
    assert written.read_bytes() == before
    assert os.listdir(written.parent) == ["submission.json"]


def test_load_submission_raises_with_every_problem(written: Path) -> None:
    rewrite(written, lambda d: d.update(submitter="", schema_version="0.9"))
    with pytest.raises(capstone.SubmissionError) as info:
        capstone.load_submission(written)
    assert len(info.value.problems) == 2


# ============================================================================= reading problems


@pytest.mark.ungraded
def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    assert capstone.validate_submission(tmp_path / "nope.json") == [
        f"{tmp_path / 'nope.json'}: no such file"
    ]


def test_text_that_is_not_json_is_reported_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{\n  "submitter": "Ada",\n  oops\n}', encoding="utf-8")
    (problem,) = capstone.validate_submission(path)
    assert "not valid JSON" in problem and "line 3" in problem


@pytest.mark.ungraded
def test_binary_files_are_rejected_unread(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"\x80\x04\x95pickle")  # the start of a pickle: never unpickled
    (problem,) = capstone.validate_submission(path)
    assert "not UTF-8" in problem


@pytest.mark.ungraded
def test_oversized_files_are_rejected_unparsed(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(" " * (2 << 20), encoding="utf-8")
    (problem,) = capstone.validate_submission(path)
    assert "larger than a submission can be" in problem


def test_nan_and_duplicate_keys_are_reported(written: Path) -> None:
    text = written.read_text("utf-8")
    text = text.replace('"accuracy": 0.95', '"accuracy": NaN', 1)
    text = text.replace('"submitter": "Ada"', '"submitter": "Ada", "submitter": "Eve"', 1)
    written.write_text(text, encoding="utf-8")
    problems = capstone.validate_submission(written)
    assert any(p.startswith("$.baseline.accuracy: nan is not a JSON number") for p in problems)
    assert any("'submitter' appears more than once" in p for p in problems)


def deeply_nested(depth: int) -> list:
    """[[[...]]] ``depth`` lists deep, built without recursion."""
    outer = inner = []
    for _ in range(depth - 1):
        inner.append([])
        inner = inner[0]
    return outer


# The same bad value put into an in-memory submission and into the text of a file.
# Both must give exactly the same problems: one validator, one verdict.
SAME_VERDICT = {
    "NaN accuracy": (
        lambda d: d["baseline"].update(accuracy=math.nan),
        lambda t: t.replace('"accuracy": 0.95', '"accuracy": NaN', 1),
        "$.baseline.accuracy: nan is not a JSON number",
    ),
    "1e999 (infinity) where nothing recomputes it": (
        lambda d: d["baseline"]["latency"].update(std_s=math.inf),
        lambda t: re.sub(r'"std_s": [^,}]+', '"std_s": 1e999', t, count=1),
        "$.baseline.latency.std_s: inf is not a JSON number",
    ),
    "a 5001-digit integer": (
        lambda d: d["baseline"].update(size_bytes=10**5000),
        lambda t: t.replace('"size_bytes": 400000', '"size_bytes": 1' + "0" * 5000, 1),
        "$.baseline.size_bytes: an integer of 5001 digits is beyond ±(2**53 - 1)",
    ),
    "an integer JSON cannot hold exactly": (
        lambda d: d["baseline"].update(parameters=2**53 + 1),
        lambda t: t.replace('"parameters": 100000', f'"parameters": {2**53 + 1}', 1),
        "$.baseline.parameters: an integer of 16 digits is beyond ±(2**53 - 1)",
    ),
    "100,000-deep nesting": (
        lambda d: d.update(notes=deeply_nested(100_000)),
        lambda t: t.replace(
            '"notes": "Module 20 test"', '"notes": ' + "[" * 100_000 + "]" * 100_000
        ),
        "$.notes" + "[0]" * 15 + ": nested more than 16 levels deep",
    ),
}


@pytest.mark.parametrize("case", list(SAME_VERDICT))
def test_a_file_and_a_dict_get_the_same_verdict_naming_the_field(tmp_path, case) -> None:
    damage_dict, damage_text, problem = SAME_VERDICT[case]
    document = submission()
    path = tmp_path / "s.json"
    path.write_text(damage_text(json.dumps(document)), encoding="utf-8")
    damage_dict(document)
    from_dict, from_file = (
        capstone.validate_submission(document),
        capstone.validate_submission(path),
    )
    assert from_dict == from_file
    assert from_dict and from_dict[0].startswith(problem), from_dict


def test_load_submission_never_returns_a_non_finite_number(tmp_path) -> None:
    path = tmp_path / "s.json"
    text = json.dumps(submission())
    path.write_text(re.sub(r'"mean_s": [^,}]+', '"mean_s": 1e999', text, count=1), encoding="utf-8")
    with pytest.raises(capstone.SubmissionError, match="mean_s: inf is not a JSON number"):
        capstone.load_submission(path)


def test_something_that_is_neither_a_path_nor_a_dict_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="validate_submission: expected a path or a dict, got list"):
        capstone.validate_submission([submission()])


# ============================================================================= schema problems


def test_every_missing_section_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{}", encoding="utf-8")
    problems = capstone.validate_submission(path)
    for name in (
        "schema_version",
        "submitter",
        "created",
        "task",
        "system",
        "baseline",
        "optimized",
        "improvement",
        "optimizations",
    ):
        assert f"$: '{name}' is a required property" in problems


def test_a_json_array_is_not_a_submission(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("[1, 2]", encoding="utf-8")
    assert capstone.validate_submission(path) == ["$: [1, 2] is not of type 'object'"]


def test_schema_problems_name_their_location(written: Path) -> None:
    def damage(d: dict) -> None:
        d["baseline"]["accuracy"] = 1.5
        d["optimized"]["size_bytes"] = -1
        d["optimized"]["latency"]["ci_method"] = "guess"
        d["system"]["cpu_count"] = "two"
        d["task"]["division"] = "premier"
        d["optimizations"] = ["int8", "int8"]
        d["extra"] = True

    problems = capstone.validate_submission(rewrite(written, damage))
    expected = [
        "$: Additional properties are not allowed ('extra' was unexpected)",
        "$.baseline.accuracy: 1.5 is greater than the maximum of 1",
        "$.optimizations: ['int8', 'int8'] has non-unique elements",
        "$.optimized.latency.ci_method: 'guess' is not one of ['bootstrap', 't']",
        "$.optimized.size_bytes: -1 is less than the minimum of 1",
        "$.system.cpu_count: 'two' is not of type 'integer'",
        "$.task.division: 'premier' is not one of ['closed', 'open']",
    ]
    for problem in expected:
        assert problem in problems
    assert problems[: len(expected)] == expected  # schema problems come in document order


# ============================================================================= meaning problems


def test_an_interval_must_contain_its_statistic(written: Path) -> None:
    def damage(d: dict) -> None:
        d["baseline"]["latency"]["ci_low_s"] = 0.5  # above ci_high
        d["optimized"]["latency"]["ci_high_s"] = d["optimized"]["latency"]["median_s"] / 2
        d["optimized"]["latency"]["ci_low_s"] = d["optimized"]["latency"]["median_s"] / 4

    problems = capstone.validate_submission(rewrite(written, damage))
    assert any(
        p.startswith("$.baseline.latency: ci_low_s 0.5 is above ci_high_s") for p in problems
    )
    assert any(
        p.startswith("$.optimized.latency: the median") and "outside its own interval" in p
        for p in problems
    )


def test_a_t_interval_needs_the_mean_it_is_about(written: Path) -> None:
    def damage(d: dict) -> None:
        d["baseline"]["latency"]["ci_statistic"] = "mean"
        del d["baseline"]["latency"]["mean_s"]

    problems = capstone.validate_submission(rewrite(written, damage))
    assert "$.baseline.latency: the interval is for the mean, but mean_s is missing" in problems


def test_throughput_must_follow_from_batch_size_and_latency(written: Path) -> None:
    problems = capstone.validate_submission(
        rewrite(written, lambda d: d["optimized"].update(batch_size=32))
    )
    assert any(
        p.startswith("$.optimized.throughput:") and "batch_size / median_s" in p for p in problems
    )


@pytest.mark.parametrize("key", ["speedup", "size_reduction", "accuracy_delta", "throughput_gain"])
def test_each_improvement_figure_must_match_the_results(written: Path, key: str) -> None:
    problems = capstone.validate_submission(
        rewrite(written, lambda d: d["improvement"].update({key: 99.0}))
    )
    assert any(p.startswith(f"$.improvement.{key}: states 99.0") for p in problems)


def test_the_significance_flag_must_agree_with_its_p_value(written: Path) -> None:
    def damage(d: dict) -> None:
        d["improvement"]["significance"].update(p_value=0.2, significant=True)

    problems = capstone.validate_submission(rewrite(written, damage))
    assert (
        "$.improvement.significance: significant is True but p_value 0.2 >= alpha 0.05" in problems
    )


def test_times_need_a_time_zone(written: Path) -> None:
    def damage(d: dict) -> None:
        d["created"] = "2025-01-02T03:04:05"
        d["system"]["timestamp"] = "yesterday"

    problems = capstone.validate_submission(rewrite(written, damage))
    assert (
        "$.created: '2025-01-02T03:04:05' has no time zone (write UTC, e.g. ...+00:00)" in problems
    )
    assert "$.system.timestamp: 'yesterday' is not an ISO 8601 date-time" in problems


def test_a_file_with_many_problems_lists_all_of_them(written: Path) -> None:
    def damage(d: dict) -> None:
        del d["baseline"]
        d["optimized"]["accuracy"] = -0.1
        d["optimized"]["latency"]["ci_low_s"] = 1.0
        d["improvement"]["speedup"] = 3.0
        d["created"] = "2025-01-02"

    problems = capstone.validate_submission(rewrite(written, damage))
    assert len(problems) >= 4
    joined = "\n".join(problems)
    for fragment in (
        "'baseline' is a required property",
        "-0.1 is less than the minimum",
        "ci_low_s 1.0 is above",
        "$.created",
    ):
        assert fragment in joined


def test_a_valid_in_memory_submission_has_no_problems_and_is_not_modified() -> None:
    document = submission()
    snapshot = copy.deepcopy(document)
    assert capstone.validate_submission(document) == []
    assert document == snapshot
