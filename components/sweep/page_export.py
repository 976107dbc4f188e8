"""*Export as a web page*: the sweep on show as a folder (zip) that opens from disk in any browser, for someone who
does not run the app (``core/sweep/web_page.py``). The line beside the button says how large it will be before
it is written, and whether the full-size pictures are in it. The runs are read through ``core/usecases/export.py``
(the visitor's own only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.common.files import served
from components.common.refusal import said
from components.common.session import Session, for_request
from components.sweep.sweep_layout import Layout, current
from core import config
from core.errors import InputError, StudioError
from core.sweep.web_page import THUMB, PagePlan, PageZip, Start
from core.usecases import export

HOW_TO_OPEN = "unzip it and open `index.html`: it needs no server and no network"


@dataclass
class PageExport:
    button: gr.Button
    file: gr.File
    line: gr.Markdown


def render() -> PageExport:
    """The button, its file and line; ids ``sweep-page``, ``sweep-page-file``, ``sweep-page-line``."""
    with gr.Row():
        button = gr.Button("Export this sweep as a web page", size="sm", scale=1, min_width=200, elem_id="sweep-page")
        file = gr.File(label="Web page (zip)", interactive=False, visible=False, scale=2, elem_id="sweep-page-file")
    line = gr.Markdown("", elem_id="sweep-page-line")
    return PageExport(button, file, line)


def _megabytes(size: int) -> str:
    """Binary units, as the download box beside the line and ``CLARITY_PAGE_MB`` count them."""
    return f"{size / 1024 ** 2:.1f} MB" if size >= 100 * 1024 else f"{max(0.1, size / 1024):.1f} KB"


def _what(pictures: int, cells: int, full_size: bool, limit: int) -> str:
    pictures_text = f"{pictures} of {cells} cells with a picture"
    if full_size:
        return f"{pictures_text}, at full size and as thumbnails, and the CSV"
    return (f"{pictures_text}, as {THUMB} px thumbnails only: with the full-size pictures it would be larger than "
            f"{_megabytes(limit)} (`CLARITY_PAGE_MB`)")


def planned_line(plan: PagePlan) -> str:
    """What the export will write: "About 23.4 MB: 12 of 12 cells with a picture, at full size…"."""
    return f"About {_megabytes(plan.bytes)}: {_what(plan.pictures, plan.cells, plan.full_size, plan.limit_bytes)}."


def written_line(page: PageZip, limit: int) -> str:
    """What was written and how to open it."""
    return f"{_megabytes(page.bytes)}: {_what(page.pictures, page.cells, page.full_size, limit)} — {HOW_TO_OPEN}."


def _sweep_id(view: Any) -> str | None:
    plan = getattr(view, "plan", None)
    return plan.id if plan is not None else None


def size(view: Any, session: Session, request: gr.Request | None = None) -> tuple[str, Any]:
    """The line before anything is written, for the sweep on show once it has ended (its CSV is made): its size,
    or why there is nothing to export; empty while a sweep runs or none is shown. A page written earlier is
    taken away: it was another sweep's, or this one's before a retry."""
    hidden = gr.File(None, visible=False)
    sweep_id = _sweep_id(view)
    if sweep_id is None or not getattr(view, "csv", None):
        return "", hidden
    try:
        return planned_line(export.sweep_page_plan(sweep_id, for_request(session, request))), hidden
    except InputError as exc:
        return str(exc), hidden
    except OSError:  # a picture removed meanwhile: said when the button is pressed
        return "", hidden


def write(view: Any, layout: Layout | None, session: Session, request: gr.Request | None = None
          ) -> tuple[Any, str]:
    """The button's handler: the sweep on show written as a web page (zip), offered as a download; the page opens
    in the grid's layout on screen (it opened in X across, Y down after the grid was pivoted: a user trial)."""
    sweep_id = _sweep_id(view)
    if sweep_id is None:
        return gr.skip(), said("Run or re-open a sweep first: there is nothing to export.")
    shown = current(view, layout)
    start = Start(shown.across, shown.down, shown.at) if shown is not None else None
    try:
        page = export.sweep_page(sweep_id, for_request(session, request), start)
    except StudioError as exc:
        return gr.skip(), said(str(exc))
    return gr.File(served(str(page.path)), visible=True), written_line(page, config.page_full_size_bytes())
