"""A sweep and a retry of its unfinished cells, whichever door asked for them (the Sweep tab, the ``/sweep`` API).

The plan (``core/sweep/``), its price cell by cell at each cell's own engine's price, the confirmation rule, the
engines built for the visitor, the limits and the budget reservation, the record in the history, the run, and
the contact sheet and CSV at the end. Progress is yielded as ``SweepProgress`` snapshots, at most every
``FOLD_S`` seconds (bursts of cell updates fold into one).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import core.usecases.admission as admission
from core import config, money, schema
from core.engines import describe, parse_spec
from core.engines.base import Engine
from core.errors import InputError
from core.inputs.region import Region
from core.runs import events, names, store
from core.runs.runner import Update
from core.runs.runs import Run
from core.sharing.spending import Spend
from core.sharing.visitor import Visitor
from core.storage import StorageError
from core.sweep import batch, sweep_run
from core.sweep.axes import ENGINE, IMAGE, is_kind, parse_axis
from core.sweep.ignored import refuse_ignored, refuse_vary_seed
from core.sweep.plan import Cell, CellKey, Preflight, SweepPlan, plan_grid
from core.sweep.sweep_store import SweepRecord, SweepStore, input_of
from core.usecases.going import going
from core.usecases.outliving import outliving
from core.usecases.validate import prepare_input
from core.usecases.values import SWEEP, check

CONFIRM = next(param for param in SWEEP if param.name == "confirm")
DRY_RUN = next(param for param in SWEEP if param.name == "dry_run")
VARY_SEED = next(param for param in SWEEP if param.name == "vary_seed")

PARAMETERS = tuple(f.name for f in schema.PARAMETER_FIELDS)
FOLD_S = 0.2  # progress snapshots at most this often


@dataclass(frozen=True)
class SweepRequest:
    """A grid of upscales as asked for, before any check.

    ``parameters`` are the base endpoint parameters (``core/schema.py`` names, ``image_url`` among them);
    ``image`` an uploaded file's path. ``x_axis``/``y_axis`` name axes of ``core/sweep/axes.py`` (``y_axis`` None
    or "": one axis) and ``x_values``/``y_values`` are their values in A1111's X/Y syntax. ``engine`` runs the
    cells (an engine axis gives each cell its own); ``model`` is one of its models (None: the visitor's choice);
    ``confirm`` accepts a sweep above the confirmation limits; ``webhook_url`` goes to engines that take one.
    ``region``: every cell runs on that part of the picture (and is priced at its size, labelled with it).
    ``vary_seed``: each cell its own seed (the grid's plus its index), refused on an engine that uses none.
    ``more_axes``: the Z and W axes, (axis name, values text) each, in that order; they need a Y axis."""

    parameters: Mapping[str, Any] = field(default_factory=dict)
    image: str | None = None
    engine: str = "local"
    x_axis: str = "upscale_factor"
    x_values: str = ""
    y_axis: str | None = None
    y_values: str = ""
    confirm: bool = False
    model: str | None = None
    webhook_url: str = ""
    dry_run: bool = False
    region: Region | None = None
    vary_seed: bool = False
    more_axes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        """Whatever door made it, a sweep is confirmed only by ``True``: "false", "no" or 1 are refused by name
        (a truthy string once started a 20-cell sweep on the Space's key); ``dry_run`` likewise."""
        if not isinstance(self.confirm, bool):
            raise CONFIRM.refuse(self.confirm)
        if not isinstance(self.dry_run, bool):
            raise DRY_RUN.refuse(self.dry_run)
        if not isinstance(self.vary_seed, bool):
            raise VARY_SEED.refuse(self.vary_seed)

    @classmethod
    def checked(cls, values: Mapping[str, Any]) -> SweepRequest:
        """The sweep of API values by name (``values.SWEEP``: ``/upscale``'s, then ``x_axis``, ``x_values``,
        ``y_axis``, ``y_values``, ``confirm``, ``dry_run``, the region's four, ``vary_seed``, ``z_axis``,
        ``z_values``, ``w_axis``, ``w_values``), each checked against its declared type and range (``confirm``,
        ``dry_run`` and ``vary_seed`` booleans, never strings); InputError naming the parameter at fault, before
        anything runs."""
        clean = check(SWEEP, values)
        return cls({name: clean[name] for name in (*PARAMETERS, "image_url")},
                   None if clean["image_url"] else clean["image"] or None,
                   clean["engine"], clean["x_axis"], clean["x_values"], clean["y_axis"] or None,
                   clean["y_values"], clean["confirm"], dry_run=clean["dry_run"], region=Region.checked(clean),
                   vary_seed=clean["vary_seed"], more_axes=further_axes(clean))

    @property
    def y(self) -> str | None:
        """The Y axis, None when there is none."""
        return self.y_axis or None

    @property
    def axis_names(self) -> tuple[str, ...]:
        """Every axis asked for, in order: X, Y (when set), then Z and W."""
        return (self.x_axis or "", *((self.y,) if self.y else ()), *(name for name, _ in self.more_axes))


def further_axes(values: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The Z and W axes of checked values (``z_axis``, ``z_values``, ``w_axis``, ``w_values``) as (axis, values
    text) pairs; InputError for values with no axis, or a W axis with no Z axis."""
    axes: list[tuple[str, str]] = []
    for letter in ("z", "w"):
        name, text = values.get(f"{letter}_axis") or "", str(values.get(f"{letter}_values") or "")
        if not name and text.strip():
            raise InputError(f"{letter.upper()} values were given with no {letter.upper()} axis: choose the "
                             f"{letter.upper()} axis, or leave its values empty.", f"{letter}_axis")
        if name and letter == "w" and not axes:
            raise InputError("A W axis needs a Z axis: choose the Z axis first.", "w_axis")
        if name:
            axes.append((name, text))
    return tuple(axes)


@dataclass(frozen=True)
class RetryRequest:
    """The unfinished cells of a sweep shown on the page, to run again: its plan, its runs so far (key → Run), its
    engine and input file."""

    plan: SweepPlan
    runs: Mapping[CellKey, Run]
    engine: str
    input_path: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class SweepProgress:
    """A snapshot of a sweep under way: every cell's run so far, the queue positions of cells waiting at their
    engine, and once ``finished`` its contact sheet and CSV (paths in the data directory)."""

    plan: SweepPlan
    runs: dict[CellKey, Run]
    positions: dict[CellKey, int]
    engine: str
    input_path: str | None
    finished: bool = False
    sheet: str | None = None
    csv: str | None = None


def plan_sweep(request: SweepRequest, owner: str, load: bool = True, measure: bool = False,
               ) -> tuple[SweepPlan, str | None]:
    """The grid plan and its input file; ``load`` reads (and fetches) the images (a run) or not (a pre-flight);
    ``measure`` reads an https input a priced engine could fetch itself (a budget needs its size)."""
    raw = {name: request.parameters.get(name) for name in PARAMETERS}
    prompts = (raw["prompt"] or "", raw["negative_prompt"] or "")
    x_axis, y_axis = request.x_axis or "", request.y
    admission.check_engine(request.engine)
    xs = parse_axis(x_axis, request.x_values or "", *prompts)
    ys = parse_axis(y_axis, request.y_values or "", *prompts) if y_axis else None
    more = [(name, parse_axis(name, text, *prompts)) for name, text in request.more_axes]
    compared = next(([str(value) for value in values] for name, values in [(x_axis, xs), (y_axis, ys), *more]
                     if is_kind(name, ENGINE) and values), [])
    refuse_ignored(request.engine, *request.axis_names, compared=compared)
    if request.vary_seed:
        refuse_vary_seed(request.engine, *request.axis_names, compared=compared)
    tokens = next((values for name, values in [(x_axis, xs), (y_axis, ys), *more] if is_kind(name, IMAGE)), None)
    if tokens is not None and request.region is not None:
        raise InputError("A region is a part of one picture; a sweep over the image axis has several. Leave the "
                         "region out, or sweep another axis.", "region_x")
    found = batch.resolve_images([str(token) for token in tokens], owner, fetch=load) if tokens else None
    image_path = whole_path = None
    if tokens is None and load:
        prepared = prepare_input({**raw, "image_url": request.parameters.get("image_url")}, request.image,
                                 request.engine, measure=measure, region=request.region)
        raw, image_path, whole_path = prepared.arguments, prepared.path, prepared.whole_path
    plan = plan_grid(raw, x_axis, xs, y_axis, ys, found, request.region, request.vary_seed, more)
    plan.whole_path = whole_path
    if tokens:
        plan.image_names = batch.image_names([str(token) for token in tokens], owner)
    return plan, image_path


def preflight(plan: SweepPlan, engine: str, image_path: str | None, **rates: Any) -> Preflight | None:
    """What the plan costs: each cell at its own engine's price (``sweep_run.preflight``); None when an input's
    size is not known yet. ``rates`` are the time estimate's (``seconds_per_megapixel``…)."""
    return sweep_run.preflight(plan, image_path, engine=engine, **rates)


def paying_engine(plan: SweepPlan, engine: str) -> str:
    """The engine a sweep's price is said in: with an engine axis, the first priced engine among its cells (the
    others' cells are free), else the sweep's engine."""
    used = sweep_run.engines_used(plan, engine)
    return next((name for name in used if describe(name).priced), used[0])


def needs_confirmation(plan: SweepPlan, cost: Preflight | None, engine: str) -> str:
    """Why this sweep must be confirmed before it runs ('' when it need not be): above the price or cell limit,
    or on a priced engine with a price not known yet (an input nobody has measured)."""
    price_limit, cell_limit = sweep_run.confirm_limits()
    if cost is None:
        if any(describe(name).priced for name in sweep_run.engines_used(plan, engine)) or plan.size > cell_limit:
            return (f"This sweep of {plan.size} cells cannot be priced before it runs (its input size is not known "
                    "yet); confirm it (tick “I understand”, or pass confirm=True) to run it.")
        return ""
    price = cost.estimated_price  # each cell at its engine's price: 0 on free engines, so only its size counts
    if cost.needs_confirmation(price_limit if price else float("inf"), cell_limit) and (price > 0 or cost.cells > 1):
        return (f"This sweep runs {cost.cells} cells" + (f" for an estimated {money.cost(price)}" if price else "")
                + f", above the limits that need a confirmation (${price_limit:g} or {cell_limit} cells): tick "
                "“I understand”, or pass confirm=True, to run it.")
    return ""


def _engines(plan: SweepPlan, engine: str, model: str | None, visitor: Visitor,
             ) -> tuple[Engine, Callable[[str], Engine] | None]:
    """The sweep's engine, and for an engine axis the engine of each spec (``fal``, ``local:fast``…), all built
    now so a missing key is said before anything runs."""
    runner = admission.build(engine, visitor, model)
    if not plan.engines:
        return runner, None
    made = {}
    for spec in plan.engines:
        name, spec_model = parse_spec(spec)
        made[spec] = admission.build(name, visitor, spec_model or (model if name == engine else None))
    return runner, made.__getitem__


async def _progress(plan: SweepPlan, engine: str, input_path: str | None, runs: dict[CellKey, Run],
                    start: Callable[[sweep_run.OnUpdate], Awaitable[Any]],
                    spend: Spend) -> AsyncIterator[SweepProgress]:
    """Run ``start(on_update)`` and yield a snapshot whenever a cell's status or queue place changed (each cell's
    events are shown to ``spend``, which notes an account failure). Closing the iterator (the event was cancelled)
    cancels the cells at their engines; they are recorded as cancelled."""
    changed = asyncio.Event()
    positions: dict[CellKey, int] = {}

    def seen(cell: Cell, run: Run, update: Update | None) -> None:
        note_position(positions, cell, update)
        if update is not None:
            spend.watch(update.events)
        changed.set()

    task = asyncio.ensure_future(start(seen))
    try:
        shown = None
        while True:
            waiter = asyncio.ensure_future(changed.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            changed.clear()
            statuses = (tuple((key, run.status) for key, run in list(runs.items())), tuple(sorted(positions.items())))
            if statuses != shown or task.done():
                shown = statuses
                yield SweepProgress(plan, dict(runs), dict(positions), engine, input_path)
            if task.done():
                break
            await asyncio.sleep(FOLD_S)
        task.result()
    finally:
        if not task.done():  # cancelled (Cancel all): the cells are cancelled at their engine and recorded
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def note_position(positions: dict[CellKey, int], cell: Cell, update: Update | None) -> None:
    """Keep each cell's latest queue position (forgotten once it runs or ends)."""
    if update is None or update.stage != "queued":
        positions.pop(cell.key, None)
        return
    for event in update.events:
        if isinstance(event, events.QueuePosition):
            positions[cell.key] = event.position


async def finished(plan: SweepPlan, runs: dict[CellKey, Run], engine: str, input_path: str | None,
                   reuse: bool = False) -> SweepProgress:
    """The sweep's end: its contact sheet and CSV written (``data/sweeps/<id>/``). With ``reuse`` (a past sweep
    re-opened) the ones already written are taken as they are while they still describe its runs
    (``sweep_run.kept_sheet_and_csv``)."""
    kept = sweep_run.kept_sheet_and_csv(plan, runs) if reuse else None
    sheet, csv = kept if kept is not None else await asyncio.to_thread(sweep_run.sheet_and_csv, plan, runs,
                                                                        input_path)
    return SweepProgress(plan, dict(runs), {}, engine, input_path, True, sheet, csv)


@outliving
async def run_sweep(request: SweepRequest, visitor: Visitor) -> AsyncIterator[SweepProgress]:
    """Check, price, admit and run a sweep; every cell is a history run with the sweep's id. Yields snapshots,
    the last one ``finished``. Raises a StudioError before the first snapshot when it is refused (bad input or
    axes, above the confirmation limits without ``confirm``, no key, a limit or a budget): nothing was sent."""
    engine = request.engine
    admission.check_engine(engine)
    engine_axis = any(is_kind(name, ENGINE) for name in request.axis_names)
    # A budget needs the input's size, and an engine axis may have cells on an engine that cannot fetch a URL.
    measure = engine_axis or admission.budget_applies(visitor, (engine,))
    plan, image_path = await asyncio.to_thread(plan_sweep, request, visitor.files_owner(), True, measure)
    cost = preflight(plan, engine, image_path)
    if cost and cost.oversized:
        raise InputError(f"The output of cell {plan.cell(cost.oversized[0]).label!r} is larger than the limit; "
                         "lower the upscale factor.", "upscale_factor")
    # Built before the confirmation is asked for: a sweep that cannot run (no key for a fal cell) says so, rather
    # than asking to confirm its price first.
    runner, engine_for = _engines(plan, engine, request.model, visitor)
    if not request.confirm and (reason := needs_confirmation(plan, cost, paying_engine(plan, engine))):
        raise InputError(reason, None)
    runs: dict[CellKey, Run] = {}

    def start(on_update: sweep_run.OnUpdate) -> Awaitable[Any]:  # the webhook goes to engines that take one
        return sweep_run.run_plan(plan, runner, owner=visitor.owner, save=store.save, image_path=image_path,
                                  input_name=names.input_name(request.image, request.parameters.get("image_url")),
                                  on_update=on_update, runs=runs, engine_for=engine_for,
                                  webhook_url=request.webhook_url or None)

    price = cost.estimated_price if cost else 0.0
    await admission.admit_paid_work(sweep_run.engines_used(plan, engine))  # a paid result waits unsaved: not yet
    with admission.admitted(visitor, sweep_run.engines_used(plan, engine), price,
                            f"sweep of {plan.size} cells") as spend, going(plan.id):
        spend.pool, spend.each = runs, price / max(1, plan.size)  # the cells, as they are made
        spend.estimates = dict(cost.prices) if cost else {}
        _record(plan, request, admission.model_of(runner), image_path, visitor.owner)
        yield SweepProgress(plan, dict(runs), {}, engine, image_path)
        async for progress in _progress(plan, engine, image_path, runs, start, spend):
            yield progress
    done = await finished(plan, runs, engine, image_path)
    with contextlib.suppress(StorageError):  # only the estimates miss it (core/sweep/estimate.py)
        SweepStore(store.store()).finished(plan.id)  # its whole time, for the estimates
    yield done


def _record(plan: SweepPlan, request: SweepRequest, model: str | None, image_path: str | None, owner: str) -> None:
    """Keep the sweep as it was asked for (axes, value texts, engine, base parameters, input) in the history."""
    SweepStore(store.store()).save(SweepRecord(
        plan.id, request.engine, request.x_axis or "", request.x_values or "", request.y,
        (request.y_values or "") if request.y else "", model,
        {name: request.parameters.get(name) for name in PARAMETERS},
        input_of(image_path, request.parameters.get("image_url"), config.data_dir()), owner,
        more_axes=request.more_axes))


@outliving
async def retry_cells(request: RetryRequest, visitor: Visitor) -> AsyncIterator[SweepProgress]:
    """Re-run the cells of a sweep that did not finish (failed, interrupted, cancelled or never sent) on its
    engines (new runs, same sweep id and labels), within the same limits and budget as the sweep itself. Yields
    snapshots, the last one ``finished``; a StudioError before the first when there is nothing to retry or it is
    refused."""
    plan, runs = request.plan, dict(request.runs)
    history = store.store()
    if not history.runs_for_sweep(plan.id, visitor.scope()) and history.runs_for_sweep(plan.id, visitor.scope(),
                                                                                      binned=True):
        raise InputError(f"Sweep {plan.id} is in the bin: put its runs back (History, Status “recently deleted”) "
                         "to retry it.", None)
    failed = sweep_run.retryable(plan, runs, include_cancelled=True)
    if not failed:
        raise InputError("Every cell of this sweep finished: there is none to retry.", None)
    runner, engine_for = _engines(plan, request.engine, request.model, visitor)
    cost = preflight(plan, request.engine, request.input_path)
    estimates = {key: cost.prices.get(key, 0.0) for key in failed} if cost else {}
    before = {key: runs.get(key) for key in failed}
    await admission.admit_paid_work(sweep_run.engines_used(plan, request.engine))

    def start(on_update: sweep_run.OnUpdate) -> Awaitable[Any]:
        return sweep_run.retry_failed(plan, runs, runner, include_cancelled=True, owner=visitor.owner,
                                      save=store.save, image_path=request.input_path, on_update=on_update,
                                      engine_for=engine_for)

    with admission.admitted(visitor, sweep_run.engines_used(plan, request.engine), sum(estimates.values()),
                            f"retry of {len(failed)} cells") as spend, going(plan.id):
        try:
            yield SweepProgress(plan, dict(runs), {}, request.engine, request.input_path)
            async for progress in _progress(plan, request.engine, request.input_path, runs, start, spend):
                yield progress
        finally:  # the new runs of those cells, however the retry ended
            spend.runs = [(run, estimates.get(key, 0.0)) for key in failed
                          if (run := runs.get(key)) is not None and run is not before[key]]
    yield await finished(plan, runs, request.engine, request.input_path)
