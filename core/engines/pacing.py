"""How hard the app leans on fal's queue: how often a request is polled, and how submits go out.

fal_client polls every 0.1 s. That suits the one interactive run on the Upscale tab (its console streams), but a
sweep of 100 cells polling like that is 1,000 status requests a second. A sweep therefore runs under
:data:`SWEEP` (``with paced(SWEEP)``; jobs submitted inside keep it): cells waiting in fal's queue are polled at
most once a second (less often the further back they are), running cells at most four times a second, and a
long job less often as it goes on. Anything submitted outside ``paced`` keeps the engine's own interval.

Submits go out a few at a time (:data:`SUBMITS_AT_ONCE`), and a 429 on submit is waited out with a jittered
backoff (:func:`backoff`) instead of failing the cell: fal never rejects requests for concurrency (requests over
the account's limit wait in its queue), so a 429 only asks the app to slow down.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

SUBMITS_AT_ONCE = 4  # submit requests in flight per engine and event loop
BACKOFF_FIRST_S, BACKOFF_LONGEST_S = 0.5, 30.0


@dataclass(frozen=True)
class Pace:
    """Seconds between status polls, by state."""

    queued: float  # at the head of fal's queue
    per_place: float  # added per place further back
    queued_longest: float
    running: float  # at the start of a run
    running_share: float  # later: this share of the time it has been running…
    running_longest: float  # …up to this

    def interval(self, running_for: float | None, position: int | None = None) -> float:
        """The wait before the next poll: ``running_for`` None while queued (at ``position``, 0 = next)."""
        if running_for is None:
            return min(self.queued_longest, self.queued + self.per_place * max(0, position or 0))
        return min(self.running_longest, max(self.running, running_for * self.running_share))


SWEEP = Pace(queued=1.0, per_place=0.05, queued_longest=3.0, running=0.25, running_share=0.05, running_longest=2.0)
_current: ContextVar[Pace | None] = ContextVar("clarity_poll_pace", default=None)


def current() -> Pace | None:
    """The pace jobs submitted now are polled at; None: the engine's own interval (the interactive run)."""
    return _current.get()


@contextmanager
def paced(pace: Pace) -> Iterator[None]:
    """Jobs submitted inside this block (and in tasks it starts) are polled at ``pace``."""
    token = _current.set(pace)
    try:
        yield
    finally:
        _current.reset(token)


def backoff(attempt: int, first: float = BACKOFF_FIRST_S) -> float:
    """Seconds to wait before retry ``attempt`` (1-based) of a submit fal answered 429: doubling, jittered ±50 %."""
    return float(min(BACKOFF_LONGEST_S, first * 2 ** min(attempt - 1, 16) * random.uniform(0.5, 1.5)))
