"""Sweep tab handlers: the public ``sweep`` API, retry, cancel, re-open, and what the tab shows of a sweep."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import gradio as gr
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from components import store
from components.session import Session
from components.upscale import _prepare
from core import config, schema, sweep_run
from core.axes import AXES, parse_axis
from core.engines import make_engine
from core.errors import InputError, StudioError
from core.runs import Run
from core.sweep import CellKey, Preflight, SweepPlan, plan_grid

NONE = ""  # the Y axis dropdown's "none": also what an API caller sends for one axis
PARAMETERS = tuple(f.name for f in schema.PARAMETER_FIELDS)


@dataclass
class SweepView:
    """What the Sweep tab shows; kept in a gr.State so the public API returns only the CSV and the sheet."""

    plan: SweepPlan | None = None
    runs: dict[CellKey, Run] = field(default_factory=dict)
    engine: str = "local"
    input_path: str | None = None
    sheet: str | None = None
    csv: str | None = None
    message: str = ""


def y_axis_of(name: str | None) -> str | None:
    return None if name in (None, "", NONE) else name


def build(form: dict[str, Any], owner: str, load: bool = True) -> tuple[SweepPlan, str | None]:
    """The grid plan and its input file from the form; ``load`` reads the image (a run) or not (pre-flight)."""
    raw = {name: form.get(name) for name in PARAMETERS}
    prompts = (raw["prompt"] or "", raw["negative_prompt"] or "")
    x_axis, y_axis = form.get("x_axis") or "", y_axis_of(form.get("y_axis"))
    xs = parse_axis(x_axis, form.get("x_values") or "", *prompts)
    ys = parse_axis(y_axis, form.get("y_values") or "", *prompts) if y_axis else None
    tokens = xs if x_axis == "image" else ys if y_axis == "image" else None
    found = sweep_run.resolve_images(tokens, owner, fetch=load) if tokens else None
    image_path = None
    if tokens is None and load:
        engine = form.get("engine") or "local"
        raw, image_path = _prepare({**raw, "image_url": form.get("image_url")}, form.get("image"), engine)
    return plan_grid(raw, x_axis, xs, y_axis, ys, found), image_path


def progress(view: SweepView) -> str:
    """One line: how many cells are done, failed, running, waiting."""
    if view.plan is None:
        return view.message
    counts: dict[str, int] = {}
    for cell in view.plan.cells:
        status = view.runs[cell.key].status if cell.key in view.runs else "queued"
        counts[status] = counts.get(status, 0) + 1
    parts = ", ".join(f"{count} {status}" for status, count in counts.items())
    return f"**Sweep `{view.plan.id}`** · {view.plan.size} cells: {parts}" + (f" · {view.message}" if view.message
                                                                          else "")


async def _live(view: SweepView, start: Callable[[sweep_run.OnUpdate], Awaitable[Any]]) -> AsyncIterator[SweepView]:
    """Run ``start(on_update)`` and yield a fresh view (a new object: gr.State notices) whenever a cell changes."""
    changed = asyncio.Event()
    task = asyncio.ensure_future(start(lambda cell, run, update: changed.set()))
    try:
        shown = None
        while True:
            waiter = asyncio.ensure_future(changed.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            changed.clear()
            statuses = tuple((key, run.status) for key, run in list(view.runs.items()))
            if statuses != shown or task.done():
                shown = statuses
                yield replace(view, runs=dict(view.runs))
            if task.done():
                break
            await asyncio.sleep(0.2)  # fold bursts of updates into one render
        task.result()
    finally:
        if not task.done():  # cancelled (Cancel all): the cells are cancelled at their engine and recorded
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _finish(view: SweepView) -> tuple[str, str, SweepView]:
    assert view.plan is not None
    sheet, csv = await asyncio.to_thread(sweep_run.sheet_and_csv, view.plan, view.runs, view.input_path)
    return csv, sheet, replace(view, runs=dict(view.runs), sheet=sheet, csv=csv, message="done.")


async def sweep(image: str | None, image_url: str = "", prompt: str = schema.FIELD_BY_NAME["prompt"].default,
                upscale_factor: float = 2.0, negative_prompt: str = schema.FIELD_BY_NAME["negative_prompt"].default,
                creativity: float = 0.35, resemblance: float = 0.6, guidance_scale: float = 4.0,
                num_inference_steps: int = 18, seed: float | None = None, enable_safety_checker: bool = True,
                engine: str = "local", x_axis: str = "creativity", x_values: str = "", y_axis: str = "",
                y_values: str = "", session: Session | None = None,
                ) -> AsyncIterator[tuple[str | None, str | None, SweepView]]:
    """Run a grid of upscales over one or two axes (A1111 X/Y syntax) and return its CSV and contact sheet.

    ``y_axis`` empty means one axis. Every cell is saved in the history with the same sweep id.
    """
    session = session or Session()
    form = dict(locals())
    try:
        if engine not in ("fal", "local"):
            raise InputError(f"Engine must be 'fal' or 'local', not {engine!r}.", "engine")
        plan, image_path = build(form, session.owner)
        cost = sweep_run.preflight(plan, image_path)
        if cost and cost.oversized:
            oversized = cost.oversized
            raise InputError(f"The output of cell {plan.cell(oversized[0]).label!r} is larger than the limit; "
                             "lower the upscale factor.", "upscale_factor")
        runner = make_engine(engine, session.fal_key(), session.local_model or None)
    except StudioError as exc:
        raise gr.Error(str(exc)) from None
    view = SweepView(plan, {}, engine, image_path, message="running…")
    yield None, None, view
    options = {"webhook_url": session.webhook_url} if engine == "fal" and session.webhook_url else {}

    def start(on_update: sweep_run.OnUpdate) -> Awaitable[Any]:
        return sweep_run.run_plan(plan, runner, owner=session.owner, save=store.save, image_path=image_path,
                                  on_update=on_update, runs=view.runs, **options)

    async for shown in _live(view, start):
        yield None, None, shown
    yield await _finish(view)


async def retry(view: SweepView, session: Session) -> AsyncIterator[tuple[str | None, str | None, SweepView]]:
    """Re-run the failed cells of the shown sweep on its engine (new runs, same sweep id and labels)."""
    if view.plan is None or not sweep_run.retryable(view.plan, view.runs):
        raise gr.Error("There is no failed cell to retry.")
    try:
        runner = make_engine(view.engine, session.fal_key(), session.local_model or None)
    except StudioError as exc:
        raise gr.Error(str(exc)) from None
    plan, view = view.plan, replace(view, runs=dict(view.runs), message="retrying the failed cells…")

    def start(on_update: sweep_run.OnUpdate) -> Awaitable[Any]:
        return sweep_run.retry_failed(plan, view.runs, runner, owner=session.owner, save=store.save,
                                      image_path=view.input_path, on_update=on_update)

    async for shown in _live(view, start):
        yield None, None, shown
    yield await _finish(view)


def cancel_note(view: SweepView) -> str:
    return progress(replace(view, message="cancelling: finished cells are kept…"))


async def after_cancel(view: SweepView, session: Session) -> tuple[str | None, str | None, SweepView]:
    """Once every cell has settled, the sweep as the history has it (finished cells kept, the rest cancelled)."""
    if view.plan is None:
        return None, None, view
    deadline = time.monotonic() + 15
    while True:
        plan, runs = sweep_run.reopen(view.plan.id, session.owner or None, store.store())
        settled = len(runs) >= view.plan.size and all(run.final for run in runs.values())
        if settled or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    return await _finish(SweepView(plan, runs, view.engine, view.input_path, message="cancelled."))


def sweep_choices(session: Session) -> Any:
    """Past sweeps of this visitor, newest first, for the re-open dropdown."""
    choices = [(f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(s.created_at))} · {s.total} runs · "
                f"{s.completed} done · {s.failed} failed/cancelled · {s.sweep_id}", s.sweep_id)
               for s in store.store().sweeps(session.owner or None)]
    return gr.update(choices=choices)


async def open_sweep(sweep_id: str | None, session: Session) -> tuple[str | None, str | None, SweepView]:
    """Load a past sweep from the history: its grid, a fresh sheet and CSV, its metrics."""
    if not sweep_id:
        raise gr.Error("Choose a past sweep first.")
    try:
        plan, runs = sweep_run.reopen(sweep_id, session.owner or None, store.store())
    except StudioError as exc:
        raise gr.Error(str(exc)) from None
    first = next(iter(runs.values()), None)
    single_input = first.input_path if first and "image" not in (plan.x_axis, plan.y_axis) else None
    return await _finish(SweepView(plan, runs, first.engine if first else "local", single_input))


def preview_values(axis: str, text: str, prompt: str, negative_prompt: str) -> str:
    """The values an axis text gives, as you type, or the error naming the bad token."""
    if y_axis_of(axis) is None or not (text or "").strip():
        return ""
    try:
        values = parse_axis(axis, text, prompt or "", negative_prompt or "")
    except InputError as exc:
        return f"⚠️ {exc}"
    from core.axes import format_value

    shown = ", ".join(format_value(axis, value, 24) for value in values[:12])
    return f"✓ {len(values)} value{'s' * (len(values) != 1)}: {shown}{' …' if len(values) > 12 else ''}"


def axis_changed(axis: str) -> Any:
    """The values box's placeholder and help follow the chosen axis."""
    spec = AXES.get(y_axis_of(axis) or "")
    if spec is None:
        return gr.update(placeholder="", info="No Y axis: a single row.", interactive=False)
    return gr.update(placeholder=f"e.g. {spec.example}", info=spec.help, interactive=True)


