"""The Lanczos baseline: Pillow's LANCZOS resize, the plain resize every upscaler review compares against.

Instant and free, it answers "is clarity worth it over a plain resize?": run it beside fal on a sweep's engine
axis (``fal, local:fast, lanczos``). Only the upscale factor changes its output; every generative knob and the
seed are recorded, never used (its descriptor says so, as the local engine's does). Its result has fal's output
shape, and its PNG carries its parameters like every engine's.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from core import config, pnginfo, storage
from core.engines.base import Completed, EngineInfo, EngineSettings, InProgress, Queued, Status
from core.errors import CancelledRun, InputError
from core.inputs import images
from core.inputs.image_modes import to_rgb_or_rgba
from core.schema import FIELD_BY_NAME, output_size


def _log(message: str) -> dict[str, Any]:
    """A log entry shaped like fal's."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"message": message, "level": "INFO", "source": "USER", "timestamp": stamp}


def resize(image: Image.Image, factor: float) -> Image.Image:
    """``image`` resized by ``factor`` with Pillow's LANCZOS filter (RGB, or RGBA when it has transparency)."""
    image = to_rgb_or_rgba(image)
    return image.resize(output_size(image.width, image.height, factor), Image.Resampling.LANCZOS)


class LanczosJob:
    """One resize, done when its events are read (or its result asked for): Queued, InProgress, Completed."""

    def __init__(self, request_id: str, arguments: dict[str, Any], image: Image.Image) -> None:
        self.request_id = request_id
        self.arguments = arguments
        self.image = image
        self.seed: int | None = None  # a resize has no randomness: no seed is used (the one asked for is recorded)
        self._cancelled = False
        self._output: dict[str, Any] | None = None
        self._seconds = 0.0

    async def _work(self) -> dict[str, Any]:
        if self._output is None:
            started = time.perf_counter()
            factor = float(self.arguments.get("upscale_factor", FIELD_BY_NAME["upscale_factor"].default))
            result = await asyncio.to_thread(resize, self.image, factor)
            self._seconds = time.perf_counter() - started
            self._output = await asyncio.to_thread(self._save, result)
        return self._output

    def _save(self, result: Image.Image) -> dict[str, Any]:
        folder = config.data_dir() / "outputs"
        path = folder / f"{self.request_id}.png"
        partial = path.with_suffix(".part")  # written whole, then renamed: a reader never sees half a PNG
        with storage.writing("save the output"), storage.removed_on_failure(partial):  # nor a failed write's part
            folder.mkdir(parents=True, exist_ok=True)
            pnginfo.write_png(result, partial, {"arguments": self.arguments, "seed": self.seed, "engine": "lanczos",
                                                "request_id": self.request_id, "model": None}, compress_level=1)
            partial.replace(path)
        return {"image": {"url": str(path), "content_type": "image/png", "file_name": path.name,
                          "file_size": path.stat().st_size, "width": result.width, "height": result.height},
                "seed": self.seed, "timings": {"inference": round(self._seconds, 3)}}

    def _check(self) -> None:
        if self._cancelled:
            raise CancelledRun("The run was cancelled.")

    async def events(self) -> AsyncIterator[Status]:
        """Queued(0) → InProgress → Completed; CancelledRun once cancelled, as every engine."""
        yield Queued(position=0)
        self._check()
        yield InProgress(logs=[_log(f"Lanczos resize of {self.image.width}×{self.image.height} "
                                    f"by {self.arguments.get('upscale_factor')}×")])
        self._check()
        await self._work()
        self._check()
        yield Completed(logs=[], metrics={"inference_time": round(self._seconds, 3)})

    async def result(self) -> dict[str, Any]:
        """The endpoint's output shape with ``image.url`` the absolute path of the PNG."""
        self._check()
        copy: dict[str, Any] = json.loads(json.dumps(await self._work()))  # a copy the caller may change
        return copy

    async def cancel(self) -> None:
        """Stop before the resize (a resize under way is too short to interrupt); no-op once finished."""
        if self._output is None:
            self._cancelled = True


class LanczosEngine:
    """Pillow's LANCZOS resize, in this process."""

    name = "lanczos"

    async def submit(self, arguments: dict[str, Any], image_path: str | None = None) -> LanczosJob:
        """A job for ``image_path``, or ``arguments["image_url"]`` (data URI or https)."""
        if image_path is None:
            if not arguments.get("image_url"):
                raise InputError("Give an image: upload a file, or paste an https:// URL or a data: URI.",
                                 "image_url")
            image_path = (await asyncio.to_thread(images.load_url, arguments["image_url"])).path
        image = await asyncio.to_thread(_read_image, image_path)
        factor = float(arguments.get("upscale_factor", FIELD_BY_NAME["upscale_factor"].default))
        out_w, out_h = output_size(image.width, image.height, factor)
        if out_w * out_h > config.max_output_megapixels() * 1e6:
            raise InputError(f"The output would be {out_w}×{out_h} ({out_w * out_h / 1e6:.0f} MP); the limit is "
                             f"{config.max_output_megapixels():g} MP. Lower the upscale factor.", "upscale_factor")
        return LanczosJob("lanczos-" + uuid.uuid4().hex, dict(arguments), image)


def _read_image(path: str | Path) -> Image.Image:
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise InputError("The input image could not be read.", "image") from None
    return images.decode(data, "The input image")


def info() -> EngineInfo:
    """The Lanczos descriptor: free, instant, only the factor counts (the seed too is only recorded)."""
    return EngineInfo("lanczos", "lanczos (Pillow resize, the baseline)", (), 0.0, frozenset({"upscale_factor"}),
                      webhooks=False, resumable_by_request_id=False, runs_at_once=2,
                      blurb="lanczos is a plain resize, the baseline to compare against")


def make(settings: EngineSettings) -> LanczosEngine:
    """The Lanczos engine (it needs neither a key nor a model)."""
    return LanczosEngine()
