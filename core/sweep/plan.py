"""Sweeps: a grid plan over up to ``MAX_AXES`` axes and its cost before it runs (``core.sweep.scheduler`` runs
its cells). The axis syntax lives in ``core.sweep.axes`` and is re-exported here.

The axes are X, Y and then Z, W (A1111's X/Y/Z plot, one more): every combination of their values is a cell.
After the run the grid can be laid out again (``SweepPlan.laid_out``): any axis across, any down, one value of
each other axis — without re-running, since a layout only re-indexes the same cells.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core import config
from core.errors import InputError
from core.inputs.region import Region
from core.schema import MAX_SEED, output_size, validate
from core.sweep.axes import (
    AXES,
    AXIS_CHOICES,
    ENGINE,
    IMAGE,
    MAX_CELLS,
    SEARCH_REPLACE,
    Axis,
    AxisValue,
    apply_value,
    format_value,
    is_kind,
    max_cells,
    parse_axis,
)

__all__ = ["AXES", "AXIS_CHOICES", "MAX_AXES", "MAX_CELLS", "Axis", "AxisValue", "Cell", "CellKey", "Preflight",
           "SweepPlan", "format_value", "max_cells", "parse_axis", "plan_grid"]

CellKey = tuple[int, ...]  # a cell's place in its sweep: (x_index, y_index, then one index per further axis)
MAX_AXES = 4  # X, Y, Z, W
AXIS_LETTERS = ("x", "y", "z", "w")


@dataclass
class Cell:
    """One grid cell: where it is shown (``x_index``/``y_index`` and those axes' values, in the plan's layout),
    validated arguments, (for an image axis) its input, and where it is in the sweep (``at``, one index per axis,
    which a layout never changes: the key its run is stored under)."""

    x_index: int
    y_index: int
    x_value: AxisValue
    y_value: AxisValue
    label: str  # e.g. "creativity=0.35 · resemblance=0.6"
    arguments: dict[str, Any]
    image_path: str | None = None
    at: CellKey = ()  # () for a cell made by hand: its (x_index, y_index)
    values: dict[str, AxisValue] = field(default_factory=dict)  # every axis's value for this cell, by axis name
    place: dict[str, int] = field(default_factory=dict)  # every axis's value index for this cell, by axis name
    gone: str = ""  # a re-opened cell with no run: IN_BIN (its runs deleted in History) or DELETED (never found)

    @property
    def key(self) -> CellKey:
        return self.at or (self.x_index, self.y_index)


IN_BIN, DELETED = "in the bin", "deleted"  # why a re-opened cell has no run (``Cell.gone``)


@dataclass(frozen=True)
class Preflight:
    """What a plan costs before it runs: cells, output megapixels, fal price and time estimates."""

    cells: int
    total_output_megapixels: float
    estimated_price: float  # USD, each cell at its own engine's price
    estimated_seconds: float | None  # None when no per-megapixel rate was given
    oversized: tuple[CellKey, ...] = ()  # cells whose output exceeds config.max_output_megapixels()
    prices: dict[CellKey, float] = field(default_factory=dict)  # each cell's estimated price (USD)

    def needs_confirmation(self, price_limit: float, cell_limit: int) -> bool:
        """True when the sweep costs more than ``price_limit`` dollars or has more than ``cell_limit`` cells."""
        return self.estimated_price > price_limit or self.cells > cell_limit


@dataclass
class SweepPlan:
    """A grid of cells over an X axis, an optional Y axis and further axes (``more_axes``: Z, W), row by row (the
    further axes outermost, then Y, X innermost). A laid-out plan (``laid_out``) has no further axes: its cells are
    one value of each, and keep their ``at``."""

    x_axis: str
    x_values: list[AxisValue]
    y_axis: str | None
    y_values: list[AxisValue]
    cells: list[Cell]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    region: str | None = None  # every cell's part of the picture, "x,y widthxheight" (Region.text); None: whole
    whole_path: str | None = None  # with a region, the whole picture it was cut from (stored input)
    vary_seed: bool = False  # each cell its own seed (the grid's seed + the cell's index), not one for the grid
    more_axes: list[tuple[str, list[AxisValue]]] = field(default_factory=list)  # Z, W: (axis name, values)
    # an image axis's pictures by value: the name each cell's run carries ("chelsea.png" for the label "chelsea")
    image_names: dict[str, str] = field(default_factory=dict)

    @property
    def axes(self) -> list[tuple[str, list[AxisValue]]]:
        """Every axis in order, (name, values): X, Y when there is one, then Z, W."""
        return [(self.x_axis, self.x_values), *([(self.y_axis, self.y_values)] if self.y_axis else []),
                *self.more_axes]

    def axis_of(self, kind: str) -> str | None:
        """The name of the plan's axis of ``kind`` (``ENGINE``, ``IMAGE``…), else None."""
        return next((name for name, _ in self.axes if is_kind(name, kind)), None)

    def laid_out(self, across: str, down: str | None = None, at: Mapping[str, int] | None = None) -> SweepPlan:
        """The same cells laid out again: axis ``across`` as columns, ``down`` (None: none) as rows, and of each
        other axis only the cells at its value index ``at[name]`` (default 0). The cells keep their ``at`` and
        runs, so every view of the layout finds the same runs; the label says the fixed values. ValueError for an
        axis the plan does not have."""
        values = dict(self.axes)
        if across not in values or (down is not None and (down not in values or down == across)):
            raise ValueError(f"no layout {across!r} × {down!r} of axes {', '.join(values)}")
        fixed = {name: min(max(0, int((at or {}).get(name, 0))), len(values[name]) - 1)
                 for name in values if name not in (across, down)}
        cells = []
        for cell in self.cells:
            if any(cell.place.get(name) != index for name, index in fixed.items()):
                continue
            cells.append(replace(cell, x_index=cell.place[across], x_value=cell.values[across],
                                 y_index=cell.place[down] if down else 0,
                                 y_value=cell.values[down] if down else None))
        cells.sort(key=lambda c: (c.y_index, c.x_index))
        return replace(self, x_axis=across, x_values=list(values[across]), y_axis=down,
                       y_values=list(values[down]) if down else [], cells=cells, more_axes=[])

    def pages(self, across: str, down: str | None, at: Mapping[str, int | None]) -> list[tuple[str, SweepPlan]]:
        """The grids of a layout, each with its title: one for each combination of the values of the other axes
        whose ``at`` is None ("all", A1111's Z), at ``at[name]`` for the others. The title names every other
        axis's value under the axis's label, as the sheets' legends name it ("Creativity: 0.4 · Seed: 2"; "" when
        the plan has no other axis)."""
        others = [(name, values) for name, values in self.axes if name not in (across, down)]
        choices = [range(len(values)) if at.get(name) is None else [int(at[name] or 0)] for name, values in others]
        pages = []
        for indices in itertools.product(*choices):
            fixed = dict(zip([name for name, _ in others], indices, strict=True))
            title = " · ".join(f"{_axis_label(name)}: {format_value(name, values[fixed[name]])}"
                               for name, values in others)
            pages.append((title, self.laid_out(across, down, fixed)))
        return pages

    @property
    def columns(self) -> int:
        return len(self.x_values)

    @property
    def rows(self) -> int:
        return max(1, len(self.y_values))

    @property
    def size(self) -> int:
        return len(self.cells)

    def cell(self, key: CellKey) -> Cell:
        """The cell whose key is ``key``; KeyError when there is none."""
        for cell in self.cells:
            if cell.key == key:
                return cell
        raise KeyError(key)

    def engine_of(self, cell: Cell) -> str | None:
        """The engine a cell runs on when the plan has an engine axis (``fal``, ``local:fast``…), else None."""
        name = self.axis_of(ENGINE)
        return str(cell.values[name]) if name else None

    @property
    def engines(self) -> tuple[str, ...]:
        """The engines of an engine axis, in order (empty without one)."""
        name = self.axis_of(ENGINE)
        return tuple(str(value) for value in dict(self.axes)[name]) if name else ()

    def preflight(self, width: int | None = None, height: int | None = None, *,
                  sizes: dict[str, tuple[int, int]] | None = None, seconds_per_megapixel: float | None = None,
                  seconds_per_cell: float = 0.0, concurrency: int = 1,
                  price_per_megapixel: Callable[[Cell], float] | None = None,
                  seconds_of: Callable[[Cell, float], float] | None = None,
                  lane_of: Callable[[Cell], tuple[str, int]] | None = None) -> Preflight:
        """Cost of the plan for an input of ``width × height`` (or ``sizes[image_path]`` per image cell); each
        cell priced at ``price_per_megapixel(cell)`` USD per output megapixel (its engine's descriptor's price:
        ``core/sweep/sweep_run.py``'s ``cell_prices``), free without it.

        The time estimate schedules the cells in order on ``concurrency`` workers, each taking
        ``seconds_of(cell, output MP)`` seconds (each cell at its own engine's rate, for an engine axis), else
        ``seconds_per_cell + output MP × seconds_per_megapixel``; none without either. With ``lane_of`` (a cell's
        engine and how many of its runs that engine takes at once) a cell holding a worker also waits for its
        engine: an engine axis's local cells run one at a time while its lanczos cells run beside them.
        """
        megapixels: list[float] = []
        prices: dict[CellKey, float] = {}
        oversized = []
        for cell in self.cells:
            size = (sizes or {}).get(cell.image_path or "") or (width, height)
            if size[0] is None or size[1] is None:
                raise InputError(f"The input size for cell {cell.label!r} is unknown.", "image")
            factor = cell.arguments["upscale_factor"]
            out_w, out_h = output_size(size[0], size[1], factor)
            megapixels.append(out_w * out_h / 1e6)
            prices[cell.key] = megapixels[-1] * (price_per_megapixel(cell) if price_per_megapixel else 0.0)
            if megapixels[-1] > config.max_output_megapixels():
                oversized.append(cell.key)
        seconds = None
        if seconds_of is not None:
            seconds = _makespan([seconds_of(cell, mp) for cell, mp in zip(self.cells, megapixels, strict=True)],
                                concurrency, [lane_of(cell) for cell in self.cells] if lane_of else None)
        elif seconds_per_megapixel is not None:
            seconds = _makespan([seconds_per_cell + mp * seconds_per_megapixel for mp in megapixels], concurrency)
        return Preflight(len(self.cells), sum(megapixels), sum(prices.values()), seconds, tuple(oversized), prices)


