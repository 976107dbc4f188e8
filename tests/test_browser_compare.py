"""In Chromium: pick two runs in the History and see them in the slider, side by side at 1:1, and what differs."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from gradio_client import handle_file
from PIL import Image
from skimage import data as samples

from components.common.session import Session
from components.history import compare
from tests import browser_steps as steps
from tests.browser import browser_page, screenshot
from tests.conftest import api_client

pytestmark = pytest.mark.browser


def two_runs(studio: str, tmp_path: Path) -> list[tuple[str, str]]:
    """Two runs of one picture on the local and lanczos engines (one factor: outputs of one size that differ), as
    Compare's menus offer them."""
    photo = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[:160, 176:336]).save(photo)
    client = api_client(studio)
    for engine in ("local", "lanczos"):
        client.predict(handle_file(str(photo)), None, upscale_factor=2, seed=11, engine=engine,
                       api_name="/upscale")
    options = compare.choices(Session())[0]["choices"]
    assert len(options) == 2
    return options


def compare_them(page, studio: str, options: list[tuple[str, str]]) -> None:
    """Open the app, choose the two runs in Compare's menus and compare them."""
    steps.open_app(page, studio)
    steps.open_tab(page, "History")
    page.locator("#compare-panel").get_by_text("Compare two runs").click()
    for elem_id, (text, _) in zip(("compare-a", "compare-b"), options, strict=True):
        steps.choose(page, elem_id, text)
    page.locator("#compare-go").click()
    page.locator("#compare-slider img").nth(1).wait_for()


def test_two_runs_compared_in_the_slider_with_their_differences(studio, tmp_path: Path) -> None:
    options = two_runs(studio, tmp_path)
    with browser_page(1366, 900) as page:
        compare_them(page, studio, options)
        crops = steps.gallery(page, "compare-crops")
        assert crops[0][1] == 256  # the region's width in output pixels: 1:1, not scaled
        assert [caption[:4] for caption, _ in crops] == ["A · ", "B · "]  # which is which, under each
        assert steps.all_shown(page, "compare-crops")  # and the captions are on screen, not cut off
        assert "crop 32,32 +256px" in crops[0][0]  # the middle of the 320 px outputs, until …
        page.locator("#compare-region img").wait_for()
        page.locator("#compare-region img").click(position={"x": 5, "y": 5})  # … a click on A's corner moves both
        page.locator("#compare-crops").get_by_text("crop 0,0 +256px").first.wait_for()
        assert all("crop 0,0" in caption for caption, _ in steps.gallery(page, "compare-crops"))
        cells = page.locator("#compare-differences [role=gridcell]").all_inner_texts()
        rows = [cell.strip() for cell in cells]
        assert "engine" in rows and "lanczos" in rows and "local" in rows
        assert "seed" not in rows  # neither engine uses the seed: "not used" on both sides, not a difference
        screenshot(page, "compare")


RED = (255, 64, 64)  # the square's colour, as the Sweep tab's detail crop marks its input


def region_picture(page) -> Image.Image:
    """The picture A's region view shows now, as the page received it."""
    source = page.locator("#compare-region img").get_attribute("src") or ""
    return Image.open(io.BytesIO(page.request.get(urljoin(page.url, source)).body())).convert("RGB")


def square_at(picture: Image.Image, left: int, top: int, side: int) -> bool:
    """Whether the picture has a red square's outline at ``left, top`` of ``side`` pixels (checked at the middle
    of each of its four sides)."""
    middle = side // 2
    edges = [(left + middle, top), (left, top + middle), (left + side - 1, top + middle),
             (left + middle, top + side - 1)]
    return all(picture.getpixel(point) == RED for point in edges)


def test_a_picture_shows_the_region_its_crops_come_from(studio, tmp_path: Path) -> None:
    """A click on A's picture chose the crops' region, but the picture never showed which region was chosen."""
    options = two_runs(studio, tmp_path)
    with browser_page(1366, 900) as page:
        compare_them(page, studio, options)
        page.locator("#compare-crops").get_by_text("crop 32,32 +256px").first.wait_for()
        page.locator("#compare-region img").wait_for()
        picture = region_picture(page)
        assert picture.size == (320, 320)  # A's whole output, the pixels a click chooses by
        assert square_at(picture, 32, 32, 256)  # the middle region, where the first crops come from
        before = page.locator("#compare-region img").get_attribute("src")
        page.locator("#compare-region img").click(position={"x": 5, "y": 5})
        page.locator("#compare-crops").get_by_text("crop 0,0 +256px").first.wait_for()
        page.wait_for_function("s => document.querySelector('#compare-region img')?.getAttribute('src') !== s",
                               arg=before)
        picture = region_picture(page)
        assert square_at(picture, 0, 0, 256) and not square_at(picture, 32, 32, 256)  # the square moved there
        page.locator("#compare-region img").click(position={"x": 255, "y": 255})  # the marked picture, clicked
        page.locator("#compare-crops").get_by_text("crop 64,64 +256px").first.wait_for()  # still by its pixels
        page.locator("#compare-region").scroll_into_view_if_needed()
        screenshot(page, "compare-region")


