"""Code panel ("use as code"): the exact fal_client / HTTP call for the form as it is now, kept live.

The snippets come from ``core.snippets`` and never hold a key (they read ``FAL_KEY``). An uploaded file is
referred to by its name only (``fal_client.upload_file("photo.png")``), never by its path on this server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.common.signatures import schema_handler
from core import schema, snippets
from core.errors import InputError
from core.inputs.region import PARAMS, Region

if TYPE_CHECKING:
    from components.upscale.parameters import Widget

NOTE = ("The same request as the form, with `fal_client` or plain HTTP. The key is read from the `FAL_KEY` "
        "environment variable and never written here. An uploaded file is referred to by its name: run the "
        "script next to it.")


@dataclass
class CodePanel:
    note: gr.Markdown
    subscribe: gr.Code
    queue: gr.Code
    body: gr.Code
    curl: gr.Code


@schema_handler
def code_for(form: dict[str, Any], region_on: bool | None = False, region_x: Any = None, region_y: Any = None,
             region_width: Any = None, region_height: Any = None) -> tuple[str, str, str, str]:
    """Python ``subscribe``, Python ``submit``/``status``/``result``, the JSON body and curl for these inputs.

    The image is the uploaded file when there is one (as Upscale does), else the https URL or data URI. With
    ``region_on`` the four region boxes (``Region.checked``, the rule Upscale applies) say which part it would send:
    the scripts cut it out and upload it, the body and curl hold a placeholder for it.
    """
    raw = {field.name: form[field.name] for field in schema.PARAMETER_FIELDS}
    image, image_url = form["image"], form["image_url"]
    upload_name = Path(image).name if image else None
    url = "" if image else (image_url or "").strip()
    if url:
        raw["image_url"] = url
    try:
        # validate() sends what Upscale sends: numbers as the endpoint's types, a random seed left out.
        arguments = schema.validate(raw, require_image=False)
        boxes = (region_x, region_y, region_width, region_height)
        region = Region.checked(dict(zip(PARAMS, boxes, strict=True))) if region_on is True else None
        return (snippets.subscribe_code(arguments, upload_name, region),
                snippets.queue_code(arguments, upload_name, region),
                snippets.json_body(arguments, region), snippets.curl_code(arguments, region))
    except InputError as exc:
        message = f"# No code for this form yet: {exc.message}\n"
        return message, message, message, message


def render() -> CodePanel:
    initial = code_for()
    note = gr.Markdown(NOTE, elem_id="code-note")
    # Long enough and wrapped, so no box scrolls: a read-only CodeMirror that scrolls cannot be scrolled by
    # keyboard (axe's scrollable-region-focusable; docs/accessibility.md).
    common: dict[str, Any] = {"interactive": False, "buttons": ["copy", "download"], "max_lines": 120,
                              "wrap_lines": True}
    subscribe = gr.Code(initial[0], language="python", label="Python — subscribe, with logs",
                        elem_id="code-subscribe", **common)
    with gr.Accordion("Python — submit, status, result (keeps the request id)", open=False):
        queue = gr.Code(initial[1], language="python", label="Python — queue", elem_id="code-queue", **common)
    with gr.Row():
        body = gr.Code(initial[2], language="json", label="JSON body", elem_id="code-body", **common)
        curl = gr.Code(initial[3], language="shell", label="curl", elem_id="code-curl", **common)
    return CodePanel(note, subscribe, queue, body, curl)


def listen(panel: CodePanel, params: dict[str, Widget], image_url: gr.Textbox,
           image_file: gr.File, tab: gr.Tab, region: list[Any]) -> None:
    """Write the code for the form as it is each time the Code tab is opened (the form lives on another tab).

    Not on every change of the form: the code boxes are CodeMirror editors (gr.Code), and one given new text while
    its tab is hidden measures its lines in a box of no size — its line numbers were drawn out of step with the
    lines and only the first 13 of curl's 30 lines were drawn until it was clicked. Given the text once its tab
    is on screen, it measures right (tests/test_browser_code.py)."""
    inputs = [image_file, image_url, *params.values(), *region]  # region: the switch and its four boxes
    # Undocumented rather than private: a pure function of the form (no state, no key) that API callers and
    # the tests may use; it stays off the "Use via API" page.
    tab.select(code_for, inputs, [panel.subscribe, panel.queue, panel.body, panel.curl], api_name="code",
               api_visibility="undocumented", trigger_mode="always_last", show_progress="hidden")
