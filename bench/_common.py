"""Shared by the benchmarks: time a call, read memory, print the figures and keep them as JSON.

Each benchmark ends with ``report("<name>", figures)``, which prints one aligned line per figure and writes
``bench/results/<name>.json`` so numbers can be compared across commits.
"""

from __future__ import annotations

import json
import platform
import resource
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:  # so `python bench/<name>.py` imports core/ like `python -m bench.<name>`
    sys.path.insert(0, str(ROOT))


def timed(action: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """The best wall time in seconds over ``repeat`` calls, and the last call's return value."""
    best, value = float("inf"), None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        value = action()
        best = min(best, time.perf_counter() - start)
    return best, value


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (``ru_maxrss`` is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def stop(process: Any) -> None:
    """End a server process started by a benchmark: politely, then for sure."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"python": platform.python_version(), "machine": platform.machine(), "cores": cores,
            "processor": platform.processor() or platform.machine()}


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    return str(value)


def report(name: str, figures: dict[str, Any]) -> Path:
    """Print ``figures`` (one ``key: value`` line each) and write them to ``bench/results/<name>.json``."""
    figures = {**figures, "machine": figures.get("machine", machine()),
               "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    width = max(len(key) for key in figures)
    print(f"== {name} ==")
    for key, value in figures.items():
        print(f"{key:<{width}}  {_show(value)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(f"written to {path.relative_to(ROOT)}")
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_app() -> tuple[Any, str]:
    """``app.build()`` launched in this process at its defaults; returns ``(demo, base_url)``."""
    import app

    demo = app.build()
    port = free_port()
    app.launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    return demo, f"http://127.0.0.1:{port}/"


def upload_once() -> None:
    """Make gradio_client upload a given file once and reuse its server path, as a browser does."""
    from gradio_client.client import Endpoint

    original = Endpoint._upload_file
    cache: dict[str, dict[str, Any]] = {}

    def cached(self, f: dict, data_index: int) -> dict[str, Any]:
        if f["path"] not in cache:
            cache[f["path"]] = original(self, f, data_index)
        return dict(cache[f["path"]])

    Endpoint._upload_file = cached
