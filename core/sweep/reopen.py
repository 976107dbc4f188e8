"""Re-opening a past sweep from its stored runs: the grid (labels, every axis's values) and each cell's latest run
— for sweeps of any age, since each cell run carries its sweep id and its label (``x=a · y=b · z=c``)."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

from core.errors import InputError
from core.runs.runs import Run
from core.schema import FIELD_BY_NAME
from core.sweep.axes import AXES, IMAGE, AxisValue, format_value, is_kind, parse_axis
from core.sweep.plan import DELETED, IN_BIN, Cell, CellKey, SweepPlan
from core.sweep.sweep_store import SweepRecord, SweepStore

if TYPE_CHECKING:
    from core.runs.history import History


def _split_label(label: str, names: list[str]) -> list[str]:
    """The value texts of a label ``x=a · y=b · z=c`` for its axes ``names``, in order."""
    texts, rest = [], label.removeprefix(f"{names[0]}=")
    for name in names[1:]:
        at = rest.find(f" · {name}=")
        texts.append(rest[:at])
        rest = rest[at + len(f" · {name}="):]
    return [*texts, rest]


def _axes_of(label: str) -> list[str]:
    """The axes a cell's label names, in order (X first)."""
    x_axis = label.partition("=")[0]
    if x_axis not in AXES:
        raise InputError(f"This sweep's cells are labelled {label!r}, which names no axis.", None)
    found = sorted((at, name) for name in AXES if name != x_axis and (at := label.find(f" · {name}=")) >= 0)
    return [x_axis, *(name for _, name in found)]


def _value(axis: str, text: str | None, run: Run) -> AxisValue:
    if axis in FIELD_BY_NAME:  # the exact value sent; the label may be shortened
        return run.arguments.get(axis)
    return text


def _asked(record: SweepRecord | None, names: list[str], tail: str) -> dict[str, list[tuple[str, AxisValue]]]:
    """Each axis's values as the sweep's record says they were asked for, in order, as label texts (the last
    axis's with the region's ``tail``) and values; {} when there is no record, it names other axes, or the sweep
    never ran to its end (a cell with no run may never have started: an app stopped mid-sweep), and an axis left
    out when its text no longer parses (a cap lowered since)."""
    if record is None or record.finished_at is None:
        return {}
    listed = [(record.x_axis, record.x_values), *([(record.y_axis, record.y_values)] if record.y_axis else []),
              *record.more_axes]
    if [name for name, _ in listed] != names:
        return {}
    prompts = (str(record.parameters.get("prompt") or ""), str(record.parameters.get("negative_prompt") or ""))
    asked: dict[str, list[tuple[str, AxisValue]]] = {}
    for name, text in listed:
        try:
            values = parse_axis(name, text, *prompts)
        except InputError:
            continue
        end = tail if name == names[-1] else ""
        asked[name] = [(f"{format_value(name, value)}{end}", value) for value in values]
    return asked


def cells_asked(record: SweepRecord | None) -> int | None:
    """How many cells a sweep that ran to its end was asked for (its record's axes), else None."""
    if record is None or record.finished_at is None:
        return None
    listed = [record.x_values, *([record.y_values] if record.y_axis else []), *(text for _, text in record.more_axes)]
    names = [record.x_axis, *([record.y_axis] if record.y_axis else []), *(name for name, _ in record.more_axes)]
    asked = _asked(record, names, "")
    return math.prod(len(values) for values in asked.values()) if len(asked) == len(listed) else None


def _places(latest: dict[str, Run], names: list[str], asked: dict[str, list[tuple[str, AxisValue]]]
            ) -> tuple[dict[str, dict[str, tuple[int, AxisValue]]], dict[tuple[int, ...], tuple[str, Run]]] | None:
    """Each axis's values (label text → its index and value), the values asked first, then the cells' runs by
    their places; None when a run's label names a value the record does not list (the record is not its grid)."""
    seen: dict[str, dict[str, tuple[int, AxisValue]]] = {name: {} for name in names}
    for name, values in asked.items():
        for text, value in values:
            seen[name].setdefault(text, (len(seen[name]), value))
    found: dict[tuple[int, ...], tuple[str, Run]] = {}
    for label, run in latest.items():
        texts = _split_label(label, names)
        if any(name in asked and text not in seen[name] for name, text in zip(names, texts, strict=True)):
            return None
        place = tuple(seen[name].setdefault(text, (len(seen[name]), _value(name, text, run)))[0]
                      for name, text in zip(names, texts, strict=True))
        found[place] = (label, run)
    return seen, found


