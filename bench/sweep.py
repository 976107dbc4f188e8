"""A 9-cell sweep against the test fal server: does running cells concurrently cost more than one job?

Every job takes a fixed 2 s on the server (``run_time=2``, no queue wait). The sweep goes through
``core.sweep_run.run_plan`` with concurrency 9 — the same path as the app: upload once, submit, poll, download,
save each Run in a real history. Figure of merit: sweep wall time ÷ one job's wall time (same run, same path).
Goal ≤ 1.15. Run: ``python bench/sweep.py``.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# fal's host names → the test fal server (a local proxy and the test CA), before any httpx client is built.
from tests.fal_server import TEST_KEY, prepare_environment  # noqa: E402

ENVIRONMENT = prepare_environment()

from bench._common import machine, report  # noqa: E402

JOB_SECONDS = 2.0
GOAL = 1.15


async def wall(plan, engine, history, image_path: str, concurrency: int) -> tuple[float, dict]:
    from core.sweep import sweep_run

    start = time.perf_counter()
    runs = await sweep_run.run_plan(plan, engine, save=history.save, image_path=image_path, concurrency=concurrency)
    return time.perf_counter() - start, runs


async def measure() -> dict:
    from PIL import Image

    from core.engines.fal import FalEngine
    from core.inputs import images
    from core.runs.history import History
    from core.sweep.plan import plan_grid
    from tests.fal_server.server import FalServer

    server = FalServer(ENVIRONMENT)
    server.start()
    try:
        server.set_default(queue_polls=0, queue_wait=0.0, run_polls=0, run_time=JOB_SECONDS, logs=())
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), "teal").save(buffer, format="PNG")
        image_path = images.load_bytes(buffer.getvalue()).path
        engine, history = FalEngine(TEST_KEY), History(Path(os.environ["CLARITY_DATA_DIR"]) / "history.sqlite3")
        single = plan_grid({}, "creativity", [0.35])
        await wall(single, engine, history, image_path, 1)  # warm-up: TLS, upload, first download
        one, runs = await wall(plan_grid({}, "creativity", [0.35]), engine, history, image_path, 1)
        grid = plan_grid({}, "creativity", [0.2, 0.35, 0.5], "resemblance", [0.4, 0.6, 0.8])
        nine, grid_runs = await wall(grid, engine, history, image_path, 9)
        statuses = [run.status for run in [*runs.values(), *grid_runs.values()]]
        assert statuses == ["completed"] * 10, statuses
        starts = sorted(run.started_at - grid_runs[(0, 0)].created_at for run in grid_runs.values())
        history.close()
    finally:
        server.stop()
    return {"cells": 9, "concurrency": 9, "job_seconds_on_server": JOB_SECONDS, "one_job_wall_s": round(one, 3),
            "sweep_wall_s": round(nine, 3), "ratio": round(nine / one, 3), "goal": GOAL,
            "met": nine / one <= GOAL, "last_cell_started_after_s": round(starts[-1], 3),
            "uploads": len(server.uploads()), "machine": machine()}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CLARITY_DATA_DIR"] = folder
        figures = asyncio.run(measure())
    report("sweep", figures)


if __name__ == "__main__":
    main()
