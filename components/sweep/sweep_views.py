"""What the Sweep tab shows: the pre-flight line, the live grid, detail crops, difference maps and metrics."""

from __future__ import annotations

import contextlib
import math
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from components.common.files import servable, served
from components.common.refusal import refused
from components.common.text import plain, toast
from components.sweep import sweep_layout
from components.sweep.sweep_actions import GONE, IN_BIN, SweepView, progress, y_axis_of
from components.sweep.sweep_layout import Layout
from components.sweep.sweep_status import AT_FAL, HERE, cell_status, waiting
from components.upscale.region_panel import drawn, region_of
from core import config
from core.csv_export import ENCODING
from core.engines import ENGINES, describe, keyless_engine, parse_spec
from core.errors import InputError, StudioError
from core.inputs.images import InputImage
from core.inputs.region import Region
from core.runs import names
from core.runs.runs import Run
from core.sweep import batch, sweep_run, web_page
from core.sweep.axes import AXES, ENGINE, IMAGE, format_value, is_kind, parse_axis
from core.sweep.crops import cell_input, detail_crops, heat_map, marked_input
from core.sweep.ignored import axis_fields
from core.sweep.plan import Cell, SweepPlan
from core.sweep.sweep_run import Phase
from core.usecases.sweep import paying_engine


def preview_values(axis: str, text: str, prompt: str, negative_prompt: str) -> str:
    """The values an axis text gives, as you type, or the error naming the bad token."""
    if y_axis_of(axis) is None or not (text or "").strip():
        return ""
    try:
        values = parse_axis(axis, text, prompt or "", negative_prompt or "")
    except InputError as exc:
        return f"Warning: {exc}"
    shown = ", ".join(format_value(axis, value, 24) for value in values[:12])
    return f"{len(values)} value{'s' * (len(values) != 1)}: {shown}{' …' if len(values) > 12 else ''}"


def input_line(loaded: InputImage | None, file: str | None, url: str | None, region: Region | None = None) -> str:
    """Which picture a sweep run now would sweep: the Upscale tab's, by name and size, and its region when the
    region switch is on."""
    if loaded is None:
        return "No picture yet: give one on the Upscale tab."
    name = names.input_name(file, url) or "the pasted image"
    part = f"the **{region.label}** of " if region else ""
    return f"Sweeps {part}**{plain(name, 60)}** ({loaded.width}×{loaded.height}), the Upscale tab's picture."


def _grid_of_another(view: SweepView | None, file: str | None, url: str | None) -> str:
    """A sentence saying the grid on show is of another picture (by name) than the one a run now would sweep, else
    "" (no grid on show, or the same picture)."""
    sweeps = names.input_name(file, url)
    if view is None or view.plan is None or not view.runs or not sweeps:
        return ""
    pictures = sorted({run.input_name for run in view.runs.values() if run.input_name})
    if view.plan.axis_of(IMAGE) and len(pictures) > 1:  # an image axis's grid: of its pictures, by count
        return (f" The grid below is sweep {view.plan.id} of its {len(pictures)} pictures: *Run sweep* makes "
                f"**{plain(sweeps, 60)}**'s cells.")
    first = min(view.runs.values(), key=lambda run: run.created_at)
    if not first.input_name or first.input_name == sweeps:
        return ""
    return (f" The grid below is sweep {view.plan.id} of **{plain(first.input_name, 60)}**: *Run sweep* makes "
            f"**{plain(sweeps, 60)}**'s cells.")


def input_shown(loaded: InputImage | None, file: str | None, url: str | None, on: bool | None = False,
                x: Any = None, y: Any = None, width: Any = None, height: Any = None,
                view: SweepView | None = None, *axes: str | None) -> tuple[Any, str]:
    """The Sweep tab's thumbnail and line for the picture it will sweep (a new one on the Upscale tab shows here):
    with the region switch on, the region drawn on it and named (boxes the rule refuses: the pre-flight says why,
    and the whole picture is shown); when the grid on show (``view``) is of another picture, the line says so.
    When one of the sweep's ``axes`` (X, Y, Z, W) is an image axis, its pictures are swept, not this one: no
    thumbnail (its box hidden), and the line says so."""
    if any(is_kind(axis, IMAGE) for axis in axes):
        unused = names.input_name(file, url) if loaded is not None else None
        return gr.update(value=None, visible=False), ("Sweeps the pictures of its **Input image** axis (the batch "
                                                      "below the axes)" + (
            f"; the Upscale tab's **{plain(unused, 60)}** is not used." if unused else "."))
    try:
        region = region_of(on, x, y, width, height)
        if region is not None and loaded is not None:
            region.inside(loaded.width, loaded.height)
    except InputError:
        region = None
    if loaded is None:
        return gr.update(value=None, visible=True), input_line(None, file, url)
    return (gr.update(value=drawn(loaded, region) if region else servable(loaded.path), visible=True),
            input_line(loaded, file, url, region) + _grid_of_another(view, file, url))


