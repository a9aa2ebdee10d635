"""Result summaries, result files and paths: what a learner reads at the end of a milestone."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import common


def finished(result: common.Result, capsys) -> tuple[int, str, dict]:
    code = result.finish()
    return code, capsys.readouterr().out, json.loads((common.RESULTS_DIR / "m.json").read_text())


def test_summary_lists_one_check_per_line_in_the_order_they_were_made(capsys) -> None:
    result = common.Result("m", "Milestone", seeds=[0])
    names = ["zeta accuracy", "alpha drop (points)", "middle speedup (x)"]
    result.check(names[0], 0.98, 0.97)
    result.check(names[1], 0.5, 1.0, at_least=False)
    result.check(names[2], 12.0, 10.0)
    code, out, saved = finished(result, capsys)
    lines = [line for line in out.splitlines() if line.split("  ")[0].strip() in names]
    assert [line.split("  ")[0].strip() for line in lines] == names
    assert all(line.rstrip().endswith("PASS") for line in lines)
    assert list(saved["checks"]) == names  # the JSON keeps the order too
    assert code == 0 and saved["passed"] is True


def test_a_missed_bar_fails_the_milestone(capsys) -> None:
    result = common.Result("m", "Milestone", seeds=[0])
    result.check("accuracy", 0.5, 0.97)
    code, out, saved = finished(result, capsys)
    assert code == 1 and saved["passed"] is False
    assert "FAIL" in out and "FAILED" in out


def test_a_check_without_a_bar_is_measured_not_judged(capsys) -> None:
    result = common.Result("m", "Milestone", seeds=[0])
    result.check("accuracy on unknown data", 0.61, None)
    code, out, saved = finished(result, capsys)
    assert code == 0
    assert saved["passed"] is None
    assert saved["checks"]["accuracy on unknown data"] == {
        "value": 0.61, "bar": None, "rule": None, "passed": None
    }  # fmt: skip
    assert "no bar" in out and "MEASURED" in out


def test_json_and_png_results_get_the_same_file_mode(capsys) -> None:
    fig, (ax,) = common.figure("title", 1)
    ax.plot([0, 1], [0, 1])
    png = common.save_figure(fig, "m")
    result = common.Result("m", "Milestone", seeds=[0])
    result.check("x", 1.0, 1.0)
    finished(result, capsys)
    umask = os.umask(0)
    os.umask(umask)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (png, common.RESULTS_DIR / "m.json")}
    assert modes == {0o666 & ~umask}
    assert not list(common.RESULTS_DIR.glob(".*.tmp"))  # no temporary file left behind


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "r.json"
    common.write_json(path, {"old": True})

    def broken(source, target) -> None:  # the new file is complete; the rename fails
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        common.write_json(path, {"new": True})
    assert json.loads(path.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_printed_paths_are_relative_to_the_working_folder(tmp_path: Path, capsys) -> None:
    result = common.Result("m", "Milestone", seeds=[0])
    result.check("x", 1.0, 1.0)
    _, out, _ = finished(result, capsys)
    assert "results: results/m.json" in out
    assert common.shown(tmp_path / "a" / "b.png") == os.path.join("a", "b.png")
    assert common.shown("/") == "/"  # outside the working folder: absolute


@pytest.mark.parametrize("given", ["0", "-3", "two", "1.5"])
def test_an_epoch_count_below_one_or_not_whole_is_refused_with_the_reason(given: str, capsys):
    parser = common.arguments("Milestone")
    parser.add_argument("--epochs", type=common.epoch_count)
    with pytest.raises(SystemExit):
        parser.parse_args(["--epochs", given])
    assert "argument --epochs:" in capsys.readouterr().err
    assert parser.parse_args(["--epochs", "1"]).epochs == 1
