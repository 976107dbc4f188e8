"""In Chromium: the page opens with one load event; what it no longer fills on load still arrives when the
visitor goes to it — the History tab shows runs made before the page opened, in its table and its pictures."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image
from skimage import data as samples

from core import presets
from tests import browser_steps as steps
from tests.browser import browser_page
from tests.conftest import api_client

pytestmark = pytest.mark.browser


def test_the_history_tab_shows_runs_made_before_the_page_opened(studio, tmp_path: Path) -> None:
    photo = tmp_path / "owl.png"
    Image.fromarray(samples.astronaut()[:48, :48]).save(photo)
    _, result = api_client(studio).predict(handle_file(str(photo)), None, upscale_factor=1,
                                                      engine="local", api_name="/upscale")
    presets.save("Evening light", "", {"guidance_scale": 6})
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#preset input").click()  # the page's load event added the saved preset to the menu
        page.locator("#preset").get_by_role("option", name="Evening light (saved)").wait_for()
        page.keyboard.press("Escape")
        steps.open_tab(page, "History")
        page.wait_for_function("() => document.querySelectorAll('#history-table [role=row].virtual-row')"
                               ".length === 1")
        assert steps.table_column(page, "history-table", "id") == [result["run_id"]]
        page.locator("#history-gallery .thumbnail-item").first.wait_for()
        assert "owl.png" in page.locator("#history-gallery").inner_text()
        # the one thumbnail and its caption fit inside the strip (a few runs drew squares taller than it)
        strip = page.locator("#history-gallery .grid-wrap").bounding_box()
        for part in (".thumbnail-item", ".caption-label"):
            box = page.locator(f"#history-gallery {part}").first.bounding_box()
            assert box["y"] + box["height"] <= strip["y"] + strip["height"] + 1, part
        assert page.locator("#history-gallery .caption-label").first.evaluate(
            "c => c.scrollWidth <= c.clientWidth")  # the whole caption shows, seed included, no "…"
        page.set_viewport_size({"width": 390, "height": 844})  # on a phone the run's pictures are far below
        page.evaluate("window.scrollTo(0, 0)")
        page.locator("#history-gallery .thumbnail-item").first.click()
        page.wait_for_function("(() => { const r = document.querySelector('#history-slider').getBoundingClientRect();"
                               " return r.top >= 0 && r.top < window.innerHeight; })()")
