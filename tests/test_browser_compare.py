"""In Chromium: pick two runs in the History and see them in the slider, side by side at 1:1, and what differs."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from PIL import Image
from skimage import data as samples

from components.common.session import Session
from components.history import compare
from tests import browser_steps as steps
from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser


def test_two_runs_compared_in_the_slider_with_their_differences(studio, tmp_path: Path) -> None:
    photo = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[:96, 192:288]).save(photo)
    client = Client(studio, verbose=False)
    for seed in (11, 22):
        client.predict(handle_file(str(photo)), None, upscale_factor=2, seed=seed, engine="local",
                       api_name="/upscale")
    options = compare.choices(Session())[0]["choices"]
    assert len(options) == 2
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        page.locator("#compare-panel").get_by_text("Compare two runs").click()
        for elem_id, (text, _) in zip(("compare-a", "compare-b"), options, strict=True):
            steps.choose(page, elem_id, text)
        page.locator("#compare-go").click()
        page.locator("#compare-slider img").nth(1).wait_for()
        assert steps.gallery(page, "compare-crops")[0][1] == 192  # the output's width: 1:1 pixels, not scaled
        cells = page.locator("#compare-differences [role=gridcell]").all_inner_texts()
        assert "seed" in [cell.strip() for cell in cells] and "11" in str(cells) and "22" in str(cells)
        screenshot(page, "compare")


def test_a_thumbnail_selects_its_run(studio, tmp_path: Path) -> None:
    photo = tmp_path / "fox.png"
    Image.fromarray(samples.astronaut()[:64, :64]).save(photo)
    _, result = Client(studio, verbose=False).predict(handle_file(str(photo)), None, upscale_factor=1,
                                                      engine="local", api_name="/upscale")
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        page.locator("#history-gallery .thumbnail-item").first.click()
        page.wait_for_function("id => document.querySelector('#history-details').innerText.includes(id)",
                               arg=result["run_id"])
        assert "fox.png" in page.locator("#history-gallery").inner_text()
        screenshot(page, "history-thumbnails")
