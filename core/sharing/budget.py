"""Daily spending caps on a shared app's own fal key, kept in the history database so they survive restarts.

Only runs on the Space's ``FAL_KEY`` count: a visitor who typed their own key pays for themselves. A run reserves
its estimated price before anything reaches fal, a sweep its whole pre-flight total; what was never started is
released when the run or sweep ends, what fal worked on is kept as spent (at the output's real size when known).
A reservation that a crash left open stays counted for its day: it errs on the side of the owner's money.

Caps are US dollars per UTC day, at the price each engine's descriptor gives (``price_per_output_megapixel``):

- ``CLARITY_DAILY_BUDGET_USD``: all visitors together (default $5 on a shared app with ``FAL_KEY``);
- ``CLARITY_VISITOR_DAILY_BUDGET_USD``: each visitor (default $0.50), counted per owner and, for anonymous
  visitors, per network address too, so new sessions do not buy a new budget.

``0`` turns a cap off; a single-user app has none. The owner's view (``core/sharing/owner.py``) reads this
ledger; what it keeps about visitors is said in the README ("What is stored about visitors").
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core import config, database, money, storage
from core.errors import InputError
from core.sharing import identity

TABLE = """CREATE TABLE IF NOT EXISTS spending (id TEXT PRIMARY KEY, day TEXT, owner TEXT, address TEXT,
           reserved REAL, spent REAL, state TEXT, label TEXT, created_at REAL)"""
REFUSALS = """CREATE TABLE IF NOT EXISTS refusals (day TEXT, owner TEXT, address TEXT, reason TEXT, amount REAL,
              created_at REAL)"""
BLOCKED = "CREATE TABLE IF NOT EXISTS blocked (owner TEXT PRIMARY KEY, blocked_at REAL)"
DEFAULT_VISITOR_USD, DEFAULT_TOTAL_USD = 0.50, 5.00
VISITOR_CAP, TOTAL_CAP = "your daily budget on this Space's fal key", "this Space's daily budget for all visitors"
log = logging.getLogger("clarity.owner")


@dataclass(frozen=True)
class Caps:
    """The caps in force, in USD per UTC day; None = no cap."""

    total: float | None
    visitor: float | None

    @property
    def any(self) -> bool:
        return self.total is not None or self.visitor is not None


def _cap(name: str, default: float | None) -> float | None:
    read = config.number(name, -1.0)  # -1: unset or not a usable number (core/config_check.py says which)
    value = default if read < 0 else read
    return value if value else None


def caps() -> Caps:
    """The caps from the environment (read per call). None of them on a single-user app."""
    if not config.shared_mode():
        return Caps(None, None)
    defaults = (DEFAULT_TOTAL_USD, DEFAULT_VISITOR_USD) if config.env_fal_key() else (None, None)
    return Caps(_cap("CLARITY_DAILY_BUDGET_USD", defaults[0]), _cap("CLARITY_VISITOR_DAILY_BUDGET_USD", defaults[1]))


def today() -> str:
    """The UTC day a spend counts for, as ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.gmtime())


def _day(days_ago: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400 * days_ago))


# An open reservation counts in full, a settled one by what was spent. ``forgiven`` rows (the owner reset that
# visitor's day) still count against the Space's total — the money was spent at fal — but not against the visitor.
_USED = "SUM(CASE WHEN state = 'open' THEN reserved ELSE spent END)"


