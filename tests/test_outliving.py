"""A run outlives its page. Closing the tab — Gradio then closes the event's generator — or dropping an API
connection leaves a run, or a sweep, going to its end and into the history; only Cancel cancels."""

from __future__ import annotations

import asyncio
import zlib
from pathlib import Path

import pytest
from PIL import Image

from components.common.session import Session
from core import config, schema
from core.runs import store
from core.runs.runs import Run
from core.usecases import RunRequest, SweepRequest, run_one, run_sweep
from tests import browser_steps as steps
from tests.browser import browser_page, screenshot
from tests.followers import follow_until_running


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    path = tmp_path / "in.png"
    image = Image.radial_gradient("L").resize((48, 36)).convert("RGB")
    image.putpixel((0, 0), tuple(zlib.crc32(request.node.name.encode()).to_bytes(4, "big")[:3]))  # bytes of its own:
    # an upload fal has seen is not sent again (the app remembers uploads), and each test has its own fal server
    image.save(path)
    return str(path)


async def _ended(run_id: str, seconds: float = 60.0) -> Run:
    run = None
    for _ in range(int(seconds * 10)):
        run = store.store().get(run_id)
        if run is not None and run.final:
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} did not end: {run.status if run else 'no row'}")


def _request(photo: str, engine: str) -> RunRequest:
    return RunRequest({**schema.defaults(), "upscale_factor": 2}, photo, engine)


@pytest.mark.parametrize("engine", ["fal", "local", "lanczos"])
def test_a_run_whose_page_closes_goes_on_and_is_saved(engine: str, photo: str, fal_server, fal_key,
                                                      monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=15, logs=["working"])

    async def go() -> Run:
        updates = run_one(_request(photo, engine), Session())
        async for update in updates:
            if update.stage == "running":
                run_id = update.run.id
                await updates.aclose()  # what Gradio does to the event's generator when the tab is closed
                break
        return await _ended(run_id)

    run = asyncio.run(go())
    assert run.status == "completed" and run.output_path and Path(run.output_path).is_file()
    assert Image.open(run.output_path).size == (96, 72)
    if engine == "fal":  # the paid request was neither cancelled nor lost
        assert not fal_server.state(run.request_id).cancel_received


def test_cancel_still_cancels_and_is_recorded_before_it_returns(photo: str, fal_server, fal_key,
                                                                monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=400, logs=["working"])

    async def go() -> Run:
        task, run = await follow_until_running(_request(photo, "fal"), Session())
        task.cancel()  # the Cancel button: Gradio cancels the event's task
        with pytest.raises(asyncio.CancelledError):
            await task
        return store.store().get(run.id)

    run = asyncio.run(go())
    assert run.status == "cancelled"  # recorded by the time the cancel returned
    assert fal_server.state(run.request_id).cancel_received


def test_a_sweep_whose_page_closes_finishes_every_cell_and_its_sheet(photo: str, fal_server, fal_key,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=15)

    async def go() -> str:
        request = SweepRequest({**schema.defaults(), "upscale_factor": 2}, photo, "fal", "creativity", "0.3, 0.5")
        updates = run_sweep(request, Session())
        async for progress in updates:
            sweep_id = progress.plan.id
            await updates.aclose()
            break
        sheet = config.data_dir() / "sweeps" / sweep_id / "cells.csv"
        for _ in range(600):
            if sheet.is_file():
                return sweep_id
            await asyncio.sleep(0.1)
        raise AssertionError("the sweep's CSV was never written")

    sweep_id = asyncio.run(go())
    cells = store.store().runs_for_sweep(sweep_id, None)
    assert len(cells) == 2 and all(run.status == "completed" for run in cells), [run.error for run in cells]
    assert not any(fal_server.state(run.request_id).cancel_received for run in cells)


@pytest.mark.browser
def test_closing_the_tab_mid_run_keeps_the_result_in_the_history(studio, photo: str, fal_server, fal_key,
                                                                 monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=40, run_time=3.0, logs=["working"])
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#engine").get_by_text("fal", exact=True).click()
        steps.upload(page, photo)
        page.locator("#run-button").click()
        steps.wait_console(page, "working")
        page.close()  # the visitor closes the tab while fal is still working
    runs = store.store().runs(None)
    assert len(runs) == 1
    run = asyncio.run(_ended(runs[0].id))
    assert run.status == "completed" and Path(run.output_path or "").is_file(), run.error
    assert not fal_server.state(run.request_id).cancel_received
    with browser_page(1366, 900) as page:  # back later: the run is in the History tab
        steps.open_app(page, studio)
        steps.open_tab(page, "History")
        page.locator("#history-table [role=row].virtual-row").first.wait_for()
        assert "completed" in steps.table_column(page, "history-table", "status")
        screenshot(page, "closed-tab-run-in-history")
