"""Page load: the app's page ready in headless Chromium, against a bare Gradio page, cold each time.

Both servers run as users run them, each in its own process: ``python app.py`` (an empty temporary data
directory, analytics off, default settings otherwise) and a bare ``gr.Blocks`` with an image box and a button
(same Gradio, its defaults). One Chromium at 1366×900; every load has a new browser context (no cache, no
cookies, no storage), and the two pages are loaded in turn, ``REPEAT`` times each, after one warm-up load of
each (the servers' first request is not what a visitor meets).

*Ready* (the figure): the earliest moment T, counted from the navigation's start (``performance.timeOrigin``),
after which, for ``QUIET_S`` seconds,
  - Gradio's app is mounted (``.gradio-container`` holds at least one visible ``button``),
  - the number of visible ``button`` elements does not change,
  - no status tracker is visible: no ``.pending``/``.generating`` element, no ``.eta-bar``/``.progress-text``
    (Gradio's loading dots, spinners and timers — the page's own "Loading…" before it mounts included),
  - every event the page sent to Gradio's queue (``queue/join``: the load events and what they chain) has
    its ``process_completed`` message, read from a copy of the ``queue/data`` stream,
  - no other request of the page is in flight and none starts (scripts, style sheets, fonts, pictures,
    config, ``queue/join`` itself). Gradio's two streams are judged by their messages, not by their end: the
    session heartbeat (``/gradio_api/heartbeat/``) stays open as long as the page does, and a ``queue/data``
    stream opened just after the last event ended may wait for its next message (up to 15 s).
The page is sampled every ``SAMPLE_MS`` ms (in the page); other requests are Playwright's network events, put on
the page's clock through the shared wall clock.

Run: python -m bench.page_load        (about two minutes)        Goal: ratio ≤ 1.5 (app median ÷ bare median).
"""

from __future__ import annotations

import statistics
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
from bench.startup import cpu_seconds, environment, first_ok, free_port  # noqa: E402

REPEAT = 7
GOAL_RATIO = 1.5
QUIET_S = 1.5
SAMPLE_MS = 20
TIMEOUT_S = 60.0
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
STREAMS = ("/gradio_api/heartbeat/", "/gradio_api/queue/data")  # judged by their messages, not their end
BARE_APP = """
import gradio as gr
with gr.Blocks() as demo:
    gr.Image(label="Image")
    gr.Button("Run")
demo.launch()
"""

# In the page from its first script on: the state's changes, each with its time on the page's clock, and the
# queue's events: each ``queue/join`` answer's event id, and the ``process_completed`` message for it read from a
# copy of the ``queue/data`` stream (Gradio may leave that stream open after its last event: its end says nothing).
PROBE = """
window.__readyLog = [];
window.__events = {};
(() => {
  const pendingSelector = ".pending, .generating, .eta-bar, .progress-text";
  let last = null;
  const sample = () => {
    const visible = (e) => e.offsetParent !== null;
    const container = document.querySelector(".gradio-container");
    const buttons = container ? [...container.querySelectorAll("button")].filter(visible).length : 0;
    const pending = [...document.querySelectorAll(pendingSelector)].filter(visible).length;
    const key = buttons + "/" + pending;
    if (key !== last) {
      last = key;
      window.__readyLog.push([performance.now(), buttons, pending]);
    }
  };
  setInterval(sample, SAMPLE_MS);
  const read = async (body) => {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      text += value;
      const lines = text.split("\\n");
      text = lines.pop();
      for (const line of lines) {
        if (!line.startsWith("data:")) continue;
        const message = JSON.parse(line.slice(5));
        if (message.msg === "process_completed" && message.event_id) {
          window.__events[message.event_id] = performance.now();
        }
      }
    }
  };
  const original = window.fetch;
  window.fetch = async (...args) => {
    const response = await original(...args);
    const url = String(args[0] && args[0].url ? args[0].url : args[0]);
    if (url.includes("/queue/join")) {
      response.clone().json().then((answer) => {
        if (answer.event_id && !(answer.event_id in window.__events)) window.__events[answer.event_id] = null;
      });
    } else if (url.includes("/queue/data") && response.body) {
      const [mine, theirs] = response.body.tee();
      read(theirs);
      return new Response(mine, {status: response.status, statusText: response.statusText,
                                 headers: response.headers});
    }
    return response;
  };
})();
""".replace("SAMPLE_MS", str(SAMPLE_MS))


