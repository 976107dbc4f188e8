"""The public endpoints' parameters, each with its declared type and range, checked before anything runs.

Every door that takes values from outside (the ``/upscale``, ``/sweep``, ``/history``, ``/fetch``, ``/dataset`` and
``/sweep_price`` API, and the same endpoints as MCP tools) hands them over as they came — JSON values by parameter
name — and gets a request back only when every value is of its declared type and in its range; else an
``InputError`` whose ``field`` is the parameter and whose message names it and says what it takes: "confirm must be
true or false, got 'false'".

The rules, one per kind (``Param.kind``):

- ``boolean``: ``true`` or ``false`` only (never the strings "false", "no", "0", nor 0 or 1);
- ``integer``: a whole number of JSON's number type (not a float such as 18.5 or 18.0, not a string, not a
  boolean), within its bounds;
- ``number``: an int or a float, finite (no NaN, no infinity), within its bounds (a huge number is out of them);
- ``choice``: one of its choices, matched without regard to case; an unknown one is refused naming the choices;
- ``text``: a string of at most ``max_chars`` characters (``None`` or omitted: the default; a required one must
  not be empty);
- ``url``: a string or ``None`` (``core/schema.py`` then checks it as an https URL or a data URI);
- ``file``: a file path Gradio stored for the upload, or ``None``;
- ``region``: one of a region's four boxes (``core/inputs/region.py``), passed through as given: ``Region.checked``
  judges the four together, in the boxes' words, the same for the page and the API.

The tables (``UPSCALE``, ``SWEEP``, ``HISTORY``, ``FETCH``, ``DATASET``, ``CELLS``, ``RUN_OR_SWEEP``) are also
what the API's components are written from (``components/api/public_api.py``), so the documented types and
defaults and the checks never differ; ``EXAMPLES`` are the API page's examples for the required ones (``latest``
for an id, so a snippet pasted as shown runs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import schema
from core.engines import ENGINES
from core.errors import InputError
from core.inputs.region import MIN_SIDE
from core.inputs.region import PARAMS as REGION_PARAMS
from core.runs.runs import STATUSES
from core.sweep.axes import AXES

ANY = "any"  # /history's "no filter" for status and engine
BIN = "recently deleted"  # /history's status that lists the bin
HISTORY_LIMIT = 500  # rows /history returns at most
MAX_OFFSET = 10**9
MAX_TEXT = 4096  # characters of a text parameter with no tighter limit (x_values, search, request_id)
_SHOWN = 40  # characters of a refused string quoted back


def shown(value: Any) -> str:
    """A refused value as the message quotes it: 'false', 18.5, NaN, infinity, a list, a 312-digit number."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("-" if value < 0 else "") + "infinity"
    if isinstance(value, int) and abs(value) >= 10**21:
        return f"a number of {len(str(abs(value)))} digits"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return f"{value:.1f}"  # 18.0, a float where a whole number is declared
    if isinstance(value, (int, float)):
        return schema.plain(value)
    if isinstance(value, str):
        return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")
    return f"a {type(value).__name__}"


