"""Sweeps: a grid plan over one or two axes and its cost before it runs (``core.sweep.scheduler`` runs its
cells). The axis syntax lives in ``core.sweep.axes`` and is re-exported here.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    side_of,
)

__all__ = ["AXES", "AXIS_CHOICES", "MAX_CELLS", "Axis", "AxisValue", "Cell", "CellKey", "Preflight", "SweepPlan",
           "format_value", "max_cells", "parse_axis", "plan_grid"]

CellKey = tuple[int, int]  # (x_index, y_index)


@dataclass
class Cell:
    """One grid cell: its position, axis values, validated arguments and (for an image axis) its input."""

    x_index: int
    y_index: int
    x_value: AxisValue
    y_value: AxisValue
    label: str  # e.g. "creativity=0.35 · resemblance=0.6"
    arguments: dict[str, Any]
    image_path: str | None = None

    @property
    def key(self) -> CellKey:
        return (self.x_index, self.y_index)


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
    """A grid of cells over an X axis and an optional Y axis, row by row (Y outer, X inner)."""

    x_axis: str
    x_values: list[AxisValue]
    y_axis: str | None
    y_values: list[AxisValue]
    cells: list[Cell]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    region: str | None = None  # every cell's part of the picture, "x,y widthxheight" (Region.text); None: whole
    whole_path: str | None = None  # with a region, the whole picture it was cut from (stored input)
    vary_seed: bool = False  # each cell its own seed (the grid's seed + the cell's index), not one for the grid

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
        """The cell at (x_index, y_index)."""
        return self.cells[key[1] * self.columns + key[0]]

    def engine_of(self, cell: Cell) -> str | None:
        """The engine a cell runs on when the plan has an engine axis (``fal``, ``local:fast``…), else None."""
        side = side_of(ENGINE, self.x_axis, self.y_axis)
        return str(cell.x_value if side == "x" else cell.y_value) if side else None

    @property
    def engines(self) -> tuple[str, ...]:
        """The engines of an engine axis, in order (empty without one)."""
        side = side_of(ENGINE, self.x_axis, self.y_axis)
        values = self.x_values if side == "x" else self.y_values if side == "y" else []
        return tuple(str(value) for value in values)

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
              region: Region | None = None, vary_seed: bool = False) -> SweepPlan:
    """Every cell of an X (× Y) grid with validated arguments; InputError when too large or inconsistent.

    ``x_values``/``y_values`` come from ``parse_axis``. For an ``image`` axis the values are keys of
    ``images`` (label → path); for ``prompt_sr`` the first value is the text replaced. With no seed given and
    no seed axis, one random seed is drawn for the whole grid (as A1111's X/Y plot does), so cells differ only by
    their axis values. With a ``region`` every cell's label ends in it ("… · region 384×384 at 100,50"), so each
    caption, CSV row and contact-sheet label says which part of the picture it shows. With ``vary_seed`` each
    cell gets its own seed, the grid's (given or drawn) plus the cell's index in grid order, so a sweep shows how
    much of a difference is the seed's; it cannot be combined with a seed axis (InputError).
    """
    _check_axis(x_axis, x_values, "X")
    if y_axis is not None or y_values:
        _check_axis(y_axis, y_values, "Y")
        if y_axis == x_axis:
            raise InputError(f"X and Y both sweep {AXES[x_axis].label}; choose a different Y axis.", y_axis)
    y_values = list(y_values or []) if y_axis else []
    count = len(x_values) * max(1, len(y_values))
    if count > max_cells():
        raise InputError(f"Too many cells: this grid has {count} cells; the limit is {max_cells()}. "
                         "Use fewer values or a coarser step.", None)
    base = validate({k: v for k, v in base_arguments.items() if v is not None}, require_image=False)
    if vary_seed and "seed" in (x_axis, y_axis):
        raise InputError("Vary seed per cell and a Seed axis both set each cell's seed: untick Vary seed per cell, "
                         "or sweep another axis.", "vary_seed")
    if base.get("seed") is None and "seed" not in (x_axis, y_axis):
        base["seed"] = random.randint(0, MAX_SEED)
    searches = {}
    for name, values in ((x_axis, x_values), (y_axis, y_values)):
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
    for y_index, y_value in enumerate(y_values or [None]):
        for x_index, x_value in enumerate(x_values):
            arguments = apply_value(x_axis, x_value, base, searches.get(x_axis))
            parts = [f"{x_axis}={format_value(x_axis, x_value)}"]
            if y_axis:
                arguments = apply_value(y_axis, y_value, arguments, searches.get(y_axis))
                parts.append(f"{y_axis}={format_value(y_axis, y_value)}")
            if region is not None:
                parts.append(region.label)
            image_path = None
            if image_side := side_of(IMAGE, x_axis, y_axis):
                label = str(x_value if image_side == "x" else y_value)  # one of the labels checked above
                image_path = (images or {})[label]
                arguments.pop("image_url", None)  # the base image is not this cell's input
            if vary_seed:
                arguments["seed"] = (base["seed"] + len(cells)) % (MAX_SEED + 1)
            arguments = validate(arguments, require_image=False)
            cells.append(Cell(x_index, y_index, x_value, y_value if y_axis else None, " · ".join(parts),
                              arguments, image_path))
    return SweepPlan(x_axis, list(x_values), y_axis, y_values, cells, region=region.text if region else None,
                     vary_seed=vary_seed)
