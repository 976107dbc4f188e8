"""In Chromium: nothing paid for is one slip from gone. History's Delete moves a run (or a sweep) to the bin,
Undo beside the table puts it back, the bin is a Status filter, and only emptying it deletes for good."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from core.runs import store
from tests import browser_steps as steps
from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser
ROWS = "() => document.querySelectorAll('#history-table [role=row].virtual-row').length"


def rows(page, count: int) -> None:
    page.wait_for_function(f"() => ({ROWS})() === {count}")


def test_delete_goes_to_a_bin_that_undo_and_put_back_empty(studio, tmp_path: Path) -> None:
    photo = tmp_path / "kept.png"
    Image.new("RGB", (40, 30), "teal").save(photo)
    client = Client(studio, verbose=False)
    outputs = [client.predict(handle_file(str(photo)), None, upscale_factor=1, seed=seed, engine="local",
                              api_name="/upscale")[0] for seed in (1, 2)]
    assert all(Path(path).is_file() for path in outputs)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        rows(page, 2)
        undo = page.locator("#history-undo")
        assert undo.is_disabled()
        page.locator("#history-gallery .thumbnail-item").first.click()  # chosen by its picture
        page.locator("#history-details").get_by_text("kept.png").first.wait_for()
        page.locator("#history-delete").click()
        page.locator("#history-action").get_by_text("Moved kept.png ×1").wait_for()
        rows(page, 1)
        assert not undo.is_disabled() and "1 run" in undo.inner_text()
        screenshot(page, "undo-deleted")
        undo.click()  # one slip, undone
        page.locator("#history-action").get_by_text("Put back 1 run.").wait_for()
        rows(page, 2)
        assert undo.is_disabled()
        # nothing is selected now: no thumbnail highlighted beside empty details (one stayed, a user trial found)
        page.wait_for_timeout(300)
        assert page.locator("#history-gallery .thumbnail-item.selected").count() == 0

        page.locator("#history-table [role=gridcell][data-row='1']").first.click()
        page.wait_for_timeout(300)
        page.locator("#history-delete").click()
        rows(page, 1)
        steps.choose(page, "history-status", "recently deleted")  # the bin
        rows(page, 1)
        page.locator("#history-shown").get_by_text("kept with their files for 7 days").wait_for()
        runs = store.store().table(None, binned=True)
        assert len(runs) == 1
        binned = store.store().get(runs["id"][0], binned=True)
        assert binned is not None and Path(binned.output_path or "").is_file()  # its files kept
        screenshot(page, "undo-bin")
        page.locator("#history-empty-bin").click()
        page.locator("#history-action").get_by_text("Emptied the bin: 1 run deleted for good").wait_for()
        rows(page, 0)
        assert not Path(binned.output_path or "").exists()
        steps.choose(page, "history-status", "any")
        rows(page, 1)


def test_the_upscale_button_is_in_view_on_a_phone(studio) -> None:
    with browser_page(390, 844) as page:
        steps.open_app(page, studio)
        for scrolled in (0, 1200, 2400):
            page.evaluate(f"() => window.scrollTo(0, {scrolled})")
            page.wait_for_timeout(200)
            box = page.locator("#run-button").bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844, (scrolled, box)
        page.evaluate("() => window.scrollTo(0, 0)")
        screenshot(page, "phone-run-bar")
