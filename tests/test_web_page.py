"""A sweep handed over as a web page (issue 25 §4): a zip of one folder whose ``index.html`` opens from disk in
headless Chromium with the network off and shows the same cells, pivots (swap, a value or "all" for the other
axes), carries every cell's settings and fal request id, never the key or a server path, and leaves the
full-size pictures out above ``CLARITY_PAGE_MB``, saying so before it is written and on the page."""

from __future__ import annotations

import asyncio
import json
import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from components.common.session import Session
from components.sweep import page_export
from components.sweep.sweep_actions import SweepView
from components.sweep.sweep_layout import Layout
from core import config, schema
from core.errors import InputError
from core.sweep import web_page
from core.usecases import SweepRequest, export, run_sweep
from tests.browser import browser_page, screenshot
from tests.reliability import noise_png

PROMPT = 'a photo </script><script>alert("x")</script> café'


def sweep(visitor: Session, photo: str, engine: str, x_axis: str, x_values: str, y_axis: str | None = None,
          y_values: str = "", more_axes: tuple[tuple[str, str], ...] = ()) -> SweepView:
    async def go() -> SweepView:
        request = SweepRequest({**schema.defaults(), "prompt": PROMPT, "upscale_factor": 2}, photo, engine, x_axis,
                               x_values, y_axis, y_values, more_axes=more_axes)
        async for progress in run_sweep(request, visitor):
            last = progress
        assert last.finished
        return SweepView(plan=last.plan, runs=last.runs, engine=engine, csv=last.csv, sheet=last.sheet)

    return asyncio.run(go())


@pytest.fixture
def photo(tmp_path: Path) -> str:
    return noise_png(tmp_path / "photo.png", (40, 30), seed=7)


