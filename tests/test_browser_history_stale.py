"""In Chromium: no panel of the History tab shows something that is no longer true. A run selected, then filtered
out of the table, is no longer selected (Delete acted on it, unseen); a comparison goes when A or B changes; Undo
follows the bin when the deleted run is put back by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from core.runs import store
from tests import browser_steps as steps
from tests.browser import HISTORY_ROWS, browser_page, history_page, screenshot
from tests.conftest import api_client
from tests.test_browser_compare import compare_them
from tests.test_browser_compare import two_runs as two_comparable_runs

pytestmark = pytest.mark.browser
ROWS = HISTORY_ROWS
DELETE_FIRST = "Select a run in the table first (one not in the bin) to delete it."


def fox_and_owl(studio: str, tmp_path: Path) -> None:
    """Two runs, of fox.png and of owl.png."""
    client = api_client(studio)
    for name, colour in (("fox.png", "orange"), ("owl.png", "brown")):
        photo = tmp_path / name
        Image.new("RGB", (40, 30), colour).save(photo)
        client.predict(handle_file(str(photo)), None, upscale_factor=1, seed=1, engine="local",
                       api_name="/upscale")


def rows(page, count: int) -> None:
    page.wait_for_function(f"() => ({ROWS})() === {count}")


def select(page, name: str) -> None:
    """Click the table's row of the picture ``name`` and wait for its details."""
    page.locator("#history-table [role=gridcell]", has_text=name).first.click()
    page.locator("#history-details").get_by_text(name).first.wait_for()


def details_without(page, name: str) -> None:
    """Wait (a few seconds at most) until the Run details no longer mention ``name``."""
    page.wait_for_function("t => !document.querySelector('#history-details').innerText.includes(t)", arg=name,
                           timeout=5_000)


def live() -> list[str]:
    """The pictures' names of the runs not in the bin."""
    return list(store.store().table(None)["input"])


def test_a_run_filtered_out_of_the_table_is_no_longer_selected(studio, tmp_path: Path) -> None:
    fox_and_owl(studio, tmp_path)
    with history_page(studio, 2) as page:
        select(page, "fox.png")
        search = page.locator("#history-search textarea, #history-search input").first
        search.fill("owl")
        search.press("Enter")  # the fox is not in the table now …
        rows(page, 1)
        details_without(page, "fox.png")  # … so its details go with it
        screenshot(page, "history-filtered-out")
        page.locator("#history-delete").click()  # and Delete does not act on a run the table does not show
        page.locator("#history-action").get_by_text(DELETE_FIRST).wait_for()
        assert sorted(live()) == ["fox.png", "owl.png"]

        search.fill("")
        search.press("Enter")
        rows(page, 2)
        select(page, "owl.png")
        steps.choose(page, "history-status", "recently deleted")  # the bin: the owl is not in it
        page.locator("#history-shown").get_by_text("The bin").wait_for()
        details_without(page, "owl.png")
        steps.choose(page, "history-status", "any")
        rows(page, 2)
        select(page, "owl.png")
        steps.choose(page, "history-engine", "lanczos")  # the Engine filter, too
        rows(page, 0)
        details_without(page, "owl.png")


def put_back_from_the_bin(page, name: str) -> None:
    """Open the bin (it holds that run only), select the run and put it back."""
    steps.choose(page, "history-status", "recently deleted")
    rows(page, 1)
    select(page, name)
    page.locator("#history-put-back").click()
    page.locator("#history-action").get_by_text("Put back 1 run.").wait_for()


def test_a_run_put_back_leaves_the_bin_and_the_selection(studio, tmp_path: Path) -> None:
    fox_and_owl(studio, tmp_path)
    with history_page(studio, 2) as page:
        select(page, "fox.png")
        page.locator("#history-delete").click()
        rows(page, 1)
        put_back_from_the_bin(page, "fox.png")
        rows(page, 0)  # the fox left the bin: its details go too
        details_without(page, "fox.png")
        assert not page.locator("#history-delete").is_visible()  # the bin offers no Delete to act on it unseen
        steps.choose(page, "history-status", "any")
        rows(page, 2)
        page.locator("#history-delete").click()  # nothing selected: it refuses
        page.locator("#history-action").get_by_text(DELETE_FIRST).wait_for()
        assert sorted(live()) == ["fox.png", "owl.png"]


def test_undo_follows_the_bin_when_the_run_is_put_back_by_hand(studio, tmp_path: Path) -> None:
    fox_and_owl(studio, tmp_path)
    with history_page(studio, 2) as page:
        select(page, "fox.png")
        page.locator("#history-delete").click()
        rows(page, 1)
        undo = page.locator("#history-undo")
        assert not undo.is_disabled() and "1 run" in undo.inner_text()
        put_back_from_the_bin(page, "fox.png")
        page.wait_for_function("() => document.querySelector('#history-undo').disabled", timeout=5_000)
        assert "1 run" not in undo.inner_text()  # nothing is left to undo, and it does not say otherwise
        screenshot(page, "history-undo-after-put-back")


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
