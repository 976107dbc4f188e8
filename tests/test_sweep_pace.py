"""Sweeps at fal's pace: every cell in fal's queue at once, submits that survive a 429 storm, polling that stays
light for a sweep while the interactive run keeps its fast console."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from core.engines import pacing
from core.engines.fal import FalEngine
from core.sweep import sweep_run
from core.sweep.plan import plan_grid
from tests.test_sweep_run import input_image

FAST_JOB = {"queue_polls": 0, "run_polls": 0, "logs": ()}


def _sweep(engine: FalEngine, cells: int, **options):
    plan = plan_grid({}, "seed", list(range(cells)))
    start = time.monotonic()
    runs = asyncio.run(sweep_run.run_plan(plan, engine, image_path=input_image(), **options))
    return runs, time.monotonic() - start


def _status_requests(fal_server) -> Counter:
    return Counter(r.path.rsplit("/", 2)[-2] for r in fal_server.requests if r.path.endswith("/status"))


def test_a_fal_sweep_at_default_settings_hands_every_cell_to_fals_queue(fal_server, fal_key, monkeypatch):
    monkeypatch.delenv("CLARITY_SWEEP_CONCURRENCY", raising=False)
    fal_server.set_default(run_time=1.0, **FAST_JOB)
    runs, _ = _sweep(FalEngine(fal_key), 8)
    assert {run.status for run in runs.values()} == {"completed"}
    assert fal_server.peak_in_progress == 8  # nothing held back by the app


def test_clarity_sweep_concurrency_is_an_optional_ceiling(fal_server, fal_key, monkeypatch):
    assert sweep_run.concurrency_for("fal", 24) == 24 and sweep_run.concurrency_for("local", 24) == 1
    monkeypatch.setenv("CLARITY_SWEEP_CONCURRENCY", "3")
    assert sweep_run.concurrency_for("fal", 24) == 3 and sweep_run.concurrency_for("fal", 2) == 2
    fal_server.set_default(run_time=0.3, **FAST_JOB)
    _sweep(FalEngine(fal_key), 6)
    assert fal_server.peak_in_progress == 3


def test_a_sweep_against_an_account_limit_polls_lightly_and_keeps_fals_pace(fal_server, fal_key, monkeypatch):
    monkeypatch.delenv("CLARITY_SWEEP_CONCURRENCY", raising=False)
    fal_server.set_account_limit(3)
    fal_server.set_default(run_time=1.0, **FAST_JOB)
    runs, wall = _sweep(FalEngine(fal_key), 12)  # 4 waves of 1 s
    assert {run.status for run in runs.values()} == {"completed"}
    assert fal_server.peak_in_progress == 3
    polls = _status_requests(fal_server)
    assert sum(polls.values()) / wall <= 40, polls  # at fal_client's 0.1 s it is ~ 12 cells × 10 a second
    assert max(polls.values()) <= 4 * 5, polls  # no cell more than 4 a second
    assert wall <= 4 * 1.0 * 1.25 + 0.5  # within reach of ceil(12 / 3) waves


def test_the_interactive_run_keeps_its_fast_console_and_a_sweep_slows_down(fal_server, fal_key):
    fal_server.set_default(run_time=0.6, **FAST_JOB)
    engine = FalEngine(fal_key)

    async def polls(pace: pacing.Pace | None) -> int:
        if pace is None:
            job = await engine.submit({"image_url": "https://v3.fal.media/files/x.png"})
        else:
            with pacing.paced(pace):
                job = await engine.submit({"image_url": "https://v3.fal.media/files/x.png"})
        async for _ in job.events():
            pass
        return fal_server.state(job.request_id).polls

    assert asyncio.run(polls(None)) >= 5  # fal_client's 0.1 s
    assert asyncio.run(polls(pacing.SWEEP)) <= 4  # 0.25 s while running


def test_the_sweep_pace_is_slow_in_the_queue_fast_when_running_and_backs_off_for_long_jobs():
    pace = pacing.SWEEP
    assert pace.interval(None, 0) >= 1.0 and pace.interval(None, 50) > pace.interval(None, 0)  # ≤ 1 a second
    assert pace.interval(0.0) >= 0.25 and pace.interval(0.0) < 0.5  # ≤ 4 a second
    assert pace.interval(120.0) > pace.interval(1.0)
    assert all(0.25 <= pacing.backoff(n, 0.5) <= 30 for n in range(1, 20))
    assert len({round(pacing.backoff(1), 6) for _ in range(10)}) > 1  # jittered


@pytest.mark.timeout(120)
def test_a_429_storm_during_submission_fails_no_cell(fal_server, fal_key, monkeypatch):
    monkeypatch.delenv("CLARITY_SWEEP_CONCURRENCY", raising=False)
    # one cell meets more 429s than fal_client's own ten attempts; the others meet a storm it rides out itself
    fal_server.script(match={"seed": 3}, times=11, submit_status=429)
    fal_server.script(times=16, submit_status=429)
    fal_server.set_default(run_time=0.2, **FAST_JOB)
    engine = FalEngine(fal_key)
    engine.submit_backoff = 0.05
    runs, _ = _sweep(engine, 8)
    assert {run.status for run in runs.values()} == {"completed"}, [r.error for r in runs.values()]
    assert sum(1 for r in fal_server.submits()) == 8 + 11 + 16
