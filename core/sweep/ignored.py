"""Knobs an engine ignores, as sweeps see them: an axis whose every field the engine ignores would give identical
cells, so it is refused by name — unless the grid compares engines, where it is marked on those engines' cells."""

from __future__ import annotations

from core.errors import InputError
from core.schema import FIELD_BY_NAME
from core.sweep.axes import ENGINE, SEARCH_REPLACE, is_kind


def axis_fields(name: str) -> tuple[str, ...]:
    """The schema parameters an axis changes (``prompt_sr`` edits both prompts; ``image`` none)."""
    if is_kind(name, SEARCH_REPLACE):
        return ("prompt", "negative_prompt")
    return (name,) if name in FIELD_BY_NAME else ()


def refuse_ignored(engine_id: str, *axes: str | None) -> None:
    """Raise InputError when the engine ignores every parameter an axis changes: its cells would be identical."""
    from core.engines import ENGINES, describe

    if any(is_kind(axis, ENGINE) for axis in axes):  # comparing engines: an axis some ignore is marked, not refused
        return
    info = describe(engine_id)
    for axis in axes:
        fields = axis_fields(axis or "")
        if fields and all(info.ignores(field) for field in fields):
            others = [other for other in ENGINES if other != engine_id and not describe(other).ignores(fields[0])]
            choice = f"choose {' or '.join(others)} or another axis" if others else "choose another axis"
            raise InputError(f"The {engine_id} engine ignores {axis}: these cells would be identical; {choice}.",
                             axis)


def refuse_vary_seed(engine_id: str, *axes: str | None) -> None:
    """Raise InputError when *Vary seed per cell* is asked of an engine that uses no seed (its cells would be
    identical); comparing engines, it is kept for those that use one and marked on the others' cells."""
    from core.engines import ENGINES, describe

    if any(is_kind(axis, ENGINE) for axis in axes) or not describe(engine_id).ignores("seed"):
        return
    others = [other for other in ENGINES if not describe(other).ignores("seed")]
    raise InputError(f"The {engine_id} engine uses no seed: with Vary seed per cell its cells would be identical; "
                     f"choose {' or '.join(others) or 'another engine'}, or untick Vary seed per cell.", "vary_seed")
