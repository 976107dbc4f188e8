"""What the Sweep tab shows: the pre-flight line, the live grid, detail crops, difference maps and metrics."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from components.common.files import servable, served
from components.common.refusal import refused
from components.common.session import Session
from components.common.text import toast
from components.sweep.sweep_actions import SweepView, progress, y_axis_of
from core import config
from core.csv_export import ENCODING
from core.engines import ENGINES, describe, keyless_engine, parse_spec
from core.errors import InputError, StudioError
from core.runs.runs import Run
from core.sweep import batch, sweep_run
from core.sweep.axes import AXES, ENGINE, IMAGE, format_value, is_kind, parse_axis, side_of
from core.sweep.crops import cell_input, detail_crops, heat_map
from core.sweep.ignored import axis_fields
from core.sweep.plan import Cell, SweepPlan


def preview_values(axis: str, text: str, prompt: str, negative_prompt: str) -> str:
    """The values an axis text gives, as you type, or the error naming the bad token."""
    if y_axis_of(axis) is None or not (text or "").strip():
        return ""
    try:
        values = parse_axis(axis, text, prompt or "", negative_prompt or "")
    except InputError as exc:
        return f"⚠️ {exc}"
    shown = ", ".join(format_value(axis, value, 24) for value in values[:12])
    return f"✓ {len(values)} value{'s' * (len(values) != 1)}: {shown}{' …' if len(values) > 12 else ''}"


def default_axis(engine_id: str) -> str:
    """The X axis a sweep starts on: creativity where the engine uses it, else the upscale factor."""
    info = describe(engine_id if engine_id in ENGINES else keyless_engine())
    return next(name for name in ("creativity", "upscale_factor") if not info.ignores(name))


def follow_engine(engine_id: str, x_axis: str, x_values: str) -> Any:
    """While no X values are typed, the X axis follows the engine: to its default when the axis was a default
    or is one the new engine ignores. Typed values are the user's: then the pre-flight line names the problem."""
    if engine_id not in ENGINES or (x_values or "").strip():
        return gr.skip()
    defaults = {default_axis(other) for other in ENGINES}
    if x_axis in defaults or describe(engine_id).ignores(x_axis):
        return default_axis(engine_id) if default_axis(engine_id) != x_axis else gr.skip()
    return gr.skip()


def axis_changed(axis: str) -> Any:
    """The values box's placeholder and help follow the chosen axis."""
    spec = AXES.get(y_axis_of(axis) or "")
    if spec is None:
        return gr.update(placeholder="", info="No Y axis: a single row.", interactive=False)
    return gr.update(placeholder=f"e.g. {spec.example}", info=spec.help, interactive=True)


def batch_visible(x_axis: str, y_axis: str) -> Any:
    return gr.update(visible=side_of(IMAGE, x_axis, y_axis) is not None)


def upload_batch(files: list[str] | None, x_axis: str, session: Session) -> tuple[Any, Any]:
    """Keep the uploaded images for the image axis and list their labels as its values."""
    if not session.known:  # shared mode, before the page identified the visitor: nowhere of theirs to keep them
        raise refused("The page is still loading; upload the images again in a moment.")
    try:
        labels = ", ".join(batch.save_batch(session.files_owner(), files or []))
    except StudioError as exc:
        raise refused(str(exc)) from None
    return (labels, gr.skip()) if is_kind(x_axis, IMAGE) else (gr.skip(), labels)


def pick_centre(event: gr.SelectData) -> tuple[int, int]:
    """A click on the input preview sets the crop centre (in input pixels)."""
    return int(event.index[0]), int(event.index[1])


def plot(view: SweepView, metric: str) -> Any:
    """The metric against the X value, one line per Y value."""
    if view.plan is None or not view.csv:
        return gr.skip()
    frame = pd.read_csv(view.csv, encoding=ENCODING)
    series = frame["y_value"].astype(str) if view.plan.y_axis else "all"
    data = pd.DataFrame({"x": frame["x_value"], "value": frame.get(metric), "series": series}).dropna()
    return gr.LinePlot(value=data, x_title=view.plan.x_axis, y_title=metric)


def _finished_output(run: Run | None) -> str | None:
    """The output file of a finished cell's run (None while it has none)."""
    return run.output_path if run is not None and sweep_run.done(run) else None


