"""Thumbnails of runs for the History: small PNGs made once per run, from its output (or its input), and kept
in the data directory (``thumbs/<run id>.png``) so a History of thousands of runs shows at once."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PIL import Image

from core import storage
from core.runs.runs import Run
from core.storage import StorageError

SIZE = 160  # pixels, the longer side


def thumbnail(run: Run, data_dir: Path) -> str | None:
    """The run's thumbnail (made on first use), or None when it has no picture on disk."""
    target = data_dir / "thumbs" / f"{run.id}.png"
    if target.is_file():
        return str(target)
    source = next((p for p in (run.output_path, run.input_path) if p and Path(p).is_file()), None)
    if source is None:
        return None
    # A full disk or a read-only directory means no thumbnail (never a half-written one): the History still lists it.
    with contextlib.suppress(OSError, ValueError, StorageError), Image.open(source) as image:
        image.draft("RGB", (SIZE, SIZE))  # JPEG decodes at a fraction of its size; others as they are
        image.thumbnail((SIZE, SIZE), Image.Resampling.LANCZOS)
        storage.write_atomic(target, lambda out: image.save(out, format="PNG"), "save a thumbnail")
        return str(target)
    return None
