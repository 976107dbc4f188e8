"""*Run the whole picture with these settings*, from wherever a finished region run is shown (the Upscale result,
the History tab's run, a Sweep tab cell): the whole picture and the region run's settings (its seed too) go into the
Upscale tab's form with the region switch off, the price is said, and Upscale runs it — the usual way, so its
price is seen before anything is spent. The run it makes links to the region run, both ways
(``core/usecases/whole.py``, ``core/usecases/run.py``'s ``link``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.common.files import servable
from components.common.session import Session
from components.common.text import toast
from components.upscale import run_panel
from components.upscale.region_panel import WHOLE, RegionPanel
from core import schema
from core.errors import StudioError
from core.usecases.whole import whole_of

if TYPE_CHECKING:
    from components.upscale.parameters import Widget

LABEL = WHOLE


@dataclass
class Form:
    """What *Run the whole picture* fills: the Upscale tab's parameters, picture, engine, region panel, run view,
    the tabs (the Upscale tab is opened) and the result boxes it empties."""

    params: dict[str, Widget]
    file: gr.File
    url: gr.Textbox
    engine: gr.Radio
    region: RegionPanel
    view: gr.State
    tabs: gr.Tabs | None = None
    shown: list[Any] = field(default_factory=list)  # the region run's Output PNG and Result JSON: emptied

    def outputs(self) -> list[Any]:
        return [*self.params.values(), self.file, self.url, self.engine, *self.region.boxes, self.region.linked,
                self.view, *self.shown, *([self.tabs] if self.tabs is not None else [])]


def fill(form: Form, run_id: str | None, session: Session) -> list[Any]:
    """The form's new values for the region run ``run_id``'s whole picture: every parameter (the seed used), the
    picture, the engine, the switch off and the boxes empty, the link to the region run, and a line in the run
    panel with the price; a toast saying why not when it has none."""
    try:
        found = whole_of(run_id, session)
    except StudioError as exc:
        gr.Warning(toast(str(exc)))
        return [gr.skip()] * len(form.outputs())
    run, values = found.run, found.parameters
    image = servable(found.request.image, Path(run.input_name).stem + ".png" if run.input_name else None)
    seed = f" (seed {run.seed_used})" if run.seed_used is not None else ""
    said = run_panel.set_aside(f"The whole picture of {run_panel.run_label(run)} is in the form with its settings"
                               f"{seed}: {found.line}. Press Upscale to run it.")
    tab = [gr.Tabs(selected="upscale")] if form.tabs is not None else []
    return [*(values[f.name] for f in schema.PARAMETER_FIELDS), image, "", run.engine, False, "", "", "", "",
            run.id, said, *(None for _ in form.shown), *tab]


def listen(button: gr.Button, source: Any, session: gr.State, form: Form,
           pick: Callable[[Any], str | None] = lambda value: value) -> Any:
    """``button`` fills ``form`` with the whole picture of the region run ``pick(source's value)`` (``source``: a
    component holding a run id, or a view that knows one)."""

    def handler(value: Any, visitor: Session) -> list[Any]:
        return fill(form, pick(value), visitor)

    filled = button.click(handler, [source, session], form.outputs(), api_visibility="private")
    filled.then(None, js=run_panel.SHOW_FORM)
    run_panel.pin_note(filled, form.view, form.file, form.url)  # its line is about this picture, not the next
    return filled
