"""Sweep tab actions: the public ``sweep`` API, retry, cancel-all and re-opening a past sweep.

Each yields ``(csv, contact sheet, SweepView)``: the API returns the two files, the tab renders the view.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import gradio as gr

from components.common import spending, store
from components.common.files import servable
from components.common.refusal import refused
from components.common.session import Session, for_request
from components.common.signatures import schema_handler
from components.sweep.sweep_status import note_position, progress
from components.upscale.action import prepare
from core import config, schema
from core.engines import ENGINES, describe, keyless_engine, make_engine, parse_spec
from core.engines.base import Engine
from core.errors import InputError, StudioError
from core.runs import names
from core.runs.runner import Update
from core.runs.runs import Run
from core.sharing import budget, limits
from core.sweep import batch, reopen, sweep_run
from core.sweep.axes import parse_axis
from core.sweep.ignored import refuse_ignored
from core.sweep.plan import Cell, CellKey, Preflight, SweepPlan, plan_grid
from core.sweep.sweep_store import SweepRecord, SweepStore, input_of

NONE = ""  # the Y axis dropdown's "none": also what an API caller sends for one axis
PARAMETERS = tuple(f.name for f in schema.PARAMETER_FIELDS)


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
    in_flight: bool = False  # cells of it are being run now (a sweep or a retry going), so there is work to cancel


def y_axis_of(name: str | None) -> str | None:
    return None if name in (None, "", NONE) else name


def build(form: dict[str, Any], owner: str, load: bool = True) -> tuple[SweepPlan, str | None]:
    """The grid plan and its input file from the form; ``load`` reads the image (a run) or not (pre-flight)."""
    raw = {name: form.get(name) for name in PARAMETERS}
    prompts = (raw["prompt"] or "", raw["negative_prompt"] or "")
    x_axis, y_axis = form.get("x_axis") or "", y_axis_of(form.get("y_axis"))
    if form.get("engine") in ENGINES:
        refuse_ignored(form["engine"], x_axis, y_axis)
    xs = parse_axis(x_axis, form.get("x_values") or "", *prompts)
    ys = parse_axis(y_axis, form.get("y_values") or "", *prompts) if y_axis else None
    tokens = xs if x_axis == "image" else ys if y_axis == "image" else None
    found = batch.resolve_images(tokens, owner, fetch=load) if tokens else None
    image_path = None
    if tokens is None and load:
        engine = form.get("engine") or keyless_engine()
        raw, image_path = prepare({**raw, "image_url": form.get("image_url")}, form.get("image"), engine,
                                  measure=bool(form.get("measure")))
    return plan_grid(raw, x_axis, xs, y_axis, ys, found), image_path


async def _live(view: SweepView, start: Callable[[sweep_run.OnUpdate], Awaitable[Any]]) -> AsyncIterator[SweepView]:
    """Run ``start(on_update)`` and yield a fresh view (a new object: gr.State notices) whenever a cell changes."""
    changed = asyncio.Event()

    def seen(cell: Cell, run: Run, update: Update | None) -> None:
        note_position(view.positions, cell, update)
        changed.set()

    task = asyncio.ensure_future(start(seen))
    try:
        shown = None
        while True:
            waiter = asyncio.ensure_future(changed.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            changed.clear()
            statuses = (tuple((key, run.status) for key, run in list(view.runs.items())),
                        tuple(sorted(view.positions.items())))
            if statuses != shown or task.done():
                shown = statuses
                yield replace(view, runs=dict(view.runs), positions=dict(view.positions), in_flight=not task.done())
            if task.done():
                break
            await asyncio.sleep(0.2)  # fold bursts of updates into one render
        task.result()
    finally:
        if not task.done():  # cancelled (Cancel all): the cells are cancelled at their engine and recorded
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def finish(view: SweepView, message: str = "done.") -> tuple[str, str, SweepView]:
    assert view.plan is not None
    sheet, csv = await asyncio.to_thread(sweep_run.sheet_and_csv, view.plan, view.runs, view.input_path)
    return servable(csv), servable(sheet), replace(view, runs=dict(view.runs), sheet=sheet, csv=csv, message=message)


def paying_engine(plan: SweepPlan, engine: str) -> str:
    """The engine whose price, key and budget a sweep answers to: with an engine axis, a priced engine among its
    cells (only those cells cost money), else the sweep's engine."""
    used = sweep_run.engines_used(plan, engine)
    return next((name for name in used if describe(name).priced), used[0])


