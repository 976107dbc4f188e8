"""Every door into a run goes through the same use case (core/usecases/): the Upscale event (which is also the
public ``/upscale`` API), the sweep (``/sweep``), a retry of its failed cells, fetch (``/fetch``) and the resume at
start-up, and ``/retry`` (a run's own use case, or a sweep's retry). Each door is driven as a visitor or an API
caller would, and the use case it reached is counted."""

from __future__ import annotations

import asyncio
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from gradio_client import handle_file

from components.common import startup
from components.common.session import Session
from components.sweep import sweep_actions
from core import usecases
from core.runs import store
from tests.reliability import noise_png

USE_CASES = ("run_one", "run_sweep", "retry_cells", "fetch", "resume_pending")


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return noise_png(tmp_path / "door.png", (32, 24), seed=zlib.crc32(request.node.name.encode()))


@pytest.fixture
def reached(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each use case was called (the real one still runs)."""
    counts: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        if name == "resume_pending":
            def resume(*args: Any, **kwargs: Any) -> Any:
                counts[name] += 1
                return real(*args, **kwargs)
            return resume

        async def through(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            counts[name] += 1
            async for item in real(*args, **kwargs):
                yield item
        return through

    for name in USE_CASES:
        monkeypatch.setattr(usecases, name, counting(name, getattr(usecases, name)))
    return counts


def test_each_door_reaches_its_use_case(client, photo, reached) -> None:
    _, result = client.predict(handle_file(photo), "", engine="lanczos", upscale_factor=2, api_name="/upscale")
    assert reached == Counter(run_one=1)

    csv, _, summary = client.predict(handle_file(photo), None, engine="lanczos", x_axis="upscale_factor",
                                     x_values="1, 2", y_axis="", y_values="", api_name="/sweep")
    assert reached["run_sweep"] == 1 and reached["run_one"] == 1  # a sweep's cells are not runs of the form

    png, fetched = client.predict(result["run_id"], api_name="/fetch")  # a lanczos run id: from the history
    assert reached["fetch"] == 1 and fetched["run_id"] == result["run_id"] and Path(png).is_file()

    async def retried() -> sweep_actions.SweepView:
        steps = [step async for step in sweep_actions.sweep(image=photo, engine="lanczos", x_axis="upscale_factor",
                                                              x_values="1, 2", session=Session())]
        view = steps[-1][2]
        broken = next(iter(view.runs.values()))
        broken.status, broken.error = "failed", "made to fail by the test"
        store.save(broken)
        return [step async for step in sweep_actions.retry(view, Session())][-1][2]

    view = asyncio.run(retried())
    assert reached["retry_cells"] == 1 and all(run.status == "completed" for run in view.runs.values())

    startup.resume_pending_runs().join(30)
    assert reached == Counter(run_one=1, run_sweep=2, fetch=1, retry_cells=1, resume_pending=1)

    _, again = client.predict(result["run_id"], api_name="/retry")  # /retry of a run: the run's own use case
    assert reached["run_one"] == 2 and again["run_id"] != result["run_id"] and again["status"] == "completed"
    cell = store.store().runs_for_sweep(summary["sweep_id"], None)[0]
    cell.status, cell.error = "failed", "made to fail by the test"
    store.save(cell)
    _, state = client.predict(summary["sweep_id"], api_name="/retry")  # of a sweep: its failed cells'
    assert reached["retry_cells"] == 2 and state["retried"] == 1 and state["counts"] == {"completed": 2}


def test_latest_fetches_the_newest_run_from_the_page_box_as_from_the_api(tmp_path: Path) -> None:
    # Before, only /fetch read "latest"; the page's Fetch box refused it as an id not in the history.
    from components.upscale import fetch_panel
    from core.runs.runs import Run

    older = Run(engine="lanczos", arguments={"upscale_factor": 2}, owner="")
    newer = Run(engine="lanczos", arguments={"upscale_factor": 2}, owner="")
    for run, at in ((older, 1_000.0), (newer, 2_000.0)):
        output = noise_png(tmp_path / f"{run.id}.png", (8, 8), seed=int(at))
        run.status, run.output_path, run.width, run.height = "completed", output, 8, 8
        run.created_at, run.started_at, run.finished_at = at, at, at + 1
        store.save(run)

    async def fetched() -> list[Any]:
        return [shown async for shown in fetch_panel.fetch_request("latest", Session())]

    png, result, view, note = asyncio.run(fetched())[-1]
    assert result["run_id"] == newer.id and view.stage == "done" and png is not None and note == ""

    async def mistyped() -> list[Any]:
        return [shown async for shown in fetch_panel.fetch_request("nonsense-456", Session())]

    # A user trial: a mistyped id emptied the result on show and set the stage strip to "failed" though no run
    # failed. Refused before reaching a run, it is said beside the box only; the panel keeps what it shows.
    [(png, result, view, note)] = asyncio.run(mistyped())
    assert png == result == view == fetch_panel.gr.skip() and note.startswith("Warning:")