def _thumbnail(view: SweepView, run: Run, output_path: str, size: int = 384) -> str:
    folder = sweep_run.sweep_dir(view.plan.id if view.plan else "none") / "thumbs"
    folder.mkdir(exist_ok=True)
    path = folder / f"{run.id}.png"
    if not path.exists():  # outputs can be tens of megapixels: the live grid shows small copies
        with Image.open(output_path) as image:
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


def ignored_note(plan: SweepPlan, cell: Cell) -> str:
    """On an engine axis, a cell whose engine ignores the other axis says so: its pictures cannot differ."""
    spec = plan.engine_of(cell)
    other = plan.y_axis if is_kind(plan.x_axis, ENGINE) else plan.x_axis
    if spec is None or not other:
        return ""
    info = describe(parse_spec(spec)[0])
    fields = axis_fields(other)
    return f" · ⊘ {info.id} ignores {other}" if fields and all(info.ignores(name) for name in fields) else ""


def render_grid(view: SweepView) -> tuple[str, Any, Any]:
    """The progress line, the labelled grid (a picture or a status tile per cell) and the status table."""
    if view.plan is None:
        return view.message, gr.skip(), gr.skip()
    items, rows = [], []
    for cell in view.plan.cells:
        run = view.runs.get(cell.key)
        label = cell.label + ignored_note(view.plan, cell)
        if run is not None and run.status == "completed" and run.output_path:
            items.append((served(_thumbnail(view, run, run.output_path)), label))
        else:
            items.append((served(_status_tile(run.status if run else "queued")),
                          f"{label} — {sweep_run.status_text(run)}"))
        rows.append({"cell": cell.label, "status": run.status if run else "queued",
                     "seed": run.seed if run else None,
                     "seconds": round(run.run_seconds, 1) if run and run.run_seconds is not None else None,
                     "request_id": run.request_id if run else None, "error": run.error if run else None})
    return (progress(view), gr.Gallery(value=items, columns=min(view.plan.columns, 6)),
            gr.Dataframe(value=pd.DataFrame(rows), visible=True))


def _reference(view: SweepView) -> str | None:
    """The input the crop coordinates refer to: the sweep's input, or the first cell's (an image axis)."""
    if view.plan is None:
        return None
    return view.input_path or next((path for cell in view.plan.cells if (path := cell_input(
        cell, view.runs.get(cell.key), None))), None)


def render_results(view: SweepView) -> list[Any]:
    """Once a sweep ends: the sheet download, the crop input and its sliders, the difference choices, metrics."""
    if view.plan is None or not view.csv:
        return [gr.skip()] * 7
    reference = _reference(view)
    width, height = Image.open(reference).size if reference else (1024, 1024)
    done = [cell.label for cell in view.plan.cells
            if cell.key in view.runs and view.runs[cell.key].status == "completed"]
    frame = pd.read_csv(view.csv, encoding=ENCODING)
    columns = [c for c in ("label", "x_value", "y_value", "status", "psnr", "ssim", "sharpness") if c in frame]
    return [servable(view.sheet), servable(reference), gr.update(maximum=width, value=width // 2),
            gr.update(maximum=height, value=height // 2), gr.update(choices=done, value=done[0] if done else None),
            gr.update(choices=["input", *done], value="input"), frame[columns]]


def crops(view: SweepView, x: float, y: float, size: float) -> Any:
    """The chosen region of every finished cell at 1:1 output pixels, labelled, laid out like the grid."""
    reference = _reference(view)
    if view.plan is None or reference is None:
        return []
    with Image.open(reference) as image:
        reference_size = image.size
    found = detail_crops(view.plan, view.runs, (x, y), size, reference_size, view.input_path)
    return gr.Gallery(value=[(servable(path), label) for path, label in found], columns=min(view.plan.columns, 6))


def difference(view: SweepView, label: str | None, against: str | None) -> str | None:
    """The heat map of a cell against the input or another cell."""
    if view.plan is None or not label:
        return None
    try:
        return servable(heat_map(view.plan, view.runs, label, against or "input", view.input_path))
    except StudioError as exc:
        gr.Warning(toast(exc))
        return None
