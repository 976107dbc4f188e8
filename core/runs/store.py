"""The history store every door shares: one per data directory, opened on first use (never at import)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from core import config, storage
from core.runs.runs import Run

if TYPE_CHECKING:  # pandas and SQLite load when the history is first opened, not at import
    from core.runs.history import History

_stores: dict[str, History] = {}
_lock = threading.Lock()


def store() -> History:
    """The History of the current data directory (``config.data_dir()``, read per call). On first use, room is
    set aside to record how runs end should the disk fill (``core/storage.py``: ``keep_room``). StorageError when
    the database is busy beyond its timeout or its folder is read-only."""
    from core.runs.history import History

    path = str(config.data_dir())
    with _lock:
        if path not in _stores:
            with storage.writing("open the history"):
                _stores[path] = History.open_default()
            storage.keep_room(config.data_dir())
        return _stores[path]


def save(run: Run) -> None:
    """Save ``run`` in the current data directory's history (insert or update by run id)."""
    store().save(run)
