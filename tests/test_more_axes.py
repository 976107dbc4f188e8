"""Sweeps past A1111's X/Y plot: Z and W axes in the plan, through `/sweep` on both engines, in the store and on
re-opening, and a finished grid laid out again (any axis across or down, a value or "all" of the others) without
re-running anything."""

from __future__ import annotations

import asyncio
import sqlite3
import zlib
from contextlib import closing
from pathlib import Path

import gradio as gr
import pandas as pd
import pytest
from gradio_client import handle_file
from PIL import Image

from components.common.session import Session
from components.sweep import sweep_layout, sweep_reopen, sweep_views
from components.sweep.sweep_actions import SweepView
from core import schema
from core.errors import InputError
from core.runs import store
from core.sweep import reopen
from core.sweep.axes import parse_axis
from core.sweep.plan import plan_grid
from core.sweep.sweep_store import SweepStore
from tests.reliability import noise_png

AXES4 = [("creativity", "0.2, 0.4"), ("resemblance", "0.5, 1"), ("guidance_scale", "3, 5, 7"), ("seed", "1, 2")]


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return noise_png(tmp_path / "axes.png", (40, 30), seed=zlib.crc32(request.node.name.encode()))


def four_axis_plan():
    (x, xs), (y, ys), *more = [(name, parse_axis(name, text)) for name, text in AXES4]
    return plan_grid(schema.defaults(), x, xs, y, ys, more_axes=more)


def test_a_four_axis_plan_holds_every_combination_once_labelled_with_every_value() -> None:
    plan = four_axis_plan()
    assert plan.size == 2 * 2 * 3 * 2 and len({cell.key for cell in plan.cells}) == plan.size
    assert [name for name, _ in plan.axes] == ["creativity", "resemblance", "guidance_scale", "seed"]
    first, last = plan.cells[0], plan.cells[-1]
    assert first.label == "creativity=0.2 · resemblance=0.5 · guidance_scale=3 · seed=1"
    assert last.label == "creativity=0.4 · resemblance=1 · guidance_scale=7 · seed=2"
    assert last.key == (1, 1, 2, 1)  # X, Y, Z, W indices
    assert plan.cells[1].label.startswith("creativity=0.4 · resemblance=0.5 · guidance_scale=3")  # X innermost
    for cell in plan.cells:  # each cell's arguments carry its own four values
        assert [cell.arguments[name] for name, _ in AXES4] == [cell.values[name] for name, _ in AXES4]


@pytest.mark.parametrize(("more", "field", "words"), [
    ({"z_axis": "creativity", "z_values": "0.1"}, "creativity", "X and Z both sweep Creativity"),
    ({"z_axis": "seed", "z_values": "1, 2", "w_axis": "seed", "w_values": "3"}, "seed", "Z and W both sweep Seed"),
    ({"w_axis": "seed", "w_values": "1, 2"}, "w_axis", "A W axis needs a Z axis"),
    ({"z_values": "1, 2"}, "z_axis", "Z values were given with no Z axis"),
    ({"z_axis": "seed", "z_values": ""}, "seed", "no values given"),
    ({"z_axis": "seed", "z_values": "1-30", "w_axis": "guidance_scale", "w_values": "2, 3"}, None,
     "this grid has 240 cells; the limit is 100"),
])
def test_further_axes_are_refused_by_name_before_anything_runs(client, photo, more, field, words) -> None:
    asked = {"engine": "fal", "x_axis": "creativity", "x_values": "0.2, 0.4", "y_axis": "resemblance",
             "y_values": "0.5, 1", "dry_run": True, **more}
    with pytest.raises(Exception, match=words):
        client.predict(handle_file(photo), None, api_name="/sweep", **asked)
    from core.usecases.sweep import SweepRequest, plan_sweep

    with pytest.raises(InputError) as refused:
        plan_sweep(SweepRequest.checked({"image": photo, **asked}), "", load=False)
    assert refused.value.field == field


def test_a_z_axis_needs_a_y_axis() -> None:
    with pytest.raises(InputError, match="A Z axis needs a Y axis"):
        plan_grid(schema.defaults(), "creativity", [0.2], more_axes=[("seed", [1, 2])])


