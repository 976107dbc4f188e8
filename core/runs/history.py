"""The persistent history: one SQLite row per Run (WAL mode), and the pandas views the UI and CSV export use.

Saved at submit and at every change of state (an upsert), so a crash loses nothing and pending fal requests can
be resumed. Queries are filtered by owner when one is given (``owner=None``: the single-user local app, all rows).
The store never holds a key: only Run fields and schema parameters.

Deleting is undoable: ``delete`` / ``delete_sweep`` move runs to a bin (a ``deleted_at`` time; every read but
``get(..., binned=True)`` and the ``binned`` listings leaves them out), ``undelete`` puts them back, and only
``purge`` — the bin emptied, or runs in it for ``BIN_DAYS`` days — removes rows and files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from core import config, database, storage
from core.csv_export import write_csv
from core.inputs.images import before_path
from core.runs.runs import Run, iso_time
from core.schema import FIELD_BY_NAME, PARAMETER_FIELDS

SCHEMA_VERSION = 2  # 2: rows of older versions put right (see _migrate_to_2)
BIN_DAYS = 7  # a deleted run stays in the bin (restorable, its files kept) this long, then it is purged
_LIVE, _BINNED = "deleted_at IS NULL", "deleted_at IS NOT NULL"
FILE_NAME = "history.sqlite3"
ACTIVE_STATUSES = ("queued", "running", "unsaved")  # unsaved: finished at fal, its output not saved yet
INTERRUPTED = "The app stopped before this run finished."
SQLValue = str | int | float | bytes | None  # what a SQLite cell holds
_ELIDED = "…"  # a data: URI is kept as its header plus this mark; the image itself is the run's input file

# The plain column ``seed`` is the seed actually used (Run.seed); the seed asked for (None = random) sits apart.
_PARAM_COLUMNS = {("requested_seed" if f.name == "seed" else f.name): f for f in PARAMETER_FIELDS}
_LEADING = ("id", "created_at", "owner", "engine", "model", "status")
_RUN_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(Run) if f.name != "arguments"}


def _sql_type(kind: str) -> str:
    return {"float": "REAL", "int": "INTEGER", "bool": "INTEGER"}.get(kind.split("|")[0].strip(), "TEXT")


_COLUMN_TYPES: dict[str, str] = {
    **{name: _sql_type(_RUN_FIELDS[name]) for name in _LEADING},
    **{name: _sql_type(f.kind) for name, f in _PARAM_COLUMNS.items()},
    "image_url": "TEXT",
    **{name: _sql_type(kind) for name, kind in _RUN_FIELDS.items() if name not in _LEADING},
}
COLUMNS: tuple[str, ...] = tuple(_COLUMN_TYPES)
# Every parameter under its endpoint name (the seed is the one used, above): numbers and switches, then texts.
TABLE_PARAMETERS = tuple(sorted((f.name for f in PARAMETER_FIELDS if f.name != "seed"),
                                key=lambda name: FIELD_BY_NAME[name].kind == "str"))
# Engine and model apart; the picture's URL when it came by one (else what fal received); a failure's own words.
TABLE_COLUMNS: tuple[str, ...] = ("time", "input", "status", "engine", "model", "seed", *TABLE_PARAMETERS, "size",
                                  "duration (s)", "image_url", "sweep_id", "cell", "region", "linked run", "error",
                                  "request_id", "id")
_DTYPES = {c: "boolean" if c in _PARAM_COLUMNS and _PARAM_COLUMNS[c].kind == "bool" else
           {"REAL": "float64", "INTEGER": "Int64"}.get(kind, "object") for c, kind in _COLUMN_TYPES.items()}
_UPSERT = (f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
           f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in COLUMNS if c != 'owner')} "
           "WHERE runs.owner IS excluded.owner")


def _row(run: Run) -> tuple[Any, ...]:
    values: dict[str, Any] = {name: getattr(run, name) for name in _RUN_FIELDS}
    values |= {column: run.arguments.get(f.name) for column, f in _PARAM_COLUMNS.items()}
    values["timings"] = json.dumps(run.timings or {}, default=str)
    url = run.arguments.get("image_url")
    if isinstance(url, str) and url.startswith("data:"):
        url = url[: url.find(",") + 1 or 40] + _ELIDED  # megabytes of base64 do not belong in every row
    values["image_url"] = url
    return tuple(values[c] for c in COLUMNS)


def _run(row: sqlite3.Row) -> Run:
    values = dict(zip(row.keys(), row, strict=True))
    url = values.pop("image_url", None)
    arguments: dict[str, Any] = {"image_url": url} if url and not url.endswith(_ELIDED) else {}
    for column, f in _PARAM_COLUMNS.items():
        if (value := values.pop(column, None)) is not None:
            arguments[f.name] = bool(value) if f.kind == "bool" else value
    try:
        timings = json.loads(values.pop("timings", None) or "{}")
    except ValueError:
        timings = {}
    kept = {name: value for name, value in values.items() if name in _RUN_FIELDS}  # a newer file may have more
    return Run(arguments=arguments, timings=timings if isinstance(timings, dict) else {}, **kept)


def _where(search: str = "", extra: str = "", **equal: Any) -> tuple[str, list[Any]]:
    # ``column = value`` for each value that is not None, an extra condition, a LIKE search over the texts.
    clauses = [f"{column} = ?" for column, value in equal.items() if value is not None] + ([extra] if extra else [])
    params = [value for value in equal.values() if value is not None]
    if search.strip():
        pattern = "%" + search.strip().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
        # what a person searches by: a sweep's id and a cell's label ("creativity=0.5") too, as the Sweep tab shows them
        texts = ("prompt", "negative_prompt", "request_id", "id", "input_name", "sweep_id", "cell")
        clauses.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '!'" for c in texts) + ")")
        params += [pattern] * len(texts)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _seed_shown() -> str:
    """The table's seed: the one used, else the one asked for — none on engines that use no seed (older rows of
    theirs kept a random seed that meant nothing)."""
    from core.engines import ENGINES, describe

    seedless = ", ".join(f"'{engine}'" for engine in ENGINES if describe(engine).ignores("seed"))  # the registry's
    shown = "COALESCE(seed, requested_seed)"
    return f"CASE WHEN engine IN ({seedless}) THEN NULL ELSE {shown} END AS seed" if seedless else f"{shown} AS seed"



def _migrate_to_2(conn: sqlite3.Connection) -> None:
    """Put right, in place and once, what rows of older versions (schema 1 and before) hold differently, so every
    reader — the table, the frame and its CSV export, datasets — gets the same answer as for a new row: no seed on
    an engine that uses none (older versions recorded a random one there; the one asked for stays in
    ``requested_seed``), and the queued and running seconds (recorded apart since) from the run's times."""
    from core.engines import ENGINES, describe

    seedless = [engine for engine in ENGINES if describe(engine).ignores("seed")]
    if seedless:
        conn.execute(f"UPDATE runs SET seed = NULL WHERE seed IS NOT NULL AND engine IN "
                     f"({', '.join('?' * len(seedless))})", seedless)
    conn.execute("UPDATE runs SET queued_seconds = MAX(0.0, started_at - created_at) "
                 "WHERE queued_seconds IS NULL AND started_at IS NOT NULL")
    conn.execute("UPDATE runs SET running_seconds = MAX(0.0, finished_at - started_at) "
                 "WHERE running_seconds IS NULL AND started_at IS NOT NULL AND finished_at IS NOT NULL")