def input_named(loaded: InputImage | None, file: str | None, url: str | None, on: bool | None = False,
                x: Any = None, y: Any = None, width: Any = None, height: Any = None,
                view: SweepView | None = None, *axes: str | None) -> str:
    """``input_shown``'s line alone, for a new grid on show (the picture, unchanged, is not sent again)."""
    return input_shown(loaded, file, url, on, x, y, width, height, view, *axes)[1]


def shown_cells(view: SweepView, layout: Layout | None) -> list[Cell]:
    """The cells on show in the layout, in the grid's order (page by page, row by row)."""
    return [cell for _, page in sweep_layout.pages(view, layout) for cell in page.cells]


def pick_cell(view: SweepView, layout: Layout | None, event: gr.SelectData) -> tuple[str | None, Any]:
    """A cell chosen in the grid (as laid out): its run id, and *Run the whole picture* offered when it is a
    finished region run."""
    index = event.index if isinstance(event.index, int) else -1
    cells = shown_cells(view, layout)
    run = view.runs.get(cells[index].key) if 0 <= index < len(cells) else None
    offered = run is not None and run.region is not None and run.status == "completed"
    return (run.id if run else None), gr.update(visible=offered)


def no_cell() -> tuple[None, Any]:
    """A new sweep: no cell chosen, so no *Run the whole picture* for one."""
    return None, gr.update(visible=False)


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


NO_AXIS = {"y": "No Y axis: a single row.", "z": "No Z axis: one grid.", "w": "No W axis."}


def axis_changed(axis: str, letter: str = "y") -> Any:
    """The values box's placeholder and help follow the chosen axis (``letter``'s box: "x", "y", "z", "w")."""
    spec = AXES.get(y_axis_of(axis) or "")
    if spec is None:  # its values go with it: left in a locked box they made every run refused, with no way out
        return gr.update(value="", placeholder="", info=NO_AXIS.get(letter, ""), interactive=False)
    return gr.update(placeholder=f"e.g. {spec.example}", info=spec.help, interactive=True)


def batch_visible(*axes: str) -> Any:
    """The batch upload shows while an axis is the image axis."""
    return gr.update(visible=any(is_kind(axis, IMAGE) for axis in axes))


def upload_batch(files: list[str] | None, *axes_and_session: Any) -> tuple[Any, ...]:
    """Keep the uploaded images for the image axis and list their labels as its values (in the values box of
    whichever of the X, Y, Z and W axes is the image axis)."""
    *axes, session = axes_and_session
    if not session.known:  # shared mode, before the page identified the visitor: nowhere of theirs to keep them
        raise refused("The page is still loading; upload the images again in a moment.")
    try:
        labels = ", ".join(batch.save_batch(session.files_owner(), files or []))
    except StudioError as exc:
        raise refused(str(exc)) from None
    image_axis = next((number for number, axis in enumerate(axes) if is_kind(axis, IMAGE)), 0)
    return tuple(labels if number == image_axis else gr.skip() for number in range(len(axes)))


def pick_centre(event: gr.SelectData) -> tuple[int, int]:
    """A click on the input preview sets the crop centre (in input pixels)."""
    return int(event.index[0]), int(event.index[1])


