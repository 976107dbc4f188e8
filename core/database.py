"""SQLite transactions the history, the sweep records and the budget ledger share one database file with.

A table is created and upgraded (columns added, rows rewritten) inside :func:`immediate`: a write transaction
taken *before* the first look at the table. A second process opening the same file at the same moment (another app
on the same data directory, a reader) then waits for the first one's upgrade and finds it made, instead of reading
the old table, adding the same column again and failing with "duplicate column name".
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` (waiting up to the connection's busy timeout for another writer), ``COMMIT`` at the end
    of the block, ``ROLLBACK`` on any error. ``conn`` must be in autocommit mode (``isolation_level=None``)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
