"""Names a person recognises a run by: the picture's own name, kept with the run, and the output's download
name made from it (``<input stem>_x<factor>_<seed or engine>.png``), safe on any file system."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

# Windows forbids <>:"/\\|?* and control characters; keep letters of any script, and "+" (a region's offsets)
_UNSAFE = re.compile(r"[^\w.\-+ ]+")
_RESERVED = {"con", "prn", "aux", "nul", "conin$", "conout$",
             *(f"{port}{n}" for port in ("com", "lpt") for n in (*"123456789", "¹", "²", "³"))}
MAX_NAME = 80  # characters: long enough to recognise a picture, short enough for a download bar
MAX_BYTES = 200  # bytes of UTF-8: under the 255 of ext4, APFS and NTFS, and Gradio's own cut when it caches a
# file to serve it (gradio_client.utils.strip_invalid_filename_characters drops a longer name's last bytes)


def _fitted(stem: str, tail: str, fallback: str) -> str:
    """``stem + tail`` within ``MAX_NAME`` characters and ``MAX_BYTES`` UTF-8 bytes: the stem is shortened,
    never the tail (an extension, a factor, a seed); no trailing dots or spaces; no Windows device name."""
    stem = stem[: max(0, MAX_NAME - len(tail))]
    while stem and len((stem + tail).encode("utf-8")) > MAX_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" ._") or fallback
    first, dot, rest = stem.partition(".")
    if first.rstrip(" ").lower() in _RESERVED:  # "CON", "con.tar.gz", "COM1 " are devices on Windows
        stem = f"{first}_{dot}{rest}"[: max(len(first) + 1, MAX_NAME - len(tail))].rstrip(" .")
    return stem + tail


def safe_file_name(name: str, fallback: str = "image") -> str:
    """``name`` usable as a file name on Windows, macOS and Linux: no separators or control characters, no
    reserved device names, no leading or trailing dots or spaces, at most ``MAX_NAME`` characters and
    ``MAX_BYTES`` bytes of UTF-8 (shortened in its stem, its extension kept)."""
    text = unicodedata.normalize("NFC", name).replace("/", "_").replace("\\", "_")
    text = _UNSAFE.sub("_", "".join(c for c in text if unicodedata.category(c)[0] != "C")).strip(" ._")
    stem, dot, suffix = text.rpartition(".")
    if not dot or not stem:
        stem, suffix = text, ""
    suffix = suffix[:10].rstrip(" ._")
    return _fitted(stem, f".{suffix}" if suffix else "", fallback)


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


def source_url(upload: str | None, url: str | None) -> str | None:
    """The https URL a picture was given as (kept with its run beside what fal received), or None for an upload,
    a data URI or nothing."""
    text = (url or "").strip()
    return text if not upload and text.lower().startswith("https://") else None


def output_name(name: str | None, factor: float | None, seed: int | None, region: str | None = None,
                engine: str | None = None) -> str:
    """The download name of an output: ``<input stem>_x<factor>_<seed>.png`` (``image`` when the input had none);
    with no seed (an engine that uses none), the ``engine``'s name in its place (``coffee_x2_lanczos.png``: the
    local and lanczos outputs of one picture had the same name); a region run's with its region's tag before the
    extension (``_region-384x384+100+50``). A long name loses the end of its stem, never the factor, the seed, the
    engine or the region (a cut seed names another seed)."""
    stem = PurePosixPath(safe_file_name(name or "image")).stem or "image"
    told = f"_{seed}" if seed is not None else (f"_{safe_file_name(engine)}" if engine else "")
    tail = (f"_x{float(factor):g}" if factor is not None else "") + told + (f"_{region}" if region else "")
    return _fitted(stem, tail + ".png", "image")
