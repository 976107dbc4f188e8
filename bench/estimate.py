"""Estimates that hold across repeated fal sweeps: the Sweep tab's pre-flight time against the time each takes.

At the app's default settings, as users run it: ``python app.py`` in a subprocess with ``FAL_KEY`` and no other
setting (no ``CLARITY_FAL_CONCURRENCY``: the account's concurrency is inferred), driven through its public API
(``gradio_client``) against the test fal server (fal's own host names through the tests' HTTPS proxy). The
server plays an account limit (at most N requests IN_PROGRESS, the rest IN_QUEUE) and a job time that varies
from cell to cell (``JOB_S`` ± ``SPREAD``), so no single figure fits.

For each account limit (2, then 10; each a new app and an empty data directory, as a new account): two
``/upscale`` runs on fal (a user's first runs), then the same 12-cell seed sweep three times in a row. Before each
sweep the estimate is read with the very use case the pre-flight line calls (``core.usecases.estimate``, on the
app's data directory, as a single-user page reads it); the ``/sweep`` call is timed from the client (upload,
cells, contact sheet, CSV, download). Each sweep teaches the next.

Run: python -m bench.estimate        (about three minutes)        Goal: estimate ÷ actual within 0.7–1.5 each.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# fal's host names → the test fal server (a local proxy and the test CA), before any httpx client is built.
from testsupport.fal_server import TEST_KEY, prepare_environment  # noqa: E402

ENVIRONMENT = prepare_environment()

from bench._common import machine, report  # noqa: E402

GOAL = (0.7, 1.5)
LIMITS = (2, 10)
SWEEPS = 3
CELLS = 12
JOB_S, SPREAD = 3.0, 0.4  # each fal job runs 1.8–4.2 s
SETTINGS = ("CLARITY_SWEEP_CONCURRENCY", "CLARITY_FAL_CONCURRENCY", "CLARITY_SHARED", "SPACE_ID",
            "CLARITY_MAX_SWEEP_CELLS", "CLARITY_FAL_TIMEOUT", "CLARITY_CONFIRM_CELLS", "CLARITY_CONFIRM_PRICE")


def photo(folder: Path) -> Path:
    from PIL import Image
    from skimage import data as samples

    path = folder / "astronaut.png"
    Image.fromarray(samples.astronaut()[:256, :256]).save(path)
    return path


def estimated(image: Path) -> tuple[float | None, str]:
    """The pre-flight's seconds and basis for the sweep, as the Sweep tab computes them (default parameters)."""
    from core import schema
    from core.usecases.estimate import estimate_sweep
    from core.usecases.sweep import SweepRequest

    parameters = {f.name: f.default for f in schema.PARAMETER_FIELDS}
    request = SweepRequest(parameters, str(image), "fal", "seed", f"1-{CELLS}")
    found = estimate_sweep(request, "", str(image), None)
    seconds = found.cost.estimated_seconds if found.cost else None
    return seconds, found.basis()


def series(server: Any, folder: Path, limit: int) -> list[dict[str, Any]]:
    from gradio_client import Client, handle_file

    from testsupport.apps import AppProcess

    data = folder / f"data-{limit}"
    os.environ["CLARITY_DATA_DIR"] = str(data)  # this process reads the app's history, as the page's handler does
    server.set_account_limit(limit)
    server.set_default(queue_polls=0, queue_wait=0.0, run_polls=0, run_time=JOB_S, run_time_spread=SPREAD, logs=())
    image = photo(folder)
    env = {"FAL_KEY": TEST_KEY, "GRADIO_TEMP_DIR": str(folder / "gradio"), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1"}
    app = AppProcess(data, env)
    sweeps: list[dict[str, Any]] = []
    try:
        app.wait_ready()
        client = Client(app.url, verbose=False)
        for _ in range(2):  # the warm-up: a user's first runs
            client.predict(image=handle_file(str(image)), engine="fal", api_name="/upscale")
        for number in range(1, SWEEPS + 1):
            seconds, basis = estimated(image)
            start = time.perf_counter()
            client.predict(handle_file(str(image)), "", engine="fal", x_axis="seed", x_values=f"1-{CELLS}",
                           y_axis="", y_values="", confirm=True, api_name="/sweep")
            actual = time.perf_counter() - start
            ratio = round(seconds / actual, 3) if seconds else None
            sweeps.append({"account_limit": limit, "sweep": number, "estimate_s": round(seconds or 0, 2),
                           "actual_s": round(actual, 2), "ratio": ratio, "basis": basis})
            print(sweeps[-1], flush=True)
        client.close()
    finally:
        app.stop()
    return sweeps


def main() -> dict[str, Any]:
    from testsupport.fal_server.server import FalServer

    for name in SETTINGS:  # the defaults users get: none of these set
        os.environ.pop(name, None)
    server = FalServer(ENVIRONMENT)
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="clarity-bench-estimate-") as folder:
            sweeps = [row for limit in LIMITS for row in series(server, Path(folder), limit)]
    finally:
        server.stop()
    ratios = {f"limit_{s['account_limit']}_sweep_{s['sweep']}": s["ratio"] for s in sweeps}
    met = all(r is not None and GOAL[0] <= r <= GOAL[1] for r in ratios.values())
    goals: dict[str, Any] = {f"ratios.{name}": {"goal": f">= {GOAL[0]}"} for name in ratios}
    goals["max_ratio"] = {"goal": f"<= {GOAL[1]}"}
    figures = {"settings": "app defaults (python app.py with FAL_KEY, no CLARITY_* setting)",
               "sweep": f"{CELLS} cells (seed 1-{CELLS}) of a 256×256 PNG at ×2",
               "job_s": f"{JOB_S} ± {SPREAD:.0%}", "warm_up": "2 /upscale runs on fal", "sweeps": sweeps,
               "ratios": ratios, "max_ratio": max(r or 0 for r in ratios.values()),
               "goal": f"{GOAL[0]}–{GOAL[1]}", "met": met, "goals": goals,
               "machine": machine()}
    report("estimate", figures)
    return figures


if __name__ == "__main__":
    main()
