"""A run followed as a page or a script follows it: in a task of its own, caught once it is running; a sweep or
a retry followed to its end."""

from __future__ import annotations

import asyncio
from typing import Any

from core.sharing.visitor import Visitor
from core.usecases import RetryRequest, RunRequest, SweepRequest, retry_cells, run_one, run_sweep


async def follow_until_running(request: RunRequest, visitor: Visitor) -> tuple[asyncio.Future[None], Any]:
    """Start following ``run_one(request, visitor)`` in a task (the follower: an /upscale call, an Upscale
    event); return that task and the Run once the engine says it is running."""
    seen: dict[str, Any] = {}

    async def follow() -> None:
        async for update in run_one(request, visitor):
            seen["run"] = update.run
            if update.stage == "running":
                seen["running"] = True

    task = asyncio.ensure_future(follow())
    while "running" not in seen:
        if task.done():
            task.result()  # a refusal or a failure before it ran: raised here
            raise AssertionError("the run ended before it was running")
        await asyncio.sleep(0.05)
    return task, seen["run"]


def swept(request: SweepRequest, visitor: Visitor) -> str:
    """Run the sweep to its end, as its follower does; its sweep id."""
    async def follow() -> str:
        last = None
        async for progress in run_sweep(request, visitor):
            last = progress
        assert last is not None and last.finished
        return last.plan.id

    return asyncio.run(follow())


def retried(request: RetryRequest, visitor: Visitor) -> None:
    """Retry a sweep's unfinished cells to the end, as its follower does."""
    async def follow() -> None:
        async for _ in retry_cells(request, visitor):
            pass

    asyncio.run(follow())
