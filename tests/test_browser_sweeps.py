"""A re-opened sweep shows itself: its axes and values come back into the controls above its grid."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from tests import browser_steps as steps
from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser
VALUES = "#sweep-{}-values textarea, #sweep-{}-values input"


def run_sweep(page, x_values: str, y_axis: str | None = None, y_values: str = "") -> str:
    """Fill the Sweep tab, run it to the end, and return its id (shown in the progress line)."""
    steps.choose(page, "sweep-x-axis", "Upscale factor")
    page.locator(VALUES.format("x", "x")).first.fill(x_values)
    if y_axis:
        steps.choose(page, "sweep-y-axis", y_axis)
        page.locator(VALUES.format("y", "y")).first.fill(y_values)
    cells = len(x_values.split(",")) * (len(y_values.split(",")) if y_axis else 1)
    page.locator("#sweep-preflight").get_by_text(f"{cells} cells").wait_for()
    page.locator("#sweep-run").click()
    page.locator("#sweep-progress").get_by_text(f"{cells} completed · done.").wait_for(timeout=120_000)
    found = re.search(r"Sweep (\w+)", page.locator("#sweep-progress").inner_text())
    assert found, page.locator("#sweep-progress").inner_text()
    return found.group(1)


@contextmanager
def sweep_tab(studio: str, tmp_path: Path, name: str = "small.png", size: tuple[int, int] = (48, 32),
              colour: str = "teal") -> Iterator:
    """A page with a new picture in the form and the Sweep tab open."""
    picture = tmp_path / name
    Image.new("RGB", size, colour).save(picture)
    with browser_page() as page:
        steps.open_app(page, studio)
        steps.upload(page, str(picture))
        steps.open_tab(page, "Sweep")
        yield page


def shown(page) -> tuple[str, str, str, str, str]:
    return (page.locator("#sweep-x-axis input").input_value(), page.locator(VALUES.format("x", "x")).first
            .input_value(), page.locator("#sweep-y-axis input").input_value(),
            page.locator(VALUES.format("y", "y")).first.input_value(),
            page.locator("#engine input:checked").get_attribute("value") or "")


def test_a_reopened_sweep_puts_its_own_axes_and_values_back(studio, tmp_path: Path) -> None:
    photo = tmp_path / "small.png"
    Image.new("RGB", (48, 32), "teal").save(photo)
    with browser_page() as page:
        steps.open_app(page, studio)  # no key: the local engine
        steps.upload(page, str(photo))
        steps.open_tab(page, "Sweep")
        first = run_sweep(page, "1, 1.5")
        assert page.locator("#sweep-retry").is_disabled()  # every cell finished: nothing to retry, not an Error
        second = run_sweep(page, "1, 1.25", "Engine", "local, lanczos")  # (the local engine has no seed axis)
        assert first != second and shown(page)[:4] == ("Upscale factor", "1, 1.25", "Engine", "local, lanczos")

        steps.open_tab(page, "Past sweeps")
        page.locator("#sweep-past input").click()
        page.locator("#sweep-past").get_by_role("option").filter(has_text=first).click()
        page.locator("#sweep-progress").get_by_text(f"Sweep {first}").wait_for()
        page.wait_for_function("() => document.querySelectorAll('#sweep-grid .gallery-item img').length === 2")
        page.wait_for_function("s => document.querySelector(s).value === '1, 1.5'", arg="#sweep-x-values textarea")
        assert shown(page) == ("Upscale factor", "1, 1.5", "none", "", "local")
        page.locator("#sweep-grid").get_by_text(f"Cells of sweep {first} · small.png").wait_for()  # whose cells
        page.locator("#sweep-preflight").get_by_text("2 cells").wait_for()  # the pre-flight describes A too
        screenshot(page, "sweep-reopened")


def test_a_past_sweep_chosen_with_the_mouse_is_opened_once(studio, tmp_path: Path, monkeypatch) -> None:
    # Gradio's Dropdown sends .input twice for one click on an option: the sweep was read, drawn and measured twice,
    # and the page redrew every view of the second copy after the first (a 100-cell sweep took seconds more).
    from core.sweep import reopen

    opened: list[str] = []
    read = reopen.reopen

    def counted(sweep_id, *args, **kwargs):
        opened.append(sweep_id)
        return read(sweep_id, *args, **kwargs)

    monkeypatch.setattr(reopen, "reopen", counted)
    with sweep_tab(studio, tmp_path) as page:
        sweep_id = run_sweep(page, "1, 1.5")
        steps.open_tab(page, "Past sweeps")
        page.evaluate("""() => {  // every text the line beside the menu shows, however briefly
            const note = document.querySelector('#sweep-past-note');
            window.notes = [];
            new MutationObserver(() => window.notes.push(note.innerText))
                .observe(note, {subtree: true, childList: true, characterData: true});
        }""")
        page.locator("#sweep-past input").click()
        page.locator("#sweep-past").get_by_role("option").filter(has_text=sweep_id).click()
        page.wait_for_function("() => document.querySelectorAll('#sweep-grid .gallery-item img').length === 2")
        page.wait_for_timeout(1500)  # the echo of the click, if any, has come and gone
        assert opened == [sweep_id]
        # a sign the moment it is chosen (a user trial: the last sweep stayed on show for seconds with none), gone
        # once it is open
        notes = page.evaluate("() => window.notes")
        assert any(f"Opening sweep {sweep_id}" in note for note in notes), notes
        assert not page.locator("#sweep-past-note").inner_text().strip()


def test_a_finished_sweep_is_exported_as_a_web_page_from_its_tab(studio, tmp_path: Path) -> None:
    """The size is said before anything is written; the zip downloads and holds the page, the CSV, the pictures."""
    with sweep_tab(studio, tmp_path) as page:
        sweep_id = run_sweep(page, "1, 1.5")
        steps.open_tab(page, "Contact sheet")
        page.locator("#sweep-sheet img").wait_for()
        # A user trial: the viewer's "Contact sheet" label chip sat over a wide sheet's first title, cutting it off
        # (the tab already names it)
        assert page.locator("#sweep-sheet [data-testid=block-label]:visible").count() == 0
        line = page.locator("#sweep-page-line")
        line.get_by_text("2 of 2 cells with a picture, at full size and as thumbnails").wait_for()
        assert re.match(r"About \d+\.\d KB: ", line.inner_text()), line.inner_text()
        page.locator("#sweep-page").click()
        line.get_by_text("unzip it and open index.html").wait_for()
        with page.expect_download() as download:
            page.locator("#sweep-page-file a").first.click()
        saved = tmp_path / "page.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            names = set(archive.namelist())
        assert {f"sweep-{sweep_id}/index.html", f"sweep-{sweep_id}/cells.csv"} <= names
        assert len([name for name in names if name.endswith(".png")]) == 2
        assert len([name for name in names if "/thumbs/" in name]) == 2
        screenshot(page, "sweep-web-page-export")


def test_vary_seed_per_cell_on_an_engine_without_a_seed_is_said_before_the_run(studio, tmp_path: Path) -> None:
    with sweep_tab(studio, tmp_path) as page:  # no key: the local engine, which uses no seed
        steps.choose(page, "sweep-x-axis", "Upscale factor")
        page.locator(VALUES.format("x", "x")).first.fill("1, 1.5")
        page.locator("#sweep-preflight").get_by_text("2 cells").wait_for()
        page.locator("#sweep-vary-seed input").check()
        page.locator("#sweep-preflight").get_by_text("The local engine uses no seed").wait_for()
        page.locator("#sweep-vary-seed input").uncheck()
        page.locator("#sweep-preflight").get_by_text("2 cells").wait_for()


def test_a_new_picture_says_the_grid_on_show_is_the_last_pictures_sweep(studio, tmp_path: Path) -> None:
    """A user trial: after a sweep of astronaut.png, coffee.jpg was put in the form and the tab read "Sweeps
    coffee.jpg" above the astronaut grid, its table, sheet and export, as if they were coffee's."""
    second = tmp_path / "coffee.png"
    Image.new("RGB", (40, 30), "sienna").save(second)
    with sweep_tab(studio, tmp_path, "astronaut.png") as page:
        sweep_id = run_sweep(page, "1, 1.5")
        line = page.locator("#sweep-input-name")
        assert "The grid below" not in line.inner_text()
        steps.open_tab(page, "Upscale")
        steps.replace_picture(page, str(second))
        steps.open_tab(page, "Sweep")
        line.get_by_text("coffee.png").first.wait_for()
        line.get_by_text(f"The grid below is sweep {sweep_id} of astronaut.png").wait_for()
        run_sweep(page, "1, 1.25")  # coffee's own grid: nothing to say
        page.wait_for_function("() => !document.querySelector('#sweep-input-name').innerText.includes('grid below')")


