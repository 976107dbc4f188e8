"""Sweep axes: which parameters a grid can vary, and AUTOMATIC1111's X/Y/Z plot syntax for their values.

Numeric axes take comma lists (CSV, quotes allowed) of values and ranges::

    1-5            1, 2, 3, 4, 5          (step 1, or -1 when descending: 5-1)
    1-5 (+2)       1, 3, 5                (a step; the sign must point from a to b)
    10-5 (-3)      10, 7
    0-1 (+0.1)     0, 0.1, ..., 1.0       (decimal arithmetic: ends never drift)
    0.35-0.65 [4]  0.35, 0.45, 0.55, 0.65 (n evenly spaced values, both ends included)
    1-3, 7, 10-20 (+5)                    (mixed)

``prompt_sr`` is A1111's prompt search/replace: CSV values, the first is the text searched for in the prompt (and
the negative prompt), every value replaces it. ``prompt`` and ``negative_prompt`` take whole alternatives
separated by ``|`` (prompts contain commas, so CSV would need quoting everywhere). ``image`` takes labels of the
images the caller provides. ``enable_safety_checker`` takes true/false (yes/no, on/off, 1/0).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any, TypeAlias

from core.errors import InputError
from core.schema import FIELD_BY_NAME, FIELDS, check_value
from core.sweep.axis_tokens import split_values

MAX_CELLS = 100  # default cap on a grid's cells; env CLARITY_MAX_SWEEP_CELLS overrides
RANGE_HINT = "write a-b, a-b (+step) or a-b [count]"
# One value of an axis: a number (None: a random seed), true/false, a text, an image label.
AxisValue: TypeAlias = bool | int | float | str | None

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_RANGE = re.compile(rf"^(?P<a>{_NUMBER})\s*-\s*(?P<b>{_NUMBER})"
                    rf"(?:\s*\(\s*(?P<step>[+-]?\s*(?:\d+(?:\.\d*)?|\.\d+))\s*\)|\s*\[\s*(?P<count>\d+)\s*\])?$")
_SINGLE = re.compile(rf"^{_NUMBER}(?:[eE][+-]?\d+)?$")  # float() accepts an exponent, as A1111's does
_LOOKALIKES = {"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2010": "-", "\u2011": "-",
               "\u00a0": " ", "\uff0c": ",", "\uff0e": "."}  # what word processors and IMEs type instead
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Axis:
    """One choosable sweep axis: ``kind`` is "float", "int", "bool", "text", "search_replace" or "image"."""

    name: str
    label: str
    kind: str
    help: str
    example: str


def max_cells() -> int:
    """The largest grid allowed (``CLARITY_MAX_SWEEP_CELLS``, default ``MAX_CELLS``)."""
    from core import config

    return config.whole("CLARITY_MAX_SWEEP_CELLS", MAX_CELLS)


def _numeric_example(name: str) -> str:
    field = FIELD_BY_NAME[name]
    if name == "seed":
        return "1-4"  # the full seed range is not a useful example
    low, high = Decimal(str(field.minimum)), Decimal(str(field.maximum))
    return f"{low.normalize():f}-{high.normalize():f} [5]"


def _build_axes() -> dict[str, Axis]:
    """Every axis, in schema order, with labels and help read from core.schema."""
    axes: dict[str, Axis] = {}
    for field in FIELDS:
        if field.name == "image_url":
            axes["image"] = Axis("image", "Input image", "image", "Run the same settings on several images.",
                                 "photo1, photo2")
        elif field.numeric:
            axes[field.name] = Axis(field.name, field.label, field.kind, field.help, _numeric_example(field.name))
        elif field.kind == "bool":
            axes[field.name] = Axis(field.name, field.label, "bool", field.help, "true, false")
        elif field.kind == "str":
            axes[field.name] = Axis(field.name, field.label, "text",
                                    f"{field.help} Whole alternatives, separated by |.", "a photo | a painting")
            if field.name == "prompt":
                axes["prompt_sr"] = Axis(
                    "prompt_sr", "Prompt S/R", "search_replace",
                    "Search/replace in the prompt: the first value is searched for, each value replaces it.",
                    "best quality, sharp focus, film grain")
    axes["engine"] = Axis("engine", "Engine", "engine",
                          "Compare engines on the same settings: each cell runs on its own engine (fal, local, "
                          "local:<model>, lanczos); each cell is priced at its own engine's price.",
                          "fal, local:fast, lanczos")
    return axes


AXES: dict[str, Axis] = _build_axes()
AXIS_CHOICES: list[tuple[str, str]] = [(axis.label, axis.name) for axis in AXES.values()]  # for a dropdown

# The special kinds of axis: the one place that says which axes are not a plain parameter. An ENGINE axis gives
# each cell its own engine, an IMAGE axis its own input, a SEARCH_REPLACE axis edits both prompts.
ENGINE, IMAGE, SEARCH_REPLACE = "engine", "image", "search_replace"


def kind_of(name: str | None) -> str | None:
    """The kind of axis ``name`` (None for no axis or an unknown one)."""
    axis = AXES.get(name or "")
    return axis.kind if axis else None


def is_kind(name: str | None, kind: str) -> bool:
    """Whether axis ``name`` is of ``kind`` (``ENGINE``, ``IMAGE``, ``SEARCH_REPLACE``, or a plain kind)."""
    return kind_of(name) == kind


def values_text(name: str, values: list[AxisValue]) -> str:
    """A value list written back in the axis syntax ``parse_axis`` reads (for a sweep kept before records)."""
    if kind_of(name) == "text":
        return " | ".join(str(value) for value in values)
    if kind_of(name) in (SEARCH_REPLACE, IMAGE):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow([str(value) for value in values])
        return buffer.getvalue()
    return ", ".join(format_value(name, value, 10**6) for value in values)


def _csv_tokens(name: str, text: str) -> list[str]:
    return split_values(text, _label(name), name)


def _label(name: str) -> str:
    axis = AXES.get(name)
    return f"{axis.label} axis" if axis else f"Axis {name!r}"


def _decimals(number: Decimal) -> int:
    return max(0, -int(number.as_tuple().exponent))  # finite: never 'n'/'N'/'F'


def _expand_range(name: str, token: str, match: re.Match[str], budget: int) -> tuple[list[Decimal], int]:
    """The exact values of one range token, and the decimals to show them with."""
    start, end = Decimal(match["a"]), Decimal(match["b"])
    decimals = max(_decimals(start), _decimals(end))
    if match["count"] is not None:
        count = int(match["count"])
        if count < 2:
            raise InputError(f"{_label(name)}: `{token}` asks for {count} value(s); a count needs at least 2 "
                             f"to include both ends: write `{match['a']}-{match['b']} [2]` or more, or "
                             f"`{match['a']}` alone.", name)
        _check_budget(name, token, count, budget)
        step = (end - start) / (count - 1)
        values = [start + step * i for i in range(count - 1)] + [end]
        if FIELD_BY_NAME[name].kind == "int":
            # A1111 truncates evenly spaced int values (numpy astype(int)): 1-10 [5] is 1, 3, 5, 7, 10
            values = [value.to_integral_value(rounding=ROUND_DOWN) for value in values]
        return values, decimals
    if match["step"] is not None:
        step = Decimal(match["step"].replace(" ", ""))
        decimals = max(decimals, _decimals(step))
        towards = "-" if end < start else "+"
        if step == 0:
            raise InputError(f"{_label(name)}: `{token}` has a step of 0; write "
                             f"`{match['a']}-{match['b']} ({towards}1)` or another step.", name)
        if start != end and (step > 0) != (end > start):
            raise InputError(f"{_label(name)}: in `{token}` the step {match['step']} goes away from {match['b']}; "
                             f"write `{match['a']}-{match['b']} ({towards}{abs(step)})`.", name)
    else:
        step = Decimal(1) if end >= start else Decimal(-1)
    count = int((end - start) / step) + 1  # exact in Decimal: no end dropped or overshot
    _check_budget(name, token, count, budget)
    return [start + step * i for i in range(count)], decimals


def _check_budget(name: str, token: str, count: int, budget: int) -> None:
    if count > budget:
        bounds = _RANGE.match(token)
        instead = (f"write a count, e.g. `{bounds['a']}-{bounds['b']} [{budget}]`, or a larger step"
                   if bounds else "remove some values")
        raise InputError(f"{_label(name)}: `{token}` gives {count} values; a grid is limited to {max_cells()} "
                         f"cells ({budget} left for this axis): {instead}.", name)


def _to_field(name: str, value: Decimal, decimals: int) -> int | float:
    """A Decimal as the field's type, rounded to what the user and the field's step can show."""
    field = FIELD_BY_NAME[name]
    if field.kind == "int":
        # a fraction stays a float so check_value refuses it ("must be a whole number")
        return int(value) if value == value.to_integral_value() else float(value)
    places = max(decimals, _decimals(Decimal(str(field.step))) if field.step else 0)
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def _parse_numeric(name: str, text: str) -> list[int | float | None]:
    values: list[int | float | None] = []
    for token in _csv_tokens(name, text):
        budget = max_cells() - len(values)
        if name == "seed" and token.lower() == "random":
            values.append(None)
            continue
        if _SINGLE.match(token):
            numbers, decimals = [Decimal(token)], _decimals(Decimal(token))
        elif match := _RANGE.match(token):
            numbers, decimals = _expand_range(name, token, match, budget)
        else:
            raise InputError(f"{_label(name)}: `{token}` is not a value or range: {_instead(token)}.", name)
        _check_budget(name, token, len(numbers), budget)
        for number in numbers:
            value = _to_field(name, number, decimals)
            try:
                values.append(check_value(name, value))
            except InputError as exc:
                reason = exc.message.removeprefix(f"{FIELD_BY_NAME[name].label}: ").rstrip(".")
                raise InputError(f"{_label(name)}: {_quoted(reason, token)}.", name) from None
    return values


def _quoted(reason: str, token: str) -> str:
    """A value's refusal with the token it came from in backticks, said once: "`6` is too large; …", "5 is too
    large; … (written `.5e1`)", "1.5 is too large; … (in the range `0.5-1.5`)"."""
    if reason.startswith(f"{token} "):
        return f"`{token}`{reason[len(token):]}"
    return f"{reason} ({'written' if _SINGLE.match(token) else 'in the range'} `{token}`)"


