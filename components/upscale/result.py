"""Result panel: a before/after slider, the lossless PNG to download, and what produced it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from components.common.text import code, plain
from core.inputs import images
from core.runs.runs import Run, ignores_seed


@dataclass
class Result:
    slider: gr.ImageSlider
    file: gr.File
    details: gr.Markdown
    json: gr.JSON


def render() -> Result:
    slider = gr.ImageSlider(label="Before / after", type="filepath", format="png", elem_id="result-slider",
                            buttons=["download", "fullscreen"], max_height=640, interactive=False)
    file = gr.File(label="Output PNG", elem_id="result-file", interactive=False)
    details = gr.Markdown("", elem_id="result-details")
    with gr.Accordion("Result JSON", open=False):
        result_json = gr.JSON(label="Result", elem_id="result-json")
    return Result(slider, file, details, result_json)


def before_image(run: Run) -> str | None:
    """The slider's "before": the stored input itself. The slider draws both pictures in the same box, so the
    input shows at the output's size without being resized and encoded again (that cost ~180 ms of CPU per run,
    taken from the engine on 2 cores: bench/local_overhead.py)."""
    if not (run.input_path and run.output_path and Path(run.input_path).is_file()):
        return None
    return run.input_path


def _seconds(value: float | None) -> str:
    """Seconds as the console says them: two decimals under a second (a fast run is not "0.0 s"), else one."""
    if value is None:
        return "—"
    return f"{value:.1f} s" if value >= 1 else f"{value:.2f} s"


def details_markdown(run: Run) -> str:
    """Seed, size, timings, content type and request id of a finished run, and what its input's colours were
    converted from (read from the stored input: ``Display P3 → sRGB``)."""
    if run.status != "completed":
        return f"**{run.status}** · request {code(run.request_id or '—')}" + (f" · {plain(run.error)}" if run.error
                                                                           else "")
    timings = ", ".join(f"{k} {v:.2f} s" if isinstance(v, (int, float)) else f"{k} {v}"
                        for k, v in run.timings.items()) or "—"
    running = _seconds(run.engine_seconds)
    queue = _seconds(run.queue_seconds)
    kept = _seconds(None if run.run_seconds is None or run.engine_seconds is None
                    else max(0.0, run.run_seconds - run.engine_seconds))
    seed = (f"not used (the {run.engine} engine uses none)" if ignores_seed(run.engine)
            else f"`{run.seed}`" if run.seed is not None else "—")
    lines = [f"**Seed** {seed} · **size** {run.width}×{run.height} · **type** {plain(run.content_type)}",
             f"**engine** {run.engine}{f' ({run.model})' if run.model else ''} · **queued** {queue} · "
             f"**running** {running} · **download** {kept} · **timings** {timings}",
             f"**request id** {code(run.request_id)}"]
    converted = images.stored_colour(run.input_path)
    if converted:
        lines.append(f"**colour** {plain(converted)} (the input's profile, applied by LittleCMS; the output is "
                     f"tagged sRGB)")
    if run.error:
        lines.append(f"Warning: {plain(run.error)}")
    return "  \n".join(lines)