def grid_items(page, count: int) -> list[tuple[str, str]]:
    """(caption, picture file name) of each cell of the grid, once it shows ``count`` loaded pictures."""
    page.wait_for_function("n => { const imgs = [...document.querySelectorAll('#sweep-grid .gallery-item img')];"
                           " return imgs.length === n && imgs.every(img => img.complete && img.naturalWidth > 0); }",
                           arg=count)
    items = page.locator("#sweep-grid .gallery-item").all()
    return [(item.locator(".caption-label").inner_text().strip(),
             (item.locator("img").get_attribute("src") or "").rsplit("/", 1)[-1]) for item in items]


def grid_label(page) -> str:
    return page.locator("#sweep-grid [data-testid=block-label]").first.inner_text()


def three_axis_sweep(page, tmp_path: Path) -> None:
    """Run the factor (1, 1.5) × engine (local, lanczos) × image batch (red, blue) sweep — the three things the
    local engines use — to its end."""
    batch = []
    for name, colour in (("red.png", "firebrick"), ("blue.png", "navy")):
        Image.new("RGB", (48, 32), colour).save(tmp_path / name)
        batch.append(str(tmp_path / name))
    steps.choose(page, "sweep-x-axis", "Upscale factor")
    page.locator(VALUES.format("x", "x")).first.fill("1, 1.5")
    steps.choose(page, "sweep-y-axis", "Engine")
    page.locator(VALUES.format("y", "y")).first.fill("local, lanczos")
    page.locator("#sweep-more-axes").get_by_text("Z and W axes").click()
    steps.choose(page, "sweep-z-axis", "Input image")
    page.locator("#sweep-batch input[type=file]").set_input_files(batch)
    page.wait_for_function("s => document.querySelector(s).value === 'red, blue'", arg="#sweep-z-values textarea")
    page.locator("#sweep-preflight").get_by_text("8 cells").wait_for()
    # the picture line names what is swept: the axis's pictures, not the Upscale tab's (no thumbnail of it)
    page.locator("#sweep-input-name").get_by_text("Sweeps the pictures of its Input image axis").wait_for()
    assert not page.locator("#sweep-input-preview").is_visible()  # no empty "Picture to sweep" box
    page.locator("#sweep-run").click()
    page.locator("#sweep-progress").get_by_text("8 completed · done.").wait_for(timeout=120_000)