def _instead(token: str) -> str:
    """What to write instead of a token that is not a number or range."""
    fixed = "".join(_LOOKALIKES.get(char, char) for char in token)
    if fixed != token and (_SINGLE.match(fixed) or _RANGE.match(fixed)):
        return f"write `{fixed}` (with a plain hyphen, comma or point)"
    return f"write a number such as `0.5`, or {RANGE_HINT}"


def _parse_bool(name: str, text: str) -> list[bool]:
    values = []
    for token in _csv_tokens(name, text):
        word = token.lower()
        if word not in _TRUE + _FALSE:
            raise InputError(f"{_label(name)}: `{token}` is not true or false: write true or false (yes/no, "
                             "on/off and 1/0 work too).", name)
        values.append(word in _TRUE)
    return values


def _parse_alternatives(name: str, text: str) -> list[str]:
    pieces = [piece.strip() for piece in text.split("|")]
    if any(not piece for piece in pieces):
        kept = " | ".join(piece for piece in pieces if piece)
        raise InputError(f"{_label(name)}: there is an empty alternative between | separators in "
                         f"`{text.strip()}`; remove the extra |: `{kept}`.", name)
    return [check_value(name, piece) for piece in pieces]


def parse_axis(name: str, text: str, prompt: str = "", negative_prompt: str = "") -> list[AxisValue]:
    """The values of one axis from its text, checked against the schema; InputError quotes the bad token.

    ``prompt`` (and ``negative_prompt``) are needed for ``prompt_sr``, whose first value must occur in them.
    """
    if name not in AXES:
        raise InputError(f"{name!r} cannot be swept; choose one of {', '.join(AXES)}.", None)
    if not text or not text.strip():
        raise InputError(f"{_label(name)}: no values given; for example `{AXES[name].example}`.", name)
    kind = AXES[name].kind
    if kind in ("int", "float"):
        values: list[Any] = _parse_numeric(name, text)
    elif kind == "bool":
        values = _parse_bool(name, text)
    elif kind == "text":
        values = _parse_alternatives(name, text)
    elif kind == "engine":
        from core.engines import parse_spec

        values = []
        for token in _csv_tokens(name, text):
            engine, model = parse_spec(token)
            values.append(f"{engine}:{model}" if model else engine)
    else:  # search_replace, image: plain CSV strings
        values = _csv_tokens(name, text)
    if kind == "search_replace" and values[0] not in prompt and values[0] not in negative_prompt:
        raise InputError(f"{_label(name)}: the first value `{values[0]}` is the text to replace, but it does not "
                         "occur in the prompt; put a piece of the prompt first, then what replaces it "
                         "(e.g. `cat, dog` for a prompt with “cat”).", "prompt_sr")
    if len(values) > max_cells():
        raise InputError(f"{_label(name)}: {len(values)} values; a grid is limited to {max_cells()} cells: "
                         "remove some values.", name)
    return values


def format_value(name: str, value: Any, width: int = 40) -> str:
    """A value as a short label: numbers without float noise, long prompts shortened with an ellipsis."""
    if value is None:
        return "random" if name == "seed" else "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{Decimal(repr(value)).normalize():f}" if abs(value) < 1e15 else f"{value:g}"
    text = str(value)
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def apply_value(name: str, value: Any, arguments: dict[str, Any], search: Any = None) -> dict[str, Any]:
    """``arguments`` with one axis value applied (a copy); ``search`` is prompt_sr's first value."""
    result = dict(arguments)
    if is_kind(name, SEARCH_REPLACE):
        for field in ("prompt", "negative_prompt"):
            if isinstance(result.get(field), str):
                result[field] = result[field].replace(search, value)
    elif name == "seed" and value is None:
        result.pop("seed", None)  # random seed: omit it, as validate() does
    elif kind_of(name) not in (IMAGE, ENGINE):  # an image or an engine is the cell's own, not an argument
        result[name] = value
    return result
