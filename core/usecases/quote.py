"""A sweep's price before it runs, for a door that has no pre-flight line (the ``sweep_price`` endpoint, an MCP
tool): its cells, output megapixels, price, time, whether it must be confirmed, and whether this visitor's key
rules and budget would let it run on the Space's key — nothing sent, nothing spent, nothing reserved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import core.usecases.admission as admission
from core import money
from core.engines import describe
from core.errors import InputError
from core.sharing import spending
from core.sharing.visitor import Visitor
from core.sweep import sweep_run
from core.usecases.estimate import NO_ESTIMATE, estimate_sweep
from core.usecases.sweep import SweepRequest, needs_confirmation, paying_engine
from core.usecases.validate import read_input


@dataclass(frozen=True)
class SweepQuote:
    """What a sweep would cost: ``price`` in USD (each cell at its own engine's price), in ``engine``'s terms at
    ``price_per_output_megapixel`` USD; ``seconds`` None with no finished run to learn from; ``confirm`` why it
    would need ``confirm=true`` ('' when it would not); ``refused`` why the Space's key would refuse it ('' when
    it would not, or no Space key is in play); ``region`` the part of the picture every cell runs on ("region
    384×384 at 100,50"; None: the whole picture); ``left_today`` USD this visitor may still spend on it (None: no
    budget applies)."""

    cells: int
    output_megapixels: float
    price: float
    engine: str
    price_per_output_megapixel: float
    seconds: float | None
    basis: str
    region: str | None
    confirm: str
    refused: str
    left_today: float | None

    def as_json(self) -> dict[str, Any]:
        """The quote as the endpoint returns it (amounts in USD, also in words)."""
        return {"cells": self.cells, "region": self.region, "output_megapixels": round(self.output_megapixels, 4),
                "price_usd": round(self.price, 6), "price": money.cost(self.price), "engine": self.engine,
                "price_per_output_megapixel_usd": self.price_per_output_megapixel,
                "estimated_seconds": None if self.seconds is None else round(self.seconds, 1),
                "estimate_basis": self.basis or NO_ESTIMATE,
                "needs_confirm": bool(self.confirm), "why_confirm": self.confirm or None,
                "refused": self.refused or None,
                "left_today_usd": None if self.left_today is None else round(self.left_today, 6)}


def quote_sweep(request: SweepRequest, visitor: Visitor) -> SweepQuote:
    """The price of ``request`` for ``visitor``: its input read (a file, or the URL or data URI fetched and decoded,
    as a run would) for its size, its plan priced cell by cell, timed from the visitor's own history. InputError
    naming the parameter for a plan that cannot run or an input that cannot be read."""
    if not visitor.known:
        raise InputError("Not identified yet: reload the page.", None)
    url = str(request.parameters.get("image_url") or "").strip()
    loaded = read_input(request.image, url) if request.image or url else None
    found = estimate_sweep(request, visitor.files_owner(), loaded.path if loaded else None, visitor.scope())
    engine = paying_engine(found.plan, request.engine)
    cost = found.cost
    engines = sweep_run.engines_used(found.plan, request.engine)
    refusals = [refusal[1] for name in engines
                if spending.space_key_in_use(visitor, name) and (refusal := spending.key_refusal(visitor))]
    if missing := admission.key_missing(engines, visitor):  # no key at all: /sweep would refuse it first
        refusals.insert(0, missing)
    return SweepQuote(
        cells=found.plan.size, output_megapixels=cost.total_output_megapixels if cost else 0.0,
        price=cost.estimated_price if cost else 0.0, engine=engine,
        price_per_output_megapixel=describe(engine).price_per_output_megapixel,
        seconds=cost.estimated_seconds if cost and found.rates else None, basis=found.basis(),
        region=request.region.label if request.region else None,
        confirm=needs_confirmation(found.plan, cost, engine), refused=refusals[0] if refusals else "",
        left_today=spending.left_today(visitor) if spending.space_key_in_use(visitor, engine) else None)
