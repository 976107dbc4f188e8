"""Names a person recognises a run by: the picture's own name, kept with the run, and the output's download
name made from it (``<input stem>_x<factor>_<seed>.png``), safe on any file system."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

_UNSAFE = re.compile(r"[^\w.\- ]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}
MAX_NAME = 80


def safe_file_name(name: str, fallback: str = "image") -> str:
    """``name`` usable as a file name on Windows, macOS and Linux: no separators or control characters, no
    reserved device names, no leading dots, at most ``MAX_NAME`` characters (its extension kept)."""
    text = unicodedata.normalize("NFC", name).replace("/", "_").replace("\\", "_")
    text = _UNSAFE.sub("_", "".join(c for c in text if unicodedata.category(c)[0] != "C")).strip(" ._")
    stem, dot, suffix = text.rpartition(".")
    if not dot:
        stem, suffix = text, ""
    suffix = suffix[:10]
    stem = stem[: MAX_NAME - len(suffix) - 1].rstrip(" ._") if suffix else stem[:MAX_NAME]
    if not stem or stem.lower() in _RESERVED:
        stem = fallback if not stem else f"{stem}_"
    return f"{stem}.{suffix}" if suffix else stem


def input_name(upload: str | None, url: str | None) -> str | None:
    """The picture's own name: an uploaded file's name, or an https URL's last path segment; None for a data URI
    or nothing."""
    if upload:
        return safe_file_name(PurePosixPath(str(upload).replace("\\", "/")).name)
    text = (url or "").strip()
    if text.lower().startswith(("http://", "https://")):
        segment = unquote(PurePosixPath(urlparse(text).path).name)
        return safe_file_name(segment) if segment else None
    return None


def output_name(name: str | None, factor: float | None, seed: int | None) -> str:
    """The download name of an output: ``<input stem>_x<factor>_<seed>.png`` (``image`` when the input had none)."""
    stem = PurePosixPath(safe_file_name(name or "image")).stem or "image"
    parts = [stem]
    if factor is not None:
        parts.append(f"x{float(factor):g}")
    if seed is not None:
        parts.append(str(seed))
    return safe_file_name("_".join(parts) + ".png")
