"""The Sweep tab's live status line: what each cell is doing, in fal's terms.

Cells handed to a hosted engine either run or wait in its queue; with many cells most of them wait, because fal
runs only as many of an account's requests at once as its concurrency limit allows (2 for a new account, rising
with purchases to 40) and queues the rest. The line says so, so a long wait reads as that limit, not a fault.
"""

from __future__ import annotations

from typing import Protocol

from core.engines import describe
from core.runs.runs import Run
from core.sweep.plan import CellKey, SweepPlan
from core.sweep.sweep_run import Phase
from core.usecases.sweep import note_position

__all__ = ["SweepView", "note_position", "progress"]


class SweepView(Protocol):
    """What the line reads of the Sweep tab's view (``components/sweep/sweep_actions.py``)."""

    plan: SweepPlan | None
    runs: dict[CellKey, Run]
    positions: dict[CellKey, int]
    message: str
    phase: Phase


def _span(values: list[int]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    return f" (position {low})" if low == high else f" (positions {low}–{high})"


def _hosted(run: Run) -> bool:
    return describe(run.engine).needs_key


def progress(view: SweepView) -> str:
    """One line: how many cells run, wait in fal's queue (and where), wait to be sent, are done or failed."""
    if view.plan is None:
        return view.message
    runs = [view.runs.get(cell.key) for cell in view.plan.cells]
    waiting = [run for run in runs if run is not None and run.status == "queued" and run.request_id]
    hosted_waiting = [run for run in waiting if _hosted(run)]
    running = [run for run in runs if run is not None and run.status == "running"]
    parts = [f"{len(running)} running"] if running else []
    if hosted_waiting:
        keys = [cell.key for cell, run in zip(view.plan.cells, runs, strict=True) if run in hosted_waiting]
        spots = [view.positions[key] for key in keys if key in view.positions]
        parts.append(f"{len(hosted_waiting)} waiting in fal's queue{_span(spots)}")
    if len(waiting) > len(hosted_waiting):
        parts.append(f"{len(waiting) - len(hosted_waiting)} waiting their turn on this machine")
    unsent = sum(1 for run in runs if run is None or (run.status == "queued" and not run.request_id))
    if unsent:
        parts.append(f"{unsent} being sent" if view.phase is Phase.RUNNING else f"{unsent} queued")
    counts: dict[str, int] = {}
    for run in runs:
        if run is not None and run.status not in ("queued", "running"):
            counts[run.status] = counts.get(run.status, 0) + 1
    parts += [f"{count} {status}" for status, count in counts.items()]
    line = f"**Sweep `{view.plan.id}`** · {view.plan.size} cells: {', '.join(parts)}"
    if hosted_waiting and running:
        line += (f" · fal runs {len(running)} of this account's requests at once and queues the rest: a long wait "
                 "here is the account's concurrency limit (2 for a new account, rising with purchases to 40), "
                 "not a fault")
    return line + (f" · {view.message}" if view.message else "")