def _makespan(durations: list[float], workers: int, lanes: list[tuple[str, int]] | None = None) -> float:
    """When the last of ``durations`` finishes if each, in order, takes the first free of ``workers`` (FIFO) and,
    with ``lanes``, also the first free of its lane's units ((lane, units) per duration: an engine and how many
    runs it takes at once), holding its worker while it waits for one."""
    free_at = [0.0] * max(1, min(workers, len(durations) or 1))
    lane_free: dict[str, list[float]] = {}
    for at, duration in enumerate(durations):
        start = heapq.heappop(free_at)
        if lanes is not None:
            name, units = lanes[at]
            units_free = lane_free.setdefault(name, [0.0] * max(1, units))
            start = max(start, heapq.heappop(units_free))
            heapq.heappush(units_free, start + duration)
        heapq.heappush(free_at, start + duration)
    return max(free_at)


def _check_axis(name: str | None, values: list[AxisValue] | None, which: str) -> None:
    if name not in AXES:
        raise InputError(f"{which} axis: {name!r} cannot be swept; choose one of {', '.join(AXES)}.", None)
    if not values:
        raise InputError(f"{AXES[name].label} axis: no values given.", name)


def plan_grid(base_arguments: dict[str, Any], x_axis: str, x_values: list[AxisValue], y_axis: str | None = None,
              y_values: list[AxisValue] | None = None, images: Mapping[str, str | None] | None = None,
              region: Region | None = None, vary_seed: bool = False,
              more_axes: Sequence[tuple[str, list[AxisValue]]] = ()) -> SweepPlan:
    """Every cell of an X (× Y × Z × W) grid with validated arguments; InputError when too large or inconsistent.

    ``x_values``/``y_values`` and each of ``more_axes``' (name, values) — the Z and W axes, which need a Y axis —
    come from ``parse_axis``. No axis may be swept twice. For an ``image`` axis the values are keys of ``images``
    (label → path); for ``prompt_sr`` the first value is the text replaced. With no seed given and no seed axis,
    one random seed is drawn for the whole grid (as A1111's X/Y plot does), so cells differ only by their axis
    values. With a ``region`` every cell's label ends in it ("… · region 384×384 at 100,50"), so each caption,
    CSV row and contact-sheet label says which part of the picture it shows. With ``vary_seed`` each cell gets
    its own seed, the grid's (given or drawn) plus the cell's index in grid order, so a sweep shows how much of a
    difference is the seed's; it cannot be combined with a seed axis (InputError).
    """
    _check_axis(x_axis, x_values, "X")
    if y_axis is not None or y_values:
        _check_axis(y_axis, y_values, "Y")
    if more_axes and not y_axis:
        raise InputError("A Z axis needs a Y axis: choose the Y axis first.", "z_axis")
    if len(more_axes) > MAX_AXES - 2:
        raise InputError(f"At most {MAX_AXES} axes: X, Y, Z and W.", None)
    for letter, (name, values) in zip(AXIS_LETTERS[2:], more_axes, strict=False):
        _check_axis(name, values, letter.upper())
    y_values = list(y_values or []) if y_axis else []
    axes = [(x_axis, list(x_values)), *([(y_axis, y_values)] if y_axis else []),
            *((name, list(values)) for name, values in more_axes)]
    names = [name for name, _ in axes]
    for number, name in enumerate(names):
        if name in names[:number]:
            first, again = AXIS_LETTERS[names.index(name)].upper(), AXIS_LETTERS[number].upper()
            raise InputError(f"{first} and {again} both sweep {AXES[name].label}; choose a different "
                             f"{again} axis.", name)
    count = math.prod(len(values) for _, values in axes)
    if count > max_cells():
        raise InputError(f"Too many cells: this grid has {count} cells; the limit is {max_cells()}. "
                         "Use fewer values or a coarser step.", None)
    base = validate({k: v for k, v in base_arguments.items() if v is not None}, require_image=False)
    if vary_seed and "seed" in names:
        raise InputError("Vary seed per cell and a Seed axis both set each cell's seed: untick Vary seed per cell, "
                         "or sweep another axis.", "vary_seed")
    if base.get("seed") is None and "seed" not in names:
        base["seed"] = random.randint(0, MAX_SEED)
    searches = {}
    for name, values in axes:
        if is_kind(name, IMAGE):
            missing = [value for value in values if value not in (images or {})]
            if missing:
                raise InputError(f"Input image axis: no image labelled {missing[0]!r}; the images are "
                                 f"{', '.join(images or {}) or 'none'}.", "image")
        if is_kind(name, SEARCH_REPLACE):
            search = values[0]
            if search not in base.get("prompt", "") and search not in base.get("negative_prompt", ""):
                raise InputError(f"Prompt S/R axis: the first value {search!r} is the text to replace, but it "
                                 "does not occur in the prompt.", "prompt_sr")
            searches[name] = search
    cells: list[Cell] = []
    # Row by row: the last axis outermost, X innermost (itertools.product varies its last argument fastest).
    for reversed_place in itertools.product(*(range(len(values)) for _, values in reversed(axes))):
        place = dict(zip(names, reversed(reversed_place), strict=True))
        values_of = {name: dict(axes)[name][place[name]] for name in names}
        arguments = dict(base)
        for name in names:
            arguments = apply_value(name, values_of[name], arguments, searches.get(name))
        parts = [f"{name}={format_value(name, values_of[name])}" for name in names]
        if region is not None:
            parts.append(region.label)
        image_path = None
        if image_axis := next((name for name in names if is_kind(name, IMAGE)), None):
            image_path = (images or {})[str(values_of[image_axis])]  # one of the labels checked above
            arguments.pop("image_url", None)  # the base image is not this cell's input
        if vary_seed:
            arguments["seed"] = (base["seed"] + len(cells)) % (MAX_SEED + 1)
        arguments = validate(arguments, require_image=False)
        at = (place[x_axis], place[y_axis] if y_axis else 0, *(place[name] for name, _ in more_axes))
        cells.append(Cell(place[x_axis], place[y_axis] if y_axis else 0, values_of[x_axis],
                          values_of[y_axis] if y_axis else None, " · ".join(parts), arguments, image_path, at,
                          values_of, place))
    return SweepPlan(x_axis, list(x_values), y_axis, y_values, cells, region=region.text if region else None,
                     vary_seed=vary_seed, more_axes=[(name, list(values)) for name, values in more_axes])


def _axis_label(name: str) -> str:
    """An axis as people read it ("Input image", "Creativity"), as the sheets' legends name it."""
    return AXES[name].label if name in AXES else name
