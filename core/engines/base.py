"""The seam both engines implement (README.md, "The two engines").

Events are ``fal_client``'s own status classes for both engines, so the UI knows one vocabulary:
``Queued(position)``, ``InProgress(logs)``, ``Completed(logs, metrics, error, error_type)``.
Unlike raw fal statuses, ``logs`` here carry only the lines not yet seen: the engine de-duplicates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from fal_client import Completed, InProgress, Queued, Status

from core.schema import PARAMETER_FIELDS

__all__ = ["Completed", "Engine", "EngineInfo", "EngineSettings", "Factory", "InProgress", "Job", "Queued",
           "ResumableEngine", "Status"]


@dataclass(frozen=True)
class EngineInfo:
    """What an engine can do and what it needs from the visitor, so callers tell engines apart by ability rather
    than by name. Each engine module exports one (``info()``) beside its factory (``make()``); ``core/engines``
    lists the modules."""

    id: str  # the engine module's name: "fal", "local", "lanczos"
    label: str
    models: tuple[str, ...]  # model names the engine offers (empty: the endpoint's one)
    price_per_output_megapixel: float  # USD; 0 for an engine that costs nothing
    fields_used: frozenset[str]  # schema parameters that change its output; the rest are only recorded
    webhooks: bool  # can POST the result to a webhook URL
    resumable_by_request_id: bool  # a run can be followed again by request id after a restart
    runs_at_once: int | None  # how many runs (sweep cells) to hand it at once; None: all, its queue schedules them
    needs_key: bool = False  # runs only with an API key (and spends its owner's money)
    fetches_urls: bool = False  # fetches an https:// image URL itself (else the app reads the picture first)
    model_label: str = ""  # what the engine panel calls its model choice ("Local model"); shown when ``models``
    model_choices: tuple[tuple[str, str], ...] = ()  # (label, model name) for the engine panel's dropdown
    default_model: str | None = None  # the model used when the visitor chose none
    blurb: str = ""  # one clause for the engine radio's help: what the engine is and where it runs
    stated_concurrency: int | None = None  # how many runs its queue runs at once, as the owner stated it (fal:
    # ``CLARITY_FAL_CONCURRENCY``); None: not stated, the estimates infer it from the runs seen at once

    @property
    def priced(self) -> bool:
        """Whether runs on this engine cost money (and so count against budgets and confirmations)."""
        return self.price_per_output_megapixel > 0

    @property
    def ignored(self) -> tuple[str, ...]:
        """The schema parameters this engine ignores, in schema order."""
        return tuple(f.name for f in PARAMETER_FIELDS if f.name not in self.fields_used)

    def ignores(self, name: str) -> bool:
        """Whether parameter ``name`` cannot change this engine's output."""
        return name in self.ignored


@dataclass(frozen=True)
class EngineSettings:
    """What a visitor gives an engine's factory: the key (for an engine that ``needs_key``), the model (for one
    with ``models``) and whether the key is a shared app's own (``space_key``: what fal says about its account is
    not told to visitors). The key never appears in a repr."""

    key: str | None = field(default=None, repr=False)
    model: str | None = None
    space_key: bool = False  # the key is the shared app's own (FAL_KEY), not one this visitor typed


class Job(Protocol):
    """One submitted request."""

    request_id: str
    arguments: dict[str, Any]  # exactly what was sent to the endpoint (image_url filled in)

    def events(self) -> AsyncIterator[Status]:
        """Statuses in order, ending with Completed; InProgress/Completed logs hold new lines only."""
        ...

    async def result(self) -> dict[str, Any]:
        """The endpoint's output (docs/fal-protocol.md, "Output"); ``image.url`` may be a local path (local engine)."""
        ...

    async def cancel(self) -> None:
        """Cancel at the engine: the remote request on fal, the tile loop locally."""
        ...


class Engine(Protocol):
    name: str

    async def submit(self, arguments: dict[str, Any], image_path: str | None = None) -> Job:
        """Start a run. ``arguments`` are validated; ``image_path`` is the input when it is a local file."""
        ...


@runtime_checkable
class ResumableEngine(Protocol):
    """An engine that can follow a request submitted earlier by its id (fal; core/runs/resume.py)."""

    async def attach(self, request_id: str, arguments: dict[str, Any] | None = None) -> Job:
        """The job of ``request_id``; ``arguments`` are what was sent, when known."""
        ...


Factory = Callable[[EngineSettings], Engine]  # an engine module's ``make``: AuthError/InputError when it cannot run
