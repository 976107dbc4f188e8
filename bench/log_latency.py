"""Log latency: a log line emitted by the (test) fal runner → the same line in the console the browser shows.

The test fal server reveals scripted log lines over ``run_time``: line ``i`` of ``n`` exists from
``started + (i + 1) / (n + 1) · run_time`` (its *emission*; the entry's ``timestamp`` is within the server's 10 ms
tick of it, as fal stamps a line when it is logged), and is first *served* in the answer to the next status request
(taken from the server's request log). Two levels are measured against both moments:

* engine: a bare ``FalEngine``'s events, the arrival time of each new line (what any caller of the seam gets);
* browser: headless Chromium on the app launched in-process, a 5 ms poller in the page recording
  ``Date.now()`` when each line first appears in ``#console textarea`` (the console is rendered from a
  ``gr.State`` by a ``.change`` handler, so API callers never see it). Browser and server share this clock.

emission → console includes the polling (every 0.1 s, the engine's interval for the interactive run); served →
console is the app's own pipeline. The engine level's emission → event is the floor: what polling alone costs.
The status requests per second of each run (the server's request log, between its first and last status request)
say that the app polls fal no more than before, and no more than the bare engine.

Run: python -m bench.log_latency     (about a minute)
Goals: emission → browser console p95 ≤ 150 ms; the app's status requests per second ≤ 10 (one per 0.1 s, as before).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import report  # noqa: E402

# Importing bench.overhead prepares the test fal server's environment (proxy, test CA) before any client is built.
from bench.overhead import TEST_KEY, input_png, isolate, launch_app, start_fal_server  # noqa: E402

RUN_TIME_S = 3.0
LINES = 10  # per run: one every ~0.27 s
RUNS = 6  # of each, interleaved
GOAL_P95_MS = 150.0
GOAL_STATUS_PER_S = 10.0  # one per 0.1 s at most, the interactive run's interval before 2026-11-29: no more polling
CHROMIUM = "/usr/bin/chromium"
# Records the first moment each bench line is in the console (textarea values change without DOM mutations).
WATCH = """() => {
  window.__seen = {};
  setInterval(() => {
    const box = document.querySelector('#console textarea');
    if (!box) return;
    for (const found of box.value.matchAll(/bench r\\d+ line \\d+/g)) {
      if (!(found[0] in window.__seen)) window.__seen[found[0]] = Date.now();
    }
  }, 5);
}"""


def lines_for(run: int) -> list[str]:
    return [f"bench r{run} line {i:02d}" for i in range(LINES)]


def job_of(server, request_id: str):
    # The one private read: the job's start time and served log entries (testsupport/fal_server/jobs.py ``Job``).
    with server._lock:
        return server._jobs[request_id]


def status_requests(server, request_id: str) -> list[float]:
    """When each status request for ``request_id`` reached the server (monotonic seconds)."""
    return [r.at for r in server.requests if r.method == "GET" and r.path.endswith(f"/{request_id}/status")]


def moments(server, request_id: str) -> dict[str, dict[str, float]]:
    """Each line's emission and served times, as epoch seconds: served by the first status request after its
    emission (every status answer carries the whole log)."""
    job = job_of(server, request_id)
    polls = status_requests(server, request_id)
    to_epoch = time.time() - time.monotonic()
    emitted, served = {}, {}
    for i, entry in enumerate(job.logs):
        at = job.started + (i + 1) / (LINES + 1) * RUN_TIME_S
        stamped = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp() - to_epoch
        at = min(at, stamped)  # a status request may reveal it a little before the computed moment
        emitted[entry["message"]] = to_epoch + at
        served[entry["message"]] = to_epoch + min((p for p in polls if p >= at), default=stamped)
    return {"emitted": emitted, "served": served}


def status_rate(server, request_id: str) -> float:
    """Status requests per second for one run, between its first and its last (the interval they keep)."""
    polls = status_requests(server, request_id)
    return (len(polls) - 1) / (polls[-1] - polls[0])


def latencies(seen: dict[str, float], when: dict[str, dict[str, float]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"emitted": [], "served": []}
    for message, arrived in seen.items():
        for kind in out:
            out[kind].append(arrived - when[kind][message])
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"samples": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(p95 * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}


def engine_run(server, engine, loop, image: Path, run: int, collected: dict[str, list[float]]) -> None:
    """One job through a bare ``FalEngine`` on ``loop`` (its own thread): when each line arrives in its events."""

    async def one() -> None:
        server.set_default(logs=lines_for(run))
        job = await engine.submit({"upscale_factor": 2.0, "seed": run}, str(image))
        seen: dict[str, float] = {}
        async for event in job.events():
            now = time.time()
            for entry in getattr(event, "logs", None) or []:
                seen.setdefault(entry["message"], now)
        await job.result()
        for kind, values in latencies(seen, moments(server, job.request_id)).items():
            collected[kind].extend(values)
        collected["status_per_s"].append(status_rate(server, job.request_id))

    asyncio.run_coroutine_threadsafe(one(), loop).result()


def browser_run(server, page, run: int, collected: dict[str, list[float]]) -> None:
    """One click on Upscale in the page: when each line first shows in the console."""
    server.set_default(logs=lines_for(run))
    page.evaluate("window.__seen = {}")
    page.locator("#run-button").click()
    page.wait_for_function(f"document.querySelector('#console textarea').value.includes('r{run} line')")
    page.locator("#stage [data-stage=done]").wait_for()
    text = page.locator("#console textarea").input_value()
    request_id = text.split("Submitted · request ", 1)[1].split()[0]
    seen = {message: ms / 1000 for message, ms in page.evaluate("window.__seen").items()
            if message.startswith(f"bench r{run} ")}  # the previous run's text lingers until replaced
    assert len(seen) == LINES, seen
    for kind, values in latencies(seen, moments(server, request_id)).items():
        collected[kind].extend(values)
    collected["status_per_s"].append(status_rate(server, request_id))


def both_levels(server, url: str, image: Path) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The bare engine and the app in the browser, run by run in turn (so both see the same machine load)."""
    from playwright.sync_api import sync_playwright

    from core.engines.fal import FalEngine
    from testsupport.chromium import ARGS

    engine = FalEngine(TEST_KEY)
    loop = asyncio.new_event_loop()  # Playwright's sync API holds this thread's loop
    threading.Thread(target=loop.run_forever, name="bare-engine", daemon=True).start()
    bare: dict[str, list[float]] = {"emitted": [], "served": [], "status_per_s": []}
    app: dict[str, list[float]] = {"emitted": [], "served": [], "status_per_s": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.locator("#input-file input[type=file]").set_input_files(str(image))
        page.get_by_text("Input 500×500 → output 1000×1000").wait_for()
        page.evaluate(WATCH)
        for run in range(RUNS):
            engine_run(server, engine, loop, image, run, bare)
            browser_run(server, page, 100 + run, app)
        browser.close()
    loop.call_soon_threadsafe(loop.stop)
    return bare, app


def rate(samples: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(samples), 2), "min": round(min(samples), 2),
            "max": round(max(samples), 2)}