def reopen(sweep_id: str, owner: str | None, history: History) -> tuple[SweepPlan, dict[CellKey, Run]]:
    """A past sweep rebuilt from its stored runs: the grid (labels, every axis and its values, the region its
    cells ran on) and each cell's latest run. Runs in History's bin keep their cells' places, as cells ``gone``
    IN_BIN with no run (a sweep partly put back re-opened as only the cells put back, with no word of the rest).
    The sweep's record (``SweepStore``) gives every value asked for, so cells whose runs were deleted for good
    keep their places too, as cells ``gone`` DELETED (a sweep partly purged came back as only its other cells)."""
    stored = history.runs_for_sweep(sweep_id, owner)
    if not stored:
        raise InputError(f"There is no sweep {sweep_id!r} in your history.", None)
    binned = history.runs_for_sweep(sweep_id, owner, binned=True)
    latest: dict[str, Run] = {}
    for run in sorted([*stored, *binned], key=lambda run: run.created_at):  # oldest first (the sort is stable):
        latest[run.cell or run.id] = run  # a label keeps its first position and its newest run (after retries)
    live = {run.id for run in stored}
    for label, run in list(latest.items()):  # a cell's newest live run, if it has one, else none: it is in the bin
        if run.id not in live:
            newest_live = [kept for kept in stored if (kept.cell or kept.id) == label]
            latest[label] = newest_live[-1] if newest_live else run
    first = next(iter(latest))
    names = _axes_of(first)
    region_at = first.rfind(" · region ")
    tail = first[region_at:] if region_at >= 0 and any(run.region for run in latest.values()) else ""
    placed = _places(latest, names, _asked(SweepStore(history).get(sweep_id, owner), names, tail))
    seen, found = placed if placed is not None else _places(latest, names, {}) or ({}, {})
    axes = [(name, [value for _, value in seen[name].values()]) for name in names]
    image_axis = next((name for name in names if is_kind(name, IMAGE)), None)
    # Each picture of an image axis, from a run that was sent it: a cell cancelled before it started has none of
    # its own, and its retry ran with no picture ("Give an image") until every retry failed.
    pictures: dict[AxisValue, str] = {}
    shown_as: dict[str, str] = {}  # and the name it goes by (its retry's runs carry it too)
    for label, run in latest.items():
        if image_axis and run.input_path:
            pictures.setdefault(_split_label(label, names)[names.index(image_axis)], run.input_path)
        if image_axis and run.input_name:
            shown_as.setdefault(_split_label(label, names)[names.index(image_axis)], run.input_name)
    cells, runs = [], {}
    for reversed_place in itertools.product(*(range(len(values)) for _, values in reversed(axes))):
        place = tuple(reversed(reversed_place))
        by_name = dict(zip(names, place, strict=True))
        values = {name: dict(axes)[name][by_name[name]] for name in names}
        at = (place[0], place[1] if len(place) > 1 else 0, *place[2:])
        x_index, y_index = at[0], at[1]
        y_value = values[names[1]] if len(names) > 1 else None
        entry = found.get(place)
        if entry is None or entry[1].id not in live:  # shown as in the bin or deleted, never retried (no arguments)
            # its picture, when an image axis's cell is in the bin (kept there): the batch is refilled whole
            kept = pictures.get(values[image_axis]) if image_axis and entry else None
            label = entry[0] if entry else " · ".join(f"{name}={text}" for name, text in zip(
                names, (next(text for text, (index, _) in seen[name].items() if index == by_name[name])
                        for name in names), strict=True))
            cells.append(Cell(x_index, y_index, values[names[0]], y_value, label, {}, kept, at, values, by_name,
                              gone=IN_BIN if entry else DELETED))
            continue
        label, run = entry
        arguments = {k: v for k, v in run.arguments.items() if not (k == "image_url" and run.input_path)}
        image_path = (run.input_path or pictures.get(values[image_axis])) if image_axis else None
        cells.append(Cell(x_index, y_index, values[names[0]], y_value, label, arguments, image_path, at, values,
                          by_name))
        runs[at] = run
    # A region sweep stays one: every cell ran on the same part of the same picture, and its runs say which.
    part = next((run for run in runs.values() if run.region), None)
    # Seeds that differ from cell to cell with no seed axis: the sweep varied its seed per cell.
    seeds = {run.arguments.get("seed") for run in runs.values()} - {None}
    varied = "seed" not in names and len(seeds) > 1
    return SweepPlan(names[0], axes[0][1], names[1] if len(names) > 1 else None, axes[1][1] if len(names) > 1 else [],
                     cells, id=sweep_id, region=part.region if part else None,
                     whole_path=part.whole_path if part else None, vary_seed=varied, more_axes=axes[2:],
                     image_names=shown_as), runs
