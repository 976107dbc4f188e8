"""In Chromium, what the run panel and the Fetch box say after a cancel, a restore, *Run the whole picture* and a
refused fetch: a fetched cancel reads as the live one did; a note about a picture goes when the picture does; a
refusal beside the Fetch box goes when the person does something else."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from core.runs import store
from tests import browser_steps as steps
from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser


def picture(tmp_path: Path, name: str, colour: str, size: tuple[int, int] = (64, 48)) -> str:
    path = tmp_path / name
    Image.new("RGB", size, colour).save(path)
    return str(path)


def fetch(page, request_id: str) -> None:
    """Type an id in *Fetch by request id* (opened if closed) and press Fetch."""
    box = page.locator("#fetch-request-id input, #fetch-request-id textarea").first
    if not box.is_visible():
        page.locator("#fetch-panel").get_by_text("Fetch by request id").click()
    box.fill(request_id)
    page.locator("#fetch-button").click()


def stage(page) -> str:
    return page.locator("#stage .stages").get_attribute("data-stage")


def run_locally(page) -> None:
    page.locator("#run-button").click()
    page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)


def test_a_cancelled_run_fetched_reads_as_the_live_cancel_did(studio, tmp_path, monkeypatch) -> None:
    # A user trial: fetched with "latest", the cancelled local run read "failed", with a red Error toast "Cancelled
    # by the user." and an Error badge on the empty Output PNG box.
    monkeypatch.delenv("FAL_KEY", raising=False)
    big = tmp_path / "mytest.png"
    Image.effect_noise((700, 700), 60).convert("RGB").save(big)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, str(big))
        steps.set_number(page, "upscale_factor", "4")
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=running]").wait_for(timeout=60_000)
        page.locator("#cancel-button").click()
        steps.wait_console(page, "Cancelled · request")
        live = stage(page)
        fetch(page, "latest")
        steps.wait_console(page, "Fetching request latest…")
        page.wait_for_function("() => ['done', 'failed', 'cancelled'].includes("
                               "document.querySelector('#stage .stages').dataset.stage)")
        page.wait_for_timeout(500)
        assert live == stage(page) == "cancelled"
        assert "Cancelled · request" in steps.console_text(page) and "Error" not in steps.console_text(page)
        assert page.locator(".toast-body", has_text="Cancelled").count() == 0  # no toast, red or not
        assert page.locator("#result-file .error, #result-slider .error").count() == 0  # no Error badge
        assert page.locator("#fetch-note").inner_text().strip() == ""
        screenshot(page, "fetch-cancelled")


def restore_newest(page) -> None:
    """Restore the newest run of the History tab into the form, and wait for its note."""
    steps.open_tab(page, "History")
    page.locator("#history-table [role=gridcell][data-row='0']").first.click()
    page.locator("#history-details").get_by_text("mytest.jpg").first.wait_for()
    page.locator("#history-restore").click()
    page.locator("button[role=tab][aria-selected=true]", has_text="Upscale").wait_for()
    steps.wait_console(page, "Restored mytest.jpg ×2")


def test_a_restore_note_goes_with_the_picture_it_named(studio, tmp_path) -> None:
    # A user trial: "Restored mytest.jpg ×2 … into the form: press Upscale to run it again" stayed in the console
    # and under the output after that picture was cleared and another uploaded.
    def said() -> str:
        return steps.console_text(page) + "\n" + page.locator("#result-details").inner_text()

    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, picture(tmp_path, "mytest.jpg", "olive"))
        run_locally(page)
        restore_newest(page)  # the same picture as the one in the form
        page.wait_for_timeout(1500)
        assert "Restored mytest.jpg ×2" in page.locator("#result-details").inner_text()  # its picture: it stays

        page.locator("#input-file").get_by_role("button", name="Clear").click()
        steps.wait_console(page, "The form has no picture now.")
        assert "Restored" not in said()
        steps.upload(page, picture(tmp_path, "another.png", "navy"))
        steps.wait_console(page, "A new picture is in the form.")
        page.wait_for_timeout(500)
        assert "Restored" not in said() and "A new picture is in the form." in said()

        restore_newest(page)  # a picture unlike the one in the form; then replaced at once
        page.wait_for_timeout(1500)
        assert "Restored mytest.jpg ×2" in page.locator("#result-details").inner_text()
        steps.replace_picture(page, picture(tmp_path, "third.png", "plum"))
        steps.wait_console(page, "A new picture is in the form.")
        page.wait_for_timeout(1000)
        assert "Restored" not in said() and "A new picture is in the form." in said()
        screenshot(page, "restore-note-replaced")


def test_the_whole_picture_note_stays_with_that_picture_and_goes_with_it(studio, tmp_path) -> None:
    """*Run the whole picture* puts a picture in the form with a note of its own, as Restore does."""
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("lanczos", exact=True).click()
        steps.upload(page, picture(tmp_path, "quay.png", "teal", (320, 240)))
        page.locator("#region-panel").get_by_text("Region: try a part").click()
        steps.type_region(page, 10, 10, 100, 80)
        page.locator("#region-on input").check()
        page.locator("#region-line").get_by_text("region 100×80 →").wait_for()
        run_locally(page)
        page.locator("#result-whole").click()
        details = page.locator("#result-details")
        details.get_by_text("The whole picture of quay.png").wait_for()
        page.wait_for_timeout(1500)  # its picture is loaded: the note stays
        assert "The whole picture of quay.png" in details.inner_text()
        page.locator("#input-file").get_by_role("button", name="Clear").click()
        steps.wait_console(page, "The form has no picture now.")
        assert "The whole picture of" not in details.inner_text() + steps.console_text(page)


def test_a_refused_fetch_is_said_by_the_fetch_box_until_the_next_action(studio, tmp_path) -> None:
    # A user trial: the warning under the Fetch box stayed through later runs and picture changes.
    refused = "#fetch-note :text('not in your history')"
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, picture(tmp_path, "first.png", "sienna"))
        run_locally(page)
        fetch(page, "latest")
        steps.wait_console(page, "Already in the history: showing the stored result.")
        shown = steps.console_text(page)

        fetch(page, "nonexistent-123")
        page.locator(refused).wait_for()
        assert steps.console_text(page) == shown and stage(page) == "done"  # the run on show is left as it was
        page.wait_for_timeout(500)
        assert page.locator(".toast-body").count() == 0  # said by the box: no toast over the run (or the next)

        run_locally(page)  # a new run: the refusal is no longer news
        page.locator(refused).wait_for(state="detached")

        fetch(page, "nonexistent-123")
        page.locator(refused).wait_for()
        steps.replace_picture(page, picture(tmp_path, "second.png", "navy"))  # a new picture
        page.locator(refused).wait_for(state="detached")

        fetch(page, "nonexistent-123")
        page.locator(refused).wait_for()
        page.locator("#fetch-request-id input, #fetch-request-id textarea").first.press_sequentially("4")  # an edit
        page.locator(refused).wait_for(state="detached")
        screenshot(page, "fetch-refusal-gone")


def test_ctrl_enter_in_the_fetch_box_fetches_and_starts_no_run(studio, tmp_path) -> None:
    # A user trial: an id typed, then Ctrl+Enter, started an Upscale (on fal, a paid one) and left the id unfetched.
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, picture(tmp_path, "first.png", "sienna"))
        run_locally(page)
        page.locator("#fetch-panel").get_by_text("Fetch by request id").click()
        box = page.locator("#fetch-request-id input, #fetch-request-id textarea").first
        box.fill("latest")
        box.press("Control+Enter")
        steps.wait_console(page, "Already in the history: showing the stored result.")
        page.wait_for_timeout(1000)
        assert "Running (local" not in steps.console_text(page)  # no run of the form started
        assert len(store.store().runs(None)) == 1
