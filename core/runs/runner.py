"""Execute one Run on an engine: the single path the form, sweeps and batches share.

It turns engine statuses into typed events (``core/runs/events.py``; ``components/upscale/console.py`` words
them), keeps the Run (and so the history row) current at every change of state, downloads fal's output into the
data directory (fal's URLs expire) and stamps it with its parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core import config, storage
from core.engines.base import Completed, Engine, InProgress, Job, Queued, ResumableEngine
from core.errors import AuthError, CancelledRun, EngineError, StudioError
from core.runs import events, unsaved
from core.runs.runs import Run, ignores_seed, iso_time
from core.storage import StorageError

log = logging.getLogger(__name__)

STAGES = ("queued", "running", "downloading", "done")


@dataclass
class Update:
    """What changed: the run, what happened (typed events, oldest first), the stage, and the engine's result
    once known."""

    run: Run
    events: list[events.Event] = field(default_factory=list)
    stage: str = "queued"
    result: dict[str, Any] | None = None


def _log_line(entry: Any) -> events.LogLine:
    """One of the engine's log entries (fal: ``{"message", "level", "timestamp"}``; or plain text)."""
    if isinstance(entry, dict):
        return events.LogLine(str(entry.get("message", "")), str(entry.get("level") or "INFO"))
    return events.LogLine(str(entry))


def _recorded_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """What the history keeps of the arguments: a data URI is replaced by the stored input file."""
    kept = dict(arguments)
    if str(kept.get("image_url", "")).startswith("data:"):
        kept["image_url"] = None
    return kept


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


