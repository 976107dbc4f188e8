"""The local engine: Real-ESRGAN on the CPU through ncnn, behind the same seam as fal.

One worker per process (the CPU is the shared resource, not per-user data): a daemon thread takes jobs from
a FIFO, so extra jobs report ``Queued(position=n)`` (0 = next) as the queue moves. A running job logs one
line per tile and stops between tiles when cancelled. The worker thread, not the submitting event loop,
runs the work, so any number of event loops and threads (Gradio runs handlers in several) can submit, listen
and cancel; events are handed over through a lock and ``call_soon_threadsafe`` wake-ups.

DEFAULT_MODEL is "fast" (Real-ESRGAN AnimeVideo v3). Measured on this 2-core machine, quiet, 2026-11-29 (a 256²
photo at 4×, bench/cpu_efficiency.py gives the same): about 0.2–0.7 s per output megapixel (0.2 s with the 4×
network, 0.7 s with the 2× one) against about 7 s for x4plus. Looked at side by side on
``skimage.data.astronaut()`` crops: both are clearly crisper than Lanczos (eyes, teeth, the helmet rim); x4plus
keeps skin and hair more natural, the fast net flattens them slightly into smooth strokes, most visibly at 4×. For
a local stand-in used to try settings and sweeps, 30× faster wins; "quality" is one choice away for a final one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from core import config, pnginfo, storage
from core.engines.base import Completed, EngineInfo, EngineSettings, InProgress, Queued, Status
from core.engines.realesrgan import MODELS, THREADS, tile_count, upscale
from core.errors import CancelledRun, EngineError, InputError
from core.inputs import images
from core.schema import FIELD_BY_NAME, output_size

DEFAULT_MODEL = "fast"
LOG_INTERVAL_S = 0.2  # tile lines are handed out in batches at most this often (see LocalJob.events)


def _log(message: str, level: str = "INFO") -> dict[str, Any]:
    """A log entry shaped like fal's, so the console treats both engines alike."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"message": message, "level": level, "source": "USER", "timestamp": stamp}


