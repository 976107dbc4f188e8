"""In Chromium: a key does one thing. Escape that closes a menu or is typed into a box cancels nothing; with
nothing running it says nothing; paid work in flight is cancelled only once the visitor says so; Ctrl+Enter runs
from the prompt box."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from tests import browser_steps as steps
from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser
X_VALUES = "#sweep-x-values textarea, #sweep-x-values input"


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "teal.png"
    Image.new("RGB", (64, 48), "teal").save(path)
    return str(path)


def test_escape_that_closes_the_x_axis_menu_leaves_a_running_fal_sweep_alone(studio, photo, fal_server, fal_key,
                                                                              monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, queue_wait=0.1, run_polls=400, run_time=60.0)
    with browser_page(1366, 900) as page:
        dialogs: list[str] = []
        answer = {"accept": False}

        def answered(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.accept() if answer["accept"] else dialog.dismiss()

        page.on("dialog", answered)
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("fal", exact=True).click()
        steps.upload(page, photo)
        steps.open_tab(page, "Sweep")
        steps.choose(page, "sweep-x-axis", "Creativity")
        page.locator(X_VALUES).first.fill("0.2, 0.4, 0.6, 0.8")
        page.locator("#sweep-preflight").get_by_text("4 cells").wait_for()
        page.locator("#sweep-run").click()
        page.wait_for_function("() => document.querySelector('#sweep-state .sweep-state')?.dataset.running === "
                               "'true'", timeout=60_000)
        page.wait_for_function("() => document.querySelector('#sweep-progress').innerText.includes('running')",
                               timeout=60_000)

        assert page.locator("#sweep-run").is_disabled() and not page.locator("#sweep-cancel").is_disabled()
        page.locator("#sweep-help").click()
        page.keyboard.press("Control+Enter")  # busy: the key cannot start a second, paid sweep over this one
        page.locator("#key-note").get_by_text("A sweep is running: wait for it to end, or press Escape").wait_for()
        page.wait_for_timeout(1000)  # … and says so, where it did nothing unseen
        assert len(fal_server.submits()) == 4

        page.locator("#sweep-x-axis input").click()  # open the menu …
        page.locator("#sweep-x-axis").get_by_role("option").first.wait_for()
        page.keyboard.press("Escape")  # … and close it
        page.locator(X_VALUES).first.click()  # typing in a box, Escape is the box's
        page.keyboard.press("Escape")
        page.wait_for_timeout(1500)
        assert "cancel" not in page.locator("#sweep-progress").inner_text().lower()
        assert not dialogs
        assert len(fal_server.submits()) == 4
        ids = [job for job in fal_server._jobs]  # every request the sweep sent is still going at fal
        assert not any(fal_server.state(job).cancel_received for job in ids)

        # On the page itself, Escape asks first (the cells are paid for); refused, the sweep goes on.
        page.locator("#sweep-help").click()
        page.keyboard.press("Escape")
        page.wait_for_timeout(800)
        assert dialogs and "paid" in dialogs[0]
        assert not any(fal_server.state(job).cancel_received for job in ids)
        answer["accept"] = True
        page.keyboard.press("Escape")
        page.locator("#sweep-progress").get_by_text("cells kept").wait_for(timeout=30_000)
        text = page.locator("#sweep-progress").inner_text()
        stopped = "cancelled 4 cells (creativity=0.2, creativity=0.4, creativity=0.6, creativity=0.8)"
        assert f"{stopped}; 0 finished cells kept" in text, text
        assert all(fal_server.state(job).cancel_received for job in ids)
        # the buttons follow the grid's redraw, a moment after the line (which the cancelled event also writes)
        page.wait_for_function("() => document.querySelector('#sweep-cancel').disabled"
                               " && !document.querySelector('#sweep-run').disabled", timeout=15_000)
        screenshot(page, "keys-sweep-cancelled")


def test_escape_with_nothing_running_says_nothing(studio) -> None:
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.keyboard.press("Escape")
        steps.open_tab(page, "Sweep")
        page.locator("#sweep-help").click()
        page.keyboard.press("Escape")
        page.wait_for_timeout(1000)
        assert page.locator("#sweep-progress").inner_text().strip() == ""
        steps.open_tab(page, "Upscale")
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
        assert steps.console_text(page) == ""
        assert page.locator("#stage [data-stage=idle]").count() == 1
        assert page.locator("#cancel-button").is_disabled()  # nothing to cancel, and it looks it
        steps.open_tab(page, "History")
        page.keyboard.press("Control+Enter")  # no form on screen: the key starts nothing unseen
        page.wait_for_timeout(1000)
        steps.open_tab(page, "Upscale")
        assert steps.console_text(page) == "" and page.locator("#stage [data-stage=idle]").count() == 1


def test_ctrl_enter_typed_in_the_prompt_box_runs(studio, photo) -> None:
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, photo)
        box = page.locator("#param-prompt textarea")
        box.click()
        page.keyboard.type(", sharp")
        page.keyboard.press("Control+Enter")
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        assert box.input_value().endswith(", sharp")  # the key ran the form; it typed no line break


def test_a_cancel_with_nothing_to_cancel_looks_off(studio) -> None:
    import io

    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        for tab, button in (("Upscale", "#cancel-button"), ("Sweep", "#sweep-cancel")):
            steps.open_tab(page, tab)
            assert page.locator(button).is_disabled()
            shot = Image.open(io.BytesIO(page.locator(button).screenshot())).convert("HSV")
            saturation = sum(pixel[1] for pixel in shot.getdata()) / (shot.width * shot.height)
            assert saturation < 20, (button, saturation)  # grey, not a muted red that reads as live (55 before)


@contextmanager
def local_run_going(studio: str, tmp_path: Path) -> Iterator:
    """A page with a local run of a 600×400 photo going (some seconds of Real-ESRGAN on the CPU)."""
    from skimage import data as samples

    photo = tmp_path / "coffee.png"
    Image.fromarray(samples.coffee()).save(photo)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, str(photo))
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=running]").wait_for(timeout=60_000)
        yield page


def test_escape_during_a_local_run_cancels_it_as_the_cancel_button_does(studio, tmp_path: Path) -> None:
    # From a user trial: Escape during a local run cancelled it at the engine (the history said cancelled), but
    # the page stayed on "Upscaling…", the stage on running and Cancel live, until Cancel itself was pressed.
    with local_run_going(studio, tmp_path) as page:
        page.wait_for_timeout(1500)
        page.keyboard.press("Escape")  # the focus still on the Upscale button, as after a click
        page.locator("#stage [data-stage=cancelled]").wait_for(timeout=20_000)
        page.wait_for_function("() => !document.querySelector('#run-button').disabled", timeout=20_000)
        assert page.locator("#cancel-button").is_disabled()
        steps.wait_console(page, "Cancelled")
        screenshot(page, "escape-cancelled-run")


def test_escape_that_closes_a_full_size_picture_leaves_the_run_going(studio, tmp_path: Path) -> None:
    """A user trial: during a local run, the Input picture shown full size (its Fullscreen button) and closed with
    Escape — the run was cancelled too, three times out of three. The picture's Escape is the picture's."""
    with local_run_going(studio, tmp_path) as page:
        full_size = "#input-preview button[aria-label*=ullscreen], #input-preview button[title*=ullscreen]"
        page.locator(full_size).first.click()
        page.locator("#input-preview.fullscreen img").click()  # looked at: the focus leaves the button
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.querySelector('#input-preview.fullscreen')")  # the picture closed
        page.wait_for_timeout(1500)
        assert page.locator("#stage [data-stage=running]").count() == 1, "the run is left going"
        assert "Cancel requested" not in steps.console_text(page)
