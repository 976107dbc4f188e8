"""Number widgets whose API values are checked before Gradio's own bounds check, and the seed's box.

Gradio compares a slider's value with its bounds before any handler runs: a string, a list or None raised a
TypeError there and NaN crashed the seed's rounding, so API callers got a blank error, and its range message
did not say which field. These subclasses (Gradio's own way to extend a component) turn every such value into a
message naming the field. Gradio writes ``checked_inputs.pyi`` beside any module that subclasses a component;
it is committed, so importing this module changes nothing on disk.

Their errors carry ``visible=False``: every listener that reads the widget raised the same error, so the page
showed one identical toast per listener (six for two fields). API callers still get the message; in the page
``components.form_check`` says it once, on the field and in the console.
"""

from __future__ import annotations

import math
from typing import Any

import gradio as gr

from components.common.refusal import refused
from core import schema
from core.errors import InputError


def checked_number(label: str | None, payload: Any, optional: bool) -> Any:
    """An API value as a finite number (or None when optional), or a gr.Error naming the field."""
    if isinstance(payload, str):
        text = payload.strip()
        try:
            payload = float(text) if text else None
        except ValueError:
            raise _quiet(f"{label}: {payload[:40]!r} is not a number.") from None
    if payload is None and optional:
        return None
    if isinstance(payload, bool) or not isinstance(payload, (int, float)):
        raise _quiet(f"{label}: expected a number, got {type(payload).__name__}.")
    if not math.isfinite(payload):
        raise _quiet(f"{label}: must be a finite number.")
    return payload


def _quiet(message: str) -> gr.Error:
    return refused(message, visible=False)


def _named(label: str | None, error: gr.Error) -> gr.Error:
    return _quiet(f"{label}: {error.message}")  # Gradio's "Value 5 is greater than maximum value 4."


class CheckedSlider(gr.Slider):
    """A slider whose API value is checked first: a schema field's by ``core.schema`` (its bounds in plain
    numbers), any other by Gradio."""

    is_template = True  # rendered by Gradio's own slider

    def preprocess(self, payload: Any) -> Any:
        payload = checked_number(self.label, payload, optional=False)
        field = schema.FIELD_BY_NAME.get((self.elem_id or "").removeprefix("param-"))
        if field is not None:
            try:
                schema.check_value(field.name, payload)
            except InputError as exc:
                raise _quiet(str(exc)) from None
        try:
            return super().preprocess(payload)
        except gr.Error as exc:
            raise _named(self.label, exc) from None


class SeedBox(gr.Textbox):
    """The seed: a whole number, or empty for a random one. A text box, not a number box: Gradio 6.31's number
    box sets an empty value to 0 the moment it is first drawn (``value ??= 0``), so merely opening the accordion
    that holds it turned "random" into seed 0 for every later run. Its API type stays an integer or null."""

    is_template = True  # rendered by Gradio's own text box

    def preprocess(self, payload: Any) -> Any:
        """None for empty (random), else a whole number in the schema's range (or a quiet error naming it)."""
        number = checked_number(self.label, payload, optional=True)
        try:
            return schema.check_value("seed", number)
        except InputError as exc:
            raise _quiet(str(exc)) from None

    def postprocess(self, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # the API's default stays null; the page shows the placeholder
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

    def api_info(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "integer"}, {"type": "null"}]}

    def example_payload(self) -> Any:
        return None

    def example_value(self) -> Any:
        return None
