"""In Chromium: a view shows only what is true now. After a failure, a new picture or a restore, the run panel no
longer shows the last run's pictures or "done" (it says where the last run went); the preset menu follows a
restore; the Sweep tab shows the picture it will sweep; a refusal lands beside the control it is about."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from tests import browser_steps as steps
from tests.browser import browser_page, screenshot
from tests.conftest import api_client

pytestmark = pytest.mark.browser


def picture(tmp_path: Path, name: str, colour: str, size: tuple[int, int] = (64, 48)) -> str:
    path = tmp_path / name
    Image.new("RGB", size, colour).save(path)
    return str(path)


def slider_pictures(page) -> int:
    return page.locator("#result-slider img").count()


def test_a_failure_and_a_new_picture_leave_no_old_result_on_show(studio, tmp_path, fal_server, fal_key,
                                                                 monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, queue_wait=0.1, run_polls=3, run_time=1.5)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("fal", exact=True).click()
        steps.upload(page, picture(tmp_path, "coffee.png", "sienna"))
        page.locator("#run-button").click()
        page.wait_for_function("() => document.querySelector('#stage .stages').dataset.stage === 'running'")
        run = page.locator("#run-button")
        assert run.is_disabled() and "Upscaling" in run.inner_text()  # busy while it runs …
        assert not page.locator("#cancel-button").is_disabled()  # … and Cancel is live
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        page.locator("#result-slider img").first.wait_for()
        assert not run.is_disabled() and page.locator("#cancel-button").is_disabled()

        fal_server.script(times=1, result_status=422)  # the next request fails at fal
        run.click()
        page.locator("#stage [data-stage=failed]").wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        assert slider_pictures(page) == 0, "the slider still shows the last run's pictures after a failure"
        assert page.locator("#result-file a").count() == 0, "the last run's PNG is still offered after a failure"
        screenshot(page, "truth-failed")

        run.click()  # a value refused before anything is sent: the last run's files go too
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        page.locator("#result-file a").first.wait_for()
        page.locator("#param-seed input, #param-seed textarea").first.fill("abc")
        run.click()
        page.locator("#stage [data-stage=failed]").wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        assert page.locator("#result-file a").count() == 0, "the last run's PNG is still offered after a refusal"
        page.get_by_text("Result JSON").click()
        assert "completed" not in page.locator("#result-json").inner_text()
        page.locator("#param-seed input, #param-seed textarea").first.fill("")

        run.click()
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        page.locator("#result-slider img").first.wait_for()
        steps.replace_picture(page, picture(tmp_path, "second.png", "navy"))  # a new picture: the result is not its own
        page.locator("#stage [data-stage=idle]").wait_for()
        page.wait_for_function("() => !document.querySelector('#result-slider img')")
        assert "Last shown: coffee.png ×2 on fal" in steps.console_text(page)
        assert "Last shown: coffee.png ×2 on fal" in page.locator("#result-details").inner_text()
        assert page.locator("#result-file a").count() == 0
        screenshot(page, "truth-new-picture")


def test_restore_shows_what_it_restored_and_the_preset_menu_follows(studio, tmp_path) -> None:
    client = api_client(studio)
    client.predict(handle_file(picture(tmp_path, "old.png", "olive")), None, upscale_factor=1, seed=5,
                   engine="local", api_name="/upscale")
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, picture(tmp_path, "new.png", "plum"))
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        page.locator("#result-slider img").first.wait_for()
        page.wait_for_function("() => document.querySelector('#preset input').value === 'fal defaults'")

        steps.open_tab(page, "History")
        page.wait_for_function("() => document.querySelectorAll('#history-table [role=row].virtual-row').length "
                               "=== 2")
        page.locator("#history-table [role=gridcell][data-row='1']").first.click()  # the older, ×1 run
        page.locator("#history-details").get_by_text("old.png").first.wait_for()
        page.locator("#history-restore").click()
        page.locator("button[role=tab][aria-selected=true]", has_text="Upscale").wait_for()
        steps.wait_value(page, "#param-upscale_factor input[type=number]", "1")
        steps.wait_console(page, "Restored old.png ×1")
        steps.wait_console(page, "Last shown: new.png ×2 on local")  # where the run on show went, said with the restore
        page.locator("#stage [data-stage=idle]").wait_for()
        page.wait_for_function("() => !document.querySelector('#result-slider img')")
        # ×1 is no preset's factor: the menu must not keep saying "fal defaults"
        page.wait_for_function("() => document.querySelector('#preset input').value.startsWith('custom')")
        screenshot(page, "truth-restored")


def test_choosing_fal_with_no_key_says_a_run_would_be_refused(studio, monkeypatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        note = page.locator("#key-status")
        note.get_by_text("the local engine runs here").wait_for()
        page.locator("#engine").get_by_text("fal", exact=True).click()  # the bar said "local runs here" still
        note.get_by_text("No fal key: a run on fal would be refused.").wait_for()
        page.locator("#engine").get_by_text("local", exact=True).click()
        note.get_by_text("the local engine runs here").wait_for()
        assert "refused" not in note.inner_text()


def test_the_sweep_tab_shows_the_picture_it_will_sweep(studio, tmp_path) -> None:
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "Sweep")
        assert "No picture yet" in page.locator("#sweep-input-name").inner_text()
        steps.open_tab(page, "Upscale")
        steps.upload(page, picture(tmp_path, "first.png", "teal", (120, 80)))
        steps.open_tab(page, "Sweep")
        page.locator("#sweep-input-name").get_by_text("first.png (120×80)").wait_for()
        page.locator("#sweep-input-preview img").wait_for()
        steps.open_tab(page, "Upscale")
        steps.replace_picture(page, picture(tmp_path, "dropped.png", "gold", (200, 150)))  # a new one, dropped later
        steps.open_tab(page, "Sweep")
        page.locator("#sweep-input-name").get_by_text("dropped.png (200×150)").wait_for()
        screenshot(page, "truth-sweep-input")


def test_a_past_sweep_refusal_is_said_beside_its_menu_not_on_the_engine(studio) -> None:
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "Sweep")
        page.locator("button[role=tab]", has_text="Past sweeps").click()
        page.locator("#sweep-past input").click()  # opened, and left with nothing chosen
        page.keyboard.press("Tab")
        page.locator("#sweep-past-note").get_by_text("Choose a past sweep first.").wait_for()
        page.wait_for_timeout(500)
        badges = page.evaluate("() => [...document.querySelectorAll('.error')].filter(e => e.offsetParent)"
                               ".map(e => (e.closest('[id]') || {}).id)")
        assert badges == [], badges
        assert page.locator("#engine input:checked").count() == 1  # the Engine radio is still itself


def test_reuse_seed_in_the_history_says_where_the_seed_went(studio, tmp_path, fal_server, fal_key,
                                                            monkeypatch) -> None:
    """A fal run's seed goes back into the form; a local run, whose engine uses no seed, offers none to reuse."""
    monkeypatch.setenv("FAL_KEY", fal_key)
    client = api_client(studio)
    client.predict(handle_file(picture(tmp_path, "local.png", "olive")), None, upscale_factor=1, seed=77,
                   engine="local", api_name="/upscale")
    client.predict(handle_file(picture(tmp_path, "seeded.png", "gray")), None, upscale_factor=1, seed=4242,
                   engine="fal", api_name="/upscale")
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        reuse = page.get_by_role("button", name="Reuse seed", exact=True)
        page.locator("#history-table [role=gridcell]").first.wait_for()
        assert not reuse.is_visible()  # a user trial: offered with no run selected, it only asked to select one
        page.locator("#history-table [role=gridcell][data-row='1']").first.click()  # the local run
        page.locator("#history-details").get_by_text("local.png").first.wait_for()
        reuse.wait_for(state="hidden")
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()  # the fal run
        page.locator("#history-details").get_by_text("seeded.png").first.wait_for()
        reuse.click()
        page.locator("#history-action").get_by_text("Seed 4242 is in the Upscale tab's form").wait_for()
        page.locator(".toast-body", has_text="Seed 4242").first.wait_for()
        steps.open_tab(page, "Upscale")
        assert page.locator("#param-seed input").input_value() == "4242"


