"""Sweeps as history runs: each cell of a plan through ``core.runs.runner``, then its sheet, CSV, metrics and views.

Every cell is one Run (the plan's ``sweep_id``, ``cell`` = its label) executed by ``core.runs.runner.execute`` — the
path every run takes — and saved at every change, so a sweep is in the history even if the app dies mid-way.
Files live in ``data/sweeps/<sweep_id>/``: the contact sheet, the CSV, thumbnails, detail crops, heat maps.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from PIL import Image

from core import config
from core.csv_export import ENCODING
from core.engines import describe, parse_spec
from core.engines.pacing import SWEEP, paced
from core.errors import InputError, StudioError
from core.inputs.region import Region
from core.runs.runner import Update, execute, save_soft
from core.runs.runs import Run, ignores_seed, iso_time
from core.sweep import metrics
from core.sweep.axes import IMAGE, AxisValue, format_value
from core.sweep.contact_sheet import (
    SheetCell,
    cells_csv,
    contact_sheet,
    keep_tile,
    sheet_thumb,
    sheet_to_png,
    stacked,
)
from core.sweep.plan import AXIS_LETTERS, Cell, CellKey, Preflight, SweepPlan
from core.sweep.scheduler import run_sweep

if TYPE_CHECKING:
    from core.engines.base import Engine

class Phase(Enum):
    """Where a sweep stands, for decisions (what its status line says is worded from it, never read back)."""

    IDLE = "idle"  # nothing running: a sweep shown from the history
    RUNNING = "running"  # its cells are being sent and run
    RETRYING = "retrying"  # its unfinished cells run again
    CANCELLING = "cancelling"  # Cancel all was pressed; cells settle
    DONE = "done"
    CANCELLED = "cancelled"


CONFIRM_PRICE, CONFIRM_CELLS = 1.0, 16  # above these a sweep must be confirmed (env overrides)
OnUpdate = Callable[[Cell, Run, "Update | None"], None]
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
MEASURING = 4  # cells measured at once (PSNR, SSIM, sharpness, the contact-sheet tile), at most: one per core


def concurrency_for(engine_name: str, cells: int) -> int:
    """How many of ``cells`` are handed to the engine at once: on fal all of them (fal's queue runs them at the
    account's concurrency; ``CLARITY_SWEEP_CONCURRENCY`` is an optional ceiling), locally 1 (one CPU job)."""
    return max(1, min(cells, describe(engine_name).runs_at_once or cells))


def _env_number(name: str, default: float) -> float:
    return config.number(name, default)


def confirm_limits() -> tuple[float, int]:
    """The price (``CLARITY_CONFIRM_PRICE``) and cell count (``CLARITY_CONFIRM_CELLS``) above which to confirm."""
    return _env_number("CLARITY_CONFIRM_PRICE", CONFIRM_PRICE), int(_env_number("CLARITY_CONFIRM_CELLS",
                                                                                 CONFIRM_CELLS))


def sweep_dir(sweep_id: str) -> Path:
    """``data/sweeps/<sweep_id>/`` (created); the id is checked so it can never name another folder."""
    if not _ID.fullmatch(sweep_id or ""):
        raise InputError(f"{sweep_id!r} is not a sweep id.", None)
    folder = config.data_dir() / "sweeps" / sweep_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def status_text(run: Run | None) -> str:
    """What a cell shows while it has no picture: queued, running, cancelled or the failure."""
    if run is None:
        return "queued"
    if run.status in ("failed", "interrupted"):
        return f"{run.status}: {run.error}" if run.error else run.status
    return run.status


async def run_plan(plan: SweepPlan, engine: Engine, *, owner: str = "", save: Callable[[Run], None] = lambda run: None,
                   concurrency: int | None = None, image_path: str | None = None, on_update: OnUpdate | None = None,
                   runs: dict[CellKey, Run] | None = None, only: Iterable[CellKey] | None = None,
                   engine_for: Callable[[str], Engine] | None = None, input_name: str | None = None,
                   **submit_options: str | None) -> dict[CellKey, Run]:
    """Run every cell (or ``only`` those) as history Runs; one Run per cell, whatever happened to it. With an
    engine axis each cell runs on ``engine_for(its engine spec)`` (``fal``, ``local:fast``…) instead of ``engine``.

    A failed cell keeps the others going. Cancelling the awaiting task cancels the running cells, keeps the
    finished ones, records never-started cells as cancelled runs, and re-raises CancelledError. ``runs`` is
    filled in place (a retry passes the previous dict). ``on_update(cell, run, update)`` sees every change.
    """
    runs = {} if runs is None else runs
    wanted = None if only is None else set(only)
    cells = [cell for cell in plan.cells if wanted is None or cell.key in wanted]
    notify = on_update or (lambda cell, run, update: None)

    def engine_of(cell: Cell) -> Engine:  # an engine axis runs each cell on its own engine
        spec = plan.engine_of(cell)
        return engine_for(spec) if spec is not None and engine_for is not None else engine

    def new_run(cell: Cell) -> Run:
        runner = engine_of(cell)
        image_axis = plan.axis_of(IMAGE)
        token = str(cell.values[image_axis]) if image_axis else None
        name = (plan.image_names.get(token) or token) if token is not None else input_name
        arguments = dict(cell.arguments)
        if ignores_seed(runner.name):  # the sweep's seed is for the engines that use one (an engine axis)
            arguments.pop("seed", None)
        return Run(engine=runner.name, arguments=arguments, owner=owner, sweep_id=plan.id,
                   cell=cell.label, model=getattr(runner, "model", None), input_name=name, region=plan.region,
                   whole_path=plan.whole_path)

    measuring: set[asyncio.Future[None]] = set()
    # Measuring takes a core and two pictures: as many at once as the machine has cores, at most MEASURING (one at
    # a time, twelve 1 MP cells that finished together waited ~2 s for their metrics after the last: bench/sweep).
    measuring_slots = asyncio.Semaphore(max(1, min(MEASURING, os.cpu_count() or 1)))

    async def measure(output_path: str, source: str | None) -> None:
        async with measuring_slots:
            await asyncio.to_thread(_measure_quietly, output_path, source, sheet_thumb(plan.size))

    async def run_cell(cell: Cell) -> Run:
        run = runs[cell.key] = new_run(cell)
        runner = engine_of(cell)
        options = submit_options if describe(runner.name).webhooks else {}
        try:
            async for update in execute(runner, run, cell.image_path or image_path, save, **options):
                notify(cell, run, update)
        except Exception as exc:  # refused before it was sent (a full disk, a busy history) or a bug: this cell
            words = str(exc) if isinstance(exc, StudioError) else f"{type(exc).__name__}: {exc}"  # fails, the
            run.status, run.finished_at, run.error = "failed", time.time(), words  # sweep goes on
            save_soft(run, save)
            notify(cell, run, None)
        if done(run) and run.output_path:  # its metrics measured now, beside the cells still running, not after
            measuring.add(asyncio.ensure_future(  # the last one; its slot is free meanwhile
                measure(str(run.output_path), source_of(cell, run, image_path))))
        return run

    lane_of = lanes(plan, len(cells)) if plan.engines and concurrency is None else None
    try:
        at_once = concurrency or max(concurrency_for(name, len(cells)) for name in engines_used(plan, engine.name))
        with paced(SWEEP):  # the cells' fal jobs poll at a sweep's pace, not the interactive console's
            await run_sweep(plan, run_cell, len(cells) if lane_of else at_once, only=[c.key for c in cells],
                            lane_of=lane_of)
        await asyncio.gather(*measuring)
    except asyncio.CancelledError:
        for cell in cells:
            run = runs.get(cell.key)
            if run is not None and run.final:  # finished, or a retry that never started: that outcome stands
                continue
            run = runs[cell.key] = run or new_run(cell)
            run.status, run.finished_at = "cancelled", time.time()
            run.error = run.error or "The sweep was cancelled before this cell finished."
            save_soft(run, save)
            notify(cell, run, None)
        raise
    return runs


def retryable(plan: SweepPlan, runs: dict[CellKey, Run], include_cancelled: bool = False) -> list[CellKey]:
    """The cells a retry re-runs: failed ones (and cancelled or never-run ones with ``include_cancelled``)."""
    statuses = {"failed", "interrupted"} | ({"cancelled"} if include_cancelled else set())
    return [cell.key for cell in plan.cells if cell.arguments and (
        runs[cell.key].status in statuses if cell.key in runs else include_cancelled)]


async def retry_failed(plan: SweepPlan, runs: dict[CellKey, Run], engine: Engine, *, include_cancelled: bool = False,
                       owner: str = "", save: Callable[[Run], None] = lambda run: None, concurrency: int | None = None,
                       image_path: str | None = None, on_update: OnUpdate | None = None,
                       engine_for: Callable[[str], Engine] | None = None,
                       **submit_options: str | None) -> dict[CellKey, Run]:
    """Re-run only the failed cells as new Runs (same sweep id, cell label and input name as the sweep's other
    runs); ``runs`` is updated in place. The other options are :func:`run_plan`'s."""
    keys = retryable(plan, runs, include_cancelled)
    # the picture's name as the sweep's runs have it (the retried cells were named "image", and a search missed them)
    input_name = next((run.input_name for run in runs.values() if run is not None and run.input_name), None)
    return await run_plan(plan, engine, owner=owner, save=save, concurrency=concurrency, image_path=image_path,
                          input_name=input_name, on_update=on_update, runs=runs, only=keys, engine_for=engine_for,
                          **submit_options)


def source_of(cell: Cell, run: Run | None, input_path: str | None) -> str | None:
    """The picture a cell's metrics compare with: its image axis value, else its run's input, else the sweep's."""
    return cell.image_path or (run.input_path if run else None) or input_path


_FIGURES_KEPT = 512  # cells' figures kept (a few numbers each)
_figures: OrderedDict[tuple[str, tuple[int, int], str | None, tuple[int, int] | None], dict[str, float | None]]
_figures = OrderedDict()
_figures_lock = threading.Lock()


def cell_metrics(output_path: str, input_path: str | None, tile: int | None = None) -> dict[str, float | None]:
    """PSNR and SSIM against the input (when known) and the output's sharpness. Each pair of files is measured
    once while neither changes (keyed by path, size and modification time): a sweep measures each cell as it
    finishes, and its CSV, contact sheet and export read the figures back. With ``tile`` (pixels) the output's
    contact-sheet tile is made from the same decoded picture (``contact_sheet.keep_tile``), so the sheet at the
    sweep's end does not read every output again. Raises OSError for a missing output."""
    source = input_path if input_path and Path(input_path).is_file() else None
    key = (output_path, _stamp(output_path), source, _stamp(source) if source else None)
    with _figures_lock:
        kept = _figures.get(key)
    if kept is not None and tile is None:
        return dict(kept)
    with Image.open(output_path) as output:
        output.load()
        original = _source(source, _stamp(source)) if source else None
        # the output as fidelity compares it, resized to the input's size once for both the figures and the tile
        compared = metrics.downscaled(output, original.size) if original is not None else None
        if tile is not None:
            keep_tile(output_path, _tile_source(output, compared, tile), tile)
        found = kept if kept is not None else _measured(output, compared, original)
    with _figures_lock:
        _figures[key] = found
        while len(_figures) > _FIGURES_KEPT:
            _figures.popitem(last=False)
    return dict(found)


def _tile_source(output: Image.Image, compared: Image.Image | None, tile: int) -> Image.Image:
    """The picture a cell's sheet tile is scaled from: the output as fidelity compared it (already resized to the
    input's size) when that is still at least the tile's size and the output has no alpha to lay on the tile
    background, else the output. A ×2 output's 384 px tile from 512 px instead of 1024 px: a third of the time."""
    if compared is not None and output.mode == "RGB" and max(compared.size) >= tile:
        return compared
    return output


def _stamp(path: str) -> tuple[int, int]:
    found = os.stat(path)
    return found.st_size, found.st_mtime_ns


def _measure_quietly(output_path: str, input_path: str | None, tile: int) -> None:
    with contextlib.suppress(Exception):  # a file that cannot be measured raises again where the figures are
        cell_metrics(output_path, input_path, tile)  # read (the CSV), as it did before they were measured early


@functools.lru_cache(maxsize=2)  # a sweep has one input (a batch: one per picture, read in turn)
def _source(path: str, stamp: tuple[int, int]) -> Image.Image:
    """The input a sweep's cells are measured against, decoded once for all of them (keyed by its stamp: a file
    replaced is read again). Read-only once made: the measuring threads share it."""
    with Image.open(path) as image:
        image.load()
        return image.copy()


def _measured(output: Image.Image, compared: Image.Image | None, original: Image.Image | None,
              ) -> dict[str, float | None]:
    """The figures of ``output``: its sharpness, and with the input (``original``) its fidelity, from ``compared``
    (``metrics.downscaled(output, original.size)``)."""
    found: dict[str, float | None] = {"psnr": None, "ssim": None, "sharpness": None}
    found["sharpness"] = round(metrics.sharpness(output), 3)
    if compared is not None and original is not None:
        try:
            fidelity = metrics.fidelity(compared, original)
        except InputError:  # too small to compare: leave the columns empty
            return found
        found["psnr"], found["ssim"] = round(fidelity["psnr"], 3), round(fidelity["ssim"], 4)
    return found


def done(run: Run | None) -> bool:
    """Whether the run finished with its output file on disk."""
    return bool(run and run.status == "completed" and run.output_path and Path(run.output_path).is_file())


def _csv_value(axis: str | None, value: AxisValue) -> AxisValue:
    if axis is None:
        return None
    return value if isinstance(value, (bool, int, float, str)) else format_value(axis, value, 200)


def _seed_of(run: Run | None, parameters: dict[str, Any]) -> Any:
    """A cell's seed for its CSV row: the one used, else the one asked for; none on an engine that uses none."""
    if run is not None and ignores_seed(run.engine):
        return None
    return run.seed if run is not None and run.seed is not None else parameters.get("seed")


def cell_rows(plan: SweepPlan, runs: dict[CellKey, Run], input_path: str | None = None) -> list[dict[str, Any]]:
    """One row per cell, grid order: position, label, status, axis values, ``arguments`` (every parameter), seed,
    request id, engine, model, input name, region, metrics (``psnr``, ``ssim``, ``sharpness``), error, run id and
    ``output_path`` (set only for a finished cell)."""
    rows = []
    for cell in plan.cells:
        run = runs.get(cell.key)
        output = run.output_path if run and done(run) else None  # set only when finished
        measured = (cell_metrics(output, source_of(cell, run, input_path)) if output
                    else {"psnr": None, "ssim": None, "sharpness": None})
        parameters = run.parameters() if run else {k: v for k, v in cell.arguments.items() if k != "image_url"}
        further: dict[str, Any] = {}  # the Z and W axes' place and value
        for letter, (name, values) in zip(AXIS_LETTERS[2:], plan.more_axes, strict=False):
            further[f"{letter}_index"] = cell.place[name]
            further[f"{letter}_value"] = _csv_value(name, values[cell.place[name]])
        rows.append({"x_index": cell.x_index, "y_index": cell.y_index, "label": cell.label,
                     "status": run.status if run else cell.gone or "queued",
                     "x_value": _csv_value(plan.x_axis, cell.x_value),
                     "y_value": _csv_value(plan.y_axis, cell.y_value), **further, "arguments": parameters,
                     "seed": _seed_of(run, parameters),
                     "sweep_id": plan.id, "created_at": iso_time(run.created_at) if run else None,
                     "request_id": run.request_id if run else None, "engine": run.engine if run else None,
                     "model": run.model if run else None, "input_name": run.input_name if run else None,
                     "region": region.label if (region := Region.parse(plan.region)) else None,
                     **measured, "error": run.error if run else None,
                     "run_id": run.id if run else None, "output_path": output})
    return rows


def sheet_and_csv(plan: SweepPlan, runs: dict[CellKey, Run], input_path: str | None = None,
                  ) -> tuple[str, str]:
    """Write ``contact-sheet.png`` (with Z and W axes, one sheet per combination of their values, stacked under
    their titles, as A1111's X/Y/Z plot writes one grid per Z value) and ``cells.csv`` (one row per cell, every
    parameter and metric)."""
    folder = sweep_dir(plan.id)
    rows = cell_rows(plan, runs, input_path)
    sheet = layout_sheet(plan, runs, plan.x_axis, plan.y_axis, dict.fromkeys(name for name, _ in plan.more_axes))
    return str(sheet_to_png(sheet, folder / "contact-sheet.png")), str(cells_csv(rows, folder / "cells.csv"))


def kept_sheet_and_csv(plan: SweepPlan, runs: dict[CellKey, Run]) -> tuple[str, str] | None:
    """The sweep's ``contact-sheet.png`` and ``cells.csv`` as its end (or its last retry) wrote them, when they
    still describe its runs — every cell's label, status and run id as the CSV has them — so re-opening a past
    sweep does not measure and draw every cell again. None when they do not (a cell retried, cancelled or deleted
    since, a file gone or unreadable)."""
    folder = sweep_dir(plan.id)
    sheet, csv = folder / "contact-sheet.png", folder / "cells.csv"
    if not (sheet.is_file() and csv.is_file()):
        return None
    try:
        frame = pd.read_csv(csv, encoding=ENCODING, usecols=["label", "status", "run_id"], dtype=str,
                            keep_default_na=False)
    except (OSError, ValueError):  # pandas' ParserError is a ValueError
        return None
    written = list(frame[["label", "status", "run_id"]].itertuples(index=False, name=None))
    now = [(cell.label, run.status if run else cell.gone or "queued", run.id if run else "")
           for cell in plan.cells for run in [runs.get(cell.key)]]
    return (str(sheet), str(csv)) if written == now else None


def layout_sheet(plan: SweepPlan, runs: dict[CellKey, Run], across: str, down: str | None,
                 at: dict[str, int | None]) -> Image.Image:
    """The contact sheet of a layout (``SweepPlan.pages``): one sheet per page, under its title when there are
    several. A finished cell's tile is its thumbnail made when it finished (``sheet_thumb``)."""
    thumb = sheet_thumb(plan.size)
    sheets = []
    for title, page in plan.pages(across, down, at):
        tiles = []
        for cell in page.cells:
            run = runs.get(cell.key)
            output = run.output_path if run and done(run) else None
            said = "" if output else status_text(run) if run else cell.gone or "queued"  # in the bin, deleted…
            tiles.append(SheetCell(cell.x_index, cell.y_index, cell.label, output, said))
        sheets.append((title, contact_sheet(tiles, page.x_axis, page.x_values, page.y_axis, page.y_values,
                                            thumb=thumb)))
    return stacked(sheets)


def preflight(plan: SweepPlan, image_path: str | None = None, *, engine: str | None = None,
              seconds_per_megapixel: float | None = None, seconds_per_cell: float = 0.0,
              concurrency: int = 1, seconds_of: Callable[[Cell, float], float] | None = None,
              lane_of: Callable[[Cell], tuple[str, int]] | None = None) -> Preflight | None:
    """``plan.preflight`` for its input files (``image_path`` for one image), each cell priced by its own engine
    (an engine axis's, else ``engine``; unpriced without one); None when a size is unknown."""
    sizes = {}
    for key in {cell.image_path or "" for cell in plan.cells}:
        path = key or image_path
        if not path:
            return None  # an https URL nobody fetched yet
        with Image.open(path) as image:  # reads the header only
            sizes[key] = image.size
    return plan.preflight(sizes=sizes, seconds_per_megapixel=seconds_per_megapixel,
                          seconds_per_cell=seconds_per_cell, concurrency=concurrency,
                          price_per_megapixel=cell_prices(plan, engine), seconds_of=seconds_of, lane_of=lane_of)


def cell_engine(plan: SweepPlan, engine: str | None) -> Callable[[Cell], str | None]:
    """The engine id each cell runs on: its engine axis value's, else ``engine``."""

    def engine_of(cell: Cell) -> str | None:
        spec = plan.engine_of(cell)
        return parse_spec(spec)[0] if spec is not None else engine

    return engine_of


def cell_prices(plan: SweepPlan, engine: str | None) -> Callable[[Cell], float]:
    """Each cell's price per output megapixel (USD), from its own engine's descriptor."""
    engine_of = cell_engine(plan, engine)

    def price(cell: Cell) -> float:
        engine_id = engine_of(cell)
        return describe(engine_id).price_per_output_megapixel if engine_id is not None else 0.0

    return price


def lanes(plan: SweepPlan, cells: int) -> Callable[[Cell], tuple[str, int]]:
    """An engine axis's lanes: each cell runs in its engine's lane, as many at once as that engine takes of
    ``cells`` (``concurrency_for``): the local engine's cells one at a time, beside (not in front of) the lanczos
    and fal cells. The estimate times a sweep the same way (``core.usecases.estimate``)."""
    def lane_of(cell: Cell) -> tuple[str, int]:
        name = parse_spec(str(plan.engine_of(cell)))[0]
        return name, concurrency_for(name, cells)
    return lane_of


def engines_used(plan: SweepPlan, engine: str) -> tuple[str, ...]:
    """The engine ids a plan's cells run on: those of its engine axis, else ``engine``."""
    return tuple(dict.fromkeys(parse_spec(spec)[0] for spec in plan.engines)) or (engine,)
