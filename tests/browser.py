"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for the browser tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from testsupport.chromium import ARGS, CHROMIUM

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def browser_page(width: int = 1400, height: int = 1000, color_scheme: str = "light") -> Iterator:
    """A fresh page in headless Chromium."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: the README's test command installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=color_scheme)
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            browser.close()


def screenshot_dir() -> Path:
    """Where screenshots go: a temporary folder, so the tests leave the checkout clean; ``CLARITY_SCREENSHOTS``
    names another (``scripts/screenshots.sh`` sets it to docs/screenshots to refresh the README's)."""
    chosen = os.environ.get("CLARITY_SCREENSHOTS", "").strip()
    if chosen:
        return Path(chosen) if Path(chosen).is_absolute() else ROOT / chosen
    return Path(tempfile.gettempdir()) / "clarity-screenshots"


def screenshot(page, name: str) -> Path:
    """Save a screenshot (see ``screenshot_dir``)."""
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


HISTORY_ROWS = "() => document.querySelectorAll('#history-table [role=row].virtual-row').length"


@contextmanager
def history_page(studio: str, rows: int) -> Iterator:
    """A page at 1366×900 on the History tab, once its table shows ``rows`` runs."""
    from tests import browser_steps as steps

    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        page.wait_for_function(f"() => ({HISTORY_ROWS})() === {rows}")
        yield page
