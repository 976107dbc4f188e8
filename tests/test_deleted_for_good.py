"""Deleted for good means gone: emptying the bin takes a run's derived pictures with it (thumbnails, the slider's
copy, its sweep's sheet, CSV and exports once the sweep has no run left), and a grid still on show draws its cells
as deleted instead of failing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from components.common.session import Session
from components.sweep import sweep_layout, sweep_reopen
from components.sweep import sweep_views as views
from components.sweep.sweep_actions import SweepView
from core.errors import InputError
from core.runs import store, thumbs
from core.sweep import reopen, web_page
from core.sweep.sweep_run import Phase, sweep_dir
from core.usecases import SweepRequest, export
from tests.followers import swept


def test_emptying_the_bin_takes_a_sweeps_pictures_and_its_grid_says_so(tmp_path: Path) -> None:
    # A user trial: after the bin was emptied the grid still showed the sweep's pictures (its thumbnails were
    # kept), and swapping its axes did nothing: drawing it failed on the outputs now gone.
    picture = tmp_path / "chelsea.png"
    Image.radial_gradient("L").resize((60, 40)).convert("RGB").save(picture)
    me = Session()
    sweep_id = swept(SweepRequest({}, str(picture), "lanczos", "upscale_factor", "1, 2"), me)
    plan, runs = reopen.reopen(sweep_id, me.scope(), store.store())
    view = SweepView(plan, runs, "lanczos", str(picture), csv=str(sweep_dir(sweep_id) / "cells.csv"),
                     phase=Phase.DONE)
    assert Path(str(view.csv)).is_file()
    made = [web_page.thumbnail(run) for run in runs.values()]  # what the grid and History drew
    made += [Path(str(thumbs.thumbnail(run, store.store().data_dir))) for run in runs.values()]
    folder = sweep_dir(sweep_id)
    assert all(path.is_file() for path in made) and any(folder.iterdir())

    ids = store.store().delete_sweep(sweep_id, me.scope())
    assert all(path.is_file() for path in made)  # in the bin: kept, it can be put back
    binned = sweep_reopen.whereabouts(view, me)  # the Sweep tab opened again
    assert isinstance(binned, SweepView) and binned.message == sweep_reopen.BINNED
    swapped = sweep_layout.Layout(sweep_id, "upscale_factor", None)
    # a pivot keeps saying where the sweep is (a user trial: after Swap it said "4 completed · done." again)
    assert "deleted in History" in views.render_grid(binned, swapped)[0]
    store.store().undelete(ids, me.scope())
    back = sweep_reopen.whereabouts(binned, me)
    assert isinstance(back, SweepView) and back.message == "done."
    assert not isinstance(sweep_reopen.whereabouts(back, me), SweepView)  # nothing new to say: left as it is

    store.store().delete_sweep(sweep_id, me.scope())
    store.store().purge(me.scope())
    assert not [path for path in made if path.exists()] and not folder.exists()
    gone = sweep_reopen.whereabouts(view, me)
    assert isinstance(gone, SweepView) and gone.message == sweep_reopen.PURGED
    for layout in (None, swapped):  # the grid as shown, and after a pivot
        line, grid = views.render_grid(gone, layout)[:2]
        captions = [item["caption"] for item in grid.value]
        assert captions == ["upscale_factor=1 — deleted", "upscale_factor=2 — deleted"], captions
        assert "deleted for good" in line and "2 deleted" in line and "completed" not in line, line
    # the views drawn with it find no picture to show rather than failing on the files gone
    assert views.render_results(gone)[0] is None  # no sheet to download
    assert not views.crops(gone, None, 10, 10, 16).value  # no finished cell has a picture left
    # A user trial: after a pivot the difference menus and the metrics failed on the CSV gone (FileNotFoundError,
    # an Error on Metrics, the old scores kept), and the layout's sheet drew its pictures as "completed" blanks.
    cells, against, metrics = views.laid_out_results(gone, swapped)
    assert cells["choices"] == [] and against["choices"] == ["input"] and metrics.empty
    assert "deleted in History" in cells["info"]  # the empty menu says why
    assert list(metrics.columns) == views.METRIC_COLUMNS  # not Gradio's "1 2 3" over no rows
    drawn, note = views.plot(gone, swapped, "psnr")
    assert "deleted in History" in note and sweep_id in note
    assert drawn.value is not None and not drawn.value["data"]  # empty, not None (a page error: see the browser test)
    # A user trial: the table said "completed" beside a grid of deleted tiles
    table = views.render_grid(gone, swapped)[2].value
    assert [row[1] for row in table["data"]] == ["deleted", "deleted"], table
    # the layout's sheet is refused in its line, not raised (an Error badge on the sheet's picture)
    picture, line = sweep_layout.sheet(gone, swapped)
    assert "deleted in History (deleted for good)" in line and not isinstance(picture, str)
    # the sheet and cells.csv on show go; exports say the sweep was deleted, not "there is none with that id"
    assert views.files_kept(gone)[:2] == (None, None)
    # A user trial: "is in the bin" (the dataset export pressed before the bin was emptied) stayed under "deleted for
    # good"; the export's file and line go with the sweep's move
    assert views.files_kept(gone)[3:] == (None, "") and views.files_kept(binned)[3:] == (None, "")
    for export_it in (export.sweep_page_plan, export.sweep_dataset):
        with pytest.raises(InputError, match=f"Sweep {sweep_id} was deleted for good"):
            export_it(sweep_id, me)


def test_a_sweep_partly_put_back_reopens_whole_with_its_other_cells_said_to_be_in_the_bin(tmp_path: Path) -> None:
    # A user trial: a 4-cell sweep deleted in History, one run put back, re-opened as a 1-cell sweep: the grid lost
    # the cells still in the bin with no word about them.
    picture = tmp_path / "chelsea.png"
    Image.radial_gradient("L").resize((60, 40)).convert("RGB").save(picture)
    me = Session()
    sweep_id = swept(SweepRequest({}, str(picture), "lanczos", "upscale_factor", "1, 2, 3"), me)
    ids = store.store().delete_sweep(sweep_id, me.scope())
    kept = next(run.id for run in store.store().runs_for_sweep(sweep_id, me.scope(), binned=True)
                if run.arguments.get("upscale_factor") == 2)
    store.store().undelete([kept], me.scope())

    plan, runs = reopen.reopen(sweep_id, me.scope(), store.store())
    assert [cell.label for cell in plan.cells] == [f"upscale_factor={n}" for n in (1, 2, 3)]
    assert [run.id for run in runs.values()] == [kept]
    view = SweepView(plan, runs, "lanczos", str(picture), phase=Phase.DONE)
    line, grid = views.render_grid(view)[:2]
    captions = [item["caption"] for item in grid.value]
    assert captions == ["upscale_factor=1 — in the bin", "upscale_factor=2",
                        "upscale_factor=3 — in the bin"], captions
    assert "1 completed" in line and "2 in the bin" in line and "queued" not in line, line
    # A user trial: the Past sweeps menu called it "1 cell · 1 done" beside this 3-cell grid
    (entry,) = sweep_reopen.sweep_choices(me)["choices"]
    assert " · 3 cells · 1 done · 0 failed or cancelled · 2 in the bin · " in entry[0], entry

    # A user trial: a sweep on show, deleted, one run put back: its line said "3 completed" (the view kept every
    # run); then, the bin emptied, its other cells still said "in the bin". The tab, opened again, redraws it.
    whole = SweepView(plan, {**runs, **{key: run for key, run in reopen.reopen(sweep_id, me.scope(), store.store())[1]
                                        .items()}}, "lanczos", str(picture), phase=Phase.DONE)
    everything = {cell.key: run for cell in plan.cells
                  for run in [*store.store().runs_for_sweep(sweep_id, me.scope()),
                              *store.store().runs_for_sweep(sweep_id, me.scope(), binned=True)]
                  if run.cell == cell.label}
    before = SweepView(plan, everything, "lanczos", str(picture), phase=Phase.DONE)  # as drawn before the delete
    shown_again = sweep_reopen.whereabouts(before, me)
    assert isinstance(shown_again, SweepView)
    line = views.render_grid(shown_again)[0]
    assert "1 completed" in line and "2 in the bin" in line, line
    store.store().purge(me.scope())
    emptied = sweep_reopen.whereabouts(shown_again, me)
    assert isinstance(emptied, SweepView)
    line = views.render_grid(emptied)[0]
    assert "1 completed" in line and "2 deleted" in line and "bin" not in line, line
    assert whole.plan is plan

    assert len(ids) == 3


def test_a_sweep_partly_deleted_for_good_reopens_whole_with_those_cells_said_to_be_deleted(tmp_path: Path) -> None:
    # A user trial: runs of a sweep deleted and the bin emptied; Past sweeps then listed it as "1 cells" and
    # re-opened it as a 1-cell grid, with no word of the cells it had lost (its axis shortened to one value).
    picture = tmp_path / "chelsea.png"
    Image.radial_gradient("L").resize((60, 40)).convert("RGB").save(picture)
    me = Session()
    sweep_id = swept(SweepRequest({}, str(picture), "lanczos", "upscale_factor", "1, 2, 3"), me)
    for run in store.store().runs_for_sweep(sweep_id, me.scope()):
        if run.arguments.get("upscale_factor") in (1, 3):
            store.store().delete(run.id, me.scope())
    store.store().purge(me.scope())

    plan, runs = reopen.reopen(sweep_id, me.scope(), store.store())
    assert [cell.label for cell in plan.cells] == [f"upscale_factor={n}" for n in (1, 2, 3)]
    assert [cell.gone for cell in plan.cells] == ["deleted", "", "deleted"]
    assert [run.arguments["upscale_factor"] for run in runs.values()] == [2]
    view = SweepView(plan, runs, "lanczos", str(picture), phase=Phase.DONE)
    line, grid = views.render_grid(view)[:2]
    captions = [item["caption"] for item in grid.value]
    assert captions == ["upscale_factor=1 — deleted", "upscale_factor=2", "upscale_factor=3 — deleted"], captions
    (entry,) = sweep_reopen.sweep_choices(me)["choices"]
    assert " · 3 cells · 1 done · 0 failed or cancelled · 2 deleted for good · " in entry[0], entry
