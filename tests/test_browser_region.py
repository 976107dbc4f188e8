"""Try before you pay (issue 28), in the browser: a picture of a few megapixels, a region chosen by two clicks, a
2×2 sweep of it whose cells are the region's size and priced at its megapixels, the whole picture run from one
cell with the switch off, and the two runs linked in History."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests import browser_steps as steps
from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser


def big_photo(path: Path) -> str:
    """A 2000×1500 picture (3 MP): gradients and some noise, so every part of it differs."""
    ys, xs = np.mgrid[0:1500, 0:2000]
    noise = np.random.default_rng(28).integers(0, 40, (1500, 2000), dtype=np.uint8)
    pixels = np.stack([(xs * 255 // 2000).astype(np.uint8), (ys * 255 // 1500).astype(np.uint8), noise], axis=2)
    Image.fromarray(pixels).save(path)
    return str(path)


def box_values(page) -> list[str]:
    return [page.locator(f"#region-{name} input, #region-{name} textarea").first.input_value()
            for name in ("x", "y", "width", "height")]


def test_sweep_a_region_then_run_the_whole_picture_from_a_cell(studio, tmp_path: Path) -> None:
    photo = big_photo(tmp_path / "harbour.png")
    with browser_page() as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("lanczos", exact=True).click()
        steps.upload(page, photo)
        page.locator("#region-panel").get_by_text("Region: try a part").click()
        line = page.locator("#region-line")
        line.get_by_text("whole 2000×1500 → 4000×3000").wait_for()
        assert "Warning" not in line.inner_text()  # the switch off, the boxes empty: no region, no warning

        steps.type_region(page, -5, 10, 300, 200)  # typed, with the switch on: refused in the box's words
        page.locator("#region-on input").check()
        line.get_by_text("Warning: Region x must be 0 or more, got -5.").wait_for()

        picture = page.locator("#region-picture img")
        picture.wait_for()
        frame = picture.bounding_box()
        assert frame is not None
        page.mouse.click(frame["x"] + frame["width"] * 0.30, frame["y"] + frame["height"] * 0.30)
        line.get_by_text("First corner at").wait_for()
        page.mouse.click(frame["x"] + frame["width"] * 0.45, frame["y"] + frame["height"] * 0.50)
        line.get_by_text("region ").first.wait_for()
        page.wait_for_function("() => /^region \\d+×\\d+ →/.test(document.querySelector('#region-line').innerText)")
        x, y, width, height = (int(value) for value in box_values(page))
        assert page.locator("#region-on input").is_checked() and width >= 64 and height >= 64
        assert 500 <= x <= 700 and 350 <= y <= 550  # about 30% across and down a 2000×1500 picture
        label = f"region {width}×{height} at {x},{y}"
        screenshot(page, "region-panel")

        steps.open_tab(page, "Sweep")
        page.locator("#sweep-input-name").get_by_text(label).wait_for()  # the picture to sweep is the region
        steps.choose(page, "sweep-x-axis", "Upscale factor")
        page.locator("#sweep-x-values textarea, #sweep-x-values input").first.fill("1, 2")
        steps.choose(page, "sweep-y-axis", "Engine")
        page.locator("#sweep-y-values textarea, #sweep-y-values input").first.fill("lanczos, local")
        preflight = page.locator("#sweep-preflight")
        preflight.get_by_text("4 cells").wait_for()
        preflight.get_by_text(f"each on the {label}").wait_for()
        region_mp = 2 * (width * height + 4 * width * height) / 1e6  # two engines × (×1 and ×2)
        assert f"{region_mp:.2f} MP of output" in preflight.inner_text()  # the region's megapixels, not 3 MP's
        page.locator("#sweep-run").click()
        page.locator("#sweep-progress").get_by_text("4 completed · done.").wait_for(timeout=180_000)
        cells = steps.gallery(page, "sweep-grid")
        assert len(cells) == 4 and all(caption.endswith(label) for caption, _ in cells)
        for caption, natural in cells:  # each cell is the region's size at its factor (its thumbnail fits 384 px)
            factor = 2 if caption.startswith("upscale_factor=2") else 1
            wide, high = width * factor, height * factor
            assert abs(natural - wide * min(1, 384 / max(wide, high))) <= 1, (caption, natural)
        assert page.evaluate("() => [...document.querySelectorAll('#sweep-grid .caption-label')]"
                             ".every(c => c.scrollWidth <= c.clientWidth + 1)")  # captions whole, never cut
        screenshot(page, "region-sweep")

        chosen = next(index for index, (caption, _) in enumerate(cells) if "engine=lanczos" in caption
                      and caption.startswith("upscale_factor=2"))
        page.locator("#sweep-grid .gallery-item").nth(chosen).click()
        page.locator("#sweep-whole").click()
        page.locator("#console textarea, #result-details").first.wait_for()
        page.locator("#result-details").get_by_text("The whole picture of").wait_for()
        # the page shows the form from its top (before, it stayed where the button was, over an emptied result)
        page.wait_for_function("() => Math.abs(document.querySelector('#workspace').getBoundingClientRect().top)"
                               " < 40")
        assert not page.locator("#region-on input").is_checked() and box_values(page) == ["", "", "", ""]
        assert steps.slider_value(page, "upscale_factor") == 2
        page.locator("#run-button").click()
        steps.wait_console(page, "Saved", timeout=120_000)

        steps.open_tab(page, "History")
        page.locator("#history-table [role=gridcell]").first.wait_for()
        ids, links = steps.table_column(page, "history-table", "id"), steps.table_column(page, "history-table",
                                                                                            "linked run")
        regions = steps.table_column(page, "history-table", "region")
        whole = ids[0]  # the newest run
        region_run = links[0]
        assert region_run in ids and regions[0] == "" and regions[ids.index(region_run)] == f"{x},{y} {width}x{height}"
        assert links[ids.index(region_run)] == whole  # both ways
        assert re.fullmatch(r"[0-9a-f]{16}", whole)
        screenshot(page, "region-linked-history")

        steps.open_tab(page, "Upscale")  # a new picture: an old region never crops it
        steps.type_region(page, 10, 10, 300, 300)
        page.locator("#region-on input").check()
        line.get_by_text("region 300×300 →").wait_for()
        other = tmp_path / "other.png"
        Image.new("RGB", (320, 240), "teal").save(other)
        steps.replace_picture(page, str(other))
        line.get_by_text("whole 320×240 →").wait_for()
        assert not page.locator("#region-on input").is_checked() and box_values(page) == ["", "", "", ""]


def test_the_price_line_follows_boxes_typed_fast_with_tab(studio, tmp_path: Path) -> None:
    """Four boxes typed as a quick typist does (Tab between them, the last one never left): the line and the drawn
    box follow every box, the last one too, not the values of an earlier region."""
    photo = big_photo(tmp_path / "quay.png")
    with browser_page() as page:
        steps.open_app(page, studio)
        steps.upload(page, photo)
        page.locator("#region-panel").get_by_text("Region: try a part").click()
        page.locator("#region-on input").check()
        steps.type_region(page, 0, 0, 256, 256)  # an earlier region
        line = page.locator("#region-line")
        line.get_by_text("region 256×256 →").wait_for()
        page.locator("#region-x input, #region-x textarea").first.click()
        page.keyboard.press("Control+A")
        for value in ("120", "40", "200", "220"):
            page.keyboard.type(value, delay=20)
            if value != "220":
                page.keyboard.press("Tab")
                page.keyboard.press("Control+A")
        line.get_by_text("region 200×220 →").wait_for(timeout=15_000)
        assert box_values(page) == ["120", "40", "200", "220"]


def test_a_typed_region_says_it_is_unused_and_a_factor_typed_past_its_end_is_priced_as_kept(studio,
                                                                                             tmp_path: Path) -> None:
    """Four boxes typed with the switch off: the line says they are used only once it is ticked (before, it priced
    the whole picture with no word about them, and Upscale ran the whole picture). A factor of 9 typed and entered
    is priced as the ×4 the run will use: before, both lines kept the ×2 price (and an Error badge) until the box
    was left."""
    photo = tmp_path / "harbour.png"
    Image.open(big_photo(tmp_path / "quay.png")).resize((600, 400)).save(photo)
    with browser_page() as page:
        steps.open_app(page, studio)
        steps.upload(page, str(photo))
        page.locator("#input-info").get_by_text("output 1200×800").wait_for()
        page.locator("#region-panel").get_by_text("Region: try a part").click()
        steps.type_region(page, 100, 50, 256, 256)
        line = page.locator("#region-line")
        line.get_by_text("used only when Run on the region is ticked").wait_for()
        assert not page.locator("#region-on input").is_checked()
        page.locator("#region-on input").check()
        line.get_by_text("region 256×256 → 512×512").wait_for()
        assert "ticked" not in line.inner_text()

        box = page.locator("#param-upscale_factor input[type=number]")
        box.fill("9")
        box.press("Enter")
        page.locator("#input-info").get_by_text("A run is of the region: region 256×256 → 1024×1024").wait_for()
        assert "whole 600×400 → 2400×1600" in page.locator("#input-info").inner_text()
        line.get_by_text("region 256×256 → 1024×1024").wait_for()
        assert "whole 600×400 → 2400×1600" in line.inner_text()
        assert not page.locator("#input-info .error, #region-line .error").count()  # no Error badge on them
        screenshot(page, "factor-past-its-end")


def test_with_the_region_on_the_pictures_price_line_prices_the_region(studio, tmp_path: Path) -> None:
    """A user trial: with the region on, the line under the picture still priced the whole picture, which a run
    would not be of."""
    photo = big_photo(tmp_path / "harbour.png")
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.upload(page, photo)
        info = page.locator("#input-info")
        info.get_by_text("2000×1500").first.wait_for()
        page.locator("#region-panel").get_by_text("Region: try a part").click()
        steps.type_region(page, 100, 50, 400, 300)
        page.locator("#region-on input").check()
        info.get_by_text("A run is of the region: region 400×300 → 800×600").wait_for()
        assert "whole 2000×1500 → 4000×3000" in info.inner_text()
        page.locator("#region-on input").uncheck()  # the switch off: the whole picture again
        page.wait_for_function("() => !document.querySelector('#input-info').innerText.includes('region')")
        assert "2000×1500" in info.inner_text()


JOINS = """() => { window.__joins = 0; const send = window.fetch;
  window.fetch = function (input, init) {
    if (String(typeof input === 'string' ? input : input.url).includes('/queue/join')) window.__joins += 1;
    return send.apply(this, arguments); }; }"""


def test_a_region_clicked_on_the_picture_leaves_the_page_quiet(studio, tmp_path: Path) -> None:
    """A user trial: after two corners were clicked, the page went on sending events with nobody touching it (the
    boxes' change events ran again and again, some two hundred milliseconds of work in the page each: a core kept
    busy and the server asked for ever). The Sweep tab's picture line and pre-flight, which listened to each box,
    now follow the region when that tab opens."""
    photo = tmp_path / "quiet.png"
    Image.radial_gradient("L").resize((451, 300)).convert("RGB").save(photo)
    with browser_page() as page:
        page.add_init_script(f"({JOINS})()")
        steps.open_app(page, studio)
        steps.upload(page, str(photo))
        page.locator("#region-panel").get_by_text("Region: try a part").click()
        picture = page.locator("#region-picture img")
        line = page.locator("#region-line")
        for attempt in range(4):  # the storm began in about one try in three
            picture.wait_for()
            frame = picture.bounding_box()
            assert frame is not None
            page.mouse.click(frame["x"] + frame["width"] * (0.1 + attempt * 0.05), frame["y"] + frame["height"] * 0.2)
            line.get_by_text("First corner at").wait_for()
            page.mouse.click(frame["x"] + frame["width"] * 0.7, frame["y"] + frame["height"] * 0.8)
            page.wait_for_function("() => /^region \\d+×\\d+ →/.test(document.querySelector('#region-line').innerText)")
            page.wait_for_timeout(2500)  # what the clicks set off has run
            before = page.evaluate("window.__joins")
            page.wait_for_timeout(2000)  # nobody touches the page
            assert page.evaluate("window.__joins") == before, f"events sent while idle (try {attempt + 1})"
        x, y, width, height = box_values(page)
        steps.open_tab(page, "Sweep")  # the Sweep tab's line follows the region as it opens
        page.locator("#sweep-input-name").get_by_text(f"region {width}×{height} at {x},{y}").wait_for()
