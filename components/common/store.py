"""The history store the panels share: one per data directory, opened on first use (never at import)."""

from __future__ import annotations

import threading

from core import config
from core.runs.runs import Run

_stores: dict[str, object] = {}
_lock = threading.Lock()


def store():  # -> core.history.History
    """The History of the current data directory."""
    from core.runs.history import History

    path = str(config.data_dir())
    with _lock:
        if path not in _stores:
            _stores[path] = History.open_default()
        return _stores[path]


def save(run: Run) -> None:
    store().save(run)