def _client() -> httpx.AsyncClient:
    """One download client per event loop: connections to fal's CDN are reused from run to run."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = _clients[loop] = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=15.0),
                                                    follow_redirects=True)
    return client


async def _download(url: str, target: Path) -> str:
    """Save fal's output at ``target`` whole or not at all (a temporary file renamed into place, removed on any
    failure); returns the content type. Converts non-PNG outputs to PNG. StorageError when a resource ran out."""
    response = await _client().get(url)
    response.raise_for_status()
    content_type: str = response.headers.get("content-type", "image/png").split(";")[0]
    data = response.content

    def write(out: Any) -> None:
        if data.startswith(b"\x89PNG"):
            out.write(data)
            return
        import io

        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.save(out, format="PNG")

    await asyncio.to_thread(storage.write_atomic, target, write, "save the output")
    return content_type


async def _keep_output(run: Run, result: dict[str, Any]) -> list[events.Event]:
    """Put the output PNG in the data directory, stamped with its parameters. Returns what happened.
    StorageError (nothing left behind) when a resource ran out."""
    with storage.writing("save the output"):
        return await _keep_output_file(run, result)


async def _keep_output_file(run: Run, result: dict[str, Any]) -> list[events.Event]:
    image = result.get("image") or {}
    url = str(image.get("url") or "")
    outputs = config.data_dir() / "outputs"
    outputs.mkdir(exist_ok=True)
    target = outputs / f"{run.id}.png"
    run.content_type = image.get("content_type") or "image/png"
    run.width, run.height = image.get("width"), image.get("height")
    if url.startswith(("http://", "https://")):
        run.result_url = url
        try:
            run.content_type = await _download(url, target)
        except (httpx.HTTPError, OSError) as exc:  # a StorageError (a resource ran out) is not this: it goes up
            run.error = (f"The output could not be downloaded ({type(exc).__name__}); it is still at "
                         f"{url} until fal expires it.")
            return [events.Note(run.error)]
    else:
        source = Path(url)
        if source.resolve() != target.resolve():
            shutil.move(str(source), target)
    run.output_path = str(target)
    with contextlib.suppress(ImportError, OSError, StorageError):  # an unstamped PNG is still the output
        from core import pnginfo

        pnginfo.stamp_png(target, stamp_info(run))
    if not run.width or not run.height:
        from PIL import Image

        with Image.open(target) as done:
            run.width, run.height = done.size
    return [events.Saved(run.width, run.height, target.stat().st_size)]


def stamp_info(run: Run) -> dict[str, Any]:
    """What the output PNG records of ``run`` (``core.pnginfo.payload``): its parameters, the seed used, request
    id, engine and model apart, the https URL its picture was given by (``source_url``: never a data URI, nor the
    address fal's storage gave an uploaded file — a PNG that is passed on must not lead to its input), its sweep
    and cell, its region, and when it was made."""
    given = run.source_url
    return {"arguments": run.parameters(), "seed": run.seed_used, "request_id": run.request_id,
            "engine": run.engine, "model": run.model,
            "image_url": given if given and given.startswith("https://") else None,
            "sweep_id": run.sweep_id, "cell": run.cell, "region": run.region, "created_at": iso_time(run.created_at)}


async def follow(job: Job, run: Run, save: Callable[[Run], None],
                 engine: Engine | ResumableEngine | None = None) -> AsyncIterator[Update]:
    """Follow a submitted (or re-attached) job to its end, updating ``run`` and saving it at each change.

    A save the history refuses (a StorageError: busy, full, read-only) does not stop the run: the row is written
    again later (``core/runs/unsaved.py``). An output that cannot be saved ends a run on an engine that can be
    re-attached to (``engine``, fal) as ``unsaved``: the result stays at fal and is saved again on its own."""
    position: int | None = None
    # followed again after its output could not be saved, or after a cancel its engine finished it before: its
    # error (the disk, the cancel) no longer holds once it completes
    stale_error = run.status in ("unsaved", "cancelled")
    try:
        async for event in job.events():
            if isinstance(event, Queued):
                if event.position != position:
                    position = event.position
                    yield Update(run, [events.QueuePosition(position)], "queued")
                continue
            happened: list[events.Event] = []
            if run.status != "running":
                run.status, run.started_at = "running", time.time()
                run.queued_seconds = run.started_at - run.created_at
                save_soft(run, save)
                happened.append(events.Started(run.engine, run.model))
            logs = event.logs if isinstance(event, (InProgress, Completed)) else None  # the statuses that carry logs
            happened += [_log_line(entry) for entry in (logs or [])]
            if isinstance(event, Completed):
                if event.error:
                    raise EngineError(f"{run.engine} reported an error: {event.error}"
                                      f"{f' ({event.error_type})' if event.error_type else ''}",
                                      run.request_id)
                if event.metrics:
                    happened.append(events.Metric(dict(event.metrics)))
                    _started_by(run, event.metrics.get("inference_time"))
                _ran(run)
            if happened:
                yield Update(run, happened, "running")
        yield Update(run, [events.Fetching()], "downloading")
        result = await job.result()
        run.seed = None if ignores_seed(run.engine) else result.get("seed", run.arguments.get("seed"))
        run.timings = dict(result.get("timings") or {})
        try:
            happened = await _keep_output(run, result)
        except StorageError as exc:
            yield _unsaved(run, save, exc, engine)
            return
        run.status, run.finished_at = "completed", time.time()
        if stale_error:
            run.error = None
        if not save_soft(run, save):
            happened.append(events.Note("The output is saved, but the history could not record the run yet; it is "
                                        "written as soon as the database can be."))
        happened.append(events.Done(run.run_seconds or 0.0, run.seed, run.request_id))
        yield Update(run, happened, "done", result)
    except (asyncio.CancelledError, CancelledRun):
        with contextlib.suppress(Exception):
            await asyncio.shield(job.cancel())
        _end(run, save, "cancelled", "Cancelled by the user.")
        raise
    except StudioError as exc:
        yield _failed(run, save, exc)
    except Exception as exc:  # a fault no one foresaw (an engine's bug, a picture Pillow chokes on): the run
        log.exception("Run %s failed unexpectedly", run.id)  # still ends, failed, with words saying so
        yield _failed(run, save, EngineError(unexpected(run, exc), run.request_id))


def unexpected(run: Run, exc: BaseException) -> str:
    """What a run's record says of a fault no one foresaw: the engine and the kind of error (never its message,
    which could quote anything, a key included); the traceback goes to the app's log."""
    return (f"The {run.engine} engine failed unexpectedly ({type(exc).__name__}); the app's log has the details. "
            "Run it again, or report it if it happens again.")


async def follow_request(engine: ResumableEngine, run: Run, save: Callable[[Run], None]) -> AsyncIterator[Update]:
    """Re-attach to ``run.request_id`` on ``engine`` and follow it to its end."""
    yield Update(run, [events.Reattaching(run.request_id or "")], "queued")
    try:
        job = await engine.attach(run.request_id or "", run.arguments)  # callers pass runs that have one
    except StudioError as exc:
        yield Update(run, [events.Failure(str(exc), getattr(exc, "field", None))], "failed")
        return
    async for update in follow(job, run, save, engine):
        yield update


