"""In Chromium: the console shows its latest line as a run streams, without the visitor scrolling it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests import browser_steps as steps
from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser


def test_the_console_follows_its_newest_line(studio, tmp_path: Path, fal_server, fal_key, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=3, logs=[f"step {n}/40" for n in range(1, 41)])
    photo = tmp_path / "small.png"
    Image.radial_gradient("L").resize((48, 48)).convert("RGB").save(photo)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("fal", exact=True).click()
        steps.upload(page, str(photo))
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        steps.wait_console(page, "Done in")
        page.wait_for_timeout(600)
        box = page.locator("#console textarea")
        assert box.evaluate("b => b.scrollHeight > b.clientHeight + 20")  # more lines than it shows at once
        assert box.evaluate("b => b.scrollTop + b.clientHeight >= b.scrollHeight - 4"), "the last line is hidden"
        screenshot(page, "console-follows")


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_the_result_is_in_view_when_it_arrives(studio, tmp_path: Path, width: int, height: int) -> None:
    photo = tmp_path / "small.png"
    Image.radial_gradient("L").resize((64, 48)).convert("RGB").save(photo)
    with browser_page(width, height) as page:
        steps.open_app(page, studio)
        steps.upload(page, str(photo))
        page.locator("#run-button").scroll_into_view_if_needed()
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        page.locator("#result-slider img").first.wait_for()
        page.wait_for_timeout(900)
        top, bottom = page.locator("#result-slider").evaluate(
            "e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; }")
        assert top >= 0 and (bottom <= height + 1 or top < height / 3), (top, bottom, height)
        screenshot(page, f"result-in-view-{width}")


def test_a_visitor_who_scrolled_away_during_a_run_is_left_there_when_it_ends(studio, tmp_path: Path, fal_server,
                                                                            fal_key, monkeypatch) -> None:
    """A user trial: on a phone the page jumped back to the result when it landed, though the visitor had
    scrolled up to the form while it ran."""
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=2, run_polls=10, logs=[])
    photo = tmp_path / "away.png"
    Image.radial_gradient("L").resize((56, 40)).convert("RGB").save(photo)
    with browser_page(390, 844) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("fal", exact=True).click()
        steps.upload(page, str(photo))
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=running]").wait_for(timeout=60_000)
        page.wait_for_timeout(400)  # the start is shown (the page follows the work)
        page.evaluate("window.scrollTo(0, 0)")  # up to the form, to change a setting
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        page.wait_for_timeout(900)
        assert page.evaluate("window.scrollY") < 50
        screenshot(page, "left-where-scrolled")


# Every value the console shows, polled every 5 ms (a textarea's value changes without DOM mutations).
RECORD = """() => {
  window.__shown = [];
  setInterval(() => {
    const value = document.querySelector('#console textarea').value;
    if (window.__shown[window.__shown.length - 1] !== value) window.__shown.push(value);
  }, 5);
}"""


def test_a_streamed_line_stays_in_the_console(studio, tmp_path: Path, fal_server, fal_key, monkeypatch) -> None:
    """The Upscale event writes the console itself, and the view's own render follows one request later: that
    later render must never put back an older text, so a line once shown stays until the next run."""
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=2, run_polls=8, logs=[f"tile {n}/8" for n in range(1, 9)])
    photo = tmp_path / "small.png"  # not the other test's picture: the app's engine remembers its upload URL by
    Image.radial_gradient("L").resize((40, 40)).convert("RGB").save(photo)  # content; the server forgets it
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("fal", exact=True).click()
        steps.upload(page, str(photo))
        page.evaluate(RECORD)
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        steps.wait_console(page, "Done in")
        page.wait_for_timeout(500)
        shown = [value for value in page.evaluate("window.__shown") if "Checking the input" in value]
        final = steps.console_text(page)
        assert all(final.startswith(value) for value in shown), "a line vanished from the console"
        assert all(f"[INFO] tile {n}/8" in final for n in range(1, 9)) and final.count("tile 8/8") == 1
        # it streamed: the lines came in several updates, not all at the end (at least 3: on a loaded machine
        # Gradio's stream delivered the ten lines of this one-second run in 3 updates)
        assert len(shown) >= 3


def test_on_a_phone_a_run_started_from_the_bottom_bar_brings_its_progress_into_view(
        studio, tmp_path: Path, fal_server, fal_key, monkeypatch) -> None:
    # From a user trial: at 390×844, tapping Upscale in the bar at the bottom left the page at the examples; the
    # stage strip and the console were two screens down, and only the button's "Upscaling…" said anything ran.
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=12, logs=[f"step {n}/12" for n in range(1, 13)])
    photo = tmp_path / "phone.png"
    Image.radial_gradient("L").resize((44, 40)).convert("RGB").save(photo)
    with browser_page(390, 844) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("fal", exact=True).click()
        steps.upload(page, str(photo))
        page.evaluate("() => window.scrollTo(0, 0)")
        page.locator("#run-button").click()  # in the bar fixed at the bottom of the screen
        page.locator("#stage [data-stage=running]").wait_for(timeout=60_000)
        page.wait_for_timeout(700)  # the page's own look at the stage, every 150 ms, and a smooth scroll
        top, bottom, bar = page.evaluate("""() => {
            const r = document.querySelector('#stage').getBoundingClientRect();
            return [r.top, r.bottom, document.querySelector('#run-bar').getBoundingClientRect().top]; }""")
        assert top >= 0 and bottom <= bar, (top, bottom, bar)  # wholly in view, above the bar
        screenshot(page, "phone-run-in-view")