def test_a_three_axis_local_sweep_runs_through_the_api_and_reopens_with_every_axis(client, photo,
                                                                                 tmp_path) -> None:
    from core.sweep import batch

    # the three things the local engines use: its model (an engine axis), the factor, and the input (an image axis
    # over the API caller's uploaded batch)
    pictures = [noise_png(tmp_path / f"{name}.png", (24, 16), seed=number) for number, name in enumerate("ab")]
    labels = list(batch.save_batch(Session().files_owner(), pictures))
    csv, sheet, summary = client.predict(
        None, None, engine="local", x_axis="engine", x_values="local:fast, lanczos", y_axis="upscale_factor",
        y_values="1, 2", z_axis="image", z_values=", ".join(labels), confirm=True, api_name="/sweep")
    cells = pd.read_csv(csv, encoding="utf-8-sig")
    assert len(cells) == 8 and set(cells["status"]) == {"completed"} and summary["counts"] == {"completed": 8}
    assert list(cells["z_value"]) == [labels[0]] * 4 + [labels[1]] * 4
    assert list(cells["z_index"]) == [0] * 4 + [1] * 4
    with Image.open(sheet) as picture:  # one grid per Z value, one under the other
        assert picture.height > picture.width
    me = Session()
    plan, runs = reopen.reopen(summary["sweep_id"], None, store.store())
    assert [name for name, _ in plan.axes] == ["engine", "upscale_factor", "image"]
    assert len(runs) == 8
    # the stacked sheet's grids are titled as people read the axis, like its legends (not "image=a.png")
    titles = [title for title, _ in plan.pages("engine", "upscale_factor", {"image": None})]
    assert titles == [f"Input image: {label}" for label in labels]
    controls = sweep_reopen.controls(summary["sweep_id"], plan, "local", me)
    assert controls[6:10] == ("image", ", ".join(labels), "", "") and controls[10]["open"] is True
    # each cell's run goes by its picture's file name, as a single upload's does (a user trial: "chelsea", without
    # its extension, so a search for "chelsea.png" missed the sweep's cells), and a re-opened sweep keeps it
    assert {run.input_name for run in runs.values()} == {"a.png", "b.png"}
    assert plan.image_names == dict(zip(labels, ("a.png", "b.png"), strict=True))


@pytest.mark.parametrize(("axes", "words"), [
    ({"z_axis": "seed", "z_values": "1, 2"}, "ignores seed"),
    ({"z_axis": "creativity", "z_values": "0.2, 0.6", "w_axis": "seed", "w_values": "1, 2"}, "ignores creativity"),
    ({"w_axis": "prompt", "w_values": "a | b", "z_axis": "image", "z_values": "x"}, "ignores prompt"),
])
def test_an_axis_every_compared_engine_ignores_is_refused_on_any_letter(client, photo, axes, words) -> None:
    # A user trial: with local:fast and lanczos on the Engine axis, a seed W axis ran 8 pairs of identical cells.
    asked = {"engine": "local", "x_axis": "upscale_factor", "x_values": "1, 2", "y_axis": "engine",
             "y_values": "local:fast, lanczos", "dry_run": True, **axes}
    with pytest.raises(Exception, match=f"Every engine of the Engine axis \\(local, lanczos\\) {words}"):
        client.predict(handle_file(photo), None, api_name="/sweep", **asked)
    with pytest.raises(Exception, match="ignores seed"):
        client.predict(handle_file(photo), None, api_name="/sweep_price",
                       **{**{k: v for k, v in asked.items() if k != "dry_run"}, "z_axis": "seed", "z_values": "1, 2",
                          "w_axis": "", "w_values": ""})


def test_an_axis_one_compared_engine_uses_is_kept_and_marked() -> None:
    from core.usecases.sweep import SweepRequest, plan_sweep

    request = SweepRequest({**schema.defaults()}, None, "fal", "engine", "fal, lanczos", "creativity", "0.2, 0.6",
                           more_axes=(("seed", "1, 2"),))
    plan, _ = plan_sweep(request, "", load=False)
    assert plan.size == 8
    marked = [cell for cell in plan.cells if "lanczos ignores creativity and seed" in
              sweep_views.ignored_note(plan, cell)]
    assert len(marked) == 4


