"""Start-up: ``python app.py`` to its first HTTP 200, against a bare ``python -c "import gradio"``.

Both are measured in this run, interleaved, three times each (median), in fresh processes with an empty data
directory and Gradio's analytics off (as the tests run it; no network here). The ratio says what the app adds
on top of the import of Gradio that any Gradio app pays.

Run: python -m bench.startup        (about a minute)        Goal: ratio ≤ 1.5.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import free_port, report, stop  # noqa: E402

REPEAT = 3
GOAL_RATIO = 1.5
TIMEOUT_S = 120.0



def environment(data_dir: str, port: int | None = None) -> dict[str, str]:
    env = {**os.environ, "CLARITY_DATA_DIR": data_dir, "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "CLARITY_SHARED", "SPACE_ID"):
        env.pop(name, None)
    if port is not None:
        env["GRADIO_SERVER_PORT"] = str(port)
        env["GRADIO_SERVER_NAME"] = "127.0.0.1"
    return env


def import_gradio() -> tuple[float, float]:
    """Wall and CPU seconds for a fresh interpreter to import gradio and exit."""
    with tempfile.TemporaryDirectory() as data:
        start = time.monotonic()
        process = subprocess.Popen([sys.executable, "-c", "import gradio"], env=environment(data), cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise RuntimeError(f"import gradio failed with code {process.returncode}")
        return time.monotonic() - start, usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_ok(url: str, process: subprocess.Popen, started: float) -> float:
    while time.monotonic() - started < TIMEOUT_S:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.01)
    raise TimeoutError(f"app.py did not answer {url} within {TIMEOUT_S:g} s")


def app_start() -> tuple[float, float]:
    """Wall and CPU seconds from ``python app.py`` to the first 200 on ``/``; the process is then stopped."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        start = time.monotonic()
        process = subprocess.Popen([sys.executable, "app.py"], env=environment(data, port), cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wall = first_ok(f"http://127.0.0.1:{port}/", process, start)
            return wall, cpu_seconds(process.pid)
        finally:
            stop(process)


def main() -> dict[str, Any]:
    import_gradio()  # warm the file cache for both
    gradio_s, app_s, gradio_cpu, app_cpu = [], [], [], []
    for _ in range(REPEAT):
        wall, cpu = import_gradio()
        gradio_s.append(wall)
        gradio_cpu.append(cpu)
        wall, cpu = app_start()
        app_s.append(wall)
        app_cpu.append(cpu)
    ratio = statistics.median(app_s) / statistics.median(gradio_s)
    # CPU time hardly moves when other processes share the cores; wall time does (see the README).
    cpu_ratio = statistics.median(app_cpu) / statistics.median(gradio_cpu)
    figures = {"repeat": REPEAT, "import_gradio_s": [round(s, 3) for s in gradio_s],
               "app_first_200_s": [round(s, 3) for s in app_s],
               "import_gradio_cpu_s": [round(s, 3) for s in gradio_cpu],
               "app_first_200_cpu_s": [round(s, 3) for s in app_cpu],
               "import_gradio_median_s": round(statistics.median(gradio_s), 3),
               "app_first_200_median_s": round(statistics.median(app_s), 3),
               "ratio": round(ratio, 3), "cpu_ratio": round(cpu_ratio, 3),
               "goal_ratio": GOAL_RATIO, "met": ratio <= GOAL_RATIO,
               "goals": {"ratio": {"goal": f"<= {GOAL_RATIO:g}", "met": ratio <= GOAL_RATIO}}}
    report("startup", figures)
    return figures


if __name__ == "__main__":
    main()
