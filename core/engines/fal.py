"""The fal engine: ``fal-ai/clarity-upscaler`` through ``fal_client.AsyncClient`` (docs/fal-protocol.md).

One engine per key. An input file is uploaded once per content (sha256) and its URL reused; statuses are
fal_client's own ``Queued`` / ``InProgress`` / ``Completed`` carrying only the log lines not yet seen; every
failure becomes a StudioError through :func:`translate`, whose messages never contain the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import threading
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

import fal_client
from fal_client import Completed, FalClientHTTPError, InProgress, Queued, Status

from core import config, schema
from core.engines.base import EngineInfo, EngineSettings
from core.engines.fal_errors import KEYS_URL, NO_KEY, translate
from core.engines.pacing import BACKOFF_FIRST_S, SUBMITS_AT_ONCE, backoff
from core.engines.pacing import current as current_pace
from core.errors import AuthError, CancelledRun, EngineError, EngineTimeoutError, InputError, StudioError

DEFAULT_JOB_TIMEOUT = 1800.0  # seconds for a whole request (queue + run) unless events()/result() say otherwise
_T = TypeVar("_T")


class FalEngine:
    """The hosted endpoint. Use one engine per key; it keeps one ``AsyncClient`` per event loop."""

    name = "fal"

    def __init__(self, key: str, application: str = schema.ENDPOINT, poll_interval: float = 0.1,
                 job_timeout: float | None = DEFAULT_JOB_TIMEOUT, space_key: bool = False) -> None:
        self._key = (key or "").strip()
        if not self._key:
            raise AuthError(NO_KEY)
        self.application = application
        self.space_key = space_key  # a shared app's own key: fal's words about its account stay in the server log
        self.poll_interval = poll_interval
        self.job_timeout = job_timeout
        # httpx clients and tasks belong to one event loop; Gradio has one, tests and threads may have several.
        self._clients: dict[asyncio.AbstractEventLoop, fal_client.AsyncClient] = {}
        self._uploaded: dict[str, str] = {}  # sha256 of the file → fal URL
        self._uploading: dict[str, asyncio.Task[str]] = {}
        self._submit_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self.submit_backoff = BACKOFF_FIRST_S  # the first wait after a 429 on submit

    def __repr__(self) -> str:
        return f"FalEngine(application={self.application!r})"  # never the key

    def translate(self, exc: BaseException, request_id: str | None = None) -> StudioError:
        """:func:`translate` with this engine's key scrubbed (and, for a shared app's own key, what fal says about
        its account replaced by ``ACCOUNT_UNAVAILABLE``)."""
        return translate(exc, key=self._key, request_id=request_id, space_key=self.space_key)

    @property
    def client(self) -> fal_client.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            for closed in [old for old in self._clients if old.is_closed()]:
                del self._clients[closed]  # its connections died with its loop
            self._clients[loop] = fal_client.AsyncClient(key=self._key)
        return self._clients[loop]

    async def upload(self, image_path: str) -> str:
        """The fal URL of this file's content; concurrent and later calls for the same content upload once."""
        try:
            data = await asyncio.to_thread(Path(image_path).read_bytes)
        except OSError as exc:
            raise InputError(f"Cannot read the input image: {exc.strerror or exc}.", "image_url") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._uploaded:
            return self._uploaded[digest]
        loop = asyncio.get_running_loop()
        task = self._uploading.get(digest)
        if task is None or task.get_loop() is not loop:
            name = Path(image_path).name
            task = self._uploading[digest] = loop.create_task(self._upload(data, name, digest))
            task.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved if unawaited
        # shield: one caller giving up must not cancel the upload the others wait for
        return await asyncio.shield(task)

    async def _upload(self, data: bytes, name: str, digest: str) -> str:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        try:
            url = await self.client.upload(data, content_type, file_name=name)
        except Exception as exc:
            raise self.translate(exc) from None
        finally:
            self._uploading.pop(digest, None)
        self._uploaded[digest] = url
        return url

    async def submit(self, arguments: dict[str, Any], image_path: str | None = None,
                     webhook_url: str | None = None) -> FalJob:
        """Send ``arguments`` (``image_url`` filled from ``image_path`` by one upload when it is not https)."""
        sent = dict(arguments)
        url = sent.get("image_url")
        if image_path and not (isinstance(url, str) and url.startswith("https://")):
            sent["image_url"] = await self.upload(image_path)
        try:
            handle = await self._submit(sent, webhook_url)
        except Exception as exc:
            raise self.translate(exc) from None
        return FalJob(self, handle, sent)

    def _slots(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._submit_slots:
            self._submit_slots = {old: slots for old, slots in self._submit_slots.items() if not old.is_closed()}
            self._submit_slots[loop] = asyncio.Semaphore(SUBMITS_AT_ONCE)
        return self._submit_slots[loop]

    async def _submit(self, sent: dict[str, Any], webhook_url: str | None) -> fal_client.AsyncRequestHandle:
        """Submit with at most ``SUBMITS_AT_ONCE`` in flight; a 429 (once fal_client's own retries are
        spent) is waited out with a jittered backoff until the job's timeout, never failing the cell."""
        loop = asyncio.get_running_loop()
        give_up = None if self.job_timeout is None else loop.time() + self.job_timeout
        attempt = 0
        while True:
            async with self._slots():
                try:
                    return await self.client.submit(self.application, sent, webhook_url=webhook_url)
                except FalClientHTTPError as exc:
                    attempt += 1
                    wait = backoff(attempt, self.submit_backoff)
                    if exc.status_code != 429 or (give_up is not None and loop.time() + wait > give_up):
                        raise
            await asyncio.sleep(wait)  # outside the slot: the other cells' submits go on

    async def attach(self, request_id: str, arguments: dict[str, Any] | None = None) -> FalJob:
        """Follow a request submitted earlier (e.g. before a restart) by its id."""
        handle = await self.client.get_handle(self.application, request_id)
        return FalJob(self, handle, dict(arguments or {}))


class FalJob:
    """One request on fal: its id, the arguments sent, its events, result and cancellation."""

    def __init__(self, engine: FalEngine, handle: fal_client.AsyncRequestHandle, arguments: dict[str, Any]) -> None:
        self.request_id: str = handle.request_id
        self.arguments = arguments
        self._engine, self._handle = engine, handle
        self._seen = 0  # log lines already passed on: fal returns the whole log on every poll
        self._completed: Completed | None = None
        self._result: dict[str, Any] | None = None
        self._cancelled = False
        self._pace = current_pace()  # a sweep's pace, or None: the engine's interval (the interactive run)
        self._running_since: float | None = None

    def _interval(self, status: Status) -> float:
        """Seconds before the next poll after ``status``."""
        if self._pace is None:
            return self._engine.poll_interval
        if isinstance(status, Queued):
            return self._pace.interval(None, status.position)
        now = asyncio.get_running_loop().time()
        self._running_since = self._running_since or now
        return self._pace.interval(now - self._running_since)

    def _deadline(self, timeout: float | None) -> tuple[float | None, float | None]:
        timeout = self._engine.job_timeout if timeout is None else timeout
        return (None, None) if timeout is None else (asyncio.get_running_loop().time() + timeout, timeout)

    async def _call(self, awaitable: Awaitable[_T], deadline: tuple[float | None, float | None]) -> _T:
        """Await one fal call within the job's deadline, translating every failure. (asyncio.timeout: on Python
        3.11 wait_for swallows a cancel that meets a reply, and a cancelled job then polled for ever.)"""
        if self._cancelled:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise CancelledRun(f"Cancelled; fal was asked to stop request {self.request_id}.")
        at, total = deadline
        remaining = None if at is None else max(0.0, at - asyncio.get_running_loop().time())
        try:
            async with asyncio.timeout(remaining):
                return await awaitable
        except TimeoutError as exc:
            if at is None or asyncio.get_running_loop().time() < at:  # a timeout inside fal_client, not ours
                raise self._engine.translate(exc, self.request_id) from None
            raise EngineTimeoutError(f"fal did not finish request {self.request_id} within {total:g} s. It may "
                                     f"still be running; resume or cancel it by its id.", self.request_id) from None
        except StudioError:
            raise
        except Exception as exc:
            raise self._engine.translate(exc, self.request_id) from None

    def _fresh(self, logs: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        if not logs:
            return []
        new = list(logs[self._seen:])
        self._seen = max(self._seen, len(logs))
        return new

    async def _poll(self, deadline: tuple[float | None, float | None]) -> AsyncIterator[Status]:
        while True:
            status = await self._call(self._handle.status(with_logs=True), deadline)
            if isinstance(status, Completed):
                self._completed = status
                yield Completed(logs=self._fresh(status.logs), metrics=status.metrics or {},
                                error=status.error, error_type=status.error_type)
                return
            yield InProgress(logs=self._fresh(status.logs)) if isinstance(status, InProgress) else status
            await self._call(asyncio.sleep(self._interval(status)), deadline)

    async def events(self, timeout: float | None = None) -> AsyncIterator[Status]:
        """Queued / InProgress / Completed in order, with new log lines only; Completed may carry ``error``.

        ``timeout`` bounds the whole wait (default: the engine's ``job_timeout``) → EngineTimeoutError.
        """
        async for status in self._poll(self._deadline(timeout)):
            yield status
        if self._cancelled:
            raise CancelledRun(f"Cancelled; fal was asked to stop request {self.request_id}.")

    async def result(self, timeout: float | None = None) -> dict[str, Any]:
        """The endpoint's output (docs/fal-protocol.md, "Output"), after completion; an error fal reported raises."""
        if self._result is not None:
            return self._result
        deadline = self._deadline(timeout)
        if self._completed is None:
            async for _ in self._poll(deadline):
                pass
        assert self._completed is not None
        if self._completed.error:
            kind = f" ({self._completed.error_type})" if self._completed.error_type else ""
            raise self._engine.translate(
                EngineError(f"fal reported an error: {self._completed.error}{kind}", self.request_id))
        self._result = await self._call(self._handle.get(interval=self._engine.poll_interval), deadline)
        return self._result

    async def cancel(self) -> None:
        """Ask fal to stop the request; a request already finished or gone is not an error."""
        self._cancelled = True
        try:
            await self._handle.cancel()
        except FalClientHTTPError as exc:
            try:
                word = exc.response.json().get("status")
            except (ValueError, AttributeError):
                word = None
            if word not in ("ALREADY_COMPLETED", "NOT_FOUND") and exc.status_code != 404:
                raise self._engine.translate(exc, self.request_id) from None
        except Exception as exc:
            raise self._engine.translate(exc, self.request_id) from None


DEFAULT_SWEEP_CONCURRENCY: int | None = None  # no ceiling: every cell goes to fal's queue, which schedules them
_engines: dict[str, FalEngine] = {}  # one fal client per key, found by the key's hash (never the key itself)
_lock = threading.Lock()


def fal_job_timeout(default: float) -> float | None:
    """Seconds a fal request may take, queue included: ``CLARITY_FAL_TIMEOUT`` (0 = no limit), else ``default``."""
    seconds = config.number("CLARITY_FAL_TIMEOUT", default)
    return seconds if seconds > 0 else None


def _runs_at_once() -> int | None:
    """``CLARITY_SWEEP_CONCURRENCY`` as an optional ceiling on fal cells in flight; unset, empty or 0: none."""
    ceiling = config.whole("CLARITY_SWEEP_CONCURRENCY", 0)
    return ceiling if ceiling > 0 else DEFAULT_SWEEP_CONCURRENCY


def _stated_concurrency() -> int | None:
    """``CLARITY_FAL_CONCURRENCY``: the account's concurrency limit as its owner knows it (fal does not report it);
    unset, 0 or not a whole number: None (inferred from the requests seen IN_PROGRESS at once)."""
    stated = config.whole("CLARITY_FAL_CONCURRENCY", 0)
    return stated if stated > 0 else None


def info() -> EngineInfo:
    """fal's descriptor: every parameter counts, priced at fal's published rate, needs a key. Read per call: its
    ceiling follows ``CLARITY_SWEEP_CONCURRENCY`` (none by default: fal's queue schedules every cell) and the
    account's concurrency ``CLARITY_FAL_CONCURRENCY`` (unset: inferred by the estimates)."""
    return EngineInfo("fal", "fal (hosted clarity-upscaler)", (), schema.PRICE_PER_MEGAPIXEL,
                      frozenset(f.name for f in schema.PARAMETER_FIELDS), webhooks=True, resumable_by_request_id=True,
                      runs_at_once=_runs_at_once(), needs_key=True, fetches_urls=True,
                      blurb="fal runs the hosted clarity-upscaler", stated_concurrency=_stated_concurrency())


def make(settings: EngineSettings) -> FalEngine:
    """The fal engine for ``settings.key`` (typed in, or ``FAL_KEY``): one per key, kept until ``forget``;
    AuthError without a key."""
    key = settings.key
    if not key:
        raise AuthError("No fal key: set FAL_KEY, type a key in the Engine panel, or use the local engine. "
                        "Keys are made at https://fal.ai/dashboard/keys.")
    digest = hashlib.sha256(key.encode()).hexdigest()
    with _lock:
        engine = _engines.get(digest)
        if engine is None:
            engine = _engines[digest] = FalEngine(key)
        engine.space_key = engine.space_key or settings.space_key  # once strangers use it, they are told less
        engine.job_timeout = fal_job_timeout(DEFAULT_JOB_TIMEOUT)  # read per call: the engine is kept per key
    return engine


def forget(key: str | None) -> bool:
    """Drop the engine (and so the client holding ``key``) made for a typed key; True if there was one."""
    if not key:
        return False
    with _lock:
        return _engines.pop(hashlib.sha256(key.encode()).hexdigest(), None) is not None


__all__ = ["KEYS_URL", "Completed", "FalEngine", "FalJob", "InProgress", "Queued", "forget", "info", "make",
           "translate"]