def engines_for(plan: SweepPlan, engine: str, session: Session) -> tuple[Engine, Callable[[str], Engine] | None]:
    """The sweep's engine, and for an engine axis the engine of each spec (``fal``, ``local:fast``…), all made
    now so a missing key is said before anything runs."""
    runner = make_engine(engine, session.fal_key(), session.local_model or None)
    if not plan.engines:
        return runner, None
    made = {}
    for spec in plan.engines:
        name, model = parse_spec(spec)
        made[spec] = make_engine(name, session.fal_key(), model or session.local_model or None)
    return runner, made.__getitem__


def needs_confirmation(plan: SweepPlan, cost: Preflight | None, engine: str) -> str:
    """Why this sweep must be confirmed before it runs ('' when it need not be): above the price or cell limit,
    or on fal with a price not known yet (an input nobody has measured)."""
    price_limit, cell_limit = sweep_run.confirm_limits()
    if cost is None:
        if describe(engine).priced or plan.size > cell_limit:
            return (f"This sweep of {plan.size} cells cannot be priced before it runs (its input size is not known "
                    "yet); confirm it (tick “I understand”, or pass confirm=True) to run it.")
        return ""
    price = cost.estimated_price if describe(engine).priced else 0.0  # free: only its size counts
    if cost.needs_confirmation(price_limit if price else float("inf"), cell_limit) and (price > 0 or cost.cells > 1):
        return (f"This sweep runs {cost.cells} cells" + (f" for an estimated ${price:.2f}" if price else "")
                + f", above the limits that need a confirmation (${price_limit:g} or {cell_limit} cells): tick "
                "“I understand”, or pass confirm=True, to run it.")
    return ""


@schema_handler
async def sweep(form: dict[str, Any], engine: str = "local", x_axis: str = "upscale_factor", x_values: str = "",
                y_axis: str = "", y_values: str = "", confirm: bool = False, session: Session | None = None,
                request: gr.Request = None) -> AsyncIterator[tuple[str | None, str | None, SweepView]]:
    """Run a grid of upscales over one or two axes (A1111 X/Y syntax) and return its CSV and contact sheet.

    ``y_axis`` empty means one axis. Every cell is saved in the history with the same sweep id. A sweep above
    the confirmation limits (``CLARITY_CONFIRM_PRICE`` dollars, ``CLARITY_CONFIRM_CELLS`` cells, or of unknown
    price) runs only with ``confirm=True``; ``CLARITY_MAX_SWEEP_CELLS`` is a hard cap either way.
    """
    session = for_request(session, request)  # an API caller in shared mode gets its own owner, as /upscale does
    form = {**form, "engine": engine, "x_axis": x_axis, "x_values": x_values, "y_axis": y_axis,
            "y_values": y_values}
    engine_axis = "engine" in (x_axis, y_axis)
    # A budget needs the input's size, and an engine axis may have cells on an engine that cannot fetch a URL.
    form["measure"] = engine_axis or (spending.space_key_in_use(session, engine) and budget.caps().any)
    try:
        if engine not in ENGINES:
            raise InputError(f"Engine must be one of {', '.join(map(repr, ENGINES))}, not {engine!r}.", "engine")
        plan, image_path = await asyncio.to_thread(build, form, session.files_owner())  # reads and fetches images
        cost = sweep_run.preflight(plan, image_path)
        if cost and cost.oversized:
            oversized = cost.oversized
            raise InputError(f"The output of cell {plan.cell(oversized[0]).label!r} is larger than the limit; "
                             "lower the upscale factor.", "upscale_factor")
        billing = paying_engine(plan, engine)
        if not confirm and (reason := needs_confirmation(plan, cost, billing)):
            raise InputError(reason, None)
        runner, engine_for = engines_for(plan, engine, session)
    except StudioError as exc:
        raise refused(str(exc)) from None
    view = SweepView(plan, {}, engine, image_path, message="running…")
    options = {"webhook_url": session.webhook_url} if session.webhook_url else {}  # for the engines that take one

    def start(on_update: sweep_run.OnUpdate) -> Awaitable[Any]:
        return sweep_run.run_plan(plan, runner, owner=session.owner, save=store.save, image_path=image_path,
                                  input_name=names.input_name(form.get("image"), form.get("image_url")),
                                  on_update=on_update, runs=view.runs, engine_for=engine_for, **options)

    price = cost.estimated_price if cost else 0.0
    try:
        limits.check_rate(session.limit_keys())
        with limits.job_slot(session.limit_keys()), \
                spending.reserved(session, billing, price, f"sweep of {plan.size} cells") as spend:
            spend.pool, spend.each = view.runs, price / max(1, plan.size)  # the cells, as they are made
            record(plan, form, getattr(runner, "model", None), image_path, session.owner)
            yield None, None, view
            async for shown in _live(view, start):
                yield None, None, shown
    except InputError as exc:  # a limit or a budget: nothing was sent
        raise refused(str(exc)) from None
    finished = await finish(view)
    SweepStore(store.store()).finished(plan.id)  # its whole time, for the estimates (core.estimate)
    yield finished


