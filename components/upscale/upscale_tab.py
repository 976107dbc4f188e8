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
    region_panel,
    run_panel,
    whole_picture,
)


@dataclass
class UpscaleTab:
    presets: presets_panel.PresetsPanel
    image: image_input.ImageInput
    region: region_panel.RegionPanel
    png_info: pnginfo_panel.PngInfoPanel
    params: dict[str, parameters.Widget]
    engine_note: gr.Markdown  # under the knobs: what the chosen engine ignores
    run: run_panel.RunPanel
    fetch: fetch_panel.FetchPanel


def render(engine_id: str = "fal") -> UpscaleTab:
    with gr.Row(elem_id="workspace"):
        with gr.Column(scale=5, min_width=300):
            presets = presets_panel.render()
            image = image_input.render()
            region = region_panel.render()
            png_info = pnginfo_panel.render()
            params = parameters.render(engine_id)
            note = gr.Markdown(parameters.engine_note(engine_id), elem_id="engine-note")
        with gr.Column(scale=6, min_width=300):
            run = run_panel.render()
            fetch = fetch_panel.render()
    return UpscaleTab(presets, image, region, png_info, params, note, run, fetch)


def whole_form(tab: UpscaleTab, engine: EnginePanel, tabs: gr.Tabs | None = None) -> whole_picture.Form:
    """What *Run the whole picture* fills on this tab (``tabs``: opened on it, from another tab)."""
    return whole_picture.Form(tab.params, tab.image.file, tab.image.url, engine.engine, tab.region, tab.run.view,
                              tabs, [tab.run.result.file, tab.run.result.json])


def listen(tab: UpscaleTab, engine: EnginePanel) -> Any:
    """Wire the tab; returns the Upscale event (the history refreshes after it)."""
    image, params, run = tab.image, tab.params, tab.run
    image_input.listen(image, params["upscale_factor"], engine.session, tab.region.boxes, engine.engine)
    region_panel.listen(tab.region, image.loaded, params["upscale_factor"])
    applied = pnginfo_panel.listen(tab.png_info, image.file, params)
    run_event = run_panel.listen(run, image, params, engine, tab.region)
    whole_picture.listen(run.whole, run.view, engine.session, whole_form(tab, engine), lambda view: view.run_id)
    engine.engine.change(parameters.mark_ignored, engine.engine, list(params.values()), api_visibility="private",
                         queue=False, show_progress="hidden")
    engine.engine.change(parameters.engine_note, engine.engine, tab.engine_note, api_visibility="private",
                         queue=False, show_progress="hidden")
    fetch_panel.listen(tab.fetch, engine.session, [run.result.file, run.result.json, run.view],
                       [run.run.click, image.loaded.change])
    presets_panel.listen(tab.presets, engine.session, params)
    presets_panel.follow_after(applied, tab.presets, engine.session, params)
    deeplink_panel.listen(tab.presets, params, image.url, tab.region.boxes)
    return run_event
