"""Past sweeps: the list to choose from, and re-opening one — its grid below, its own axes, values and engine
put back into the Sweep tab's controls above it, so what is on screen describes the grid."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr

from components.common.files import servable
from components.common.refusal import said
from components.common.repeats import repeated
from components.common.session import Session
from components.common.text import plain
from components.sweep.sweep_actions import GONE, NONE, SweepView, finish
from core.engines import keyless_engine
from core.errors import StudioError
from core.runs import store
from core.runs.runs import Run
from core.sweep import batch, reopen
from core.sweep.axes import IMAGE, values_text
from core.sweep.plan import DELETED, IN_BIN, Cell, CellKey, SweepPlan
from core.sweep.sweep_store import SweepStore

# x axis, x values, y axis, y values, engine, vary seed per cell, z axis, z values, w axis, w values, the Z/W fold
Controls = tuple[Any, ...]


def sweep_choices(session: Session, view: Any = None) -> Any:
    """Past sweeps of this visitor, newest first, for the re-open dropdown ("… · 6 cells · 6 done · 0 failed or
    cancelled · <id>", each cell as its latest run has it), with the sweep on show (``view``) chosen: after a new
    sweep the menu ticked the one re-opened before, and a sweep moved to the bin stayed chosen though no longer
    offered (Gradio then refused the menu's value with an Error)."""
    records = SweepStore(store.store())
    summaries = records.summaries(session.scope())
    choices = []
    for s in summaries:  # cells deleted for good count too: the sweep re-opens whole (it said "1 cell" of 3)
        total = max(s.total, reopen.cells_asked(records.get(s.sweep_id, session.scope())) or 0)
        choices.append((f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(s.created_at))} · {total} "
                        f"cell{'s' * (total != 1)} · {s.completed} done · {s.failed} failed or cancelled"
                        f"{f' · {s.binned} in the bin' if s.binned else ''}"
                        f"{f' · {total - s.total} deleted for good' if total > s.total else ''} · {s.sweep_id}",
                        s.sweep_id))
    plan = getattr(view, "plan", None)
    on_show = plan.id if plan is not None and any(s.sweep_id == plan.id for s in summaries) else None
    return gr.update(choices=choices, value=on_show)


def controls(sweep_id: str, plan: SweepPlan, engine: str, session: Session) -> Controls:
    """What the controls must show for this sweep: its record when it has one, else what its cells tell. The Z and W
    axes' fold opens when the sweep has them."""
    kept = SweepStore(store.store()).get(sweep_id, session.scope())
    if kept is not None:
        more = [*kept.more_axes, ("", ""), ("", "")][:2]
        return (kept.x_axis, kept.x_values, kept.y_axis or NONE, kept.y_values if kept.y_axis else "", kept.engine,
                plan.vary_seed, more[0][0] or NONE, more[0][1], more[1][0] or NONE, more[1][1],
                gr.update(open=bool(kept.more_axes)))
    y_text = values_text(plan.y_axis, plan.y_values) if plan.y_axis else ""
    texts = [*((name, values_text(name, values)) for name, values in plan.more_axes), ("", ""), ("", "")][:2]
    return (plan.x_axis, values_text(plan.x_axis, plan.x_values), plan.y_axis or NONE, y_text, engine,
            plan.vary_seed, texts[0][0] or NONE, texts[0][1], texts[1][0] or NONE, texts[1][1],
            gr.update(open=bool(plan.more_axes)))


SKIPPED = 15  # left alone when a sweep cannot be opened: CSV, sheet, view, the axes, engine, vary seed, fold, batch


def batch_of(plan: SweepPlan, session: Session) -> Any:
    """A re-opened sweep's image axis pictures, made the visitor's batch again and shown in the batch box (it showed
    "Drop File Here" while Run sweep ran the last batch uploaded under the same labels); nothing without one."""
    axis = plan.axis_of(IMAGE)
    if axis is None:
        return gr.skip()
    pictures = {str(cell.values[axis]): cell.image_path for cell in plan.cells
                if cell.image_path and Path(cell.image_path).is_file()}
    batch.restore_batch(session.files_owner(), pictures, plan.image_names)
    return [servable(path, plan.image_names.get(label)) for label, path in pictures.items()]


def opening(sweep_id: str | None) -> Any:
    """The line beside the menu the moment a past sweep is chosen, until it is open (``open_sweep`` then clears it):
    a sweep of a hundred cells takes seconds to draw, and the last one stayed on show with no sign meanwhile."""
    return f"Opening sweep {plain(sweep_id)}: its grid, views and settings…" if sweep_id else gr.skip()