def record(plan: SweepPlan, form: dict[str, Any], model: str | None, image_path: str | None, owner: str) -> None:
    """Keep the sweep as it was asked for (axes, value texts, engine, base parameters, input) in the history."""
    SweepStore(store.store()).save(SweepRecord(
        plan.id, form["engine"], form["x_axis"] or "", form["x_values"] or "", y_axis_of(form["y_axis"]),
        (form["y_values"] or "") if y_axis_of(form["y_axis"]) else "", model, {name: form[name] for name in PARAMETERS},
        input_of(image_path, form["image_url"], config.data_dir()), owner))


async def retry(view: SweepView, session: Session) -> AsyncIterator[tuple[str | None, str | None, SweepView]]:
    """Re-run the failed cells of the shown sweep on its engine (new runs, same sweep id and labels)."""
    if view.plan is None or not sweep_run.retryable(view.plan, view.runs):
        raise refused("There is no failed cell to retry.")
    try:
        runner, engine_for = engines_for(view.plan, view.engine, session)
    except StudioError as exc:
        raise refused(str(exc)) from None
    plan, view = view.plan, replace(view, runs=dict(view.runs), message="retrying the failed cells…")
    billing = paying_engine(plan, view.engine)
    failed = sweep_run.retryable(plan, view.runs)
    cost = sweep_run.preflight(plan, view.input_path)
    each = cost.estimated_price / max(1, cost.cells) if cost else 0.0
    before = {key: view.runs.get(key) for key in failed}

    def start(on_update: sweep_run.OnUpdate) -> Awaitable[Any]:
        return sweep_run.retry_failed(plan, view.runs, runner, owner=session.owner, save=store.save,
                                      image_path=view.input_path, on_update=on_update, engine_for=engine_for)

    try:  # a retry is a new run of those cells: the same limits and budget as the sweep itself
        limits.check_rate(session.limit_keys())
        with limits.job_slot(session.limit_keys()), \
                spending.reserved(session, billing, each * len(failed), f"retry of {len(failed)} cells") as spend:
            try:
                async for shown in _live(view, start):
                    yield None, None, shown
            finally:  # the new runs of those cells, however the retry ended
                spend.runs = [(run, each) for key in failed if (run := view.runs.get(key)) is not before[key]]
    except InputError as exc:
        raise refused(str(exc)) from None
    yield await finish(view)


def cancel_note(view: SweepView) -> Any:
    """Said at once when Cancel all is pressed; nothing when no sweep is running (there is nothing to cancel)."""
    if not view.in_flight:
        return gr.skip()
    return progress(replace(view, message="cancelling: finished cells are kept…"))


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
    return await finish(SweepView(plan, runs, view.engine, view.input_path), stopped_text(plan, runs))
