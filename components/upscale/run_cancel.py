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


def cancel_view(view: View) -> Any:
    """Shown at once when Cancel is pressed (the upscale task cancels its request as it unwinds); nothing when
    no run is in progress — Escape, which presses Cancel, also closes menus."""
    if view.stage not in ("queued", "running", "downloading"):
        return gr.skip()
    view = view.snapshot()
    view.lines.append(stamp(CANCEL_REQUESTED))
    view.stage, view.cancel_requested = "cancelled", True
    return view


async def cancel_outcome(view: View, session: Session | None = None) -> tuple[Any, Any, Any]:
    """After a cancel: how the run ended, once its engine has had the cancel and the history has the row —
    (view, output PNG, result JSON). A run that completed before the cancel arrived is shown as any finished run
    is (the slider, its details, the PNG and the JSON): it was made, and on fal paid for."""
    if not view.cancel_requested:
        return gr.skip(), gr.skip(), gr.skip()
    run = None
    for _ in range(100):  # the engine's cancel call normally takes well under a second
        run = store.store().get(view.run_id) if view.run_id else None
        if run is None or run.final:
            break
        await asyncio.sleep(0.1)
    view = view.snapshot()
    view.cancel_requested = False
    if run is None or not run.final:
        view.lines.append(stamp("The engine has not confirmed the cancel yet; the History tab will show how the "
                                "run ended."))
    elif run.status == "cancelled":
        view.lines.extend(console.lines([events.Cancelled(run.request_id)]))  # as a fetch of it says it
    elif run.status == "completed" and run.output_path:  # it ended before the cancel arrived: its result stands
        view.lines.append(stamp("The run had already completed before the cancel arrived: its result is shown "
                                "and kept in the history."))
        return view, *show_finished(view, run, session.root_url if session else "")
    else:
        view.stage = "failed"
        view.lines.append(stamp(f"The run had already ended ({run.status}) before the cancel arrived."))
    return view, gr.skip(), gr.skip()


def listen(cancel: gr.Button, run_event: Any, view: gr.State, session: gr.State, files: list[Any]) -> None:
    """Wire Cancel to the Upscale event (``files``: the run panel's output PNG and result JSON, for a run that
    completed before the cancel arrived).

    Queued, both: Gradio 6.31's page fires a State's ``.change`` only after a queued event (unqueued, the console
    never showed the cancel). ``cancel_view`` is quick because the page sends the cancel only once it returns.
    """
    cancel.click(cancel_view, view, view, cancels=[run_event], api_visibility="private",
                 concurrency_limit=None).then(cancel_outcome, [view, session], [view, *files],
                                              api_visibility="private", concurrency_limit=None)
