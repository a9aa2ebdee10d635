"""The capstone leaderboard: a folder of submissions becomes one static page, measured not claimed.

The folder (``leaderboard_entries.py`` writes it) holds honest, duplicate, inflated,
claims-only, invalid and hostile submissions; ``python -m coursetools.leaderboard
--verify`` builds the page, re-measuring the models in the grader's sandbox. The page is
read with an HTML parser, then rendered in headless Chromium (skipped only where no
browser is installed; CI installs Debian's ``chromium``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from coursetools import sandbox
from coursetools.tiers import COURSES_DIR, PACKAGES_DIR

HERE = Path(__file__).parent
TIERS = [PACKAGES_DIR / f"tinytorch-{tier}" / "src" for tier in ("foundation", "arch", "opt")]


@dataclass(frozen=True)
class Built:
    folder: Path
    page: Path
    html: BeautifulSoup
    printed: str


def run(*args: object) -> subprocess.CompletedProcess:
    """``python ARGS`` with the course tooling and every tier's source importable."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [COURSES_DIR, *TIERS]))}
    done = subprocess.run(
        [sys.executable, *map(str, args)], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    try:
        sandbox.isolation()
    except sandbox.SandboxError as error:
        pytest.skip(str(error))
    root = tmp_path_factory.mktemp("leaderboard")
    folder, page = root / "submissions", root / "site" / "index.html"
    run(HERE / "leaderboard_entries.py", folder)
    done = run("-m", "coursetools.leaderboard", folder, "--verify", "--out", page)
    return Built(folder, page, BeautifulSoup(page.read_text("utf-8"), "html.parser"), done.stdout)


def rows(html: BeautifulSoup, track: str) -> list[Tag]:
    return html.select(f"section#{track} table.board tbody tr")


def cell(row: Tag, column: str) -> Tag:
    return row.select_one(f'td[data-column="{column}"]')


def files(html: BeautifulSoup, track: str) -> list[str]:
    return [cell(row, "entry").select_one(".file").get_text() for row in rows(html, track)]


# ----------------------------------------------------------------------------- content


def test_every_file_is_on_the_page_and_invalid_ones_say_why(built: Built):
    invalid = {
        row.select_one("td.file").get_text(): row.select_one("ul.problems").get_text(" ")
        for row in built.html.select("section#invalid tbody tr")
    }
    assert sorted(invalid) == ["broken.json", "eve/bad-model.json", "tampered.json"]
    assert "not valid JSON" in invalid["broken.json"]
    assert "$.improvement.speedup: states 30.0" in invalid["tampered.json"]
    assert (
        "'subprocess.Popen' is not a layer a model file may hold" in invalid["eve/bad-model.json"]
    )
    assert str(built.folder) not in built.html.get_text()  # files are named within the folder
    set_aside = built.html.select_one("section#speed ul.set-aside").get_text(" ")
    assert sorted(files(built.html, "speed")) == sorted(
        ["alice/narrow.json", "bob/inflated.json", "carol/claims-only.json", "x<b>y.json"]
    )
    assert "alice/first-try.json" in set_aside and "kept alice/narrow.json" in set_aside


def test_the_speed_table_ranks_measured_figures_where_there_are_any(built: Built):
    table = rows(built.html, "speed")
    assert files(built.html, "speed") == [
        "alice/narrow.json",  # measured: a 64-16-10 MLP is many times faster than 64-512-512-10
        "carol/claims-only.json",  # claimed 3x, unverified
        "x<b>y.json",  # claimed 3x too: the same rank
        "bob/inflated.json",  # claims 10x, measured about 1x
    ]
    assert [cell(row, "rank").get_text() for row in table] == ["1", "2", "2", "4"]
    status = [cell(row, "status").select_one(".badge").get_text() for row in table]
    assert status == ["✓ verified", "unverified", "unverified", "✓ verified"]
    speedups = [float(cell(row, "speedup")["data-sort"]) for row in table]
    assert speedups[0] > 3.0 > speedups[3]


def test_a_claim_of_ten_times_the_measured_speedup_is_marked(built: Built):
    (bob,) = [row for row in rows(built.html, "speed") if "bob/" in row.get_text()]
    speedup = cell(bob, "speedup")
    assert float(speedup["data-sort"]) < 3.0  # ranked on what was measured
    assert speedup.select_one(".differs.inflated").get_text() == "⚠ claimed 10.00×"
    assert "bob/inflated.json                verified!" in built.printed


def test_figures_a_model_fixes_are_measured_exactly(built: Built):
    (alice,) = [row for row in rows(built.html, "speed") if "alice/" in row.get_text()]
    claimed = json.loads((built.folder / "alice" / "narrow.json").read_text())["optimized"]
    for column in ("accuracy", "smaller"):  # deterministic: claimed and measured agree
        assert cell(alice, column).select_one(".differs") is None
    assert float(cell(alice, "accuracy")["data-sort"]) == claimed["accuracy"]
    assert "best of 2 for this task" in cell(alice, "learner").get_text()


def test_learner_text_never_becomes_markup(built: Built):
    html = built.html
    (script,) = html.find_all("script")
    assert script.get_text().lstrip().startswith("// Sort a board")
    assert not html.find_all(["img", "b", "iframe", "object", "embed", "link"])
    for element in html.find_all(True):
        assert not any(name.startswith("on") for name in element.attrs), element
        for name in ("href", "src", "action", "xlink:href"):
            value = element.get(name)
            assert value is None or value.startswith("#"), element  # nothing leaves the page
    text = html.get_text()
    for hostile in ('<script>alert("submitter")</script>', '"><img src=x onerror=alert(1)>'):
        assert hostile in text
    assert "</style><b>bold</b>" in text and "x<b>y.json" in text


def test_each_track_has_a_caption_and_keyboard_sortable_headers(built: Built):
    tables = built.html.select("table.board")
    assert [t.find_parent("section")["id"] for t in tables] == [
        "speed",
        "compression",
        "accuracy",
        "all-round",
    ]
    for table in tables:
        assert len(table.caption.get_text(strip=True)) > 60
        headers = table.select("thead th")
        assert all(th.select_one("button[type=button]") for th in headers)
        assert [th.get("aria-sort") for th in headers if th.get("aria-sort")] == ["ascending"]
    chart = built.html.select_one("section#chart svg[role=img]")
    assert len(chart.select("g.point")) == 5  # every valid entry, baseline to optimized


# ----------------------------------------------------------------------------- a browser
# (the ``browser`` fixture: tests/conftest.py)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_renders_in_chromium_at_desktop_and_phone_width(built: Built, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: None if r.url.startswith("file:") else problems.append(r.url))
    page.goto(built.page.as_uri())
    shot = built.page.with_name(f"leaderboard-{width}.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000 and not problems
    # Only the tables scroll sideways, never the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.close()


def test_a_column_sorts_from_the_keyboard(built: Built, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(built.page.as_uri())
    header = page.locator('#speed th[data-column="smaller"]')
    rank = page.locator('#speed th[data-column="rank"]')
    column = '#speed tbody td[data-column="smaller"]'

    header.locator("button").focus()
    page.keyboard.press("Enter")
    assert (
        header.get_attribute("aria-sort") == "descending"
        and rank.get_attribute("aria-sort") is None
    )
    values = [
        float(v)
        for v in page.eval_on_selector_all(column, "cells => cells.map(c => c.dataset.sort)")
    ]
    assert values == sorted(values, reverse=True) and len(values) == 4

    page.keyboard.press("Space")
    assert header.get_attribute("aria-sort") == "ascending"
    values = [
        float(v)
        for v in page.eval_on_selector_all(column, "cells => cells.map(c => c.dataset.sort)")
    ]
    assert values == sorted(values)
    page.close()
