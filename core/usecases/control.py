"""What a visitor started, by id, whichever door asks (the ``/status``, ``/cancel``, ``/retry`` and ``/cells``
API, later MCP): where it stands, a cancel, a retry, a sweep's cells.

An id is a run id, a request id (any engine), a sweep id, or ``latest`` (the visitor's newest run, or the sweep
it belongs to). It is looked up only in the visitor's own history (``Visitor.scope()``): on a shared app another
visitor's id is "not in your history", whatever it is, so nobody can read, cancel or retry what a stranger
started. A cancel reaches a run or sweep going in this process (``going.py``) as the page's Cancel does: the run
is cancelled at its engine and recorded as cancelled.
"""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.inputs.region import Region
from core.runs import store
from core.runs.runs import Run
from core.sharing.visitor import Visitor
from core.sweep import sweep_run
from core.sweep.reopen import reopen
from core.sweep.sweep_store import SweepStore
from core.usecases.going import task_of
from core.usecases.outliving import CANCEL_WAIT_S
from core.usecases.run import RunRequest
from core.usecases.sweep import RetryRequest
from core.usecases.values import LATEST

ACTIVE = ("queued", "running", "unsaved")


@dataclass(frozen=True)
class Target:
    """What an id names: a run (``run``) or a sweep (``sweep_id``), of the visitor asking."""

    run: Run | None = None
    sweep_id: str | None = None


def _none(wanted: str, field: str) -> InputError:
    return InputError(f"{field}: there is no run or sweep {wanted!r} in your history.", field)


def newest_sweep(visitor: Visitor) -> str:
    """The id of the visitor's newest sweep; InputError naming ``sweep_id`` when there is none."""
    summaries = SweepStore(store.store()).summaries(visitor.scope())
    if not summaries:
        raise InputError("sweep_id: there is no sweep in your history yet.", "sweep_id")
    return summaries[0].sweep_id


def find(wanted: str, visitor: Visitor, field: str = "id", runs_only: bool = False) -> Target:
    """The run or sweep ``wanted`` names in the visitor's own history (``latest``: the newest run, or the sweep
    it belongs to; ``runs_only``: never a sweep); InputError naming ``field`` when there is none."""
    history = store.store()
    scope = visitor.scope()
    if wanted.casefold() == LATEST:
        newest = history.runs(scope, limit=1)
        if not newest:
            raise InputError(f"{field}: there is no run in your history yet.", field)
        run = newest[0]
        return Target(sweep_id=run.sweep_id) if run.sweep_id and not runs_only else Target(run)
    found = history.by_request_id(wanted, owner=scope) or history.get(wanted, owner=scope)
    if found is not None:
        return Target(found)
    if not runs_only and (SweepStore(history).get(wanted, scope) or history.runs_for_sweep(wanted, scope)):
        return Target(sweep_id=wanted)
    raise _none(wanted, field)


def _iso(timestamp: float | None) -> str | None:
    return (datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat(timespec="seconds")
            if timestamp else None)


def run_status(run: Run) -> dict[str, Any]:
    """One run where it stands: ids, status, engine and model, error, times (ISO 8601, UTC), and ``going``
    (running in this process, so ``cancel`` reaches it)."""
    return {"kind": "run", "run_id": run.id, "request_id": run.request_id, "sweep_id": run.sweep_id,
            "cell": run.cell, "status": run.status, "engine": run.engine, "model": run.model, "error": run.error,
            "created_at": _iso(run.created_at), "finished_at": _iso(run.finished_at),
            "going": task_of(run.id) is not None}


def _sweep_word(statuses: list[str], going: bool) -> str:
    if going or any(status in ACTIVE for status in statuses):
        return "running"
    if statuses and all(status == "completed" for status in statuses):
        return "completed"
    return "cancelled" if "cancelled" in statuses else "failed" if statuses else "queued"


def sweep_cells(sweep_id: str, visitor: Visitor) -> tuple[list[tuple[str, Run | None]], dict[str, Any]]:
    """A sweep of the visitor's: each cell (label, its latest run or None) in grid order, and its status: the
    cells' statuses counted, a word for the whole (running, completed, cancelled, failed) and ``going``."""
    history = store.store()
    if SweepStore(history).get(sweep_id, visitor.scope()) is None and not history.runs_for_sweep(
            sweep_id, visitor.scope()):
        raise InputError(f"sweep_id: there is no sweep {sweep_id!r} in your history.", "sweep_id")
    try:
        plan, runs = reopen(sweep_id, visitor.scope(), history)
        cells = [(cell.label, runs.get(cell.key)) for cell in plan.cells]
        absent = {cell.label: cell.gone or "missing" for cell in plan.cells}  # why a cell has no run: in the bin…
    except InputError:  # recorded, no cell made yet
        cells, absent = [], {}
    statuses = [run.status if run is not None else absent[label] for label, run in cells]
    going = task_of(sweep_id) is not None
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return cells, {"kind": "sweep", "sweep_id": sweep_id, "status": _sweep_word(statuses, going), "going": going,
                   "counts": counts, "cells": [
                       {"label": label, **({"run_id": run.id, "status": run.status, "error": run.error}
                                           if run is not None else {"run_id": None, "status": absent[label]})}
                       for label, run in cells]}


