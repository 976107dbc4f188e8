"""Everything a script started is reachable by id (issue 26 §4), at the use-case layer every door calls
(``core/usecases/control.py``): its status, a cancel, a retry, a sweep's cells — and only the visitor's own. On a
shared app a stranger who knows a run id, a request id or a sweep id is told it is not in their history: they
can neither read, cancel nor retry it, and ``latest`` is always the caller's own newest."""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from components.common.session import Session
from core import schema
from core.errors import InputError, StudioError
from core.runs import store
from core.usecases import RetryRequest, RunRequest, SweepRequest, control, run_one, run_sweep
from core.usecases.estimate import dry_run
from core.usecases.quote import quote_sweep
from tests.followers import follow_until_running, retried, swept


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    path = tmp_path / "in.png"
    image = Image.radial_gradient("L").resize((48, 36)).convert("RGB")
    image.putpixel((0, 0), tuple(zlib.crc32(request.node.name.encode()).to_bytes(4, "big")[:3]))
    image.save(path)
    return str(path)



def _visitors(fal_key: str) -> tuple[Session, Session]:
    """Two strangers on a shared app, each paying with a key of their own (no Space budget in the way)."""
    return (Session(typed_key=fal_key, owner="alice-id", shared=True),
            Session(typed_key=fal_key, owner="bob-id", shared=True))


def _refused_to(stranger: Session, *ids: str) -> None:
    for wanted in ids:
        with pytest.raises(InputError, match="in your history"):
            control.status(wanted, stranger)
        with pytest.raises(InputError, match="in your history"):
            asyncio.run(control.cancel(wanted, stranger))
        with pytest.raises(InputError, match="in your history"):
            control.retry_request(wanted, stranger)


