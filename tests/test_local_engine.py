"""The local engine: tiled Real-ESRGAN (core/engines/realesrgan.py) and its queue (core/engines/local.py)."""

from __future__ import annotations

import asyncio
import base64
import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from skimage.metrics import peak_signal_noise_ratio

from core import pnginfo
from core.engines import local
from core.engines.base import Completed, InProgress, Queued
from core.engines.local import LocalEngine
from core.engines.realesrgan import MODELS, tile_layout, upscale
from core.errors import CancelledRun, InputError
from core.schema import output_size


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.fromarray(data.astronaut())


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLARITY_DATA_DIR", str(tmp_path))
    return tmp_path


def _gradient(width: int, height: int) -> Image.Image:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([40 + 150 * xx / width, 40 + 150 * yy / height, 60 + 80 * (xx + yy) / (width + height)], -1)
    return Image.fromarray(rgb.round().astype(np.uint8))


# --- core/engines/realesrgan.py ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("factor", [1, 1.5, 2, 3, 4])
def test_output_has_the_exact_size_for_any_factor(photo: Image.Image, factor: float) -> None:
    small = photo.resize((37, 23))
    assert upscale(small, factor).size == output_size(37, 23, factor)


@pytest.mark.parametrize("size", [(1, 1), (1, 9), (300, 2), (5, 140)])
def test_tiny_and_extreme_images_upscale(photo: Image.Image, size: tuple[int, int]) -> None:
    result = upscale(photo.resize(size), 2.5, tile=32, overlap=4)
    assert result.size == output_size(*size, 2.5)
    assert result.mode == "RGB"


def test_output_looks_like_the_input(photo: Image.Image) -> None:
    # Scaled back down, the upscale must match the input closely: catches garbage tiles or swapped channels.
    crop = photo.crop((160, 40, 224, 104))
    back = upscale(crop, 2, tile=32, overlap=4).resize(crop.size, Image.Resampling.LANCZOS)
    assert peak_signal_noise_ratio(np.asarray(crop), np.asarray(back)) > 25


def _join_jumps(image: Image.Image, axis: int, length: int, tile: int, overlap: int) -> tuple[int, int]:
    """Largest neighbour-to-neighbour jump within 4 px of a tile join, and elsewhere inside the image."""
    size, starts = tile_layout(length, tile, overlap)
    joins = {s * 4 for s in starts[1:]} | {(s + size) * 4 for s in starts[:-1]}
    jump = np.abs(np.diff(np.asarray(image).astype(np.int16), axis=axis)).max(axis=(1 - axis, 2))
    index = np.arange(len(jump))
    near_join = np.zeros(len(jump), bool)
    for join in joins:
        near_join |= np.abs(index - join) <= 4
    inside = (index >= 8) & (index < len(jump) - 8)  # the net's own image-border effects are not seams
    return int(jump[near_join].max()), int(jump[inside & ~near_join].max())


def test_tiled_gradient_shows_no_seams() -> None:
    gradient = _gradient(160, 120)
    blended = upscale(gradient, 4, tile=48, overlap=8)
    for axis, length in ((1, 160), (0, 120)):
        at_join, elsewhere = _join_jumps(blended, axis, length, 48, 8)
        assert at_join <= elsewhere, f"axis {axis}: jump {at_join} at a join, {elsewhere} elsewhere"
    # The same measure does see the seams of hard joins (no overlap): it is able to fail.
    hard = upscale(gradient, 4, tile=48, overlap=0)
    assert any(_join_jumps(hard, axis, n, 48, 0)[0] > _join_jumps(hard, axis, n, 48, 0)[1]
               for axis, n in ((1, 160), (0, 120)))


def test_rgba_keeps_its_alpha(photo: Image.Image) -> None:
    rgba = photo.crop((100, 100, 140, 130)).convert("RGBA")
    alpha = np.zeros((30, 40), np.uint8)
    alpha[:, 20:] = 255
    rgba.putalpha(Image.fromarray(alpha))
    result = upscale(rgba, 2)
    assert result.mode == "RGBA" and result.size == (80, 60)
    out_alpha = np.asarray(result.getchannel("A"))
    assert out_alpha[:, :32].max() == 0 and out_alpha[:, 48:].min() == 255  # Lanczos blurs only the edge