def save_soft(run: Run, save: Callable[[Run], None]) -> bool:
    """Save ``run``; when the history refuses (StorageError), keep the row to be written again later. Saved?"""
    try:
        try:
            save(run)
        except StorageError as exc:  # a full disk: the room set aside for this moment records how the run stands
            if exc.kind not in (storage.DISK_FULL, storage.QUOTA) or not storage.make_room(config.data_dir()):
                raise
            save(run)
    except StorageError as exc:
        log.warning("Run %s could not be saved (%s); it is written again later.", run.id, exc.words)
        unsaved.keep_row(run, save)
        return False
    unsaved.row_saved(run.id)
    return True


def _end(run: Run, save: Callable[[Run], None], status: str, error: str, field: str | None = None) -> None:
    run.status, run.finished_at, run.error, run.error_field = status, time.time(), error, field
    save_soft(run, save)


def _unsaved(run: Run, save: Callable[[Run], None], exc: StorageError,
             engine: Engine | ResumableEngine | None) -> Update:
    """The output of a finished run could not be saved: kept at fal (``unsaved``, saved again on its own) when
    its engine can re-attach to the request, else a failure saying what ran out."""
    if not (run.request_id and isinstance(engine, ResumableEngine)):
        return _failed(run, save, StorageError(f"{exc.message} The run's output was not kept: run it again "
                                               "once the server has room.", exc.kind))
    message = (f"{run.engine} finished this run; {exc.words}, so its result is kept at {run.engine} as request "
               f"{run.request_id} and will be saved when {unsaved.when_freed(exc.kind)} (the app tries again every "
               f"{unsaved.INTERVAL_S:g} s). New paid runs wait until it is saved.")
    run.status, run.finished_at, run.error, run.output_path = "unsaved", None, message, None
    save_soft(run, save)
    unsaved.keep_result(run, lambda: follow_request(engine, run, save), exc)
    return Update(run, [events.Failure(message)], "failed")


def _failed(run: Run, save: Callable[[Run], None], exc: StudioError) -> Update:
    """Record the failure (with the field it names) as the run's end."""
    _end(run, save, "failed", str(exc), getattr(exc, "field", None))
    return Update(run, [events.Failure(str(exc), getattr(exc, "field", None), isinstance(exc, AuthError))],
                  "failed")


def _started_by(run: Run, inference_s: Any) -> None:
    """The engine's own inference time (seconds) says the run began no later than that long ago: a run whose
    first status reached us late (an event loop busy with another page, a sweep's slower polls) must not report
    less time than its inference took, nor more time queued than it waited."""
    if isinstance(inference_s, (int, float)) and inference_s > 0:
        run.started_at = min(run.started_at or time.time(), time.time() - float(inference_s))
        run.queued_seconds = max(0.0, run.started_at - run.created_at)


def _ran(run: Run) -> None:
    """At COMPLETED: the seconds the engine was running it (from IN_PROGRESS; the download comes after)."""
    if run.started_at is not None:
        run.running_seconds = max(0.0, time.time() - run.started_at)


async def execute(engine: Engine, run: Run, image_path: str | None,
                  save: Callable[[Run], None] = lambda run: None, **submit_options: Any) -> AsyncIterator[Update]:
    """Submit ``run`` to ``engine`` and follow it. The run is saved before anything is sent: StorageError, with
    nothing sent, when the history cannot take it."""
    run.input_path = run.input_path or image_path
    try:
        save(run)
    except StorageError as exc:
        raise exc if exc.kind == storage.BUSY else StorageError(
            f"{exc.message} Nothing was sent and nothing was spent.", exc.kind) from None
    yield Update(run, [events.Submitting(engine.name)], "queued")
    try:
        job = await engine.submit(dict(run.arguments), image_path, **submit_options)
    except asyncio.CancelledError:
        _end(run, save, "cancelled", "Cancelled before it was submitted.")
        raise
    except StudioError as exc:
        yield _failed(run, save, exc)
        return
    except Exception as exc:  # a fault no one foresaw: the run ends failed and says so (see ``follow``)
        log.exception("Run %s could not be submitted", run.id)
        yield _failed(run, save, EngineError(unexpected(run, exc)))
        return
    run.request_id = job.request_id
    run.arguments = _recorded_arguments({**run.arguments, **job.arguments})
    save_soft(run, save)
    yield Update(run, [events.Submitted(job.request_id)], "queued")
    async for update in follow(job, run, save, engine):
        yield update
