"""Fixtures shared by every test folder: a headless browser for pages we generate."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by playwright (whose own browsers are never downloaded)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium here (CI installs Debian's chromium in .ci/run)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()
