"""Sweep tab actions: the public ``sweep`` API, retry, cancel-all and re-opening a past sweep.

Each yields ``(csv, contact sheet, SweepView)``: the API returns the two files, the tab renders the view.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import gradio as gr

from components.common.files import servable
from components.common.refusal import refused
from components.common.session import Session, for_request
from components.common.signatures import schema_handler
from components.sweep.sweep_status import progress
from components.upscale.region_panel import region_of
from core import schema, usecases
from core.engines import keyless_engine
from core.errors import StudioError
from core.inputs.region import PARAMS as REGION_PARAMS
from core.runs import store
from core.runs.runs import Run
from core.sweep import reopen
from core.sweep.plan import CellKey, SweepPlan
from core.sweep.sweep_run import Phase
from core.usecases import RetryRequest, SweepProgress, SweepRequest
from core.usecases.sweep import finished, further_axes

NONE = ""  # the Y axis dropdown's "none": also what an API caller sends for one axis
PARAMETERS = tuple(f.name for f in schema.PARAMETER_FIELDS)

IN_BIN, GONE = "in the bin", "deleted for good"  # where a drawn sweep's runs went when deleted in History


@dataclass
class SweepView:
    """What the Sweep tab shows; kept in a gr.State so the public API returns only the CSV and the sheet."""

    plan: SweepPlan | None = None
    runs: dict[CellKey, Run] = field(default_factory=dict)
    engine: str = "local"
    input_path: str | None = None
    sheet: str | None = None
    csv: str | None = None
    message: str = ""
    positions: dict[CellKey, int] = field(default_factory=dict)  # cells in an engine's queue: their place
    phase: Phase = Phase.IDLE  # what decisions read (``message`` is only said)
    deleted: str = ""  # IN_BIN or GONE once its runs were deleted in History since it was drawn; "" while there

    @property
    def in_flight(self) -> bool:
        """Cells of it are being run now (a sweep or a retry going), so there is work to cancel."""
        return self.phase in (Phase.RUNNING, Phase.RETRYING)


def y_axis_of(name: str | None) -> str | None:
    return None if name in (None, "", NONE) else name


def request_of(form: dict[str, Any], session: Session | None = None) -> SweepRequest:
    """The sweep the form asks for: base parameters (``image_url`` among them), the uploaded file, the engine
    (the keyless one when none is chosen), the axes and their values, the confirmation (as given: the request
    refuses anything but a boolean), the webhook, and the region panel's region (``region_on`` and the four
    boxes: ``region_panel.region_of``, InputError in the boxes' words), *Vary seed per cell* (``vary_seed``) and
    the Z and W axes (``z_axis``, ``z_values``, ``w_axis``, ``w_values``)."""
    engine = form.get("engine") or keyless_engine()
    region = region_of(form.get("region_on"), *(form.get(name) for name in REGION_PARAMS))
    more = further_axes({f"{letter}_{part}": form.get(f"{letter}_{part}") for letter in "zw"
                         for part in ("axis", "values")})
    return SweepRequest({name: form.get(name) for name in (*PARAMETERS, "image_url")}, form.get("image"), engine,
                        form.get("x_axis") or "", form.get("x_values") or "", y_axis_of(form.get("y_axis")),
                        form.get("y_values") or "", False if form.get("confirm") is None else form["confirm"],
                        webhook_url=session.webhook_url if session else "", region=region,
                        vary_seed=False if form.get("vary_seed") is None else form["vary_seed"], more_axes=more)


def shown(progress: SweepProgress, phase: Phase, message: str) -> SweepView:
    """The view of a sweep's snapshot."""
    return SweepView(progress.plan, progress.runs, progress.engine, progress.input_path, progress.sheet,
                     progress.csv, message, progress.positions, phase)


def files_of(view: SweepView) -> tuple[str | None, str | None, SweepView]:
    """The API's two files (CSV, contact sheet) once the sweep has them, and the view."""
    return (servable(view.csv) if view.csv else None), (servable(view.sheet) if view.sheet else None), view


async def finish(view: SweepView, message: str = "done.", phase: Phase = Phase.DONE, reuse: bool = False,
                 ) -> tuple[str | None, str | None, SweepView]:
    """The view with its contact sheet and CSV made from its runs (a sweep re-opened or cancelled); ``reuse``: the
    ones its end wrote, while they still describe its runs (re-opening a past sweep)."""
    assert view.plan is not None
    progress = await finished(view.plan, view.runs, view.engine, view.input_path, reuse)
    return files_of(shown(progress, phase, message))


