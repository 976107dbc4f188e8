"""A cancel that arrives after the run completed: the run panel shows the result, as for any finished run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image

from components.common.session import Session
from components.upscale import run_cancel
from components.upscale.action import View, busy_buttons
from core.runs import store
from core.runs.runs import Run


def test_a_cancel_too_late_shows_the_completed_result_not_an_empty_panel(tmp_path: Path) -> None:
    # A user trial: Escape a moment too late read "cancelled", then "done" — with the slider, Output PNG and details
    # empty and no word of where the finished run went.
    output = tmp_path / "out.png"
    Image.new("RGB", (40, 30), "teal").save(output)
    run = Run(engine="local", model="fast", arguments={"upscale_factor": 2}, input_name="coffee.jpg",
              status="completed", output_path=str(output), width=40, height=30)
    store.save(run)
    pressed, cancelled = run_cancel.cancel_view(View(stage="running", run_id=run.id))
    view, png, result, _ = asyncio.run(run_cancel.cancel_outcome(pressed, cancelled, Session()))
    assert view.stage == "done" and view.after == str(output) and "**size** 40×30" in view.details
    assert png is not None and Path(png).read_bytes() == output.read_bytes()
    assert result["run_id"] == run.id and result["status"] == "completed"
    assert "already completed before the cancel arrived" in view.lines[-1]


def test_a_cancel_that_stopped_the_run_says_so_and_shows_no_result(tmp_path: Path) -> None:
    run = Run(engine="local", arguments={"upscale_factor": 2}, input_name="coffee.jpg", status="cancelled")
    store.save(run)
    pressed, cancelled = run_cancel.cancel_view(View(stage="running", run_id=run.id))
    view, png, result, _ = asyncio.run(run_cancel.cancel_outcome(pressed, cancelled, Session()))
    assert view.stage == "cancelled" and view.after is None and png == result == run_cancel.gr.skip()
    assert "Cancelled" in view.lines[-1]


def test_a_run_update_that_lands_after_the_cancel_does_not_leave_the_page_upscaling(tmp_path: Path) -> None:
    """A user trial, under load: Escape during a run left the page on "Upscaling…" though the run was cancelled at
    its engine. The run's last update reached the page after the cancel's, so the view the outcome read was the
    run's own (running, no cancel asked), and nothing more was said. The outcome is said for the run cancelled."""
    run = Run(engine="local", arguments={"upscale_factor": 2}, input_name="coffee.jpg", status="cancelled")
    store.save(run)
    _, cancelled = run_cancel.cancel_view(View(stage="running", run_id=run.id))
    late = View(stage="running", run_id=run.id, lines=["12:00:01 Running…"])  # the run's update, landed last
    view, _, _, cleared = asyncio.run(run_cancel.cancel_outcome(late, cancelled, Session()))
    assert view.stage == "cancelled" and cleared is None
    assert run_cancel.CANCEL_REQUESTED in view.lines[-2] and "Cancelled" in view.lines[-1]
    upscale, cancel = busy_buttons(view.stage)
    assert upscale["value"] == "Upscale" and upscale["interactive"] and not cancel["interactive"]


def test_a_cancel_outcome_says_nothing_about_a_run_started_since(tmp_path: Path) -> None:
    first = Run(engine="local", arguments={"upscale_factor": 2}, input_name="a.png", status="cancelled")
    store.save(first)
    _, cancelled = run_cancel.cancel_view(View(stage="running", run_id=first.id))
    newer = View(stage="running", run_id="another-run")
    assert asyncio.run(run_cancel.cancel_outcome(newer, cancelled, Session()))[0] == run_cancel.gr.skip()
