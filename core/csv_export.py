"""CSV files that are safe to open: every CSV the app writes goes through ``write_csv``.

- **No formulas.** A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (OWASP's "CSV
  injection" list; their full-width forms too, which some spreadsheets also read as formulas) is prefixed with
  ``'``, unless it is a real number written plainly (``-0.5``, ``+3``, ``1e-3``): a negative number stays a number.
- **No server paths.** File paths become relative to the data directory (a path outside it: its name only), and
  the data directory is removed from any other text (an error message, say).
- **Readable text.** UTF-8 with a byte-order mark (``utf-8-sig``), so spreadsheet programs do not guess a
  legacy code page for accents and CJK text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
ENCODING = "utf-8-sig"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula; anything else unchanged."""
    if not isinstance(value, str):
        return value
    if value.lstrip(" ").startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value.strip()):
        return "'" + value
    return value


def relative_path(value: Any, data_dir: Path) -> Any:
    """A file path as the data directory sees it (``outputs/x.png``); outside it, the file name only."""
    if not isinstance(value, str) or not value:
        return value
    path = Path(value)
    if not path.is_absolute():
        return value
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def _scrub(value: Any, prefixes: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for prefix in prefixes:
            value = value.replace(prefix, "")
    return neutralise(value)


def safe_frame(frame: pd.DataFrame, data_dir: Path, path_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy of ``frame`` whose paths are relative, whose text holds no server path and starts no formula."""
    root = data_dir.resolve()
    prefixes = tuple(dict.fromkeys(f"{folder}/" for folder in (str(data_dir), str(root))))
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if column in path_columns:
            values = values.map(lambda v: relative_path(v, data_dir))
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            safe[column] = values.map(lambda v: _scrub(v, prefixes))
    safe.columns = [neutralise(str(name)) for name in safe.columns]
    return safe


def write_csv(frame: pd.DataFrame, path: Path | str, data_dir: Path,
              path_columns: tuple[str, ...] = ("input_path", "output_path", "whole_path")) -> Path:
    """Write ``frame`` at ``path`` as a safe CSV (see the module docstring); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # CRLF rows (RFC 4180): a lone CR inside a cell is then quoted too, not read as the end of a row.
    safe_frame(frame, data_dir, path_columns).to_csv(path, index=False, encoding=ENCODING, lineterminator="\r\n")
    return path