async def open_sweep(sweep_id: str | None, session: Session, request: gr.Request | None = None) -> tuple[Any, ...]:
    """Load a past sweep: its grid, a fresh sheet and CSV, its metrics, its axes, values and engine, and the line
    beside the menu. A sweep that cannot be opened is said on that line, beside the menu it was chosen from (as a
    refusal it was an Error badge on the Engine radio at the top of the page), and nothing else changes; nor for
    the echo of one click (``components.common.repeats``: the page opened and drew the sweep twice)."""
    if repeated(getattr(request, "session_hash", None), "past sweeps", sweep_id):
        return (*[gr.skip()] * (SKIPPED + 1),)
    if not sweep_id:  # the menu was opened and left with nothing chosen
        return (*[gr.skip()] * SKIPPED, "Choose a past sweep first.")
    try:
        plan, runs = reopen.reopen(sweep_id, session.scope(), store.store())
    except StudioError as exc:
        return (*[gr.skip()] * SKIPPED, said(f"Warning: {exc}"))
    first = next(iter(runs.values()), None)
    engine = first.engine if first else keyless_engine()
    single_input = first.input_path if first and not plan.axis_of(IMAGE) else None
    shown = controls(sweep_id, plan, engine, session)
    return (*await finish(SweepView(plan, runs, shown[4], single_input), reuse=True), *shown,
            batch_of(plan, session), "")


BINNED = ("deleted in History: its runs are in the bin (Status “recently deleted”), where **Put back** brings the "
          "sweep back; it cannot be exported or retried until then.")
PURGED = "deleted for good in History (the bin was emptied): its runs and pictures are gone."


def _as_kept(plan: SweepPlan, shown: dict[CellKey, Run], live: list[Run],
             binned: list[Run]) -> tuple[SweepPlan, dict[CellKey, Run]]:
    """The grid on show with each cell as History keeps it now: its newest run out of the bin; else "in the bin"
    when a run of it is there; else deleted (purged) when it had one; a cell that never had a run stays as it is.
    The grid keeps its shape (re-opened from what is left, a sweep partly purged lost the cells it no longer has)."""
    newest: dict[str, Run] = {}
    for run in sorted(live, key=lambda run: run.created_at):
        newest[run.cell or run.id] = run
    in_bin = {run.cell or run.id for run in binned}

    def gone(cell: Cell) -> str:
        if cell.label in newest:
            return ""
        if cell.label in in_bin:
            return IN_BIN
        return DELETED if cell.key in shown or cell.gone else ""

    cells = [replace(cell, gone=gone(cell)) for cell in plan.cells]
    return replace(plan, cells=cells), {cell.key: newest[cell.label] for cell in cells if cell.label in newest}


def whereabouts(view: SweepView, session: Session) -> Any:
    """The sweep on show as the Sweep tab is opened: said to be in the History's bin, or deleted for good, when it
    was deleted there since it was drawn (the tab went on showing it with no word until an export was refused);
    "done." again once put back; nothing while it runs or when nothing changed. The note is the view's message,
    so a pivot keeps it (it said "done" again); what decides is the view's typed ``deleted``."""
    if view.plan is None or view.in_flight:
        return gr.skip()
    history, scope = store.store(), session.scope()
    if history.runs_for_sweep(view.plan.id, scope):
        deleted = ""
        # partly in the bin: its cells as History has them now (a user trial: after one run was put back the line
        # said "18 completed", and after the bin was emptied 17 cells still said "in the bin")
        plan, runs = _as_kept(view.plan, view.runs, history.runs_for_sweep(view.plan.id, scope),
                              history.runs_for_sweep(view.plan.id, scope, binned=True))
        now = ([cell.gone for cell in plan.cells], {key: run.id for key, run in runs.items()})
        if now != ([cell.gone for cell in view.plan.cells], {key: run.id for key, run in view.runs.items()}):
            return replace(view, plan=plan, runs=runs, deleted="", message="done.")
    else:
        deleted = IN_BIN if history.runs_for_sweep(view.plan.id, scope, binned=True) else GONE
    if deleted == view.deleted:
        return gr.skip()
    return replace(view, deleted=deleted, message={IN_BIN: BINNED, GONE: PURGED}.get(deleted, "done."))
