"""Runs as a dataset: a zip in Hugging Face's ``imagefolder`` layout, which ``datasets.load_dataset("imagefolder",
data_dir=<the unzipped folder>)`` loads offline with typed columns.

The zip holds one folder (its name is the zip's stem) with every finished run's output PNG and a
``metadata.jsonl``: one JSON object per picture, ``file_name`` first, then the same columns in every row —

- ``run_id``, ``request_id``, ``engine``, ``model``, ``sweep_id``, ``cell`` (strings or null);
- every parameter of the endpoint (``core/schema.py``), with the value actually sent (the schema's default when a
  run omitted it) in the field's type, and ``seed`` as the one the engine used (null where it uses none);
- ``width``, ``height`` (output pixels), ``input_name``, ``source_url`` (the https address the picture was given
  as, never a data URI);
- ``created_at`` (ISO 8601, UTC), ``queue_seconds``, ``run_seconds`` and ``timings`` flattened to
  ``timing_<name>`` (seconds, as the engine reported them);
- whatever ``extra`` gives per run (a sweep's axis values and metrics: ``x_axis``, ``x_value``, ``psnr``, …).

JSON Lines keeps prompts exact: no spreadsheet opens it, so nothing is neutralised. No key and no server path is
written (runs hold neither; output files are renamed ``<run id>.png``).
"""

from __future__ import annotations

import json
import math
import shutil
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.engines import ENGINES, describe
from core.runs.runs import Run
from core.schema import PARAMETER_FIELDS

_TYPES = {"float": float, "int": int, "bool": bool, "str": str, "url": str}


@dataclass(frozen=True)
class DatasetZip:
    """A written dataset: the zip's path, how many pictures it holds and how many runs were left out (not
    finished, or their output file is gone)."""

    path: Path
    rows: int
    skipped: int


def _typed(kind: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        typed = _TYPES[kind](value)
    except (TypeError, ValueError):
        return None
    return None if isinstance(typed, float) and not math.isfinite(typed) else typed


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def row(run: Run, file_name: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``metadata.jsonl`` object of one run (its ``timing_*`` keys are the engine's own)."""
    parameters = {field.name: _typed(field.kind, run.arguments.get(field.name, field.default))
                  for field in PARAMETER_FIELDS}
    uses_seed = run.engine not in ENGINES or not describe(run.engine).ignores("seed")
    parameters["seed"] = run.seed if uses_seed else None  # the seed used; null for an engine that uses none
    source = run.source_url if (run.source_url or "").startswith("https://") else None
    timings = {f"timing_{name}": _seconds(value) for name, value in sorted(run.timings.items())
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    return {"file_name": file_name, "run_id": run.id, "request_id": run.request_id, "engine": run.engine,
            "model": run.model, "sweep_id": run.sweep_id, "cell": run.cell, **parameters, "width": run.width,
            "height": run.height, "input_name": run.input_name, "source_url": source,
            "created_at": _iso(run.created_at), "queue_seconds": _seconds(run.queue_seconds),
            "run_seconds": _seconds(run.run_seconds), **timings, **(extra or {})}


def write(runs: Sequence[Run], zip_path: Path, extra: Mapping[str, Mapping[str, Any]] | None = None) -> DatasetZip:
    """Write the finished runs among ``runs`` (with their output file) as an imagefolder zip at ``zip_path``;
    ``extra`` maps a run id to more columns for its row. Every row gets every column (null where a run has none),
    so each column keeps one type."""
    kept = [run for run in runs if run.status == "completed" and run.output_path and Path(run.output_path).is_file()]
    rows = [row(run, f"{run.id}.png", (extra or {}).get(run.id)) for run in kept]
    columns = list(dict.fromkeys(key for found in rows for key in found))
    folder = zip_path.stem
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    partial = zip_path.with_name(zip_path.name + ".part")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:  # PNGs are compressed
            for run, found in zip(kept, rows, strict=True):
                with open(str(run.output_path), "rb") as source, archive.open(f"{folder}/{found['file_name']}",
                                                                              "w") as target:
                    shutil.copyfileobj(source, target)
            lines = "".join(json.dumps({key: found.get(key) for key in columns}, ensure_ascii=False) + "\n"
                            for found in rows)
            archive.writestr(f"{folder}/metadata.jsonl", lines)
        partial.replace(zip_path)
    finally:
        partial.unlink(missing_ok=True)
    return DatasetZip(zip_path, len(rows), len(runs) - len(kept))
