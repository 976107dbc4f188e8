"""Daily spending caps on a shared app's own fal key, kept in the history database so they survive restarts.

Only runs on the Space's ``FAL_KEY`` count: a visitor who typed their own key pays for themselves. A run reserves
its estimated price before anything reaches fal, a sweep its whole pre-flight total; what was never started is
released when the run or sweep ends, what fal worked on is kept as spent (at the output's real size when known).
A reservation that a crash left open stays counted for its day: it errs on the side of the owner's money.

Caps are US dollars per UTC day, at the price each engine's descriptor gives (``price_per_output_megapixel``):

- ``CLARITY_DAILY_BUDGET_USD``: all visitors together (default $5 on a shared app with ``FAL_KEY``);
- ``CLARITY_VISITOR_DAILY_BUDGET_USD``: each visitor (default $0.50), counted per owner and, for anonymous
  visitors, per network address too, so new sessions do not buy a new budget.

``0`` turns a cap off; a single-user app has none.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from core import config, storage
from core.errors import InputError

TABLE = """CREATE TABLE IF NOT EXISTS spending (id TEXT PRIMARY KEY, day TEXT, owner TEXT, address TEXT,
           reserved REAL, spent REAL, state TEXT, label TEXT, created_at REAL)"""
DEFAULT_VISITOR_USD, DEFAULT_TOTAL_USD = 0.50, 5.00


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


def _money(value: float) -> str:
    return f"${value:.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


class Ledger:
    """The ``spending`` table of the history database: one row per reservation."""

    def __init__(self, path: Path | str) -> None:
        with storage.writing("open the budget ledger"):
            self._open(path)
        self._lock = threading.Lock()

    def _open(self, path: Path | str) -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=5.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute(TABLE)
        self._conn.execute("CREATE INDEX IF NOT EXISTS spending_day ON spending (day, owner, address)")

    def _sum(self, day: str, column: str | None = None, value: str | None = None) -> float:
        # An open reservation counts in full; a settled one by what was spent. ``column`` is "owner" or "address".
        where, params = ("day = ?", [day]) if column is None else (f"day = ? AND {column} = ?", [day, value])
        sql = f"SELECT SUM(CASE WHEN state = 'open' THEN reserved ELSE spent END) FROM spending WHERE {where}"
        return float(self._conn.execute(sql, params).fetchone()[0] or 0.0)

    def spent_today(self, owner: str, address: str | None = None) -> float:
        """What a visitor has spent or reserved today (the larger of their owner's and their address's)."""
        day = today()
        with self._lock:
            return max(self._sum(day, "owner", owner), self._sum(day, "address", address) if address else 0.0)

    def reserve(self, amount: float, owner: str, address: str | None, what: str, limits: Caps) -> str:
        """Reserve ``amount`` USD for ``owner`` (and their address); InputError naming the budget and what is
        left when either cap would be exceeded. Returns the reservation id."""
        day = today()
        with self._lock, storage.writing("reserve this run's price from the daily budget"):
            checks = []
            if limits.visitor is not None:
                mine = max(self._sum(day, "owner", owner), self._sum(day, "address", address) if address else 0.0)
                checks.append((limits.visitor, mine, "your daily budget on this Space's fal key"))
            if limits.total is not None:
                checks.append((limits.total, self._sum(day), "this Space's daily budget for all visitors"))
            for cap, used, name in checks:
                left = max(0.0, cap - used)
                if amount > left + 1e-9:
                    raise InputError(f"This {what} would cost {_money(amount)}; {name} has {_money(left)} left "
                                     f"(of {_money(cap)} a day). Type your own fal key, use the local engine, or "
                                     "try a smaller run.", None)
            reservation = uuid.uuid4().hex
            self._conn.execute("INSERT INTO spending VALUES (?, ?, ?, ?, ?, 0, 'open', ?, ?)",
                               (reservation, day, owner, address, amount, what, time.time()))
        return reservation

    def settle(self, reservation: str, spent: float) -> None:
        """Close a reservation: ``spent`` USD stay counted, the rest is released. StorageError when the database
        cannot be written (the reservation then stays open: counted in full, on the side of the owner's money)."""
        with self._lock, storage.writing("settle this run's budget reservation"):
            self._conn.execute("UPDATE spending SET spent = ?, state = 'settled' WHERE id = ?",
                               (max(0.0, spent), reservation))

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


def describe(spent: float, limits: Caps) -> str:
    """"today: $0.12 of $0.50" for a visitor (the per-visitor cap, else the shared one)."""
    cap = limits.visitor if limits.visitor is not None else limits.total
    return f"today: {_money(spent)} of {_money(cap)}" if cap is not None else ""
