"""The Sweep tab's layout of a finished grid: which axis goes across, which down, and which value of each other
axis is shown (or "all": a page of grids, one per value, as A1111's Z axis gives). Changing it re-runs nothing:
``SweepPlan.pages`` re-indexes the same cells, and the grid, the detail crops, the difference choices, the metrics
and *Contact sheet of this layout* follow it.

The layout is kept in its own ``gr.State`` (``Layout``), not in the ``SweepView``: a pivot redraws the views of the
cells, never the sweep itself (its crop centre, its sheet, its page export stay). A layout made for another sweep
(an older grid, a re-opened one) is replaced by the new sweep's default: X across, Y down, every other axis "all".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.common.files import servable
from components.common.refusal import said
from components.sweep.sweep_actions import IN_BIN, NONE, SweepView
from core.storage import StorageError
from core.sweep import sweep_run
from core.sweep.axes import AXES, format_value
from core.sweep.contact_sheet import sheet_to_png
from core.sweep.plan import MAX_AXES, SweepPlan

ALL = "all"  # an other axis's choice that shows a grid per value
FIXED = MAX_AXES - 2  # the menus for the axes neither across nor down


@dataclass(frozen=True)
class Layout:
    """A layout of sweep ``sweep_id``: ``across`` and ``down`` (None: one row) axis names, and for each other axis
    the index of the value shown (None: all of them), as (axis, index) pairs — a tuple, so the layout hashes, as
    Gradio's change tracking of a state needs."""

    sweep_id: str = ""
    across: str = ""
    down: str | None = None
    others: tuple[tuple[str, int | None], ...] = ()

    @property
    def at(self) -> dict[str, int | None]:
        """Each other axis's value index (None: all), by axis name."""
        return dict(self.others)


def _layout(sweep_id: str, across: str, down: str | None, at: dict[str, int | None]) -> Layout:
    return Layout(sweep_id, across, down, tuple(at.items()))


def default(plan: SweepPlan) -> Layout:
    """The sweep as it was run: X across, Y down, every other axis "all"."""
    return _layout(plan.id, plan.x_axis, plan.y_axis, dict.fromkeys(name for name, _ in plan.more_axes))


def current(view: SweepView, layout: Layout | None) -> Layout | None:
    """The layout to show ``view``'s sweep in: ``layout`` when it is this sweep's, else the default (None: no
    sweep)."""
    if view.plan is None:
        return None
    if layout is None or layout.sweep_id != view.plan.id:
        return default(view.plan)
    return layout


def pages(view: SweepView, layout: Layout | None) -> list[tuple[str, SweepPlan]]:
    """The grids on show, each with its title ("" for a single grid with no other axis); none without a sweep."""
    shown = current(view, layout)
    if view.plan is None or shown is None:
        return []
    return view.plan.pages(shown.across, shown.down, shown.at)


def _axis_choices(plan: SweepPlan) -> list[tuple[str, str]]:
    return [(AXES[name].label if name in AXES else name, name) for name, _ in plan.axes]


def controls(view: SweepView, layout: Layout | None) -> tuple[Any, ...]:
    """The layout row's widgets for ``view``'s sweep in ``layout``: the row (shown for a sweep of two axes or
    more), Across, Down, Swap, and one menu per other axis (its values and "all", as ``"<axis>=<index>"`` and
    ``"<axis>=all"``; hidden when unused)."""
    shown = current(view, layout)
    plan = view.plan
    if plan is None or shown is None or len(plan.axes) < 2:
        return (gr.update(visible=False), gr.skip(), gr.skip(), gr.skip(),
                *[gr.update(visible=False, choices=[], value=None)] * FIXED)
    choices = _axis_choices(plan)
    others = [(name, values) for name, values in plan.axes if name not in (shown.across, shown.down)]
    menus = []
    for number in range(FIXED):
        if number >= len(others):
            menus.append(gr.update(visible=False, choices=[], value=None))
            continue
        name, values = others[number]
        index = shown.at.get(name)
        menus.append(gr.update(
            visible=True, label=AXES[name].label if name in AXES else name,
            choices=[*((format_value(name, value, 40), f"{name}={at}") for at, value in enumerate(values)),
                     (f"all: a grid per value ({len(values)})", f"{name}={ALL}")],
            value=f"{name}={ALL if index is None else index}"))
    return (gr.update(visible=True), gr.update(choices=choices, value=shown.across),
            gr.update(choices=[("none: one row", NONE), *choices], value=shown.down or NONE), gr.update(), *menus)


def synced(view: SweepView, layout: Layout | None) -> tuple[Any, ...]:
    """A new sweep on show: its layout (kept when it is the same sweep's) and the controls for it."""
    shown = current(view, layout)
    return (shown if shown != layout else gr.skip()), *controls(view, shown)


