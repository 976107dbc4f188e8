"""One run from submit to a stamped PNG: the record stays truthful whatever happens on the way."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image

from core import pnginfo
from core.engines.fal import FalEngine
from core.runs.history import History
from core.runs.runner import execute
from core.runs.runs import Run


def run_once(engine, run: Run, image: str, history: History) -> list:
    async def go() -> list:
        return [update async for update in execute(engine, run, image, history.save)]

    return asyncio.run(go())


def test_a_failed_download_keeps_the_remote_url_and_says_so(tmp_path: Path, fal_server, fal_key) -> None:
    image = tmp_path / "in.png"
    Image.new("RGB", (8, 8), "teal").save(image)
    missing = f"{fal_server.url}/files/expired-output.png"
    output = {"image": {"url": missing, "content_type": "image/png", "width": 16, "height": 16}, "seed": 3}
    fal_server.set_default(result_status=200, result_body=output)
    history = History(tmp_path / "history.sqlite3", tmp_path)
    run = Run(engine="fal", arguments={"upscale_factor": 2.0})
    updates = run_once(FalEngine(fal_key), run, str(image), history)
    stored = history.get(run.id)
    assert stored.result_url == missing and stored.output_path is None
    assert missing in stored.error and "could not be downloaded" in stored.error
    assert any("could not be downloaded" in getattr(event, "text", "") for u in updates for event in u.events)


def test_a_completed_run_is_downloaded_and_stamped(tmp_path: Path, fal_server, fal_key) -> None:
    image = tmp_path / "in.png"
    Image.new("RGB", (8, 6), "teal").save(image)
    history = History(tmp_path / "history.sqlite3", tmp_path)
    run = Run(engine="fal", arguments={"upscale_factor": 2.0, "seed": 12, "creativity": 0.5})
    run_once(FalEngine(fal_key), run, str(image), history)
    stored = history.get(run.id)
    assert stored.status == "completed" and Path(stored.output_path).is_file()
    assert pnginfo.read_png_info(stored.output_path)["creativity"] == 0.5
    assert pnginfo.read_png_metadata(stored.output_path)["request_id"] == stored.request_id
    assert stored.started_at and stored.finished_at and stored.finished_at >= stored.started_at


def test_a_page_closed_while_the_result_is_fetched_leaves_the_run_on_fal(tmp_path: Path, fal_server, fal_key) -> None:
    """A page that goes away while it is told "downloading" (Gradio closes the generator): fal is not told to cancel,
    and the run can be resumed by its id."""
    image = tmp_path / "in.png"
    Image.new("RGB", (8, 8), "teal").save(image)
    history = History(tmp_path / "history.sqlite3", tmp_path)
    run = Run(engine="fal", arguments={"upscale_factor": 2.0})

    async def go() -> None:
        updates = execute(FalEngine(fal_key), run, str(image), history.save)
        async for update in updates:
            if update.stage == "downloading":
                await updates.aclose()
                break
        await asyncio.sleep(0.3)  # time for a stray cancel or download to happen

    asyncio.run(go())
    stored = history.get(run.id)
    assert stored.request_id and not fal_server.state(stored.request_id).cancel_received
    assert stored.status == "running" and stored.output_path is None  # resumable: core/runs/resume.py


class _LateJob:
    """A job whose only status is its completion after 2 s of inference: the runner hears of it at the end."""

    request_id, arguments = "late-1", {}

    def __init__(self, output: Path) -> None:
        self.output = output

    async def events(self):
        from fal_client import Completed

        yield Completed(logs=[], metrics={"inference_time": 2.0})

    async def result(self) -> dict:
        return {"image": {"url": str(self.output), "content_type": "image/png", "width": 8, "height": 6}, "seed": 5}

    async def cancel(self) -> None:
        return None


class _LateEngine:
    name = "local"

    def __init__(self, output: Path) -> None:
        self.output = output

    async def submit(self, arguments, image_path=None, **options):
        return _LateJob(self.output)


def test_a_run_never_lasts_less_than_its_engines_inference(tmp_path: Path) -> None:
    """A user trial saw 'inference_time=0.449' and then 'Done in 0.38 s': the run's start was when the first
    status reached the runner, not when the engine began."""
    image, output = tmp_path / "in.png", tmp_path / "out.png"
    Image.new("RGB", (4, 3), "teal").save(image)
    Image.new("RGB", (8, 6), "teal").save(output)
    history = History(tmp_path / "history.sqlite3", tmp_path)
    run = Run(engine="local", arguments={"upscale_factor": 2.0})
    updates = run_once(_LateEngine(output), run, str(image), history)
    done = [event for u in updates for event in u.events if type(event).__name__ == "Done"]
    assert done and done[0].seconds >= 2.0
    assert history.get(run.id).run_seconds >= 2.0


def test_the_details_line_says_a_fast_runs_time_as_the_console_does() -> None:
    """'run 0.4 s · timings inference 0.44 s' read as a run shorter than its inference (a user trial)."""
    from components.upscale.result import details_markdown

    run = Run(engine="local", arguments={"upscale_factor": 2.0}, status="completed", seed=1, width=8, height=6)
    run.created_at, run.started_at, run.finished_at = 100.0, 100.0, 100.46
    run.timings = {"inference": 0.44}
    assert "**running** 0.46 s" in details_markdown(run)