def main() -> dict[str, Any]:
    scratch = isolate()
    server = start_fal_server(queue_polls=1, run_polls=1, run_time=RUN_TIME_S)
    demo, url = launch_app()
    try:
        image = input_png(scratch)
        engine, browser = both_levels(server, url, image)
    finally:
        demo.close()
        server.stop()
    figures: dict[str, Any] = {"run_time_s": RUN_TIME_S, "lines_per_run": LINES, "runs": RUNS,
                               "poll_interval_s": 0.1,
                               "engine_emitted_to_event": summary(engine["emitted"]),
                               "engine_served_to_event": summary(engine["served"]),
                               "browser_emitted_to_console": summary(browser["emitted"]),
                               "browser_served_to_console": summary(browser["served"]),
                               "status_requests_per_s": {"engine": rate(engine["status_per_s"]),
                                                         "app": rate(browser["status_per_s"])}}
    figures["console_p50_ms"] = figures["browser_emitted_to_console"]["p50_ms"]
    figures["console_p95_ms"] = figures["browser_emitted_to_console"]["p95_ms"]
    figures["goals"] = {
        "console_p95_ms": {"goal": f"<= {GOAL_P95_MS:g}", "floor": "engine_emitted_to_event.p95_ms",
                           "met": figures["console_p95_ms"] <= GOAL_P95_MS},
        "status_requests_per_s.app.median": {
            "goal": f"<= {GOAL_STATUS_PER_S:g}", "floor": "status_requests_per_s.engine.median",
            "met": figures["status_requests_per_s"]["app"]["median"] <= GOAL_STATUS_PER_S}}
    report("log_latency", figures)
    return figures


if __name__ == "__main__":
    main()