class LocalJob:
    """One local run. Its state is written by the worker thread and read from any event loop."""

    def __init__(self, request_id: str, arguments: dict[str, Any], input_path: str, size: tuple[int, int],
                 model: str, tile: int, overlap: int) -> None:
        self.request_id = request_id
        self.arguments = arguments
        self.model = model
        self.input_path = input_path
        self.input_size = size
        self.decoded: Image.Image | None = None  # the input as submit decoded it, when it starts at once
        self.tile, self.overlap = tile, overlap
        self.seed: int | None = None  # Real-ESRGAN has no randomness: no seed is used (the one asked for is recorded)
        self._lock = threading.Lock()
        self._events: list[Status] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._finished = False
        self._cancel = threading.Event()
        self._output: dict[str, Any] | None = None
        self._error: str | None = None

    # --- written by the worker thread -------------------------------------------------------------
    def _push(self, event: Status | None, finished: bool = False) -> None:
        with self._lock:
            if event is not None:
                self._events.append(event)
            self._finished = self._finished or finished
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is listening there
                loop.call_soon_threadsafe(_wake, future)

    def _execute(self) -> None:
        if self._cancel.is_set():
            self._push(None, finished=True)
            return
        info = MODELS[self.model]
        width, height = self.input_size
        factor = float(self.arguments.get("upscale_factor", FIELD_BY_NAME["upscale_factor"].default))
        out_w, out_h = output_size(width, height, factor)
        tiles = tile_count(width, height, self.tile, self.overlap)
        self._push(InProgress(logs=[_log(f"Local engine, {info.label}: {width}×{height} → {out_w}×{out_h} "
                                         f"in {tiles} tiles on {THREADS} CPU threads")]))
        try:
            image, self.decoded = self.decoded, None
            if image is None:  # waited in the queue: decoded now, not held in memory all that time
                image = images.decode(Path(self.input_path).read_bytes(), "The input image")
            started = time.perf_counter()
            result = upscale(image, factor, self.model, self.tile, self.overlap,
                             on_tile=self._tile_done, should_cancel=self._cancel.is_set)
            inference = time.perf_counter() - started
            self._output = self._save(result, inference)
        except CancelledRun:
            self._push(None, finished=True)
            return
        except Exception as exc:  # the run failed: report it like fal does, in the final status
            self._error = f"The local engine failed: {exc}"
            self._push(Completed(logs=[_log(self._error, "ERROR")], metrics={}, error=self._error,
                                 error_type="local_engine_error"), finished=True)
            return
        self._push(Completed(logs=[], metrics={"inference_time": round(inference, 3)}), finished=True)

    def _tile_done(self, done: int, total: int) -> None:
        self._push(InProgress(logs=[_log(f"tile {done}/{total} done")]))

    def _save(self, result: Image.Image, inference: float) -> dict[str, Any]:
        folder = config.data_dir() / "outputs"
        path = folder / f"{self.request_id}.png"
        partial = path.with_suffix(".part")  # written whole, then renamed: a reader never sees half a PNG
        # Encoded once, here (the runner only checks its chunks). Level 1 was ~4× faster than level 6; with zlib's
        # run-length strategy (matches at distance 1, what PNG's filtered rows offer) it is another ~10 % faster
        # and ~15 % smaller on photos (1024² fast-model outputs: 59 vs 66 ms, 1.25 vs 1.48 MB; level 6: 260 ms,
        # 1.29 MB), and as small as plain level 1 on flat graphics (Huffman-only coding was 3× larger there).
        # A full disk or a read-only folder: a StorageError saying so, and no half-written file left behind.
        with storage.writing("save the output"), storage.removed_on_failure(partial):
            folder.mkdir(parents=True, exist_ok=True)
            pnginfo.write_png(result, partial, {"arguments": self.arguments, "seed": self.seed, "engine": "local",
                                                "request_id": self.request_id, "model": self.model},
                              compress_level=1, compress_type=zlib.Z_RLE)
            partial.replace(path)
        return {"image": {"url": str(path), "content_type": "image/png", "file_name": path.name,
                          "file_size": path.stat().st_size, "width": result.width, "height": result.height},
                "seed": self.seed, "timings": {"inference": round(inference, 3)}}

    # --- read from any event loop ---------------------------------------------------------------
    async def _wait_for_news(self, seen: int, timeout: float = 1.0) -> None:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            if len(self._events) > seen or self._finished:
                return
            self._waiters.append((loop, future))
        # The timeout: held log lines fall due, or a safety net (wake-ups come through call_soon_threadsafe).
        await asyncio.wait({future}, timeout=max(0.0, timeout))

    async def events(self) -> AsyncIterator[Status]:
        """Queued → InProgress → Completed; once cancelled, raises CancelledRun as the fal engine does (unless the
        run had already completed).

        Tile lines go out at most every ``LOG_INTERVAL_S``, several per InProgress: each status is a handler step
        (a Gradio update, a console re-render); one per tile, 25/s, took CPU from the engine (bench/local_overhead).
        Other statuses, and the lines before them, go out at once."""
        seen, held, last = 0, [], -LOG_INTERVAL_S
        while True:
            with self._lock:
                batch, finished = self._events[seen:], self._finished
            for event in batch:
                if self._cancel.is_set():
                    break
                seen += 1
                if isinstance(event, InProgress):
                    held += event.logs or []
                    continue
                if held:
                    yield InProgress(logs=held)
                    held = []
                yield event
            if self._cancel.is_set() and self._output is None:
                raise CancelledRun("The run was cancelled; the local engine stopped it.")
            if self._cancel.is_set():
                return
            due = last + LOG_INTERVAL_S
            if held and (finished or time.monotonic() >= due):
                yield InProgress(logs=held)
                held, last = [], time.monotonic()
            if finished:  # read with its batch: every status has been handed out
                return
            if not batch or held:
                await self._wait_for_news(seen, due - time.monotonic() if held else 1.0)

    async def result(self) -> dict[str, Any]:
        """The endpoint's output shape with ``image.url`` the absolute path of the PNG."""
        while not self._finished and not self._cancel.is_set():
            with self._lock:
                seen = len(self._events)
            await self._wait_for_news(seen)
        if self._cancel.is_set() and self._output is None:
            raise CancelledRun("The run was cancelled.")
        if self._output is None:
            raise EngineError(self._error or "The local engine stopped without a result.", self.request_id)
        copy: dict[str, Any] = json.loads(json.dumps(self._output))  # a copy the caller may change
        return copy

    async def cancel(self) -> None:
        """Leave the queue, or stop the running upscale before its next tile. No-op once finished."""
        if self._finished:
            return
        self._cancel.set()
        if _WORKER.withdraw(self):
            self._push(None, finished=True)
        else:
            self._push(None)  # wake listeners so events() and result() see the cancel now


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Worker:
    """The per-process FIFO and its single daemon thread."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._pending: deque[LocalJob] = deque()
        self._thread: threading.Thread | None = None

    def enqueue(self, job: LocalJob) -> None:
        limit = config.max_queue()
        with self._condition:
            if limit and len(self._pending) >= limit:
                raise EngineError(f"The local engine's queue is full: {len(self._pending)} runs are waiting and "
                                  f"the limit is {limit} (CLARITY_MAX_QUEUE). Try again in a moment.")
            self._pending.append(job)
            job._push(Queued(position=len(self._pending) - 1))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="local-engine-worker", daemon=True)
                self._thread.start()
            self._condition.notify()

    def idle(self) -> bool:  # nothing waits: a job submitted now starts next (read unlocked: at worst, decoded twice)
        return not self._pending

    def withdraw(self, job: LocalJob) -> bool:
        """Remove a job that has not started; False if it is running or done."""
        with self._condition:
            if job not in self._pending:
                return False
            self._pending.remove(job)
            self._announce()
            return True

    def _announce(self) -> None:  # called with the condition held
        for position, waiting in enumerate(self._pending):
            waiting._push(Queued(position=position))

    def _loop(self) -> None:
        while True:
            with self._condition:
                while not self._pending:
                    self._condition.wait()
                job = self._pending.popleft()
                self._announce()
            try:
                job._execute()
            except BaseException:  # never let one job kill the worker; _execute reports its own errors
                job._push(None, finished=True)


_WORKER = _Worker()


class LocalEngine:
    """Real-ESRGAN on this machine's CPU; one job at a time per process."""

    name = "local"

    def __init__(self, model: str = DEFAULT_MODEL, tile: int | None = None, overlap: int | None = None) -> None:
        if model not in MODELS:
            raise ValueError(f"Unknown local model {model!r}; choose from {', '.join(MODELS)}.")
        info = MODELS[model]
        self.model = model
        self.tile, self.overlap = tile or info.tile, info.overlap if overlap is None else overlap

    async def submit(self, arguments: dict[str, Any], image_path: str | None = None) -> LocalJob:
        """Queue a run on ``image_path``, or on ``arguments["image_url"]`` (data URI or https)."""
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
        job = LocalJob("local-" + uuid.uuid4().hex, dict(arguments), str(image_path), image.size,
                       self.model, self.tile, self.overlap)
        if _WORKER.idle():  # it starts at once: no need to decode the file a second time
            job.decoded = image
        _WORKER.enqueue(job)
        return job


