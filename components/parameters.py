"""Parameter widgets generated from ``core.schema``: bounds, steps, defaults and help come from there."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.checked_inputs import CheckedSlider, SeedBox
from core import schema

MAIN_FIELDS = ("prompt", "upscale_factor", "creativity", "resemblance")
LOCAL_NOTE = ("The local engine uses only the upscale factor (and records the seed); it ignores "
              + ", ".join(schema.LOCAL_IGNORED) + " — they are still saved with the run.")


def widget(field: schema.Field, value: Any = None) -> gr.components.Component:
    """The widget for one schema field."""
    value = field.default if value is None else value
    common = {"label": field.label, "info": field.help, "elem_id": f"param-{field.name}"}
    if field.name == "seed":
        return SeedBox(value=value, placeholder="random", max_lines=1, **common)
    if field.numeric:
        return CheckedSlider(field.minimum, field.maximum, value=value, step=field.step, **common)
    if field.kind == "bool":
        return gr.Checkbox(value=value, **common)
    return gr.Textbox(value=value, lines=2, max_lines=6, max_length=schema.MAX_PROMPT_CHARS, **common)


def render() -> dict[str, gr.components.Component]:
    """Every parameter field (not the image) as a widget, main knobs first, the rest in an accordion."""
    widgets: dict[str, gr.components.Component] = {}
    for name in MAIN_FIELDS:
        widgets[name] = widget(schema.FIELD_BY_NAME[name])
    with gr.Accordion("Advanced", open=False, elem_id="advanced"):
        for field in schema.PARAMETER_FIELDS:
            if field.name not in widgets:
                widgets[field.name] = widget(field)
    gr.Markdown(LOCAL_NOTE, elem_id="local-note")
    return {field.name: widgets[field.name] for field in schema.PARAMETER_FIELDS}  # schema order


def field_messages(error_field: str | None, message: str | None) -> list[Any]:
    """``info`` updates that put an error message on its field and the help text back on the others."""
    return [gr.update(info=f"⚠️ {message}" if field.name == error_field and message else field.help)
            for field in schema.PARAMETER_FIELDS]
