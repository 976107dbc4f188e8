"""Run: one request's parameters, seed, request id, status, timings and files — a history row."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from core.schema import PARAMETER_FIELDS

# unsaved: the engine finished the run, its output is not saved yet (core/runs/unsaved.py saves it again)
STATUSES = ("queued", "running", "unsaved", "completed", "failed", "cancelled", "interrupted")
FINAL_STATUSES = ("completed", "failed", "cancelled", "interrupted")


def ignores_seed(engine: str) -> bool:
    """Whether runs on ``engine`` use no seed (its descriptor says the seed cannot change its output: local,
    lanczos); such a run records none (``seed`` None), whatever seed was asked for."""
    from core.engines import ENGINES, describe

    return engine in ENGINES and describe(engine).ignores("seed")


def iso_time(timestamp: float | None) -> str | None:
    """Seconds since the epoch as ISO 8601 in the server's local time with its UTC offset
    ("2026-12-05T08:36:55+01:00"), as the history's API shapes and exports give times; None stays None."""
    if timestamp is None or timestamp != timestamp:  # NaN: a missing value read through pandas
        return None
    return datetime.fromtimestamp(float(timestamp)).astimezone().isoformat(timespec="seconds")


def new_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class Run:
    """One run of the endpoint on one engine. ``arguments`` hold every schema field actually sent."""

    engine: str
    arguments: dict[str, Any]
    id: str = field(default_factory=new_id)
    created_at: float = field(default_factory=time.time)
    owner: str = ""
    status: str = "queued"
    request_id: str | None = None
    seed: int | None = None  # the seed actually used (from the result)
    error: str | None = None
    error_field: str | None = None
    started_at: float | None = None  # left the queue: the engine began running it (IN_PROGRESS)
    finished_at: float | None = None  # ended: for a completed run, once its output PNG was kept
    queued_seconds: float | None = None  # waiting: from the click (upload and submit included) to IN_PROGRESS
    running_seconds: float | None = None  # the engine running it: IN_PROGRESS to COMPLETED (no download)
    timings: dict[str, Any] = field(default_factory=dict)
    input_path: str | None = None
    input_name: str | None = None  # the picture's own name: the uploaded file's, or the URL's last segment
    source_url: str | None = None  # the https URL the picture was given as; arguments["image_url"] is what fal
    # received: the same URL when the picture was already 8-bit sRGB, else the converted PNG the app uploaded
    output_path: str | None = None
    result_url: str | None = None  # the remote output URL (fal's expire)
    width: int | None = None
    height: int | None = None
    content_type: str | None = None
    model: str | None = None  # the local model, when engine == "local"
    sweep_id: str | None = None
    cell: str | None = None  # e.g. "x=0.35 y=0.6"
    region: str | None = None  # the part of the picture upscaled, "x,y widthxheight" (core/inputs/region.py)
    whole_path: str | None = None  # a region run's whole picture (stored input): what "Run the whole picture" runs
    linked_run: str | None = None  # a region run ↔ the whole-picture run made from it (each names the other)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def seed_used(self) -> int | None:
        """The seed that made the picture: None on an engine that uses no seed (rows from older versions recorded
        a random one there), else ``seed``."""
        return None if ignores_seed(self.engine) else self.seed

    @property
    def queue_seconds(self) -> float | None:
        """Seconds waiting before the engine ran it: recorded, else (a row from an older version) from the times."""
        if self.queued_seconds is not None:
            return self.queued_seconds
        return None if self.started_at is None else self.started_at - self.created_at

    @property
    def engine_seconds(self) -> float | None:
        """Seconds the engine spent running it (IN_PROGRESS → COMPLETED): recorded, else (an older row) from
        start to end; None when it never ran."""
        if self.running_seconds is not None:
            return self.running_seconds
        return None if self.finished_at is None or self.started_at is None else self.finished_at - self.started_at

    @property
    def run_seconds(self) -> float | None:
        """Seconds from leaving the queue to the end (the output downloaded and kept)."""
        if self.finished_at is None:
            return None
        return self.finished_at - (self.started_at if self.started_at is not None else self.created_at)

    def parameters(self) -> dict[str, Any]:
        """Every schema parameter (not the image) with the seed actually used when known, none on an engine that
        uses no seed; one left out (None) as the endpoint's default."""
        values = {f.name: f.default if self.arguments.get(f.name) is None else self.arguments[f.name]
                  for f in PARAMETER_FIELDS}  # None: left out, so the endpoint's default
        if self.seed is not None:
            values["seed"] = self.seed
        if ignores_seed(self.engine):  # none made its picture (a sweep's cells were sent the sweep's): none to
            values["seed"] = None  # restore, copy as code or replay
        return values

    def replay_arguments(self) -> dict[str, Any]:
        """The endpoint's arguments that reproduce this run: every parameter (the seed used when known), and the
        picture's URL — what fal received, else the https URL it was given by (a local run's); None left out."""
        url = self.arguments.get("image_url") or self.source_url
        return {k: v for k, v in {**self.parameters(), "image_url": url}.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
