"""What is running in this process, by run id or sweep id: the task that runs it, so a script can cancel it by
id from another connection (``control.cancel``). A use case marks what it runs with ``going(id)``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

_GOING: dict[str, asyncio.Task[object]] = {}


@contextlib.contextmanager
def going(key: str) -> Iterator[None]:
    """Mark the current task as running ``key`` (a run id or sweep id) for as long as the block lasts."""
    task = asyncio.current_task()
    if task is None:
        yield
        return
    _GOING[key] = task
    try:
        yield
    finally:
        if _GOING.get(key) is task:
            del _GOING[key]


def task_of(key: str) -> asyncio.Task[object] | None:
    """The task running ``key`` here, or None (ended, or not started in this process)."""
    task = _GOING.get(key)
    return task if task is not None and not task.done() else None
