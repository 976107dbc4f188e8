"""Fetch by request id: see a fal request's status and get its result — for a tab that was closed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import gradio as gr

from components.common import store
from components.common.files import servable
from components.common.refusal import refused
from components.common.session import Session, for_request
from components.upscale import console, result
from components.upscale.action import View, download_name, result_json
from components.upscale.console import stamp
from core.engines import make_engine, resumable_engines
from core.errors import StudioError
from core.runs.resume import follow_request
from core.runs.runs import Run

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{4,128}$")


@dataclass
class FetchPanel:
    request_id: gr.Textbox
    fetch: gr.Button


def render() -> FetchPanel:
    with gr.Accordion("Fetch by request id", open=False, elem_id="fetch-panel"):
        with gr.Row(equal_height=True):
            request_id = gr.Textbox(label="fal request id", placeholder="e.g. 764cabcf-b745-4b3e-ae38-1200304cf45b",
                                    scale=4, elem_id="fetch-request-id", max_lines=1)
            fetch = gr.Button("Fetch", scale=1, elem_id="fetch-button")
    return FetchPanel(request_id, fetch)


def key_for(session: Session, run: Run | None) -> str | None:
    """The key that may follow a request: any key this visitor may use for a run in their own history; for an id
    they did not make here, only a key they typed themselves — on a shared app the Space's key never follows a
    stranger's request id (request ids are not secrets, and fal would hand back that person's result)."""
    if run is not None or not session.shared:
        return session.fal_key()
    if session.typed_key:
        return session.typed_key
    raise StudioError("This request id is not in your history. To follow a request made elsewhere, type your own "
                      "fal key first (Key, local model, webhook).")


async def fetch_request(request_id: str, session: Session, request: gr.Request = None,
                        ) -> AsyncIterator[tuple[str | None, dict | None, View]]:
    """Follow a fal request by id into the run panel; it is recorded in the history like any run."""
    session = for_request(session, request)
    request_id = (request_id or "").strip()
    view = View(stage="queued", lines=[stamp(f"Fetching request {request_id}…")])
    run = None
    try:
        if not _REQUEST_ID.match(request_id):
            raise StudioError("Paste a fal request id (letters, digits and dashes).")
        run = store.store().by_request_id(request_id, owner=session.scope())
        engine = make_engine(resumable_engines()[0], key_for(session, run))
    except StudioError as exc:
        view.stage, view.error = "failed", str(exc)
        view.lines.append(stamp(f"Error: {exc}"))
        yield None, None, view.snapshot()
        raise refused(str(exc)) from None
    if run is None:  # submitted elsewhere (another tool, or a lost tab): its arguments are not known here
        run = Run(engine=engine.name, arguments={}, owner=session.owner, request_id=request_id,
                  cell="fetched by request id")
    elif run.status == "completed" and run.output_path:
        view.lines.append(stamp("Already in the history: showing the stored result."))
        view.stage, view.details, view.after = "done", result.details_markdown(run), run.output_path
        view.after_name = download_name(run)
        view.before, view.seed = result.before_image(run), run.seed
        yield servable(run.output_path, download_name(run)), result_json(run), view.snapshot()
        return
    view.run_id = run.id
    async for update in follow_request(engine, run, store.save):
        view.lines.extend(console.lines(update.events))
        view.stage = update.stage
        yield None, None, view.snapshot()
    view.details = result.details_markdown(run)
    if run.status != "completed" or not run.output_path:
        view.stage, view.error = "failed", run.error
        yield None, result_json(run), view.snapshot()
        raise refused(run.error or "The request did not complete.")
    view.seed, view.after, view.before = run.seed, run.output_path, result.before_image(run)
    view.after_name = download_name(run)
    yield servable(run.output_path, download_name(run)), result_json(run), view.snapshot()


def listen(panel: FetchPanel, session: gr.State, outputs: list) -> None:
    """``outputs`` are the run panel's result file, result JSON and view state."""
    panel.fetch.click(fetch_request, [panel.request_id, session], outputs, api_name="fetch")
    panel.request_id.submit(fetch_request, [panel.request_id, session], outputs, api_visibility="private")
