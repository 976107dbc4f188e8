"""What the machine could not keep yet, kept in memory and saved again on its own.

Two things wait here:

- **results**: runs an engine that re-attaches to requests by id (fal) finished, whose output could not be saved
  (the disk full, a quota, a read-only data directory). The result stays at fal under its request id; the run is
  ``unsaved`` (in the history too, when the history could take that much, so a restart resumes it as well).
- **rows**: runs whose last state the history refused (busy beyond its timeout, full, read-only); the run itself
  went on, and its row is written again.

:func:`save_again` tries both — the result through the same re-attach path as the resume after a restart
(``core/runs/resume.py``) — and is called every ``INTERVAL_S`` seconds while the app runs (:func:`keep_saving`)
and before the next paid run (``core/usecases/admission.py``: ``admit_paid_work``), which is refused while a
result still waits (:func:`waiting`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from core import storage
from core.runs.runs import Run

INTERVAL_S = 30.0
log = logging.getLogger(__name__)
Save = Callable[[Run], None]


@dataclass
class _Result:
    run: Run
    again: Callable[[], AsyncIterator[Any]]  # re-attaches to the run's request and follows it to its end, saving
    kind: str  # what ran out (core/storage.py)


_results: dict[str, _Result] = {}
_rows: dict[str, tuple[Run, Save]] = {}
_lock = threading.Lock()
_retrying: threading.Thread | None = None


def when_freed(kind: str) -> str:
    """What has to change before a result can be saved ("space is freed"), for a kind of core/storage.py."""
    return {storage.READ_ONLY: "the data directory is writable again",
            storage.BUSY: "the history database is free again",
            storage.DAMAGED: "the history database is repaired",
            storage.TOO_MANY_FILES: "files are free again"}.get(kind, "space is freed")


def keep_result(run: Run, again: Callable[[], AsyncIterator[Any]], exc: storage.StorageError) -> None:
    """Remember a finished result that could not be saved, to save it again by ``again()``: the runner's
    re-attach to the request on its engine (with its own key), followed to its end."""
    with _lock:
        _results[run.id] = _Result(run, again, exc.kind)


def keep_row(run: Run, save: Save) -> None:
    """Remember a run whose row the history refused, to write it again."""
    with _lock:
        _rows[run.id] = (run, save)


def row_saved(run_id: str) -> None:
    """The run's row was written: nothing waits for it any more."""
    if run_id in _rows:
        with _lock:
            _rows.pop(run_id, None)


def waiting() -> list[Run]:
    """The runs whose finished result is not saved yet (oldest first)."""
    with _lock:
        return [kept.run for kept in _results.values()]


def reason() -> str | None:
    """What keeps the oldest waiting result from being saved, as a clause ("the server's disk is full"), or None."""
    with _lock:
        first = next(iter(_results.values()), None)
    return storage.WORDS[first.kind] if first else None


def forget_all() -> None:
    """Drop everything waiting (for tests, and a data directory that changed)."""
    with _lock:
        _results.clear()
        _rows.clear()


async def save_again() -> int:
    """Write the waiting rows, then fetch and save each waiting result again (re-attached by request id); returns
    how many results still wait. Never raises for what ran out."""
    with _lock:
        rows, results = list(_rows.values()), list(_results.values())
    for run, save in rows:
        try:
            save(run)
        except storage.StorageError:
            continue
        row_saved(run.id)
    for kept in results:
        try:
            async for _update in kept.again():
                pass
        except Exception:  # one result failing to come back must not stop the others; it waits for next time
            log.exception("Saving the result of run %s again failed", kept.run.id)
            continue
        if kept.run.status != "unsaved":  # completed, or fal no longer has it (failed, with the reason saved)
            with _lock:
                if _results.get(kept.run.id) is kept:
                    del _results[kept.run.id]
            log.info("Run %s (request %s) is saved: %s", kept.run.id, kept.run.request_id, kept.run.status)
    with _lock:
        left = len(_results) + len(_rows)
    if not left:
        from core import config

        storage.keep_room(config.data_dir())  # set aside again, for the next time the disk fills
    return len(_results)


_interval = INTERVAL_S
_wake = threading.Event()


def keep_saving(interval: float = INTERVAL_S) -> threading.Thread:
    """Call :func:`save_again` every ``interval`` seconds on a thread of its own (one per process; a later call
    changes its interval)."""
    global _retrying, _interval
    with _lock:
        _interval = interval
        _wake.set()  # a thread waiting out the old interval starts on the new one
        if _retrying is not None and _retrying.is_alive():
            return _retrying

        def work() -> None:
            while True:
                _wake.wait(_interval)
                _wake.clear()
                with _lock:
                    idle = not _results and not _rows
                if idle:
                    continue
                try:
                    asyncio.run(save_again())
                except Exception:  # the loop must outlive any one failure
                    log.exception("Saving unsaved runs again failed")

        _retrying = threading.Thread(target=work, name="clarity-unsaved", daemon=True)
        _retrying.start()
        return _retrying
