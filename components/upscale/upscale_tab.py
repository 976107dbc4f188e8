"""The Upscale tab: presets, the image and the parameters on one side; Upscale, the console and the result on
the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.common.engine_panel import EnginePanel
from components.upscale import (
    deeplink_panel,
    fetch_panel,
    image_input,
    parameters,
    pnginfo_panel,
    presets_panel,
    run_panel,
)


@dataclass
class UpscaleTab:
    presets: presets_panel.PresetsPanel
    image: image_input.ImageInput
    png_info: pnginfo_panel.PngInfoPanel
    params: dict[str, parameters.Widget]
    run: run_panel.RunPanel
    fetch: fetch_panel.FetchPanel


def render(engine_id: str = "fal") -> UpscaleTab:
    with gr.Row(elem_id="workspace"):
        with gr.Column(scale=5, min_width=300):
            presets = presets_panel.render()
            image = image_input.render()
            png_info = pnginfo_panel.render()
            params = parameters.render(engine_id)
        with gr.Column(scale=6, min_width=300):
            run = run_panel.render()
            fetch = fetch_panel.render()
    return UpscaleTab(presets, image, png_info, params, run, fetch)


def listen(tab: UpscaleTab, engine: EnginePanel) -> Any:
    """Wire the tab; returns the Upscale event (the history refreshes after it)."""
    image, params, run = tab.image, tab.params, tab.run
    image_input.listen(image, params["upscale_factor"], engine.session)
    applied = pnginfo_panel.listen(tab.png_info, image.file, params)
    run_event = run_panel.listen(run, image, params, engine)
    engine.engine.change(parameters.mark_ignored, engine.engine, list(params.values()), api_visibility="private",
                         queue=False, show_progress="hidden")
    fetch_panel.listen(tab.fetch, engine.session, [run.result.file, run.result.json, run.view])
    presets_panel.listen(tab.presets, engine.session, params)
    presets_panel.follow_after(applied, tab.presets, engine.session, params)
    deeplink_panel.listen(tab.presets, params, image.url)
    return run_event
