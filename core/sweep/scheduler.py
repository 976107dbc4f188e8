"""Running a plan's cells concurrently: at most ``concurrency`` at once, one result or one exception per cell,
cancellation kept apart per cell and for the whole sweep, and retrying the failed ones.

It knows nothing about engines or history: the caller injects ``run_cell`` (one engine call; see
``core.sweep.sweep_run``, which runs each cell as a history run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TypeVar

from core.errors import CancelledRun, InputError
from core.sweep.plan import Cell, CellKey, SweepPlan

log = logging.getLogger(__name__)
T = TypeVar("T")
STATUSES = ("queued", "running", "completed", "failed", "cancelled")
UpdateCallback = Callable[[Cell, str, object], None]  # payload: None, the result or the exception


def cell_status(results: Mapping[CellKey, object], key: CellKey) -> str:
    """A cell's status from the results: completed, failed, cancelled, or queued (not run yet)."""
    if key not in results:
        return "queued"
    outcome = results[key]
    if isinstance(outcome, CancelledRun):
        return "cancelled"
    return "failed" if isinstance(outcome, BaseException) else "completed"


def _notify(on_update: UpdateCallback | None, cell: Cell, status: str, payload: object) -> None:
    if on_update is None:
        return
    try:
        on_update(cell, status, payload)
    except Exception:  # a broken progress display must not stop the sweep
        log.exception("sweep on_update failed for cell %s", cell.label)


async def run_sweep(plan: SweepPlan, run_cell: Callable[[Cell], Awaitable[T]], concurrency: int,
                    on_update: UpdateCallback | None = None, *, results: dict[CellKey, T | Exception] | None = None,
                    only: Iterable[CellKey] | None = None,
                    lane_of: Callable[[Cell], tuple[str, int]] | None = None) -> dict[CellKey, T | Exception]:
    """Run every cell (or ``only`` those) with at most ``concurrency`` at once; one result or exception per cell.
    With ``lane_of`` (a cell's lane and how many runs the lane takes at once: an engine of an engine axis) a cell
    also waits for a free place in its own lane, after taking its place in ``concurrency``: a slow lane's cells
    queue behind each other, not in front of a fast lane's.

    ``results`` is filled in place as cells finish, so a caller that cancels the sweep keeps what finished:
    on cancellation the running cells are cancelled, every unfinished cell is recorded as ``CancelledRun``,
    and ``CancelledError`` propagates. ``on_update(cell, status, payload)`` sees every status change.
    """
    if concurrency < 1:
        raise InputError(f"Concurrency must be at least 1, not {concurrency}.", None)
    results = {} if results is None else results
    wanted = None if only is None else set(only)
    cells = [cell for cell in plan.cells if wanted is None or cell.key in wanted]
    semaphore = asyncio.Semaphore(concurrency)
    lanes: dict[str, asyncio.Semaphore] = {}
    sweep_cancelled = False
    for cell in cells:
        results.pop(cell.key, None)
        _notify(on_update, cell, "queued", None)

    def lane(cell: Cell) -> contextlib.AbstractAsyncContextManager[object]:
        if lane_of is None:
            return contextlib.nullcontext()
        name, units = lane_of(cell)
        return lanes.setdefault(name, asyncio.Semaphore(max(1, units)))

    async def run_one(cell: Cell) -> None:
        async with semaphore, lane(cell):
            _notify(on_update, cell, "running", None)
            try:
                value = await run_cell(cell)
            except asyncio.CancelledError:
                if sweep_cancelled:
                    raise
                # cancelled from inside the engine, not by the sweep: this cell only
                results[cell.key] = CancelledRun("This cell was cancelled.")
                _notify(on_update, cell, "cancelled", results[cell.key])
            except CancelledRun as exc:
                results[cell.key] = exc
                _notify(on_update, cell, "cancelled", exc)
            except Exception as exc:  # one failed cell never takes the sweep down
                results[cell.key] = exc
                _notify(on_update, cell, "failed", exc)
            else:
                results[cell.key] = value
                _notify(on_update, cell, "completed", value)

    tasks = [asyncio.create_task(run_one(cell)) for cell in cells]
    if not tasks:
        return results
    try:
        # asyncio.wait, unlike gather, leaves the cells alone when the sweep is cancelled, so we can tell the two
        # kinds of cancellation apart before cancelling them ourselves
        await asyncio.wait(tasks)
    except asyncio.CancelledError:
        sweep_cancelled = True
        for task in tasks:
            task.cancel()
        try:
            await asyncio.wait(tasks)  # let engines cancel their jobs in `finally`
        finally:
            for cell in cells:
                if cell.key not in results:
                    results[cell.key] = CancelledRun("The sweep was cancelled before this cell finished.")
                    _notify(on_update, cell, "cancelled", results[cell.key])
        raise
    return results


async def retry_failed(plan: SweepPlan, results: dict[CellKey, T | Exception], run_cell: Callable[[Cell], Awaitable[T]],
                       concurrency: int, on_update: UpdateCallback | None = None, *,
                       include_cancelled: bool = False) -> dict[CellKey, T | Exception]:
    """Re-run only the failed cells (and cancelled or never-run ones with ``include_cancelled``), in place."""
    retry = {"failed", "cancelled", "queued"} if include_cancelled else {"failed"}
    keys = [cell.key for cell in plan.cells if cell_status(results, cell.key) in retry]
    return await run_sweep(plan, run_cell, concurrency, on_update, results=results, only=keys)