def unzip(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(into)
        (root,) = {name.split("/")[0] for name in archive.namelist()}
    return into / root


def embedded(index: Path) -> dict:
    text = index.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="sweep-data">(.*?)</script>', text, re.S)
    assert found, "the page carries its data"
    return json.loads(found.group(1))


def test_a_fal_sweep_page_holds_every_cell_with_its_settings_and_request_id_and_no_secret(
        photo, fal_server, fal_key, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    me = Session()
    view = sweep(me, photo, "fal", "creativity", "0.2, 0.5", "resemblance", "0.3, 0.6, 0.9")
    line, _ = page_export.size(view, me)
    assert line.startswith("About ") and "6 of 6 cells with a picture, at full size" in line
    said_before = export.sweep_page_plan(view.plan.id, me).bytes  # before any thumbnail is made
    file, said = page_export.write(view, None, me)
    assert said.endswith("open `index.html`: it needs no server and no network.")
    zipped = Path(file.value["path"] if isinstance(file.value, dict) else file.value)
    assert 0.5 < said_before / zipped.stat().st_size < 2, (said_before, zipped.stat().st_size)
    folder = unzip(zipped, tmp_path / "out")
    data = embedded(folder / "index.html")
    assert [axis["name"] for axis in data["axes"]] == ["creativity", "resemblance"]
    assert [axis["values"] for axis in data["axes"]] == [["0.2", "0.5"], ["0.3", "0.6", "0.9"]]
    runs = {run.id: run for run in view.runs.values()}
    assert len(data["cells"]) == 6 and {cell["run_id"] for cell in data["cells"]} == set(runs)
    for cell in data["cells"]:
        run = runs[cell["run_id"]]
        assert cell["request_id"] == run.request_id and cell["request_id"]
        assert cell["settings"]["creativity"] == run.arguments["creativity"]
        assert cell["settings"]["seed"] == run.seed and cell["settings"]["prompt"] == PROMPT
        assert (folder / cell["image"]).read_bytes() == Path(str(run.output_path)).read_bytes()
        assert (folder / cell["thumb"]).is_file()
    csv_text = (folder / "cells.csv").read_text(encoding="utf-8-sig")
    assert csv_text.count("images/") == 6
    written = "".join(path.read_text(encoding="utf-8", errors="replace") for path in folder.rglob("*")
                      if path.suffix in (".html", ".csv"))
    for secret in (fal_key, fal_key.partition(":")[2], str(config.data_dir()), str(tmp_path)):
        assert secret not in written
    assert "</script><script>" not in (folder / "index.html").read_text().split("sweep-data")[1].split(
        "</script>\n<script>")[0]  # the prompt cannot end the data element


def test_above_the_size_limit_the_full_size_pictures_are_left_out_and_both_lines_and_the_page_say_so(
        photo, monkeypatch, tmp_path) -> None:
    me = Session()
    view = sweep(me, photo, "lanczos", "upscale_factor", "1, 2, 3")
    monkeypatch.setenv("CLARITY_PAGE_MB", "0.001")
    line, _ = page_export.size(view, me)
    assert "3 of 3 cells with a picture, as 384 px thumbnails only" in line and "CLARITY_PAGE_MB" in line
    file, said = page_export.write(view, None, me)
    assert "thumbnails only" in said
    folder = unzip(Path(file.value["path"] if isinstance(file.value, dict) else file.value), tmp_path / "out")
    data = embedded(folder / "index.html")
    assert not (folder / "images").exists() and all(cell["image"] is None for cell in data["cells"])
    assert "full-size pictures are left out" in data["note"]
    assert "images/" not in (folder / "cells.csv").read_text(encoding="utf-8-sig")


def test_a_strangers_sweep_or_none_is_refused_in_words(photo, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    ann, ben = Session(shared=True, owner="a" * 32), Session(shared=True, owner="b" * 32)
    view = sweep(ann, photo, "lanczos", "upscale_factor", "1, 2")
    with pytest.raises(InputError, match="none with that id"):
        export.sweep_page(view.plan.id, ben)
    assert page_export.size(view, ben)[0] == "Choose a sweep of yours first: there is none with that id."
    assert "Run or re-open a sweep first" in page_export.write(SweepView(), None, ann)[1]
    assert page_export.size(SweepView(), ann)[0] == ""


def test_the_page_opens_from_disk_offline_shows_the_same_cells_and_pivots(photo, tmp_path) -> None:
    me = Session()
    view = sweep(me, photo, "lanczos", "upscale_factor", "1, 2, 3", "engine", "lanczos, local:fast")
    folder = unzip(export.sweep_page(view.plan.id, me).path, tmp_path / "out")
    labels = sorted(cell.label for cell in view.plan.cells)
    with browser_page(1366, 900) as page:
        page.context.set_offline(True)
        asked: list[str] = []
        page.context.on("request", lambda request: asked.append(request.url))
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((folder / "index.html").as_uri())
        page.wait_for_function("[...document.images].every(image => image.complete && image.naturalWidth > 0)")
        assert sorted(page.locator("figcaption .label").all_inner_texts()) == labels
        columns = page.locator("table.grid > thead th").all_inner_texts()
        assert columns[1:] == ["1", "2", "3"] and "Engine ↓" in columns[0]
        assert page.locator("table.grid > tbody > tr > th").all_inner_texts() == ["lanczos", "local:fast"]
        first = page.locator("table.grid > tbody > tr").first.locator("figcaption .label").first.inner_text()
        assert first == "upscale_factor=1 · engine=lanczos"
        page.click("text=Swap across and down")
        assert page.locator("table.grid > thead th").all_inner_texts()[1:] == ["lanczos", "local:fast"]
        assert page.locator("table.grid > tbody > tr > th").all_inner_texts() == ["1", "2", "3"]
        second_row = page.locator("table.grid > tbody > tr").nth(1).locator("figcaption .label").all_inner_texts()
        assert second_row == ["upscale_factor=2 · engine=lanczos", "upscale_factor=2 · engine=local:fast"]
        page.select_option("#down", value="-1")  # the factor leaves the layout: one grid per factor ("all")
        assert page.locator("section.page h2").all_inner_texts() == [f"Upscale factor = {n}" for n in (1, 2, 3)]
        # nothing down: no empty row-header column, the axis across named above the grid
        assert page.locator("table.grid > tbody th").count() == 0
        assert page.locator("table.grid caption").all_inner_texts() == ["Engine →"] * 3
        page.select_option("select[data-axis='0']", label="2")  # only ×2
        assert page.locator("section.page h2").all_inner_texts() == ["Upscale factor = 2"]
        assert page.locator("figcaption .label").all_inner_texts() == second_row
        page.locator("details summary").first.click()
        assert view.runs[(0, 0)].id not in page.locator("details").first.inner_text()  # settings, not run ids
        assert "upscale_factor" in page.locator("details").first.inner_text()
        screenshot(page, "sweep-web-page")
        hint = page.locator("section.page .hint")
        assert hint.is_hidden()  # the grid fits a laptop's window
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: two 220 px cells do not fit
        hint.wait_for()
        assert "scroll the grid sideways" in hint.inner_text()
        page.select_option("#down", value="0")  # the factor down again: the corner names both axes, a line each
        corner = page.locator("th.corner span")
        assert corner.all_inner_texts() == ["Engine →", "Upscale factor ↓"]
        assert {round(box["height"]) for box in (span.bounding_box() for span in corner.all())} == {
            round(corner.first.bounding_box()["height"])}  # neither name broken over two lines
        assert errors == [] and all(url.startswith("file://") for url in asked), (errors, asked)


def test_a_three_axis_sweeps_page_opens_offline_with_a_grid_per_z_value(photo, tmp_path) -> None:
    from core.sweep import batch

    me = Session()  # the local engines' three axes: the factor, the model (engine) and the input (an image batch)
    pictures = [noise_png(tmp_path / f"{name}.png", (40, 30), seed=number) for number, name in enumerate("ab")]
    labels = list(batch.save_batch(me.files_owner(), pictures))
    view = sweep(me, photo, "lanczos", "upscale_factor", "1, 2", "engine", "lanczos, local:fast",
                 (("image", ", ".join(labels)),))
    folder = unzip(export.sweep_page(view.plan.id, me).path, tmp_path / "out")
    with browser_page(1366, 900) as page:
        page.context.set_offline(True)
        page.goto((folder / "index.html").as_uri())
        page.wait_for_function("[...document.images].every(image => image.complete && image.naturalWidth > 0)")
        assert page.locator("section.page h2").all_inner_texts() == [f"Input image = {label}" for label in labels]
        assert sorted(page.locator("figcaption .label").all_inner_texts()) == sorted(
            cell.label for cell in view.plan.cells)
        second = page.locator("section.page").nth(1).locator("figcaption .label").all_inner_texts()
        assert all(f"image={labels[1]}" in label for label in second) and len(second) == 4

    # A user trial: exported after a pivot (engine across, image down, one factor), the page opened as run
    pivoted = Layout(view.plan.id, "engine", "image", (("upscale_factor", 1),))
    file, _ = page_export.write(view, pivoted, me)
    folder = unzip(Path(file.value["path"] if isinstance(file.value, dict) else file.value), tmp_path / "pivoted")
    with browser_page(1366, 900) as page:
        page.context.set_offline(True)
        page.goto((folder / "index.html").as_uri())
        assert page.locator("#across option:checked").inner_text() == "Engine"
        assert page.locator("#down option:checked").inner_text() == "Input image"
        assert page.locator("section.page h2").all_inner_texts() == ["Upscale factor = 2"]
        assert page.locator("table.grid > tbody > tr > th").all_inner_texts() == labels


def test_the_page_pivots_any_number_of_axes(tmp_path) -> None:
    """The page is written for any number of axes: three here, as a Z axis gives (cells made up, no pictures)."""
    axes = [{"name": name, "label": name.title(), "values": values} for name, values in
            (("a", ["a0", "a1"]), ("b", ["b0", "b1", "b2"]), ("c", ["c0", "c1"]))]
    cells = [{"at": [i, j, k], "label": f"a{i} b{j} c{k}", "status": "failed", "error": "made up", "image": None,
              "thumb": None, "metrics": {"psnr": None, "ssim": None, "sharpness": None}, "settings": {},
              "engine": "fal", "model": None, "request_id": None, "run_id": None, "input_name": None,
              "region": None, "created_at": None} for i in range(2) for j in range(3) for k in range(2)]
    index = tmp_path / "index.html"
    index.write_text(web_page.html({"sweep_id": "x", "made_at": "now", "axes": axes, "cells": cells,
                                    "full_size": True, "note": ""}), encoding="utf-8")
    with browser_page(1366, 900) as page:
        page.goto(index.as_uri())
        assert page.locator("section.page h2").all_inner_texts() == ["C = c0", "C = c1"]
        assert page.locator("section.page").nth(1).locator("figcaption .label").all_inner_texts() == [
            "a0 b0 c1", "a1 b0 c1", "a0 b1 c1", "a1 b1 c1", "a0 b2 c1", "a1 b2 c1"]
        page.select_option("#across", value="2")  # C across: A, no longer laid out, gets a grid per value
        assert page.locator("section.page h2").all_inner_texts() == ["A = a0", "A = a1"]
        rows = page.locator("section.page").first.locator("table.grid > tbody > tr > th")
        assert rows.all_inner_texts() == ["b0", "b1", "b2"]
        page.select_option("select[data-axis='0']", value="1")
        assert page.locator("section.page h2").all_inner_texts() == ["A = a1"]
        assert page.locator("figcaption .label").first.inner_text() == "a1 b0 c0"


@pytest.mark.parametrize("picture, page_mb", [("coffee", "0.001"), ("flat", None)])
def test_the_size_said_before_writing_is_the_size_written(picture, page_mb, monkeypatch, tmp_path) -> None:
    """A user trial: the line said 0.7 MB for a 0.5 MB zip. A photo's page with thumbnails only (they are all of
    it, and none is made before the export when the sweep came through the API), and a small flat picture's page
    at full size (the page and its data are most of it), are said within 15% of what is written."""
    import skimage.data

    path = tmp_path / f"{picture}.png"
    (Image.fromarray(skimage.data.coffee()) if picture == "coffee" else Image.new("RGB", (48, 32), "teal")).save(path)
    me = Session()
    view = sweep(me, str(path), "lanczos", "upscale_factor", "1, 1.5, 2")
    if page_mb:
        monkeypatch.setenv("CLARITY_PAGE_MB", page_mb)
    said = export.sweep_page_plan(view.plan.id, me)
    written = export.sweep_page(view.plan.id, me)
    assert said.full_size is (page_mb is None)
    assert 0.85 <= said.bytes / written.bytes <= 1.15, (said.bytes, written.bytes)


def test_a_sweep_moved_to_the_bin_is_said_so_and_leaves_the_past_sweeps_menu_cleanly(photo) -> None:
    """A user trial: a sweep deleted from History while on show in the Sweep tab — its export said "there is none
    with that id" beside a grid of it, and the Past sweeps menu kept it chosen though no longer offered, which
    Gradio refused with a raw "Value: … is not in the list of choices" Error."""
    from components.sweep import sweep_reopen
    from core.runs import store

    me = Session()
    view = sweep(me, photo, "lanczos", "upscale_factor", "1, 2")
    menu = sweep_reopen.sweep_choices(me, view)
    assert menu["value"] == view.plan.id and "2 cells · 2 done · 0 failed or cancelled" in menu["choices"][0][0]
    store.store().delete_sweep(view.plan.id, owner=me.scope())
    with pytest.raises(InputError, match="is in the bin: put its runs back"):
        export.sweep_page_plan(view.plan.id, me)
    menu = sweep_reopen.sweep_choices(me, view)
    assert menu["value"] is None and all(sweep_id != view.plan.id for _, sweep_id in menu["choices"])
