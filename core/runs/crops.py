"""The same region of several outputs of one size, at 1:1 output pixels: what the History's Compare shows beside
its slider. Written into ``data/compare/`` and returned as paths."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from PIL import Image

from core import config, storage
from core.runs.runs import Run

CROP = 256  # the side of the 1:1 detail region, in output pixels


def region(width: int, height: int, centre: tuple[int, int] | None = None,
           side: int = CROP) -> tuple[int, int, int, int]:
    """The square ``(left, top, right, bottom)`` of ``side`` output pixels (smaller for a smaller output) around
    ``centre`` (the middle when None), moved inside a ``width × height`` output."""
    side = min(side, width, height)
    x, y = centre or (width // 2, height // 2)
    left, top = min(max(0, x - side // 2), width - side), min(max(0, y - side // 2), height - side)
    return left, top, left + side, top + side


def crops(runs: Sequence[Run], centre: tuple[int, int] | None = None, side: int = CROP) -> list[str]:
    """The region around ``centre`` (output pixels; the middle when None) of each run's output, one PNG per run in
    ``data/compare/<run id>-<left>-<top>.png``. The runs' outputs have one size (the first run's is used)."""
    box = region(runs[0].width or 0, runs[0].height or 0, centre, side)
    folder = config.data_dir() / "compare"
    paths = []
    for run in runs:
        target = folder / f"{run.id}-{box[0]}-{box[1]}.png"
        with Image.open(run.output_path or "") as image:
            crop = image.crop(box)
        storage.write_atomic(target, functools.partial(crop.save, format="PNG"), "save the comparison")
        paths.append(str(target))
    return paths