@dataclass(frozen=True)
class Param:
    """One parameter of a public endpoint: its name, kind (see the module's docstring), default, bounds,
    choices, whether it must be given, and what it is for (the API page's description)."""

    name: str
    kind: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    max_chars: int = MAX_TEXT
    help: str = ""

    def takes(self) -> str:
        """What it takes, as the refusal says it: "a number from 0 to 1", "one of 'fal', 'local', 'lanczos'"."""
        if self.kind == "boolean":
            return "true or false"
        if self.kind in ("integer", "number"):
            kind = "a whole number" if self.kind == "integer" else "a number"
            bounds = (f" from {schema.plain(self.minimum)} to {schema.plain(self.maximum)}"
                      if self.minimum is not None and self.maximum is not None else "")
            return kind + bounds + (" or null (random)" if self.default is None and not self.required else "")
        if self.kind == "choice":
            return "one of " + ", ".join(repr(choice) for choice in self.choices)
        if self.kind == "file":
            return "a file (or null)"
        if self.kind == "url":
            return "an https:// URL, a data: URI, or null"
        if self.kind == "region":
            return "a whole number of input pixels, or null (no region)"
        return f"text of at most {self.max_chars:,} characters"

    def refuse(self, value: Any, why: str = "") -> InputError:
        return InputError(f"{self.name} must be {self.takes()}, got {shown(value)}{why}.", self.name)

    def check(self, value: Any, given: bool = True) -> Any:
        """The value, clean (a choice as the app spells it), or an InputError naming this parameter. ``given``
        False (or ``None``, except for a boolean or choice) means it was left out: the default, or a refusal
        when it is required."""
        if not given or (value is None and self.kind not in ("boolean", "choice", "integer", "number")):
            if self.required:
                raise InputError(f"{self.name} is required: {self.takes()}.", self.name)
            return self.default
        if value is None and self.default is None and not self.required and self.kind in ("integer", "number"):
            return None
        if self.kind == "region":  # judged with its three siblings by Region.checked
            return value  # an optional number (the seed): null means random
        return getattr(self, f"_{self.kind}")(value)

    def _boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.refuse(value)
        return value

    def _bounded(self, value: int | float) -> int | float:
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.refuse(value)
        return value

    def _integer(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.refuse(value)
        return int(self._bounded(value))

    def _number(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.refuse(value)
        return float(self._bounded(value))

    def _choice(self, value: Any) -> str:
        if isinstance(value, str):
            wanted = value.strip().casefold()
            for choice in self.choices:
                if choice.casefold() == wanted:
                    return choice
        raise self.refuse(value)

    def _text(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) > self.max_chars:
            raise self.refuse(value, f" ({len(value):,} characters)" if isinstance(value, str) else "")
        if self.required and not value.strip():
            raise InputError(f"{self.name} is required: {self.takes()}, not empty.", self.name)
        return value

    def _url(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.refuse(value)
        return value

    def _file(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.refuse(value)
        return value

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema the API page and the clients show for it."""
        base: dict[str, Any]
        if self.kind == "choice":
            base = {"type": "string", "enum": list(self.choices)}
        elif self.kind in ("text", "url"):
            base = {"type": "string"}
        elif self.kind == "region":
            base = {"type": "integer", "minimum": 0}
        else:
            base = {"type": self.kind}
        for key, bound in (("minimum", self.minimum), ("maximum", self.maximum)):
            if bound is not None and self.kind in ("integer", "number"):
                base[key] = int(bound) if self.kind == "integer" else bound
        if self.default is None and not self.required and self.kind != "file":
            return {"anyOf": [base, {"type": "null"}], "description": self.help}
        return {**base, "description": self.help}


def _field_param(field: schema.Field) -> Param:
    kind = {"str": "text", "float": "number", "int": "integer", "bool": "boolean", "url": "url"}[field.kind]
    return Param(field.name, kind, field.default, field.minimum, field.maximum,
                 max_chars=schema.MAX_PROMPT_CHARS if kind == "text" else MAX_TEXT, help=field.help)


IMAGE = Param("image", "file", help="The picture to upscale, as a file (any name: it is read by its content).")
IMAGE_URL = Param("image_url", "url", help="The picture as an https:// URL or a data: URI, used when no file "
                                           "is given. One of image and image_url is needed.")
ENGINE = Param("engine", "choice", "local", choices=tuple(ENGINES),
               help="Which engine runs it: fal (the hosted endpoint), local (Real-ESRGAN) or lanczos.")
_REGION_HELP = {"region_x": "The region's left edge, in input pixels (0 or more).",
                "region_y": "The region's top edge, in input pixels (0 or more).",
                "region_width": f"The region's width, in input pixels (at least {MIN_SIDE}).",
                "region_height": f"The region's height, in input pixels (at least {MIN_SIDE})."}
REGION: tuple[Param, ...] = tuple(
    Param(name, "region", help=_REGION_HELP[name] + " Give all four to upscale only that part of the picture "
                                                    "(priced at its own size), or none for the whole picture.")
    for name in REGION_PARAMS)
_UPSCALE_BASE: tuple[Param, ...] = (IMAGE, IMAGE_URL, *map(_field_param, schema.PARAMETER_FIELDS), ENGINE)
UPSCALE: tuple[Param, ...] = (*_UPSCALE_BASE, *REGION)  # new parameters last: older positional calls stay valid
SWEEP: tuple[Param, ...] = (
    *_UPSCALE_BASE,
    Param("x_axis", "choice", "upscale_factor", choices=tuple(AXES), help="The X axis: a parameter to vary."),
    Param("x_values", "text", required=True, help="The X values, in the X/Y plot syntax: 0.2, 0.5 or 1-4 [4]."),
    Param("y_axis", "choice", "", choices=("", *AXES), help="The Y axis; empty for a sweep over one axis."),
    Param("y_values", "text", "", help="The Y values (with a Y axis)."),
    Param("confirm", "boolean", False, help="true to run a sweep above the confirmation limits."),
    Param("dry_run", "boolean", False, help="true to price the grid without running it: cells, output megapixels, "
                                            "price and time estimate, no CSV or contact sheet."),
    *REGION,
    Param("vary_seed", "boolean", False, help="true to give each cell its own seed (the sweep's seed plus the "
                                              "cell's index), false for one seed over the whole grid; refused on "
                                              "an engine that uses no seed and with a seed axis."),
    # Further axes last, so older positional calls stay valid: A1111's Z axis, and one more.
    Param("z_axis", "choice", "", choices=("", *AXES), help="The Z axis (needs a Y axis): one grid per Z value; "
                                                            "empty for none."),
    Param("z_values", "text", "", help="The Z values (with a Z axis)."),
    Param("w_axis", "choice", "", choices=("", *AXES), help="The W axis (needs a Z axis): one grid per Z and W "
                                                            "value; empty for none."),
    Param("w_values", "text", "", help="The W values (with a W axis)."),
)
HISTORY: tuple[Param, ...] = (
    Param("search", "text", "", help="Words to find in the prompt, the picture's name, the request id or run id."),
    Param("status", "choice", ANY, choices=(ANY, *STATUSES, BIN), help="Only runs in this status."),
    Param("engine", "choice", ANY, choices=(ANY, *ENGINES), help="Only runs on this engine."),
    Param("offset", "integer", 0, 0, MAX_OFFSET, help="How many of the newest runs to skip."),
    Param("limit", "integer", HISTORY_LIMIT, 1, HISTORY_LIMIT, help="How many runs to return."),
)
LATEST = "latest"  # an id parameter's word for the caller's newest run (or sweep, for a sweep id)
FETCH: tuple[Param, ...] = (
    Param("request_id", "text", required=True, max_chars=128,
          help="A run id, a request id (any engine) or 'latest' (your newest run)."),
)
RUN_OR_SWEEP: tuple[Param, ...] = (
    Param("id", "text", required=True, max_chars=128,
          help="A run id, a request id (any engine), a sweep id, or 'latest' (your newest run or sweep)."),
)
CELLS: tuple[Param, ...] = (
    Param("sweep_id", "text", required=True, max_chars=64, help="A sweep's id, or 'latest' (your newest sweep)."),
)
DATASET: tuple[Param, ...] = (
    Param("sweep_id", "text", "", max_chars=64, help="A sweep's id: its finished cells. Empty: your history, filtered "
                                                     "by search, status and engine."),
    HISTORY[0],
    Param("status", "choice", ANY, choices=(ANY, *STATUSES), help="Only runs in this status (history only)."),
    HISTORY[2],
)
SWEEP_PRICE: tuple[Param, ...] = tuple(param for param in SWEEP if param.name not in ("confirm", "dry_run"))  # priced
ENDPOINTS: dict[str, tuple[Param, ...]] = {"upscale": UPSCALE, "sweep": SWEEP, "history": HISTORY, "fetch": FETCH,
                                           "dataset": DATASET, "cells": CELLS, "status": RUN_OR_SWEEP,
                                           "cancel": RUN_OR_SWEEP, "retry": RUN_OR_SWEEP, "sweep_price": SWEEP_PRICE}
EXAMPLES: dict[str, Any] = {"request_id": LATEST, "id": LATEST, "sweep_id": LATEST, "x_values": "1, 2"}
"""What the API page's snippets show for a required parameter (a snippet pasted as it is runs)."""


def check(params: tuple[Param, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's clean value (defaults for those left out), checked in order; an InputError naming the
    first one at fault, or an unknown name."""
    known = {param.name for param in params}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"Unknown parameter {unknown[0]!r}; this endpoint takes "
                         f"{', '.join(param.name for param in params)}.", None)
    clean = {param.name: param.check(values.get(param.name), param.name in values) for param in params}
    for field in schema.PARAMETER_FIELDS:  # the schema's own rules on text (control characters, surrogates)
        if field.name in clean and field.kind == "str":
            try:
                schema.check_value(field.name, clean[field.name])
            except InputError as exc:  # "Prompt: contains control characters." → named by the parameter
                why = str(exc).split(": ", 1)[-1]
                raise InputError(f"{field.name} must be plain text: {why}", field.name) from None
    return clean


@dataclass(frozen=True)
class HistoryQuery:
    """A page of the visitor's history: ``search`` words, ``status`` (a run status, ``ANY`` or ``BIN``) and
    ``engine`` (an engine id or ``ANY``) filters, ``offset`` newest runs skipped, at most ``limit`` rows."""

    search: str = ""
    status: str = ANY
    engine: str = ANY
    offset: int = 0
    limit: int = HISTORY_LIMIT

    @classmethod
    def checked(cls, values: Mapping[str, Any]) -> HistoryQuery:
        """The query of API values by name (``HISTORY``), each checked; InputError naming the one at fault."""
        return cls(**check(HISTORY, values))


@dataclass(frozen=True)
class DatasetQuery:
    """What to export as a dataset: a sweep by ``sweep_id``, or (empty) the history filtered by ``search``,
    ``status`` and ``engine`` as ``HistoryQuery``'s (the bin is not exported)."""

    sweep_id: str = ""
    search: str = ""
    status: str = ANY
    engine: str = ANY

    @classmethod
    def checked(cls, values: Mapping[str, Any]) -> DatasetQuery:
        """The query of API values by name (``DATASET``), each checked; InputError naming the one at fault."""
        clean = check(DATASET, values)
        return cls(clean["sweep_id"].strip(), clean["search"], clean["status"], clean["engine"])


@dataclass(frozen=True)
class IdQuery:
    """A run or a sweep by id (``/status``, ``/cancel``, ``/retry``, ``/cells``): a run id, a request id, a sweep
    id, or ``LATEST``."""

    id: str

    @classmethod
    def checked(cls, values: Mapping[str, Any], params: tuple[Param, ...] = RUN_OR_SWEEP) -> IdQuery:
        """The id of API values by name (``params``: ``RUN_OR_SWEEP`` or ``CELLS``); InputError naming it."""
        return cls(str(next(iter(check(params, values).values()))).strip())


@dataclass(frozen=True)
class FetchQuery:
    """A run to show again, by its run id or its engine's request id."""

    request_id: str

    @classmethod
    def checked(cls, values: Mapping[str, Any]) -> FetchQuery:
        """The query of API values by name (``FETCH``), checked; InputError naming the one at fault."""
        return cls(check(FETCH, values)["request_id"].strip())
