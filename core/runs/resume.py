"""Follow fal requests by id: after a restart (every pending run) or for a tab that was closed (one id).

A paid result is never lost: runs left ``queued``/``running`` (or ``unsaved``: finished, output not saved) on
fal are re-attached with ``AsyncClient.get_handle`` and followed to completion through the same path as a fresh
run. Local runs die with the process, so they are marked ``interrupted`` (the history offers a retry).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.engines import ENGINES, resumable_engines
from core.runs.runner import follow_request
from core.runs.runs import Run

if TYPE_CHECKING:
    from core.engines.base import ResumableEngine
    from core.runs.history import History

log = logging.getLogger(__name__)


async def resume_pending(history: History, engine_for: Callable[[Run], ResumableEngine | None]) -> dict[str, int]:
    """Follow every pending fal run to its end; mark pending local runs interrupted. Returns counts."""
    resumable = resumable_engines()
    interrupted = sum(history.mark_interrupted(name) for name in ENGINES if name not in resumable)
    waiting = [run for name in resumable for run in history.pending(name)]
    pending = [run for run in waiting if run.request_id]
    orphans = [run for run in waiting if not run.request_id]
    for run in orphans:  # never reached fal (no request id): nothing to re-attach to, and nothing was paid
        run.status, run.error = "interrupted", "The app stopped before the request reached fal."
        history.save(run)

    async def one(run: Run) -> str:
        engine = engine_for(run)
        if engine is None:
            return "waiting"
        async for _update in follow_request(engine, run, history.save):
            pass
        return run.status

    outcomes = await asyncio.gather(*(one(run) for run in pending), return_exceptions=True)
    counts = {"interrupted": interrupted + len(orphans), "resumed": len(pending)}
    for outcome in outcomes:
        key = outcome if isinstance(outcome, str) else "errors"
        counts[key] = counts.get(key, 0) + 1
    return counts


def resume_in_background(history: History, engine_for: Callable[[Run], ResumableEngine | None]
                         ) -> threading.Thread:
    """Run :func:`resume_pending` on its own thread and event loop, so start-up does not wait for fal."""

    def work() -> None:
        try:
            counts = asyncio.run(resume_pending(history, engine_for))
            log.info("Resumed pending runs: %s", counts)
        except Exception:  # a failure to resume must never stop the app; the runs stay pending for next time
            log.exception("Resuming pending runs failed")

    thread = threading.Thread(target=work, name="clarity-resume", daemon=True)
    thread.start()
    return thread