class Ledger:
    """The ``spending`` table of the history database (one row per reservation), with the refusals and the blocked
    visitors the owner's view reads. Network addresses are kept only as ``identity.address_key`` hashes; rows older
    than ``config.ledger_days()`` are pruned when the ledger opens and once a day after."""

    def __init__(self, path: Path | str) -> None:
        with storage.writing("open the budget ledger"):
            self._open(path)
        self._lock = threading.Lock()
        self._pruned = ""
        self._warned: set[tuple[str, str]] = set()
        try:
            self.prune()
        except storage.StorageError as exc:  # old rows wait for a disk with room; the caps still hold
            log.warning("The ledger's old rows stay for now: %s", exc)

    def _open(self, path: Path | str) -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=5.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.create_function("address_key", 1, identity.address_key, deterministic=True)
        with database.immediate(self._conn):  # another process upgrading the ledger waits, then finds it done
            for table in (TABLE, REFUSALS, BLOCKED):
                self._conn.execute(table)
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(spending)")}
            if "forgiven" not in columns:
                self._conn.execute("ALTER TABLE spending ADD COLUMN forgiven INTEGER NOT NULL DEFAULT 0")
            self._conn.execute("CREATE INDEX IF NOT EXISTS spending_day ON spending (day, owner, address)")
            for table in ("spending", "refusals"):  # rows an older version wrote with the raw address
                self._conn.execute(f"UPDATE {table} SET address = address_key(address) "
                                   "WHERE address IS NOT NULL AND address NOT LIKE 'addr-%'")

    def prune(self) -> None:
        """Drop rows older than the ledger keeps (``CLARITY_LEDGER_DAYS``); at most once a day."""
        if self._pruned == today():
            return
        oldest = _day(config.ledger_days() - 1)
        with self._lock, storage.writing("prune the budget ledger's old rows"):
            for table in ("spending", "refusals"):
                self._conn.execute(f"DELETE FROM {table} WHERE day < ?", (oldest,))
            self._pruned = today()

    def _sum(self, day: str, column: str | None = None, value: str | None = None) -> float:
        # ``column`` is "owner" or "address": one visitor's own spending, forgiven rows left out.
        params: list[str | None] = [day]
        where = "day = ?"
        if column is not None:
            where, params = f"day = ? AND {column} = ? AND forgiven = 0", [day, value]
        return float(self._conn.execute(f"SELECT {_USED} FROM spending WHERE {where}", params).fetchone()[0] or 0.0)

    def _mine(self, day: str, owner: str, address: str | None) -> float:
        key = identity.address_key(address)
        return max(self._sum(day, "owner", owner), self._sum(day, "address", key) if key else 0.0)

    def spent_today(self, owner: str, address: str | None = None) -> float:
        """What a visitor has spent or reserved today (the larger of their owner's and their address's)."""
        with self._lock:
            return self._mine(today(), owner, address)

    def spent_in_all_today(self) -> float:
        """What all visitors together have spent or reserved today (USD)."""
        with self._lock:
            return self._sum(today())

    def left_today(self, owner: str, address: str | None, limits: Caps) -> float | None:
        """What this visitor may still spend today (USD): the smaller of what their own cap and the Space's cap
        have left; None when no cap applies."""
        day = today()
        with self._lock:
            lefts = []
            if limits.visitor is not None:
                lefts.append(limits.visitor - self._mine(day, owner, address))
            if limits.total is not None:
                lefts.append(limits.total - self._sum(day))
        return max(0.0, min(lefts)) if lefts else None

    def reserve(self, amount: float, owner: str, address: str | None, what: str, limits: Caps) -> str:
        """Reserve ``amount`` USD for ``owner`` (and their address); InputError naming the budget and what is
        left when either cap would be exceeded (the refusal is kept for the owner's view). Returns the
        reservation id."""
        day, key = today(), identity.address_key(address)
        with self._lock, storage.writing("reserve this run's price from the daily budget"):
            checks = []
            if limits.visitor is not None:
                checks.append((limits.visitor, self._mine(day, owner, address), VISITOR_CAP))
            if limits.total is not None:
                checks.append((limits.total, self._sum(day), TOTAL_CAP))
            for cap, used, name in checks:
                left = max(0.0, cap - used)
                if amount > left + 1e-9:
                    self._refusal(owner, key, "visitor cap" if name == VISITOR_CAP else "total cap", amount)
                    raise InputError(f"This {what} would cost {money.cost(amount)}; {name} has {money.left(left)} "
                                     f"left (of {money.cap(cap)} a day). Type your own fal key, use the local "
                                     "engine, or try a smaller run.", None)
            reservation = uuid.uuid4().hex
            self._conn.execute("INSERT INTO spending (id, day, owner, address, reserved, spent, state, label, "
                               "created_at) VALUES (?, ?, ?, ?, ?, 0, 'open', ?, ?)",
                               (reservation, day, owner, key, amount, what, time.time()))
        return reservation

    def settle(self, reservation: str, spent: float) -> None:
        """Close a reservation: ``spent`` USD stay counted, the rest is released. StorageError when the database
        cannot be written (the reservation then stays open: counted in full, on the side of the owner's money)."""
        with self._lock, storage.writing("settle this run's budget reservation"):
            self._conn.execute("UPDATE spending SET spent = ?, state = 'settled' WHERE id = ?",
                               (max(0.0, spent), reservation))

    def _refusal(self, owner: str, address_key: str | None, reason: str, amount: float | None) -> None:
        try:
            with storage.writing("keep a refusal for the owner's view"):
                self._conn.execute("INSERT INTO refusals VALUES (?, ?, ?, ?, ?, ?)",
                                   (today(), owner, address_key, reason, amount, time.time()))
        except storage.StorageError as exc:  # the refusal stands; only its note for the owner is lost
            log.warning("A refusal was not kept for the owner's view: %s", exc)

    def note_refusal(self, owner: str, address: str | None, reason: str, amount: float | None = None) -> None:
        """Keep a refusal of the Space's key (its short reason: "sign-in required", "blocked", …) for the owner."""
        with self._lock:
            self._refusal(owner, identity.address_key(address), reason, amount)

    def warn_once(self, what: str, message: str) -> None:
        """Log ``message`` as a warning the first time ``what`` happens today (a cap reached, …), not per visitor."""
        with self._lock:
            if (today(), what) in self._warned:
                return
            self._warned.add((today(), what))
        log.warning("%s", message)

    def reset(self, owner: str) -> None:
        """Give a visitor a fresh allowance for today: their spending so far no longer counts against their own
        cap (it still counts against the Space's total — it was spent)."""
        with self._lock, storage.writing("give this visitor a fresh allowance"):
            self._conn.execute("UPDATE spending SET forgiven = 1 WHERE day = ? AND owner = ?", (today(), owner))

    def block(self, owner: str, blocked: bool = True) -> None:
        """Keep (or stop keeping) a visitor off the Space's key."""
        with self._lock, storage.writing("change who is kept off the Space's key"):
            if blocked:
                self._conn.execute("INSERT OR REPLACE INTO blocked VALUES (?, ?)", (owner, time.time()))
            else:
                self._conn.execute("DELETE FROM blocked WHERE owner = ?", (owner,))

    def is_blocked(self, owner: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM blocked WHERE owner = ?", (owner,)).fetchone() is not None

    def frame(self, sql: str, params: tuple[str, ...] = ()) -> pd.DataFrame:
        """A read-only query of the ledger as a pandas DataFrame (the owner's view and its export)."""
        with self._lock:
            return pd.read_sql_query(sql, self._conn, params=params)

    def close(self) -> None:
        self._conn.close()


_ledgers: dict[str, Ledger] = {}
_ledgers_lock = threading.Lock()


def ledger() -> Ledger:
    """The ledger of the current data directory (the history database's file), opened on first use."""
    path = str(config.data_dir() / "history.sqlite3")
    with _ledgers_lock:
        if path not in _ledgers:
            _ledgers[path] = Ledger(path)
        return _ledgers[path]


def describe(spent: float, limits: Caps, left: float | None = None) -> str:
    """"today: $0.12 of $0.50" for a visitor (the per-visitor cap, else the shared one), and "· $0.03 left" when
    the Space has less left for all visitors than the visitor's own cap would allow (``left``)."""
    cap = limits.visitor if limits.visitor is not None else limits.total
    if cap is None:
        return ""
    line = f"today: {money.cost(spent)} of {money.cap(cap)}"
    if left is not None and left < cap - spent - 1e-9:
        line += f" · {money.left(left)} left on this Space today"
    return line
