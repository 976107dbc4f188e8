"""The Upscale event writes its console lines itself; the view's render leaves them alone but still shows what
any other handler (Cancel, Fetch, a form check) writes into the view."""

from __future__ import annotations

from dataclasses import replace

import gradio as gr

from components.upscale import run_cancel
from components.upscale.action import View, render_view


def test_a_live_view_leaves_the_console_to_the_event_that_streamed_it() -> None:
    view = replace(View(lines=["12:00:00.000  Submitted · request abc"], stage="running"), live=True)
    text, stage, *_ = render_view(view)
    assert isinstance(text, type(gr.skip())) and 'data-stage="running"' in stage


def test_what_cancel_writes_into_a_live_view_is_shown() -> None:
    live = replace(View(lines=["12:00:00.000  Running (fal)"], stage="running"), live=True)
    cancelled, _ = run_cancel.cancel_view(live)
    text = render_view(cancelled)[0]
    assert run_cancel.CANCEL_REQUESTED in text and "Running (fal)" in text