FAL_AXES = {3: {"x_axis": "creativity", "x_values": "0.2, 0.4", "y_axis": "seed", "y_values": "1, 2",
               "z_axis": "engine", "z_values": "fal, lanczos"},
            4: {"x_axis": "creativity", "x_values": "0.2, 0.4", "y_axis": "resemblance", "y_values": "0.5, 1",
                "z_axis": "guidance_scale", "z_values": "3, 5", "w_axis": "seed", "w_values": "1, 2"}}


@pytest.mark.parametrize("count", [3, 4])
def test_a_three_and_a_four_axis_fal_sweep_run_through_the_api(client, photo, fal_server, fal_key, monkeypatch,
                                                                count) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    axes = FAL_AXES[count]
    csv, _, summary = client.predict(handle_file(photo), None, engine="fal", confirm=True, api_name="/sweep", **axes)
    cells = pd.read_csv(csv, encoding="utf-8-sig")
    assert len(cells) == 8 if count == 3 else 16
    assert set(cells["status"]) == {"completed"}
    names = [axes[f"{letter}_axis"] for letter in "xyzw"[:count]]
    plan, _ = reopen.reopen(summary["sweep_id"], None, store.store())
    assert [name for name, _ in plan.axes] == names
    sent = sorted(tuple(submit.json[name] for name in names if name != "engine") for submit in fal_server.submits())
    if count == 4:  # every combination reached fal once
        assert sent == sorted((c, r, g, s) for c in (0.2, 0.4) for r in (0.5, 1) for g in (3, 5) for s in (1, 2))
    else:  # the lanczos cells never reached fal
        assert sent == sorted((c, s) for c in (0.2, 0.4) for s in (1, 2))


def test_a_four_axis_sweep_on_local_and_fal_over_an_image_axis_runs_on_the_page_handler(
        tmp_path: Path, fal_server, fal_key, monkeypatch) -> None:
    # The local engines use three sweepable things (model, factor, input): a fourth axis needs an engine that uses
    # it, here fal beside local:fast, where creativity is fal's and marked as ignored on the local cells.
    from components.sweep import sweep_actions
    from core.sweep import batch

    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    me = Session()
    pictures = [noise_png(tmp_path / f"{name}.png", (24, 16), seed=number) for number, name in enumerate("ab")]
    labels = list(batch.save_batch(me.files_owner(), pictures))

    async def go() -> SweepView:
        steps = [step async for step in sweep_actions.sweep(
            {}, engine="local", x_axis="upscale_factor", x_values="1, 1.5", y_axis="engine",
            y_values="local:fast, fal", z_axis="image", z_values=", ".join(labels), w_axis="creativity",
            w_values="0.2, 0.6", confirm=True, session=me)]
        return steps[-1][2]

    view = asyncio.run(go())
    assert view.plan.size == 16 and {run.status for run in view.runs.values()} == {"completed"}
    assert [name for name, _ in view.plan.axes] == ["upscale_factor", "engine", "image", "creativity"]
    assert sorted(run.engine for run in view.runs.values()) == ["fal"] * 8 + ["local"] * 8
    assert sorted(submit.json["creativity"] for submit in fal_server.submits()) == [0.2] * 4 + [0.6] * 4
    inputs: dict[str, set[str]] = {}  # each image label's cells ran on one picture, its own
    for cell in view.plan.cells:
        inputs.setdefault(str(cell.values["image"]), set()).add(view.runs[cell.key].input_name or "")
    assert set(inputs) == set(labels) and all(len(names) == 1 for names in inputs.values())
    assert " · 2 images · " in sweep_views.grid_label(view)  # a batch, not its first picture's name
    local = [cell for cell in view.plan.cells if cell.values["engine"] == "local:fast"]
    assert all("local ignores creativity" in sweep_views.ignored_note(view.plan, cell) for cell in local)


