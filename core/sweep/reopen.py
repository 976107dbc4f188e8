"""Re-opening a past sweep from its stored runs: the grid (labels, X/Y values) and each cell's latest run — for
sweeps of any age, since each cell run carries its sweep id and its label (``x=a · y=b``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import InputError
from core.runs.runs import Run
from core.schema import FIELD_BY_NAME
from core.sweep.axes import AXES, IMAGE, AxisValue, side_of
from core.sweep.plan import Cell, CellKey, SweepPlan

if TYPE_CHECKING:
    from core.runs.history import History


def _split_label(label: str, x_axis: str, y_axis: str | None) -> tuple[str, str | None]:
    """The value texts of a label ``x=a`` or ``x=a · y=b``."""
    rest = label.removeprefix(f"{x_axis}=")
    if y_axis:
        at = rest.rfind(f" · {y_axis}=")
        if at >= 0:
            return rest[:at], rest[at + len(f" · {y_axis}="):]
    return rest, None


def _axes_of(label: str) -> tuple[str, str | None]:
    x_axis = label.partition("=")[0]
    if x_axis not in AXES:
        raise InputError(f"This sweep's cells are labelled {label!r}, which names no axis.", None)
    ends = [(label.rfind(f" · {name}="), name) for name in AXES if name != x_axis]
    at, y_axis = max(ends)
    return x_axis, (y_axis if at >= 0 else None)


def _value(axis: str, text: str | None, run: Run) -> AxisValue:
    if axis in FIELD_BY_NAME:  # the exact value sent; the label may be shortened
        return run.arguments.get(axis)
    return text


def reopen(sweep_id: str, owner: str | None, history: History) -> tuple[SweepPlan, dict[CellKey, Run]]:
    """A past sweep rebuilt from its stored runs: the grid (labels, X/Y values, the region its cells ran on) and
    each cell's latest run."""
    stored = history.runs_for_sweep(sweep_id, owner)
    if not stored:
        raise InputError(f"There is no sweep {sweep_id!r} in your history.", None)
    latest: dict[str, Run] = {}
    for run in stored:  # oldest first: a label keeps its first position and its newest run (after retries)
        latest[run.cell or run.id] = run
    x_axis, y_axis = _axes_of(next(iter(latest)))
    xs: dict[str, tuple[int, AxisValue]] = {}
    ys: dict[str | None, tuple[int, AxisValue]] = {}
    found: dict[CellKey, tuple[str, Run]] = {}
    for label, run in latest.items():
        x_text, y_text = _split_label(label, x_axis, y_axis)
        x_index = xs.setdefault(x_text, (len(xs), _value(x_axis, x_text, run)))[0]
        y_index = ys.setdefault(y_text, (len(ys), _value(y_axis, y_text, run) if y_axis else None))[0]
        found[(x_index, y_index)] = (label, run)
    x_values = [value for _, value in xs.values()]
    y_values = [value for _, value in ys.values()] if y_axis else []
    cells, runs = [], {}
    for y_index in range(max(1, len(y_values))):
        for x_index in range(len(x_values)):
            entry = found.get((x_index, y_index))
            if entry is None:  # deleted from the history: shown as missing, never retried (no arguments)
                cells.append(Cell(x_index, y_index, x_values[x_index], (y_values or [None])[y_index],
                                  "missing", {}))
                continue
            label, run = entry
            arguments = {k: v for k, v in run.arguments.items() if not (k == "image_url" and run.input_path)}
            image_path = run.input_path if side_of(IMAGE, x_axis, y_axis) else None
            cells.append(Cell(x_index, y_index, x_values[x_index], y_values[y_index] if y_axis else None, label,
                              arguments, image_path))
            runs[(x_index, y_index)] = run
    # A region sweep stays one: every cell ran on the same part of the same picture, and its runs say which.
    part = next((run for run in runs.values() if run.region), None)
    # Seeds that differ from cell to cell with no seed axis: the sweep varied its seed per cell.
    seeds = {run.arguments.get("seed") for run in runs.values()} - {None}
    varied = "seed" not in (x_axis, y_axis) and len(seeds) > 1
    return SweepPlan(x_axis, x_values, y_axis, y_values, cells, id=sweep_id, region=part.region if part else None,
                     whole_path=part.whole_path if part else None, vary_seed=varied), runs
