"""The Sweep tab's pre-flight line: cells, output megapixels, price, and the time this machine and engine took
for such work before (``core.sweep.estimate``), with its basis; and the confirmation box when one is needed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from components.common.session import Session
from components.common.text import counted
from components.sweep.sweep_actions import request_of
from core import money
from core.engines import ENGINES, describe, keyless_engine
from core.errors import StudioError
from core.sweep import sweep_run
from core.sweep.axes import AXES
from core.sweep.estimate import spoken
from core.usecases import key_missing
from core.usecases.estimate import NO_ESTIMATE, SweepEstimate, estimate_sweep
from core.usecases.sweep import needs_confirmation, paying_engine


def _form(names: dict[Any, str], values: dict[Any, Any]) -> dict[str, Any]:
    form = {names[component]: value for component, value in values.items()}
    session = form.get("session") or Session()
    return {**form, "session": session, "owner": session.files_owner(), "model": session.model_for(_engine_of(form)),
            "scope": session.scope()}


def preflight(names: dict[Any, str], values: dict[Any, Any]) -> tuple[str, Any]:
    """Cells, output megapixels, price and time before running, and the confirmation box when it is needed."""
    form = _form(names, values)
    axis = AXES.get(str(form.get("x_axis") or ""))
    if axis is not None and not str(form.get("x_values") or "").strip():  # nothing typed yet: nothing wrong yet
        return (f"Type the X values (for example `{axis.example}`) to see the cells, their output megapixels and "
                "price.", gr.update(visible=False, value=False))
    try:
        found = estimate(form, form["owner"])
    except StudioError as exc:
        return f"Warning: {exc}", gr.update(visible=False, value=False)
    plan, cost = found.plan, found.cost
    if cost is None:
        return f"**{counted(plan.size, 'cell')}** · give an image to estimate the price.", gr.update(visible=False)
    engine = paying_engine(plan, _engine_of(form))  # with an engine axis: the priced one among its cells
    engines = sweep_run.engines_used(plan, _engine_of(form))
    per_mp = describe(engine).price_per_output_megapixel
    price = cost.estimated_price  # each cell at its own engine's price
    took = (f"{spoken(cost.estimated_seconds)} — {found.basis()}"
            if found.rates and cost.estimated_seconds is not None else found.basis() or NO_ESTIMATE)
    region = found.request.region
    text = (f"**{counted(cost.cells, 'cell')}**" + (f" · each on the **{region.label}**" if region else "")
            + f" · {cost.total_output_megapixels:.2f} MP of output · "
            + (f"estimated **{money.cost(price)}** on {engine} (${per_mp}/MP)" if per_mp
               else f"free on the {' and '.join(engines)} engine{'s' * (len(engines) > 1)}")
            + f" · {took}")
    if cost.oversized:
        text += f" · Warning: {len(cost.oversized)} cell(s) exceed the output limit"
    if missing := key_missing(engines, form["session"]):  # Run sweep would be refused: say it now
        text += f"\n\nWarning: {missing}"
    needs = bool(needs_confirmation(plan, cost, engine))
    return text, gr.update(visible=needs, value=False, label=f"I understand: run {cost.cells} cells "
                                                       + (f"for {money.cost(price)}" if price else "on this CPU"))


def _engine_of(form: dict[str, Any]) -> str:
    engine = form.get("engine")
    return engine if engine in ENGINES else keyless_engine()


def estimate(form: dict[str, Any], owner: str) -> SweepEstimate:
    """The sweep's plan, price and time (``core/usecases/estimate.py``) for the form, without loading or fetching
    images. ``form["scope"]`` is whose history to read."""
    loaded = form.get("loaded")
    request = replace(request_of(form), engine=_engine_of(form), model=form.get("model"))
    return estimate_sweep(request, owner, loaded.path if loaded else None, form.get("scope"))