def test_a_layout_re_indexes_the_same_cells_swap_pick_and_all() -> None:
    plan = four_axis_plan()
    view = SweepView(plan)
    layout = sweep_layout.current(view, None)
    assert layout.across == "creativity" and layout.down == "resemblance"
    assert len(sweep_layout.pages(view, layout)) == 3 * 2  # every Z × W value: a page of grids
    swapped = sweep_layout.swap(view, layout)[0]
    assert (swapped.across, swapped.down) == ("resemblance", "creativity")
    page = sweep_layout.pages(view, swapped)[0][1]
    moved = next(cell for cell in page.cells if cell.x_index == 1 and cell.y_index == 0)
    assert moved.values["resemblance"] == 1 and moved.values["creativity"] == 0.2  # across is now resemblance
    # guidance across, seed down: creativity and resemblance, taken out of the layout, show their first value
    chosen = sweep_layout.chosen(view, swapped, "guidance_scale", "seed")[0]
    assert (chosen.across, chosen.down) == ("guidance_scale", "seed")
    assert chosen.at == {"creativity": 0, "resemblance": 0} and len(sweep_layout.pages(view, chosen)) == 1
    # then their menus: creativity at 0.4, resemblance all (a grid per value)
    chosen = sweep_layout.picked(view, chosen, "creativity=1")[0]
    chosen = sweep_layout.picked(view, chosen, "resemblance=all")[0]
    assert chosen.at == {"creativity": 1, "resemblance": None}
    # a menu's event that comes late or twice moves nothing: the same layout asked again, a choice for an axis
    # that is across or down now
    assert sweep_layout.chosen(view, chosen, "guidance_scale", "seed")[0] == chosen
    assert sweep_layout.picked(view, chosen, "seed=1")[0] == gr.skip()
    # the axis across chosen down swaps the two, as the axis down chosen across does (it was silently undone)
    assert sweep_layout.down_chosen(view, chosen, "guidance_scale")[0] == sweep_layout.swap(view, chosen)[0]
    assert sweep_layout.across_chosen(view, chosen, "seed")[0] == sweep_layout.swap(view, chosen)[0]
    pages = sweep_layout.pages(view, chosen)
    assert [title for title, _ in pages] == ["Creativity: 0.4 · Resemblance: 0.5", "Creativity: 0.4 · Resemblance: 1"]
    titles = [title for title, _ in pages]
    assert all(len(grid.cells) == 3 * 2 and grid.columns == 3 and grid.rows == 2 for _, grid in pages)
    assert len({cell.key for _, grid in pages for cell in grid.cells}) == 6 * len(pages)  # nothing twice
    assert all(": " in title and "=" not in title for title in titles)
    words = sweep_views.layout_words(view, chosen)
    assert words == ("guidance_scale across · seed down · creativity: 0.4 · resemblance: all"
                     " · 2 grids one after another, 3×2 each")  # the gallery has no headings: the label says it


def test_an_older_sweeps_table_gains_the_further_axes_column(tmp_path: Path) -> None:
    from core.runs.history import History
    from core.sweep.sweep_store import SweepRecord

    path = tmp_path / "history.sqlite3"
    with closing(History(path)) as history:
        SweepStore(history)  # the table as this version makes it
    with closing(sqlite3.connect(path)) as conn:  # as an older version left it
        conn.execute("ALTER TABLE sweeps DROP COLUMN more_axes")
        conn.commit()
    with closing(History(path)) as history:
        kept = SweepStore(history)
        kept.save(SweepRecord("s1", "fal", "creativity", "0.2", "seed", "1, 2",
                              more_axes=(("guidance_scale", "3, 5"),)))
        assert kept.get("s1", None).more_axes == (("guidance_scale", "3, 5"),)


def test_a_four_axis_sweep_reopened_from_its_cells_alone_restores_every_axis() -> None:
    from core.runs.runs import Run

    plan = four_axis_plan()
    history = store.store()
    for cell in plan.cells:
        history.save(Run(engine="fal", arguments=dict(cell.arguments), status="failed", sweep_id="old4",
                         cell=cell.label))
    again, runs = reopen.reopen("old4", None, history)
    assert again.axes == plan.axes and len(runs) == plan.size
    assert [cell.label for cell in again.cells] == [cell.label for cell in plan.cells]
    assert asyncio.run(sweep_reopen.open_sweep("old4", Session()))[3 + 6:3 + 10] == (
        "guidance_scale", "3, 5, 7", "seed", "1, 2")


