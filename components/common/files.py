"""Handing a visitor's own files to the page without serving the data directory.

The data directory is never in ``allowed_paths``: Gradio would serve every file in it to anyone who names it
(the database, its journal, the secrets, every visitor's inputs and outputs). A file reaches the page only as an
output of the visitor's own handler, which Gradio copies into its cache under a directory named by a keyed hash of
the content. Gradio takes such outputs from the working directory and the system's temp directory; a data
directory elsewhere (a Space's persistent ``/data``) is copied into the cache here first, with Gradio's own
function. ``file_url`` gives the address of that copy (where Gradio serves the output), as fal's result gives its
CDN link.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from gradio import processing_utils, utils
from gradio_client.utils import encode_file_path

from core.runs.names import safe_file_name


def _named(resolved: Path, name: str) -> Path:
    """The file under the name a person should see it by (a download keeps it): a link, or a copy, in a folder of
    the system's temp directory keyed by the file's path, so two runs' same-named files never collide."""
    folder = Path(tempfile.gettempdir()) / "clarity-named" / hashlib.sha256(str(resolved).encode()).hexdigest()[:20]
    folder.mkdir(parents=True, exist_ok=True)
    named = folder / safe_file_name(name)
    if not named.exists() or named.stat().st_mtime < resolved.stat().st_mtime:
        partial = folder / f".{uuid.uuid4().hex}.part"
        try:
            os.link(resolved, partial)
        except OSError:  # another file system: a copy
            shutil.copyfile(resolved, partial)
        os.replace(partial, named)
    return named


def servable(path: str | None, name: str | None = None) -> str | None:
    """``served(path, name)``; no path ('' or None) stays None."""
    return served(path, name) if path else None


_CACHED: dict[tuple[str, int, int], str] = {}  # (file, mtime, size) → its copy in Gradio's cache
_CACHED_MAX = 512
_CACHED_LOCK = threading.Lock()


def _in_cache(resolved: Path) -> str:
    """The file's copy in Gradio's cache (``<cache>/<keyed hash of the content>/<name>``), made once: the result
    JSON's URL and the output Gradio hands out are one file, hashed once (a 64 MP PNG takes a while)."""
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    with _CACHED_LOCK:
        cached = _CACHED.get(key)
    if cached is None or not Path(cached).is_file():  # Gradio may have cleared its cache since
        cached = processing_utils.save_file_to_cache(resolved, utils.get_upload_folder())
        with _CACHED_LOCK:
            if len(_CACHED) >= _CACHED_MAX:
                _CACHED.pop(next(iter(_CACHED)))
            _CACHED[key] = cached
    return cached


def _taken_as_is(path: Path) -> bool:
    return any(path.is_relative_to(Path(root).resolve()) for root in (os.getcwd(), tempfile.gettempdir()))


def served(path: str, name: str | None = None) -> str:
    """A path Gradio will accept as an output value for ``path`` (the same path, or a cached copy), under
    ``name`` when one is given. The caller has already checked that the file is the visitor's."""
    resolved = Path(path).resolve()
    if name and resolved.is_file() and resolved.name != name:
        resolved = _named(resolved, name)
        path = str(resolved)
    if _taken_as_is(resolved) or not resolved.is_file():
        return path
    return _in_cache(resolved)



def app_root(request: object) -> str:
    """The app's public address without a trailing slash (Gradio's own resolution: proxy headers and a mounted
    root path included), from a ``gr.Request``; '' when the request tells none (a call from inside the server)."""
    raw = getattr(request, "request", None)
    if raw is None or not hasattr(raw, "scope"):
        return ""
    from gradio import route_utils

    try:
        return route_utils.get_root_url(raw, route_utils.get_api_call_path(raw),
                                        getattr(raw.app, "root_path", None) or None)
    except (ValueError, AttributeError):  # an API path Gradio does not know: its origin only
        return str(getattr(raw, "base_url", "") or "").rstrip("/")


def file_url(path: str | None, name: str | None, root: str) -> str | None:
    """The address at which Gradio serves ``path`` (under ``name``) as an output: ``<root>/gradio_api/file=`` and
    the file's place in Gradio's cache, a folder named by a hash of its content keyed with Gradio's secret hash
    seed, so it cannot be guessed (like fal's CDN links). The same file handed to Gradio as an output lands at
    this very place, so the address serves it. None without a file; relative to the app when ``root`` is ''."""
    if not path or not Path(path).is_file():
        return None
    return f"{root}/gradio_api/file={encode_file_path(_in_cache(Path(served(path, name)).resolve()))}"