def chosen(view: SweepView, layout: Layout | None, across: str | None, down: str | None) -> tuple[Any, ...]:
    """The layout with ``across`` and ``down`` (NONE or None: one row) as asked. An axis put across (or down) that
    was down (or across) swaps the two; an axis taken out of across or down shows its first value; the other axes
    keep the value they show; the menus are redrawn for the new set of other axes. Asking for the layout on show
    changes nothing (a menu's event that comes twice, or late, moves no value)."""
    shown = current(view, layout)
    if view.plan is None or shown is None:
        return gr.skip(), *controls(view, layout)
    names = [name for name, _ in view.plan.axes]
    across = across if across in names else shown.across
    down = down if down in names else None
    if down == across:  # the axis chosen across was down: the old across goes down (a swap)
        down = shown.across if across != shown.across else shown.down
        if down == across:
            down = None
    at = {name: shown.at.get(name, 0) for name in names if name not in (across, down)}  # left across/down: first
    new = _layout(view.plan.id, across, down, at)
    return new, *controls(view, new)


def across_chosen(view: SweepView, layout: Layout | None, across: str | None) -> tuple[Any, ...]:
    """The Across menu's choice (``chosen``, the axis down kept unless it is the one put across)."""
    shown = current(view, layout)
    return chosen(view, layout, across, shown.down if shown else None)


def down_chosen(view: SweepView, layout: Layout | None, down: str | None) -> tuple[Any, ...]:
    """The Down menu's choice (``chosen``, the axis across kept); the axis across put down swaps the two
    (``swap``), as the Across menu does."""
    shown = current(view, layout)
    if shown is not None and down == shown.across:
        return swap(view, layout)
    return chosen(view, layout, shown.across if shown else None, down)


def picked(view: SweepView, layout: Layout | None, choice: str | None) -> tuple[Any, ...]:
    """An other axis's menu: ``choice`` is ``"<axis>=<value index>"`` or ``"<axis>=all"`` (its values name their
    axis, so a choice made for one axis never lands on another after a pivot). A choice for an axis that is not
    among the other axes now (a stale event) changes nothing."""
    shown = current(view, layout)
    name, _, value = (choice or "").rpartition("=")
    if view.plan is None or shown is None or name not in shown.at:
        return gr.skip(), *[gr.skip()] * (4 + FIXED)
    count = len(dict(view.plan.axes)[name])
    index = None if value == ALL else int(value) if value.isdigit() and int(value) < count else shown.at[name]
    new = _layout(view.plan.id, shown.across, shown.down, {**shown.at, name: index})
    return new, *controls(view, new)


def swap(view: SweepView, layout: Layout | None) -> tuple[Any, ...]:
    """Across and Down exchanged (with no Down, the across axis goes down and the first other axis across)."""
    shown = current(view, layout)
    if view.plan is None or shown is None:
        return gr.skip(), *controls(view, layout)
    down = shown.down
    if down is None:
        rest = [name for name in shown.at]
        if not rest:
            new = _layout(view.plan.id, shown.across, None, shown.at)
            return new, *controls(view, new)
        down, at = shown.across, {name: index for name, index in shown.at.items() if name != rest[0]}
        new = _layout(view.plan.id, rest[0], down, at)
    else:
        new = _layout(view.plan.id, down, shown.across, shown.at)
    return new, *controls(view, new)


def _named(text: str) -> str:
    """A value as a file name's part: letters, digits, dots and dashes."""
    return re.sub(r"[^\w.]+", "_", text).strip("_") or "value"


def sheet(view: SweepView, layout: Layout | None) -> tuple[Any, str]:
    """*Contact sheet of this layout*: written beside the sweep's own as ``contact-sheet-<layout>.png``, one sheet
    per value of each "all" axis, each under its title; and the line under the button, which says what was written
    or why nothing was (a refusal raised here marked the sheet's picture with an *Error* badge)."""
    shown = current(view, layout)
    if view.plan is None or shown is None:
        return gr.skip(), said("There is no sweep here: run one, or open a past one.")
    if view.deleted:  # its pictures are in History's bin or gone (the sheet drew them as "completed" blanks)
        then = "put its runs back to draw its sheet." if view.deleted == IN_BIN else "it has no pictures left."
        return gr.skip(), said(f"Sweep {view.plan.id} was deleted in History ({view.deleted}): {then}")
    picture = sweep_run.layout_sheet(view.plan, view.runs, shown.across, shown.down, shown.at)
    values = dict(view.plan.axes)
    fixed = "-".join(f"{name}-{ALL if index is None else _named(format_value(name, values[name][index], 24))}"
                     for name, index in shown.at.items())  # the value shown, as the sheet's title says it
    name = f"contact-sheet-{shown.across}-by-{shown.down or 'none'}{'-' + fixed if fixed else ''}.png"
    try:
        path = sheet_to_png(picture, sweep_run.sweep_dir(view.plan.id) / name)
    except StorageError as exc:
        return gr.skip(), said(str(exc))
    # the layout named in words, not "this layout": after a pivot the sheet stays on show for the layout it was
    # drawn for, and "this" then meant the new one (a user trial)
    words = " · ".join([f"{shown.across} across", f"{shown.down} down" if shown.down else "one row",
                        *(f"{axis}: {ALL if index is None else format_value(axis, values[axis][index], 24)}"
                          for axis, index in shown.at.items())])
    return servable(str(path)), f"The contact sheet above is of the layout {words} (`{name}`)."