def test_runs_that_cannot_be_compared_are_said_beside_the_button_and_the_old_comparison_goes(
        studio, tmp_path: Path) -> None:
    """Before, a size mismatch was only a toast: the slider and crops wore red Error badges and the previous
    pair's pictures and "What differs" stayed on screen as if they were the answer."""
    options = two_runs(studio, tmp_path)
    api_client(studio).predict(handle_file(str(tmp_path / "astronaut.png")), None, upscale_factor=1,
                                          engine="lanczos", api_name="/upscale")
    other = next(option for option in compare.choices(Session())[0]["choices"] if option not in options)
    with browser_page(1366, 900) as page:
        compare_them(page, studio, options)
        page.locator("#compare-differences [role=gridcell]").first.wait_for()
        steps.choose(page, "compare-b", other[0])
        page.locator("#compare-go").click()
        note = page.locator("#compare-note")
        note.get_by_text("The outputs differ in size (320×320 and 160×160)").wait_for()
        page.wait_for_function("() => !document.querySelector('#compare-slider img')")
        assert not page.locator("#compare-crops img").count()
        assert not page.locator("#compare-differences").is_visible()
        assert not page.locator("#compare-panel .error").count()  # no Error badges on the emptied views
        screenshot(page, "compare-refused")



def test_a_menu_changed_after_a_comparison_says_why_it_went(studio, tmp_path: Path) -> None:
    """A user trial: changing Run A or Run B emptied the comparison with no word; the note beside Compare now
    says the pair changed and to press Compare."""
    options = two_runs(studio, tmp_path)
    with browser_page(1366, 900) as page:
        compare_them(page, studio, options)
        note = page.locator("#compare-note")
        assert not note.inner_text().strip()
        steps.choose(page, "compare-b", options[0][0])
        note.get_by_text("Run B changed: press Compare to compare the new pair.").wait_for()
        page.wait_for_function("() => !document.querySelector('#compare-slider img')")
        steps.choose(page, "compare-a", options[1][0])
        note.get_by_text("Run A changed: press Compare to compare the new pair.").wait_for()
        page.locator("#compare-go").click()  # the new pair (swapped) compared: the line goes
        page.locator("#compare-slider img").nth(1).wait_for()
        page.wait_for_function("() => !document.querySelector('#compare-note')?.innerText.trim()")
        screenshot(page, "compare-menu-changed")

def test_a_thumbnail_selects_its_run(studio, tmp_path: Path) -> None:
    photo = tmp_path / "fox.png"
    Image.fromarray(samples.astronaut()[:64, :64]).save(photo)
    _, result = api_client(studio).predict(handle_file(str(photo)), None, upscale_factor=1,
                                                      engine="local", api_name="/upscale")
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        page.locator("#history-gallery .thumbnail-item").first.click()
        page.wait_for_function("id => document.querySelector('#history-details').innerText.includes(id)",
                               arg=result["run_id"])
        details = page.locator("#history-details").inner_text()
        assert re.search(r"created_at.{0,6}20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d", details, re.S), details  # ISO time
        assert not re.search(r"created_at.{0,6}1\d{9}", details, re.S), details  # not epoch seconds
        assert "fox.png" in page.locator("#history-gallery").inner_text()
        screenshot(page, "history-thumbnails")


UNCOVERED = """() => [...document.querySelectorAll('#compare-crops .thumbnail-item')].map(tile => {
    // whether the middle of the crop is the picture, not its caption drawn over it
    const img = tile.querySelector('img').getBoundingClientRect();
    const hit = document.elementFromPoint(img.left + img.width / 2, img.top + img.height / 2);
    return !!hit && hit.tagName === 'IMG';
})"""


def test_on_a_phone_the_crops_show_with_their_captions_under_them(studio, tmp_path: Path) -> None:
    options = two_runs(studio, tmp_path)
    with browser_page(390, 844) as page:
        compare_them(page, studio, options)
        page.locator("#compare-crops img").nth(1).wait_for()
        page.locator("#compare-crops").scroll_into_view_if_needed()
        for index in range(2):
            page.locator("#compare-crops .thumbnail-item").nth(index).scroll_into_view_if_needed()
            assert page.evaluate(UNCOVERED)[index], f"crop {index} is covered by its caption"
        assert steps.no_horizontal_scroll(page)
        screenshot(page, "compare-phone")


def test_the_menus_follow_a_delete_and_its_undo(studio, tmp_path: Path) -> None:
    # A user trial: after Undo delete put 8 runs back, Run A listed 11 runs of 19 until Refresh was pressed.
    options = two_runs(studio, tmp_path)

    def offered() -> int:
        page.locator("#compare-a input").click()
        count = page.locator("#compare-a [role=option], .options [role=option]").count()
        page.keyboard.press("Escape")
        return count

    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        page.locator("#compare-panel").get_by_text("Compare two runs").click()
        assert offered() == 2
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()
        page.locator("#history-details").get_by_text(options[0][1]).first.wait_for()
        page.locator("#history-delete").click()
        page.locator("#history-action").get_by_text("Moved").wait_for()
        page.wait_for_timeout(500)
        assert offered() == 1  # the run in the bin is not offered
        page.locator("#history-undo").click()
        page.locator("#history-action").get_by_text("Put back 1 run.").wait_for()
        page.wait_for_timeout(500)
        assert offered() == 2
