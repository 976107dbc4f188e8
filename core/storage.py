"""When the machine runs out: a failed write to the data directory or the history database, in words.

Every write site (the output PNG, thumbnails, stored inputs, history and sweep rows, the budget ledger) turns an
``OSError`` or ``sqlite3`` error that means a resource ran out into a :class:`StorageError` naming what ran out:

    ENOSPC / "database or disk is full"     the server's disk is full (space or inodes)
    EDQUOT                                  the data directory's disk quota is used up
    EFBIG / "string or blob too big"        a file would be larger than the server allows
    EROFS / "readonly database"             the data directory is read-only
    "database is locked" / "busy"           the history database is busy (held beyond the 5 s busy timeout)
    "file is not a database" / "malformed"  the history database file is damaged
    EMFILE / ENFILE                         the server has too many files open
    EIO / "disk I/O error"                  the disk failed to read or write

Other errors pass through unchanged (a bug keeps its traceback). :func:`write_atomic` writes a file whole or not at
all: to a temporary file beside it, renamed into place, and the temporary file removed on any failure.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from core.errors import StudioError

DISK_FULL, QUOTA, TOO_LARGE, READ_ONLY = "disk full", "quota", "file too large", "read-only"
BUSY, DAMAGED, TOO_MANY_FILES, IO = "database busy", "database damaged", "too many open files", "disk error"

_ERRNO_KINDS = {errno.ENOSPC: DISK_FULL, errno.EDQUOT: QUOTA, errno.EFBIG: TOO_LARGE, errno.EROFS: READ_ONLY,
                errno.EMFILE: TOO_MANY_FILES, errno.ENFILE: TOO_MANY_FILES, errno.EIO: IO}
_SQLITE_KINDS = (("database or disk is full", DISK_FULL), ("disk quota", QUOTA), ("too big", TOO_LARGE),
                 ("readonly", READ_ONLY), ("read-only", READ_ONLY), ("locked", BUSY), ("busy", BUSY),
                 ("not a database", DAMAGED), ("malformed", DAMAGED), ("disk i/o error", IO),
                 ("unable to open database file", READ_ONLY))
WORDS = {
    DISK_FULL: "the server's disk is full",
    QUOTA: "the data directory's disk quota is used up",
    TOO_LARGE: "the file would be larger than the server allows",
    READ_ONLY: "the data directory is read-only",
    BUSY: "the history database is busy (another process holds it)",
    DAMAGED: "the history database file is damaged (not a database)",
    TOO_MANY_FILES: "the server has too many files open",
    IO: "the server's disk failed to read or write",
}


class StorageError(StudioError):
    """A write to the data directory or the history database failed because a resource ran out.

    ``kind`` is one of the constants above (``DISK_FULL``, ``BUSY``, ...); ``words`` says it in a clause
    ("the server's disk is full"); ``message`` is the whole sentence for the person."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.words = WORDS[kind]


def kind_of(exc: BaseException) -> str | None:
    """What ran out, when ``exc`` is an OSError or sqlite3 error of that kind (else None)."""
    if isinstance(exc, StorageError):
        return exc.kind
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        return next((kind for marker, kind in _SQLITE_KINDS if marker in text), None)
    if isinstance(exc, OSError):
        return _ERRNO_KINDS.get(exc.errno or -1)
    return None


def error(exc: BaseException, doing: str) -> StorageError | None:
    """``exc`` as a StorageError ("Could not save the output: the server's disk is full."), or None when it is not
    a resource running out. ``doing`` says what was being written, as a verb phrase ("save the output")."""
    kind = kind_of(exc)
    if kind is None:
        return None
    if isinstance(exc, StorageError):
        return exc
    if kind == BUSY:
        return StorageError(f"Could not {doing}: {WORDS[kind]}; nothing was spent — try again.", kind)
    return StorageError(f"Could not {doing}: {WORDS[kind]}.", kind)


@contextlib.contextmanager
def writing(doing: str) -> Iterator[None]:
    """Turn a resource running out inside the block into a :class:`StorageError` (see :func:`error`)."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        translated = error(exc, doing)
        if translated is None:
            raise
        raise translated from exc


def write_atomic(target: Path, write: Callable[[BinaryIO], object], doing: str = "save a file") -> None:
    """Write ``target`` whole or not at all: ``write(file)`` fills a temporary file beside it, which is then
    renamed over ``target``; on any failure the temporary file is removed. StorageError when a resource ran out."""
    with writing(doing):
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                write(out)
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise


BALLAST_NAME, BALLAST_BYTES = ".room-to-record", 512 * 1024


def keep_room(data_dir: Path) -> None:
    """Set aside ``BALLAST_BYTES`` in the data directory (a file of zeros), so that when the disk fills there is
    still room to record how runs ended (:func:`make_room`). Best effort: never raises."""
    ballast = data_dir / BALLAST_NAME
    with contextlib.suppress(OSError):
        if not ballast.is_file() or ballast.stat().st_size < BALLAST_BYTES:
            with open(ballast, "wb") as out:
                out.write(bytes(BALLAST_BYTES))
                out.flush()
                os.fsync(out.fileno())


def make_room(data_dir: Path) -> bool:
    """Give back the room :func:`keep_room` set aside (the disk is full and a run's end must be recorded);
    whether there was any to give."""
    try:
        (data_dir / BALLAST_NAME).unlink()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def removed_on_failure(partial: Path) -> Iterator[None]:
    """Remove the half-written file ``partial`` when the block fails (whatever the error), then re-raise."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
