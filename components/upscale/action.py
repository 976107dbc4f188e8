"""The Upscale action: the public ``upscale`` API, its live view (console, stage, result), and Cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr

from components.common.files import file_url, servable
from components.common.refusal import refused
from components.common.session import Session, for_request
from components.common.signatures import schema_handler
from components.upscale import console, parameters, result
from components.upscale.console import stage_html, stamp
from components.upscale.region_panel import region_of
from core import schema, usecases
from core.engines import describe
from core.errors import StudioError
from core.inputs.region import Region
from core.runs import names, store
from core.runs.runs import Run, iso_time
from core.usecases import RunRequest


@dataclass
class View:
    """What the run panel shows; kept in a gr.State so the public API returns only the file and JSON."""

    lines: list[str] = field(default_factory=list)
    stage: str = "idle"
    before: str | None = None
    after: str | None = None
    after_name: str | None = None  # what the slider's download saves the output as (as the Output PNG's link)
    details: str = ""
    error: str | None = None
    error_field: str | None = None
    run_id: str | None = None
    region: bool = False  # the result is a region run's: *Run the whole picture* is offered
    seed: int | None = None
    cancel_requested: bool = False  # Cancel was pressed; its outcome is still to be said
    live: bool = False  # the Upscale event has already put ``lines`` in the console (run_panel.upscale_live)
    aside: str | None = None  # the run a "new picture in the form" note names (the note follows the next picture)
    picture: str | None = None  # the picture a note of its own is about (``run_panel.held``: its digest, "" for
    # none), None until known: a note about a picture no longer in the form is replaced

    def snapshot(self) -> View:
        """A copy (not live): gr.State fires ``change`` only when the value it holds differs from the last one."""
        return replace(self, lines=list(self.lines), live=False)


def download_name(run: Run) -> str:
    """What an output downloads as: ``<input stem>_x<factor>_<seed>.png``, the engine's name in place of the seed
    on an engine that uses none (``_local``, ``_lanczos``), a region run's ending in its region
    (``_region-384x384+100+50``)."""
    region = Region.parse(run.region)
    return names.output_name(run.input_name, run.arguments.get("upscale_factor"), run.seed_used,
                             region.tag if region else None, run.engine)


def result_json(run: Run, root: str = "") -> dict[str, Any]:
    """fal's output shape for any engine, plus what identifies the run (never a key, nothing in the data directory):
    ``image`` {``url``: the address Gradio serves the output PNG at (``root`` + ``/gradio_api/file=…``, an
    unguessable cache path, see ``files.file_url``; None until the run completed), ``content_type``,
    ``file_name``, ``file_size`` (bytes), ``width``, ``height`` (pixels)}, ``seed`` (None on an engine that uses
    none), ``timings`` (seconds by step), ``request_id``, ``engine``, ``model``, ``run_id``, ``status``, ``error``,
    ``result_url``: the engine's own output address (fal's CDN; it expires), None on local engines; its sweep
    (``sweep_id``, ``cell``; None for a single run), its ``region`` ({``region_x``, ``region_y``, ``region_width``,
    ``region_height``}; None for the whole picture), ``linked_run`` (a region run ↔ the whole-picture run made from
    it) and ``created_at`` (ISO 8601 with the zone's offset)."""
    done = run.status == "completed" and bool(run.output_path) and Path(str(run.output_path)).is_file()
    name = download_name(run)
    return {"image": {"url": file_url(run.output_path, name, root) if done else None,
                      "content_type": run.content_type, "file_name": name,
                      "file_size": Path(str(run.output_path)).stat().st_size if done else None,
                      "width": run.width, "height": run.height},
            "seed": run.seed_used, "timings": run.timings, "request_id": run.request_id, "engine": run.engine,
            "model": run.model, "run_id": run.id, "status": run.status, "error": run.error,
            "result_url": run.result_url, "sweep_id": run.sweep_id, "cell": run.cell,
            "region": region.values() if (region := Region.parse(run.region)) else None,
            "linked_run": run.linked_run, "created_at": iso_time(run.created_at)}


def request_of(form: dict[str, Any], engine: str, session: Session, region: Region | None = None,
               linked_run: str | None = None) -> RunRequest:
    """The run the form asks for: its parameters (``image_url`` among them), the uploaded file, the engine, the
    session's webhook, the region (None: the whole picture) and the region run it comes from (a whole-picture
    run made by *Run the whole picture*)."""
    parameters = dict(form)
    image = parameters.pop("image", None)
    return RunRequest(parameters, image, engine, webhook_url=session.webhook_url, region=region,
                      linked_run=None if region else linked_run)


@schema_handler
async def upscale(form: dict[str, Any], engine: str = "local", session: Session | None = None,
                  region_on: bool = False, region_x: Any = None, region_y: Any = None, region_width: Any = None,
                  region_height: Any = None, linked_run: str | None = None,
                  request: gr.Request | None = None) -> AsyncIterator[tuple[str | None, dict | None, View]]:
    """Upscale one image with ``fal-ai/clarity-upscaler`` (engine="fal"), Real-ESRGAN (engine="local") or a plain
    Lanczos resize (engine="lanczos"): ``core/usecases/run.py``'s ``run_one``.

    Takes ``image`` (a file) or ``image_url``, then every endpoint parameter (components/common/signatures.py),
    then the region panel's switch and boxes (``region_panel.region_of``) and the region run a whole-picture run
    comes from. Returns the output PNG and the result JSON (seed, timings, request id).
    """
    session = for_request(session, request)
    view = View(stage="queued", lines=[stamp("Checking the input…")])
    run: Run | None = None
    try:
        region = region_of(region_on, region_x, region_y, region_width, region_height)
        asked = request_of(form, engine, session, region, linked_run)
        async for update in usecases.run_one(asked, session):
            run = update.run
            view.run_id = run.id
            view.lines.extend(console.lines(update.events))
            view.stage = update.stage
            if update.stage in ("done", "failed"):  # the last update: sent with the result just below
                view.details = result.details_markdown(run)
                continue
            yield None, None, view.snapshot()
    except StudioError as exc:  # refused before anything was sent: bad input, no key, a limit or a budget
        view.stage, view.error, view.error_field = "failed", str(exc), getattr(exc, "field", None)
        view.lines.append(stamp(f"Error: {exc}"))
        yield None, None, view.snapshot()
        raise refused(str(exc)) from None
    if run is None or run.status != "completed" or not run.output_path:
        view.error, view.error_field = (run.error, run.error_field) if run else ("The run did not start.", None)
        yield None, result_json(run, session.root_url) if run else None, view.snapshot()
        raise refused((run.error if run else None) or "The run did not complete.")
    view.region = run.region is not None
    yield *show_finished(view, run, session.root_url), view.snapshot()


def show_finished(view: View, run: Run, root: str = "") -> tuple[str | None, dict[str, Any]]:
    """Put a completed run into ``view`` as the run panel shows any finished run — at its end, fetched by id, or
    completed before a cancel arrived: "done", its details, the slider's pictures, its seed and download name.
    Returns its Output PNG and Result JSON (``result_json``, addresses from ``root``)."""
    view.stage, view.details = "done", result.details_markdown(run)
    view.seed, view.after, view.before = run.seed_used, run.output_path, result.before_image(run)
    view.after_name = download_name(run)
    return servable(run.output_path, view.after_name), result_json(run, root)


STREAMING = ("running", "downloading")  # stages in which the form's notes cannot change
IN_FLIGHT = ("queued", "running", "downloading")  # stages in which there is a run to cancel


def _paid(view: View) -> bool:
    """Whether the run in flight is on a priced engine (what Escape asks about before cancelling it)."""
    if view.stage not in IN_FLIGHT or not view.run_id:
        return False
    run = store.store().get(view.run_id)
    return run is not None and describe(run.engine).priced


def busy_buttons(stage: str) -> tuple[Any, Any]:
    """Upscale and Cancel as the stage has them: while a run is in flight Upscale says so and waits, and Cancel
    is live only then (it looked live with nothing to cancel)."""
    running = stage in IN_FLIGHT
    return (gr.update(value="Upscaling…" if running else "Upscale", interactive=not running),
            gr.update(interactive=running))


def render_view(view: View) -> list[Any]:
    """Console text, stage strip, slider, details, Upscale and Cancel, *Reuse this seed* (shown only for a result
    whose seed made it: never a local or lanczos run, which use none), *Run the whole picture* (shown for a finished
    region run), then one info update per parameter widget.

    The slider shows only the view's own result: a run that failed, is in flight or has not happened yet clears
    the previous run's pictures. While a job streams its logs the parameter notes are skipped: re-sending ten help
    texts with every log line made each console update several times larger (bench/log_latency.py). A live view's
    console text is already on the page (the Upscale event wrote it); re-sent here, one request later, it could
    replace newer lines.
    """
    slider = (servable(view.before or view.after), servable(view.after, view.after_name)) if view.after else None
    notes = ([gr.skip()] * len(schema.PARAMETER_FIELDS) if view.stage in STREAMING
             else parameters.field_messages(view.error_field, view.error))
    text = gr.skip() if view.live else "\n".join(view.lines)
    reuse = gr.update(visible=view.seed is not None)  # offered only for a result whose seed made it
    whole = gr.update(visible=view.region and view.after is not None)  # a finished region run's
    return [text, stage_html(view.stage, _paid(view)), slider, view.details, *busy_buttons(view.stage), reuse,
            whole, *notes]
