"""In Chromium: no panel of the History tab shows something that is no longer true: a comparison goes when A or B
changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import browser_steps as steps
from tests.browser import browser_page, screenshot
from tests.test_browser_compare import compare_them
from tests.test_browser_compare import two_runs as two_comparable_runs

pytestmark = pytest.mark.browser


def test_a_comparison_goes_when_a_or_b_changes(studio, tmp_path: Path) -> None:
    options = two_comparable_runs(studio, tmp_path)
    with browser_page(1366, 900) as page:
        compare_them(page, studio, options)
        page.locator("#compare-crops .gallery-item").first.wait_for()
        page.locator("#compare-differences").wait_for()
        steps.choose(page, "compare-a", options[1][0])  # A is now B's run: the slider showed the pair before
        page.locator("#compare-slider img").first.wait_for(state="detached", timeout=5_000)
        page.locator("#compare-crops .gallery-item").first.wait_for(state="detached", timeout=5_000)
        page.locator("#compare-region img").first.wait_for(state="detached", timeout=5_000)
        page.locator("#compare-differences").wait_for(state="hidden", timeout=5_000)
        screenshot(page, "compare-cleared")
        page.locator("#compare-go").click()  # compared again: the new pair is shown
        page.locator("#compare-slider img").nth(1).wait_for()
        steps.choose(page, "compare-b", options[0][0])  # and B's change clears it too
        page.locator("#compare-slider img").first.wait_for(state="detached", timeout=5_000)