def test_a_finished_three_axis_sweep_pivots_without_running_again(studio, tmp_path: Path) -> None:
    with sweep_tab(studio, tmp_path) as page:
        three_axis_sweep(page, tmp_path)
        page.locator("#sweep-layout").wait_for()
        everything = grid_items(page, 8)  # Z "all": a grid per picture, one after the other
        picture = dict(everything)
        assert "upscale_factor across · engine down · image: all · 2 grids one after another, 2×2 each" in \
            grid_label(page)
        assert [caption.split(" · ")[2] for caption, _ in everything] == ["image=red"] * 4 + ["image=blue"] * 4

        steps.choose(page, "sweep-fixed-1", "blue")  # pick one Z value
        page.wait_for_function("() => document.querySelector('#sweep-grid [data-testid=block-label]')"
                               ".innerText.includes('image: blue')")
        picked = grid_items(page, 4)
        assert all("image=blue" in caption for caption, _ in picked)
        assert all(picture[caption] == name for caption, name in picked)  # each picture stays with its cell

        page.locator("#sweep-swap").click()  # engine across, the factor down
        page.wait_for_function("() => document.querySelector('#sweep-grid [data-testid=block-label]')"
                               ".innerText.includes('engine across · upscale_factor down')")
        swapped = grid_items(page, 4)
        assert [caption.split(" · ")[:2] for caption, _ in swapped] == [
            ["upscale_factor=1", "engine=local"], ["upscale_factor=1", "engine=lanczos"],
            ["upscale_factor=1.5", "engine=local"], ["upscale_factor=1.5", "engine=lanczos"]]
        assert all(picture[caption] == name for caption, name in swapped)
        # the grid's headers above it (a user trial: the in-app grid had captions but no row or column headers)
        assert page.locator("#sweep-legend").inner_text() == (
            "Columns (engine, left to right): local · lanczos — Rows (upscale_factor, top to bottom): 1 · 1.5 — "
            "image: blue")
        screenshot(page, "sweep-pivoted")

        steps.open_tab(page, "Detail crop")  # the crops follow the layout: the same four cells, in its order
        page.wait_for_function("() => document.querySelectorAll('#sweep-crops .gallery-item img').length === 4")
        crops = [label.split(" · ")[:2] for label, _ in steps.gallery(page, "sweep-crops")]
        assert crops == [caption.split(" · ")[:2] for caption, _ in swapped]
        # the input one clicks to centre the crops shows their square: the picture's centre, 32 px across here
        size = page.locator("#sweep-crop-size input[type=number]")
        # a crop fits in the 48×32 inputs: the Size slider goes up to their shorter side, not 512
        assert page.locator("#sweep-crop-size input[type=range]").get_attribute("max") == "32"
        size.fill("32")
        size.press("Enter")
        page.wait_for_function("() => (document.querySelector('#sweep-crop-input img')?.src || '')"
                               ".includes('input-8-0-40-32')")

        steps.choose(page, "sweep-fixed-1", "all: a grid per value (2)")  # back to every Z value
        assert len(grid_items(page, 8)) == 8
        assert steps.table_column(page, "sweep-table", "status") == ["completed"] * 8  # nothing ran again

        # the sheet of this layout is shown (a user trial, with the data directory outside the working and temp
        # directories as a Space's /data is: the sheet's box emptied to an Error badge every time)
        steps.open_tab(page, "Contact sheet")
        page.locator("#sweep-layout-sheet").click()
        page.locator("#sweep-sheet-line").get_by_text("contact-sheet-engine-by-upscale_factor-image-all").wait_for()
        page.wait_for_function("() => (document.querySelector('#sweep-sheet img')?.src || '')"
                               ".includes('contact-sheet-engine-by-upscale_factor-image-all')")
        assert page.locator("#sweep-sheet .error").count() == 0
        drawn_for = "engine across · upscale_factor down · image: all"
        assert drawn_for in page.locator("#sweep-sheet-line").inner_text()
        page.locator("#sweep-swap").click()  # the sheet stays that layout's, and its line does not say "this" one
        page.wait_for_function("() => document.querySelector('#sweep-grid [data-testid=block-label]')"
                               ".innerText.includes('upscale_factor across · engine down')")
        line = page.locator("#sweep-sheet-line").inner_text()
        assert drawn_for in line and "this layout" not in line, line


