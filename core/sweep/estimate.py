"""Time estimates learned from the history: what this machine and engine actually took.

A cell takes ``seconds_per_cell + output MP × seconds_per_megapixel``, both fitted (Theil–Sen: the median of
pairwise slopes, so one slow first run that loaded the model does not skew it) over the engine and model's
``RECENT`` latest completed runs (output ``width × height``). What a cell's time is depends on who schedules it:

- an engine whose own queue schedules the cells (``runs_at_once`` None: fal) is learned from its *running* time
  (``Run.running_seconds``: IN_PROGRESS → COMPLETED), never the time a request waited in its queue, and the cells
  run ``workers`` at once: the concurrency stated for it (``EngineInfo.stated_concurrency``: fal's
  ``CLARITY_FAL_CONCURRENCY``), else the most of your requests it was seen running at once
  (``observed_concurrency``), never less than fal's limit for a new account;
- an engine the app hands cells to ``runs_at_once`` at a time (local, lanczos) is learned from start to end
  (the output kept included: the next cell waits for it).

A sweep also spends time around its cells' running (uploading, the first wait, the last download, the last
cell's metrics, the contact sheet, the CSV): fitted the same way, fixed + per output MP, over the recent finished
sweep records (``core.sweep.sweep_store``); with no sweep yet, from single runs (their usual wait and time after
running, and that time again per output MP for reading each cell back). No completed run yet: no estimate.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from core.engines import describe

if TYPE_CHECKING:
    from core.runs.history import History

RECENT = 20  # runs (and sweeps) the rates are learned from
CONCURRENCY_RECENT = 200  # runs the account's observed concurrency is learned from
NEW_ACCOUNT_CONCURRENCY = 2  # fal's limit for a new account (it rises with purchases, up to 40)
LAG_S = 0.5  # the app sees a start and an end up to a poll late: overlaps shorter than this are not counted


@dataclass(frozen=True)
class Rates:
    """What the recent runs of one engine and model took."""

    engine: str
    model: str | None
    runs: int  # how many runs the cell rate comes from
    seconds_per_megapixel: float  # per output MP
    seconds_per_cell: float  # fixed, per cell
    sweeps: int = 0  # how many finished sweeps the time around the cells comes from
    sweep_seconds: float = 0.0  # around the cells, fixed per sweep: the contact sheet, the CSV
    sweep_seconds_per_megapixel: float = 0.0  # around the cells, per output MP: the contact sheet's thumbnails
    running_only: bool = False  # learned from the engine's running time alone (its queue schedules the cells)

    @property
    def label(self) -> str:
        return f"{self.engine} {self.model}" if self.model else self.engine

    def basis(self) -> str:
        """Where the figure comes from, in words: "from your last 12 local fast runs, 1.3 s per output MP"."""
        fixed = f" + {self.seconds_per_cell:.1f} s per cell" if self.seconds_per_cell >= 0.05 else ""
        around = (f"; {self.sweep_seconds:.1f} s + {self.sweep_seconds_per_megapixel:.2f} s per MP around the "
                  f"cells (last {self.sweeps} sweep{'s' * (self.sweeps != 1)})") if self.sweeps else ""
        running = " running" if self.running_only else ""
        return (f"from your last {self.runs} {self.label} run{'s' * (self.runs != 1)}, "
                f"{self.seconds_per_megapixel:.2f} s{running} per output MP{fixed}{around}")


def model_of(engine: str, model: str | None) -> str | None:
    """The model a run on ``engine`` records: the chosen one, else the engine's first; None if it has none."""
    models = describe(engine).models
    return (model if model in models else models[0]) if models else None


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(seconds per cell, seconds per MP) through ``(megapixels, seconds)`` points, robustly; both ≥ 0.
    With one output size only, the whole time is per MP (no intercept can be told apart)."""
    slopes = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in combinations(points, 2) if abs(b[0] - a[0]) > 1e-3]
    slope = statistics.median(slopes) if slopes else 0.0
    if slope <= 0:
        return 0.0, statistics.median(s / max(mp, 1e-3) for mp, s in points)
    intercept = statistics.median(s - slope * mp for mp, s in points)
    if intercept < 0:
        return 0.0, statistics.median(s / max(mp, 1e-3) for mp, s in points)
    return intercept, slope


def _queue_scheduled(engine: str) -> bool:
    """Whether the engine's own queue schedules a sweep's cells (every cell handed over at once)."""
    return describe(engine).runs_at_once is None


def _cell_seconds(engine: str) -> str:
    """SQL for a completed run's cell time: the engine's running time when its queue schedules the cells (older
    rows: start to end), else start to end."""
    return ("COALESCE(running_seconds, finished_at - started_at)" if _queue_scheduled(engine)
            else "finished_at - started_at")


def rates(history: History, engine: str, model: str | None, owner: str | None,
          recent: int = RECENT) -> Rates | None:
    """The rates of ``engine`` / ``model`` from the owner's (None: everyone's) latest completed runs; None when
    there is none yet."""
    model = model_of(engine, model)
    mine = "" if owner is None else " AND owner = ?"
    rows = history.query(
        f"SELECT width * height / 1e6, {_cell_seconds(engine)}, queued_seconds, "
        "finished_at - started_at - running_seconds FROM runs WHERE status = 'completed' AND engine = ? AND "
        "model IS ? AND width > 0 AND height > 0 AND started_at IS NOT NULL AND finished_at IS NOT NULL"
        f"{mine} ORDER BY finished_at DESC LIMIT ?", [engine, model, *([owner] if mine else []), recent])
    points = [(float(mp), max(0.0, float(s))) for mp, s, _, _ in rows]
    if not points:
        return None
    per_cell, per_megapixel = fit(points)
    around = _around(history, engine, model, owner, recent)
    if around:
        fixed, per_mp = fit(around)
    else:  # no sweep yet: a run's usual wait before running and time after it (its output kept), and each
        # cell's output read back once after the cells (the contact sheet) about as long as keeping it took
        waits = [max(0.0, float(q)) for _, _, q, _ in rows if q is not None]
        after = [(float(mp), max(0.0, float(a))) for mp, _, _, a in rows if a is not None]
        fixed = (statistics.median(waits) if waits else 0.0) + (statistics.median(a for _, a in after)
                                                                 if after else 0.0)
        per_mp = statistics.median(a / max(mp, 1e-3) for mp, a in after) if after else 0.0
    return Rates(engine, model, len(points), per_megapixel, per_cell, len(around), fixed, per_mp,
                 _queue_scheduled(engine))


def _around(history: History, engine: str, model: str | None, owner: str | None,
            recent: int) -> list[tuple[float, float]]:
    # Per finished sweep: (output MP, its seconds outside its cells' span: before the first starts running, after
    # the last stops — its running, for an engine whose queue schedules the cells; else its end). Only a sweep with
    # a run for every cell asked: one with runs deleted for good has a short span in a long wall (a user trial:
    # 3 of 4 runs purged, and the time "around the cells" rose from ~0.5 s to ~25 s per MP).
    from core.sweep.reopen import cells_asked
    from core.sweep.sweep_store import SweepStore

    records = SweepStore(history)  # the table exists
    mine = "" if owner is None else " AND s.owner = ?"
    ended = ("r.started_at + COALESCE(r.running_seconds, r.finished_at - r.started_at)"
             if _queue_scheduled(engine) else "r.finished_at")
    rows = history.query(
        f"SELECT (s.finished_at - s.created_at) - (MAX({ended}) - MIN(r.started_at)), "
        "SUM(r.width * r.height) / 1e6, s.id, COUNT(*) FROM sweeps s JOIN runs r ON r.sweep_id = s.id WHERE "
        "s.finished_at IS NOT "
        f"NULL AND s.engine = ? AND s.model IS ?{mine} GROUP BY s.id HAVING COUNT(*) = SUM(r.status = 'completed') "
        "AND COUNT(*) = COUNT(r.started_at) ORDER BY s.finished_at DESC LIMIT ?",
        [engine, model, *([owner] if mine else []), recent])
    whole = [(outside, mp) for outside, mp, sweep_id, runs in rows
             if runs >= (cells_asked(records.get(sweep_id, None)) or 0)]
    return [(float(mp), max(0.0, float(outside))) for outside, mp in whole if mp]


def sweep_seconds(found: Rates, cells_seconds: float, total_megapixels: float) -> float:
    """A sweep's whole time: its cells as scheduled (``cells_seconds``) and the time around them."""
    return cells_seconds + found.sweep_seconds + found.sweep_seconds_per_megapixel * total_megapixels