CROP_SIZES = (8, 512)  # the detail crop's Size slider: input pixels, smallest and largest (and the input's side)
CROP_SIZE = 64  # its first value
METRIC_NOTES = {
    "psnr": "**PSNR** (dB) compares each output, downscaled to the input's size, with the input over its RGB "
            "channels (a colour shift counts): higher means closer "
            "to the input, not better (new detail lowers it), and 100 means identical. The axis starts at 0 dB: "
            "differences under about 0.5 dB do not show in a picture.",
    "ssim": "**SSIM** (0–1) compares the structure of each output, downscaled to the input's size, with the input's, "
            "in luma (brightness), as super-resolution results are reported: 1 means the same structure. The axis "
            "spans all of 0–1.",
    "sharpness": "**Sharpness** is each output's own mean squared luma gradient, at its own size: it compares no "
                 "two pictures, and it falls as the output grows (the same edges spread over more pixels), so "
                 "compare it only between cells of one upscale factor. The axis starts at 0.",
}
METRIC_UNITS = {"psnr": " dB"}
METRIC_TITLES = {"psnr": "PSNR against the input (dB)", "ssim": "SSIM against the input (0–1)",
                 "sharpness": "sharpness (mean squared gradient, per output pixel)"}


def y_range(metric: str, values: pd.Series) -> tuple[float, float]:
    """An honest y axis for a metric: from 0, to SSIM's 1 or a round number above the largest value (an auto
    scale drew a 0.1 dB spread as a dramatic curve)."""
    if metric == "ssim":
        return 0.0, 1.0
    top = float(values.max()) if len(values) else 1.0
    step = 10.0 if metric == "psnr" else 10 ** max(0, len(str(int(top))) - 1)
    return 0.0, max(step, -(-top * 1.05 // step) * step)


def _plotted(value: Any) -> Any:
    """An across value as the plot's x: a number stays one (an even scale), anything else is its text."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def plot(view: SweepView, layout: Layout | None, metric: str) -> Any:
    """The metric against the axis across (in the grid's order), one line per value of the axis down and of each
    "all" axis (named by those values alone, so the legend stays short), on an honest y axis, and what the metric
    compares."""
    note = METRIC_NOTES.get(metric, "")
    shown = sweep_layout.current(view, layout)
    if view.plan is None or shown is None:
        return gr.skip(), note
    if not view.csv or not Path(view.csv).is_file():  # a sweep still running: no metrics yet, and the last
        # sweep's are not its own; or deleted for good (the bin emptied). An empty frame, never None: a plot
        # emptied to None kept watching its removed chart and threw in the page when its tab was hidden.
        return gr.LinePlot(value=pd.DataFrame(columns=["x", "value", "series"])), f"{_no_cells(view)} {note}"
    frame = pd.read_csv(view.csv, encoding=ENCODING).set_index("label")
    varying = [name for name in (shown.down, *(n for n, index in shown.at.items() if index is None)) if name]
    points = []
    for _, page in sweep_layout.pages(view, layout):
        for cell in page.cells:
            line = " · ".join(f"{name}={format_value(name, cell.values[name], 24)}" for name in varying)
            value = frame[metric].get(cell.label) if metric in frame and cell.label in frame.index else None
            points.append({"x": _plotted(cell.x_value), "value": value, "series": line or "all"})
    data = pd.DataFrame(points, columns=["x", "value", "series"]).dropna()
    if len(data):  # the spread in numbers: on an honest axis a small one is a flat line, and it is said here
        low, high = float(data["value"].min()), float(data["value"].max())
        unit = METRIC_UNITS.get(metric, "")
        note += f" These cells span {low:.4g}–{high:.4g}{unit} (a spread of {high - low:.2g}{unit})."
    if metric == "sharpness" and "upscale_factor" in dict(view.plan.axes):
        note += " **This sweep varies the upscale factor: its sharpness values are not comparable across factors.**"
    across = dict(view.plan.axes)[shown.across]
    texts = [value for value in (_plotted(value) for value in across) if isinstance(value, str)]
    order: dict[str, Any] = {"sort": texts} if texts else {}  # words stay in the grid's order, not the alphabet's
    label = AXES[shown.across].label if shown.across in AXES else shown.across
    return (gr.LinePlot(value=data, x_title=shown.across, y_title=METRIC_TITLES.get(metric, metric),
                        y_lim=list(y_range(metric, data["value"])), label=f"Metric against {label}", **order), note)


def _no_cells(view: SweepView) -> str:
    """Why the sweep on show has nothing to measure or compare (its views are empty), in one sentence."""
    if view.plan is not None and view.deleted:
        return (f"**Nothing to show: sweep {view.plan.id} was deleted in History ({view.deleted}).**" +
                (" Put its runs back to see them." if view.deleted == IN_BIN else ""))
    return "**Measured when the sweep ends.**"


METRIC_COLUMNS = ["label", "status", "psnr", "ssim", "sharpness"]  # an empty table's headers (not Gradio's 1 2 3)


def _finished_output(run: Run | None) -> str | None:
    """The output file of a finished cell's run (None while it has none)."""
    return run.output_path if run is not None and sweep_run.done(run) else None


TILE_WORDS = {AT_FAL: "in fal's queue", HERE: "waiting"}  # what fits on a tile; its caption says the rest


def _status_tile(status: str, size: int = 256) -> str:
    folder = config.data_dir() / "sweeps" / "tiles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^a-z]+', '-', status.lower())}.png"  # "in fal's queue" → in-fal-s-queue.png
    if not path.exists():
        tile = Image.new("RGB", (size, size), (200, 200, 200))
        ImageDraw.Draw(tile).text((size / 2, size / 2), status, fill=(30, 30, 30), anchor="mm",
                                  font=ImageFont.load_default(size=size // 10))
        tile.save(path, format="PNG")
    return str(path)


def ignored_note(plan: SweepPlan, cell: Cell) -> str:
    """On an engine axis, a cell whose engine ignores another axis says so: its pictures cannot differ."""
    spec = plan.engine_of(cell)
    if spec is None:
        return ""
    info = describe(parse_spec(spec)[0])
    ignored = [name for name, _ in plan.axes if not is_kind(name, ENGINE) and (fields := axis_fields(name))
               and all(info.ignores(field) for field in fields)]
    return f" · {info.id} ignores {' and '.join(ignored)}" if ignored else ""


def state_html(view: SweepView) -> str:
    """What the page's keys read (components/common/shortcuts.html): whether a sweep runs, on a priced engine."""
    running = view.in_flight
    paid = running and view.plan is not None and describe(paying_engine(view.plan, view.engine)).priced
    return (f'<div class="sweep-state" data-running="{str(running).lower()}" data-paid="{str(paid).lower()}">'
            "</div>")


def sweep_buttons(view: SweepView) -> tuple[Any, Any, Any]:
    """Run sweep, Cancel all and Retry unfinished as the sweep has them: while cells run, Run sweep and Retry wait
    (Ctrl+Enter cannot start a second sweep over the first) and Cancel all is live only then; Retry is live only
    when a cell of the sweep on show did not finish (failed, cancelled, interrupted)."""
    running = view.in_flight
    unfinished = view.plan is not None and bool(sweep_run.retryable(view.plan, view.runs, include_cancelled=True))
    return (gr.update(value="Sweeping…" if running else "Run sweep", interactive=not running),
            gr.update(interactive=running), gr.update(interactive=not running and unfinished))


def settled(view: SweepView) -> Any:
    """After a sweep or retry event failed: a view still marked in flight is marked settled, so Run sweep does not
    stay disabled."""
    return replace(view, phase=Phase.IDLE) if view.in_flight else gr.skip()


def grid_label(view: SweepView) -> str:
    """What the grid belongs to, said on it: once another picture is in the form (or another sweep is re-opened)
    the cells are still this sweep's ("Cells of sweep 09a1… · coffee.jpg · 14:02")."""
    runs = [run for run in view.runs.values() if run is not None]
    if view.plan is None or not runs:
        return "Cells"
    first = min(runs, key=lambda run: run.created_at)
    when = time.strftime("%H:%M", time.localtime(first.created_at))
    image_axis = view.plan.axis_of(IMAGE)  # a batch: its pictures, not the first one's name
    pictures = f"{len(dict(view.plan.axes)[image_axis])} images" if image_axis else first.input_name or "image"
    return f"Cells of sweep {view.plan.id} · {pictures} · {when}"


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def layout_words(view: SweepView, layout: Layout | None) -> str:
    """The layout in words, for the grid's label: "creativity across · resemblance down · seed: all · 2 grids one
    after another, 3×2 each"."""
    shown = sweep_layout.current(view, layout)
    if view.plan is None or shown is None or len(view.plan.axes) < 2:
        return ""
    values = dict(view.plan.axes)
    parts = [f"{shown.across} across", f"{shown.down} down" if shown.down else "one row"]
    parts += [f"{name}: {'all' if index is None else format_value(name, values[name][index], 24)}"
              for name, index in shown.at.items()]
    grids = math.prod(len(values[name]) for name, index in shown.at.items() if index is None)
    if grids > 1:  # the gallery has no headings: say how its pictures fall into grids
        rows = len(values[shown.down]) if shown.down else 1
        parts.append(f"{grids} grids one after another, {len(values[shown.across])}×{rows} each")
    return " · ".join(parts)


def legend(view: SweepView, layout: Layout | None) -> str:
    """The grid's headers, which a gallery cannot draw: the axis across and its values left to right, the axis
    down and its values top to bottom, and each other axis's value (or every value, one grid after another):
    "**Columns** (creativity): 0.2 · 0.4 · 0.6 — **Rows** (resemblance): 0.3 · 0.6"; "" with no grid."""
    shown = sweep_layout.current(view, layout)
    if view.plan is None or shown is None:
        return ""
    values = dict(view.plan.axes)

    def listed(name: str) -> str:
        return " · ".join(plain(format_value(name, value, 24)) for value in values[name])  # a prompt's * or _

    parts = [f"**Columns** ({shown.across}, left to right): {listed(shown.across)}"]
    if shown.down:
        parts.append(f"**Rows** ({shown.down}, top to bottom): {listed(shown.down)}")
    for name, index in shown.at.items():
        parts.append(f"**{name}**: " + (f"all, one grid each: {listed(name)}" if index is None
                                        else plain(format_value(name, values[name][index], 24))))
    return " — ".join(parts)


def render_grid(view: SweepView, layout: Layout | None = None) -> tuple[Any, ...]:
    """The progress line, the labelled grid as laid out (a picture or a status tile per cell; with an "all" axis
    one grid per value, one after another), the status table of every cell (each cell's seconds waiting in the
    engine's queue and running apart: a cell that ran 8 s after 40 s in fal's queue says so), the sweep's state for
    the page's keys, its buttons, and its headers (``legend``)."""
    if view.plan is None:
        return view.message, gr.skip(), gr.skip(), state_html(view), *sweep_buttons(view), ""
    items, rows = [], []
    laid_out = sweep_layout.pages(view, layout)
    for _, page in laid_out:
        for cell in page.cells:
            run = view.runs.get(cell.key)
            label = cell.label + ignored_note(view.plan, cell)
            if sweep_run.done(run):
                assert run is not None
                # outputs can be tens of megapixels: the grid shows the thumbnail the exported page carries
                items.append((served(str(web_page.thumbnail(run))), label))
            elif (word := waiting(view, cell, run)) is not None:  # in the line's words
                items.append((served(_status_tile(TILE_WORDS.get(word, word))), f"{label} — {word}"))
            else:  # settled: failed, cancelled, its picture deleted for good, or a re-opened cell in History's bin
                status = cell_status(cell, run)
                items.append((served(_status_tile(status)), f"{label} — " + (
                    sweep_run.status_text(run) if run is not None and status == run.status else status)))
    for cell in view.plan.cells:
        run = view.runs.get(cell.key)
        rows.append({"cell": cell.label, "status": cell_status(cell, run),
                     "seed": run.seed_used if run else None,
                     "queued (s)": _rounded(run.queue_seconds if run else None),
                     "running (s)": _rounded(run.engine_seconds if run else None),
                     "request_id": run.request_id if run else None, "error": run.error if run else None})
    columns = laid_out[0][1].columns if laid_out else view.plan.columns
    words = layout_words(view, layout)
    return (progress(view), gr.Gallery(value=items, columns=min(columns, 6),
                                       label=grid_label(view) + (f" · {words}" if words else "")),
            gr.Dataframe(value=pd.DataFrame(rows), visible=True), state_html(view), *sweep_buttons(view),
            legend(view, layout))


def _reference(view: SweepView, layout: Layout | None = None) -> str | None:
    """The input the crop coordinates refer to: the sweep's input, or (an image axis) the first picture on show in
    the layout (it was always the sweep's first: with only coffee on show the crop was chosen on the cat, bounded
    by the cat's size)."""
    if view.plan is None:
        return None
    cells = shown_cells(view, layout) if view.plan.axis_of(IMAGE) else []
    found = next((path for cell in cells if (path := cell_input(cell, view.runs.get(cell.key), None))), None)
    found = found or view.input_path or next((path for cell in view.plan.cells if (path := cell_input(
        cell, view.runs.get(cell.key), None))), None)
    return found if found and Path(found).is_file() else None  # None too once deleted for good (the bin emptied)


def crop_picture(view: SweepView, layout: Layout | None, crop_size: float | None = None, x: float | None = None,
                 y: float | None = None) -> list[Any]:
    """The picture the crop is chosen on and its sliders (centre x, centre y, size, in its pixels) for the layout
    on show: the sliders bounded by that picture, the size kept no larger than its shorter side, the centre kept
    (``x``, ``y``: a pivot keeps the region one chose) while it lies in that picture, else its middle."""
    reference = _reference(view, layout)
    width, height = Image.open(reference).size if reference else (1024, 1024)
    low, high = CROP_SIZES  # a crop fits in the input: no larger than its shorter side
    largest = max(low, min(high, width, height))
    side = min(int(crop_size or CROP_SIZE), largest)
    centre_x = int(x) if x is not None and 0 <= x <= width else width // 2
    centre_y = int(y) if y is not None and 0 <= y <= height else height // 2
    shown = reference
    if reference and view.plan is not None:  # with the crops' square on it (sliders left as they were fire nothing)
        with contextlib.suppress(StudioError):
            shown = marked_input(view.plan, reference, (centre_x, centre_y), side)
    return [servable(shown) if shown else None, gr.update(maximum=width, value=centre_x),
            gr.update(maximum=height, value=centre_y), gr.update(maximum=largest, value=side)]


def render_results(view: SweepView, crop_size: float | None = None) -> list[Any]:
    """Once a sweep ends: the sheet download, the crop input and its sliders, the difference choices, metrics. While
    a new one runs they are cleared: the last sweep's views are not this one's. The crop's size (``crop_size``, input
    pixels) is kept, no larger than the input's shorter side. (The difference choices and the metrics table then
    follow the layout: ``laid_out_results``.)"""
    if view.plan is None:
        return [gr.skip()] * 8
    if not view.csv:
        return [None, None, gr.skip(), gr.skip(), gr.skip(), *_emptied(view)]
    sheet = view.sheet if view.sheet and Path(view.sheet).is_file() else None
    return [servable(sheet) if sheet else None, *crop_picture(view, None, crop_size), *laid_out_results(view, None)]


def files_kept(view: SweepView) -> tuple[Any, Any, str, Any, str]:
    """The contact sheet and CSV on show, and the line under them: taken away once the sweep was deleted for good
    in History (the bin emptied with them: its cells.csv was still offered for download); else left as they are,
    and the line emptied (it spoke of another sweep, or another layout's sheet). Then the dataset export's file and
    line, emptied: they spoke of the sweep as it was (a user trial saw "is in the bin" under "deleted for good")."""
    if view.plan is not None and view.deleted == GONE:
        return (None, None, f"Sweep {view.plan.id} was deleted for good in History: its contact sheet and CSV are "
                "gone.", None, "")
    return gr.skip(), gr.skip(), "", None, ""


def _emptied(view: SweepView) -> list[Any]:
    """The difference menus and metrics table with no cell to offer, the Cell menu saying why."""
    why = _no_cells(view).replace("**", "")  # an info line is plain text
    return [gr.update(choices=[], value=None, info=why), gr.update(choices=["input"], value="input"),
            pd.DataFrame(columns=METRIC_COLUMNS)]


def laid_out_results(view: SweepView, layout: Layout | None, cell: str | None = None,
                     against: str | None = None) -> list[Any]:
    """The difference choices (the finished cells on show; the cell and what it is compared against kept, ``cell``
    and ``against``, while they are on show: a pivot keeps what one chose) and the metrics table (a row per cell on
    show, in the grid's order); left alone while no sweep has finished."""
    if view.plan is None or not view.csv:
        return [gr.skip()] * 3
    if not Path(view.csv).is_file():  # deleted for good (the bin emptied): no cell left to compare or measure
        return _emptied(view)
    cells = shown_cells(view, layout)
    done = [cell.label for cell in cells if cell.key in view.runs and view.runs[cell.key].status == "completed"]
    frame = pd.read_csv(view.csv, encoding=ENCODING)
    order = {cell.label: number for number, cell in enumerate(cells)}
    frame = frame[frame["label"].isin(order)].sort_values("label", key=lambda labels: labels.map(order))
    # each axis's value column under the axis's name, across first, then down, then the others: after a pivot
    # the columns follow the layout, not the letters the sweep was run with (x_value, y_value…)
    shown = sweep_layout.current(view, layout)
    letters = dict(zip([name for name, _ in view.plan.axes], ("x_value", "y_value", "z_value", "w_value"),
                       strict=False))
    order_of_axes = [name for name in (shown.across, shown.down, *shown.at) if name] if shown else list(letters)
    named = {letters[name]: AXES[name].label if name in AXES else name for name in order_of_axes if name in letters}
    columns = ["label", *(c for c in named if c in frame), *(c for c in ("status", "psnr", "ssim", "sharpness")
                                                             if c in frame)]
    chosen = cell if cell in done else done[0] if done else None
    return [gr.update(choices=done, value=chosen, info="" if done else "No finished cell on show."),
            gr.update(choices=["input", *done], value=against if against in done else "input"),
            frame[columns].rename(columns=named)]


def crops(view: SweepView, layout: Layout | None, x: float, y: float, size: float) -> Any:
    """The chosen region of every finished cell on show at 1:1 output pixels, labelled, laid out like the grid."""
    reference = _reference(view, layout)
    if view.plan is None or reference is None:
        return []
    with Image.open(reference) as image:
        reference_size = image.size
    laid_out = sweep_layout.pages(view, layout)
    found = [crop for _, page in laid_out
             for crop in detail_crops(page, view.runs, (x, y), size, reference_size, view.input_path)]
    columns = laid_out[0][1].columns if laid_out else view.plan.columns
    return gr.Gallery(value=[(servable(path), label) for path, label in found], columns=min(columns, 6))


def crop_marked(view: SweepView, layout: Layout | None, x: Any, y: Any, size: Any) -> Any:
    """The crop's input (the layout's: ``_reference``) with the crops' square drawn on it, for the values as typed
    (as ``crops_as_typed`` reads them; nothing changes for an empty or partial box)."""
    reference = _reference(view, layout)
    try:
        centre_x, centre_y, side = (float(value) for value in (x, y, size))
    except (TypeError, ValueError):
        return gr.skip()
    if view.plan is None or reference is None or not view.csv or not all(
            math.isfinite(value) for value in (centre_x, centre_y, side)):
        return gr.skip()
    low, high = CROP_SIZES
    try:
        marked = marked_input(view.plan, reference, (max(0.0, centre_x), max(0.0, centre_y)),
                              min(max(side, low), high))
    except StudioError as exc:
        gr.Warning(toast(exc))
        return gr.skip()
    return servable(marked)


def crops_as_typed(view: SweepView, layout: Layout | None, x: Any, y: Any, size: Any) -> Any:
    """``crops`` for the values as the boxes hold them while they are typed in (raw, not checked by Gradio, which
    refused each keystroke of "120" on its own: "Value 1 is less than minimum value 8"): a size is kept within
    the slider's ``CROP_SIZES``, a centre at 0 or more; an empty or partial box changes nothing yet."""
    try:
        centre_x, centre_y, side = (float(value) for value in (x, y, size))
    except (TypeError, ValueError):
        return gr.skip()
    if not all(math.isfinite(value) for value in (centre_x, centre_y, side)):
        return gr.skip()
    low, high = CROP_SIZES
    return crops(view, layout, max(0.0, centre_x), max(0.0, centre_y), min(max(side, low), high))


DIFFERENCE_LABEL = "Difference heat map (black = identical)"


def difference(view: SweepView, label: str | None, against: str | None) -> Any:
    """The heat map of a cell against the input or another cell; refused, an empty map whose label says why (the
    toast fades, and the empty map stayed without a word)."""
    labels = {cell.label for cell in view.plan.cells} if view.plan is not None else set()
    if view.plan is None or not label or label not in labels or (against or "input") not in {"input", *labels}:
        # nothing chosen, or a menu still holding the last sweep's cell while a re-opened one's choices arrive (the
        # next change brings this sweep's): an empty map, no warning
        return gr.update(value=None, label=DIFFERENCE_LABEL)
    try:
        found = servable(heat_map(view.plan, view.runs, label, against or "input", view.input_path))
    except StudioError as exc:
        gr.Warning(toast(exc))
        return gr.update(value=None, label=f"No difference map: {plain(str(exc))}")
    return gr.update(value=found, label=DIFFERENCE_LABEL)
