"""Times that mean what they say (issue 23 §6): a run records the seconds it waited (queued) and the seconds the
engine ran it (IN_PROGRESS → COMPLETED) apart; old history rows keep working; the estimates learn a fal cell's
running time — never its wait in fal's queue or its download — and the account's concurrency from how many
requests fal ran at once (or ``CLARITY_FAL_CONCURRENCY``); the sweep's cell table shows running seconds."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from components.sweep.sweep_actions import SweepView
from components.sweep.sweep_views import render_grid
from core.engines.fal import FalEngine
from core.runs import store
from core.runs.history import COLUMNS, History
from core.runs.runner import execute
from core.runs.runs import Run
from core.sweep import estimate
from core.sweep.plan import plan_grid


def test_a_fal_run_records_its_wait_and_its_running_apart(tmp_path: Path, fal_server, fal_key) -> None:
    image = tmp_path / "in.png"
    Image.new("RGB", (8, 6), "teal").save(image)
    fal_server.set_default(queue_polls=1, queue_wait=0.8, run_polls=1, run_time=0.3, logs=())
    history = History(tmp_path / "history.sqlite3", tmp_path)
    run = Run(engine="fal", arguments={"upscale_factor": 2.0})

    async def go() -> None:
        async for _ in execute(FalEngine(fal_key), run, str(image), history.save):
            pass

    asyncio.run(go())
    stored = history.get(run.id)
    assert stored.status == "completed"
    assert stored.queued_seconds is not None and stored.queued_seconds >= 0.8  # fal held it IN_QUEUE that long
    assert stored.running_seconds is not None and stored.running_seconds >= 0.3  # and ran it that long
    assert stored.queued_seconds + stored.running_seconds <= stored.finished_at - stored.created_at + 1e-6


def test_old_history_rows_are_kept_and_read_when_the_new_columns_arrive(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    old = [c for c in COLUMNS if c not in ("queued_seconds", "running_seconds")]
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE runs ({', '.join(c + (' TEXT PRIMARY KEY' if c == 'id' else '') for c in old)})")
        values = {"id": "old1", "engine": "fal", "status": "completed", "owner": "", "created_at": 100.0,
                  "started_at": 130.0, "finished_at": 140.0, "timings": "{}"}
        conn.execute(f"INSERT INTO runs ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                     list(values.values()))
    history = History(path, tmp_path)
    kept = history.get("old1")
    assert kept is not None and (kept.queued_seconds, kept.running_seconds) == (30.0, 10.0)  # filled in once,
    assert (kept.queue_seconds, kept.engine_seconds) == (30.0, 10.0)  # from its times, as they were read before
    history.save(Run(engine="fal", arguments={}, id="new1", queued_seconds=2.0, running_seconds=5.0))
    assert (history.get("new1").queued_seconds, history.get("new1").running_seconds) == (2.0, 5.0)


def fal_run(start: float, running: float, after: float = 0.0, *, submitted: float | None = None,
            megapixels: float = 1.0, owner: str = "") -> Run:
    side = round((megapixels * 1e6) ** 0.5)
    created = start if submitted is None else submitted
    return Run(engine="fal", arguments={}, owner=owner, status="completed", created_at=created, started_at=start,
               finished_at=start + running + after, queued_seconds=start - created, running_seconds=running,
               width=side, height=side)


def test_the_rate_is_fals_running_time_not_its_queue_nor_the_download() -> None:
    history = store.store()
    for wave in range(6):  # 12 cells submitted together at t=0, two running at a time for 8 s, slow downloads
        for _ in range(2):
            history.save(fal_run(start=8.0 * wave, running=8.0, after=20.0, submitted=0.0))
    found = estimate.rates(history, "fal", None, None)
    assert found is not None and found.seconds_per_megapixel == pytest.approx(8.0, abs=0.01)
    assert "8.00 s running per output MP" in found.basis()


def test_the_concurrency_is_what_fal_ran_at_once_not_what_was_submitted_or_downloading() -> None:
    history = store.store()
    for wave in range(6):  # limit 2: waves of two; each download overlaps the next wave's running
        for _ in range(2):
            history.save(fal_run(start=8.0 * wave, running=8.0, after=5.0, submitted=0.0))
    assert estimate.observed_concurrency(history, "fal", None) == 2
    assert estimate.workers(history, "fal", None, 12) == 2


def test_single_runs_show_no_limit_so_a_sweep_assumes_fals_new_account_limit() -> None:
    history = store.store()
    for number in range(3):  # one at a time: fal ran one because only one was asked for
        history.save(fal_run(start=100.0 * number, running=8.0))
    assert estimate.observed_concurrency(history, "fal", None) == 1
    assert estimate.workers(history, "fal", None, 12) == estimate.NEW_ACCOUNT_CONCURRENCY


def test_a_stated_account_concurrency_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    history = store.store()
    history.save(fal_run(start=0.0, running=8.0))
    monkeypatch.setenv("CLARITY_FAL_CONCURRENCY", "7")
    assert estimate.workers(history, "fal", None, 12) == 7 and estimate.workers(history, "fal", None, 3) == 3
    for wrong in ("", "0", "many"):
        monkeypatch.setenv("CLARITY_FAL_CONCURRENCY", wrong)
        assert estimate.workers(history, "fal", None, 12) == estimate.NEW_ACCOUNT_CONCURRENCY
    monkeypatch.setenv("CLARITY_FAL_CONCURRENCY", "7")
    monkeypatch.setenv("CLARITY_SWEEP_CONCURRENCY", "3")  # the app's own ceiling still holds
    assert estimate.workers(history, "fal", None, 12) == 3


def test_the_cell_table_shows_running_seconds_not_the_time_since_submit() -> None:
    plan = plan_grid({}, "seed", [1, 2])
    runs = {plan.cells[0].key: fal_run(start=40.0, running=8.5, after=1.0, submitted=0.0)}
    table = render_grid(SweepView(plan, runs, "fal"))[2]
    row = table.value["data"][0]
    headers = table.value["headers"]
    assert row[headers.index("running (s)")] == 8.5 and row[headers.index("queued (s)")] == 40.0


def test_the_preflight_says_where_its_cells_at_once_come_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from components.sweep import sweep_preflight
    from core.inputs.images import InputImage

    monkeypatch.delenv("CLARITY_SWEEP_CONCURRENCY", raising=False)
    monkeypatch.delenv("CLARITY_FAL_CONCURRENCY", raising=False)
    path = tmp_path / "in.png"
    Image.new("RGB", (500, 500)).save(path)
    form = {"loaded": InputImage(str(path), 500, 500, "d"), "engine": "fal", "x_axis": "seed", "x_values": "1-12",
            "y_axis": "", "upscale_factor": 2.0, "prompt": "a", "negative_prompt": "b"}

    def line() -> str:
        return sweep_preflight.preflight({key: key for key in form}, form)[0]

    history = store.store()
    history.save(fal_run(start=0.0, running=4.0))  # one run alone shows no limit
    assert "2 cells at once (assumed: a new account's limit, none higher seen yet)" in line()
    for _ in range(5):
        history.save(fal_run(start=100.0, running=4.0))  # five ran at once: the account allows five
    assert "5 cells at once (as seen in your runs)" in line() and "about 12 s" in line()  # 3 waves of 4 s
    monkeypatch.setenv("CLARITY_FAL_CONCURRENCY", "12")
    assert "12 cells at once" in line()
    assert "cells at once (" not in line() and "about 4 s" in line()  # all at once: no waves to explain


def test_the_test_fal_servers_jobs_vary_by_the_spread_asked_for() -> None:
    from testsupport.fal_server.jobs import DEFAULT_BEHAVIOUR, Job

    behaviour = {**DEFAULT_BEHAVIOUR, "run_time": 2.0, "run_time_spread": 0.5}
    times = [Job(f"r{n}", {}, behaviour, (200, {})).run_time for n in range(20)]
    assert all(1.0 <= t <= 3.0 for t in times) and len(set(times)) > 1  # no one figure an estimate could fit
    assert Job("fixed", {}, {**DEFAULT_BEHAVIOUR, "run_time": 2.0}, (200, {})).run_time == 2.0
