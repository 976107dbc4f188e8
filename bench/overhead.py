"""The app's own cost: click-to-result through the running app minus what the engine itself takes.

fal: a 500×500 PNG at factor 2 (a 1000×1000 PNG result) on the test fal server with a fixed ``run_time``.
The app is launched in-process and driven by ``gradio_client`` (``/upscale``); the engine-side time is a bare
``FalEngine`` submit → events → result → download in the same process, interleaved run by run so both see the
same machine load. The input is uploaded to Gradio once (as a browser does when the file is picked), so a
"click" is the predict call alone; the output PNG is downloaded by the client, as the browser's slider does.
The local engine's overhead is bench/local_overhead.py.

Run: python -m bench.overhead        (about two minutes)
Goal (fal): the app's own share, click-to-result − bare engine − Gradio's floor (a do-nothing handler of the same
shape, same run), median ≤ 30 ms.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# fal's host names → the test fal server (a local proxy and the test CA), before any httpx client is built.
from testsupport.fal_server import TEST_KEY, prepare_environment  # noqa: E402

ENVIRONMENT = prepare_environment()

from bench._common import free_port, launch_app, report, upload_once  # noqa: E402

RUN_TIME_S = 1.0  # the server's fixed "inference" time per fal job
FAL_RUNS, WARMUP = 15, 2
GOAL_FAL_ABOVE_FLOOR_MS = 30.0
LOGS = ["Loading the diffusion model", "Upscaling tile 1/2", "Upscaling tile 2/2"]


def isolate() -> Path:
    """Point the app's data and Gradio's temp files at scratch folders (fal_client reaches the test server by
    fal's own host names through the proxy ``prepare_environment`` set up)."""
    scratch = Path(tempfile.mkdtemp(prefix="clarity-bench-"))
    os.environ["CLARITY_DATA_DIR"] = str(scratch / "data")
    os.environ["GRADIO_TEMP_DIR"] = str(scratch / "gradio")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["FAL_KEY"] = TEST_KEY
    os.environ.pop("CLARITY_SHARED", None)
    return scratch


def start_fal_server(**behaviour: Any):
    """The test fal server, started, with ``behaviour`` as every submit's default."""
    from testsupport.fal_server.server import FalServer

    server = FalServer(ENVIRONMENT)
    server.start()
    server.set_default(**behaviour)
    return server




def launch_floor(output: Path):
    """A do-nothing Gradio app with the upscale call's shape: a file in; a queued update, then ``output`` (the
    same 1 MP PNG) and a JSON out. Its click-to-result is what Gradio and gradio_client cost by themselves."""
    import gradio as gr

    async def handler(image: str | None):
        yield None, {"status": "queued"}
        yield str(output), {"status": "completed", "image": {"width": 1000}}

    with gr.Blocks() as floor:
        file_in, file_out, result = gr.File(), gr.File(), gr.JSON()
        gr.Button().click(handler, file_in, [file_out, result], api_name="floor")
    port = free_port()
    floor.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                         allowed_paths=[str(output.parent)])
    return floor, f"http://127.0.0.1:{port}/"


def floor_call(client, image: Path) -> float:
    from gradio_client import handle_file

    start = time.monotonic()
    output, result = client.predict(handle_file(str(image)), api_name="/floor")
    seconds = time.monotonic() - start
    assert result["status"] == "completed" and Path(output).stat().st_size > 0
    return seconds


def input_png(folder: Path, size: int = 500) -> Path:
    """A 500×500 photo (skimage's astronaut), so the PNG sizes are those of a real picture."""
    from PIL import Image
    from skimage import data

    path = folder / f"astronaut-{size}.png"
    Image.fromarray(data.astronaut()).resize((size, size), Image.Resampling.LANCZOS).save(path)
    return path


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """Median, p95 (nearest rank), min and max of ``seconds``, in ms."""
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1),
            "min_ms": round(ordered[0] * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}


class BareFal:
    """A bare FalEngine in its own event loop (kept across runs, like the app's), with one download client."""

    def __init__(self) -> None:
        from core.engines.fal import FalEngine

        self.engine = FalEngine(TEST_KEY)
        self.loop = asyncio.new_event_loop()
        self.http: httpx.AsyncClient | None = None

    async def _once(self, arguments: dict[str, Any], image: Path, target: Path) -> None:
        import httpx

        if self.http is None:
            self.http = httpx.AsyncClient(timeout=60)
        job = await self.engine.submit(arguments, str(image))
        async for _ in job.events():
            pass
        result = await job.result()
        response = await self.http.get(result["image"]["url"])
        response.raise_for_status()
        target.write_bytes(response.content)

    def run(self, arguments: dict[str, Any], image: Path, target: Path) -> float:
        start = time.monotonic()
        self.loop.run_until_complete(self._once(arguments, image, target))
        return time.monotonic() - start

    def close(self) -> None:
        if self.http is not None:
            self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


