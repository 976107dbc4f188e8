"""A sweep as a web page to hand to someone who does not run the app: a zip of one folder that opens from disk.

The folder (named ``sweep-<id>``) holds

- ``index.html``: the grid, laid out by the viewer (which axis goes across, which down, a value or *all* for
  every other axis, swap in one click), each cell's thumbnail, label, status, metrics and settings (every
  parameter, the seed, the engine, the request id). It needs no server and no network: its script and style are
  inline and the sweep's data is embedded in it as JSON (a page opened from ``file://`` cannot fetch a file);
- ``thumbs/<run id>.jpg``: each finished cell's picture fitted in ``THUMB`` pixels (made once per output, kept
  in the sweep's folder and reused by later exports);
- ``images/<run id>.png``: the output pictures at full size, unless the whole would exceed ``CLARITY_PAGE_MB``
  (``core/config.py``, default 200 MB): then they are left out and the page says so;
- ``cells.csv``: the sweep's CSV (``core/sweep/contact_sheet.py``), its ``output_path`` the picture in the folder.

No key and no server path is written: runs hold no key, pictures are renamed by run id, and the CSV's paths are
the folder's own.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from core import config, storage
from core.runs.runs import Run
from core.sweep.axes import AXES, format_value
from core.sweep.contact_sheet import cells_csv
from core.sweep.plan import CellKey, SweepPlan
from core.sweep.sweep_run import cell_rows, done, sweep_dir

THUMB = 384  # px: a thumbnail's longer side
THUMB_QUALITY = 85  # JPEG
PAGE_BYTES = 5_000  # the page's script and style, deflated (3.9 kB) with the zip's directory
CELL_BYTES = 400  # one cell's data in the page and its CSV row, deflated (about 130 B), and its two files' zip entries
TEMPLATE = Path(__file__).with_name("web_page.html")


@dataclass(frozen=True)
class PagePlan:
    """What an export of a sweep would write, before it is written: its size in bytes (estimated from the
    pictures on disk), how many cells it shows and how many have a picture, and whether the full-size pictures
    fit under the limit (``limit_bytes``)."""

    bytes: int
    cells: int
    pictures: int
    full_size: bool
    limit_bytes: int


@dataclass(frozen=True)
class PageZip:
    """A written page: the zip, its size in bytes, and what it holds (``PagePlan``'s counts)."""

    path: Path
    bytes: int
    cells: int
    pictures: int
    full_size: bool


def thumbnail(run: Run) -> Path:
    """The run's thumbnail (JPEG, longer side ``THUMB`` px, alpha over white), made once per output file."""
    output = Path(str(run.output_path))
    path = _thumb_path(run)
    if path.is_file() and path.stat().st_mtime_ns >= output.stat().st_mtime_ns:
        return path
    with Image.open(output) as image:
        image.draft("RGB", (THUMB, THUMB))
        rgba = image.convert("RGBA")
    rgba.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS)
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    path.parent.mkdir(parents=True, exist_ok=True)
    storage.write_atomic(path, lambda out: flat.save(out, format="JPEG", quality=THUMB_QUALITY),
                         "save a thumbnail")
    return path


def _finished(runs: dict[CellKey, Run]) -> list[Run]:
    return [run for run in runs.values() if done(run)]


def planned(plan: SweepPlan, runs: dict[CellKey, Run]) -> PagePlan:
    """What ``write`` would write for this sweep: the size with the full-size pictures when they fit under
    ``config.page_full_size_bytes()``, else without them."""
    finished = _finished(runs)
    pictures = sum(os.stat(str(run.output_path)).st_size for run in finished)
    thumbs = _thumbs_bytes(finished)
    rest = PAGE_BYTES + CELL_BYTES * plan.size + thumbs
    limit = config.page_full_size_bytes()
    full_size = rest + pictures <= limit
    return PagePlan(rest + pictures if full_size else rest, plan.size, len(finished), full_size, limit)


def _thumb_path(run: Run) -> Path:
    return sweep_dir(run.sweep_id or "loose") / "thumbs" / f"{run.id}.jpg"


def _thumbs_bytes(finished: list[Run]) -> int:
    """The thumbnails' bytes: each made one's own; one not made yet (a cell the grid has not shown, a sweep that
    came through the API) as large as one of the same input picture, made now if none is. A thumbnail's size
    follows the picture it shows, not the upscale factor: each is ``THUMB`` px of the same scene."""
    of_input: dict[str | None, int] = {}
    for run in finished:
        if (path := _thumb_path(run)).is_file():
            of_input.setdefault(run.input_path, path.stat().st_size)
    total = 0
    for run in finished:
        if (path := _thumb_path(run)).is_file():
            total += path.stat().st_size
        else:
            if run.input_path not in of_input:
                of_input[run.input_path] = thumbnail(run).stat().st_size  # kept: the export uses it
            total += of_input[run.input_path]
    return total


