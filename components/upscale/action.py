"""The Upscale action: the public ``upscale`` API, its live view (console, stage, result), and Cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import gradio as gr

from components.common import spending, store
from components.common.files import servable
from components.common.refusal import refused
from components.common.session import Session, for_request
from components.common.signatures import schema_handler
from components.upscale import console, parameters, result
from components.upscale.console import stage_html, stamp
from components.upscale.image_input import load as load_input
from core import config, schema
from core.engines import ENGINES, describe, make_engine
from core.errors import InputError, StudioError
from core.inputs import images
from core.runs import events, names
from core.runs.runner import execute
from core.runs.runs import Run
from core.sharing import budget, limits


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
    seed: int | None = None
    cancel_requested: bool = False  # Cancel was pressed; its outcome is still to be said
    live: bool = False  # the Upscale event has already put ``lines`` in the console (run_panel.upscale_live)

    def snapshot(self) -> View:
        """A copy (not live): gr.State fires ``change`` only when the value it holds differs from the last one."""
        return replace(self, lines=list(self.lines), live=False)


def download_name(run: Run) -> str:
    """What an output downloads as: ``<input stem>_x<factor>_<seed>.png``."""
    return names.output_name(run.input_name, run.arguments.get("upscale_factor"), run.seed)


def result_json(run: Run) -> dict[str, Any]:
    """The endpoint's output shape plus what identifies the run (never a key, never a server path)."""
    return {"image": {"url": run.result_url, "content_type": run.content_type, "width": run.width,
                      "height": run.height, "file_name": download_name(run)},
            "seed": run.seed, "timings": run.timings, "request_id": run.request_id, "engine": run.engine,
            "run_id": run.id, "status": run.status, "error": run.error}


def prepare(raw: dict[str, Any], image: str | None, engine: str, notes: list[str] | None = None,
            measure: bool = False) -> tuple[dict[str, Any], str | None]:
    """Validated arguments and the local input file (None when fal fetches an https URL itself, unless
    ``measure``: a budget needs the picture's size first); what was ignored while reading the image (unreadable
    metadata) is appended to ``notes``."""
    url = (raw.pop("image_url") or "").strip() if raw.get("image_url") else ""
    arguments = schema.validate(raw, require_image=False)
    if not image and not url:
        raise InputError("Give an image: upload a file, or paste an https:// URL or a data: URI.", "image")
    if not image and describe(engine).fetches_urls and url.lower().startswith("https://") and not measure:
        arguments["image_url"] = schema.check_value("image_url", url)
        return arguments, None
    loaded = load_input(image, url)
    if notes is not None:
        notes.extend(loaded.notes)
    out_w, out_h = schema.output_size(loaded.width, loaded.height, arguments["upscale_factor"])
    limit = config.max_output_megapixels()
    if out_w * out_h > limit * 1e6:
        raise InputError(f"The output would be {out_w}×{out_h} ({out_w * out_h / 1e6:.0f} MP); the limit is "
                         f"{limit:g} MP. Lower the upscale factor.", "upscale_factor")
    return arguments, loaded.path


@schema_handler
async def upscale(form: dict[str, Any], engine: str = "local", session: Session | None = None,
                  request: gr.Request = None) -> AsyncIterator[tuple[str | None, dict | None, View]]:
    """Upscale one image with ``fal-ai/clarity-upscaler`` (engine="fal") or Real-ESRGAN (engine="local").

    Takes ``image`` (a file) or ``image_url``, then every endpoint parameter (components/common/signatures.py).
    Returns the output PNG and the result JSON (seed, timings, request id).
    """
    session = for_request(session, request)
    view = View(stage="queued", lines=[stamp("Checking the input…")])
    raw = dict(form)
    image = raw.pop("image")
    try:
        if engine not in ENGINES:
            raise InputError(f"Engine must be one of {', '.join(map(repr, ENGINES))}, not {engine!r}.", "engine")
        notes: list[str] = []
        measure = spending.space_key_in_use(session, engine) and budget.caps().any
        arguments, image_path = await asyncio.to_thread(prepare, raw, image, engine, notes, measure)  # decodes
        view.lines += console.lines([events.Note(note) for note in notes])
        runner_engine = make_engine(engine, session.fal_key(), session.local_model or None)
    except StudioError as exc:
        view.stage, view.error, view.error_field = "failed", str(exc), getattr(exc, "field", None)
        view.lines.append(stamp(f"Error: {exc}"))
        yield None, None, view.snapshot()
        raise refused(str(exc)) from None
    run = Run(engine=engine, arguments=arguments, owner=session.owner,
              input_name=names.input_name(image, form.get("image_url")),
              model=getattr(runner_engine, "model", None) if describe(engine).models else None)
    view.run_id = run.id
    options = {"webhook_url": session.webhook_url} if describe(engine).webhooks and session.webhook_url else {}
    try:
        limits.check_rate(session.limit_keys())
        price = images.price_of(image_path, arguments["upscale_factor"]) if image_path else 0.0
        with limits.job_slot(session.limit_keys()), spending.reserved(session, engine, price, "run") as spend:
            spend.add(run, price)
            async for update in execute(runner_engine, run, image_path, store.save, **options):
                view.lines.extend(console.lines(update.events))
                view.stage = update.stage
                if update.stage in ("done", "failed"):  # the last update: sent with the result just below
                    view.details = result.details_markdown(run)
                    continue
                yield None, None, view.snapshot()
    except InputError as exc:  # a limit: nothing was sent
        view.stage, view.error = "failed", str(exc)
        view.lines.append(stamp(f"Error: {exc}"))
        yield None, None, view.snapshot()
        raise refused(str(exc)) from None
    if run.status != "completed" or not run.output_path:
        view.error, view.error_field = run.error, run.error_field
        yield None, result_json(run), view.snapshot()
        raise refused(run.error or "The run did not complete.")
    view.seed, view.after, view.before = run.seed, run.output_path, result.before_image(run)
    view.after_name = download_name(run)
    yield servable(run.output_path, download_name(run)), result_json(run), view.snapshot()


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
    """Console text, stage strip, slider, details, Upscale and Cancel, then one info update per parameter widget.

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
    return [text, stage_html(view.stage, _paid(view)), slider, view.details, *busy_buttons(view.stage), *notes]
