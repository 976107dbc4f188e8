"""Run panel: Upscale and Cancel, the console and the result, wired to the public ``upscale`` API."""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.common.engine_panel import EnginePanel
from components.upscale import console, form_check, result, run_cancel
from components.upscale.action import IN_FLIGHT, View, render_view, upscale
from components.upscale.console import stamp
from components.upscale.image_input import ImageInput
from components.upscale.region_panel import WHOLE, RegionPanel
from core.errors import InputError
from core.inputs.images import InputImage
from core.runs import store
from core.runs.runs import Run
from core.usecases.validate import read_input

if TYPE_CHECKING:
    from components.upscale.parameters import Widget


@dataclass
class RunPanel:
    run: gr.Button
    cancel: gr.Button
    reuse_seed: gr.Button
    whole: gr.Button  # *Run the whole picture with these settings*, under a finished region run
    console: console.Console
    result: result.Result
    view: gr.State


def render() -> RunPanel:
    with gr.Row(elem_id="run-bar"):  # on a phone a bar that stays in view (style.css)
        run = gr.Button("Upscale", variant="primary", elem_id="run-button", scale=3)
        cancel = gr.Button("Cancel", variant="stop", elem_id="cancel-button", scale=1, interactive=False)
    panel_console = console.render()
    panel_result = result.render()
    reuse_seed = gr.Button("Reuse this seed", size="sm", elem_id="reuse-seed", visible=False)  # with a seed shown
    whole = gr.Button(WHOLE, size="sm", elem_id="result-whole", visible=False)  # under a region run's result
    return RunPanel(run, cancel, reuse_seed, whole, panel_console, panel_result, gr.State(View()))


@functools.wraps(upscale)
async def upscale_live(*args: Any, **kwargs: Any) -> AsyncIterator[tuple[Any, Any, View, str]]:
    """``upscale``, each update also carrying the console's text: the line reaches the page with the update,
    not one request later through the State's ``change`` (bench/log_latency.py). Same inputs, same API outputs
    (the console is left out of them, see ``console.ConsoleLog``); Gradio closes or cancels it as it did ``upscale``."""
    async for output, result_json, view in upscale(*args, **kwargs):
        yield output, result_json, replace(view, live=True), "\n".join(view.lines)


upscale_live.__signature__ = upscale.__signature__  # type: ignore[attr-defined]
del upscale_live.__wrapped__  # Gradio reads the written signature


SHOW_SEED = "() => document.querySelector('#param-seed')?.scrollIntoView({block: 'center', behavior: 'smooth'})"
# After Restore or *Run the whole picture*, the Upscale tab's form from its top, with the run panel's line beside
# it (the page stayed scrolled to where the button was, often over an emptied result).
SHOW_FORM = "() => document.querySelector('#workspace')?.scrollIntoView({block: 'start', behavior: 'smooth'})"


def seed_of(view: View) -> Any:
    """The shown result's seed for the form's Seed box (beside the main knobs), with a toast saying so."""
    if view.seed is None:
        return gr.skip()
    gr.Info(f"Seed {view.seed} is in the form: the next run with these settings gives this picture again.")
    return view.seed


def run_label(run: Run) -> str:
    """A run as the page names it once it is no longer the one on show: "coffee.png ×2 on fal, 14:02, completed"
    (the engine: a local run and a fal run of one picture read alike)."""
    factor = run.arguments.get("upscale_factor")
    scale = f" ×{factor:g}" if isinstance(factor, (int, float)) else ""
    when = time.strftime('%H:%M', time.localtime(run.created_at))
    return f"{run.input_name or 'image'}{scale} on {run.engine}, {when}, {run.status}"


def set_aside(note: str) -> View:
    """An idle view that says what happened to the one it replaces: no slider, no "done", one console line."""
    return View(stage="idle", lines=[stamp(note)], details=note)


def held(loaded: InputImage | None) -> str:
    """The picture the form holds, as a note is tied to it: its content's digest (``InputImage.digest``), "" for
    none."""
    return loaded.digest if loaded is not None else ""


def is_note(view: View) -> bool:
    """Whether the panel shows no run: a note of its own (Restore's, *Run the whole picture*'s, a new picture's),
    or nothing yet."""
    return view.run_id is None and view.after is None and view.stage == "idle"