def _read_image(path: str | Path) -> Image.Image:
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise InputError("The input image could not be read.", "image") from None
    return images.decode(data, "The input image")


def default_model() -> str:
    """``CLARITY_LOCAL_MODEL`` when it names a model, else ``DEFAULT_MODEL``."""
    chosen = os.environ.get("CLARITY_LOCAL_MODEL", "").strip()
    return chosen if chosen in MODELS else DEFAULT_MODEL


def info() -> EngineInfo:
    """The local engine's descriptor: free, one run at a time, a model choice (``CLARITY_LOCAL_MODEL`` the
    default); no diffusion pass, so only the factor changes the picture (the seed too is only recorded: a run
    uses none)."""
    return EngineInfo("local", "local (Real-ESRGAN on this CPU)", tuple(MODELS), 0.0,
                      frozenset({"upscale_factor"}), webhooks=False, resumable_by_request_id=False,
                      runs_at_once=1, model_label="Local model",
                      model_choices=tuple((model.label, name) for name, model in MODELS.items()),
                      default_model=default_model(), blurb="local runs Real-ESRGAN on this CPU")


def make(settings: EngineSettings) -> LocalEngine:
    """Real-ESRGAN with ``settings.model`` (``DEFAULT_MODEL`` when none); ValueError for an unknown model."""
    return LocalEngine(settings.model or default_model())

