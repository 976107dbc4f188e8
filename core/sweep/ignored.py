"""Knobs an engine ignores, as sweeps see them: an axis whose every field the engine ignores would give identical
cells, so it is refused by name — unless the grid compares engines and one of them uses it, where it is marked on
the cells of the engines that ignore it. An axis every engine of the comparison ignores is refused as well."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import InputError
from core.schema import FIELD_BY_NAME
from core.sweep.axes import ENGINE, SEARCH_REPLACE, is_kind


def axis_fields(name: str) -> tuple[str, ...]:
    """The schema parameters an axis changes (``prompt_sr`` edits both prompts; ``image`` none)."""
    if is_kind(name, SEARCH_REPLACE):
        return ("prompt", "negative_prompt")
    return (name,) if name in FIELD_BY_NAME else ()


def _engine_ids(specs: Sequence[str]) -> list[str]:
    from core.engines import parse_spec

    return list(dict.fromkeys(parse_spec(spec)[0] for spec in specs))


def refuse_ignored(engine_id: str, *axes: str | None, compared: Sequence[str] = ()) -> None:
    """Raise InputError when the engine ignores every parameter an axis changes: its cells would be identical.
    With an engine axis, ``compared`` are its engines (``fal``, ``local:fast``…): an axis is refused only when
    every one of them ignores it (some using it, it is marked on the others' cells)."""
    from core.engines import ENGINES, describe

    engine_axis = any(is_kind(axis, ENGINE) for axis in axes)
    engines = _engine_ids(compared) if engine_axis else [engine_id]
    if not engines:  # an engine axis whose values are not read yet: nothing to refuse on
        return
    for axis in axes:
        fields = axis_fields(axis or "")
        if fields and all(describe(engine).ignores(field) for engine in engines for field in fields):
            others = [other for other in ENGINES if other not in engines and not describe(other).ignores(fields[0])]
            choice = f"choose {' or '.join(others)} or another axis" if others else "choose another axis"
            who = (f"The {engines[0]} engine ignores" if len(engines) == 1
                   else f"Every engine of the Engine axis ({', '.join(engines)}) ignores")
            raise InputError(f"{who} {axis}: these cells would be identical; {choice}.", axis)


def refuse_vary_seed(engine_id: str, *axes: str | None, compared: Sequence[str] = ()) -> None:
    """Raise InputError when *Vary seed per cell* is asked of an engine that uses no seed (its cells would be
    identical); comparing engines (``compared``, the engine axis's), it is kept when one of them uses a seed and
    marked on the others' cells, and refused when none does."""
    from core.engines import ENGINES, describe

    engines = _engine_ids(compared) if any(is_kind(axis, ENGINE) for axis in axes) else [engine_id]
    if not engines or not all(describe(engine).ignores("seed") for engine in engines):
        return
    others = [other for other in ENGINES if not describe(other).ignores("seed")]
    who = f"The {engines[0]} engine uses" if len(engines) == 1 else f"The engines {', '.join(engines)} use"
    raise InputError(f"{who} no seed: with Vary seed per cell the cells would be identical; "
                     f"choose {' or '.join(others) or 'another engine'}, or untick Vary seed per cell.", "vary_seed")
