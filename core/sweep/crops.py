"""Pictures made from a finished sweep's cells: the same region of every output at 1:1 output pixels (detail
crops), and the difference heat map of one output against its input or another cell's output. Both are written
into the sweep's folder (``data/sweeps/<id>/``) and returned as paths."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import time
from pathlib import Path

from PIL import Image

from core import storage
from core.errors import InputError
from core.runs.crops import draw_square
from core.runs.runs import Run
from core.sweep import metrics, sweep_run
from core.sweep.axes import IMAGE
from core.sweep.plan import Cell, CellKey, SweepPlan


def cell_input(cell: Cell, run: Run | None, input_path: str | None) -> str | None:
    """The input file a cell was made from."""
    path = cell.image_path or (run.input_path if run else None) or input_path
    return path if path and Path(path).is_file() else None


def detail_crops(plan: SweepPlan, runs: dict[CellKey, Run], centre: tuple[float, float], size: float,
                 reference: tuple[int, int], input_path: str | None = None) -> list[tuple[str, str]]:
    """The same region of every finished cell at 1:1 output pixels, as ``(png path, label)``.

    ``centre`` and ``size`` are in pixels of an input of size ``reference``; cells with another input (an image
    axis) get the same relative region.

    A crop is written once: its file is named by its cell, run, output file and square (``_crop_name``), so
    showing the same crops again (the grid pivoted, another Z value, the sweep re-opened) reads no output; a cell's
    crops of other squares are removed once a minute old (``_forget_older``).
    """
    folder = sweep_run.sweep_dir(plan.id) / "crops"
    folder.mkdir(exist_ok=True)
    crops = []
    for cell in plan.cells:
        run = runs.get(cell.key)
        source = cell_input(cell, run, input_path)
        if run is None or not run.output_path or not sweep_run.done(run) or source is None:
            continue
        with Image.open(source) as opened:
            in_size = opened.size
        box = crop_box(centre, size, reference, in_size)
        place = "-".join(map(str, cell.key))  # its place in the sweep: unique in any layout
        path = folder / f"{place}_{_crop_name(run, box, in_size)}.png"
        if not path.is_file():
            with Image.open(run.output_path) as output:
                crop = metrics.detail_crop(output, box, in_size)
            storage.write_atomic(path, functools.partial(crop.save, format="PNG"), "save the detail crops")
            _forget_older(folder, place, path)
        crops.append((str(path), cell.label))
    return crops


CROPS_KEPT_S = 60.0  # a cell's crops of other squares are removed once this old


def _forget_older(folder: Path, place: str, newest: Path) -> None:
    """Remove the cell's crops of other squares (or runs) written more than ``CROPS_KEPT_S`` ago. Not younger ones:
    the page asks for crops of several squares at once (a centre clicked, the size moved), and a crop removed
    while another request was handing it to Gradio reached the page as an unservable path (``InvalidPathError``
    in the log, the crop gallery not updated: a user trial)."""
    now = time.time()
    for older in folder.glob(f"{place}_*.png"):
        with contextlib.suppress(OSError):  # gone meanwhile
            if older != newest and now - older.stat().st_mtime > CROPS_KEPT_S:
                older.unlink()


def _crop_name(run: Run, box: tuple[float, float, float, float], in_size: tuple[int, int]) -> str:
    """What a cell's crop file is named by: its run, its output file's size and modification time (a file written
    anew is cropped anew), the square and the input's size."""
    found = Path(str(run.output_path)).stat()
    said = f"{run.id}|{found.st_size}|{found.st_mtime_ns}|{tuple(round(v, 3) for v in box)}|{in_size}"
    return hashlib.sha256(said.encode()).hexdigest()[:16]


def crop_box(centre: tuple[float, float], size: float, reference: tuple[int, int],
             in_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The square a detail crop takes of an input of ``in_size``, as (left, top, right, bottom) input pixels, for a
    centre and size given in pixels of an input of size ``reference`` (the same relative region on another
    input): at least 2 pixels across, at most the input's shorter side, moved inside the picture."""
    scale = in_size[0] / reference[0] if reference[0] else 1.0
    half = min(max(1.0, size * scale / 2), min(in_size) / 2)
    x, y = centre[0] * scale, centre[1] * (in_size[1] / reference[1] if reference[1] else 1.0)
    x, y = min(max(x, half), in_size[0] - half), min(max(y, half), in_size[1] - half)
    return x - half, y - half, x + half, y + half


def marked_input(plan: SweepPlan, reference: str, centre: tuple[float, float], size: float) -> str:
    """The input the crop coordinates refer to, with the detail crops' square drawn on it (``crop_box``), so the
    picture one clicks to centre the crop shows where it is. Written once per square into the sweep's folder."""
    with Image.open(reference) as opened:
        picture = opened.convert("RGB")
    left, top, right, bottom = (round(v) for v in crop_box(centre, size, picture.size, picture.size))
    path = sweep_run.sweep_dir(plan.id) / "crops" / f"input-{left}-{top}-{right}-{bottom}.png"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        draw_square(picture, (left, top, right, bottom))
        storage.write_atomic(path, functools.partial(picture.save, format="PNG", compress_level=1),
                             "save the detail crops")
    return str(path)


def heat_map(plan: SweepPlan, runs: dict[CellKey, Run], label: str, against: str,
             input_path: str | None = None) -> str:
    """A heat map of one cell's output against its input ("input") or another cell's output (by label)."""
    by_label = {cell.label: cell for cell in plan.cells}
    if label not in by_label or not sweep_run.done(runs.get(by_label[label].key)):
        raise InputError(f"Cell {label!r} has no finished output to compare.", None)
    first = runs[by_label[label].key]
    if against == "input":
        other = cell_input(by_label[label], first, input_path)
        if other is None:
            raise InputError("This cell's input file is not available (fal fetched it from its URL).", None)
    elif against in by_label and sweep_run.done(runs.get(by_label[against].key)):
        image_axis = plan.axis_of(IMAGE)
        pictures = [by_label[name].values[image_axis] for name in (label, against)] if image_axis else []
        if pictures and pictures[0] != pictures[1]:  # a map of two pictures shows the pictures, not the settings
            raise InputError(f"Cells {label!r} and {against!r} are of different pictures ({pictures[0]}, "
                             f"{pictures[1]}): their difference would show the pictures, not the settings. Compare "
                             "a cell with another of the same picture, or with its input.", None)
        other = runs[by_label[against].key].output_path
    else:
        raise InputError(f"Cell {against!r} has no finished output to compare.", None)
    if not first.output_path or not other:
        raise InputError(f"Cell {label!r} has no finished output to compare.", None)
    with Image.open(first.output_path) as a, Image.open(other) as b:
        heat = metrics.difference_map(a, b)
    name = hashlib.sha256(f"{first.id}|{other}".encode()).hexdigest()[:16]
    path = sweep_run.sweep_dir(plan.id) / f"difference-{name}.png"
    heat.save(path, format="PNG")
    return str(path)