def test_cancel_stops_between_tiles(photo: Image.Image) -> None:
    calls: list[tuple[int, int]] = []
    with pytest.raises(CancelledRun):
        upscale(photo.resize((96, 96)), 2, tile=32, overlap=4, on_tile=lambda done, total: calls.append((done, total)),
                should_cancel=lambda: len(calls) >= 3)
    assert [done for done, _ in calls] == [1, 2, 3]
    assert calls[0][1] == 16  # 4 × 4 tiles: it stopped well before the end


def test_quality_model_runs_on_a_tiny_image(photo: Image.Image) -> None:
    crop = photo.crop((180, 80, 196, 96))
    result = upscale(crop, 3, model="quality")
    assert result.size == (48, 48)
    back = result.resize(crop.size, Image.Resampling.LANCZOS)
    assert peak_signal_noise_ratio(np.asarray(crop), np.asarray(back)) > 22
    assert set(MODELS) == {"fast", "quality"}


# --- core/engines/local.py ---------------------------------------------------------------------------------

@pytest.fixture
def input_png(photo: Image.Image, data_dir: Path) -> str:
    path = data_dir / "input.png"
    photo.resize((48, 40)).save(path)
    return str(path)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch):
    """Holds every local run after each tile until the test opens the gate, so the queue can be observed."""
    opened = threading.Event()
    real = local.upscale

    def held(image, factor, model, tile, overlap, on_tile=None, should_cancel=None):
        def tile_done(done: int, total: int) -> None:
            on_tile(done, total)
            assert opened.wait(30), "the test never opened the gate"
        return real(image, factor, model, tile, overlap, on_tile=tile_done, should_cancel=should_cancel)

    monkeypatch.setattr(local, "upscale", held)
    yield opened
    opened.set()


def _messages(event) -> list[str]:
    return [line["message"] for line in (getattr(event, "logs", None) or [])]


async def _until(job, predicate) -> list:
    seen = []
    async for event in job.events():
        seen.append(event)
        if predicate(event):
            break
    return seen


def test_events_queue_positions_tiles_and_completion(input_png: str, gate: threading.Event) -> None:
    async def scenario():
        engine = LocalEngine(tile=16, overlap=4)
        first = await engine.submit({"upscale_factor": 2}, input_png)
        await _until(first, lambda e: "tile 1/" in " ".join(_messages(e)))
        second = await engine.submit({"upscale_factor": 2}, input_png)
        third = await engine.submit({"upscale_factor": 2}, input_png)
        second_events, third_events = [], []
        async def watch(job, into):
            async for event in job.events():
                into.append(event)
        watchers = [asyncio.create_task(watch(second, second_events)), asyncio.create_task(watch(third, third_events))]
        await asyncio.sleep(0.2)
        gate.set()
        first_events = [e async for e in first.events()]  # events() replays from the start
        await asyncio.gather(*watchers)
        return first_events, second_events, third_events

    first_events, second_events, third_events = asyncio.run(scenario())
    assert isinstance(first_events[0], Queued) and isinstance(first_events[-1], Completed)
    assert "Fast" in _messages(first_events[1])[0]  # the start line names the model
    tiles = [m for e in first_events if isinstance(e, InProgress) for m in _messages(e) if m.startswith("tile")]
    total = len(tile_layout(48, 16, 4)[1]) * len(tile_layout(40, 16, 4)[1])
    assert tiles == [f"tile {n}/{total} done" for n in range(1, total + 1)]
    assert first_events[-1].metrics["inference_time"] > 0
    assert [e.position for e in second_events if isinstance(e, Queued)] == [0]
    assert [e.position for e in third_events if isinstance(e, Queued)] == [1, 0]  # it moved up
    for events in (second_events, third_events):
        kinds = [type(e) for e in events]
        assert kinds.index(InProgress) > kinds.index(Queued) and kinds[-1] is Completed