def test_a_pivot_keeps_the_crops_centre_and_the_cells_compared(studio, tmp_path: Path) -> None:
    # A user trial: after Swap the crops' centre went back to the picture's middle and the difference map back to
    # the first cell against the input, though only the layout had changed.
    with sweep_tab(studio, tmp_path) as page:
        run_sweep(page, "1, 1.5", "Engine", "local, lanczos")
        steps.open_tab(page, "Difference")
        compared = "upscale_factor=1.5 · engine=lanczos"
        steps.choose(page, "sweep-diff-cell", compared)
        steps.choose(page, "sweep-diff-against", "upscale_factor=1.5 · engine=local")
        steps.open_tab(page, "Detail crop")
        centre = page.locator("#sweep-crop-x input[type=number]")
        centre.fill("10")
        centre.press("Enter")
        page.wait_for_function("() => (document.querySelector('#sweep-crop-input img')?.src || '').includes('input-')")
        page.locator("#sweep-swap").click()
        page.wait_for_function("() => document.querySelector('#sweep-grid [data-testid=block-label]')"
                               ".innerText.includes('engine across · upscale_factor down')")
        page.wait_for_timeout(1500)  # the pivot's chain: grid, difference choices, crop picture, crops
        assert centre.input_value() == "10"
        assert page.locator("#sweep-diff-cell input").input_value() == compared
        assert page.locator("#sweep-diff-against input").input_value() == "upscale_factor=1.5 · engine=local"


