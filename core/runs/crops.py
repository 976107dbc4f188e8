"""The same region of several outputs of one size, at 1:1 output pixels: what the History's Compare shows beside
its slider, and the picture clicked to choose it with that region marked. Written into ``data/compare/`` and
returned as paths."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from core import config, storage
from core.inputs.image_modes import to_rgb_or_rgba
from core.inputs.region import Region
from core.runs.runs import Run

CROP = 256  # the side of the 1:1 detail region, in output pixels
RED, WHITE = (255, 64, 64), (255, 255, 255)  # the square marking where 1:1 crops come from (draw_square)


def region(width: int, height: int, centre: tuple[int, int] | None = None,
           side: int = CROP) -> tuple[int, int, int, int]:
    """The square ``(left, top, right, bottom)`` of ``side`` output pixels (smaller for a smaller output) around
    ``centre`` (the middle when None), moved inside a ``width × height`` output."""
    side = min(side, width, height)
    x, y = centre or (width // 2, height // 2)
    left, top = min(max(0, x - side // 2), width - side), min(max(0, y - side // 2), height - side)
    return left, top, left + side, top + side


def crops(runs: Sequence[Run], centre: tuple[int, int] | None = None, side: int = CROP,
          outputs: Sequence[str | None] | None = None) -> list[str]:
    """The region around ``centre`` (output pixels; the middle when None) of each run's output (or of
    ``outputs``, one picture per run, for a whole run shown at its region: ``same_part``), one PNG per run in
    ``data/compare/<run id>-<left>-<top>.png``. The pictures have one size (the first run's is used)."""
    box = region(runs[0].width or 0, runs[0].height or 0, centre, side)
    folder = config.data_dir() / "compare"
    paths = []
    for index, run in enumerate(runs):
        source = (outputs[index] if outputs else None) or run.output_path or ""
        target = folder / f"{run.id}-{box[0]}-{box[1]}{'-part' if source != run.output_path else ''}.png"
        with Image.open(source) as image:
            crop = image.crop(box)
        storage.write_atomic(target, functools.partial(crop.save, format="PNG"), "save the comparison")
        paths.append(str(target))
    return paths


def draw_square(picture: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Draw the square ``box`` (``left, top, right, bottom``, pixels) on ``picture`` in place: red, a line about
    1/160 of the picture's shorter side thick (2 px at least), lined with white inside so it shows on red too.
    The mark of where 1:1 crops come from, on the Compare view and the Sweep tab's detail crop."""
    left, top, right, bottom = box
    pen = ImageDraw.Draw(picture)
    width = max(2, min(picture.size) // 160)
    pen.rectangle((left, top, right - 1, bottom - 1), outline=RED, width=width)
    if right - left > 2 * width + 2 and bottom - top > 2 * width + 2:
        pen.rectangle((left + width, top + width, right - 1 - width, bottom - 1 - width), outline=WHITE, width=1)


def marked(picture: str, box: tuple[int, int, int, int]) -> str:
    """``picture`` with the square ``box`` (``left, top, right, bottom`` in its pixels, as ``region`` gives it)
    drawn on it — red, lined with white inside so it shows on red too —, so the picture clicked to choose the
    crops' region shows where they come from. A PNG of the picture's own size (a click on it reads the same
    pixels), in RGB or RGBA, written once per picture and square as ``data/compare/<name>-marked-<box>.png``.
    Raises StorageError when it cannot be written."""
    left, top, right, bottom = box
    target = config.data_dir() / "compare" / f"{Path(picture).stem}-marked-{left}-{top}-{right}-{bottom}.png"
    if not target.is_file():
        with Image.open(picture) as opened:
            shown = to_rgb_or_rgba(opened)
        draw_square(shown, box)
        storage.write_atomic(target, functools.partial(shown.save, format="PNG", compress_level=1),
                             "save the comparison")
    return str(target)


def same_part(region_run: Run, whole_run: Run) -> str | None:
    """The part of ``whole_run``'s output that ``region_run``'s output shows (its region at the same factor), as a
    PNG of the region run's output size in ``data/compare/``; None when they do not line up (not a region run and a
    whole one, other factors, a region outside the whole output)."""
    area = Region.parse(region_run.region)
    factor = region_run.arguments.get("upscale_factor")
    if (area is None or whole_run.region is not None or not isinstance(factor, (int, float))
            or factor != whole_run.arguments.get("upscale_factor")):
        return None
    if not (region_run.width and region_run.height and whole_run.width and whole_run.height and whole_run.output_path):
        return None
    left, top = round(area.x * float(factor)), round(area.y * float(factor))
    right, bottom = left + region_run.width, top + region_run.height
    if right > whole_run.width or bottom > whole_run.height:
        return None
    target = config.data_dir() / "compare" / f"{whole_run.id}-{area.tag}.png"
    if not target.is_file():
        with Image.open(whole_run.output_path) as image:
            part = image.crop((left, top, right, bottom))
        storage.write_atomic(target, functools.partial(part.save, format="PNG"), "save the comparison")
    return str(target)
