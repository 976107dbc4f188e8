"""Cancel (the button, or Escape): said at once in the console, then how the run ended at its engine."""

from __future__ import annotations

import asyncio
from typing import Any

import gradio as gr

from components.common.session import Session
from components.upscale import console
from components.upscale.action import View, show_finished
from components.upscale.console import stamp
from core.runs import events, store

CANCEL_REQUESTED = "Cancel requested: cancelling the request at its engine…"


def cancel_view(view: View) -> tuple[Any, Any]:
    """Shown at once when Cancel is pressed (the upscale task cancels its request as it unwinds), and the run id
    it is about (for ``cancel_outcome``); nothing when no run is in progress — Escape, which presses Cancel, also
    closes menus."""
    if view.stage not in ("queued", "running", "downloading"):
        return gr.skip(), gr.skip()
    view = view.snapshot()
    view.lines.append(stamp(CANCEL_REQUESTED))
    view.stage, view.cancel_requested = "cancelled", True
    return view, view.run_id


async def cancel_outcome(view: View, cancelled: str | None = None, session: Session | None = None,
                         ) -> tuple[Any, Any, Any, Any]:
    """After a cancel of run ``cancelled`` (its id): how the run ended, once its engine has had the cancel and the
    history has the row — (view, output PNG, result JSON, the id cleared). A run that completed before the cancel
    arrived is shown as any finished run is (the slider, its details, the PNG and the JSON): it was made, and on
    fal paid for.

    The view may be the run's own last update rather than the cancel's: under load, an update the run sent
    just before it was cancelled reached the page after the cancel's, and the page stayed on "Upscaling…" for a
    run that had stopped. The outcome is said for the run cancelled either way (not for a run started since)."""
    if not cancelled or view.run_id != cancelled:
        return gr.skip(), gr.skip(), gr.skip(), None
    run = None
    for _ in range(300):  # the engine's cancel call normally takes well under a second (a local tile under load,
        # more: 10 s was not always enough, and the outcome was never said)
        run = store.store().get(cancelled)
        if run is None or run.final:
            break
        await asyncio.sleep(0.1)
    view = view.snapshot()
    if not view.cancel_requested:  # a late update of the run's replaced the cancel's view
        view.lines.append(stamp(CANCEL_REQUESTED))
    view.cancel_requested = False
    if run is None or not run.final:
        view.stage = "cancelled"
        view.lines.append(stamp("The engine has not confirmed the cancel yet; the History tab will show how the "
                                "run ended."))
    elif run.status == "cancelled":
        view.stage = "cancelled"
        view.lines.extend(console.lines([events.Cancelled(run.request_id)]))  # as a fetch of it says it
    elif run.status == "completed" and run.output_path:  # it ended before the cancel arrived: its result stands
        view.lines.append(stamp("The run had already completed before the cancel arrived: its result is shown "
                                "and kept in the history."))
        return view, *show_finished(view, run, session.root_url if session else ""), None
    else:
        view.stage = "failed"
        view.lines.append(stamp(f"The run had already ended ({run.status}) before the cancel arrived."))
    return view, gr.skip(), gr.skip(), None


def listen(cancel: gr.Button, run_event: Any, view: gr.State, session: gr.State, files: list[Any]) -> None:
    """Wire Cancel to the Upscale event (``files``: the run panel's output PNG and result JSON, for a run that
    completed before the cancel arrived).

    Queued, both: Gradio 6.31's page fires a State's ``.change`` only after a queued event (unqueued, the console
    never showed the cancel). ``cancel_view`` is quick because the page sends the cancel only once it returns.
    """
    cancelled = gr.State(None)  # the run id Cancel was pressed for
    cancel.click(cancel_view, view, [view, cancelled], cancels=[run_event], api_visibility="private",
                 concurrency_limit=None).then(cancel_outcome, [view, cancelled, session], [view, *files, cancelled],
                                              api_visibility="private", concurrency_limit=None)
