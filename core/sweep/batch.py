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


def _batch_file(owner: str) -> Path:
    folder = config.data_dir() / "sweeps" / "batches"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{hashlib.sha256(owner.encode()).hexdigest()[:24]}.json"  # one per owner, name not shown


def save_batch(owner: str, files: Iterable[str]) -> dict[str, str]:
    """Store uploaded images as inputs and remember them for this owner as ``{label: path}`` (labels unique)."""
    batch: dict[str, str] = {}
    for file in files:
        loaded = images.load_file(file)
        base = re.sub(r"[,\"|=·]+", "_", Path(file).stem).strip() or "image"  # labels go into CSV and labels
        label, number = base, 2
        while label in batch:
            label, number = f"{base}-{number}", number + 1
        batch[label] = loaded.path
    data = json.dumps(batch).encode()
    storage.write_atomic(_batch_file(owner), lambda out: out.write(data), "save the batch")
    return batch


def resolve_images(tokens: Iterable[str], owner: str, fetch: bool = True) -> dict[str, str | None]:
    """``{token: input path}`` for an image axis: this owner's uploaded batch labels, or https:// URLs (fetched
    only when ``fetch``; else None)."""
    try:
        batch = json.loads(_batch_file(owner).read_text())
    except (OSError, ValueError):
        batch = {}
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
