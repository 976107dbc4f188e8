"""Fetching a cancelled run shows the cancel as the live Cancel does — stage *cancelled*, no error, nothing raised
(so no Error toast or badge) — on an engine that only has the history (local) as on one that is asked again (fal),
and the history keeps the run cancelled; a fal run finished before its cancel arrived comes back completed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PIL import Image

from components.common.session import Session
from components.upscale import fetch_panel
from components.upscale.action import View, upscale
from core.runs import store
from core.runs.runs import Run


def fetched(request_id: str) -> list[tuple[Any, Any, View, str]]:
    """Every update the Fetch box's handler yields (it raises gr.Error for a run shown as failed)."""
    async def collect() -> list[tuple[Any, Any, View, str]]:
        return [shown async for shown in fetch_panel.fetch_request(request_id, Session())]

    return asyncio.run(collect())


def cancelled_on_fal(photo: Path, **behaviour: Any) -> Run:
    """An Upscale on fal, cancelled while it runs (the page's Cancel cancels the Upscale event's task)."""
    async def run_then_cancel() -> None:
        running = upscale(image=str(photo), upscale_factor=2, engine="fal", session=Session())
        async for _, _, view in running:
            if view.stage == "running":
                break
        await running.aclose()  # what Gradio does to the event's generator on Cancel

    asyncio.run(run_then_cancel())
    run = store.store().runs(None, limit=1)[0]
    assert run.status == "cancelled"
    return run


def test_a_cancelled_local_run_fetched_reads_cancelled_not_failed(tmp_path: Path) -> None:
    # A user trial: fetching a local run they had cancelled showed "failed", a red "Cancelled by the user." toast
    # and an Error badge on the empty Output PNG box.
    run = Run(engine="local", model="fast", arguments={"upscale_factor": 2}, input_name="mytest.jpg",
              request_id="local-5f1c", status="cancelled", error="Cancelled by the user.")
    store.save(run)
    for asked in ("latest", "local-5f1c", run.id):
        *_, (png, result, view, note) = fetched(asked)  # raised nothing: no Error toast, no Error badge
        assert view.stage == "cancelled" and view.error is None and view.after is None and png is None
        assert note == "" and result["status"] == "cancelled"
        assert not any("Error" in line for line in view.lines), view.lines
        assert "Cancelled · request local-5f1c · recorded in the history." in view.lines[-1]
        # "latest" or a run id: the console names the run it found (it said only "Fetching request latest…")
        assert ("That is request local-5f1c (mytest.jpg)." in " ".join(view.lines)) is (asked != "local-5f1c")
    assert store.store().get(run.id).status == "cancelled"


def test_a_cancelled_fal_run_fetched_reads_cancelled_and_stays_cancelled(tmp_path: Path, fal_server, fal_key,
                                                                         monkeypatch) -> None:
    # Before, fal's refusal to give a cancelled request's result was shown as a failure, and the history's row
    # was rewritten as "failed".
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=50, run_time=20)
    photo = tmp_path / "mytest.png"
    Image.new("RGB", (32, 24), "teal").save(photo)
    run = cancelled_on_fal(photo)
    *_, (png, result, view, note) = fetched("latest")
    assert view.stage == "cancelled" and view.error is None and png is None and note == ""
    assert not any("Error" in line for line in view.lines), view.lines
    assert view.lines[-1].endswith(f"Cancelled · request {run.request_id} · recorded in the history.")
    again = store.store().get(run.id)
    assert again.status == "cancelled" and again.error == "Cancelled by the user." and result["status"] == "cancelled"


def test_a_fal_run_finished_before_its_cancel_arrived_is_fetched_completed(tmp_path: Path, fal_server, fal_key,
                                                                          monkeypatch) -> None:
    # The run is recorded cancelled, but fal finished it (and charged for it): the fetch shows and keeps its result,
    # and the record no longer says "Cancelled by the user." beside it.
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=3, run_time=1.0, ignore_cancel=True)
    photo = tmp_path / "mytest.png"
    Image.new("RGB", (32, 24), "teal").save(photo)
    run = cancelled_on_fal(photo)
    *_, (png, result, view, note) = fetched(run.request_id)
    assert view.stage == "done" and png is not None and Image.open(png).size == (64, 48)
    assert "Warning" not in view.details and "Cancelled" not in view.details
    again = store.store().get(run.id)
    assert again.status == "completed" and again.error is None and result["status"] == "completed"
