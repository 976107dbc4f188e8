"""A person's paths through the app in headless Chromium: cancel, sweep, restore, presets and links, mistakes,
a phone, the dark theme and the keyboard. Each path asserts what the person sees and saves a screenshot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from skimage import data as samples

from tests import browser_steps as steps
from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def photo(tmp_path: Path) -> str:
    """A small photo: the local engine upscales it in well under a second."""
    path = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[:128, 192:320]).save(path)
    return str(path)


def test_cancel_a_fal_run_with_the_button_and_with_escape(studio, photo, fal_server, fal_key, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=2, queue_wait=0.3, run_polls=400, run_time=60.0,
                           logs=[f"denoising step {n}/40" for n in range(1, 41)])
    with browser_page() as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("fal", exact=True).click()
        steps.upload(page, photo)
        cancelled: list[str] = []
        for how in ("button", "escape"):
            page.locator("#run-button").click()
            # Logs are streaming (in a console that no longer shows the previous run): it is under way at fal.
            page.wait_for_function("([line, old]) => { const text = document.querySelector('#console textarea')"
                                   ".value; return text.includes(line) && !(old && text.includes(old)); }",
                                   arg=["denoising step 2/40", cancelled[-1] if cancelled else ""])
            request_id = steps.request_id_in(steps.console_text(page))
            if how == "button":
                page.locator("#cancel-button").click()
            else:  # paid work: Escape asks first, and cancels once the person says so
                page.once("dialog", lambda dialog: dialog.accept())
                page.keyboard.press("Escape")
            page.locator("#stage [data-stage=cancelled]").wait_for()
            steps.wait_console(page, f"Cancelled · request {request_id}")
            assert "Cancel requested" in steps.console_text(page)
            assert fal_server.state(request_id).cancel_received, how
            cancelled.append(request_id)
            if how == "button":
                screenshot(page, "cancel")
        steps.open_tab(page, "History")
        page.wait_for_function("() => document.querySelectorAll('#history-table [role=row].virtual-row')"
                               ".length >= 2")
        assert steps.table_column(page, "history-table", "status") == ["cancelled", "cancelled"]
        assert set(steps.table_column(page, "history-table", "request_id")) == set(cancelled)
        screenshot(page, "history-cancelled")


def test_a_two_by_two_sweep_on_the_local_engine(studio, photo, tmp_path) -> None:
    # (a Seed axis is refused on the local engine, which uses no seed: the Y axis compares it with lanczos)
    labels = {f"upscale_factor={x} · engine={y}" for x in ("1", "1.5") for y in ("local:fast", "lanczos")}
    with browser_page() as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, photo)
        steps.open_tab(page, "Sweep")
        steps.choose(page, "sweep-x-axis", "Upscale factor")
        page.locator("#sweep-x-values textarea, #sweep-x-values input").first.fill("1, 1.5")
        steps.choose(page, "sweep-y-axis", "Engine")
        page.locator("#sweep-y-values textarea, #sweep-y-values input").first.fill("local:fast, lanczos")
        page.locator("#sweep-preflight").get_by_text("4 cells").wait_for()
        page.locator("#sweep-run").click()
        page.locator("#sweep-progress").get_by_text("4 completed · done.").wait_for(timeout=120_000)
        page.wait_for_function("() => document.querySelectorAll('#sweep-grid .gallery-item img').length === 4")
        cells = steps.gallery(page, "sweep-grid")
        assert {caption for caption, _ in cells} == labels  # the axis values on every cell
        assert steps.all_shown(page, "sweep-grid")  # every cell on the page, none scrolled away inside the gallery
        screenshot(page, "sweep")
        page.locator("#sweep-table [role=columnheader]").first.wait_for()
        assert steps.squeezed_headers(page, "sweep-table") == []  # "queued (s)" broke into one letter a line
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: the table scrolls sideways instead
        assert steps.squeezed_headers(page, "sweep-table") == []
        page.set_viewport_size({"width": 1400, "height": 1000})

        with page.expect_download() as download:
            page.locator("#sweep-csv a[download]").click()
        saved = tmp_path / "cells.csv"
        download.value.save_as(saved)
        table = pd.read_csv(saved)
        assert len(table) == 4
        assert set(zip(table["x_value"], table["y_value"], strict=True)) == {
            (x, y) for x in (1, 1.5) for y in ("local:fast", "lanczos")}

        steps.open_tab(page, "Detail crop")
        page.wait_for_function("() => document.querySelectorAll('#sweep-crops .gallery-item img').length === 4")
        crops = steps.gallery(page, "sweep-crops")
        assert {caption for caption, _ in crops} == labels
        # 1:1 output pixels: the 64 px region of the input is 64 px at 1× and 96 px at 1.5×.
        assert {caption: width for caption, width in crops}["upscale_factor=1.5 · engine=lanczos"] == 96
        assert {caption: width for caption, width in crops}["upscale_factor=1 · engine=lanczos"] == 64
        assert steps.all_shown(page, "sweep-crops")
        screenshot(page, "sweep-crops")
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: every crop's caption whole, not "…=1.…"
        page.wait_for_timeout(300)
        assert page.evaluate(CUT_CAPTIONS, "sweep-crops") == []
        page.set_viewport_size({"width": 1400, "height": 1000})
        # The Size box typed and Enter pressed, or stepped with the arrow key, redraws the crops (only a drag did).
        size = page.locator("#sweep-crop-size input[type=number]")
        size.click()
        size.press("Control+a")
        size.type("32", delay=300)  # key by key, as a person types: "3" alone is below the smallest size, 8
        size.press("Enter")
        page.wait_for_function("() => [...document.querySelectorAll('#sweep-crops .gallery-item img')]"
                               ".some(img => img.complete && img.naturalWidth === 48)")
        size.press("ArrowUp")
        page.wait_for_function("() => [...document.querySelectorAll('#sweep-crops .gallery-item img')]"
                               ".some(img => img.complete && img.naturalWidth > 48)")  # 33 px at ×1.5
        assert page.locator(".toast-body").all_inner_texts() == []  # no "Value 3 is less than minimum value 8"

        steps.open_tab(page, "History")  # every cell is a run in the history, shown on opening the tab
        page.wait_for_function("() => document.querySelectorAll('#history-table [role=row].virtual-row')"
                               ".length === 4")
        assert steps.table_column(page, "history-table", "status") == ["completed"] * 4


def test_ctrl_enter_runs_an_upscale(studio, photo) -> None:
    with browser_page() as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, photo)
        page.locator("#param-prompt textarea").click()  # typing in the form, then the shortcut
        page.keyboard.press("Control+Enter")
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        assert "Done in" in steps.console_text(page)
        page.locator("#result-slider img").first.wait_for()
        assert "256×256" in page.locator("#result-details").inner_text()
        page.keyboard.press("Escape")  # closes menus too: with nothing running it must not claim a cancel
        page.wait_for_timeout(1000)
        assert "Cancel requested" not in steps.console_text(page)
        assert page.locator("#stage [data-stage=done]").count() == 1
        steps.open_tab(page, "Code")
        page.locator("#code-subscribe").get_by_text("fal_client.subscribe").wait_for()
        screenshot(page, "code")


def test_restore_a_run_from_the_history(studio, photo) -> None:
    with browser_page() as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, photo)
        page.locator("#param-prompt textarea").fill("a portrait of an astronaut")
        steps.set_number(page, "upscale_factor", "1.5")
        steps.set_number(page, "creativity", "0.55")
        steps.open_advanced(page)
        steps.set_number(page, "guidance_scale", "6.5")
        page.locator("#param-seed input").fill("1234")
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)

        page.reload()  # later: a fresh form with the defaults
        page.locator("#run-button").wait_for()
        assert steps.slider_value(page, "upscale_factor") == 2
        steps.open_tab(page, "History")
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()
        page.locator("#history-details").get_by_text("a portrait of an astronaut").first.wait_for()
        page.locator("#history-slider img").first.wait_for()
        screenshot(page, "history")
        page.locator("#history-restore").click()

        page.locator("button[role=tab][aria-selected=true]", has_text="Upscale").wait_for()
        steps.wait_value(page, "#param-upscale_factor input[type=number]", "1.5")
        # The restored form is on screen, from its top: the page does not stay scrolled to where Restore was.
        page.wait_for_function("() => { const top = document.querySelector('#workspace').getBoundingClientRect()"
                               ".top; return top >= -1 && top < window.innerHeight / 2; }", timeout=5_000)
        assert page.locator("#param-prompt textarea").input_value() == "a portrait of an astronaut"
        assert steps.slider_value(page, "creativity") == 0.55
        steps.open_advanced(page)
        assert steps.slider_value(page, "guidance_scale") == 6.5
        # a local run carries no seed (Real-ESRGAN uses none): the 1234 typed made nothing, and is not restored
        assert page.locator("#param-seed input").input_value() == ""
        page.locator("#engine input[value=local]:checked").wait_for()  # the run's engine is back
        page.locator("#input-file").get_by_text(".png").first.wait_for()  # the input image is back too
        page.locator("#input-preview img").wait_for()
        assert "Input 128×128 → output 192×192" in page.locator("#input-info").inner_text()
        screenshot(page, "history-restored")


def test_a_preset_and_deep_links_fill_the_form(studio) -> None:
    with browser_page() as page:
        steps.open_app(page, studio)
        steps.choose(page, "preset", "Gentle restore")
        page.locator("#preset-description").get_by_text("gentle-restore").wait_for()
        steps.wait_value(page, "#param-creativity input[type=number]", "0.2")
        assert steps.slider_value(page, "resemblance") == 0.85
        assert page.locator("#param-prompt textarea").input_value().startswith("high quality photo")
        steps.open_advanced(page)
        assert steps.slider_value(page, "guidance_scale") == 3.5
        page.locator("#preset-tools").get_by_text("Save a preset").click()
        page.locator("#share-button").click()
        page.wait_for_function("() => document.querySelector('#share-link textarea, #share-link input')"
                               ".value.includes('preset=gentle-restore')")
        screenshot(page, "presets")

        steps.open_app(page, studio + "?preset=gentle-restore&seed=42&creativity=0.5")
        steps.open_advanced(page)
        steps.wait_value(page, "#param-seed input", "42")
        assert steps.slider_value(page, "creativity") == 0.5  # the link's own value wins over the preset's
        assert steps.slider_value(page, "resemblance") == 0.85  # the rest comes from the preset
        # the link changed a value of the preset's: the menu says the form matches no preset any more
        assert page.locator("#preset input").input_value().startswith("custom")
        assert page.locator("#link-notice").inner_text().strip() == ""

        steps.open_app(page, studio + "?creativity=7")
        notice = page.locator("#link-notice")
        notice.get_by_text("Parts of the link were not applied").wait_for()
        assert "Creativity" in notice.inner_text() and "7" in notice.inner_text()
        assert steps.slider_value(page, "creativity") == 0.35  # refused, so the default stays
        page.locator(".toast-body", has_text="Creativity").first.wait_for()
        screenshot(page, "deeplink-refused")


def test_mistakes_are_named_next_to_their_cause_and_in_the_console(studio, photo, tmp_path) -> None:
    not_an_image = tmp_path / "holiday.png"
    not_an_image.write_text("these are my holiday notes, not a picture\n")
    with browser_page() as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, photo)

        box = page.locator("#param-upscale_factor input[type=number]")
        box.fill("9")  # typed, not yet left
        page.locator("#param-upscale_factor").get_by_text(
            "9 is too large; the upscale factor must be a number from 1 to 4").wait_for()
        steps.wait_console(page, "Upscale factor: 9 is too large; the upscale factor must be a number from 1 to 4")
        box.blur()
        steps.wait_value(page, "#param-upscale_factor input[type=number]", "4")
        assert "The slider keeps 4" in steps.field_info(page, "upscale_factor")
        steps.set_number(page, "upscale_factor", "2")
        page.wait_for_function("() => !document.querySelector('#param-upscale_factor').innerText"
                               ".includes('too large')")  # fixed: the help text is back

        steps.open_advanced(page)
        page.locator("#param-seed input").fill("-5")
        page.locator("#run-button").click()
        steps.wait_console(page, "Error: Seed: -5 is too small; the seed must be a whole number from 0 to "
                                 "4,294,967,295.")
        assert "Submitting" not in steps.console_text(page)  # refused before anything ran
        assert "the seed must be a whole number from 0 to 4,294,967,295" in steps.field_info(page, "seed")
        page.locator("#stage [data-stage=failed]").wait_for()
        screenshot(page, "out-of-range")
        page.locator("#param-seed input").fill("5")
        page.wait_for_function("() => !document.querySelector('#param-seed').innerText.includes('whole number from')")

        page.locator("#input-file").get_by_role("button", name="Clear").click()
        page.locator("#input-file input[type=file]").set_input_files(str(not_an_image))
        info = page.locator("#input-info")  # refused as it is dropped, before Upscale is pressed
        info.get_by_text("not an image this app can read").wait_for()
        page.locator(".toast-body", has_text="not an image").first.wait_for()
        assert "The file was not kept" in info.inner_text()
        page.wait_for_function("() => !document.querySelector('#input-file').innerText.includes('holiday.png')")
        page.locator("#run-button").click()
        steps.wait_console(page, "Error: Give an image")
        page.locator("#stage [data-stage=failed]").wait_for()
        screenshot(page, "bad-file")


def test_a_refused_value_is_said_once_not_in_a_pile_of_toasts(studio, photo) -> None:
    with browser_page() as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, photo)
        steps.open_advanced(page)
        page.locator("#param-seed input").fill("-5")
        page.locator("#run-button").click()
        steps.wait_console(page, "Error: Seed: -5 is too small; the seed must be a whole number from 0 to "
                                 "4,294,967,295.")
        page.locator("#stage [data-stage=failed]").wait_for()
        page.wait_for_timeout(1500)  # every listener that reads the seed has answered by now
        toasts = page.locator(".toast-body").all_inner_texts()
        assert toasts == [], toasts  # it was three identical "Seed: Value -5 is less than minimum value 0."
        assert "the seed must be a whole number from 0 to 4,294,967,295" in steps.field_info(page, "seed")


def test_a_phone_and_the_dark_theme(studio, photo) -> None:
    with browser_page(390, 844) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, photo)
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        after = page.locator("#result-slider img").nth(1)
        after.wait_for()
        assert steps.no_horizontal_scroll(page)
        handle = page.locator("#result-slider [data-testid=slider]")
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        clip = after.evaluate("img => img.style.clipPath")
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 - 100, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
        assert after.evaluate("img => img.style.clipPath") != clip  # the before/after line followed the finger
        screenshot(page, "mobile")
        for tab in ("Sweep", "History", "Code"):
            steps.open_tab(page, tab)
            page.wait_for_timeout(300)
            assert steps.no_horizontal_scroll(page), tab
            if tab == "History":
                page.locator("#history-table [role=columnheader]").first.wait_for()
                assert steps.squeezed_headers(page, "history-table") == []  # a column too narrow breaks its header

    with browser_page(color_scheme="dark") as page:
        steps.open_app(page, studio + "?__theme=dark")
        assert page.evaluate("() => document.body.classList.contains('dark')")
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, photo)
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        page.locator("#result-slider img").first.wait_for()
        for selector in ("#console textarea", "#input-info p", "#title h1", ".stage.past"):
            assert page.evaluate(steps.CONTRAST, selector) >= 4.5, selector
        screenshot(page, "dark")  # the Upscale tab after a run
        steps.choose(page, "preset", "Gentle restore")
        page.locator("#preset-description").get_by_text("gentle-restore").wait_for()
        assert page.evaluate(steps.CONTRAST, "#preset-description p") >= 4.5
        screenshot(page, "presets-dark")
        steps.open_tab(page, "Sweep")
        page.locator("#sweep-x-values textarea, #sweep-x-values input").first.fill("1, 1.5")  # the upscale factor
        page.locator("#sweep-preflight").get_by_text("2 cells").wait_for()
        page.locator("#sweep-run").click()
        page.locator("#sweep-progress").get_by_text("2 completed · done.").wait_for(timeout=60_000)
        page.locator("#sweep-sheet img").wait_for()
        steps.gallery(page, "sweep-grid")
        screenshot(page, "sweep-dark")
        steps.open_tab(page, "History")
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()
        page.locator("#history-slider img").first.wait_for()
        screenshot(page, "history-dark")
        steps.open_tab(page, "Code")
        assert page.evaluate(steps.CONTRAST, "#code-note p") >= 4.5
        screenshot(page, "code-dark")


ON_TOP = """() => {  // what a tap on the middle of the Upscale button reaches, wherever the page is scrolled
    const bar = document.querySelector('#run-button').getBoundingClientRect();
    const hit = document.elementFromPoint(bar.left + bar.width / 2, bar.top + bar.height / 2);
    return hit && hit.closest('#run-button') ? null : (hit ? hit.outerHTML.slice(0, 80) : 'nothing');
}"""


CUT_CAPTIONS = """id => [...document.querySelectorAll(`#${id} .caption-label`)]
    .filter(label => label.scrollWidth > label.clientWidth + 1).map(label => label.innerText)"""
UNDER_THE_BAR = """() => {  // what of the page's last controls and footer lies under the phone's run bar
    const bar = document.querySelector('#run-bar').getBoundingClientRect();
    const ends = [...document.querySelectorAll('footer, #fetch-panel, .gradio-container > .main > .wrap > *')];
    return ends.filter(el => { const r = el.getBoundingClientRect(); return r.height && r.bottom > bar.top + 1
                                && r.top < bar.top && el.offsetParent !== null; })
               .map(el => el.tagName + '#' + el.id + ' bottom ' + Math.round(el.getBoundingClientRect().bottom)
                          + ' > bar ' + Math.round(bar.top));
}"""


def test_on_a_phone_nothing_scrolls_over_the_upscale_button(studio) -> None:
    """The phone's Upscale/Cancel bar stays on top: a field label scrolling past is under it, not over it, and a
    tap on the button runs it (a label drawn above took the tap and focused its box)."""
    with browser_page(390, 844) as page:
        steps.open_app(page, studio)
        steps.open_accordions(page)
        height = page.evaluate("() => document.documentElement.scrollHeight")
        covered = []
        for top in range(0, height, 120):
            page.evaluate("y => window.scrollTo(0, y)", top)
            if (over := page.evaluate(ON_TOP)) is not None:
                covered.append(f"at {top}px: {over}")
        assert not covered, "\n".join(covered[:5])
        page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_timeout(300)
        hidden = page.evaluate(UNDER_THE_BAR)  # at the page's end the bar covers nothing of it
        assert hidden == [], hidden


LABEL_OVER = """id => {  // the block's floating label, if it lies over the block's content
    const label = document.querySelector(`#${id} [data-testid=block-label]`).getBoundingClientRect();
    const content = [...document.querySelectorAll(`#${id} button.upload-container, #${id} .thumbnail-item`)]
        .map(el => el.getBoundingClientRect()).filter(r => r.height && r.width);
    return content.some(r => r.top < label.bottom - 1 && r.bottom > label.top && r.left < label.right
                             && r.right > label.left) ? Math.round(label.height) : null;
}"""


def test_on_a_phone_no_label_covers_the_upload_box_or_the_examples(studio) -> None:
    # A user trial: at 390 px the upload box's two-line label covered "Drop File Here" and the Examples label the
    # photos' tops.
    with browser_page(390, 844) as page:
        steps.open_app(page, studio)
        page.locator("#examples").get_by_text("Examples").click()
        steps.gallery(page, "example-photos")
        assert page.evaluate(LABEL_OVER, "input-file") is None
        assert page.evaluate(LABEL_OVER, "example-photos") is None


def test_on_a_phone_the_engine_choice_and_the_key_note_are_stacked(studio) -> None:
    # Before, the two sat side by side at 390 px: the engines' description wrapped to eight lines in half the width.
    with browser_page(390, 844) as page:
        steps.open_app(page, studio)
        boxes = page.evaluate("() => ['#engine', '#key-status'].map(s => {"
                              " const r = document.querySelector(s).getBoundingClientRect();"
                              " return {top: r.top, bottom: r.bottom, width: r.width}; })")
        engine, note = boxes
        assert note["top"] >= engine["bottom"] - 1, boxes  # one under the other
        assert engine["width"] > 300 and note["width"] > 300, boxes  # each the screen's width
        screenshot(page, "phone-engine")