def spoken(seconds: float) -> str:
    """"about 16 s", "about 2.5 min"."""
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.1f} min"


def observed_concurrency(history: History, engine: str, owner: str | None,
                         recent: int = CONCURRENCY_RECENT) -> int | None:
    """The most of the owner's (None: everyone's) recent runs on ``engine`` that the engine was running at the same
    moment (IN_PROGRESS: ``started_at`` for ``running_seconds``; older rows to ``finished_at``): on fal, what the
    account's concurrency limit let through. Time waiting in the queue and downloading counts for nothing.
    None: no runs."""
    mine = "" if owner is None else " AND owner = ?"
    rows = history.query(
        "SELECT started_at, started_at + COALESCE(running_seconds, finished_at - started_at) FROM runs WHERE "
        f"engine = ? AND started_at IS NOT NULL AND finished_at IS NOT NULL{mine} ORDER BY finished_at DESC "
        "LIMIT ?", [engine, *([owner] if mine else []), recent])
    edges = sorted(edge for start, end in rows if end - LAG_S > start for edge in ((start, 1), (end - LAG_S, -1)))
    running = peak = 0
    for _, step in edges:  # at equal times an end (-1) sorts before a start: touching runs do not overlap
        running += step
        peak = max(peak, running)
    return peak or None


def workers(history: History, engine: str, owner: str | None, cells: int) -> int:
    """How many cells of a sweep run at once, for its time estimate. An engine whose queue schedules them (fal):
    the concurrency stated for it (``CLARITY_FAL_CONCURRENCY``), else the most it was seen running at once, never
    less than fal's limit for a new account (a single run at a time shows no limit). Never above the ceiling
    (``runs_at_once``: 1 locally, ``CLARITY_SWEEP_CONCURRENCY`` on fal when set) or the cell count."""
    seen, _ = account_concurrency(history, engine, owner)
    ceiling = describe(engine).runs_at_once
    return max(1, min(cells, seen, ceiling or seen))


def account_concurrency(history: History, engine: str, owner: str | None) -> tuple[int, str]:
    """How many runs the engine's queue runs at once for this owner, and where that figure comes from, in words:
    "as you stated it" (``EngineInfo.stated_concurrency``), "as seen in your runs", or "assumed: a new account's
    limit" (nothing higher seen yet — a first sweep on a larger account is over-estimated until one is seen)."""
    stated = describe(engine).stated_concurrency
    if stated:
        return stated, "as you stated it"
    seen = observed_concurrency(history, engine, owner) or 0
    if seen >= NEW_ACCOUNT_CONCURRENCY:
        return seen, "as seen in your runs"
    return NEW_ACCOUNT_CONCURRENCY, "assumed: a new account's limit, none higher seen yet"