def test_examples_are_pictures_at_full_size(studio, tmp_path) -> None:
    from components.upscale.image_input import EXAMPLE_FILES, EXAMPLES

    for name in EXAMPLE_FILES:  # big enough that an upscale shows something (they were 200–300 px)
        with Image.open(EXAMPLES / name) as photo:
            assert 400 <= max(photo.size) <= 640 and min(photo.size) >= 300, (name, photo.size)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#examples").get_by_text("Examples").click()
        captions = steps.gallery(page, "example-photos")  # thumbnails, each with its name
        assert [caption for caption, _ in captions] == list(EXAMPLE_FILES)
        assert all(width >= 400 for _, width in captions)
        page.locator("#example-photos .thumbnail-item").nth(EXAMPLE_FILES.index("chelsea.jpg")).click()
        page.locator("#input-info").get_by_text("Input 451×300").wait_for()
        page.locator("#input-preview img").wait_for()
        screenshot(page, "examples")
        highlighted = page.locator("#example-photos .thumbnail-item.selected")
        assert highlighted.count() == 1  # the example in the form is highlighted; another picture takes it off
        steps.replace_picture(page, picture(tmp_path, "garden.png", "green", (120, 90)))
        page.locator("#input-info").get_by_text("Input 120×90").wait_for()
        page.wait_for_function("() => !document.querySelector('#example-photos .thumbnail-item.selected')")