def test_a_refused_sweep_says_so_by_the_pre_flight_line_not_beside_the_last_sweeps_done(studio, tmp_path) -> None:
    with sweep_tab(studio, tmp_path) as page:  # no fal key
        sweep_id = run_sweep(page, "1, 1.5")
        page.locator("#engine").get_by_text("fal", exact=True).click()
        page.locator("#sweep-preflight").get_by_text("No fal key").wait_for()
        page.locator("#sweep-run").click()
        page.locator(".toast-body").get_by_text("No fal key").first.wait_for()
        page.locator("#sweep-preflight .error").first.wait_for()  # the badge by the line that says why
        # ... and not over its words (a user trial: centred, it covered "(no finish[Error]yet)")
        assert not page.evaluate("""() => {
            const badge = document.querySelector('#sweep-preflight .error').getBoundingClientRect();
            const walk = document.createTreeWalker(document.querySelector('#sweep-preflight .prose'),
                                                   NodeFilter.SHOW_TEXT);
            const rects = [];
            for (let node = walk.nextNode(); node; node = walk.nextNode()) {
                const words = document.createRange();
                words.selectNodeContents(node);
                rects.push(...words.getClientRects());
            }
            return rects.some(r => r.width > 0 && r.left < badge.right && badge.left < r.right
                                   && r.top < badge.bottom && badge.top < r.bottom); }""")
        assert page.locator("#sweep-progress .error").count() == 0  # not beside "2 completed · done"
        page.locator("#sweep-progress").get_by_text(f"Sweep {sweep_id}").wait_for()  # its line, back


def test_the_progress_line_answers_run_sweep_at_once_not_with_the_last_sweeps_done(studio, tmp_path) -> None:
    with sweep_tab(studio, tmp_path) as page:
        first = run_sweep(page, "1, 1.5")
        page.evaluate("""() => {  // every text the line takes from now on
            window.lines = [];
            const line = document.querySelector('#sweep-progress');
            new MutationObserver(() => window.lines.push(line.innerText)).observe(
                line, {subtree: true, childList: true, characterData: true});
        }""")
        second = run_sweep(page, "1, 2")
        # (less the status tracker's timer, "0.2s", which Gradio keeps in the block while an event runs)
        lines = [re.sub(r"^[\d.]+s\s+", "", text.strip()) for text in page.evaluate("window.lines") if text.strip()]
        assert second != first
        changed = [text for text in lines if first not in text]  # the line's first change says what is happening
        assert "New sweep" in changed[0] and "checking the form and pricing it" in changed[0], lines
        assert first not in "".join(lines[lines.index(changed[0]):]), lines  # never the last sweep's line again


def test_the_layout_menus_follow_each_pivot_and_a_smaller_sweep_after_a_larger_one(studio, tmp_path: Path) -> None:
    # From a user trial: an axis taken out of Across came back showing the value the menu had held for another
    # axis (its second, not its first); after a 3-axis sweep, a 2-axis one left the hidden third menu holding
    # "all", and the next pivot failed in Gradio ("Value: all is not in the list of choices: []").
    with sweep_tab(studio, tmp_path) as page:
        three_axis_sweep(page, tmp_path)

        steps.choose(page, "sweep-across", "Input image")  # image across, engine down, the factor a menu
        page.wait_for_function("() => document.querySelector('#sweep-grid [data-testid=block-label]')"
                               ".innerText.includes('image across · engine down')")
        steps.choose(page, "sweep-fixed-1", "1.5")
        page.wait_for_function("() => document.querySelector('#sweep-grid [data-testid=block-label]')"
                               ".innerText.includes('upscale_factor: 1.5')")
        steps.choose(page, "sweep-across", "Upscale factor")  # the factor across: the image leaves across
        page.wait_for_function("() => document.querySelector('#sweep-grid [data-testid=block-label]')"
                               ".innerText.includes('upscale_factor across · engine down · image: red')")
        assert page.locator("#sweep-fixed-1 input").input_value() == "red"  # its first value, as the grid shows

        steps.choose(page, "sweep-z-axis", "none")  # now a 2-axis sweep
        page.locator("#sweep-preflight").get_by_text("4 cells").wait_for()
        # the grid on show is of the two pictures, and a run now sweeps the Upscale tab's: the line says both
        # (it named the grid after its first picture, "of blue", and called the form's "this picture")
        page.locator("#sweep-input-name").get_by_text("of its 2 pictures: Run sweep makes small.png").wait_for()
        assert page.locator("#sweep-input-preview").is_visible()
        page.locator("#sweep-run").click()
        page.locator("#sweep-progress").get_by_text("4 completed · done.").wait_for(timeout=120_000)
        page.wait_for_function("() => document.querySelector('#sweep-grid [data-testid=block-label]')"
                               ".innerText.includes('upscale_factor across · engine down')")
        steps.choose(page, "sweep-across", "Engine")  # a pivot of the new sweep: a swap
        page.wait_for_function("() => document.querySelector('#sweep-grid [data-testid=block-label]')"
                               ".innerText.includes('engine across · upscale_factor down')")
        assert page.locator(".toast-body.error, .error").count() == 0


