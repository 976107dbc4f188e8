"""A region first, then the whole picture (issue 28): how far a region run's pixels differ from the same region of
the whole run, and what a region saves on a sweep.

The hosted model's own difference (it sees less context on a crop) cannot be measured here: the test server is not
the model. What can be measured is the engines' own: the local engine (Real-ESRGAN, tiled with cross-faded
overlaps) and, as the control, the Lanczos resize (whose kernel reaches a few pixels past the crop's edge). Each runs
the whole photo and a region of it through the use case (``core.usecases.run_one``, as every door does), and the
region's output is compared with the same part of the whole output: mean absolute difference, PSNR and the largest
difference over the region, and again inside it with a border band of ``BAND`` output pixels left out (what the edge
of the crop changes, and what it does not).

The price part is arithmetic on the app's own price (``core.schema.estimated_price``, said by ``core.money``): a
12-cell ×2 sweep of a 4 MP photo (2309×1732) whole against the same sweep on a 512×512 region of it.

Run: python -m bench.region_vs_whole        (about half a minute on 2 cores)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from bench._common import report  # noqa: E402

BAND = 32  # output pixels of the region's border left out of the "inside" figures
FACTOR = 2
REGION = (160, 96, 192, 192)  # x, y, width, height in the astronaut's input pixels (her face and the flag's edge)
SWEEP_CELLS, SWEEP_FACTOR = 12, 2
FOUR_MP = (2309, 1732)  # 4.0 MP at 4:3


def _compare(region_out: np.ndarray, whole_part: np.ndarray) -> dict[str, dict[str, float]]:
    def figures(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
        mse = float(np.mean(diff.astype(np.float64) ** 2))
        return {"mean_abs": round(float(diff.mean()), 3), "max": int(diff.max()),
                "psnr_db": round(float("inf") if mse == 0 else 10 * np.log10(255**2 / mse), 2)}

    inside = (slice(BAND, -BAND), slice(BAND, -BAND))
    return {"region": figures(region_out, whole_part),
            f"inside_{BAND}px": figures(region_out[inside], whole_part[inside])}


async def _run(values: dict[str, Any], model: str | None) -> Any:
    from dataclasses import replace

    from core.sharing.visitor import Visitor
    from core.usecases import RunRequest
    from core.usecases.run import run_one

    request = replace(RunRequest.checked(values), model=model)
    run = None
    async for update in run_one(request, Visitor()):
        run = update.run
    assert run is not None and run.status == "completed", run and run.error
    return run


def measure(engine: str, model: str | None, photo: str) -> dict[str, Any]:
    """One engine: the whole photo and the region, through the use case; the region against the whole run's part."""
    x, y, width, height = REGION
    base = {"image": photo, "engine": engine, "upscale_factor": FACTOR}
    whole = asyncio.run(_run(base, model))
    part = asyncio.run(_run({**base, "region_x": x, "region_y": y, "region_width": width, "region_height": height},
                            model))
    with Image.open(whole.output_path) as full, Image.open(part.output_path) as cropped:
        box = (x * FACTOR, y * FACTOR, x * FACTOR + cropped.width, y * FACTOR + cropped.height)
        same_part = np.asarray(full.convert("RGB").crop(box))
        return _compare(np.asarray(cropped.convert("RGB")), same_part)


def prices() -> dict[str, Any]:
    from core import money
    from core.schema import PRICE_PER_MEGAPIXEL, estimated_price, output_size

    width, height = FOUR_MP
    whole = SWEEP_CELLS * estimated_price(width, height, SWEEP_FACTOR)
    region = SWEEP_CELLS * estimated_price(512, 512, SWEEP_FACTOR)
    out_w, out_h = output_size(width, height, SWEEP_FACTOR)
    return {"photo": f"{width}×{height} ({width * height / 1e6:.1f} MP)", "cells": SWEEP_CELLS,
            "factor": SWEEP_FACTOR, "price_per_output_mp": PRICE_PER_MEGAPIXEL,
            "whole_output_mp": round(SWEEP_CELLS * out_w * out_h / 1e6, 2), "whole_price": money.cost(whole),
            "region_output_mp": round(SWEEP_CELLS * 1024 * 1024 / 1e6, 2), "region_price": money.cost(region),
            "then_one_whole_run": money.cost(estimated_price(width, height, SWEEP_FACTOR)),
            "saved_ratio": round(whole / region, 1)}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="clarity-region-") as folder:
        os.environ["CLARITY_DATA_DIR"] = folder
        photo = str(Path(folder) / "astronaut.png")
        Image.fromarray(data.astronaut()).save(photo)  # 512×512
        figures: dict[str, Any] = {"photo": "astronaut 512×512", "region": "region 192×192 at 160,96",
                                   "factor": FACTOR}
        for name, engine, model in (("local_fast", "local", "fast"), ("local_quality", "local", "quality"),
                                    ("lanczos_control", "lanczos", None)):
            figures[name] = measure(engine, model, photo)
    report("region_vs_whole", {**figures, "sweep_price": prices()})


if __name__ == "__main__":
    main()
