"""Parameter widgets generated from ``core.schema``: bounds, steps, defaults and help come from there."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.upscale.checked_inputs import CheckedSlider, SeedBox
from core import schema
from core.engines import ENGINES, describe

Widget = gr.Slider | gr.Number | gr.Checkbox | gr.Textbox  # a parameter's widget (CheckedSlider, SeedBox among them)
MAIN_FIELDS = ("prompt", "upscale_factor", "creativity", "resemblance", "seed")  # the seed in sight: Reuse fills it


def engine_note(engine_id: str) -> str:
    """What the chosen engine ignores (they are still saved with the run); '' for an engine that uses every knob
    (fal) or an unknown id."""
    info = describe(engine_id) if engine_id in ENGINES else None
    if info is None or not info.ignored:
        return ""
    return f"The {info.id} engine ignores {', '.join(info.ignored)} — they are still saved with the run."


def marks(engine_id: str, field: schema.Field) -> list[str]:
    """The CSS classes that mark a knob the engine ignores (style.css says so above the widget)."""
    return ["ignored-by-engine", f"ignored-by-{engine_id}"] if describe(engine_id).ignores(field.name) else []


def mark_ignored(engine_id: str) -> list[Any]:
    """One update per parameter widget (schema order): ignored knobs marked, the others not."""
    if engine_id not in ENGINES:
        return [gr.skip() for _ in schema.PARAMETER_FIELDS]
    return [gr.update(elem_classes=marks(engine_id, field)) for field in schema.PARAMETER_FIELDS]


def widget(field: schema.Field, value: Any = None, engine_id: str = "fal") -> Widget:
    """The widget for one schema field, marked when ``engine_id`` ignores it."""
    value = field.default if value is None else value
    common: dict[str, Any] = {"label": field.label, "info": field.help, "elem_id": f"param-{field.name}",
              "elem_classes": marks(engine_id, field)}
    if field.name == "seed":
        return SeedBox(value=value, placeholder="random", max_lines=1, **common)
    if field.numeric:
        if field.minimum is None or field.maximum is None:
            return gr.Number(value=value, step=field.step or 1, **common)  # a slider needs both bounds
        return CheckedSlider(field.minimum, field.maximum, value=value, step=field.step, **common)
    if field.kind == "bool":
        return gr.Checkbox(value=value, **common)
    return gr.Textbox(value=value, lines=2, max_lines=6, max_length=schema.MAX_PROMPT_CHARS, **common)


def render(engine_id: str = "fal") -> dict[str, Widget]:
    """Every parameter field (not the image) as a widget, main knobs first, the rest in an accordion; the knobs
    ``engine_id`` (the engine chosen at start) ignores are marked."""
    widgets: dict[str, Widget] = {}
    for name in MAIN_FIELDS:
        widgets[name] = widget(schema.FIELD_BY_NAME[name], engine_id=engine_id)
    with gr.Accordion("Advanced", open=False, elem_id="advanced"):
        for field in schema.PARAMETER_FIELDS:
            if field.name not in widgets:
                widgets[field.name] = widget(field, engine_id=engine_id)
    return {field.name: widgets[field.name] for field in schema.PARAMETER_FIELDS}  # schema order


def field_messages(error_field: str | None, message: str | None) -> list[Any]:
    """``info`` updates that put an error message on its field and the help text back on the others."""
    return [gr.update(info=f"Warning: {message}" if field.name == error_field and message else field.help)
            for field in schema.PARAMETER_FIELDS]
