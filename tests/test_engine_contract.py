"""The engine seam's contract, the same cases for every engine (fal against the test fal server, local on the
CPU, lanczos in the process): what a caller of ``core/engines/base.py`` may rely on whichever engine it holds.

- ``submit`` returns a job with a request id and the arguments as sent;
- ``events()`` yields Queued (0 or more), then InProgress, and ends with one Completed;
- ``result()`` has the endpoint's output shape: ``image`` (url, content_type, width, height), ``seed`` (None on
  an engine that uses none), ``timings``;
- ``cancel()`` while queued and while running ends ``events()`` and ``result()`` with ``CancelledRun``, the same
  outcome on both engines;
- failures are the project's own exception types (``StudioError``), never a library's.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core import schema
from core.engines import describe, local
from core.engines.base import Completed, InProgress, Queued
from core.engines.fal import FalEngine
from core.engines.lanczos import LanczosEngine
from core.engines.local import LocalEngine
from core.errors import CancelledRun, StudioError

ENGINES = ("fal", "local", "lanczos")


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "contract.png"
    Image.radial_gradient("L").resize((48, 40)).convert("RGB").save(path)
    return str(path)


@pytest.fixture
def hold_local(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Holds local runs after each tile until released, so a run can be caught queued or running."""
    release = threading.Event()
    real = local.upscale

    def held(image, factor, model, tile, overlap, on_tile=None, should_cancel=None):
        def tile_done(done: int, total: int) -> None:
            on_tile(done, total)
            release.wait(30)
        return real(image, factor, model, tile, overlap, on_tile=tile_done, should_cancel=should_cancel)

    monkeypatch.setattr(local, "upscale", held)
    yield release
    release.set()


def make(name: str, fal_key: str) -> Any:
    made = {"fal": lambda: FalEngine(fal_key, poll_interval=0.01), "local": lambda: LocalEngine(tile=16, overlap=4),
            "lanczos": LanczosEngine}
    return made[name]()


def arguments(**overrides: Any) -> dict[str, Any]:
    return schema.validate({**schema.defaults(), "upscale_factor": 2, "seed": 7, **overrides}, require_image=False)


@pytest.mark.parametrize("name", ENGINES)
def test_events_in_order_and_a_result_of_the_endpoints_shape(name, photo, fal_server, fal_key) -> None:
    fal_server.set_default(queue_polls=2, run_polls=2, logs=["working"])

    async def scenario() -> tuple[Any, list[Any], dict[str, Any]]:
        job = await make(name, fal_key).submit(arguments(), photo)
        seen = [event async for event in job.events()]
        return job, seen, await job.result()

    job, seen, result = asyncio.run(scenario())
    assert job.request_id and job.arguments["upscale_factor"] == 2
    kinds = [type(event) for event in seen]
    first_progress = kinds.index(InProgress)
    assert set(kinds[:first_progress]) <= {Queued} and kinds[-1] is Completed and kinds.count(Completed) == 1
    assert set(kinds[first_progress:-1]) <= {InProgress}
    image = result["image"]
    assert {"url", "content_type", "width", "height"} <= set(image) and image["content_type"] == "image/png"
    assert (image["width"], image["height"]) == (96, 80)
    # the seed used: a number, or None on an engine that uses none (its descriptor says it ignores the seed)
    assert result["seed"] is None if describe(name).ignores("seed") else isinstance(result["seed"], int)
    assert isinstance(result["timings"], dict)


@pytest.mark.parametrize("stage", ["queued", "running"])
@pytest.mark.parametrize("name", ENGINES)
def test_cancel_ends_the_job_the_same_way_on_every_engine(name, stage, photo, fal_server, fal_key,
                                                          hold_local) -> None:
    fal_server.set_default(queue_polls=400 if stage == "queued" else 1, run_polls=400, logs=["working"])

    async def scenario() -> tuple[list[Any], BaseException | None, BaseException | None]:
        engine = make(name, fal_key)
        if name == "local" and stage == "queued":  # another run holds the one worker: this one waits its turn
            await engine.submit(arguments(seed=1), photo)
        job = await engine.submit(arguments(), photo)
        seen: list[Any] = []
        wanted = Queued if stage == "queued" else InProgress
        failure = None
        try:
            async for event in job.events():
                seen.append(event)
                if isinstance(event, wanted):
                    await job.cancel()
        except StudioError as exc:
            failure = exc
        try:
            await job.result()
        except StudioError as exc:
            return seen, failure, exc
        return seen, failure, None

    seen, from_events, from_result = asyncio.run(scenario())
    assert any(isinstance(event, Queued if stage == "queued" else InProgress) for event in seen)
    assert not any(isinstance(event, Completed) for event in seen)
    assert isinstance(from_events, CancelledRun), from_events
    assert isinstance(from_result, CancelledRun), from_result


@pytest.mark.parametrize("name", ENGINES)
def test_a_failure_is_one_of_the_projects_own_errors(name, tmp_path, fal_server, fal_key) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    fal_server.set_default(submit_status=500)

    async def scenario() -> BaseException:
        try:
            job = await make(name, fal_key).submit(arguments(), str(broken))
            async for _ in job.events():
                pass
            await job.result()
        except Exception as exc:  # noqa: BLE001 - the point is which kind it is
            return exc
        raise AssertionError("the run did not fail")

    assert isinstance(asyncio.run(scenario()), StudioError)
