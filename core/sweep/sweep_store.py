"""Sweeps as records: the ``sweeps`` table of the history database, one row per sweep, written when it starts.

A record is what the person asked for — the axes and the value texts as typed, the engine and model, the base
parameters and the input (a path relative to the data directory, or the URL) — so a re-opened sweep can put
exactly that back into the Sweep tab. Its cells are runs (``runs.sweep_id``). Reads are filtered by owner like
runs (``owner=None``: the single-user app, every row). Sweeps made before this table existed have no record and
are re-opened from their cells (``core.sweep.reopen``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.runs.history import History

_COLUMNS = {"id": "TEXT PRIMARY KEY", "owner": "TEXT", "created_at": "REAL", "engine": "TEXT", "model": "TEXT",
            "x_axis": "TEXT", "x_values": "TEXT", "y_axis": "TEXT", "y_values": "TEXT", "parameters": "TEXT",
            "input": "TEXT", "finished_at": "REAL", "more_axes": "TEXT"}
_ACTIVE = ("queued", "running", "unsaved")


@dataclass(frozen=True)
class SweepRecord:
    """One sweep as it was asked for. ``y_axis`` None: one axis; ``input`` None: an image axis (per cell)."""

    id: str
    engine: str
    x_axis: str
    x_values: str
    y_axis: str | None = None
    y_values: str = ""
    model: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    input: str | None = None
    owner: str = ""
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None  # when every cell had run and the sheet was made (not after a cancel)
    more_axes: tuple[tuple[str, str], ...] = ()  # the Z and W axes: (axis name, values text) each


@dataclass(frozen=True)
class SweepSummary:
    """One sweep as the history lists it (counted from its cells' latest runs: ``total`` is its cells)."""

    sweep_id: str
    created_at: float
    total: int
    completed: int
    failed: int
    active: int
    binned: int = 0  # cells whose runs are in History's bin (a sweep partly put back): counted in ``total``


def input_of(image_path: str | None, image_url: str | None, data_dir: Path) -> str | None:
    """What a record keeps of the input: the file relative to the data directory, else an https URL, else None
    (a data URI's file is inside the data directory; its text is never kept)."""
    if image_path:
        path = Path(image_path).resolve()
        if path.is_relative_to(data_dir.resolve()):
            return str(path.relative_to(data_dir.resolve()))
    if image_url and image_url.lower().startswith("https://"):
        return image_url
    return None


def _create_table(conn: sqlite3.Connection) -> None:
    """The ``sweeps`` table, and the columns a newer version added to an older one's."""
    columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())
    conn.execute(f"CREATE TABLE IF NOT EXISTS sweeps ({columns})")
    existing = {row[1] for row in conn.execute("PRAGMA table_info(sweeps)")}
    for name in (name for name in _COLUMNS if name not in existing):
        conn.execute(f"ALTER TABLE sweeps ADD COLUMN {name} {_COLUMNS[name]}")
    conn.execute("CREATE INDEX IF NOT EXISTS sweeps_owner_time ON sweeps (owner, created_at)")


class SweepStore:
    """The ``sweeps`` table in a History's database (created on first use)."""

    def __init__(self, history: History) -> None:
        self.history = history
        history.upgrade(_create_table)

    def save(self, record: SweepRecord) -> None:
        """Write the record once (a sweep id is never reused; another owner's id raises ValueError)."""
        row = {**{name: getattr(record, name) for name in _COLUMNS if name not in ("parameters", "more_axes")},
               "parameters": json.dumps(record.parameters, default=str),
               "more_axes": json.dumps([list(axis) for axis in record.more_axes]) if record.more_axes else None}
        self.history.query(f"INSERT INTO sweeps ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) "
                           "ON CONFLICT(id) DO NOTHING", list(row.values()))
        if self.get(record.id, record.owner) is None:
            raise ValueError(f"Sweep {record.id} belongs to another owner.")

    def finished(self, sweep_id: str, at: float | None = None) -> None:
        """Note when the sweep ran to its end (the first time only: a retry is not the sweep's own time)."""
        self.history.query("UPDATE sweeps SET finished_at = ? WHERE id = ? AND finished_at IS NULL",
                           [time.time() if at is None else at, sweep_id])

    def get(self, sweep_id: str, owner: str | None) -> SweepRecord | None:
        """The record of this sweep (of this owner, when given), or None (none kept, or someone else's)."""
        where, params = ("id = ?", [sweep_id]) if owner is None else ("id = ? AND owner = ?", [sweep_id, owner])
        rows = self.history.query(f"SELECT {', '.join(_COLUMNS)} FROM sweeps WHERE {where}", params)
        if not rows:
            return None
        values = dict(zip(_COLUMNS, rows[0], strict=True))
        try:
            parameters = json.loads(values.pop("parameters") or "{}")
        except ValueError:
            parameters = {}
        try:
            more = json.loads(values.pop("more_axes") or "[]")
            more_axes = tuple((str(name), str(text)) for name, text in more)
        except (ValueError, TypeError):
            more_axes = ()
        return SweepRecord(**values, parameters=parameters if isinstance(parameters, dict) else {},
                           more_axes=more_axes)

    def summaries(self, owner: str | None) -> list[SweepSummary]:
        """Every sweep of the owner that has runs out of the bin, newest first, with how many cells it has and how
        many of them completed, failed, are active or are in the bin — each cell as its latest run out of the bin
        has it (a cell retried counts once: a sweep whose 3 failed cells were retried is 6 cells, 6 completed, not 9
        runs, 3 of them failed). A sweep partly put back counts its cells still in the bin (it said "1 cell" of a
        6-cell sweep, which re-opens whole); a sweep wholly in the bin is not listed."""
        where, params = ("sweep_id IS NOT NULL", []) if owner is None else ("sweep_id IS NOT NULL AND owner = ?",
                                                                            [owner])
        live = "deleted_at IS NULL"
        rows = self.history.query(
            f"SELECT sweep_id, MIN(first), COUNT(*), SUM({live} AND status = 'completed'), "
            f"SUM({live} AND status IN ('failed', 'cancelled', 'interrupted')), SUM({live} AND status IN {_ACTIVE}), "
            f"SUM(NOT ({live})) FROM ("
            "SELECT sweep_id, status, deleted_at, MIN(created_at) OVER (PARTITION BY sweep_id) AS first, "
            "ROW_NUMBER() OVER (PARTITION BY sweep_id, COALESCE(cell, id) "
            f"ORDER BY {live} DESC, created_at DESC, rowid DESC) AS newest "
            f"FROM runs WHERE {where}) WHERE newest = 1 GROUP BY sweep_id HAVING SUM({live}) > 0 "
            "ORDER BY MIN(first) DESC", params)
        return [SweepSummary(*row) for row in rows]
