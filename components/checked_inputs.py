"""Number widgets whose API values are checked before Gradio's own bounds check.

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
    return gr.Error(message, visible=False)


def _named(label: str | None, error: gr.Error) -> gr.Error:
    return _quiet(f"{label}: {error.message}")  # Gradio's "Value 5 is greater than maximum value 4."


class CheckedSlider(gr.Slider):
    """A slider whose API value is checked first."""

    is_template = True  # rendered by Gradio's own slider

    def preprocess(self, payload: Any) -> Any:
        payload = checked_number(self.label, payload, optional=False)
        try:
            return super().preprocess(payload)
        except gr.Error as exc:
            raise _named(self.label, exc) from None


class CheckedNumber(gr.Number):
    """A number box (the seed: empty means random) whose API value is checked first."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        payload = checked_number(self.label, payload, optional=True)
        try:
            return super().preprocess(payload)
        except gr.Error as exc:
            raise _named(self.label, exc) from None
