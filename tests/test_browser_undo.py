"""In Chromium: nothing paid for is one slip from gone. History's Delete moves a run (or a sweep) to the bin,
Undo beside the table puts it back, the bin is a Status filter, and only emptying it deletes for good."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from core.runs import store
from tests import browser_steps as steps
from tests.browser import browser_page, screenshot
from tests.conftest import api_client

pytestmark = pytest.mark.browser
ROWS = "() => document.querySelectorAll('#history-table [role=row].virtual-row').length"


def rows(page, count: int) -> None:
    page.wait_for_function(f"() => ({ROWS})() === {count}")


def test_delete_goes_to_a_bin_that_undo_and_put_back_empty(studio, tmp_path: Path) -> None:
    photo = tmp_path / "kept.png"
    Image.new("RGB", (40, 30), "teal").save(photo)
    client = api_client(studio)
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
        # the bin offers what a binned run can have done: put back or purged, not restored or deleted again
        page.locator("#history-restore").wait_for(state="hidden")
        assert not page.locator("#history-delete").is_visible()
        assert page.locator("#history-put-back").is_visible()
        runs = store.store().table(None, binned=True)
        assert len(runs) == 1
        binned = store.store().get(runs["id"][0], binned=True)
        assert binned is not None and Path(binned.output_path or "").is_file()  # its files kept
        screenshot(page, "undo-bin")
        page.locator("#history-empty-bin").click()
        page.locator("#history-bin-yes").click()  # the question's yes (see the test below)
        page.locator("#history-action").get_by_text("Emptied the bin: 1 run deleted for good").wait_for()
        rows(page, 0)
        assert not Path(binned.output_path or "").exists()
        steps.choose(page, "history-status", "any")
        rows(page, 1)
        page.locator("#history-restore").wait_for()
        assert page.locator("#history-delete").is_visible()


def test_emptying_the_bin_asks_first_and_the_question_follows_the_bin(studio, tmp_path: Path) -> None:
    """A user trial: Empty the bin deleted every binned run and its files for good at one click, beside Put back
    and Undo delete. Now the first click asks beside it, naming how many; only its yes deletes, and the question
    goes when Keep them is pressed or the bin changes (its count would be wrong)."""
    client = api_client(studio)
    for colour in ("olive", "navy"):  # two pictures: two outputs, no file shared
        photo = tmp_path / f"{colour}.png"
        Image.new("RGB", (40, 30), colour).save(photo)
        client.predict(handle_file(str(photo)), None, upscale_factor=1, engine="local", api_name="/upscale")
    runs = [store.store().get(run_id) for run_id in store.store().table(None)["id"]]
    outputs = [run.output_path or "" for run in runs if run is not None]
    assert len(set(outputs)) == 2 and all(Path(path).is_file() for path in outputs)
    for run in runs:
        store.store().delete(run.id if run else "", None)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        steps.choose(page, "history-status", "recently deleted")
        rows(page, 2)
        question, yes = page.locator("#history-bin-question"), page.locator("#history-bin-yes")
        page.locator("#history-empty-bin").click()
        question.get_by_text("Delete 2 runs and their files for good?").wait_for()
        assert yes.inner_text().strip() == "Yes, delete 2 for good"
        assert page.locator("#history-bin-keep").is_visible()
        assert all(Path(path).is_file() for path in outputs)  # one click deleted nothing
        screenshot(page, "bin-asked")
        page.locator("#history-bin-keep").click()
        question.wait_for(state="hidden")
        rows(page, 2)
        assert all(Path(path).is_file() for path in outputs)

        page.locator("#history-empty-bin").click()
        question.get_by_text("Delete 2 runs").wait_for()
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()
        page.locator("#history-put-back").click()  # the bin changes under the question: its "2" is wrong now
        page.locator("#history-action").get_by_text("Put back 1 run.").wait_for()
        rows(page, 1)
        question.wait_for(state="hidden")
        assert sum(Path(path).is_file() for path in outputs) == 2

        page.locator("#history-empty-bin").click()
        question.get_by_text("Delete 1 run and its files for good?").wait_for()
        yes.click()
        page.locator("#history-action").get_by_text("Emptied the bin: 1 run deleted for good").wait_for()
        rows(page, 0)
        question.wait_for(state="hidden")
        assert sum(Path(path).is_file() for path in outputs) == 1  # the run put back kept its files


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
