"""fal's account concurrency limit, played: at most ``limit`` requests are IN_PROGRESS at once; the others wait
IN_QUEUE in the order they came, their ``queue_position`` counting down as slots free. fal never refuses a
request for this (docs/fal-protocol.md, "The queue"); only running requests count against the limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from testsupport.fal_server.jobs import Job

TICK_S = 0.01  # how often a free slot is handed on when nobody polls (fal starts the next request at once)


def schedule(jobs: Iterable[Job], limit: int | None) -> int:
    """Advance every unfinished job (call under the server's lock) and hand free slots to the oldest waiting
    ones; returns how many are IN_PROGRESS. With ``limit`` None every job may start (no account limit)."""
    live = sorted((job for job in jobs if job.status != "COMPLETED"), key=lambda job: job.created)
    for job in live:
        if job.status == "IN_PROGRESS":
            job.advance(answering=False)
    taken = sum(job.status == "IN_PROGRESS" for job in live)
    waiting = 0
    for job in live:
        if job.status != "IN_QUEUE":
            continue
        job.may_start = limit is None or taken < limit
        job.ahead = 0 if limit is None else waiting
        job.advance(answering=False)
        if job.may_start and job.status != "COMPLETED":
            taken += 1  # its slot, whether it started now or waits for its own scripted queue time
        elif job.status == "IN_QUEUE":
            waiting += 1
    return sum(job.status == "IN_PROGRESS" for job in live)


class Ticker:
    """Runs ``tick`` every TICK_S seconds in a daemon thread until stopped."""

    def __init__(self, tick: Callable[[], None]) -> None:
        self._tick, self._stop = tick, threading.Event()
        self._thread = threading.Thread(target=self._run, name="fal-test-account", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            self._tick()

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
