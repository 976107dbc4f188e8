"""In Chromium: every note beside the History tab's buttons says what is true now. A refusal, or what a button
did, goes when the state it is about changes: the filter, the search, the selection or the table.

A user trial found "Select a run in the table first … to delete it" still on screen after switching the Status
filter to the bin, where it no longer meant anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from tests import browser_steps as steps
from tests.browser import HISTORY_ROWS, browser_page, history_page, screenshot
from tests.conftest import api_client

pytestmark = pytest.mark.browser
ROWS = HISTORY_ROWS
DELETE_FIRST = "Select a run in the table first (one not in the bin) to delete it."


def two_runs(studio: str, tmp_path: Path) -> None:
    photo = tmp_path / "kept.png"
    Image.new("RGB", (40, 30), "teal").save(photo)
    client = api_client(studio)
    for seed in (1, 2):
        client.predict(handle_file(str(photo)), None, upscale_factor=1, seed=seed, engine="local",
                       api_name="/upscale")


def rows(page, count: int) -> None:
    page.wait_for_function(f"() => ({ROWS})() === {count}")


def says(page, elem_id: str, text: str) -> None:
    page.locator(f"#{elem_id}").get_by_text(text).wait_for()


def cleared(page, elem_id: str) -> None:
    """Wait (a few seconds at most) until the note ``elem_id`` says nothing."""
    page.wait_for_function("id => !document.querySelector(`#${id}`).innerText.trim()", arg=elem_id,
                           timeout=5_000)


def refused_delete(page) -> None:
    page.locator("#history-delete").click()
    says(page, "history-action", DELETE_FIRST)


def test_a_refusal_beside_the_buttons_goes_when_the_filter_search_selection_or_table_changes(
        studio, tmp_path: Path) -> None:
    two_runs(studio, tmp_path)
    with history_page(studio, 2) as page:
        refused_delete(page)
        steps.choose(page, "history-status", "recently deleted")  # the trial's case: the bin, where it is moot
        says(page, "history-shown", "The bin")
        cleared(page, "history-action")
        page.locator("#history-put-back").click()
        says(page, "history-action", "Select a run in the bin first to put it back.")
        steps.choose(page, "history-status", "any")
        rows(page, 2)
        cleared(page, "history-action")

        refused_delete(page)
        steps.choose(page, "history-engine", "local")  # the Engine filter
        cleared(page, "history-action")
        refused_delete(page)
        search = page.locator("#history-search textarea, #history-search input").first
        search.fill("kept")
        search.press("Enter")  # the search
        cleared(page, "history-action")
        refused_delete(page)
        page.locator("#history-refresh").click()  # the same table read again: the refusal is still true
        page.wait_for_timeout(800)
        assert DELETE_FIRST in page.locator("#history-action").inner_text()
        two_runs(studio, tmp_path)  # the table changes: new runs …
        page.locator("#history-refresh").click()  # … shown by Refresh
        cleared(page, "history-action")
        refused_delete(page)
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()  # a run selected
        page.locator("#history-details").get_by_text("kept.png").first.wait_for()
        cleared(page, "history-action")
        screenshot(page, "history-note-cleared")


def test_what_delete_did_stays_until_another_run_is_selected(studio, tmp_path: Path) -> None:
    two_runs(studio, tmp_path)
    with history_page(studio, 2) as page:
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()
        page.locator("#history-details").get_by_text("kept.png").first.wait_for()
        page.locator("#history-delete").click()
        says(page, "history-action", "Moved kept.png ×1")
        rows(page, 1)
        page.wait_for_timeout(800)  # the delete's own changes (the table, no run selected) keep what it said
        assert "Moved kept.png ×1" in page.locator("#history-action").inner_text()
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()  # another run, selected
        cleared(page, "history-action")


def test_the_dataset_line_goes_when_the_table_changes(studio, tmp_path: Path) -> None:
    two_runs(studio, tmp_path)
    with history_page(studio, 2) as page:
        steps.choose(page, "history-status", "recently deleted")
        says(page, "history-shown", "The bin")
        page.locator("#history-dataset").click()
        says(page, "history-dataset-line", "The bin is not exported")
        steps.choose(page, "history-status", "any")  # a table that can be exported now: the refusal is moot
        rows(page, 2)
        cleared(page, "history-dataset-line")
        page.locator("#history-dataset").click()
        says(page, "history-dataset-line", "2 pictures with their parameters")
        page.locator("#history-dataset-file").wait_for()
        steps.choose(page, "history-engine", "lanczos")  # the table has none of them now: not "2 pictures"
        rows(page, 0)
        cleared(page, "history-dataset-line")
        page.locator("#history-dataset-file").wait_for(state="hidden")


def test_a_compare_refusal_goes_when_another_run_is_chosen(studio, tmp_path: Path) -> None:
    two_runs(studio, tmp_path)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        page.locator("#compare-panel").get_by_text("Compare two runs").click()
        page.locator("#compare-go").click()
        says(page, "compare-note", "Choose two runs, A and B.")
        page.locator("#compare-a input").click()
        page.locator("#compare-a [role=option]").first.click()  # A chosen: the note was about none
        cleared(page, "compare-note")
