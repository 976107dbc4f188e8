"""Run panel: Upscale and Cancel, the console and the result, wired to the public ``upscale`` API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.common.engine_panel import EnginePanel
from components.upscale import console, form_check, result, run_cancel
from components.upscale.action import View, render_view, upscale
from components.upscale.image_input import ImageInput


@dataclass
class RunPanel:
    run: gr.Button
    cancel: gr.Button
    reuse_seed: gr.Button
    console: console.Console
    result: result.Result
    view: gr.State


def render() -> RunPanel:
    with gr.Row():
        run = gr.Button("Upscale", variant="primary", elem_id="run-button", scale=3)
        cancel = gr.Button("Cancel", variant="stop", elem_id="cancel-button", scale=1)
    panel_console = console.render()
    panel_result = result.render()
    reuse_seed = gr.Button("♻ Reuse this seed", size="sm", elem_id="reuse-seed")
    return RunPanel(run, cancel, reuse_seed, panel_console, panel_result, gr.State(View()))


def seed_of(view: View) -> float | None:
    return view.seed if view.seed is not None else gr.skip()


def listen(panel: RunPanel, image: ImageInput, params: dict[str, gr.components.Component],
           engine: EnginePanel) -> Any:
    """Wire the panel and return the Upscale event (others chain on it)."""
    inputs = [image.file, image.url, *params.values(), engine.engine, engine.session]
    event = panel.run.click(upscale, inputs, [panel.result.file, panel.result.json, panel.view],
                            api_name="upscale", concurrency_limit=None, show_progress="minimal",
                            show_progress_on=[panel.result.slider])
    run_cancel.listen(panel.cancel, event, panel.view)
    panel.view.change(render_view, panel.view,
                      [panel.console.log, panel.console.stage, panel.result.slider, panel.result.details,
                       *params.values()], api_visibility="private", queue=False, show_progress="hidden")
    form_check.listen(panel.run, params, panel.view)
    panel.reuse_seed.click(seed_of, panel.view, params["seed"], api_visibility="private", queue=False)
    return event
