"""The Sweep tab's pre-flight line: cells, output megapixels, price, and the time this machine and engine took
for such work before (``core.sweep.estimate``), with its basis; and the confirmation box when one is needed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from components.common.session import Session
from components.sweep.sweep_actions import request_of
from core.engines import ENGINES, describe, keyless_engine
from core.errors import StudioError
from core.runs import store
from core.sweep import estimate as rates_of
from core.sweep.plan import Preflight, SweepPlan
from core.usecases.sweep import needs_confirmation, paying_engine, plan_sweep
from core.usecases.sweep import preflight as priced

NO_ESTIMATE = "first run: no estimate"


def _form(names: dict[Any, str], values: dict[Any, Any]) -> dict[str, Any]:
    form = {names[component]: value for component, value in values.items()}
    session = form.get("session") or Session()
    return {**form, "owner": session.files_owner(), "model": session.model_for(_engine_of(form)),
            "scope": session.scope()}


def preflight(names: dict[Any, str], values: dict[Any, Any]) -> tuple[str, Any]:
    """Cells, output megapixels, price and time before running, and the confirmation box when it is needed."""
    form = _form(names, values)
    try:
        plan, cost, rates = estimate(form, form["owner"])
    except StudioError as exc:
        return f"Warning: {exc}", gr.update(visible=False, value=False)
    if cost is None:
        return f"**{plan.size} cells** · give an image to estimate the price.", gr.update(visible=False)
    engine = paying_engine(plan, _engine_of(form))  # with an engine axis: the priced one among its cells
    per_mp = describe(engine).price_per_output_megapixel
    price = cost.estimated_price  # each cell at its own engine's price
    took = (f"{rates_of.spoken(cost.estimated_seconds)} — {rates.basis()}"
            if rates and cost.estimated_seconds is not None else NO_ESTIMATE)
    text = (f"**{cost.cells} cells** · {cost.total_output_megapixels:.2f} MP of output · "
            + (f"estimated **${price:.2f}** on {engine} (${per_mp}/MP)" if per_mp else f"free on the {engine} engine")
            + f" · {took}")
    if cost.oversized:
        text += f" · Warning: {len(cost.oversized)} cell(s) exceed the output limit"
    needs = bool(needs_confirmation(plan, cost, engine))
    return text, gr.update(visible=needs, value=False, label=f"I understand: run {cost.cells} cells "
                                                       + (f"for ${price:.2f}" if price else "on this CPU"))


def _engine_of(form: dict[str, Any]) -> str:
    engine = form.get("engine")
    return engine if engine in ENGINES else keyless_engine()


def estimate(form: dict[str, Any], owner: str) -> tuple[SweepPlan, Preflight | None, rates_of.Rates | None]:
    """The plan, what it costs (None when an input size is unknown; its seconds None with no history yet) and the
    rates the time comes from, without loading or fetching images. ``form["scope"]`` is whose history to read."""
    plan, _ = plan_sweep(request_of(form), owner, load=False)
    loaded = form.get("loaded")
    engine = _engine_of(form)
    rates = rates_of.rates(store.store(), engine, form.get("model"), form.get("scope"))
    options: dict[str, Any] = {"concurrency": rates_of.workers(store.store(), engine, form.get("scope"), plan.size)}
    if rates:
        options |= {"seconds_per_cell": rates.seconds_per_cell, "seconds_per_megapixel": rates.seconds_per_megapixel}
    cost = priced(plan, engine, loaded.path if loaded else None, **options)
    if cost is not None and rates and cost.estimated_seconds is not None:
        cost = replace(cost, estimated_seconds=rates_of.sweep_seconds(rates, cost.estimated_seconds,
                                                                      cost.total_output_megapixels))
    return plan, cost, rates