def test_the_pre_flight_line_learns_from_the_sweep_that_just_ended(studio, tmp_path: Path) -> None:
    # From a user trial: after the first sweep its line still said "first run: no estimate" (or the old estimate)
    # until a value was edited, though the sweep's cells were in the history.
    with sweep_tab(studio, tmp_path) as page:
        run_sweep(page, "1, 1.25, 1.5")
        page.wait_for_timeout(1500)  # anything still on its way to the line
        after_the_sweep = page.locator("#sweep-preflight").inner_text()
        values = page.locator(VALUES.format("x", "x")).first
        values.fill("1, 1.25")  # edited and put back: the line is worked out again from the history as it is
        page.locator("#sweep-preflight").get_by_text("2 cells").wait_for()
        values.fill("1, 1.25, 1.5")
        page.locator("#sweep-preflight").get_by_text("3 cells").wait_for()
        page.wait_for_timeout(1500)
        assert page.locator("#sweep-preflight").inner_text() == after_the_sweep


def test_a_sweep_deleted_in_history_is_said_so_when_its_tab_is_opened_again(studio, tmp_path: Path) -> None:
    """A user trial: a sweep deleted from History stayed on show in the Sweep tab with no word, until an export
    was refused."""
    with sweep_tab(studio, tmp_path) as page:
        sweep_id = run_sweep(page, "1, 1.25")
        steps.open_tab(page, "History")
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()
        page.locator("#history-delete-sweep").click()
        page.locator("#history-action").get_by_text(f"sweep {sweep_id}").first.wait_for()
        steps.open_tab(page, "Sweep")
        line = page.locator("#sweep-progress")
        line.get_by_text("deleted in History: its runs are in the bin").wait_for()
        assert sweep_id in line.inner_text()
        screenshot(page, "sweep-deleted-in-history")
        steps.open_tab(page, "History")
        page.locator("#history-undo").click()  # put back: the tab's own line again
        page.locator("#history-action").get_by_text("Put back").wait_for()
        steps.open_tab(page, "Sweep")
        line.get_by_text("2 completed · done.").wait_for()
        assert "bin" not in line.inner_text()


def test_the_past_sweeps_menu_opened_after_a_deletion_lists_what_is_left_without_a_page_error(
        studio, tmp_path: Path) -> None:
    """A user trial: the menu opened after its sweep was deleted in History threw "Cannot read properties of
    undefined (reading '0')" in the page (its choices were replaced as it opened); now it is filled as its tab
    opens, and lists what is left."""
    with sweep_tab(studio, tmp_path) as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        kept, deleted = run_sweep(page, "1, 1.25"), run_sweep(page, "1, 1.5")
        steps.open_tab(page, "Past sweeps")
        menu = page.locator("#sweep-past input")
        menu.click()
        page.locator("#sweep-past").get_by_role("option").filter(has_text=deleted).wait_for()
        assert page.locator("#sweep-past").get_by_role("option").count() == 2
        page.keyboard.press("Escape")
        steps.open_tab(page, "History")
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()
        page.locator("#history-delete-sweep").click()
        page.locator("#history-action").get_by_text(f"sweep {deleted}").first.wait_for()
        steps.open_tab(page, "Sweep")
        page.locator("#sweep-progress").get_by_text("deleted in History").wait_for()
        menu.click()
        options = page.locator("#sweep-past").get_by_role("option")
        options.filter(has_text=kept).wait_for()
        assert options.count() == 1 and deleted not in options.first.inner_text()
        page.wait_for_timeout(500)  # the page error came a moment after the menu opened
        assert errors == []



