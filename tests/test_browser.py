"""A person's path through the app in headless Chromium: upload, Upscale, watch the console, compare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from skimage import data as samples

from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[:256, 128:384]).save(path)
    return str(path)


def console_text(page) -> str:
    return page.locator("#console textarea").input_value()


def test_upload_upscale_and_compare_on_the_local_engine(studio: str, photo: str) -> None:
    with browser_page() as page:
        page.goto(studio)
        page.locator("#input-file input[type=file]").set_input_files(photo)
        page.get_by_text("Input 256×256 → output 512×512").wait_for()
        page.locator("#run-button").click()
        page.wait_for_function("document.querySelector('#console textarea').value.includes('tile')")
        page.locator("#stage [data-stage=done]").wait_for(timeout=120_000)
        text = console_text(page)
        assert "Submitting to the local engine" in text and "Done in" in text
        slider_images = page.locator("#result-slider img")
        slider_images.first.wait_for()
        assert slider_images.count() == 2
        slider_images.nth(1).wait_for()
        page.wait_for_function("[...document.querySelectorAll('#result-slider img')].every(i => i.naturalWidth)")
        shown = slider_images.evaluate_all(
            "images => images.map(i => { const r = i.getBoundingClientRect(); "
            "return [i.naturalWidth, Math.round(r.x), Math.round(r.y), Math.round(r.width), Math.round(r.height)]; })")
        assert [natural for natural, *_ in shown] == [256, 512]  # the input itself before, the output after
        assert shown[0][1:] == shown[1][1:] and shown[0][3] > 0  # drawn in the same box: they line up
        assert "512×512" in page.locator("#result-details").inner_text()
        screenshot(page, "upscale")
        # Real-ESRGAN uses no seed: none is shown as if it meant something, and none is offered to reuse
        assert "Seed not used" in page.locator("#result-details").inner_text()
        assert page.locator("#reuse-seed").count() == 0 or not page.locator("#reuse-seed").is_visible()


def test_fal_run_streams_queue_positions_and_each_log_line_once(studio, photo, fal_server, fal_key,
                                                                 monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    logs = ["loading the diffusion model", "tile 1/4", "tile 2/4", "tile 3/4", "tile 4/4"]
    fal_server.set_default(queue_polls=6, queue_wait=1.0, run_polls=10, run_time=2.5, logs=logs)
    with browser_page() as page:
        page.goto(studio)
        page.locator("#engine").get_by_text("fal", exact=True).click()
        page.locator("#input-file input[type=file]").set_input_files(photo)
        page.locator("#run-button").click()
        page.wait_for_function("document.querySelector('#console textarea').value.includes('In queue')")
        page.wait_for_function("document.querySelector('#console textarea').value.includes('tile 2/4')")
        assert page.locator("#stage [data-stage=done]").count() == 0  # lines arrived while it was running
        page.locator("#stage [data-stage=done]").wait_for(timeout=60_000)
        text = console_text(page)
        for line in logs:
            assert text.count(line) == 1, line
        positions = [int(n) for n in re.findall(r"In queue at position (\d+)", text)]
        # the server counts down by time (queue_wait): each poll that sees a new position shows it, in order
        assert len(positions) >= 2 and positions == sorted(set(positions), reverse=True), positions
        assert fal_key not in page.content()
        screenshot(page, "fal-console")
        seed = re.search(r"\*?\*?Seed\*?\*?\s+(\d+)", page.locator("#result-details").inner_text()).group(1)
        page.evaluate("window.scrollTo(0, 0)")
        page.locator("#reuse-seed").click()  # the seed lands in its box, in view, and a toast says so
        page.get_by_text(f"Seed {seed} is in the form").wait_for()
        page.wait_for_function(f"document.querySelector('#param-seed input, #param-seed textarea').value === '{seed}'")
        page.wait_for_function("(() => { const r = document.querySelector('#param-seed').getBoundingClientRect();"
                               " return r.top >= 0 && r.bottom <= window.innerHeight; })()")
