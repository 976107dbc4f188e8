"""Time estimates learned from the history: what this machine and engine actually took.

A cell takes ``seconds_per_cell + output MP × seconds_per_megapixel``, both fitted (Theil–Sen: the median of
pairwise slopes, so one slow first run that loaded the model does not skew it) over the engine and model's
``RECENT`` latest completed runs (``finished_at − started_at``, output ``width × height``). Cells are scheduled on
the engine's ``runs_at_once`` workers (``core.sweep.plan.SweepPlan.preflight``). A sweep also spends time around its
cells (metrics, thumbnails, the contact sheet): fitted the same way, fixed + per output MP, over the recent
finished sweep records (``core.sweep.sweep_store``). No completed run yet: no estimate.
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
    sweep_seconds_per_megapixel: float = 0.0  # around the cells, per output MP: metrics, thumbnails

    @property
    def label(self) -> str:
        return f"{self.engine} {self.model}" if self.model else self.engine

    def basis(self) -> str:
        """Where the figure comes from, in words: "from your last 12 local fast runs, 1.3 s per output MP"."""
        fixed = f" + {self.seconds_per_cell:.1f} s per cell" if self.seconds_per_cell >= 0.05 else ""
        around = (f"; {self.sweep_seconds:.1f} s + {self.sweep_seconds_per_megapixel:.2f} s per MP around the "
                  f"cells (last {self.sweeps} sweep{'s' * (self.sweeps != 1)})") if self.sweeps else ""
        return (f"from your last {self.runs} {self.label} run{'s' * (self.runs != 1)}, "
                f"{self.seconds_per_megapixel:.2f} s per output MP{fixed}{around}")


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


def rates(history: History, engine: str, model: str | None, owner: str | None,
          recent: int = RECENT) -> Rates | None:
    """The rates of ``engine`` / ``model`` from the owner's (None: everyone's) latest completed runs; None when
    there is none yet."""
    model = model_of(engine, model)
    mine = "" if owner is None else " AND owner = ?"
    rows = history.query(
        "SELECT width * height / 1e6, finished_at - COALESCE(started_at, created_at) FROM runs WHERE "
        "status = 'completed' AND engine = ? AND model IS ? AND width > 0 AND height > 0 AND finished_at IS NOT "
        f"NULL{mine} ORDER BY finished_at DESC LIMIT ?", [engine, model, *([owner] if mine else []), recent])
    points = [(float(mp), max(0.0, float(s))) for mp, s in rows]
    if not points:
        return None
    per_cell, per_megapixel = fit(points)
    around = _around(history, engine, model, owner, recent)
    fixed, per_mp = fit(around) if around else (0.0, 0.0)
    return Rates(engine, model, len(points), per_megapixel, per_cell, len(around), fixed, per_mp)


def _around(history: History, engine: str, model: str | None, owner: str | None,
            recent: int) -> list[tuple[float, float]]:
    # Per finished sweep: (output MP, its seconds outside its cells: before the first starts, after the last ends).
    from core.sweep.sweep_store import SweepStore

    SweepStore(history)  # the table exists
    mine = "" if owner is None else " AND s.owner = ?"
    rows = history.query(
        "SELECT (s.finished_at - s.created_at) - (MAX(r.finished_at) - MIN(r.created_at)), "
        "SUM(r.width * r.height) / 1e6 FROM sweeps s JOIN runs r ON r.sweep_id = s.id WHERE s.finished_at IS NOT "
        f"NULL AND s.engine = ? AND s.model IS ?{mine} GROUP BY s.id HAVING COUNT(*) = SUM(r.status = 'completed') "
        "ORDER BY s.finished_at DESC LIMIT ?", [engine, model, *([owner] if mine else []), recent])
    return [(float(mp), max(0.0, float(outside))) for outside, mp in rows if mp]


def sweep_seconds(found: Rates, cells_seconds: float, total_megapixels: float) -> float:
    """A sweep's whole time: its cells as scheduled (``cells_seconds``) and the time around them."""
    return cells_seconds + found.sweep_seconds + found.sweep_seconds_per_megapixel * total_megapixels


def spoken(seconds: float) -> str:
    """"about 16 s", "about 2.5 min"."""
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.1f} min"


def observed_concurrency(history: History, engine: str, owner: str | None,
                         recent: int = CONCURRENCY_RECENT) -> int | None:
    """The most of the owner's (None: everyone's) recent runs on ``engine`` that were running at the same moment
    (``started_at`` … ``finished_at``): on fal, what the account's concurrency limit let through. None: no runs."""
    mine = "" if owner is None else " AND owner = ?"
    rows = history.query(
        "SELECT started_at, finished_at FROM runs WHERE engine = ? AND started_at IS NOT NULL AND finished_at IS "
        f"NOT NULL{mine} ORDER BY finished_at DESC LIMIT ?", [engine, *([owner] if mine else []), recent])
    edges = sorted(edge for start, end in rows if end - LAG_S > start for edge in ((start, 1), (end - LAG_S, -1)))
    running = peak = 0
    for _, step in edges:  # at equal times an end (-1) sorts before a start: touching runs do not overlap
        running += step
        peak = max(peak, running)
    return peak or None


def workers(history: History, engine: str, owner: str | None, cells: int) -> int:
    """How many cells of a sweep run at once, for its time estimate: the concurrency the account showed before
    (fal's queue runs the rest in waves), else fal's default for a new account; never above the ceiling
    (``runs_at_once``: 1 locally, ``CLARITY_SWEEP_CONCURRENCY`` on fal when set) or the cell count."""
    ceiling = describe(engine).runs_at_once
    seen = observed_concurrency(history, engine, owner) or NEW_ACCOUNT_CONCURRENCY
    return max(1, min(cells, seen, ceiling or seen))