def test_an_axis_set_to_none_takes_its_values_with_it() -> None:
    # A user trial: Z set back to none kept "photo, coffee" in its locked box, and every run was refused for it.
    for letter in "yzw":
        update = sweep_views.axis_changed("", letter)
        assert update["value"] == "" and update["interactive"] is False


def test_the_metrics_plot_and_the_layouts_sheet_follow_the_layout(tmp_path: Path) -> None:
    from core.usecases.sweep import SweepRequest, plan_sweep

    request = SweepRequest({**schema.defaults()}, None, "fal", "upscale_factor", "1, 2", "engine",
                           "local:fast, fal", more_axes=(("creativity", "0.2, 0.6"),))
    plan, _ = plan_sweep(request, "", load=False)
    csv = tmp_path / "cells.csv"
    pd.DataFrame({"label": [cell.label for cell in plan.cells], "psnr": [30.0 + n for n in range(8)]}).to_csv(
        csv, index=False)
    view = SweepView(plan, csv=str(csv))
    layout = sweep_layout.chosen(view, None, "engine", "upscale_factor")[0]
    chart, _ = sweep_views.plot(view, layout, "psnr")
    args = chart.constructor_args
    assert args["label"] == "Metric against Engine" and args["x_title"] == "engine"
    assert args["sort"] == ["local:fast", "fal"]  # the grid's order, not the alphabet's
    series = sorted(set(args["value"]["series"]))
    assert series == ["upscale_factor=1 · creativity=0.2", "upscale_factor=1 · creativity=0.6",
                      "upscale_factor=2 · creativity=0.2", "upscale_factor=2 · creativity=0.6"]
    picked = sweep_layout.picked(view, layout, "creativity=1")[0]
    assert sweep_layout.current(view, picked).at == {"creativity": 1}


def test_the_metrics_table_names_its_columns_by_axis_in_the_layouts_order(tmp_path: Path) -> None:
    # From a user trial: after a swap the table still had x_value / y_value / z_value, named after the letters
    # the sweep was run with, while the grid had engine across.
    plan = plan_grid(schema.defaults(), "upscale_factor", [1, 2], "engine", ["local:fast", "lanczos"],
                     more_axes=[("image", ["a", "b"])], images={"a": None, "b": None})
    csv = tmp_path / "cells.csv"
    pd.DataFrame({"label": [cell.label for cell in plan.cells],
                  "x_value": [cell.values["upscale_factor"] for cell in plan.cells],
                  "y_value": [cell.values["engine"] for cell in plan.cells],
                  "z_value": [cell.values["image"] for cell in plan.cells], "status": "completed",
                  "psnr": [30.0 + n for n in range(8)]}).to_csv(csv, index=False)
    view = SweepView(plan, csv=str(csv))
    swapped = sweep_layout.swap(view, None)[0]
    table = sweep_views.laid_out_results(view, swapped)[2]
    assert list(table.columns) == ["label", "Engine", "Upscale factor", "Input image", "status", "psnr"]
    first = table.iloc[0]
    assert (first["Engine"], first["Upscale factor"], first["Input image"]) == ("local:fast", 1, "a")


