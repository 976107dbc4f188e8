"""Per-visitor limits in a shared app: how many runs or sweeps one visitor may have going at once.

Keyed by owner id, so one visitor's count never blocks another; every refusal names the limit and its value.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from core import config
from core.errors import InputError

_active: dict[str, int] = {}
_lock = threading.Lock()


@contextmanager
def job_slot(owner: str) -> Iterator[None]:
    """Hold one of the owner's job slots for the duration; InputError when they have none left."""
    limit = config.max_jobs_per_visitor()
    with _lock:
        if limit and _active.get(owner, 0) >= limit:
            raise InputError(f"You already have {_active[owner]} runs or sweeps going; the limit per visitor is "
                             f"{limit} (CLARITY_MAX_JOBS_PER_VISITOR). Wait for one to finish or cancel it.", None)
        _active[owner] = _active.get(owner, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _active[owner] -= 1
            if not _active[owner]:
                del _active[owner]


def active(owner: str) -> int:
    """How many slots the owner holds now."""
    with _lock:
        return _active.get(owner, 0)
