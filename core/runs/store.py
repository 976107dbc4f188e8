"""The history store every door shares: one per data directory, opened on first use (never at import)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from core import config
from core.runs.runs import Run

if TYPE_CHECKING:  # pandas and SQLite load when the history is first opened, not at import
    from core.runs.history import History

_stores: dict[str, History] = {}
_lock = threading.Lock()


def store() -> History:
    """The History of the current data directory (``config.data_dir()``, read per call)."""
    from core.runs.history import History

    path = str(config.data_dir())
    with _lock:
        if path not in _stores:
            _stores[path] = History.open_default()
        return _stores[path]


def save(run: Run) -> None:
    """Save ``run`` in the current data directory's history (insert or update by run id)."""
    store().save(run)