def test_the_sweep_tab_names_the_picture_a_restore_put_in_the_form(studio, tmp_path) -> None:
    # The same picture restored under its stored name (same.png): the Sweep tab still said same.jpg, the name it had
    # when it was dropped, since the picture itself had not changed.
    dropped = tmp_path / "same.jpg"
    Image.new("RGB", (40, 30), "teal").save(dropped, quality=95)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("local", exact=True).click()
        steps.upload(page, str(dropped))
        page.locator("#run-button").click()
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        steps.open_tab(page, "Sweep")
        page.locator("#sweep-input-name").get_by_text("same.jpg").wait_for()
        steps.open_tab(page, "History")
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()
        page.locator("#history-details").get_by_text("same.jpg").first.wait_for()
        page.locator("#history-restore").click()
        steps.wait_console(page, "Restored same.jpg")
        steps.open_tab(page, "Sweep")
        page.locator("#sweep-input-name").get_by_text("same.png").wait_for()  # as the Upscale tab's box names it


def test_restore_puts_the_runs_engine_back_and_takes_the_last_runs_file_away(studio, tmp_path) -> None:
    # A user trial: a lanczos run restored ran on local (the engine chosen before) after "press Upscale to run it
    # again" (with a key, a free run restored would have gone to fal), and the Output PNG still offered the last
    # local run's file: the same picture restored fires no new-picture event.
    photo = tmp_path / "same.png"
    Image.new("RGB", (40, 30), "teal").save(photo)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.upload(page, str(photo))
        for engine in ("lanczos", "local"):
            page.locator("#engine").get_by_text(engine, exact=True).click()
            page.locator("#run-button").click()
            steps.wait_console(page, f"Running ({engine}")
            page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        page.locator("#result-file a").first.wait_for()  # the local run's PNG on offer
        steps.open_tab(page, "History")
        page.locator("#history-table [role=gridcell]").filter(has_text="lanczos").first.click()
        page.locator("#history-details").get_by_text("lanczos").first.wait_for()
        page.locator("#history-restore").click()
        steps.wait_console(page, "Restored same.png")
        page.wait_for_function("() => document.querySelector('#engine input:checked').value === 'lanczos'")
        page.wait_for_function("() => !document.querySelector('#result-file a')")  # no file of another run
        screenshot(page, "restored-engine")
