"""Sweeps run as history runs through core.runs.runner: the fal test server, the local engine, sheet, CSV, re-open."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.engines.fal import FalEngine
from core.engines.lanczos import LanczosEngine
from core.errors import InputError
from core.inputs import images
from core.inputs.region import PARAMS as REGION_PARAMS
from core.runs.history import History
from core.sweep import batch, crops, reopen, sweep_run
from core.sweep.plan import plan_grid


def input_image(width: int = 24, height: int = 16) -> str:
    picture = Image.new("RGB", (width, height), "navy")
    for x in range(0, width, 4):  # some structure, so metrics and crops have something to see
        for y in range(height):
            picture.putpixel((x, y), (250, 200, 20))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return images.load_bytes(buffer.getvalue()).path


def grid_3x3():
    return plan_grid({"upscale_factor": 2}, "creativity", [0.2, 0.35, 0.5], "resemblance", [0.4, 0.6, 0.8])


@pytest.fixture
def history(tmp_path: Path) -> History:
    store = History(tmp_path / "history.sqlite3")
    yield store
    store.close()


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_3x3_fal_sweep_keeps_going_past_a_failed_cell_and_retry_completes_it(fal_server, fal_key, history):
    fal_server.script(match={"creativity": 0.5, "resemblance": 0.6}, times=1, completed_error="Runner disconnected",
                      completed_error_type="runner_disconnected")
    engine, plan, path = FalEngine(fal_key, poll_interval=0.01), grid_3x3(), input_image()
    seen: list[tuple[str, str]] = []
    options = {"owner": "alice", "save": history.save, "image_path": path, "concurrency": 4,
               "on_update": lambda cell, run, update: seen.append((cell.label, run.status))}

    runs = run(sweep_run.run_plan(plan, engine, **options))

    statuses = {plan.cell(key).label: r.status for key, r in runs.items()}
    assert sorted(statuses.values()).count("completed") == 8
    assert statuses["creativity=0.5 · resemblance=0.6"] == "failed"
    assert "Runner disconnected" in runs[(2, 1)].error
    assert sweep_run.retryable(plan, runs) == [(2, 1)]
    stored = history.runs_for_sweep(plan.id, "alice")
    assert len(stored) == 9 and {r.cell for r in stored} == {cell.label for cell in plan.cells}
    assert all(r.sweep_id == plan.id and r.owner == "alice" for r in stored)
    assert len(fal_server.uploads()) == 1  # the input went to fal once for the nine cells
    assert ("creativity=0.2 · resemblance=0.4", "completed") in seen

    sheet, csv = sweep_run.sheet_and_csv(plan, runs, path)
    table = pd.read_csv(csv)
    assert len(table) == 9 and Path(sheet).is_file() and Path(sheet).parent.name == plan.id
    failed = table[table.status == "failed"].iloc[0]
    assert "Runner disconnected" in failed.error and pd.isna(failed.psnr)
    done = table[table.status == "completed"]
    assert done.psnr.notna().all() and done.ssim.between(0, 1).all() and done.sharpness.notna().all()
    assert {"prompt", "guidance_scale", "num_inference_steps", "seed", "request_id"} <= set(table.columns)
    assert sorted(table.creativity.unique()) == [0.2, 0.35, 0.5] and table.request_id.notna().all()

    first_failed = runs[(2, 1)]
    run(sweep_run.retry_failed(plan, runs, engine, **options))
    assert all(r.status == "completed" for r in runs.values()) and runs[(2, 1)] is not first_failed
    stored = history.runs_for_sweep(plan.id, "alice")
    assert len(stored) == 10 and [r.status for r in stored].count("completed") == 9
    assert history.get(first_failed.id, "alice").status == "failed"  # the failed attempt stays in the history
    assert len(pd.read_csv(sweep_run.sheet_and_csv(plan, runs, path)[1]).query("status == 'completed'")) == 9


def test_cancelling_a_sweep_keeps_finished_cells_and_cancels_the_rest(fal_server, fal_key, history):
    for value in (0.2, 0.3):
        fal_server.script(match={"creativity": value}, stall=True)
    plan = plan_grid({}, "creativity", [0.1, 0.2, 0.3, 0.4])
    engine = FalEngine(fal_key, poll_interval=0.01)
    runs: dict = {}

    async def scenario() -> None:
        task = asyncio.ensure_future(sweep_run.run_plan(plan, engine, owner="", save=history.save, concurrency=2,
                                                        image_path=input_image(), runs=runs))
        deadline = asyncio.get_running_loop().time() + 60
        while not (runs.get((0, 0)) and runs[(0, 0)].final and runs.get((2, 0)) and runs[(2, 0)].request_id
                   and runs.get((1, 0)) and runs[(1, 0)].request_id):
            assert asyncio.get_running_loop().time() < deadline, {k: r.status for k, r in runs.items()}
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario())
    assert [runs[(i, 0)].status for i in range(4)] == ["completed", "cancelled", "cancelled", "cancelled"]
    assert Path(runs[(0, 0)].output_path).is_file()
    assert fal_server.state(runs[(1, 0)].request_id).cancel_received  # stopped at fal, not just abandoned
    assert runs[(3, 0)].request_id is None  # never submitted
    stored = {r.cell: r.status for r in history.runs_for_sweep(plan.id, None)}
    assert stored == {cell.label: runs[cell.key].status for cell in plan.cells}
    assert sweep_run.retryable(plan, runs) == []
    assert sweep_run.retryable(plan, runs, include_cancelled=True) == [(1, 0), (2, 0), (3, 0)]


def test_a_past_sweep_reopens_from_the_history(fal_server, fal_key, history):
    engine, plan, path = FalEngine(fal_key, poll_interval=0.01), grid_3x3(), input_image()
    runs = run(sweep_run.run_plan(plan, engine, owner="bob", save=history.save, image_path=path, concurrency=9))

    again, found = reopen.reopen(plan.id, "bob", history)
    assert (again.x_axis, again.x_values, again.y_axis, again.y_values) == (
        "creativity", [0.2, 0.35, 0.5], "resemblance", [0.4, 0.6, 0.8])
    assert [cell.label for cell in again.cells] == [cell.label for cell in plan.cells]
    assert {key: r.id for key, r in found.items()} == {key: r.id for key, r in runs.items()}
    with pytest.raises(InputError):
        reopen.reopen(plan.id, "mallory", history)  # another visitor's sweep is not theirs to open


def test_detail_crops_and_difference_maps_of_a_finished_sweep(fal_server, fal_key, history):
    engine, path = FalEngine(fal_key, poll_interval=0.01), input_image()
    plan = plan_grid({}, "upscale_factor", [2, 3])
    runs = run(sweep_run.run_plan(plan, engine, save=history.save, image_path=path))

    found = crops.detail_crops(plan, runs, (12, 8), 8, (24, 16), path)
    assert [label for _, label in found] == ["upscale_factor=2", "upscale_factor=3"]
    assert [Image.open(p).size for p, _ in found] == [(16, 16), (24, 24)]  # 1:1 output pixels
    heat = crops.heat_map(plan, runs, "upscale_factor=2", "upscale_factor=3", path)
    assert Image.open(heat).size == (48, 32)
    with pytest.raises(InputError):
        crops.heat_map(plan, runs, "upscale_factor=9", "input", path)


def test_detail_crops_shown_again_read_no_output_and_a_new_square_replaces_the_last(history, monkeypatch):
    # Before, every showing of the crops (a swap of the grid's axes, another Z value, the sweep re-opened) decoded
    # every finished output again and rewrote its crop: ~2 s of a 100-cell sweep's re-opening (bench/sweep.py, e).
    path = input_image()
    plan = plan_grid({}, "upscale_factor", [2, 3])
    runs = run(sweep_run.run_plan(plan, LanczosEngine(), save=history.save, image_path=path))
    first = crops.detail_crops(plan, runs, (12, 8), 8, (24, 16), path)

    def decoded_again(*args, **kwargs):
        raise AssertionError("an output was cropped again")

    with monkeypatch.context() as patched:
        patched.setattr(crops.metrics, "detail_crop", decoded_again)
        assert crops.detail_crops(plan, runs, (12, 8), 8, (24, 16), path) == first  # the same square: as it was
    moved = crops.detail_crops(plan, runs, (4, 4), 8, (24, 16), path)  # another square: new crops; the last kept
    assert all(Path(p).is_file() for p, _ in first + moved)  # (another request may be handing them to the page)
    for kept, _ in first:  # … until they are a minute old
        os.utime(kept, (time.time() - crops.CROPS_KEPT_S - 1,) * 2)
    moved = crops.detail_crops(plan, runs, (4, 4), 9, (24, 16), path)
    assert all(not Path(p).exists() for p, _ in first) and all(Path(p).is_file() for p, _ in moved)
    output = runs[plan.cells[0].key].output_path
    Image.new("RGB", Image.open(output).size, "white").save(output)  # an output written anew is cropped anew
    again = crops.detail_crops(plan, runs, (4, 4), 9, (24, 16), path)
    assert again[0][0] != moved[0][0] and Image.open(again[0][0]).getcolors() == [(18 * 18, (255, 255, 255))]
    assert again[1] == moved[1]


def test_an_image_axis_runs_each_uploaded_image(tmp_path, history):
    files = []
    for name, size in (("wide", (20, 10)), ("tall", (10, 20))):
        Image.new("RGB", size, "teal").save(tmp_path / f"{name}.png")
        files.append(str(tmp_path / f"{name}.png"))
    saved = batch.save_batch("carol", files)
    assert list(saved) == ["wide", "tall"]
    found = batch.resolve_images(["tall", "wide"], "carol")
    assert set(found) == {"tall", "wide"}
    with pytest.raises(InputError, match="'wide'"):
        batch.resolve_images(["wide"], "dave")  # another owner's batch is not visible
    plan = plan_grid({}, "image", ["wide", "tall"], images=found)
    assert sweep_run.preflight(plan).total_output_megapixels == pytest.approx(2 * 40 * 20 / 1e6)


def test_a_difference_map_of_two_pictures_is_refused_in_words(tmp_path, history):
    # A user trial: the cat cell (450×338) against a coffee cell (600×400) gave a saturated map of nothing, without
    # a word; History's Compare refuses such a pair.
    files = []
    for name, colour in (("cat", "teal"), ("coffee", "olive")):
        Image.new("RGB", (20, 10), colour).save(tmp_path / f"{name}.png")
        files.append(str(tmp_path / f"{name}.png"))
    found = batch.resolve_images(list(batch.save_batch("erin", files)), "erin")
    plan = plan_grid({}, "image", ["cat", "coffee"], "upscale_factor", [1, 2], images=found)
    runs = run(sweep_run.run_plan(plan, LanczosEngine(), save=history.save))
    with pytest.raises(InputError, match="different pictures"):
        crops.heat_map(plan, runs, "image=cat · upscale_factor=1", "image=coffee · upscale_factor=1")
    same = crops.heat_map(plan, runs, "image=cat · upscale_factor=1", "image=cat · upscale_factor=2")
    assert Image.open(same).size == (20, 10)  # one picture at two settings: compared
    # on the tab the empty map says why (a second trial: the toast faded and the map stayed empty without a word)
    from components.sweep import sweep_views
    from components.sweep.sweep_actions import SweepView

    shown = SweepView(plan, runs, "lanczos")
    refused = sweep_views.difference(shown, "image=cat · upscale_factor=1", "image=coffee · upscale_factor=1")
    assert refused["value"] is None and "different pictures" in refused["label"]
    again = sweep_views.difference(shown, "image=cat · upscale_factor=1", "input")
    assert again["value"] and again["label"] == sweep_views.DIFFERENCE_LABEL
    # A user trial: re-opening a sweep while the Against menu held a cell of the last one gave a raw toast
    # ("Value: … is not in the list of choices"). The menus take any value, and a label of another sweep gives an
    # empty map with no warning: the re-opened sweep's own choices follow.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no gr.Warning
        for label, against in (("image=cat · upscale_factor=1", "engine=local · upscale_factor=1"),
                               ("creativity=0.3", "input")):
            stale = sweep_views.difference(shown, label, against)
            assert stale["value"] is None and stale["label"] == sweep_views.DIFFERENCE_LABEL


def test_a_local_1x2_sweep_on_a_tiny_image(history):
    from core.engines.local import LocalEngine

    plan = plan_grid({}, "upscale_factor", [1.5, 2])
    runs = run(sweep_run.run_plan(plan, LocalEngine(), save=history.save, image_path=input_image(12, 8)))
    assert [(runs[c.key].status, runs[c.key].width, runs[c.key].height) for c in plan.cells] == [
        ("completed", 18, 12), ("completed", 24, 16)]
    assert {r.model for r in history.runs_for_sweep(plan.id, None)} == {"fast"}


def test_an_engine_axis_runs_each_engine_in_its_own_lane(history, monkeypatch):
    # local:fast against lanczos: the local engine takes one run at a time, lanczos two. Before, the sweep handed
    # cells out two at a time whatever their engine, so a local cell waiting for the CPU held a place and the
    # lanczos cells (milliseconds each) waited behind the slow local ones.
    import time

    from core.engines import local
    from core.engines.lanczos import LanczosEngine
    from core.engines.local import LocalEngine

    real = local.upscale

    def slow(*args, **kwargs):
        time.sleep(0.6)  # a real photo's time on the CPU
        return real(*args, **kwargs)

    monkeypatch.setattr(local, "upscale", slow)
    plan = plan_grid({}, "engine", ["local:fast", "lanczos"], "upscale_factor", [1.5, 2, 3])
    engines = {"local:fast": LocalEngine(), "lanczos": LanczosEngine()}
    runs = run(sweep_run.run_plan(plan, LanczosEngine(), save=history.save, image_path=input_image(12, 8),
                                  engine_for=engines.__getitem__))
    finished = {engine: sorted(runs[c.key].finished_at for c in plan.cells if runs[c.key].engine == engine)
                for engine in ("local", "lanczos")}
    assert all(r.status == "completed" for r in runs.values())
    assert finished["lanczos"][-1] < finished["local"][0]  # every lanczos cell ended while the first local ran


def test_each_cell_is_measured_as_it_finishes_so_the_sheet_and_csv_do_not_wait_for_it(history, monkeypatch):
    # Before, every cell's PSNR, SSIM and sharpness were measured after the last cell ended, one after another:
    # a sweep's end waited for them. Now each is measured while the others run; the CSV reads the figures back,
    # and the contact sheet pastes the tile made from the same decoded picture instead of reading every output.
    from core.engines.lanczos import LanczosEngine

    plan, path = plan_grid({}, "upscale_factor", [1.5, 2, 3]), input_image(12, 8)
    runs = run(sweep_run.run_plan(plan, LanczosEngine(), save=history.save, image_path=path))

    def measured_again(*args, **kwargs):
        raise AssertionError("measured again after the sweep ended")

    def read_again(image, size):
        if not isinstance(image, Image.Image):
            raise AssertionError(f"the sheet read {image} again after the sweep ended")
        return thumbnail(image, size)

    from core.sweep import contact_sheet

    thumbnail = contact_sheet._thumbnail
    monkeypatch.setattr(sweep_run.metrics, "sharpness", measured_again)
    monkeypatch.setattr(sweep_run.metrics, "fidelity", measured_again)
    monkeypatch.setattr(contact_sheet, "_thumbnail", read_again)  # each tile was made as its cell was measured
    table = pd.read_csv(sweep_run.sheet_and_csv(plan, runs, path)[1])
    assert table.status.eq("completed").all() and table.psnr.notna().all() and table.sharpness.notna().all()

    changed = runs[plan.cells[0].key].output_path  # a file written anew is measured anew
    Image.new("RGB", Image.open(changed).size, "white").save(changed)
    with pytest.raises(AssertionError, match="measured again"):
        sweep_run.sheet_and_csv(plan, runs, path)


def test_concurrency_and_confirmation_limits_follow_the_environment(monkeypatch):
    assert (sweep_run.concurrency_for("fal", 30), sweep_run.concurrency_for("local", 30)) == (30, 1)
    monkeypatch.setenv("CLARITY_SWEEP_CONCURRENCY", "9")
    monkeypatch.setenv("CLARITY_CONFIRM_PRICE", "0.5")
    assert (sweep_run.concurrency_for("fal", 30), sweep_run.concurrency_for("local", 30)) == (9, 1)
    assert sweep_run.confirm_limits() == (0.5, 16)


def test_the_public_sweep_api_takes_the_schema_fields_in_order():
    import inspect

    from components.sweep.sweep_panel import sweep
    from core.schema import PARAMETER_FIELDS

    assert list(inspect.signature(sweep).parameters) == [
        "image", "image_url", *(f.name for f in PARAMETER_FIELDS), "engine", "x_axis", "x_values", "y_axis",
        "y_values", "confirm", "session", "region_on", *REGION_PARAMS, "vary_seed", "z_axis", "z_values", "w_axis",
        "w_values", "request"]


def test_the_sweep_api_returns_the_csv_and_the_sheet_and_refuses_bad_values_by_token(fal_server, fal_key):
    import gradio as gr

    from components.common.session import Session
    from components.sweep import sweep_actions

    async def call(**overrides) -> list:
        arguments = {"image": input_image(), "engine": "fal", "x_axis": "creativity", "x_values": "0.2, 0.5",
                     "y_axis": "", "session": Session(typed_key=fal_key, owner="erin"), **overrides}
        return [step async for step in sweep_actions.sweep(**arguments)]

    steps = run(call())
    csv, sheet, view = steps[-1]
    assert len(pd.read_csv(csv)) == 2 and Image.open(sheet).format == "PNG"
    assert all(step[:2] == (None, None) for step in steps[:-1])  # the API returns the files once, at the end
    assert {r.status for r in view.runs.values()} == {"completed"} and view.plan.y_axis is None
    with pytest.raises(gr.Error, match="`0.2-0.9 \\(\\+0\\)`"):
        run(call(x_values="0.2-0.9 (+0)"))
    with pytest.raises(gr.Error, match="Resemblance axis: `2` is too large; "
                                       "the resemblance must be a number from 0 to 1"):
        run(call(y_axis="resemblance", y_values="0.5, 2"))


def test_the_preflight_asks_for_confirmation_above_the_price_or_cell_limit(monkeypatch):
    from components.sweep import sweep_preflight
    from core.inputs.images import InputImage
    from core.usecases.sweep import needs_confirmation

    big = InputImage(input_image(1000, 1000), 1000, 1000, "digest")
    form = {"loaded": big, "engine": "fal", "x_axis": "upscale_factor", "x_values": "2, 4", "y_axis": "",
            "upscale_factor": 2.0, "prompt": "a", "negative_prompt": "b"}
    names = {key: key for key in form}
    text, confirm = sweep_preflight.preflight(names, form)
    # 4 MP + 16 MP of output at $0.03/MP = $0.60: under the default $1 and 16 cells
    assert "**2 cells**" in text and "$0.60" in text and confirm["visible"] is False
    monkeypatch.setenv("CLARITY_CONFIRM_PRICE", "0.5")
    text, confirm = sweep_preflight.preflight(names, form)
    assert confirm["visible"] is True and confirm["label"] == "I understand: run 2 cells for $0.60"
    found = sweep_preflight.estimate(form, "")
    plan, cost = found.plan, found.cost
    assert "above the limits that need a confirmation" in needs_confirmation(plan, cost, "fal")
    found = sweep_preflight.estimate({**form, "engine": "local"}, "")
    plan, cost = found.plan, found.cost  # each cell priced by its engine
    assert needs_confirmation(plan, cost, "local") == ""  # free, and 2 cells are under 16
    found = sweep_preflight.estimate({**form, "engine": "lanczos"}, "")
    plan, cost = found.plan, found.cost
    assert cost.estimated_price == 0 and needs_confirmation(plan, cost, "lanczos") == ""


def test_a_sweep_without_a_seed_gives_every_cell_the_same_seed() -> None:
    """An empty seed used to leave each cell to its own random seed, mixing the seed's effect into the grid."""
    plan = plan_grid({}, "creativity", [0.1, 0.2, 0.3], "resemblance", [0.4, 0.6])
    seeds = {cell.arguments["seed"] for cell in plan.cells}
    assert len(seeds) == 1 and isinstance(seeds.pop(), int)
    assert {cell.arguments["seed"] for cell in plan_grid({"seed": 7}, "creativity", [0.1, 0.2]).cells} == {7}
    assert [cell.arguments["seed"] for cell in plan_grid({}, "seed", [1, 2]).cells] == [1, 2]