def estimate(form: dict[str, Any], owner: str) -> tuple[SweepPlan, Preflight | None]:
    """The plan and what it costs (None when an input size is unknown), without loading or fetching images."""
    plan, _ = build(form, owner, load=False)
    loaded = form.get("loaded")
    rate = sweep_run.RATES["fal" if form.get("engine") == "fal" else (form.get("model") or "fast")]
    options = {"seconds_per_cell": rate[0], "seconds_per_megapixel": rate[1],
               "concurrency": sweep_run.concurrency_for(form.get("engine") or "local")}
    return plan, sweep_run.preflight(plan, loaded.path if loaded else None, **options)


def _thumbnail(view: SweepView, run: Run, size: int = 384) -> str:
    folder = sweep_run.sweep_dir(view.plan.id if view.plan else "none") / "thumbs"
    folder.mkdir(exist_ok=True)
    path = folder / f"{run.id}.png"
    if not path.exists():  # outputs can be tens of megapixels: the live grid shows small copies
        with Image.open(run.output_path) as image:
            image.thumbnail((size, size), Image.Resampling.LANCZOS)
            image.save(path, format="PNG")
    return str(path)


def _status_tile(status: str, size: int = 256) -> str:
    folder = config.data_dir() / "sweeps" / "tiles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{status}.png"
    if not path.exists():
        tile = Image.new("RGB", (size, size), (200, 200, 200))
        ImageDraw.Draw(tile).text((size / 2, size / 2), status, fill=(30, 30, 30), anchor="mm",
                                  font=ImageFont.load_default(size=size // 10))
        tile.save(path, format="PNG")
    return str(path)


def render_grid(view: SweepView) -> tuple[str, Any, Any]:
    """The progress line, the labelled grid (a picture or a status tile per cell) and the status table."""
    if view.plan is None:
        return view.message, gr.skip(), gr.skip()
    items, rows = [], []
    for cell in view.plan.cells:
        run = view.runs.get(cell.key)
        if run is not None and run.status == "completed" and run.output_path:
            items.append((_thumbnail(view, run), cell.label))
        else:
            items.append((_status_tile(run.status if run else "queued"),
                          f"{cell.label} — {sweep_run.status_text(run)}"))
        rows.append({"cell": cell.label, "status": run.status if run else "queued",
                     "seed": run.seed if run else None,
                     "seconds": round(run.run_seconds, 1) if run and run.run_seconds is not None else None,
                     "request_id": run.request_id if run else None, "error": run.error if run else None})
    return progress(view), gr.Gallery(value=items, columns=min(view.plan.columns, 6)), pd.DataFrame(rows)


def _reference(view: SweepView) -> str | None:
    """The input the crop coordinates refer to: the sweep's input, or the first cell's (an image axis)."""
    if view.plan is None:
        return None
    return view.input_path or next((path for cell in view.plan.cells if (path := sweep_run.cell_input(
        cell, view.runs.get(cell.key), None))), None)


def render_results(view: SweepView) -> list[Any]:
    """Once a sweep ends: the sheet download, the crop input and its sliders, the difference choices, metrics."""
    if view.plan is None or not view.csv:
        return [gr.skip()] * 7
    reference = _reference(view)
    width, height = Image.open(reference).size if reference else (1024, 1024)
    done = [cell.label for cell in view.plan.cells
            if cell.key in view.runs and view.runs[cell.key].status == "completed"]
    frame = pd.read_csv(view.csv)
    columns = [c for c in ("label", "x_value", "y_value", "status", "psnr", "ssim", "sharpness") if c in frame]
    return [view.sheet, reference, gr.update(maximum=width, value=width // 2),
            gr.update(maximum=height, value=height // 2), gr.update(choices=done, value=done[0] if done else None),
            gr.update(choices=["input", *done], value="input"), frame[columns]]


def crops(view: SweepView, x: float, y: float, size: float) -> list[tuple[str, str]]:
    """The chosen region of every finished cell at 1:1 output pixels, labelled."""
    reference = _reference(view)
    if view.plan is None or reference is None:
        return []
    with Image.open(reference) as image:
        reference_size = image.size
    return sweep_run.detail_crops(view.plan, view.runs, (x, y), size, reference_size, view.input_path)


def difference(view: SweepView, label: str | None, against: str | None) -> str | None:
    """The heat map of a cell against the input or another cell."""
    if view.plan is None or not label:
        return None
    try:
        return sweep_run.difference(view.plan, view.runs, label, against or "input", view.input_path)
    except StudioError as exc:
        gr.Warning(str(exc))
        return None
