"""The same region of several outputs of one size, at 1:1 output pixels: what the History's Compare shows beside
its slider. Written into ``data/compare/`` and returned as paths."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from core import config
from core.runs.runs import Run

CROP = 256  # the side of the 1:1 detail region, in output pixels


def centre_crops(runs: Sequence[Run], side: int = CROP) -> list[str]:
    """The centre square (``side`` output pixels, smaller for a smaller output) of each run's output, one PNG per
    run in ``data/compare/<run id>-centre.png``. The runs' outputs have one size (the first run's is used)."""
    width, height = runs[0].width or 0, runs[0].height or 0
    side = min(side, width, height)
    left, top = (width - side) // 2, (height - side) // 2
    folder = config.data_dir() / "compare"
    folder.mkdir(exist_ok=True)
    paths = []
    for run in runs:
        target = folder / f"{run.id}-centre.png"
        with Image.open(run.output_path or "") as image:
            image.crop((left, top, left + side, top + side)).save(target, format="PNG")
        paths.append(str(target))
    return paths
