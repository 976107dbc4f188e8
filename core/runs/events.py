"""What happens to a run, as typed events: the runner emits them, ``components/upscale/console.py`` words them.

Nothing decides anything from console text: code that needs to know whether a run was submitted, failed or is
waiting reads these records. Every event carries ``at``, the Unix time (seconds) it happened.

    Event
    ├── Submitting      about to send the run to an engine
    ├── Submitted       the engine accepted it: ``request_id``
    ├── Reattaching     following a request again after a restart or from its id
    ├── QueuePosition   waiting: ``position`` runs ahead (0 = next in line)
    ├── Started         the engine is working on it: ``engine``, ``model``
    ├── LogLine         a line of the engine's log: ``message``, ``level`` (INFO, WARNING, ERROR, ...)
    ├── Metric          the engine's own figures: ``values`` (name → number)
    ├── Fetching        the result is being downloaded
    ├── Saved           the output PNG is in the data directory: ``width``, ``height``, ``size_bytes``
    ├── Note            a plain remark about the input (e.g. metadata that was ignored): ``text``
    ├── FromHistory     asked for again (fetch), the run had already ended: ``status``, how (its stored result is
    │                   shown when ``completed``)
    ├── Failure         the run failed: ``message``, ``field`` (the schema field it names, or None)
    ├── Cancelled       the run was cancelled (not a failure), as the history records it: ``request_id`` (None when
    │                   it was never sent)
    └── Done            completed: ``seconds``, ``seed``, ``request_id``
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Event:
    """Something that happened to a run, at ``at`` (Unix seconds)."""

    at: float = field(default_factory=_now, kw_only=True)


@dataclass(frozen=True)
class Submitting(Event):
    engine: str


@dataclass(frozen=True)
class Submitted(Event):
    request_id: str


@dataclass(frozen=True)
class Reattaching(Event):
    request_id: str


@dataclass(frozen=True)
class QueuePosition(Event):
    position: int


@dataclass(frozen=True)
class Started(Event):
    engine: str
    model: str | None = None


@dataclass(frozen=True)
class LogLine(Event):
    message: str
    level: str = "INFO"


@dataclass(frozen=True)
class Metric(Event):
    values: dict[str, float | int | str]


@dataclass(frozen=True)
class Fetching(Event):
    pass


@dataclass(frozen=True)
class Saved(Event):
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class Note(Event):
    text: str


@dataclass(frozen=True)
class FromHistory(Event):
    run_id: str
    status: str = "completed"  # how the run ended (a Run status): only a completed one has a result to show


@dataclass(frozen=True)
class Failure(Event):
    message: str
    field: str | None = None
    account: bool = False  # the engine refused the key's account (a rejected key, a locked or empty account)


@dataclass(frozen=True)
class Cancelled(Event):
    request_id: str | None


@dataclass(frozen=True)
class Done(Event):
    seconds: float
    seed: int | None
    request_id: str | None