def test_a_reopened_batch_sweep_puts_its_own_pictures_back_in_the_batch(client, tmp_path: Path) -> None:
    """A user trial: a re-opened sweep over an Input image axis showed an empty batch box, and Run sweep ran the
    pictures of the batch uploaded last under the same labels (other pictures, or a refusal)."""
    from core.sweep import batch

    me = Session()
    pictures = [noise_png(tmp_path / f"{name}.png", (24, 16), seed=number) for number, name in enumerate("ab")]
    labels = list(batch.save_batch(me.files_owner(), pictures))
    _, _, summary = client.predict(None, None, engine="lanczos", x_axis="image", x_values=", ".join(labels),
                                   y_axis="", y_values="", api_name="/sweep")
    swept = {label: path for label, path in batch.resolve_images(labels, me.files_owner()).items()}
    later = tmp_path / "later"
    later.mkdir()
    others = [noise_png(later / f"{name}.png", (30, 20), seed=9 + number) for number, name in enumerate("ab")]
    batch.save_batch(me.files_owner(), others)  # another batch since, under the same labels
    assert batch.resolve_images(labels, me.files_owner()) != swept

    *_, shown_batch, note = asyncio.run(sweep_reopen.open_sweep(summary["sweep_id"], me))
    assert note == "" and [Path(path).name for path in shown_batch] == ["a.png", "b.png"]
    assert batch.resolve_images(labels, me.files_owner()) == swept  # Run sweep runs the sweep's own pictures


def test_a_batch_sweep_partly_put_back_refills_the_batch_with_all_its_pictures(client, tmp_path: Path) -> None:
    """A user trial: a 3-picture sweep deleted in History, one run put back and the sweep re-opened: the batch box
    held only the picture put back while the Y values named all three (a warning, and Run sweep could not redo it),
    though the binned runs' pictures are kept on disk."""
    from core.runs import store
    from core.sweep import batch

    me = Session()
    pictures = [noise_png(tmp_path / f"{name}.png", (24, 16), seed=number) for number, name in enumerate("abc")]
    labels = list(batch.save_batch(me.files_owner(), pictures))
    _, _, summary = client.predict(None, None, engine="lanczos", x_axis="image", x_values=", ".join(labels),
                                   y_axis="", y_values="", api_name="/sweep")
    sweep_id = summary["sweep_id"]
    store.store().delete_sweep(sweep_id, me.scope())
    kept = next(run.id for run in store.store().runs_for_sweep(sweep_id, me.scope(), binned=True)
                if run.input_name == "b.png")
    store.store().undelete([kept], me.scope())

    *_, shown_batch, note = asyncio.run(sweep_reopen.open_sweep(sweep_id, me))
    assert note == "" and [Path(path).name for path in shown_batch] == ["a.png", "b.png", "c.png"]
    assert all(batch.resolve_images(labels, me.files_owner()).values())  # Run sweep finds every picture


def test_the_detail_crop_of_an_image_axis_is_chosen_on_the_picture_the_layout_shows(tmp_path: Path) -> None:
    # A user trial: with only coffee on show, the crop was still chosen on the cat (the sweep's first picture),
    # its sliders bounded by the cat's 451×300, so the right part of coffee could not be reached.
    from core.sweep import batch
    from core.usecases import SweepRequest
    from tests.followers import swept

    me = Session()
    small = noise_png(tmp_path / "cat.png", (40, 30), seed=1)
    large = noise_png(tmp_path / "coffee.png", (96, 64), seed=2)
    labels = list(batch.save_batch(me.files_owner(), [small, large]))
    sweep_id = swept(SweepRequest({}, None, "lanczos", "upscale_factor", "1, 2", "image", ", ".join(labels)), me)
    plan, runs = reopen.reopen(sweep_id, me.scope(), store.store())
    view = SweepView(plan, runs, "lanczos", None, csv="done")
    coffee = dict(plan.axes)["image"].index(labels[1])
    only_coffee = sweep_layout.Layout(sweep_id, "upscale_factor", None, (("image", coffee),))
    picture, x, y, size = sweep_views.crop_picture(view, only_coffee, 64)
    assert Image.open(picture).size == (96, 64)
    assert (x["maximum"], y["maximum"], size["maximum"]) == (96, 64, 64)
    assert Image.open(sweep_views.crop_picture(view, None, 64)[0]).size == (40, 30)  # both on show: the first
    # the crops of the coffee layout are taken at the coffee's own pixels: a 32 px square at (80, 48) of 96×64
    crops = sweep_views.crops(view, only_coffee, 80, 48, 32).value
    assert [Image.open(item["image"]["path"]).size for item in crops] == [(32, 32), (64, 64)]
