"""Per-visitor limits in a shared app: how many runs or sweeps one visitor may have going at once.

Keyed by owner id, so one visitor's count never blocks another, and for anonymous visitors also by network
address, so opening more sessions does not multiply the limit; every refusal names the limit and its value.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from core import config
from core.errors import InputError

_active: dict[str, int] = {}
_lock = threading.Lock()


@contextmanager
def job_slot(keys: str | tuple[str, ...]) -> Iterator[None]:
    """Hold one job slot on each key (an owner, a client address) for the duration; InputError, holding nothing,
    when any of them has none left."""
    keys = (keys,) if isinstance(keys, str) else tuple(dict.fromkeys(keys))
    limit = config.max_jobs_per_visitor()
    with _lock:
        full = next((key for key in keys if limit and _active.get(key, 0) >= limit), None)
        if full is not None:
            who = ("from your network address, which anonymous visitors share" if full.startswith("address:")
                   else "for you")
            raise InputError(f"There are already {_active[full]} runs or sweeps going {who}; the limit per visitor "
                             f"is {limit} (CLARITY_MAX_JOBS_PER_VISITOR). Wait for one to finish or cancel it.", None)
        for key in keys:
            _active[key] = _active.get(key, 0) + 1
    try:
        yield
    finally:
        with _lock:
            for key in keys:
                _active[key] -= 1
                if not _active[key]:
                    del _active[key]


_starts: dict[str, deque[float]] = {}


def check_rate(keys: tuple[str, ...]) -> None:
    """Count one run (or sweep) started now against each key; InputError with the time to wait when a key has
    started ``CLARITY_RUNS_PER_MINUTE`` in the last 60 seconds (nothing is counted then)."""
    limit = config.runs_per_minute()
    if not limit:
        return
    now = time.monotonic()
    with _lock:
        for key in keys:
            started = _starts.setdefault(key, deque())
            while started and now - started[0] >= 60:
                started.popleft()
            if len(started) >= limit:
                wait = math.ceil(60 - (now - started[0]))
                raise InputError(f"You have started {limit} runs in the last minute; the limit is {limit} a minute "
                                 f"(CLARITY_RUNS_PER_MINUTE). Try again in {wait} s.", None)
        for key in keys:
            _starts[key].append(now)


def active(key: str) -> int:
    """How many slots the key (an owner, or ``address:<ip>``) holds now."""
    with _lock:
        return _active.get(key, 0)
