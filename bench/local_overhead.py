"""The app's own cost around the local engine: click-to-result ÷ a bare upscale of the same image.

A 512×512 photo (skimage's astronaut) at the app's defaults — engine "local" with its default model and the
endpoint's default factor 2, so a 1024×1024 (1 MP) PNG result — through the app launched in-process and driven by
``gradio_client`` (``/upscale``). The input is uploaded to Gradio once and reused, as a browser uploads a file
when it is picked; the client downloads the output PNG, as the browser's slider does. Interleaved with each app
run, a bare ``core.engines.realesrgan.upscale`` of the same decoded picture in the same process (the floor: the
engine alone, no decoding, no PNG, no Gradio). Also interleaved: a do-nothing Gradio app with the same call
shape (a file in; a queued update, then a 1 MP PNG and a JSON out) through the same client — what Gradio and
gradio_client cost by themselves. Medians over ``RUNS`` rounds after ``WARMUP`` warm-up rounds.

Figures: ``ratio_median`` (app ÷ bare, paired run by run; the goal), ``overhead`` (app − bare, ms),
``cpu_ratio_median`` (the same with this process's CPU seconds, which the other processes on the cores disturb
less; ``cpu_ratio_with_gradio_floor_removed`` without the do-nothing call's CPU seconds), ``app_minus_inference``
(the app's time minus the inference time the app itself measured around its own upscale: what is added around
the engine, independent of how fast the engine ran that time), and
``overhead_above_gradio_floor`` (app − bare − the do-nothing Gradio call, round by round: the app's own share).

Run: python -m bench.local_overhead     (about two minutes)     Goal: ratio_median ≤ 1.05.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import free_port, launch_app, report, upload_once  # noqa: E402

RUNS, WARMUP = 21, 2
SIDE = 512  # input pixels per side: a 1 MP output at the default factor 2
GOAL_RATIO = 1.05


def isolate() -> Path:
    """The app's data and Gradio's temp files in scratch folders; no network, no fal key."""
    scratch = Path(tempfile.mkdtemp(prefix="clarity-bench-local-"))
    os.environ["CLARITY_DATA_DIR"] = str(scratch / "data")
    os.environ["GRADIO_TEMP_DIR"] = str(scratch / "gradio")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    for name in ("CLARITY_SHARED", "FAL_KEY"):
        os.environ.pop(name, None)
    return scratch




def launch_floor(output: Path):
    """A do-nothing Gradio app with the upscale call's shape; its click-to-result is Gradio's own cost."""
    import gradio as gr

    async def handler(image: str | None):
        yield None, {"status": "queued"}
        yield str(output), {"status": "completed", "image": {"width": 2 * SIDE}}

    with gr.Blocks() as floor:
        file_in, file_out, result = gr.File(), gr.File(), gr.JSON()
        gr.Button().click(handler, file_in, [file_out, result], api_name="floor")
    port = free_port()
    floor.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                         allowed_paths=[str(output.parent)])
    return floor, f"http://127.0.0.1:{port}/"


def floor_call(client, image: Path) -> tuple[float, float]:
    from gradio_client import handle_file

    wall, cpu = time.perf_counter(), time.process_time()
    output, result = client.predict(handle_file(str(image)), api_name="/floor")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert result["status"] == "completed" and Path(output).stat().st_size > 0
    return wall, cpu


def input_png(folder: Path) -> Path:
    from PIL import Image
    from skimage import data

    path = folder / f"astronaut-{SIDE}.png"
    Image.fromarray(data.astronaut()).resize((SIDE, SIDE), Image.Resampling.LANCZOS).save(path)
    return path


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1), "min_ms": round(ordered[0] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def app_call(client, image: Path) -> tuple[float, float, dict[str, Any]]:
    """One click at the app's defaults (engine "local", the endpoint's defaults): wall and CPU seconds, result."""
    from gradio_client import handle_file

    wall, cpu = time.perf_counter(), time.process_time()
    output, result = client.predict(image=handle_file(str(image)), engine="local", api_name="/upscale")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert result["status"] == "completed" and result["image"]["width"] == 2 * SIDE, result
    assert Path(output).stat().st_size > 0
    return wall, cpu, result


def bare_call(picture) -> tuple[float, float]:
    from core.engines.local import DEFAULT_MODEL
    from core.engines.realesrgan import upscale
    from core.schema import FIELD_BY_NAME

    wall, cpu = time.perf_counter(), time.process_time()
    upscale(picture, float(FIELD_BY_NAME["upscale_factor"].default), DEFAULT_MODEL)
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(client, floor_client, image: Path) -> dict[str, Any]:
    from PIL import Image

    from core.engines.local import DEFAULT_MODEL
    from core.engines.realesrgan import load_model

    load_model(DEFAULT_MODEL)
    with Image.open(image) as opened:
        picture = opened.convert("RGB")
    app_s, bare_s, app_cpu, bare_cpu, around, floor_s, floor_cpu = [], [], [], [], [], [], []
    for index in range(WARMUP + RUNS):
        first_app = index % 2 == 0  # alternate which goes first, so neither always follows the other
        if not first_app:
            bare = bare_call(picture)
        wall, cpu, result = app_call(client, image)
        if first_app:
            bare = bare_call(picture)
        floor = floor_call(floor_client, image)
        if index < WARMUP:  # the first runs upload the input, start the worker thread, open connections
            continue
        app_s.append(wall)
        app_cpu.append(cpu)
        bare_s.append(bare[0])
        bare_cpu.append(bare[1])
        floor_s.append(floor[0])
        floor_cpu.append(floor[1])
        around.append(wall - float(result["timings"]["inference"]))
    ratios = [a / b for a, b in zip(app_s, bare_s, strict=True)]
    cpu_ratios = [a / b for a, b in zip(app_cpu, bare_cpu, strict=True)]
    above = [a - b - f for a, b, f in zip(app_s, bare_s, floor_s, strict=True)]
    return {"runs": RUNS, "model": DEFAULT_MODEL, "input": f"{SIDE}x{SIDE} PNG",
            "output": f"{2 * SIDE}x{2 * SIDE} PNG",
            "app_click_to_result": summary_ms(app_s), "bare_upscale": summary_ms(bare_s),
            "bare_median_s": round(statistics.median(bare_s), 3),
            "overhead": summary_ms([a - b for a, b in zip(app_s, bare_s, strict=True)]),
            "app_minus_inference": summary_ms(around),
            "gradio_floor": summary_ms(floor_s), "overhead_above_gradio_floor": summary_ms(above),
            "ratio": spread(ratios), "ratio_median": round(statistics.median(ratios), 3),
            "ratio_with_gradio_floor_removed": round(statistics.median(
                [(a - f) / b for a, b, f in zip(app_s, bare_s, floor_s, strict=True)]), 3),
            "cpu_ratio": spread(cpu_ratios), "cpu_ratio_median": round(statistics.median(cpu_ratios), 3),
            "gradio_floor_cpu_ms": round(statistics.median(floor_cpu) * 1000, 1),
            "cpu_ratio_with_gradio_floor_removed": round(statistics.median(
                [(a - f) / b for a, b, f in zip(app_cpu, bare_cpu, floor_cpu, strict=True)]), 3),
            "ratio_of_minima": round(min(app_s) / min(bare_s), 3)}


def main() -> dict[str, Any]:
    scratch = isolate()
    image = input_png(scratch)
    floor_png = scratch / "floor" / "output.png"
    floor_png.parent.mkdir()
    from PIL import Image

    with Image.open(image) as opened:  # the floor's output: a 1 MP PNG of the same photo, as the app writes one
        opened.resize((2 * SIDE, 2 * SIDE), Image.Resampling.LANCZOS).save(floor_png, compress_level=1)
    demo, url = launch_app()
    floor, floor_url = launch_floor(floor_png)
    upload_once()
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, download_files=str(scratch / "downloads"))
        floor_client = Client(floor_url, verbose=False, download_files=str(scratch / "floor-downloads"))
        local = measure(client, floor_client, image)
    finally:
        floor.close()
        demo.close()
    figures: dict[str, Any] = {"local": local, "local_ratio_median": local["ratio_median"],
                               "goals": {"local.ratio_median": {"goal": f"<= {GOAL_RATIO:g}",
                                                                "floor": "local.bare_median_s"}}}
    report("local_overhead", figures)
    return figures


if __name__ == "__main__":
    main()
