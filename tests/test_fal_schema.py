"""The app's schema (core/schema.py) agrees with fal's published one, as the test fal server keeps its own copy
(testsupport/fal_server/published.py): every field, its type, default, required-ness and bounds. The server
checks requests against its copy, so a bound the app gets wrong also meets fal's 422 in the tests."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core import schema
from testsupport.fal_server import imaging
from testsupport.fal_server.published import INPUTS, Input

APP_KIND = {"string": ("str", "url"), "float": ("float",), "integer": ("int",), "boolean": ("bool",)}
# Where fal publishes no bound the app may set its own: the seed travels as an unsigned 32-bit number.
APP_ONLY_BOUNDS = {("seed", "maximum"): schema.MAX_SEED}


def disagreements(app: tuple[schema.Field, ...], published: tuple[Input, ...]) -> list[str]:
    """What differs between the app's fields and fal's published inputs, one line per difference."""
    found = []
    by_name = {field.name: field for field in app}
    if [f.name for f in app] != [i.name for i in published]:
        found.append(f"fields: app {[f.name for f in app]} ≠ fal {[i.name for i in published]}")
    for entry in published:
        field = by_name.get(entry.name)
        if field is None:
            continue
        if field.kind not in APP_KIND[entry.type]:
            found.append(f"{entry.name}: type {field.kind} ≠ fal's {entry.type}")
        if field.required != entry.required:
            found.append(f"{entry.name}: required {field.required} ≠ fal's {entry.required}")
        same_default = (field.default == entry.default  # 2.0 is fal's 2; True is not 1
                        and isinstance(field.default, bool) == isinstance(entry.default, bool))
        if not same_default:
            found.append(f"{entry.name}: default {field.default!r} ≠ fal's {entry.default!r}")
        for side, fal_bound in (("minimum", entry.ge), ("maximum", entry.le)):
            expected = fal_bound if fal_bound is not None else APP_ONLY_BOUNDS.get((entry.name, side))
            if getattr(field, side) != expected:
                found.append(f"{entry.name}: {side} {getattr(field, side)!r} ≠ fal's {fal_bound!r}")
    return found


def test_the_app_schema_agrees_with_fals_published_schema() -> None:
    assert disagreements(schema.FIELDS, INPUTS) == []


@pytest.mark.parametrize(("name", "change"), [
    ("upscale_factor", {"maximum": 5.0}), ("creativity", {"minimum": 0.1}), ("num_inference_steps", {"maximum": 60}),
    ("guidance_scale", {"default": 7.5}), ("seed", {"kind": "float"}), ("prompt", {"required": True}),
    ("seed", {"minimum": None}), ("enable_safety_checker", {"default": 1}),
])
def test_a_wrong_field_in_the_app_schema_is_caught(name: str, change: dict[str, Any]) -> None:
    wrong = tuple(dataclasses.replace(f, **change) if f.name == name else f for f in schema.FIELDS)
    found = disagreements(wrong, INPUTS)
    assert len(found) == 1 and found[0].startswith(f"{name}: "), found


def test_a_missing_or_extra_field_is_caught() -> None:
    assert disagreements(schema.FIELDS[:-1], INPUTS)
    assert disagreements((*schema.FIELDS, schema.Field("tile_size", "int", "Tile", "")), INPUTS)


@pytest.mark.parametrize(("name", "value", "kind"), [
    ("upscale_factor", 4.01, "less_than_equal"), ("upscale_factor", 0.99, "greater_than_equal"),
    ("creativity", 1.5, "less_than_equal"), ("resemblance", -0.1, "greater_than_equal"),
    ("guidance_scale", 20.5, "less_than_equal"), ("num_inference_steps", 3, "greater_than_equal"),
    ("num_inference_steps", 51, "less_than_equal"), ("seed", -1, "greater_than_equal"),
])
def test_the_server_answers_422_by_fals_bounds(name: str, value: float, kind: str) -> None:
    clean, errors = imaging.validate({"image_url": "data:image/png;base64,AAAA", name: value})
    assert [(e["loc"], e["type"]) for e in errors] == [(["body", name], kind)]


def test_the_server_does_not_read_the_apps_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bound changed in the app's schema changes nothing at the server: it reads its own copy."""
    loose = tuple(dataclasses.replace(f, maximum=10.0) if f.name == "upscale_factor" else f for f in schema.FIELDS)
    monkeypatch.setattr(schema, "FIELDS", loose)
    monkeypatch.setattr(schema, "FIELD_BY_NAME", {f.name: f for f in loose})
    _, errors = imaging.validate({"image_url": "data:image/png;base64,AAAA", "upscale_factor": 6})
    assert [e["type"] for e in errors] == ["less_than_equal"]
