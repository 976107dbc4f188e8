"""In headless Chromium: two strangers on a shared app see nothing of each other; text from files, links and
visitors stays text; and every button of the app does its job, or says plainly why not, on a populated history.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import gradio as gr
import pytest
from gradio_client import handle_file
from PIL import Image, PngImagePlugin
from skimage import data as samples

from core import pnginfo, presets
from tests import browser_steps as steps
from tests.browser import browser_page, screenshot
from tests.conftest import api_client, launched_app

pytestmark = pytest.mark.browser

EVIL = "evil.invalid"
MARKUP = (f"![pic](https://{EVIL}/md.png) <img src=https://{EVIL}/tag.png> [open me](https://{EVIL}/link) "
          f"<a href=https://{EVIL}/a>click</a> https://{EVIL}/bare **bold** café 東京 don't")


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[:96, 192:288]).save(path)
    return str(path)


@pytest.fixture(scope="module")
def shared_studio() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLARITY_SHARED", "1")
        demo, url = launched_app()
    yield url
    demo.close()


def watch_requests(page) -> list[str]:
    """Every address the page asks for, from now on."""
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    return asked


def history_rows(page) -> int:
    steps.open_tab(page, "History")
    page.locator("#history-refresh").click()
    page.wait_for_function("() => !document.querySelector('#history-table .progress-text')")
    page.wait_for_timeout(300)
    return page.locator("#history-table [role=row].virtual-row").count()


def test_two_strangers_in_their_browsers_see_nothing_of_each_other(shared_studio, photo, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    with browser_page(1366, 900) as alice:
        mallory = alice.context.browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        mallory.set_default_timeout(30_000)
        steps.open_app(alice, shared_studio)
        steps.upload(alice, photo)
        alice.locator("#run-button").click()
        alice.locator("#stage [data-stage=done]").wait_for()
        assert history_rows(alice) == 1
        steps.open_app(mallory, shared_studio)
        assert history_rows(mallory) == 0
        steps.open_tab(mallory, "Sweep")
        steps.open_tab(mallory, "Past sweeps")
        mallory.locator("#sweep-past-refresh").click()
        mallory.locator("#sweep-past input").click()
        assert mallory.get_by_role("option").count() == 0
        screenshot(mallory, "stranger-history")
        alice.reload()  # Alice's own browser keeps her identity across a reload
        steps.open_app(alice, shared_studio)
        assert history_rows(alice) == 1


def test_text_from_a_file_a_link_or_a_preset_stays_text(studio, photo, tmp_path) -> None:
    made = tmp_path / "made-by-someone.png"
    chunks = PngImagePlugin.PngInfo()
    chunks.add_text(pnginfo.CHUNK, json.dumps({"arguments": {"creativity": 0.4, "prompt": MARKUP},
                                               "engine": MARKUP, "request_id": MARKUP, "seed": 7}))
    Image.open(photo).save(made, pnginfo=chunks)
    presets.save("Shady look", MARKUP, {"creativity": 0.3})
    link = f"{studio}?creativity={MARKUP}&preset=shady-look"
    with browser_page(1366, 900) as page:
        asked = watch_requests(page)
        steps.open_app(page, link)
        page.locator("#link-notice").get_by_text("refused").wait_for()
        page.locator("#input-file input[type=file]").set_input_files(str(made))
        page.locator("#pnginfo-notice").get_by_text("made by Clarity Studio").wait_for()
        page.wait_for_timeout(500)
        for notice in ("#link-notice", "#pnginfo-notice", "#preset-description"):
            box = page.locator(notice)
            assert box.locator("a, img").count() == 0, (notice, box.inner_html())
            assert EVIL in box.inner_text(), (notice, box.inner_text())  # shown, as the text it is
        assert "**bold** café 東京 don't" in page.locator("#preset-description").inner_text()
        assert "&#x27;" not in page.locator("#link-notice").inner_text()  # an apostrophe, not its entity
        page.locator("#preset-tools").get_by_text("Save a preset").click()  # a name typed by the visitor
        page.locator("#preset-label input").fill(f'X <img src="https://{EVIL}/toast.png"> <b>bold</b>')
        page.locator("#preset-save").click()
        toast = page.locator(".toast-body", has_text="Saved the preset")
        toast.wait_for()
        assert "<b>bold</b>" in toast.inner_text() and toast.locator("img, b").count() == 0
        assert page.locator(f"a[href*='{EVIL}'], img[src*='{EVIL}']").count() == 0
        assert not [url for url in asked if urlparse(url).hostname == EVIL]
        screenshot(page, "text-stays-text")


def _said(toast_text: str) -> str:
    """A toast's message without its title and close mark: empty for Gradio's bare "Error" of a crash."""
    return re.sub(r"^(Error|Warning|Info)\s*|×", "", toast_text.strip()).strip()


def _buttons(demo: gr.Blocks) -> list[tuple[str, str]]:
    """(tab, label) of every visible button the app renders, from the built Blocks."""
    found = []
    for block in demo.blocks.values():
        if isinstance(block, gr.Button) and block.visible and isinstance(block.value, str) and block.value:
            tab = next((parent.label for parent in _parents(block) if isinstance(parent, gr.Tab)), "")
            found.append((tab, block.value))
    return found


def _parents(block: Any) -> Iterator[Any]:
    while getattr(block, "parent", None) is not None:
        block = block.parent
        yield block


def test_every_button_once_on_a_populated_history(studio, photo, capfd) -> None:
    import app

    client = api_client(studio)
    for factor in (1, 2):
        client.predict(handle_file(photo), "", upscale_factor=factor, engine="local", api_name="/upscale")
    buttons = _buttons(app.build())
    assert len(buttons) >= 15
    pressed, problems = [], []
    capfd.readouterr()
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        for tab, label in buttons:
            steps.open_tab(page, tab or "Upscale")
            for accordion in page.locator(".label-wrap:not(.open)").all():
                if accordion.is_visible():
                    accordion.click()
            cells = page.locator("#history-table [role=gridcell]")
            if tab == "History" and cells.count():  # a run selected, for Restore, Reuse seed and Delete
                cells.first.click()
                page.wait_for_timeout(400)
            button = page.get_by_role("button", name=label, exact=True).first
            if not button.is_visible() or not button.is_enabled():  # e.g. deleting a preset when none is chosen
                continue
            button.click()
            page.wait_for_timeout(600)
            page.wait_for_function("() => !document.querySelector('.progress-text, .eta-bar')", timeout=60_000)
            for toast in page.locator(".toast-body").all():
                text = toast.inner_text().strip()
                if text.startswith("Error") and len(_said(text)) < 12:  # a crash, not a sentence saying why
                    problems.append(f"{tab}/{label}: {text!r}")
                toast.locator(".toast-close").first.click()
            pressed.append(label)
        screenshot(page, "every-button")
    logged = capfd.readouterr().err
    crashes = [line for line in logged.splitlines()
               if re.match(r"^\w+(\.\w+)*(Error|Exception): ", line) and not line.startswith("gradio.exceptions")]
    assert len(pressed) >= 12, pressed
    assert not problems and not crashes, (problems, crashes)
