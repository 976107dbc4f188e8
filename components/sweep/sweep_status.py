"""The Sweep tab's live status line: what each cell is doing, in fal's terms.

Cells handed to a hosted engine either run or wait in its queue; with many cells most of them wait, because fal
runs only as many of an account's requests at once as its concurrency limit allows (2 for a new account, rising
with purchases to 40) and queues the rest. The line says so, so a long wait reads as that limit, not a fault.
"""

from __future__ import annotations

from typing import Protocol

from components.common.text import counted
from core.engines import describe, parse_spec
from core.runs.runs import Run
from core.sweep.plan import DELETED, Cell, CellKey, SweepPlan
from core.sweep.sweep_run import Phase, done
from core.usecases.sweep import note_position

__all__ = ["SweepView", "cell_status", "note_position", "progress", "waiting"]


class SweepView(Protocol):
    """What the line reads of the Sweep tab's view (``components/sweep/sweep_actions.py``)."""

    plan: SweepPlan | None
    runs: dict[CellKey, Run]
    positions: dict[CellKey, int]
    message: str
    phase: Phase
    engine: str


def _span(values: list[int]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    return f" (position {low})" if low == high else f" (positions {low}–{high})"


# What a cell with no picture yet is doing (singular, as its tile says it; plural, as the line counts it)
RUNNING, AT_FAL, HERE, SENDING, QUEUED = "running", "waiting in fal's queue", "waiting its turn", "being sent", "queued"
_PLURAL = {RUNNING: "running", AT_FAL: "waiting in fal's queue", HERE: "waiting their turn on this machine",
           SENDING: "being sent", QUEUED: "queued"}


def waiting(view: SweepView, cell: Cell, run: Run | None) -> str | None:
    """What the cell is doing while it has no picture, in the words the line and its tile both use: running,
    waiting in fal's queue, waiting its turn on this machine (a local engine runs one cell at a time), being sent,
    or queued (no sweep going); None once it has settled (completed, failed, cancelled…). The tiles said "queued"
    beside a line that said "4 being sent" for the same local cells."""
    if run is not None and run.status == RUNNING:
        return RUNNING
    if (run is not None and run.status != QUEUED) or (run is None and cell.gone):
        return None  # settled, or a re-opened cell whose run is in History's bin or deleted
    spec = run.engine if run is not None else (view.plan.engine_of(cell) if view.plan else None) or view.engine
    hosted = describe(parse_spec(spec)[0]).needs_key
    if run is not None and run.request_id:  # handed to its engine
        return AT_FAL if hosted else HERE
    if view.phase not in (Phase.RUNNING, Phase.RETRYING):
        return QUEUED
    return SENDING if hosted else HERE


def cell_status(cell: Cell, run: Run | None) -> str:
    """A settled cell's status in one word, as the line, the grid and the cell table all say it: its run's status,
    "deleted" for a completed run whose picture was deleted for good (the bin emptied: the table said "completed"
    beside a grid of deleted tiles), or, for a re-opened cell with no run, why (in the bin, deleted); "queued" for a
    cell not started."""
    if run is None:
        return cell.gone or "queued"
    purged = run.status == "completed" and bool(run.output_path) and not done(run)
    return DELETED if purged else run.status


def progress(view: SweepView) -> str:
    """One line: how many cells run, wait in fal's queue (and where), wait their turn here or to be sent, are done
    or failed."""
    if view.plan is None:
        return view.message
    states = [(cell, view.runs.get(cell.key)) for cell in view.plan.cells]
    doing: dict[str, list[Cell]] = {}
    counts: dict[str, int] = {}
    for cell, run in states:
        if (word := waiting(view, cell, run)) is not None:
            doing.setdefault(word, []).append(cell)
        elif run is not None or cell.gone:  # a completed run whose picture was deleted for good counts as deleted
            status = cell_status(cell, run)
            counts[status] = counts.get(status, 0) + 1
    parts = []
    for word in (RUNNING, AT_FAL, HERE, SENDING, QUEUED):
        cells = doing.get(word, [])
        if cells:
            spots = [view.positions[cell.key] for cell in cells if cell.key in view.positions] if word == AT_FAL else []
            parts.append(f"{len(cells)} {_PLURAL[word]}{_span(spots)}")
    parts += [f"{count} {status}" for status, count in counts.items()]
    line = f"**Sweep `{view.plan.id}`** · {counted(view.plan.size, 'cell')}: {', '.join(parts)}"
    running = len(doing.get(RUNNING, []))
    if doing.get(AT_FAL) and running:
        line += (f" · fal runs {running} of this account's requests at once and queues the rest: a long wait "
                 "here is the account's concurrency limit (2 for a new account, rising with purchases to 40), "
                 "not a fault")
    return line + (f" · {view.message}" if view.message else "")