def test_a_sweep_on_show_deleted_for_good_empties_its_views_in_words_without_a_page_error(
        studio, tmp_path: Path) -> None:
    """A user trial: after the bin was emptied under a sweep on show whose Metrics tab had been opened, opening
    Past sweeps threw "Cannot read properties of null (reading 'offsetWidth')" three times (the plot emptied to
    nothing kept watching its chart); the cell table still said "completed" beside a grid of deleted tiles; the
    layout's sheet was refused with a red Error badge on the picture; cells.csv was still offered; the export line
    said "there is none with that id"; and the empty metrics and difference views did not say why."""
    with sweep_tab(studio, tmp_path) as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sweep_id = run_sweep(page, "1, 1.25")
        steps.open_tab(page, "Metrics")
        page.locator("#sweep-plot canvas, #sweep-plot svg").first.wait_for()
        steps.open_tab(page, "History")
        page.locator("#history-table [role=gridcell][data-row='0']").first.click()
        page.locator("#history-delete-sweep").click()
        page.locator("#history-action").get_by_text(f"sweep {sweep_id}").first.wait_for()
        steps.choose(page, "history-status", "recently deleted")
        page.locator("#history-empty-bin").click()
        page.locator("#history-bin-yes").click()
        page.locator("#history-action").get_by_text("Emptied the bin: 2 runs deleted for good").wait_for()
        steps.open_tab(page, "Sweep")
        page.locator("#sweep-progress").get_by_text("2 deleted · deleted for good").wait_for()
        page.locator("#sweep-metric-note").get_by_text(f"sweep {sweep_id} was deleted in History").wait_for()
        page.locator("#sweep-table [role=gridcell]").get_by_text("deleted", exact=True).first.wait_for()
        assert steps.table_column(page, "sweep-table", "status") == ["deleted", "deleted"]
        assert "label" in page.locator("#sweep-metrics").inner_text()  # its own headers, not Gradio's "1 2 3"
        steps.open_tab(page, "Past sweeps")  # hides the plot: the page error came here
        page.wait_for_timeout(800)
        steps.open_tab(page, "Difference")
        assert "deleted in History" in page.locator("#sweep-diff-cell").inner_text()
        steps.open_tab(page, "Contact sheet")
        assert page.locator("#sweep-csv a").count() == 0  # cells.csv is gone: not offered
        page.locator("#sweep-page-line").get_by_text("deleted for good in History").wait_for()
        page.locator("#sweep-layout-sheet").click()
        page.locator("#sweep-sheet-line").get_by_text("it has no pictures left").wait_for()
        assert page.locator("#sweep-sheet").get_by_text("Error").count() == 0
        screenshot(page, "sweep-deleted-for-good")
        assert errors == []


def test_on_a_phone_each_cells_caption_is_under_its_picture_not_over_it(studio, tmp_path: Path) -> None:
    """A user trial at 390 px: three cells across, each wrapped caption covered half of its thumbnail."""
    picture = tmp_path / "chelsea.png"
    Image.radial_gradient("L").resize((300, 200)).convert("RGB").save(picture)
    with browser_page(390, 844) as page:
        steps.open_app(page, studio)
        steps.upload(page, str(picture))
        steps.open_tab(page, "Sweep")
        run_sweep(page, "1, 1.25, 1.5", "Engine", "lanczos")
        grid_items(page, 3)
        page.locator("#sweep-grid").scroll_into_view_if_needed()
        overlaps = page.evaluate("""() => [...document.querySelectorAll('#sweep-grid .thumbnail-item')].map(item => {
            const img = item.querySelector('img').getBoundingClientRect();
            const caption = item.querySelector('.caption-label').getBoundingClientRect();
            return Math.max(0, img.bottom - caption.top); })""")
        screenshot(page, "sweep-grid-phone")
        assert overlaps and all(overlap <= 1 for overlap in overlaps), overlaps