@schema_handler
async def sweep(form: dict[str, Any], engine: str = "local", x_axis: str = "upscale_factor", x_values: str = "",
                y_axis: str = "", y_values: str = "", confirm: bool = False, session: Session | None = None,
                region_on: bool = False, region_x: Any = None, region_y: Any = None, region_width: Any = None,
                region_height: Any = None, vary_seed: bool = False, z_axis: str = "", z_values: str = "",
                w_axis: str = "", w_values: str = "",
                request: gr.Request | None = None) -> AsyncIterator[tuple[str | None, str | None, SweepView]]:
    """Run a grid of upscales over up to four axes (A1111 X/Y/Z syntax) and return its CSV and contact sheet.

    ``y_axis`` empty means one axis; ``z_axis`` and ``w_axis`` (each needing the one before) give a grid per
    value. Every cell is saved in the history with the same sweep id. A sweep above
    the confirmation limits (``CLARITY_CONFIRM_PRICE`` dollars, ``CLARITY_CONFIRM_CELLS`` cells, or of unknown
    price) runs only with ``confirm=True``; ``CLARITY_MAX_SWEEP_CELLS`` is a hard cap either way. The engines
    (``engine``, or an ``engine`` axis such as ``fal, local:fast, lanczos``) are ``core/engines``'. With the region
    panel's switch on, every cell runs on its region; with ``vary_seed`` each cell gets its own seed.
    """
    session = for_request(session, request)  # an API caller in shared mode gets its own owner, as /upscale does
    try:
        asked = request_of({**form, "engine": engine, "x_axis": x_axis, "x_values": x_values, "y_axis": y_axis,
                            "y_values": y_values, "confirm": confirm, "region_on": region_on, "region_x": region_x,
                            "region_y": region_y, "region_width": region_width, "region_height": region_height,
                            "vary_seed": vary_seed, "z_axis": z_axis, "z_values": z_values, "w_axis": w_axis,
                            "w_values": w_values},
                           session)
        asked = replace(asked, engine=engine)  # an unknown engine is refused by name, never replaced
        async for step in usecases.run_sweep(asked, session):
            view = shown(step, Phase.DONE if step.finished else Phase.RUNNING, "done." if step.finished else "running…")
            yield files_of(view) if step.finished else (None, None, view)
    except StudioError as exc:  # refused before anything was sent
        raise refused(str(exc)) from None


async def retry(view: SweepView, session: Session) -> AsyncIterator[tuple[str | None, str | None, SweepView]]:
    """Re-run the cells of the shown sweep that did not finish (failed, interrupted, cancelled) on its engine (new
    runs, same sweep id and labels)."""
    if view.plan is None:
        raise refused("There is no sweep here to retry: run one, or open a past one.")
    try:
        asked = RetryRequest(view.plan, view.runs, view.engine, view.input_path)
        async for step in usecases.retry_cells(asked, session):
            view = shown(step, Phase.DONE if step.finished else Phase.RETRYING,
                         "done." if step.finished else "retrying the unfinished cells…")
            yield files_of(view) if step.finished else (None, None, view)
    except StudioError as exc:
        raise refused(str(exc)) from None


def starting(view: SweepView) -> Any:
    """Said at once when Run sweep is pressed, before the sweep is checked and priced (that can take a second or
    two on a large picture, and the line went on saying the last sweep was done)."""
    return gr.skip() if view.in_flight else "**New sweep** · checking the form and pricing it…"


def unchanged(view: SweepView) -> Any:
    """After a refused sweep, the line of the sweep still on show (``starting`` had replaced it); nothing
    when one is running (its own end redraws the line)."""
    return gr.skip() if view.in_flight else progress(view)


def cancel_note(view: SweepView) -> Any:
    """Said at once when Cancel all is pressed; nothing when no sweep is running (there is nothing to cancel)."""
    if not view.in_flight:
        return gr.skip()
    return progress(replace(view, message="cancelling: finished cells are kept…", phase=Phase.CANCELLING))


def stopped_text(plan: SweepPlan, runs: dict[CellKey, Run]) -> str:
    """What Cancel all stopped, by cell: "cancelled 2 cells (creativity=0.5, creativity=0.65); 2 finished cells
    kept." — the cells the history has as cancelled (or never sent), once every cell has settled."""
    stopped = [cell.label for cell in plan.cells
               if (run := runs.get(cell.key)) is None or run.status in ("cancelled", "queued", "running")]
    kept = sum(1 for run in runs.values() if run.status == "completed")
    names = ", ".join(stopped[:8]) + (f" and {len(stopped) - 8} more" if len(stopped) > 8 else "")
    said = f"cancelled {len(stopped)} cell{'s' * (len(stopped) != 1)}" + (f" ({names})" if stopped else "")
    return f"{said}; {kept} finished cell{'s' * (kept != 1)} kept."


async def after_cancel(view: SweepView, session: Session) -> Any:
    """Once every cell has settled, the sweep as the history has it (finished cells kept, the rest cancelled),
    saying which cells stopped; nothing when no sweep was running."""
    if view.plan is None or not view.in_flight:
        return gr.skip(), gr.skip(), gr.skip()
    deadline = time.monotonic() + 15
    while True:
        plan, runs = reopen.reopen(view.plan.id, session.scope(), store.store())
        settled = len(runs) >= view.plan.size and all(run.final for run in runs.values())
        if settled or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    return await finish(SweepView(plan, runs, view.engine, view.input_path), stopped_text(plan, runs),
                        Phase.CANCELLED)