def new_input(view: View, loaded: InputImage | None = None) -> Any:
    """A new picture in the form (uploaded, restored) or none (removed, or a file refused and taken out): the last
    run's result, its "done" and its console no longer describe the form, so they go, and the panel says what the
    form holds and where the last run is (if there was one). A run in flight is left alone (it runs on the
    picture it was given), and so is a note about the picture now loaded (the one Restore or *Run the whole
    picture* put there: ``pin_note``), or one not yet tied to a picture (its picture is on its way) — but the
    Output PNG and Result JSON still shown go. A note about another picture is replaced (a Restore's note outlived
    the picture it named). Returns (view, Output PNG, Result JSON)."""
    if view.stage in IN_FLIGHT:
        return gr.skip(), gr.skip(), gr.skip()
    if is_note(view) and view.picture in (None, held(loaded)):  # about this picture: kept, files go
        return gr.skip(), None, None
    about = view.run_id or view.aside
    now = "A new picture is in the form." if loaded is not None else "The form has no picture now."
    said = set_aside(f"{now} {last_run(about)}" if about else now)
    return replace(said, aside=about, picture=held(loaded)), None, None


def pinned(view: View, file: str | None, url: str | None) -> Any:
    """A note of its own not yet tied to a picture, tied to the one the form's ``file`` (else ``url``) gives (read
    as the form reads it: ``read_input``; a picture that cannot be read is none); else nothing."""
    if not is_note(view) or view.picture is not None:
        return gr.skip()
    try:
        loaded: InputImage | None = read_input(file, url)
    except InputError:
        loaded = None
    tied = view.snapshot()
    tied.picture = held(loaded)
    return tied


def pin_note(event: Any, view: gr.State, file: gr.File, url: gr.Textbox) -> None:
    """After ``event`` (Restore, *Run the whole picture*) put a picture in the form with a note in the run panel,
    tie the note to that picture (``pinned``), so ``new_input`` replaces it when another picture, or none, takes
    its place — whichever of the two runs first, and when that picture was already loaded (its loading again then
    changes nothing, and no ``new_input`` follows)."""
    event.then(pinned, [view, file, url], view, api_visibility="private", show_progress="hidden")


def last_run(run_id: str | None) -> str:
    """Where the run the panel showed went: "Last shown: coffee.png ×2 on fal, 14:02, completed. It is in the History
    tab." — the run shown, which is a run fetched by its request id as often as one just made (it said "Last run"
    of a run fetched after it)."""
    run = store.store().get(run_id) if run_id else None
    return (f"Last shown: {run_label(run)}. It is in the History tab." if run
            else "The run shown before is in the History tab.")


def put_aside(view: View | None, note: str) -> View:
    """``set_aside`` for a note of its own that replaces ``view`` (Restore's: the picture it puts in the form keeps
    it, ``pin_note``; another picture replaces it): the note, then where the run ``view`` showed went, if it
    showed one."""
    about = (view.run_id or view.aside) if view is not None else None
    return replace(set_aside(f"{note} {last_run(about)}" if about else note), aside=about)


def listen(panel: RunPanel, image: ImageInput, params: dict[str, Widget],
           engine: EnginePanel, region: RegionPanel) -> Any:
    """Wire the panel and return the Upscale event (others chain on it); ``region`` is the region panel, whose
    switch and boxes the run reads."""
    inputs = [image.file, image.url, *params.values(), engine.engine, engine.session, *region.boxes, region.linked]
    outputs = [panel.result.file, panel.result.json, panel.view, panel.console.log]
    event = panel.run.click(upscale_live, inputs, outputs,
                            api_visibility="private", concurrency_limit=None, show_progress="minimal",
                            show_progress_on=[panel.result.slider])
    run_cancel.listen(panel.cancel, event, panel.view, engine.session, [panel.result.file, panel.result.json])
    # Queued with always_last, not queue=False: unqueued calls run side by side and the page applies their answers
    # as they arrive, so an older view's answer could land last and draw a run that is over as still going.
    panel.view.change(render_view, panel.view,
                      [panel.console.log, panel.console.stage, panel.result.slider, panel.result.details, panel.run,
                       panel.cancel, panel.reuse_seed, panel.whole, *params.values()], api_visibility="private",
                      trigger_mode="always_last", concurrency_limit=None, show_progress="hidden")
    image.loaded.change(new_input, [panel.view, image.loaded], [panel.view, panel.result.file, panel.result.json],
                        api_visibility="private", show_progress="hidden")
    form_check.listen(panel.run, params, panel.view, [panel.result.file, panel.result.json])
    # queued, so the toast reaches the page; then the Seed box is brought into view (below the fold on a phone)
    panel.reuse_seed.click(seed_of, panel.view, params["seed"], api_visibility="private",
                           show_progress="hidden").then(None, js=SHOW_SEED)
    return event
