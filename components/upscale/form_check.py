"""A value out of range typed into the form: said on its field and in the console, not only in a toast.

Gradio checks a slider's or number box's bounds before any handler runs, so a refused value reached the page
only as error toasts, and the console stayed silent. These listeners read the raw values (``preprocess=False``)
and check them with ``core.schema``: while typing, and when Upscale is pressed (the run itself never starts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from components.upscale.action import View
from components.upscale.console import stamp
from core import schema
from core.errors import InputError

if TYPE_CHECKING:
    from components.upscale.parameters import Widget

NAMES = tuple(field.name for field in schema.PARAMETER_FIELDS)


def problem(values: tuple[Any, ...]) -> InputError | None:
    """The first refused parameter value (widget values in schema order), or None."""
    try:
        schema.validate(dict(zip(NAMES, values, strict=True)), require_image=False)
    except InputError as exc:
        return exc
    return None


def _message(exc: InputError, values: tuple[Any, ...]) -> str:
    field = schema.FIELD_BY_NAME.get(exc.field or "")
    if field is None or not field.numeric or field.name == "seed" or field.minimum is None:
        return str(exc)
    value = values[NAMES.index(field.name)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # a slider puts it back in range on blur
        return f"{exc} The slider keeps {schema.nearest_in_range(field.name, value):g}."
    return str(exc)


def typed(view: View, *values: Any) -> Any:
    """While typing: a refused value named on its field and in the console; a fixed one clears its field."""
    exc = problem(values)
    if exc is None:
        if view.error_field not in NAMES:
            return gr.skip()
        cleared = view.snapshot()
        cleared.error = cleared.error_field = None
        return cleared
    message = _message(exc, values)
    if message == view.error:
        return gr.skip()
    shown = view.snapshot()
    shown.error, shown.error_field = message, exc.field
    shown.lines.append(stamp(f"Warning: {message}"))
    return shown


def before_run(view: View, *values: Any) -> Any:
    """When Upscale is pressed with a refused value (the run is refused before it starts, Gradio refusing the
    value before any handler runs): the run's error view, and the last run's PNG and JSON taken away, as after
    any failed run — they are not this run's."""
    exc = problem(values)
    if exc is None:
        return gr.skip(), gr.skip(), gr.skip()
    return View(lines=[stamp("Checking the input…"), stamp(f"Error: {exc}")], stage="failed", error=str(exc),
                error_field=exc.field), None, None


def listen(run: gr.Button, params: dict[str, Widget], view: gr.State, files: list[Any]) -> None:
    """Wire the checks; ``files`` are the result's Output PNG and Result JSON, emptied when Upscale is refused.
    Queued on purpose: Gradio 6.31's page fires a State's .change only after a queued event."""
    inputs = [view, *params.values()]
    options: dict[str, Any] = {"preprocess": False, "api_visibility": "private", "concurrency_limit": None,
                               "show_progress": "hidden"}
    numbers = [widget for name, widget in params.items() if schema.FIELD_BY_NAME[name].numeric]
    # The seed is a text box, whose page component sends "input" only for keystrokes: a paste is a "change".
    triggers = [widget.input for widget in numbers] + [params["seed"].change]
    gr.on(triggers, typed, inputs, view, trigger_mode="always_last", **options)
    run.click(before_run, inputs, [view, *files], **options)
