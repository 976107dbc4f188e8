"""Giant inputs cost no memory before they are refused: a 160 MB data URI sent to ``/upscale``.

``python app.py`` is started as a user starts it (default settings, a fresh data directory, shared mode as on a
Space) and its resident memory (``/proc/<pid>/status`` VmRSS) is sampled every 10 ms while one request carries
a 160 MB ``data:image/png;base64,…`` URI in ``image_url`` — through the public ``/gradio_api/call/upscale``
route, as any API caller would send it. The figure is the largest growth over the memory before the request.
Measured once each way on this project's machine: before the request-body cap the server grew by 607 MB
(176 → 784 MB, all of it still held a second later); with it, by 4.7 MB (the 413 came after 0.8 s).

Run: python -m bench.giant_input        (about 30 s)        Goal: peak growth < 100 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import report  # noqa: E402
from bench.startup import environment, first_ok, free_port  # noqa: E402

PAYLOAD_MB = 160
GOAL_GROWTH_MB = 100


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**environment(data, port), "CLARITY_SHARED": "1"}
        process = subprocess.Popen([sys.executable, "app.py"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/"
            first_ok(url, process, time.monotonic())
            time.sleep(2)  # let start-up settle
            before = rss_mb(process.pid)
            samples: list[float] = []
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    samples.append(rss_mb(process.pid))
                    time.sleep(0.01)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            uri = "data:image/png;base64," + "A" * (PAYLOAD_MB * 2**20)
            body = json.dumps({"data": [None, uri, "p", 2, "n", 0.35, 0.6, 4, 18, None, True, "local"]}).encode()
            del uri
            start = time.monotonic()
            answer = httpx.post(url + "gradio_api/call/upscale", content=body, timeout=120,
                                headers={"content-type": "application/json"})
            refused_s = time.monotonic() - start
            del body
            time.sleep(1)
            done.set()
            sampler.join()
            after = rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=10)
    growth = max(samples) - before
    figures = {"payload_mb": PAYLOAD_MB, "status": answer.status_code, "answer": answer.text[:200],
               "refused_after_s": round(refused_s, 3), "rss_before_mb": round(before, 1),
               "rss_peak_mb": round(max(samples), 1), "rss_after_mb": round(after, 1),
               "peak_growth_mb": round(growth, 1),
               "goals": {"peak_growth_mb": {"goal": f"< {GOAL_GROWTH_MB}", "met": growth < GOAL_GROWTH_MB}}}
    report("giant_input", figures)
    return figures


if __name__ == "__main__":
    main()
