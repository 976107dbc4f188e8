"""Estimates that hold: the Sweep tab's pre-flight time against the time the sweep then takes.

The app is started the way users start it (``python app.py`` in a subprocess, default settings, no key: the local
engine, its default fast model, an empty data directory). Its history is warmed with two ``/upscale`` runs
through the public API (``gradio_client``). Then for sweeps of 2, 4 and 6 cells on a 512×512 photo, the estimate
is read with the very function the pre-flight line calls (``components.sweep.sweep_preflight.estimate``, on the app's
data directory, as a single-user page reads it), and the ``/sweep`` call is timed from the client (upload,
cells, contact sheet, CSV, download). Each sweep's own record teaches the next one the time around its cells.

Run: python -m bench.estimate        (about a minute)        Goal: estimate ÷ actual within 0.7–1.5 per sweep.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import report, stop  # noqa: E402
from bench.startup import environment, first_ok, free_port  # noqa: E402

GOAL = (0.7, 1.5)
SWEEPS = (("upscale_factor", "1.5, 2", "", ""), ("upscale_factor", "1, 2, 3, 4", "", ""),
          ("upscale_factor", "2, 2.5", "seed", "1-3"))


def photo(folder: Path) -> Path:
    from PIL import Image
    from skimage import data as samples

    path = folder / "astronaut.png"
    Image.fromarray(samples.astronaut()[:512, :512]).save(path)
    return path


def estimated(path: Path, x_axis: str, x_values: str, y_axis: str, y_values: str) -> tuple[float | None, str]:
    """The pre-flight's seconds and its line, as the page computes them for this form (default parameters)."""
    from components.common.session import Session
    from components.sweep import sweep_preflight
    from core import schema
    from core.inputs.images import InputImage

    form: dict[str, Any] = {f.name: f.default for f in schema.PARAMETER_FIELDS}
    form |= {"loaded": InputImage(str(path), 512, 512, "bench"), "engine": "local", "x_axis": x_axis,
             "x_values": x_values, "y_axis": y_axis, "y_values": y_values, "session": Session()}
    names = {key: key for key in form}
    _, cost, _ = sweep_preflight.estimate(sweep_preflight._form(names, form), "")
    return (cost.estimated_seconds if cost else None), sweep_preflight.preflight(names, form)[0]


def measure(folder: Path) -> dict[str, Any]:
    from gradio_client import Client, handle_file

    data, port = folder / "data", free_port()
    env = environment(str(data), port)
    os.environ["CLARITY_DATA_DIR"] = str(data)  # this process reads the app's history, as the page's handler does
    image = photo(folder)
    process = subprocess.Popen([sys.executable, "app.py"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        first_ok(url, process, time.monotonic())
        client = Client(url, verbose=False)
        for factor in (2.0, 3.0):  # the warm-up: a user's first runs
            client.predict(image=handle_file(str(image)), upscale_factor=factor, api_name="/upscale")
        sweeps: list[dict[str, Any]] = []
        for x_axis, x_values, y_axis, y_values in SWEEPS:
            seconds, line = estimated(image, x_axis, x_values, y_axis, y_values)
            start = time.perf_counter()
            client.predict(image=handle_file(str(image)), engine="local", x_axis=x_axis, x_values=x_values,
                           y_axis=y_axis, y_values=y_values, api_name="/sweep")
            actual = time.perf_counter() - start
            ratio = seconds / actual if seconds else None
            sweeps.append({"x": f"{x_axis}={x_values}", "y": f"{y_axis}={y_values}" if y_axis else "",
                           "estimate_s": round(seconds, 2) if seconds else None, "actual_s": round(actual, 2),
                           "ratio": round(ratio, 3) if ratio else None, "preflight": line})
        client.close()
    finally:
        stop(process)
    ratios = [s["ratio"] for s in sweeps]
    met = all(r is not None and GOAL[0] <= r <= GOAL[1] for r in ratios)
    goals = {f"sweeps.{i}.ratio": {"goal": f">= {GOAL[0]}", "met": bool(r and r >= GOAL[0])}
             for i, r in enumerate(ratios)}
    goals |= {"max_ratio": {"goal": f"<= {GOAL[1]}", "met": max(r or 0 for r in ratios) <= GOAL[1]}}
    return {"engine": "local (fast, the default)", "input": "512×512 PNG", "warm_up": "2 /upscale runs (×2, ×3)",
            "sweeps": sweeps, "ratios": ratios, "max_ratio": max(r or 0 for r in ratios),
            "goal": f"{GOAL[0]}–{GOAL[1]}", "met": met, "goals": goals}


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        figures = measure(Path(folder))
    report("estimate", figures)
    return figures


if __name__ == "__main__":
    main()