def axes_of(plan: SweepPlan) -> list[dict[str, Any]]:
    """The page's axes: name, label and value texts, X first, then Y, Z and W."""
    return [{"name": name, "label": AXES[name].label if name in AXES else name,
             "values": [format_value(name, value, 80) for value in values]} for name, values in plan.axes]


@dataclass(frozen=True)
class Start:
    """The layout a page opens in, by axis name: ``across``, ``down`` (None: one row) and, for each other axis, the
    index of the value shown (None, or left out: all of them, a grid each)."""

    across: str
    down: str | None = None
    at: dict[str, int | None] = field(default_factory=dict)

    def indices(self, plan: SweepPlan) -> dict[str, Any] | None:
        """As the page reads it (axis indices; ``down`` -1 for none; ``fixed`` a value index or None per axis), or
        None when it names an axis the sweep does not have or a value out of range (the page's own default)."""
        names = [name for name, _ in plan.axes]
        sizes = dict((name, len(values)) for name, values in plan.axes)
        if self.across not in names or (self.down is not None and self.down not in names) or self.down == self.across:
            return None
        if any(name not in sizes or (at is not None and not 0 <= at < sizes[name]) for name, at in self.at.items()):
            return None
        return {"across": names.index(self.across), "down": names.index(self.down) if self.down else -1,
                "fixed": [self.at.get(name) for name in names]}


def page_data(plan: SweepPlan, rows: Sequence[dict[str, Any]], full_size: bool, limit_bytes: int,
              made_at: float | None = None, start: Start | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data: the sweep's id, when it was made, its axes and one entry per
    cell (``at``: its index on each axis), with ``image``/``thumb`` paths inside the folder (None when left out
    or not finished), and the layout it opens in (``start``: the one on screen when it was exported)."""
    cells = []
    for row in rows:
        run_id, finished = row["run_id"], bool(row["output_path"])
        cells.append({
            "at": [row["x_index"]] + ([row["y_index"]] if plan.y_axis else [])
                  + [row[f"{letter}_index"] for letter, _ in zip("zw", plan.more_axes, strict=False)],
            "label": row["label"],
            "status": row["status"], "error": row["error"],
            "image": f"images/{run_id}.png" if finished and full_size else None,
            "thumb": f"thumbs/{run_id}.jpg" if finished else None,
            "metrics": {name: row[name] for name in ("psnr", "ssim", "sharpness")},
            "settings": {**row["arguments"], "seed": row["seed"]},
            "engine": row["engine"], "model": row["model"], "request_id": row["request_id"], "run_id": run_id,
            "input_name": row["input_name"], "region": row["region"], "created_at": row["created_at"]})
    note = "" if full_size else (
        f"The full-size pictures are left out: with them this page would be larger than "
        f"{limit_bytes / 1024 ** 2:.0f} MB. The thumbnails are {THUMB} px.")
    return {"sweep_id": plan.id, "made_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(made_at)),
            "axes": axes_of(plan), "cells": cells, "full_size": full_size, "note": note,
            "start": start.indices(plan) if start else None}


def html(data: dict[str, Any]) -> str:
    """``index.html`` with ``data`` embedded (``</`` escaped, so no prompt can end the script element)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False).replace("</", "<\\/").replace("<!--", "<\\!--")
    return TEMPLATE.read_text(encoding="utf-8").replace("/*SWEEP_DATA*/{}", text)


def write(plan: SweepPlan, runs: dict[CellKey, Run], path: Path, input_path: str | None = None,
          start: Start | None = None) -> PageZip:
    """Write the sweep's page as a zip at ``path`` (replaced whole, never half-written), opening in the layout
    ``start`` (else X across, Y down); OSError when it cannot."""
    plan_of = planned(plan, runs)
    rows = cell_rows(plan, runs, input_path)
    root = f"sweep-{plan.id}"
    finished = {run.id: run for run in _finished(runs)}
    thumbs = {run_id: thumbnail(run) for run_id, run in finished.items()}  # before the zip: kept for next time
    with tempfile.TemporaryDirectory() as scratch:
        csv_rows = [{**row, "output_path": f"images/{row['run_id']}.png" if row["output_path"] and
                     plan_of.full_size else None} for row in rows]
        csv_path = cells_csv(csv_rows, Path(scratch) / "cells.csv")
        page = html(page_data(plan, rows, plan_of.full_size, plan_of.limit_bytes, start=start))

        def fill(out: Any) -> None:
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(f"{root}/index.html", page)
                archive.write(csv_path, f"{root}/cells.csv")
                for row in rows:
                    run_id = row["run_id"]
                    if not row["output_path"] or run_id not in thumbs:
                        continue
                    archive.write(thumbs[run_id], f"{root}/thumbs/{run_id}.jpg", zipfile.ZIP_STORED)
                    if plan_of.full_size:  # PNGs are compressed already
                        archive.write(row["output_path"], f"{root}/images/{run_id}.png", zipfile.ZIP_STORED)

        storage.write_atomic(path, fill, "write the sweep's web page")
    return PageZip(path, path.stat().st_size, plan_of.cells, plan_of.pictures, plan_of.full_size)