def test_a_script_cancels_its_own_run_by_id_from_elsewhere_and_retries_it(photo: str, fal_server, fal_key,
                                                                           monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    fal_server.set_default(queue_polls=1, run_polls=400, logs=["working"])
    alice, bob = _visitors(fal_key)

    async def go() -> tuple[dict[str, Any], dict[str, Any], BaseException | None, dict[str, Any]]:
        # the /upscale call a script made and is waiting on
        task, run = await follow_until_running(RunRequest({**schema.defaults(), "upscale_factor": 2}, photo, "fal"),
                                               alice)
        going = control.status(run.request_id, alice)  # by its request id: the same run
        for wanted in (run.id, run.request_id):
            with pytest.raises(InputError, match="in your history"):
                control.status(wanted, bob)
            with pytest.raises(InputError, match="in your history"):
                control.retry_request(wanted, bob)
            with pytest.raises(InputError, match="in your history"):
                await control.cancel(wanted, bob)
        assert control.status(run.id, alice)["status"] == "running"  # the stranger's cancel reached nothing
        after = await control.cancel(run.id, alice)  # another connection: not the follower's own cancel
        raised = None
        try:
            await task
        except BaseException as exc:  # noqa: BLE001 - what the script's waiting call got
            raised = exc
        return going, after, raised, {"run_id": run.id, "request_id": run.request_id}

    going, after, raised, ids = asyncio.run(go())
    assert going["run_id"] == ids["run_id"] and going["status"] == "running" and going["going"]
    assert after["status"] == "cancelled" and after["cancelled_now"] and not after["going"]
    assert fal_server.state(ids["request_id"]).cancel_received  # cancelled at fal, not only in the history
    assert isinstance(raised, StudioError) and "cancelled" in str(raised)  # the waiting call is told, cleanly
    assert store.store().get(ids["run_id"]).status == "cancelled"
    again = asyncio.run(control.cancel(ids["run_id"], alice))  # cancelling what has ended changes nothing
    assert again["status"] == "cancelled" and not again["cancelled_now"]

    fal_server.set_default(queue_polls=0, run_polls=1)
    asked = control.retry_request("latest", alice)  # her newest run: the cancelled one
    assert isinstance(asked, RunRequest) and asked.engine == "fal" and asked.image

    async def retried() -> Any:
        last = None
        async for update in run_one(asked, alice):
            last = update.run
        return last

    rerun = asyncio.run(retried())
    old = store.store().get(ids["run_id"])
    assert rerun.id != old.id and rerun.status == "completed" and rerun.arguments == old.arguments
    assert rerun.input_name == old.input_name == Path(photo).name  # the picture's own name, not its stored copy's
    assert Image.open(rerun.output_path).size == (96, 72)
    _refused_to(bob, rerun.id, rerun.request_id)
    with pytest.raises(InputError, match="no run in your history"):
        control.status("latest", bob)  # latest is always the caller's own


def test_a_sweep_by_id_its_cells_status_and_a_retry_of_its_failed_cell(photo: str, fal_server, fal_key,
                                                                       monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    fal_server.set_default(queue_polls=0, run_polls=1)
    fal_server.script(match={"creativity": 0.5}, times=1, result_status=422)  # that cell fails at fal, once
    alice, bob = _visitors(fal_key)
    request = SweepRequest({**schema.defaults(), "upscale_factor": 2}, photo, "fal", "creativity", "0.3, 0.5",
                           confirm=True)
    sweep_id = swept(request, alice)
    cells, summary = control.sweep_cells(sweep_id, alice)
    assert [label for label, _ in cells] == ["creativity=0.3", "creativity=0.5"]
    assert summary["counts"] == {"completed": 1, "failed": 1} and summary["status"] == "failed"
    assert control.status(sweep_id, alice) == summary == control.status("latest", alice)  # latest: her sweep
    assert control.status(cells[0][1].id, alice)["sweep_id"] == sweep_id
    _refused_to(bob, sweep_id)
    with pytest.raises(InputError, match="no sweep"):
        control.sweep_cells(sweep_id, bob)

    asked = control.retry_request(sweep_id, alice)
    assert isinstance(asked, RetryRequest)
    retried(asked, alice)
    cells, summary = control.sweep_cells(sweep_id, alice)
    assert summary["counts"] == {"completed": 2} and summary["status"] == "completed"
    assert all(run is not None and Path(run.output_path).is_file() for _, run in cells)
    # the retried cell is named by the sweep's picture, as its first cell is (a user trial: "image", and a search
    # for the picture's name missed it)
    assert {run.input_name for _, run in cells if run is not None} == {Path(photo).name}
    again = control.retry_request(sweep_id, alice)
    assert isinstance(again, RetryRequest) and control.to_retry(again) == 0  # nothing failed: nothing to run


def test_a_running_sweep_is_cancelled_by_its_id(photo: str, fal_server, fal_key, monkeypatch) -> None:
    fal_server.set_default(queue_polls=1, run_polls=400)
    alice = Session(typed_key=fal_key)
    request = SweepRequest({**schema.defaults(), "upscale_factor": 2}, photo, "fal", "creativity", "0.3, 0.5",
                           confirm=True)

    async def go() -> tuple[str, dict[str, Any], BaseException | None]:
        seen: dict[str, Any] = {}

        async def follow() -> None:
            async for progress in run_sweep(request, alice):
                seen["id"] = progress.plan.id
                if any(run.status == "running" for run in progress.runs.values()):
                    seen["running"] = True

        task = asyncio.ensure_future(follow())
        while "running" not in seen:
            await asyncio.sleep(0.05)
        with pytest.raises(InputError, match="still running"):
            control.retry_request(seen["id"], alice)
        after = await control.cancel(seen["id"], alice)
        try:
            await task
        except BaseException as exc:  # noqa: BLE001
            return seen["id"], after, exc
        return seen["id"], after, None

    sweep_id, after, raised = asyncio.run(go())
    assert after["cancelled_now"] and after["status"] == "cancelled" and not after["going"]
    runs = store.store().runs_for_sweep(sweep_id, None)
    assert runs and all(run.status == "cancelled" for run in runs)
    assert all(fal_server.state(run.request_id).cancel_received for run in runs if run.request_id)
    assert isinstance(raised, StudioError)

    fal_server.set_default(queue_polls=0, run_polls=1)
    asked = control.retry_request(sweep_id, alice)  # after Cancel all, its cells run again: none had finished
    assert isinstance(asked, RetryRequest) and control.to_retry(asked) == 2
    retried(asked, alice)
    cells, summary = control.sweep_cells(sweep_id, alice)
    assert summary["counts"] == {"completed": 2} and [label for label, _ in cells] == ["creativity=0.3",
                                                                                        "creativity=0.5"]


def test_a_dry_run_prices_the_grid_and_runs_nothing(photo: str, fal_server, fal_key, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    request = SweepRequest({**schema.defaults(), "upscale_factor": 2}, photo, "fal", "creativity", "0.3, 0.5, 0.7",
                           "upscale_factor", "2, 4", dry_run=True)
    priced = dry_run(request, Session())
    assert priced["cells"] == 6 and priced["dry_run"] is True
    # 48×36 at ×2 and ×4, three of each: 3 × (96·72 + 192·144) pixels
    assert priced["output_megapixels"] == pytest.approx(3 * (96 * 72 + 192 * 144) / 1e6, abs=1e-4)
    assert priced["price_usd"] > 0 and priced["labels"][0] == "creativity=0.3 · upscale_factor=2"
    assert fal_server.submits() == [] and store.store().count() == 0  # nothing sent, nothing recorded
    # Typed as /sweep_price types them: a yes/no with its reason apart, and a time's basis said even with no time.
    assert priced["needs_confirmation"] is False and priced["why_confirm"] is None
    assert priced["estimated_seconds"] is None
    assert priced["basis"] == "first run: no estimate (no finished run of fal yet)"
    bigger = dry_run(replace(request, x_values="0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0",
                             y_values="1, 2, 3, 4"), Session())
    assert bigger["needs_confirmation"] is True and "40 cells" in bigger["why_confirm"]
    with pytest.raises(InputError, match="dry_run must be true or false"):
        SweepRequest.checked({"x_values": "1", "dry_run": "true"})


def test_a_price_asked_with_no_key_for_fal_says_the_sweep_would_be_refused(photo: str, monkeypatch) -> None:
    """/sweep_price and a dry run answer what /sweep would do: with no fal key a fal sweep is refused, so they
    say so (in /sweep's words) instead of quoting it as if it could run."""
    monkeypatch.delenv("FAL_KEY", raising=False)
    request = SweepRequest({**schema.defaults(), "upscale_factor": 2}, photo, "fal", "creativity", "0.3, 0.5",
                           dry_run=True)
    quote = quote_sweep(request, Session()).as_json()
    priced = dry_run(request, Session())
    assert quote["refused"].startswith("No fal key") and priced["refused"] == quote["refused"]
    assert quote["price_usd"] > 0  # still priced: what it would cost with a key
    on_an_axis = replace(request, engine="local", x_axis="engine", x_values="local, fal")
    assert dry_run(on_an_axis, Session())["refused"].startswith("No fal key")  # a fal cell on an engine axis too
    free = dry_run(replace(request, engine="local", x_axis="upscale_factor", x_values="1, 2"), Session())
    assert free["refused"] is None


def test_what_this_process_does_not_run_is_not_cancelled_and_what_runs_is_not_retried() -> None:
    """A run the history says is still going but no task of this process runs (a fal request followed after a
    restart) is refused by name rather than reported cancelled; a run still going is not retried."""
    from core.runs.runs import Run

    visitor = Session()
    run = Run(engine="fal", arguments={"upscale_factor": 2}, status="running", request_id="req-elsewhere-1",
              input_path="/nowhere/in.png")
    store.save(run)
    with pytest.raises(InputError, match="not run by this app process"):
        asyncio.run(control.cancel(run.request_id, visitor))
    with pytest.raises(InputError, match="still running"):
        control.retry_request(run.id, visitor)
    assert store.store().get(run.id).status == "running"  # untouched


def test_a_sweep_in_the_bin_is_not_retried(photo: str) -> None:
    """Retry unfinished on a sweep deleted in History (the Sweep tab still showed it) made new runs of a sweep in
    the bin; it is refused, saying where the sweep is."""
    visitor = Session()
    sweep_id = swept(SweepRequest({}, photo, "lanczos", "upscale_factor", "1, 1.5"), visitor)
    asked = control.retry_request(sweep_id, visitor)
    assert isinstance(asked, RetryRequest)
    store.store().delete_sweep(sweep_id, visitor.scope())
    with pytest.raises(InputError, match=f"Sweep {sweep_id} is in the bin: put its runs back"):
        retried(asked, visitor)
    assert store.store().runs_for_sweep(sweep_id, visitor.scope()) == []  # nothing new was made
