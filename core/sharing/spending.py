"""Who may spend the Space's own fal key, and how much: the rules ``core/sharing/budget.py`` keeps, applied to a
run or a sweep of one visitor.

- ``CLARITY_KEY_REQUIRES_LOGIN=1``: only visitors signed in with Hugging Face use the Space's key;
  ``CLARITY_ALLOWED_USERS`` (comma-separated usernames) narrows that to those people. Everyone may still use the
  local engine or type their own key.
- Daily budgets: a run or sweep reserves its estimated price before anything reaches fal, and what it did not
  use is released when it ends.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core import config
from core.engines import ENGINES, describe, keyed_engine
from core.errors import InputError
from core.runs.runs import Run
from core.sharing import budget, identity
from core.sharing.visitor import Visitor
from core.storage import StorageError

log = logging.getLogger(__name__)


def space_key_in_use(visitor: Visitor, engine: str) -> bool:
    """Whether this run would be paid by the app's own ``FAL_KEY`` on a shared app (not a key the visitor typed)."""
    return (visitor.shared and engine in ENGINES and describe(engine).needs_key and not visitor.typed_key
            and bool(config.env_fal_key()))


def price(engine: str, out_width: int, out_height: int) -> float:
    """What an output of ``out_width × out_height`` costs on ``engine`` (USD): output megapixels × the price its
    descriptor gives (``EngineInfo.price_per_output_megapixel``; 0 for a free engine or an unknown one)."""
    rate = describe(engine).price_per_output_megapixel if engine in ENGINES else 0.0
    return out_width * out_height / 1e6 * rate


def allowed_users() -> set[str]:
    """The owners ``CLARITY_ALLOWED_USERS`` names (Hugging Face usernames → ``hf:<name>``)."""
    names = (os.environ.get("CLARITY_ALLOWED_USERS") or "").split(",")
    return {owner for name in names if (owner := identity.hf_owner(name))}


def check_key_rules(visitor: Visitor, engine: str) -> None:
    """InputError when this visitor may not run on the Space's key (sign-in required, or not on the list)."""
    if not space_key_in_use(visitor, engine):
        return
    allowed = allowed_users()
    if (config.flag("CLARITY_KEY_REQUIRES_LOGIN", False, unclear=True) or allowed) and not visitor.signed_in:
        if not config.sign_in_available():  # asking to sign in where no one can would be a dead end
            raise InputError("This Space's fal key is kept for visitors signed in with Hugging Face, and sign-in "
                             "is not available here: type your own fal key, or use the local engine.", None)
        raise InputError("This Space's fal key is for visitors signed in with Hugging Face: sign in, type your "
                         "own fal key, or use the local engine.", None)
    if allowed and visitor.owner not in allowed:
        raise InputError("This Space's fal key is kept for the people its owner named (CLARITY_ALLOWED_USERS): "
                         "type your own fal key, or use the local engine.", None)


def run_cost(run: Run, estimate: float) -> float:
    """What a run used of a reservation (USD): a finished output at its real size, priced by its own engine's
    descriptor; a run its engine started at its estimate; a run that never started, nothing."""
    if run.status == "completed" and run.width and run.height:
        return price(run.engine, run.width, run.height)
    return estimate if run.started_at is not None or run.status == "completed" else 0.0


@dataclass
class Spend:
    """The runs a reservation pays for, each with its estimated price (USD): added one by one, or read at the end
    from ``pool`` (a sweep's cells, filled while it runs) at ``estimates[key]`` a cell (``each`` for a cell with
    no estimate of its own)."""

    runs: list[tuple[Run, float]] = field(default_factory=list)
    pool: dict[Any, Run] | None = None
    each: float = 0.0
    estimates: dict[Any, float] = field(default_factory=dict)

    def add(self, run: Run, estimate: float) -> None:
        self.runs.append((run, estimate))

    @property
    def spent(self) -> float:
        pooled = [(run, self.estimates.get(key, self.each)) for key, run in (self.pool or {}).items()]
        return sum(run_cost(run, estimate) for run, estimate in self.runs + pooled)


@contextmanager
def reserved(visitor: Visitor, engines: str | Sequence[str], amount: float, what: str) -> Iterator[Spend]:
    """Reserve ``amount`` USD of the visitor's and the Space's daily budgets for the duration (InputError, with
    what is left, when it does not fit); settle at what the runs added to the Spend used. ``engines`` are the
    engines the runs use (a sweep over an engine axis: several); the key rules apply to each. No budget applies
    to a visitor's own key, a free engine, or a single-user app: the Spend is then only a record."""
    used = (engines,) if isinstance(engines, str) else tuple(engines)
    for engine in used:
        check_key_rules(visitor, engine)
    caps = budget.caps()
    spend = Spend()
    if not (any(space_key_in_use(visitor, engine) for engine in used) and caps.any):
        yield spend
        return
    address = None if visitor.signed_in else visitor.address or "unknown"
    reservation = budget.ledger().reserve(amount, visitor.owner, address, what, caps)
    try:
        yield spend
    finally:
        try:
            budget.ledger().settle(reservation, spend.spent)
        except StorageError as exc:  # the reservation stays open, counted in full: on the side of the owner's money
            log.warning("A budget reservation stays open: %s", exc)


def today_line(visitor: Visitor) -> str:
    """"today: $0.12 of $0.50" when this visitor spends from a budgeted Space key, else ''."""
    caps = budget.caps()
    if not (space_key_in_use(visitor, keyed_engine()) and caps.any and visitor.owner):
        return ""
    address = None if visitor.signed_in else visitor.address or "unknown"
    return budget.describe(budget.ledger().spent_today(visitor.owner, address), caps)