def status(wanted: str, visitor: Visitor) -> dict[str, Any]:
    """Where the run or sweep ``wanted`` stands (``run_status``, or ``sweep_cells``' status); InputError naming
    ``id`` when it is not in the visitor's history."""
    target = find(wanted, visitor)
    if target.run is not None:
        return run_status(target.run)
    return sweep_cells(str(target.sweep_id), visitor)[1]


async def cancel(wanted: str, visitor: Visitor) -> dict[str, Any]:
    """Cancel the run or sweep ``wanted`` going in this process (a sweep's cell: its whole sweep), wait for it to
    be recorded, and say where it stands then (``cancelled_now``: whether this call cancelled it). Something that
    had already ended is left as it is; something still pending that this process does not run (a fal request
    followed after a restart) is refused by name."""
    target = find(wanted, visitor)
    run = target.run
    key = str(run.sweep_id if run is not None and run.sweep_id and not task_of(run.id) else
              run.id if run is not None else target.sweep_id)

    def where() -> dict[str, Any]:
        if run is not None and key == run.id:
            return run_status(store.store().get(run.id) or run)
        return sweep_cells(key, visitor)[1]

    task = task_of(key)
    if task is None:
        now = where()
        if now["status"] in ACTIVE:
            raise InputError(f"id: {wanted!r} is {now['status']} but not run by this app process (a fal request "
                             "followed after a restart); it cannot be cancelled from here.", "id")
        return {**now, "cancelled_now": False}
    task.get_loop().call_soon_threadsafe(task.cancel)
    waited = 0.0
    while not task.done() and waited < CANCEL_WAIT_S:
        await asyncio.sleep(0.05)
        waited += 0.05
    return {**where(), "cancelled_now": True}


def retry_request(wanted: str, visitor: Visitor) -> RunRequest | RetryRequest:
    """What retrying ``wanted`` runs: a run's own request again (its stored input, arguments, engine and model;
    a new run), or a sweep's unfinished cells (``retry_cells``: same sweep id and labels). InputError
    naming ``id`` for something still going, or a run whose input is no longer kept."""
    target = find(wanted, visitor)
    if target.run is not None and not target.run.sweep_id:
        run = target.run
        if run.status in ACTIVE:
            raise InputError(f"id: the run {run.id} is still {run.status}; cancel it first or wait for it.", "id")
        if not run.input_path and not run.source_url:
            raise InputError(f"id: the run {run.id} keeps no input picture to run again.", "id")
        parameters = {key: value for key, value in run.arguments.items() if key != "image_url"}
        parameters["image_url"] = None if run.input_path else run.source_url
        region = Region.parse(run.region)
        if region is not None and run.whole_path and Path(run.whole_path).is_file():  # the same part, recorded
            return RunRequest(parameters, run.whole_path, run.engine, run.model, region=region,
                              input_name=run.input_name)
        return RunRequest(parameters, run.input_path, run.engine, run.model, input_name=run.input_name)
    sweep_id = str(target.sweep_id or (target.run.sweep_id if target.run else ""))
    if task_of(sweep_id) is not None:
        raise InputError(f"id: the sweep {sweep_id} is still running; cancel it first or wait for it.", "id")
    record = SweepStore(store.store()).get(sweep_id, visitor.scope())
    plan, runs = reopen(sweep_id, visitor.scope(), store.store())
    engine = record.engine if record else next(iter(runs.values())).engine
    input_path = None
    if record and record.input and not record.input.lower().startswith("https://"):
        from core import config

        input_path = str(config.data_dir() / record.input)
    return RetryRequest(plan, runs, engine, input_path, record.model if record else None)


def to_retry(request: RetryRequest) -> int:
    """How many cells a sweep's retry would run again (those that did not finish: failed, interrupted, cancelled
    or never sent; 0: nothing to retry, the sweep stands as it is)."""
    return len(sweep_run.retryable(request.plan, dict(request.runs), include_cancelled=True))
