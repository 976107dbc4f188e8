"""A sweep's pre-flight, whichever door asks (the Sweep tab's line, the estimate benchmark, later the API): its
plan, its price cell by cell, and the time it will take as learned from the visitor's history
(``core/sweep/estimate.py``), without loading or fetching any image."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import core.usecases.admission as admission
from core.engines import describe, parse_spec
from core.runs import store
from core.sharing.visitor import Visitor
from core.sweep import estimate as learned
from core.sweep import sweep_run
from core.sweep.plan import Cell, Preflight, SweepPlan
from core.usecases.sweep import SweepRequest, needs_confirmation, paying_engine, plan_sweep, preflight
from core.usecases.validate import cut_stored

NO_ESTIMATE = "first run: no estimate"  # a time's basis with no finished run of the engine to learn from


@dataclass(frozen=True)
class SweepEstimate:
    """What a sweep will cost before it runs: ``cost`` None when an input's size is not known yet, its
    ``estimated_seconds`` None with no completed run to learn from; ``rates`` and ``workers`` are where the time
    comes from (``workers``: cells the engine runs at once)."""

    plan: SweepPlan
    cost: Preflight | None
    rates: learned.Rates | None
    workers: int
    workers_basis: str = ""  # where ``workers`` comes from, when the engine's queue decides it
    request: SweepRequest = field(default_factory=SweepRequest)  # what was estimated (its region among it)
    engine_rates: tuple[learned.Rates, ...] = ()  # with an engine axis: each of its engines' rates, in order
    untimed: tuple[str, ...] = ()  # the engines (specs) with no finished run to learn from, when ``rates`` is None

    def basis(self) -> str:
        """The time's basis in words: the rates' basis (each engine's, for an engine axis) and, when cells run
        together, how many at once and why; with no rates, ``NO_ESTIMATE`` naming the engines not run yet ("first
        run: no estimate (no finished run of local yet)": an engine axis's other engines may have run)."""
        if self.rates is None:
            return f"{NO_ESTIMATE} (no finished run of {' or '.join(self.untimed)} yet)" if self.untimed else ""
        why = f" ({self.workers_basis})" if self.workers_basis else ""
        together = f"; {self.workers} cells at once{why}" if self.workers > 1 else ""
        return " · ".join(rates.basis() for rates in self.engine_rates or (self.rates,)) + together


def _engine_axis_rates(plan: SweepPlan, request: SweepRequest, scope: str | None,
                       ) -> dict[str, learned.Rates | None]:
    """Each engine of the plan's engine axis (``fal``, ``local:fast``…) → its rates (None: no run of it yet)."""
    history, found = store.store(), {}
    for spec in dict.fromkeys(plan.engines):
        name, model = parse_spec(spec)
        found[spec] = learned.rates(history, name, model or (request.model if name == request.engine else None),
                                    scope)
    return found


def estimate_sweep(request: SweepRequest, owner: str, image_path: str | None, scope: str | None,
                   whole: bool = True) -> SweepEstimate:
    """The plan and pre-flight of ``request`` for an input already read at ``image_path`` (None: not known yet),
    timed from the history of ``scope`` (None: everyone's, the single-user app) on the request's engine and
    ``request.model``; ``whole``: ``image_path`` is the whole picture, cut here to the request's region (False:
    already cut). Raises InputError (naming the parameter) for a plan that cannot run."""
    plan, _ = plan_sweep(request, owner, load=False)
    if whole and request.region is not None and image_path:
        image_path = cut_stored(image_path, request.region)  # priced at the region's output megapixels
    history = store.store()
    if plan.engines:  # an engine axis: each cell at its own engine's rate (the bar's engine runs none of them)
        by_spec = _engine_axis_rates(plan, request, scope)
        timed = [rates for rates in by_spec.values() if rates is not None]
        names = [parse_spec(spec)[0] for spec in by_spec]
        found = timed[0] if len(timed) == len(by_spec) else None  # an engine never run yet: no estimate
        # The sweep hands every cell out at once, each to its engine's lane (``sweep_run.lanes``), and each engine
        # runs its own share at its own pace (local one at a time, fal at the account's concurrency).
        lanes = {name: learned.workers(history, name, scope, plan.size) for name in names}
        handed_out = plan.size
        workers = max(lanes.values())
        queued = any(describe(name).runs_at_once is None for name in names)
        why = next((learned.account_concurrency(history, name, scope)[1] for name in names
                    if describe(name).runs_at_once is None), "")
    else:
        by_spec = {}
        found = learned.rates(history, request.engine, request.model, scope)
        workers = handed_out = learned.workers(history, request.engine, scope, plan.size)
        _, why = learned.account_concurrency(history, request.engine, scope)
        queued = describe(request.engine).runs_at_once is None  # the engine's queue decides how many run at once
    why = why if queued and workers < plan.size else ""
    options: dict[str, Any] = {"concurrency": handed_out}
    if found and by_spec:
        def seconds_of(cell: Cell, megapixels: float) -> float:
            rates = by_spec[str(plan.engine_of(cell))]
            assert rates is not None  # every engine has rates when ``found``
            return rates.seconds_per_cell + megapixels * rates.seconds_per_megapixel

        def lane_of(cell: Cell) -> tuple[str, int]:
            name = parse_spec(str(plan.engine_of(cell)))[0]
            return name, lanes[name]

        options |= {"seconds_of": seconds_of, "lane_of": lane_of}
    elif found:
        options |= {"seconds_per_cell": found.seconds_per_cell, "seconds_per_megapixel": found.seconds_per_megapixel}
    cost = preflight(plan, request.engine, image_path, **options)
    if cost is not None and found and cost.estimated_seconds is not None:
        cost = replace(cost, estimated_seconds=learned.sweep_seconds(found, cost.estimated_seconds,
                                                                     cost.total_output_megapixels))
    engine_rates = tuple(rates for rates in by_spec.values() if rates is not None) if found else ()
    untimed = (tuple(spec for spec, rates in by_spec.items() if rates is None) if by_spec
               else () if found else (request.engine,))
    return SweepEstimate(plan, cost, found, workers, why, request, engine_rates, untimed)


def dry_run(request: SweepRequest, visitor: Visitor) -> dict[str, object]:
    """A sweep priced without running it (``/sweep`` with ``dry_run``): its input read (and fetched) as a run
    would, nothing sent to any engine, nothing recorded. Returns the pre-flight: ``cells``,
    ``output_megapixels`` (total), ``price_usd`` (each cell at its engine's price), ``estimated_seconds`` (None
    with no completed run to learn from) and its ``basis`` (``NO_ESTIMATE`` then), ``oversized`` cells,
    ``needs_confirmation`` (a boolean, as ``/sweep_price``'s ``needs_confirm``), ``why_confirm`` (the reason, or
    None) and ``refused`` (why ``/sweep`` would refuse it before anything runs — no fal key for a fal cell — or
    None). InputError naming the parameter for a sweep that could not run."""
    admission.check_engine(request.engine)
    _, image_path = plan_sweep(request, visitor.files_owner(), load=True)
    found = estimate_sweep(request, visitor.files_owner(), image_path, visitor.scope(), whole=False)
    cost = found.cost
    plan = found.plan
    why = needs_confirmation(plan, cost, paying_engine(plan, request.engine))
    return {"dry_run": True, "sweep_id": None, "engine": request.engine, "cells": plan.size,
            "region": request.region.label if request.region else None,
            "labels": [cell.label for cell in plan.cells],
            "output_megapixels": round(cost.total_output_megapixels, 4) if cost else None,
            "price_usd": round(cost.estimated_price, 4) if cost else None,
            "estimated_seconds": round(cost.estimated_seconds, 1) if cost and cost.estimated_seconds is not None
            and found.rates else None,
            "basis": found.basis() or NO_ESTIMATE,
            "oversized": [plan.cell(key).label for key in cost.oversized] if cost else [],
            "needs_confirmation": bool(why), "why_confirm": why or None,
            "refused": admission.key_missing(sweep_run.engines_used(plan, request.engine), visitor)}