def app_call(client, image: Path, engine: str, seed: int) -> float:
    from gradio_client import handle_file

    start = time.monotonic()
    output, result = client.predict(handle_file(str(image)), "", "", 2.0, "", 0.35, 0.6, 4.0, 18, seed, True,
                                    engine, api_name="/upscale")
    seconds = time.monotonic() - start
    assert result["status"] == "completed" and result["image"]["width"] == 1000, result
    assert Path(output).stat().st_size > 0
    return seconds


def server_split(requests: list, started: float, ended: float) -> dict[str, float]:
    """Where a run's time went, from the fal server's request log: before the first request reached it,
    between that and the output download's request, and after that request arrived."""
    first = requests[0].at
    last = [r for r in requests if r.method == "GET" and r.path.startswith("/files/")][-1].at
    return {"before_first_request": first - started, "at_fal": last - first, "after_file_request": ended - last}


def fal_overhead(server, client, image: Path, scratch: Path, floor_client) -> dict[str, Any]:
    bare = BareFal()
    arguments = {"prompt": "", "upscale_factor": 2.0, "seed": 1}
    target = scratch / "bare.png"
    app_s, bare_s, paired, floor_s, above_floor, cpu_above = [], [], [], [], [], []
    splits: dict[str, dict[str, list[float]]] = {"app": {}, "bare": {}}
    for index in range(WARMUP + FAL_RUNS):
        marks, cpu = {}, [time.process_time()]
        since = len(server.requests)
        start = time.monotonic()
        one_app = app_call(client, image, "fal", seed=index)
        marks["app"] = (server.requests[since:], start, start + one_app)
        cpu.append(time.process_time())
        since = len(server.requests)
        start = time.monotonic()
        one_bare = bare.run({**arguments, "seed": index}, image, target)
        marks["bare"] = (server.requests[since:], start, start + one_bare)
        cpu.append(time.process_time())
        one_floor = floor_call(floor_client, image)
        cpu.append(time.process_time())
        if index < WARMUP:  # the first runs upload the input and open connections
            continue
        app_s.append(one_app)
        bare_s.append(one_bare)
        paired.append(one_app - one_bare)
        floor_s.append(one_floor)
        above_floor.append(one_app - one_bare - one_floor)
        # CPU seconds of this whole process (app, client, test server): less disturbed by other processes
        cpu_above.append((cpu[1] - cpu[0]) - (cpu[2] - cpu[1]) - (cpu[3] - cpu[2]))
        for side, (requests, start, end) in marks.items():
            for part, value in server_split(requests, start, end).items():
                splits[side].setdefault(part, []).append(value)
    bare.close()
    where = {side: {part: round(statistics.median(values) * 1000, 1) for part, values in parts.items()}
             for side, parts in splits.items()}
    overhead, above = summary_ms(paired), summary_ms(above_floor)
    return {"runs": FAL_RUNS, "server_run_time_s": RUN_TIME_S, "output": "1000x1000 PNG",
            "app_click_to_result": summary_ms(app_s), "bare_engine": summary_ms(bare_s),
            "overhead": overhead, "median_split_ms": where,
            "gradio_floor": summary_ms(floor_s), "overhead_above_gradio_floor": above,
            "cpu_above_gradio_floor": summary_ms(cpu_above),
            "goal_above_floor_median_ms": GOAL_FAL_ABOVE_FLOOR_MS,
            "met": above["median_ms"] <= GOAL_FAL_ABOVE_FLOOR_MS}


def main() -> dict[str, Any]:
    scratch = isolate()
    server = start_fal_server(queue_polls=1, run_polls=1, run_time=RUN_TIME_S, logs=LOGS)
    demo, url = launch_app()
    (scratch / "bare.png").write_bytes(b"")  # the floor app's output: the bare engine's PNG, once it exists
    floor, floor_url = launch_floor(scratch / "bare.png")
    upload_once()
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, download_files=str(scratch / "downloads"))
        floor_client = Client(floor_url, verbose=False, download_files=str(scratch / "floor-downloads"))
        image = input_png(scratch)
        figures = {"fal": fal_overhead(server, client, image, scratch, floor_client)}
    finally:
        floor.close()
        demo.close()
        server.stop()
    figures["fal_overhead_median_ms"] = figures["fal"]["overhead"]["median_ms"]
    figures["fal_overhead_p95_ms"] = figures["fal"]["overhead"]["p95_ms"]
    figures["gradio_floor_median_ms"] = figures["fal"]["gradio_floor"]["median_ms"]
    figures["goals"] = {"fal.overhead_above_gradio_floor.median_ms": {
        "goal": f"<= {GOAL_FAL_ABOVE_FLOOR_MS:g}", "floor": "fal.gradio_floor.median_ms", "met": figures["fal"]["met"]}}
    report("overhead", figures)
    return figures


if __name__ == "__main__":
    main()
