"""The owner's side of a shared app: who is the owner, how the Space's fal account is doing, and the owner's view
of the spending ledger (``core/sharing/budget.py``) — spending by day and by visitor, refusals by reason, the
account's last failure — with the owner's actions: reset a visitor's day, block or unblock a visitor, export.

Who is the owner: on a single-user app, whoever uses it; on a shared app, a visitor signed in with Hugging Face
as the Space's author (``SPACE_AUTHOR_NAME``, which Spaces set) or as one of ``CLARITY_ADMINS`` (the only way for
an organisation's Space, whose author is the organisation). Every function here that reads or changes the ledger
takes the visitor and raises InputError for anyone else, so no door can reach it without that check.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core import config, csv_export
from core.errors import InputError
from core.sharing import budget, identity
from core.sharing.visitor import Visitor

RETRY_AFTER_S = 300.0  # after an account failure the Space's key is tried again at most this often
log = logging.getLogger("clarity.owner")
_account: dict[str, float | str] = {}  # "at": when it last failed (epoch s), "detail": fal's words
_lock = threading.Lock()


def is_owner(visitor: Visitor) -> bool:
    """Whether ``visitor`` sees the owner's view (see the module's docstring)."""
    if not visitor.shared:
        return True
    names = [config.space_author() or "", *config.admins()]
    owners = {owner for name in names if (owner := identity.hf_owner(name))}
    return visitor.signed_in and visitor.owner in owners


def _check(visitor: Visitor) -> None:
    if not is_owner(visitor):
        raise InputError("Only this Space's owner sees the owner's view.", None)


# -- the Space's fal account ---------------------------------------------------------------------------------

def account_failed(detail: str) -> None:
    """fal refused the Space's own key for its account (balance, lock, quota, a revoked key): the key rests for
    ``RETRY_AFTER_S`` — a top-up takes effect at the next try, without a restart — and the owner is told once in
    the log (not once per visitor)."""
    with _lock:
        first = not account_failing()
        _account.update(at=time.time(), detail=" ".join(detail.split())[:300])
    if first:
        log.warning("fal account failing on the Space's key: %s — visitors are offered their own key or the local "
                    "engine; the key is tried again in %d minutes", _account["detail"], RETRY_AFTER_S // 60)


def account_ok() -> None:
    """A run on the Space's key got through: the account works again."""
    with _lock:
        _account.clear()


def account_failing() -> str | None:
    """While the Space's key rests after an account failure: the UTC time it is tried again ("14:05 UTC");
    None otherwise."""
    at = _account.get("at")
    if not isinstance(at, float) or time.time() - at >= RETRY_AFTER_S:
        return None
    return time.strftime("%H:%M UTC", time.gmtime(at + RETRY_AFTER_S))


# -- the owner's view ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    """What the owner's view shows: ``days`` (day, spent USD, reservations, visitors; newest first),
    ``visitors`` (today: visitor id, signed in, spent USD, reservations, refusals, blocked), ``refusals`` (day,
    reason, count), and ``account`` (a sentence about the Space's fal account)."""

    days: pd.DataFrame
    visitors: pd.DataFrame
    refusals: pd.DataFrame
    account: str
    caps: str


def report(visitor: Visitor) -> Report:
    """The owner's view of the ledger (InputError for anyone but the owner)."""
    _check(visitor)
    ledger = budget.ledger()
    ledger.prune()
    spent = "CASE WHEN state = 'open' THEN reserved ELSE spent END"
    days = ledger.frame(f"SELECT day, ROUND(SUM({spent}), 4) AS spent_usd, COUNT(*) AS reservations, "
                        "COUNT(DISTINCT owner) AS visitors FROM spending GROUP BY day ORDER BY day DESC")
    visitors = ledger.frame(
        f"SELECT s.owner AS visitor, s.owner LIKE 'hf:%' AS signed_in, ROUND(SUM({spent}), 4) AS spent_usd, "
        "COUNT(*) AS reservations, (SELECT COUNT(*) FROM refusals r WHERE r.owner = s.owner AND r.day = s.day) "
        "AS refusals, s.owner IN (SELECT owner FROM blocked) AS blocked FROM spending s WHERE s.day = ? "
        "GROUP BY s.owner ORDER BY spent_usd DESC", (budget.today(),))
    for column in ("signed_in", "blocked"):
        visitors[column] = visitors[column].astype(bool)
    refusals = ledger.frame("SELECT day, reason, COUNT(*) AS count FROM refusals GROUP BY day, reason "
                            "ORDER BY day DESC, count DESC")
    return Report(days, visitors, refusals, _account_words(), _caps_words())


def _account_words() -> str:
    at, detail = _account.get("at"), _account.get("detail")
    if not isinstance(at, float):
        return "fal account: no failure since the app started."
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))
    again = account_failing()
    return (f"fal account: last failed {when} ({detail}). "
            + (f"The key is tried again after {again}." if again else "The key is being tried again."))


def _caps_words() -> str:
    if not config.shared_mode():
        return ("Caps: none — this app is not shared, so every run here is yours, on your own key. When it runs "
                "shared (a Hugging Face Space, or CLARITY_SHARED=1), visitors' runs on its FAL_KEY are capped and "
                "counted here.")
    caps = budget.caps()
    parts = [f"{name} ${cap:.2f} a day" for name, cap in (("all visitors", caps.total), ("each visitor",
                                                                                          caps.visitor)) if cap]
    kept = f"the ledger keeps {config.ledger_days()} days"
    if not config.caps_survive_restart():
        return "Caps: the Space's key is off — no persistent storage, so caps would reset at every restart."
    resets = " (they reset when the Space restarts: CLARITY_ACCEPT_RESETTING_CAPS)" if config.history_is_ephemeral() \
        else ""
    return f"Caps: {', '.join(parts) or 'none'}{resets}; {kept}."


def reset_visitor(visitor: Visitor, target: str) -> str:
    """Give ``target`` (a visitor id from the report) a fresh allowance for today; returns what was done."""
    _check(visitor)
    if not target.strip():
        raise InputError("Choose a visitor in the table first.", None)
    budget.ledger().reset(target.strip())
    log.info("owner: reset today's spending of visitor %s", target.strip())
    return f"Visitor {target.strip()} has a fresh allowance for today."


def block_visitor(visitor: Visitor, target: str, blocked: bool = True) -> str:
    """Keep ``target`` off the Space's key (or let them back); returns what was done."""
    _check(visitor)
    if not target.strip():
        raise InputError("Choose a visitor in the table first.", None)
    budget.ledger().block(target.strip(), blocked)
    log.info("owner: %s visitor %s", "blocked" if blocked else "unblocked", target.strip())
    return f"Visitor {target.strip()} is {'blocked from' if blocked else 'allowed again on'} the Space's key."


def export(visitor: Visitor) -> str:
    """The ledger as a CSV file (one row per reservation, addresses as keyed hashes); returns its path."""
    _check(visitor)
    rows = budget.ledger().frame("SELECT day, owner AS visitor, address AS address_hash, label, reserved, spent, "
                                 "state, forgiven, created_at FROM spending ORDER BY created_at")
    rows["created_at"] = pd.to_datetime(rows["created_at"], unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    folder = Path(tempfile.mkdtemp(prefix="clarity-ledger-"))
    return str(csv_export.write_csv(rows, folder / f"ledger-{budget.today()}.csv", config.data_dir(), ()))
