"""Runs out of the app as datasets (``core/runs/dataset.py``), for whichever door asks: a finished sweep, or the
visitor's history as filtered. Only the visitor's own runs are ever read (``Visitor.scope``)."""

from __future__ import annotations

import time
from typing import Any

from core import config
from core.errors import InputError
from core.runs import dataset, store
from core.runs.dataset import DatasetZip
from core.runs.runs import Run
from core.sharing.visitor import Visitor
from core.sweep import sweep_run, web_page
from core.sweep.plan import CellKey, SweepPlan
from core.sweep.reopen import reopen
from core.sweep.sweep_store import SweepStore
from core.sweep.web_page import PagePlan, PageZip


def _folder() -> Any:
    folder = config.data_dir() / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _missing(sweep_id: str, visitor: Visitor) -> InputError:
    """Why the visitor's sweep has no run to export: in History's bin, deleted for good (its record outlives its
    runs: it said "there is none with that id" of a sweep the page still showed), or none of theirs."""
    history = store.store()
    if sweep_id and history.runs_for_sweep(sweep_id, visitor.scope(), binned=True):
        return InputError(f"Sweep {sweep_id} is in the bin: put its runs back (History, Status “recently "
                          "deleted”) to export it.", "sweep_id")
    if sweep_id and SweepStore(history).get(sweep_id, visitor.scope()) is not None:
        return InputError(f"Sweep {sweep_id} was deleted for good in History (the bin was emptied): its runs and "
                          "pictures are gone, so there is nothing to export.", "sweep_id")
    return InputError("Choose a sweep of yours first: there is none with that id.", "sweep_id")


def sweep_dataset(sweep_id: str, visitor: Visitor) -> DatasetZip:
    """A sweep's finished cells as an imagefolder zip, each row with the sweep's axes (``x_axis``, ``y_axis``, and
    ``z_axis``, ``w_axis`` when it has them; the values are in the parameter columns and ``cell``) and the cell's
    metrics (``psnr``, ``ssim`` against the input, ``sharpness``). InputError for an unknown sweep, someone else's,
    or one with no finished cell."""
    runs = store.store().runs_for_sweep(sweep_id, visitor.scope()) if sweep_id else []
    record = SweepStore(store.store()).get(sweep_id, visitor.scope()) if sweep_id else None
    if not runs:
        raise _missing(sweep_id, visitor)
    axes = {"x_axis": record.x_axis if record else None, "y_axis": record.y_axis if record else None,
            **{f"{letter}_axis": name for letter, (name, _) in zip("zw", record.more_axes if record else (),
                                                                    strict=False)}}
    extra = {run.id: {**axes, **sweep_run.cell_metrics(str(run.output_path), run.input_path)}
             for run in runs if sweep_run.done(run)}
    written = dataset.write(runs, _folder() / f"sweep-{sweep_id}-dataset.zip", extra)
    if not written.rows:
        written.path.unlink(missing_ok=True)
        raise InputError("This sweep has no finished cell to export yet.", "sweep_id")
    return written


def _sweep_of(sweep_id: str, visitor: Visitor) -> tuple[SweepPlan, dict[CellKey, Run]]:
    if not sweep_id:
        raise InputError("Choose a sweep of yours first: there is none with that id.", "sweep_id")
    try:
        plan, runs = reopen(sweep_id, visitor.scope(), store.store())
    except InputError:
        raise _missing(sweep_id, visitor) from None
    if not any(sweep_run.done(run) for run in runs.values()):
        raise InputError("This sweep has no finished cell to export yet.", "sweep_id")
    return plan, runs


def sweep_page_plan(sweep_id: str, visitor: Visitor) -> PagePlan:
    """What *Export as a web page* would write for the visitor's sweep (its size, cells, whether the full-size
    pictures fit), before writing it. InputError as ``sweep_page``."""
    return web_page.planned(*_sweep_of(sweep_id, visitor))


def sweep_page(sweep_id: str, visitor: Visitor, start: web_page.Start | None = None) -> PageZip:
    """The visitor's sweep as a web page that opens from disk (``core/sweep/web_page.py``), in a zip, laid out as
    ``start`` (the layout on screen; else X across, Y down). InputError for an unknown sweep, someone else's, or
    one with no finished cell; StorageError when the disk is full."""
    plan, runs = _sweep_of(sweep_id, visitor)
    return web_page.write(plan, runs, _folder() / f"sweep-{plan.id}-page.zip", start=start)


def history_dataset(visitor: Visitor, search: str = "", status: str | None = None,
                    engine: str | None = None) -> DatasetZip:
    """The visitor's finished runs that match the History tab's search and filters, as an imagefolder zip.
    InputError when none matches."""
    runs = store.store().runs(visitor.scope(), search=search, status=status, engine=engine)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    written = dataset.write(runs, _folder() / f"history-{stamp}-dataset.zip")
    if not written.rows:
        written.path.unlink(missing_ok=True)
        raise InputError("No finished run matches: there is nothing to export.", None)
    return written

