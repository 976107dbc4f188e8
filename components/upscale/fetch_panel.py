"""Fetch by request id or run id: see a run's status and get its result — for a tab that was closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.common.refusal import refused, said
from components.common.session import Session, for_request
from components.common.text import plain, toast
from components.upscale import console, result
from components.upscale.action import View, result_json, show_finished
from components.upscale.console import stamp
from core import usecases
from core.errors import StudioError
from core.runs.runs import Run


@dataclass
class FetchPanel:
    request_id: gr.Textbox
    fetch: gr.Button
    note: gr.Markdown  # why an id was refused, beside the box (the run panel shows what was fetched)


def render() -> FetchPanel:
    with gr.Accordion("Fetch by request id", open=False, elem_id="fetch-panel"):
        with gr.Row(equal_height=True):
            request_id = gr.Textbox(label="Request id or run id",
                                    placeholder="e.g. 764cabcf-b745-4b3e-ae38-1200304cf45b", scale=4,
                                    elem_id="fetch-request-id", max_lines=1)
            fetch = gr.Button("Fetch", scale=1, elem_id="fetch-button")
        note = gr.Markdown("", elem_id="fetch-note")
    return FetchPanel(request_id, fetch, note)


ENDS = ("done", "failed", "cancelled")  # the stages a fetch ends in (core/usecases/fetch.py)


async def fetch_request(request_id: str, session: Session, request: gr.Request | None = None,
                        ) -> AsyncIterator[tuple[Any, Any, Any, str]]:
    """Show a run by its fal request id, its run id or ``latest`` in the run panel (``core/usecases/fetch.py``): a
    run in the history as stored, whatever its engine; a pending fal request followed to its end and recorded.
    Yields (output PNG, result JSON, run view, note beside the box). A cancelled run is shown as a live cancel
    is (stage *cancelled*, no error: nothing raised). An id refused before it reached a run is said in the note
    beside the box alone (no toast): the run panel keeps the run it shows (a mistyped id wiped it and said
    *failed*), and the note goes when the person does something else (``listen``). A run that failed, on the way
    or before, is said in the console and raised (gr.Error), as a failed run of the Upscale button is."""
    session = for_request(session, request)
    request_id = (request_id or "").strip()
    view = View(stage="queued", lines=[stamp(f"Fetching request {request_id}…")])
    run: Run | None = None
    try:
        async for update in usecases.fetch(request_id, session):
            if run is None and request_id != update.run.request_id:  # "latest" or a run id: say which run it is
                view.lines.append(stamp(f"That is request {update.run.request_id or update.run.id}"
                                        + (f" ({update.run.input_name})" if update.run.input_name else "")
                                        + "."))
            run = update.run
            view.run_id = run.id
            view.lines.extend(console.lines(update.events))
            view.stage = update.stage
            if update.stage not in ENDS:
                yield None, None, view.snapshot(), ""
    except StudioError as exc:
        message = said(str(exc))
        if run is None:  # refused before it reached a run (a mistyped id): the run on show stays, with its result,
            yield gr.skip(), gr.skip(), gr.skip(), f"Warning: {plain(message)}"  # and the box alone says why (a
            return  # toast lay over the run on show, and over the next run fetched)
        gr.Warning(toast(message))
        view.stage, view.error = "failed", message
        view.lines.append(stamp(f"Error: {message}"))
        yield None, None, view.snapshot(), f"Warning: {plain(message)}"
        return
    if run is None:
        raise refused("The request did not start.")
    view.details = result.details_markdown(run)
    if view.stage == "cancelled":  # not a failure: no error on the panel, nothing raised
        yield None, result_json(run, session.root_url), view.snapshot(), ""
        return
    if run.status != "completed" or not run.output_path:
        view.stage, view.error = "failed", run.error
        yield None, result_json(run, session.root_url), view.snapshot(), ""
        raise refused(run.error or "The request did not complete.")
    yield *show_finished(view, run, session.root_url), view.snapshot(), ""


# The note beside the box, emptied in the page itself: a refusal is about the id that was fetched, not what came
# after it. (A call to the server for it could answer after a newer fetch's note and wipe that.)
FORGET = "() => ''"


def listen(panel: FetchPanel, session: gr.State, outputs: list, moved_on: list[Any]) -> None:
    """``outputs`` are the run panel's result file, result JSON and view state; ``moved_on`` the triggers after
    which a refusal beside the box no longer holds (a new run, a new picture): they empty it, as a new fetch and
    an edit of the id do (it stayed through later runs and pictures)."""
    outputs = [*outputs, panel.note]
    panel.fetch.click(fetch_request, [panel.request_id, session], outputs, api_visibility="private")
    panel.request_id.submit(fetch_request, [panel.request_id, session], outputs, api_visibility="private")
    gr.on([*moved_on, panel.request_id.input], None, None, panel.note, js=FORGET, api_visibility="private",
          show_progress="hidden")
