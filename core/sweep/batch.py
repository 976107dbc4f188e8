"""The images of an image axis (batch mode): a visitor's uploaded batch, kept per owner, and https:// URLs."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path

from core import config, storage
from core.errors import InputError
from core.inputs import images
from core.runs import names


def _batch_file(owner: str) -> Path:
    folder = config.data_dir() / "sweeps" / "batches"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{hashlib.sha256(owner.encode()).hexdigest()[:24]}.json"  # one per owner, name not shown


def save_batch(owner: str, files: Iterable[str], names: Iterable[str | None] = ()) -> dict[str, str]:
    """Store uploaded images as inputs and remember them for this owner as ``{label: path}`` (labels unique), with
    each one's file name (``names``, in order: the name it was uploaded as; else the file's own)."""
    batch: dict[str, str] = {}
    shown: dict[str, str] = {}
    given = list(names)
    for number_in_batch, file in enumerate(files):
        loaded = images.load_file(file)
        name = (given[number_in_batch] if number_in_batch < len(given) else None) or Path(file).name
        base = re.sub(r"[,\"|=·]+", "_", Path(name).stem).strip() or "image"  # labels go into CSV and labels
        label, number = base, 2
        while label in batch:
            label, number = f"{base}-{number}", number + 1
        batch[label], shown[label] = loaded.path, name
    _write(owner, batch, shown)
    return batch


def restore_batch(owner: str, pictures: dict[str, str], shown: dict[str, str]) -> None:
    """Make ``pictures`` (``{label: stored input path}``, with their file names ``shown``) this owner's batch again:
    a re-opened sweep's image axis then names its own pictures, not those of the last batch uploaded."""
    _write(owner, pictures, {label: name for label, name in shown.items() if label in pictures})


def _write(owner: str, files: dict[str, str], shown: dict[str, str]) -> None:
    data = json.dumps({"files": files, "names": shown}).encode()
    storage.write_atomic(_batch_file(owner), lambda out: out.write(data), "save the batch")


def _stored(owner: str) -> tuple[dict[str, str], dict[str, str]]:
    """This owner's batch: ``{label: path}`` and ``{label: file name}`` (a batch saved by an older version has
    its labels only)."""
    try:
        data = json.loads(_batch_file(owner).read_text())
    except (OSError, ValueError):
        return {}, {}
    if isinstance(data, dict) and isinstance(data.get("files"), dict):
        return data["files"], data.get("names") or {}
    return (data, {}) if isinstance(data, dict) else ({}, {})


def image_names(tokens: Iterable[str], owner: str) -> dict[str, str]:
    """The name each picture of an image axis goes by in the history: an upload's file name ("chelsea.png" for
    the label "chelsea"), a URL's last segment."""
    _, shown = _stored(owner)
    return {token: shown.get(token) or names.input_name(None, token) or token for token in tokens}


def resolve_images(tokens: Iterable[str], owner: str, fetch: bool = True) -> dict[str, str | None]:
    """``{token: input path}`` for an image axis: this owner's uploaded batch labels, or https:// URLs (fetched
    only when ``fetch``; else None)."""
    batch, _ = _stored(owner)
    found: dict[str, str | None] = {}
    for token in tokens:
        if token in batch and Path(batch[token]).is_file():
            found[token] = batch[token]
        elif token.lower().startswith("https://"):
            found[token] = images.load_url(token).path if fetch else None
        else:
            raise InputError(f"Input image axis: no uploaded image is called {token!r}; upload the images in the "
                             f"batch box or give https:// URLs. Uploaded: {', '.join(batch) or 'none'}.", "image")
    return found
