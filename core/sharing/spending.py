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

from core import config, money
from core.engines import ENGINES, describe, keyed_engine
from core.engines.fal_errors import ACCOUNT_UNAVAILABLE
from core.errors import InputError
from core.runs.runs import Run
from core.sharing import budget, identity, owner
from core.sharing.visitor import Visitor
from core.storage import StorageError

log = logging.getLogger("clarity.owner")


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


def _address(visitor: Visitor) -> str | None:
    return None if visitor.signed_in else visitor.address or "unknown"


def key_refusal(visitor: Visitor) -> tuple[str, str] | None:
    """Why this visitor may not run on the Space's key, before any run: ``(reason, sentence)`` — the short reason
    kept for the owner's view and the sentence said to the visitor, which names what would change it — or None
    when they may (or when no Space key is in play: a single-user app, a typed key, no ``FAL_KEY``)."""
    if not (visitor.shared and not visitor.typed_key and config.env_fal_key()):
        return None
    if visitor.mcp and not config.mcp_uses_space_key():
        return ("MCP caller", "This Space's fal key is not offered to MCP tool calls (its owner can turn that on "
                "with CLARITY_MCP_USES_SPACE_KEY): send your own fal key in the X-Fal-Key header, or use the "
                "local engine.")
    if not config.caps_survive_restart():
        return ("no persistent storage", "This Space's fal key is off: its spending caps would reset whenever the "
                "Space restarts, so its owner must turn on persistent storage first. Type your own fal key, or "
                "use the local engine.")
    failing = owner.account_failing()
    if failing:
        return ("account failing", f"{ACCOUNT_UNAVAILABLE} It is tried again after {failing}.")
    allowed = allowed_users()
    if (config.flag("CLARITY_KEY_REQUIRES_LOGIN", False, unclear=True) or allowed) and not visitor.signed_in:
        if not config.sign_in_available():  # asking to sign in where no one can would be a dead end
            return ("sign-in required", "This Space's fal key is kept for visitors signed in with Hugging Face, "
                    "and sign-in is not available here: type your own fal key, or use the local engine.")
        return ("sign-in required", "This Space's fal key is for visitors signed in with Hugging Face: sign in, "
                "type your own fal key, or use the local engine.")
    if allowed and visitor.owner not in allowed:
        return ("not on the list", "This Space's fal key is kept for the people its owner named "
                "(CLARITY_ALLOWED_USERS): type your own fal key, or use the local engine.")
    if visitor.owner and budget.ledger().is_blocked(visitor.owner):
        return ("blocked", "This Space's owner has stopped your use of its fal key: type your own fal key, or use "
                "the local engine.")
    caps = budget.caps()
    if caps.total is not None and budget.ledger().spent_in_all_today() >= caps.total - 1e-9:
        return ("total cap", f"This Space's daily budget for all visitors ({money.cap(caps.total)}) is spent "
                "for today (it renews at 00:00 UTC): type your own fal key, or use the local engine.")
    return None


def check_key_rules(visitor: Visitor, engine: str) -> None:
    """InputError when this visitor may not run ``engine`` on the Space's key (``key_refusal``); the refusal is
    kept for the owner's view."""
    if not space_key_in_use(visitor, engine):
        return
    refusal = key_refusal(visitor)
    if refusal:
        budget.ledger().note_refusal(visitor.owner, _address(visitor), refusal[0])
        raise InputError(refusal[1], None)


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
    account_error: str | None = None  # the engine refused the key's account during these runs (its words)

    def watch(self, happened: Sequence[object]) -> None:
        """Note an account failure among a run's events (``core/runs/events.py``)."""
        for event in happened:
            if getattr(event, "account", False):
                self.account_error = str(getattr(event, "message", ""))

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
    on_space_key = any(space_key_in_use(visitor, engine) for engine in used)
    if not (on_space_key and caps.any):
        try:
            yield spend
        finally:
            if on_space_key:
                _account_news(spend)
        return
    address = _address(visitor)
    reservation = budget.ledger().reserve(amount, visitor.owner, address, what, caps)
    try:
        yield spend
    finally:
        try:
            budget.ledger().settle(reservation, spend.spent)
        except StorageError as exc:  # the reservation stays open, counted in full: on the side of the owner's money
            log.warning("A budget reservation stays open: %s", exc)
        _tell_owner(visitor, spend, caps)
        _account_news(spend)


def _account_news(spend: Spend) -> None:
    """The Space's fal account refused a run (it rests; the owner is told), or a run got through (it works)."""
    if spend.account_error:
        owner.account_failed(spend.account_error)
    elif any(run.status == "completed" for run, _ in spend.runs) or any(
            run.status == "completed" for run in (spend.pool or {}).values()):
        owner.account_ok()


def _short(owner_id: str) -> str:
    return owner_id if owner_id.startswith("hf:") else owner_id[:8]


def _tell_owner(visitor: Visitor, spend: Spend, caps: budget.Caps) -> None:
    """One log line per paid reservation (visitor's short id, run ids, amount, the day's total against its cap),
    and one warning the first time today a cap is reached."""
    spent = spend.spent
    if spent <= 0:
        return
    ledger = budget.ledger()
    total = ledger.spent_in_all_today()
    runs = [run.id for run, _ in spend.runs] + [run.id for run in (spend.pool or {}).values()]
    against = f" of {money.cap(caps.total)}" if caps.total is not None else ""
    log.info("paid: visitor %s · %s · %s · today %s%s in all", _short(visitor.owner), ", ".join(runs[:4]) +
             (f" (+{len(runs) - 4})" if len(runs) > 4 else ""), money.cost(spent), money.cost(total), against)
    if caps.total is not None and total >= caps.total - 1e-9:
        ledger.warn_once("total cap", f"cap reached: this Space's daily budget for all visitors "
                         f"({money.cap(caps.total)}) is spent; the Space's key is refused until 00:00 UTC")
    if caps.visitor is not None and ledger.spent_today(visitor.owner, _address(visitor)) >= caps.visitor - 1e-9:
        ledger.warn_once("visitor cap", f"cap reached: visitor {_short(visitor.owner)} spent their daily "
                         f"{money.cap(caps.visitor)} (later visitors reaching theirs are not logged again today)")


def left_today(visitor: Visitor) -> float | None:
    """What this visitor may still spend today on the Space's key (USD; the smaller of their own and the
    Space's), or None when no budget applies to them."""
    caps = budget.caps()
    if not (space_key_in_use(visitor, keyed_engine()) and caps.any and visitor.owner):
        return None
    return budget.ledger().left_today(visitor.owner, _address(visitor), caps)


def today_line(visitor: Visitor) -> str:
    """"today: $0.12 of $0.50" when this visitor spends from a budgeted Space key, else ''."""
    caps = budget.caps()
    if not (space_key_in_use(visitor, keyed_engine()) and caps.any and visitor.owner) or key_refusal(visitor):
        return ""
    ledger = budget.ledger()
    address = _address(visitor)
    return budget.describe(ledger.spent_today(visitor.owner, address), caps,
                           ledger.left_today(visitor.owner, address, caps))