def test_a_batch_cell_cancelled_before_it_started_is_retried_on_its_own_picture(tmp_path, history):
    # A user trial: a batch sweep cancelled midway, then Retry unfinished — the cells of coffee and chelsea that
    # had not started failed with "Give an image", on every retry: re-opened, they had no picture of their own.
    from core.runs.runs import Run

    picture = tmp_path / "coffee.png"
    Image.new("RGB", (20, 10), "olive").save(picture)
    for factor, status, path in ((1, "completed", str(picture)), (2, "cancelled", None)):
        history.save(Run(engine="lanczos", arguments={"upscale_factor": factor}, sweep_id="s1", status=status,
                         cell=f"image=coffee · upscale_factor={factor}", input_path=path, input_name="coffee"))
    plan, runs = reopen.reopen("s1", None, history)
    assert [cell.image_path for cell in plan.cells] == [str(picture)] * 2
    retried = run(sweep_run.retry_failed(plan, runs, LanczosEngine(), include_cancelled=True, save=history.save))
    assert all(found.status == "completed" for found in retried.values()), [r.error for r in retried.values()]


def test_a_cells_sheet_tile_made_beside_its_figures_looks_like_one_made_from_the_whole_output(tmp_path):
    # The tile of a ×2 output is scaled from the picture fidelity already resized to the input's size (a third of
    # the work); it must look like the tile of the whole output, and a picture with alpha keeps its background.
    from skimage import data as samples

    from core.sweep import contact_sheet

    source, output = tmp_path / "in.png", tmp_path / "out.png"
    photo = Image.fromarray(samples.astronaut())
    photo.save(source)
    photo.resize((1024, 1024), Image.Resampling.LANCZOS).save(output)
    sweep_run.cell_metrics(str(output), str(source), tile=384)
    kept = np.asarray(contact_sheet._tile_of(output, 384), dtype=np.float64)
    fresh = np.asarray(contact_sheet._thumbnail(output, 384), dtype=np.float64)
    assert kept.shape == fresh.shape == (384, 384, 3) and np.abs(kept - fresh).mean() < 1.0

    clear = photo.resize((1024, 1024)).convert("RGBA")
    clear.putalpha(Image.new("L", clear.size, 0))  # wholly transparent: its tile is the tile background
    clear.save(output)
    sweep_run.cell_metrics(str(output), str(source), tile=384)
    tile = contact_sheet._tile_of(output, 384)
    assert tile.getpixel((100, 100)) == contact_sheet._thumbnail(output, 384).getpixel((100, 100))
    assert tile.getcolors(1) is not None  # one colour: the background, not the photo under the alpha