def test_cancel_while_queued_and_while_running(input_png: str, gate: threading.Event) -> None:
    async def scenario():
        engine = LocalEngine(tile=16, overlap=4)
        running = await engine.submit({"upscale_factor": 2}, input_png)
        await _until(running, lambda e: "tile 1/" in " ".join(_messages(e)))
        queued = await engine.submit({"upscale_factor": 2}, input_png)
        after = await engine.submit({"upscale_factor": 2}, input_png)
        await queued.cancel()
        await running.cancel()
        gate.set()
        rests = []
        for job in (running, queued):
            rest: list = []
            with pytest.raises(CancelledRun):  # as the fal engine's events() do once cancelled
                async for event in job.events():
                    rest.append(event)
            rests.append(rest)
        running_rest, queued_rest = rests
        after_events = [e async for e in after.events()]
        for job in (running, queued):
            with pytest.raises(CancelledRun):
                await job.result()
        return running_rest, queued_rest, after_events, await after.result()

    running_rest, queued_rest, after_events, after_result = asyncio.run(scenario())
    assert running_rest == [] and queued_rest == []  # no tile 2, no Completed
    assert [e.position for e in after_events if isinstance(e, Queued)][-1] == 0  # it took the freed place
    assert isinstance(after_events[-1], Completed) and Path(after_result["image"]["url"]).exists()


def test_result_has_the_endpoint_output_shape(photo: Image.Image, data_dir: Path) -> None:
    buffer = io.BytesIO()
    photo.resize((30, 20)).save(buffer, format="PNG")
    arguments = {"image_url": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(),
                 "upscale_factor": 1.5, "prompt": "a portrait", "creativity": 0.9, "seed": 42}

    async def scenario():
        job = await LocalEngine().submit(arguments)
        events = [e async for e in job.events()]
        return job, events, await job.result()

    job, events, result = asyncio.run(scenario())
    assert job.request_id.startswith("local-") and job.arguments == arguments
    assert isinstance(events[-1], Completed) and events[-1].error is None
    image = result["image"]
    assert Path(image["url"]) == data_dir / "outputs" / f"{job.request_id}.png"
    assert image["content_type"] == "image/png" and image["file_name"] == f"{job.request_id}.png"
    assert image["file_size"] == Path(image["url"]).stat().st_size
    with Image.open(image["url"]) as saved:
        assert saved.size == (image["width"], image["height"]) == (45, 30)
    assert result["seed"] is None and result["timings"]["inference"] > 0  # Real-ESRGAN uses no seed
    stored = pnginfo.read_png_metadata(image["url"])  # the PNG says which settings made it
    assert stored["request_id"] == job.request_id and stored["engine"] == "local"
    assert stored["arguments"]["seed"] == 42  # the seed asked for is recorded, so the run can be replayed on fal


def test_no_seed_is_drawn_and_bad_input_fails_at_submit(input_png: str, data_dir: Path) -> None:
    async def scenario():
        job = await LocalEngine().submit({"upscale_factor": 1}, input_png)
        return await job.result()

    result = asyncio.run(scenario())
    assert result["seed"] is None  # no random seed that means nothing to Real-ESRGAN
    broken = data_dir / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(InputError):
        asyncio.run(LocalEngine().submit({"upscale_factor": 2}, str(broken)))


def test_tile_lines_arrive_once_in_order_a_few_statuses_at_a_time(input_png: str, monkeypatch) -> None:
    """Each status is a step of the app's handler (an update, a console re-render): tile lines that come close
    together are handed out together, none lost, the start line first."""
    def quick(image, factor, model, tile, overlap, on_tile=None, should_cancel=None):
        for done in range(1, 31):
            on_tile(done, 30)
        return image.resize(output_size(image.width, image.height, factor))

    monkeypatch.setattr(local, "upscale", quick)

    async def scenario():
        job = await LocalEngine().submit({"upscale_factor": 2}, input_png)
        return [e async for e in job.events()]

    events = asyncio.run(scenario())
    progress = [e for e in events if isinstance(e, InProgress)]
    lines = [m for e in progress for m in _messages(e)]
    assert "Fast" in lines[0] and lines[1:] == [f"tile {n}/30 done" for n in range(1, 31)]
    assert len(progress) < len(lines)  # batched: not one status per line
    assert isinstance(events[-1], Completed) and events[-1].error is None


def test_a_run_that_starts_at_once_uses_the_picture_submit_already_read(input_png: str) -> None:
    async def scenario():
        job = await LocalEngine().submit({"upscale_factor": 2}, input_png)
        Path(input_png).unlink()  # read once, at submit: the run needs the file no more
        return await job.result()

    result = asyncio.run(scenario())
    with Image.open(result["image"]["url"]) as output:
        assert output.size == (96, 80)