def start_server(command: list[str], data_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(command, env=environment(data_dir, port), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    first_ok(url, process, time.monotonic())
    return process, url


class Requests:
    """The page's requests (but its streams) as [start, end, url] in wall-clock seconds, from each request's own
    timing (Playwright reports events only when it is called: their arrival says little); end is None while
    the request is in flight."""

    def __init__(self, page: Any) -> None:
        self.spans: dict[Any, list[Any]] = {}
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)

    def _start(self, request: Any) -> None:
        if not any(stream in request.url for stream in STREAMS):
            self.spans[request] = [time.time(), None, request.url]

    def _end(self, request: Any) -> None:
        if request in self.spans:
            timing = request.timing
            start = timing["startTime"] / 1000 if timing.get("startTime", -1) > 0 else self.spans[request][0]
            ended = timing.get("responseEnd", -1)
            self.spans[request][:2] = [start, start + ended / 1000 if ended >= 0 else time.time()]

    def last_activity(self) -> float | None:
        """Wall time of the latest request start or end; None while one is in flight."""
        if any(end is None for _, end, _ in self.spans.values()):
            return None
        return max((max(start, end) for start, end, _ in self.spans.values()), default=0.0)


def ready_time(log: list[list[float]]) -> float | None:
    """Page-clock ms of the last change of state, if the state it changed to is ready (mounted, nothing
    pending); None otherwise."""
    if not log:
        return None
    at, buttons, pending = log[-1]
    return at if buttons > 0 and pending == 0 else None


def load_once(browser: Any, url: str, server_pid: int) -> dict[str, Any]:
    """One cold load: the ready time and where it went (the HTML, the scripts, the load events)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_init_script(PROBE)
    page = context.new_page()
    requests = Requests(page)
    cpu_before = cpu_seconds(server_pid)
    page.goto(url, wait_until="commit")
    origin_s = page.evaluate("performance.timeOrigin") / 1000
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        time.sleep(0.1)
        log, events = page.evaluate("[window.__readyLog, window.__events]")
        dom = ready_time(log)
        network = requests.last_activity()
        if dom is not None and network is not None and None not in events.values():
            ready = max(dom / 1000, network - origin_s, max(events.values(), default=0) / 1000)
            if time.time() - origin_s - ready >= QUIET_S:
                break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not ready in {TIMEOUT_S:g} s: last state {log[-1:]}, "
                               f"open {[s[2] for s in requests.spans.values() if s[1] is None]}")
    server_cpu = cpu_seconds(server_pid) - cpu_before
    timing = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
    spans = list(requests.spans.values())
    joins = sorted((start - origin_s, end - origin_s) for start, end, u in spans if "/queue/join" in u)
    context.close()
    mounted = next((at for at, buttons, _ in log if buttons > 0), None)
    return {"ready_s": ready, "html_s": timing["responseEnd"] / 1000,
            "dom_content_loaded_s": timing["domContentLoadedEventEnd"] / 1000,
            "first_button_s": mounted / 1000 if mounted is not None else None,
            "first_load_event_s": joins[0][0] if joins else None,
            "load_events": len(joins), "requests": len(spans),
            "scripts_and_styles": sum(1 for s in spans if s[2].endswith((".js", ".css"))),
            "buttons": log[-1][1], "server_cpu_s": server_cpu}


def summarise(loads: list[dict[str, Any]]) -> dict[str, Any]:
    ready = [load["ready_s"] for load in loads]
    figures: dict[str, Any] = {"median_s": round(statistics.median(ready), 3), "min_s": round(min(ready), 3),
                               "max_s": round(max(ready), 3), "ready_s": [round(s, 3) for s in ready]}
    for key in ("html_s", "dom_content_loaded_s", "first_button_s", "first_load_event_s", "server_cpu_s"):
        values = [load[key] for load in loads if load[key] is not None]
        figures[f"median_{key}"] = round(statistics.median(values), 3) if values else None
    for key in ("load_events", "requests", "scripts_and_styles", "buttons"):
        figures[key] = statistics.median(load[key] for load in loads)
    return figures


def main() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as app_data, tempfile.TemporaryDirectory() as bare_data:
        app, app_url = start_server([sys.executable, "app.py"], app_data)
        try:
            bare, bare_url = start_server([sys.executable, "-c", BARE_APP], bare_data)
            try:
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                    try:
                        load_once(browser, app_url, app.pid)  # warm-ups: the servers' first request
                        load_once(browser, bare_url, bare.pid)
                        app_loads, bare_loads = [], []
                        for _ in range(REPEAT):
                            app_loads.append(load_once(browser, app_url, app.pid))
                            bare_loads.append(load_once(browser, bare_url, bare.pid))
                    finally:
                        browser.close()
            finally:
                stop(bare)
        finally:
            stop(app)
    app_figures, bare_figures = summarise(app_loads), summarise(bare_loads)
    ratio = app_figures["median_s"] / bare_figures["median_s"]
    figures = {"repeat": REPEAT, "quiet_s": QUIET_S, "viewport": "1366x900", "app": app_figures,
               "bare": bare_figures, "ratio": round(ratio, 3),
               "ratio_of_minima": round(app_figures["min_s"] / bare_figures["min_s"], 3),
               "goals": {"ratio": {"goal": f"<= {GOAL_RATIO:g}", "floor": "bare.median_s",
                                   "met": ratio <= GOAL_RATIO}}}
    report("page_load", figures)
    return figures


if __name__ == "__main__":
    main()
