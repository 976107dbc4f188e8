"""Runs out of the app as datasets (``core/runs/dataset.py``), for whichever door asks: a finished sweep, or the
visitor's history as filtered. Only the visitor's own runs are ever read (``Visitor.scope``)."""

from __future__ import annotations

import time
from typing import Any

from core import config
from core.errors import InputError
from core.runs import dataset, store
from core.runs.dataset import DatasetZip
from core.sharing.visitor import Visitor
from core.sweep import sweep_run
from core.sweep.sweep_store import SweepStore


def _folder() -> Any:
    folder = config.data_dir() / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sweep_dataset(sweep_id: str, visitor: Visitor) -> DatasetZip:
    """A sweep's finished cells as an imagefolder zip, each row with the sweep's axes (``x_axis``, ``y_axis``; the
    values are in the parameter columns and ``cell``) and the cell's metrics (``psnr``, ``ssim`` against the input,
    ``sharpness``). InputError for an unknown sweep, someone else's, or one with no finished cell."""
    runs = store.store().runs_for_sweep(sweep_id, visitor.scope()) if sweep_id else []
    record = SweepStore(store.store()).get(sweep_id, visitor.scope()) if sweep_id else None
    if not runs:
        raise InputError("Choose a sweep of yours first: there is none with that id.", "sweep_id")
    axes = {"x_axis": record.x_axis if record else None, "y_axis": record.y_axis if record else None}
    extra = {run.id: {**axes, **sweep_run.cell_metrics(str(run.output_path), run.input_path)}
             for run in runs if sweep_run.done(run)}
    written = dataset.write(runs, _folder() / f"sweep-{sweep_id}-dataset.zip", extra)
    if not written.rows:
        written.path.unlink(missing_ok=True)
        raise InputError("This sweep has no finished cell to export yet.", "sweep_id")
    return written


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