def _local_time(timestamp: Any) -> str:
    """ISO 8601 with the zone's offset (``runs.iso_time``); '' for none."""
    return "" if pd.isna(timestamp) else iso_time(float(timestamp)) or ""


EXPORT_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c != "owner")  # never who else uses the app


def export_csv(frame: pd.DataFrame, path: Path | str, data_dir: Path | None = None) -> Path:
    """Write a ``History.frame()`` as a safe CSV (core.csv_export: no formulas, file paths relative to the data
    directory, UTF-8 with BOM): one row per run, every column but ``owner``, times as ISO 8601 with the zone's
    offset ("2026-12-05T08:36:55+01:00")."""
    times = {c: [_local_time(t) for t in frame[c]] for c in ("created_at", "started_at",
             "finished_at") if c in frame and pd.api.types.is_numeric_dtype(frame[c])}
    kept = [c for c in frame.columns if c != "owner"]
    return write_csv(frame.assign(**times)[kept], path, data_dir or config.data_dir())


class History:
    """The run store. Thread-safe: one connection shared under a lock (WAL, busy timeout for other processes)."""

    def __init__(self, path: Path | str, data_dir: Path | str | None = None) -> None:
        self.path = Path(path)
        self.data_dir = Path(data_dir if data_dir is not None else self.path.parent).resolve()
        self.notice: str | None = None  # a plain sentence when the file had to be replaced
        self._lock = threading.RLock()
        self._upgraded: set[Callable[[sqlite3.Connection], object]] = set()  # tables upgraded (``upgrade``)
        self._failed = sqlite3.connect(":memory:")  # the connection that failed to open, see _connect
        try:
            self._conn = self._connect(self.path)
        except (sqlite3.Error, OSError) as exc:
            if "locked" in str(exc) or "busy" in str(exc):  # another process is writing: not damage
                raise
            self._conn = self._recover(exc)

    @classmethod
    def open_default(cls) -> History:
        """The store at ``config.data_dir()/history.sqlite3`` (a damaged file is moved aside, see ``notice``), with
        the runs deleted more than ``BIN_DAYS`` ago purged."""
        history = cls(config.data_dir() / FILE_NAME)
        history.purge(None, older_than=BIN_DAYS * 86400)
        return history

    def _connect(self, path: Path | str) -> sqlite3.Connection:
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # for ":memory:" the parent is "."
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=5.0,  # the busy timeout
                               isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives an app crash, commits fast
            problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("quick_check: " + "; ".join(problems[:3]))
            self._create_schema(conn)
        except BaseException:
            self._failed = conn  # closed only after the files are moved: closing may delete the -wal file
            raise
        return conn

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        with database.immediate(conn):  # another process upgrading the same file waits, then finds it done
            columns = ", ".join(f"{c} {t}{' PRIMARY KEY' if c == 'id' else ''}" for c, t in _COLUMN_TYPES.items())
            conn.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
            # Columns a newer schema added (a new field, a new Run attribute) are added in place: the migration path.
            existing = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
            for column in (c for c in _COLUMN_TYPES if c not in existing):
                conn.execute(f"ALTER TABLE runs ADD COLUMN {column} {_COLUMN_TYPES[column]}")
            if "deleted_at" not in existing:  # when the run went to the bin (None: not deleted); no Run field, so
                conn.execute("ALTER TABLE runs ADD COLUMN deleted_at REAL")  # a save never takes it out of the bin
            for name, spec in (("owner_time", "owner, created_at"), ("time", "created_at"), ("status", "status"),
                               ("sweep", "sweep_id")):
                conn.execute(f"CREATE INDEX IF NOT EXISTS runs_{name} ON runs ({spec})")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                if version < 2:
                    _migrate_to_2(conn)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def upgrade(self, change: Callable[[sqlite3.Connection], object]) -> None:
        """Run ``change`` (another table's creation and migration: ``core.sweep.sweep_store``'s) in one write
        transaction under this store's lock (``core.database.immediate``), once per store. StorageError as
        ``query``."""
        with self._lock, storage.writing("upgrade the history"):
            if change in self._upgraded:
                return
            with database.immediate(self._conn) as conn:
                change(conn)
            self._upgraded.add(change)

    def _recover(self, error: BaseException) -> sqlite3.Connection:
        # Move the unreadable file aside (never delete it) and start afresh; in memory if even that fails.
        reason = str(error) or type(error).__name__
        aside: Path | None  # None: there was no file to move
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        if aside.exists():  # twice within a second
            aside = aside.with_name(f"{aside.name}-{time.time_ns()}")
        try:
            if not (self.path.exists() or self.path.is_symlink()):
                aside = None
            else:
                self.path.rename(aside)
                for suffix in ("-wal", "-shm"):  # renamed so SQLite still pairs them with the moved file
                    side = self.path.with_name(self.path.name + suffix)
                    if side.exists():
                        side.rename(aside.with_name(aside.name + suffix))
            self._failed.close()
            conn = self._connect(self.path)
        except (sqlite3.Error, OSError) as exc:
            self._failed.close()
            self.notice = (f"The history file {self.path.name} could not be opened or replaced ({reason}; {exc}). "
                           "This session's runs are kept in memory only and are lost when the app stops.")
            return self._connect(":memory:")
        kept = f" The old file was kept in the data directory as {aside.name}." if aside else ""
        self.notice = f"The history file could not be read ({reason}), so a new, empty history was started.{kept}"
        return conn

    export_csv = staticmethod(export_csv)  # also reachable from the store the UI holds

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def save(self, run: Run) -> None:
        """Insert or update the run's row (called at submit and at every change of state). StorageError
        (core/storage.py) when the database is busy beyond its timeout, full, read-only or damaged."""
        with self._lock, storage.writing("save the run in the history"):
            cursor = self._conn.execute(_UPSERT, _row(run))
        if cursor.rowcount == 0:  # the id exists under another owner: never let one visitor overwrite another
            raise ValueError(f"Run {run.id} belongs to another owner.")

    def _runs(self, where: tuple[str, list[Any]], order: str = "") -> list[Run]:
        with self._lock:
            cursor = self._conn.cursor()
            cursor.row_factory = sqlite3.Row
            rows = cursor.execute(f"SELECT * FROM runs{where[0]}{order}", where[1]).fetchall()
        return [_run(r) for r in rows]

    def get(self, run_id: str, owner: str | None = None, binned: bool = False) -> Run | None:
        """The run with this id (of this owner, when given), or None; a run in the bin only when ``binned``."""
        return next(iter(self._runs(_where(owner=owner, id=run_id, extra="" if binned else _LIVE))), None)

    def by_request_id(self, request_id: str, owner: str | None = None) -> Run | None:
        """The newest run with this engine request id (of this owner, when given), or None."""
        return next(iter(self._runs(_where(owner=owner, request_id=request_id, extra=_LIVE),
                                    " ORDER BY created_at DESC")), None)

    def runs(self, owner: str | None, search: str = "", status: str | None = None, engine: str | None = None,
             limit: int | None = None) -> list[Run]:
        """The matching runs (not those in the bin) as records, newest first, at most ``limit``."""
        order = " ORDER BY created_at DESC, rowid DESC" + (f" LIMIT {int(limit)}" if limit is not None else "")
        return self._runs(_where(search, owner=owner, status=status or None, engine=engine or None, extra=_LIVE),
                          order)

    def count(self, owner: str | None = None, search: str = "", status: str | None = None,
              engine: str | None = None, binned: bool = False) -> int:
        """How many runs the owner has (that match the search and filters, when given), or has in the bin."""
        where, params = _where(search, owner=owner, status=status or None, engine=engine or None,
                               extra=_BINNED if binned else _LIVE)
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM runs{where}", params).fetchone()[0])

    def delete(self, run_id: str, owner: str | None) -> bool:
        """Move the run to the bin (its files kept until it is purged, see ``purge``). False if not found."""
        return bool(self._to_bin(_where(owner=owner, id=run_id, extra=_LIVE)))

    def delete_sweep(self, sweep_id: str, owner: str | None) -> list[str]:
        """Move every run of the sweep to the bin; the ids moved (none: no such sweep of this owner)."""
        return self._to_bin(_where(owner=owner, sweep_id=sweep_id, extra=_LIVE))

    def _to_bin(self, where: tuple[str, list[Any]]) -> list[str]:
        with self._lock:
            ids = [row[0] for row in self._conn.execute(f"SELECT id FROM runs{where[0]}", where[1])]
            self._conn.executemany("UPDATE runs SET deleted_at = ? WHERE id = ?", [(time.time(), i) for i in ids])
        self.purge(None, older_than=BIN_DAYS * 86400)
        return ids

    def undelete(self, run_ids: Sequence[str], owner: str | None) -> int:
        """Take these runs (of this owner, when given) out of the bin. Returns how many came back."""
        with self._lock:
            return sum(self._conn.execute(f"UPDATE runs SET deleted_at = NULL{where}", params).rowcount
                       for where, params in (_where(owner=owner, id=run_id, extra=_BINNED) for run_id in run_ids))

    def purge(self, owner: str | None, older_than: float | None = None) -> int:
        """Delete for good the runs in the bin (of this owner, when given; only those deleted more than
        ``older_than`` seconds ago, when given) and their files (an input another run uses is kept). How many."""
        where, params = _where(owner=owner, extra=_BINNED)
        if older_than is not None:
            where, params = f"{where} AND deleted_at < ?", [*params, time.time() - older_than]
        with self._lock:
            runs = self._runs((where, params))
            for run in runs:
                self._conn.execute("DELETE FROM runs WHERE id = ?", (run.id,))
                for derived in self._derived(run):  # copies of its input and output: gone with it
                    self._remove_file(str(derived))
                for path in dict.fromkeys(p for p in (run.output_path, run.input_path, run.whole_path) if p):
                    used = self._conn.execute("SELECT 1 FROM runs WHERE input_path = ? OR output_path = ? "
                                              "OR whole_path = ? LIMIT 1", (path, path, path)).fetchone()
                    if not used:
                        self._remove_file(path)
            for sweep_id in dict.fromkeys(run.sweep_id for run in runs if run.sweep_id):
                left = self._conn.execute("SELECT 1 FROM runs WHERE sweep_id = ? LIMIT 1", (sweep_id,)).fetchone()
                folder = self._sweep_folder(sweep_id)
                if not left and folder is not None:  # its last run gone: its sheet, CSV, thumbnails, exports too
                    shutil.rmtree(folder, ignore_errors=True)
        return len(runs)

    def _derived(self, run: Run) -> list[Path]:
        """What the app made from a run's pictures: the slider's copy of its input, its History thumbnail and its
        sweep grid's (``core/runs/thumbs.py``, ``core/sweep/web_page.py``)."""
        made = [before_path(run.id, self.data_dir), self.data_dir / "thumbs" / f"{run.id}.png"]
        folder = self._sweep_folder(run.sweep_id)
        return [*made, folder / "thumbs" / f"{run.id}.jpg"] if folder is not None else made

    def _sweep_folder(self, sweep_id: str | None) -> Path | None:
        """``data/sweeps/<sweep_id>/`` (``core/sweep/sweep_run.sweep_dir``), or None for an id that would name
        anything else (a path, or the folders of status tiles and batches kept beside the sweeps)."""
        if not sweep_id or sweep_id in (".", "..", "tiles", "batches") or Path(sweep_id).name != sweep_id:
            return None
        return self.data_dir / "sweeps" / sweep_id

    def _remove_file(self, path: str) -> None:
        target = Path(path).resolve()
        # Only files inside the data directory: a row must never be able to point the app at anything else.
        if target.is_relative_to(self.data_dir) and target != self.path.resolve() and target.is_file():
            with contextlib.suppress(OSError):
                target.unlink()

    def pending(self, engine: str | None = None) -> list[Run]:
        """Runs left queued or running (oldest first), for resuming at start-up."""
        return self._runs(_where(extra=f"status IN {ACTIVE_STATUSES}", engine=engine), " ORDER BY created_at")

    def mark_interrupted(self, engine: str | None = "local") -> int:
        """Mark the engine's unfinished runs interrupted (a local run dies with the app). Returns how many."""
        where, params = _where(extra=f"status IN {ACTIVE_STATUSES}", engine=engine)
        sql = f"UPDATE runs SET status = 'interrupted', finished_at = ?, error = COALESCE(error, ?){where}"
        with self._lock, storage.writing("mark interrupted runs in the history"):
            return self._conn.execute(sql, [time.time(), INTERRUPTED, *params]).rowcount

    def runs_for_sweep(self, sweep_id: str, owner: str | None, binned: bool = False) -> list[Run]:
        """The runs of one sweep in the order they were made (``binned``: those in the bin instead)."""
        return self._runs(_where(owner=owner, sweep_id=sweep_id, extra=_BINNED if binned else _LIVE),
                          " ORDER BY created_at, rowid")

    def query(self, sql: str, params: Sequence[SQLValue] = ()) -> list[sqlite3.Row]:
        """One statement on this database, under its lock; its rows (for ``core.sweep.sweep_store``'s own table).
        StorageError when the database is busy, full, read-only or damaged."""
        with self._lock, storage.writing("write the sweep in the history"):
            cursor = self._conn.cursor()
            cursor.row_factory = sqlite3.Row
            return cursor.execute(sql, list(params)).fetchall()

    def _select(self, columns: list[str], owner: str | None, search: str, status: str | None, engine: str | None,
                limit: int | None, offset: int = 0, binned: bool = False) -> pd.DataFrame:
        where, params = _where(search, owner=owner, status=status or None, engine=engine or None,
                               extra=_BINNED if binned else _LIVE)
        sql = f"SELECT {', '.join(columns)} FROM runs{where} ORDER BY created_at DESC, rowid DESC"
        if limit is not None or offset:
            sql, params = sql + " LIMIT ? OFFSET ?", [*params, -1 if limit is None else int(limit), int(offset)]
        # Typed even when every value is NULL: nullable integers and booleans, never floats with NaN.
        dtype = {name: _DTYPES[name] for name in (c.split()[-1] for c in columns) if name in _DTYPES}
        with self._lock:
            return pd.read_sql_query(sql, self._conn, params=params, dtype=dtype)

    def frame(self, owner: str | None, search: str = "", status: str | None = None, engine: str | None = None,
              limit: int | None = None, binned: bool = False) -> pd.DataFrame:
        """Every column of the matching runs (or of those in the bin), newest first (for export and the API)."""
        return self._select(list(COLUMNS), owner, search, status, engine, limit, binned=binned)

    def table(self, owner: str | None, search: str = "", status: str | None = None, engine: str | None = None,
              limit: int | None = 500, offset: int = 0, binned: bool = False) -> pd.DataFrame:
        """``TABLE_COLUMNS`` of the newest runs after ``offset`` (in the bin, when ``binned``), at most ``limit``:
        the time as ISO 8601 with its zone's offset, engine and model apart, size, duration, the picture's URL when
        it came by one (``source_url``; else the https URL fal received), the sweep and cell, a failure's error."""
        shown = ["created_at", "COALESCE(input_name, '') AS input", "status",
                 "engine", "model",
                 _seed_shown(),
                 *TABLE_PARAMETERS,
                 "COALESCE(width || '×' || height, '') AS size",
                 "started_at", "finished_at",
                 "COALESCE(source_url, CASE WHEN image_url LIKE 'data:%' THEN NULL ELSE image_url END) AS image_url",
                 "sweep_id", "cell", "region", "linked_run AS \"linked run\"", "error", "request_id", "id"]
        raw = self._select(shown, owner, search, status, engine, limit, offset, binned)
        duration = (raw["finished_at"] - raw["started_at"].fillna(raw["created_at"])).round(1)
        table = raw.assign(time=[_local_time(t) for t in raw["created_at"]], **{"duration (s)": duration})
        return table[list(TABLE_COLUMNS)]
