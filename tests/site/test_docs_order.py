"""The built documentation site, in headless Chromium: it follows the curriculum manifest.

Run by ``nox -s docs`` right after the build (``TINYTORCH_DOCS_HTML`` names the built
site; default ``docs/_build/html``). The sidebar, the curriculum page, the tier pages and
the next/previous links go foundation → arch → opt, Module 01 → 20, then the milestones;
every page loads offline. Skipped only where no chromium is installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tinytorch_learn.curriculum import load

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("TINYTORCH_DOCS_HTML", ROOT / "docs" / "_build" / "html")).resolve()
SCREENSHOTS = SITE.parent / "screenshots"
MANIFEST = load(ROOT)

CURRICULUM_PAGE = "_generated/modules/index.html"
#: The reading order: the curriculum page, each tier page followed by its modules, then
#: the milestones.
READING_ORDER = [
    CURRICULUM_PAGE,
    *(
        page
        for tier in MANIFEST.tiers
        for page in (
            f"_generated/tiers/{tier.name}.html",
            *(f"_generated/modules/{m.slug}.html" for m in MANIFEST.modules_of(tier.name)),
        )
    ),
    "_generated/milestones.html",
]


@pytest.fixture(scope="module")
def site() -> Path:
    assert (SITE / "index.html").is_file(), f"no built site in {SITE}: run `nox -s docs`"
    return SITE


@pytest.fixture
def page(browser, site: Path):
    """A desktop-width page that records every request leaving the built site."""
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.outside = []
    tab.on("request", lambda r: None if r.url.startswith("file:") else tab.outside.append(r.url))
    yield tab
    tab.close()


def open_page(page, site: Path, path: str) -> None:
    page.goto((site / path).as_uri())


def here(page, site: Path) -> str:
    """The page shown, relative to the site (``_generated/modules/01_tensor.html``)."""
    return Path(urlparse(page.url).path).relative_to(site).as_posix()


def linked(page, selector: str, site: Path) -> list[str]:
    """The pages the links matching ``selector`` point to, in DOM order, site-relative."""
    hrefs = page.eval_on_selector_all(selector, "links => links.map(a => a.href)")
    return [Path(urlparse(h).path).relative_to(site).as_posix() for h in hrefs]


def module_links(page, site: Path) -> list[str]:
    """The module pages the article links to, in order."""
    pages = linked(page, "article a.reference.internal", site)
    return [p for p in pages if p.startswith("_generated/modules/") and p != CURRICULUM_PAGE]


def test_next_and_previous_links_walk_the_curriculum_in_order(page, site: Path) -> None:
    open_page(page, site, "index.html")
    walked = []
    while here(page, site) != READING_ORDER[-1] and len(walked) < 60:
        page.click("a.right-next")
        walked.append(here(page, site))
    start = walked.index(CURRICULUM_PAGE)
    assert walked[start:] == READING_ORDER
    back = [here(page, site)]
    while back[-1] != CURRICULUM_PAGE and len(back) < 60:
        page.click("a.left-prev")
        back.append(here(page, site))
    assert back == READING_ORDER[::-1]
    assert page.outside == []  # the site works offline


def test_the_sidebar_lists_tiers_then_their_modules_in_curriculum_order(page, site: Path) -> None:
    open_page(page, site, "_generated/modules/13_transformers.html")
    tiers = linked(page, "nav.bd-docs-nav li.toctree-l1 > a", site)
    assert tiers == [f"_generated/tiers/{t.name}.html" for t in MANIFEST.tiers]
    modules = linked(page, "nav.bd-docs-nav li.toctree-l2 > a", site)
    assert modules == [f"_generated/modules/{m.slug}.html" for m in MANIFEST.modules]
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "module-13.png"))


def test_the_curriculum_page_describes_each_tier_and_lists_its_modules(page, site) -> None:
    open_page(page, site, CURRICULUM_PAGE)
    headings = page.eval_on_selector_all("article h2", "hs => hs.map(h => h.innerText)")
    assert [h.rstrip("#").strip() for h in headings] == [f"{t.title} tier" for t in MANIFEST.tiers]
    text = page.inner_text("article")
    assert all(" ".join(t.description.split()) in " ".join(text.split()) for t in MANIFEST.tiers)
    assert module_links(page, site) == [
        f"_generated/modules/{m.slug}.html" for m in MANIFEST.modules
    ]
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / "curriculum.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("tier", MANIFEST.tiers, ids=lambda t: t.name)
def test_each_tier_page_has_its_description_and_its_modules_in_order(page, site, tier) -> None:
    open_page(page, site, f"_generated/tiers/{tier.name}.html")
    assert page.inner_text("article h1").rstrip("#").strip() == f"{tier.title} tier"
    assert " ".join(tier.description.split()) in " ".join(page.inner_text("article").split())
    modules = MANIFEST.modules_of(tier.name)
    assert module_links(page, site) == [f"_generated/modules/{m.slug}.html" for m in modules]


def test_the_milestones_page_never_blames_an_installed_tier(page, site: Path) -> None:
    open_page(page, site, "_generated/milestones.html")
    text = page.inner_text("article")
    assert "not installed" not in text  # the docs build installs every tier
    titles = page.eval_on_selector_all("article h2", "hs => hs.map(h => h.innerText)")
    assert [t.rstrip("#").strip() for t in titles] == [
        f"{m.number}. {m.name}" for m in MANIFEST.milestones
    ]
