"""Clarity Studio: a playground for fal-ai/clarity-upscaler, with an offline Real-ESRGAN engine."""

from __future__ import annotations

import gradio as gr

from components import (
    code_panel,
    engine_panel,
    fetch_panel,
    history_panel,
    image_input,
    parameters,
    pnginfo_panel,
    presets_panel,
    run_panel,
    startup,
)

TITLE = "Clarity Studio"
CSS_FILE = "components/style.css"


def build() -> gr.Blocks:
    """Every panel rendered, then every panel wired."""
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\nUpscale with `fal-ai/clarity-upscaler` or offline with Real-ESRGAN.",
                    elem_id="title")
        engine = engine_panel.render()
        with gr.Tabs() as tabs:
            with gr.Tab("Upscale", id="upscale"):
                with gr.Row():
                    with gr.Column(scale=5):
                        presets = presets_panel.render()
                        image = image_input.render()
                        png_info = pnginfo_panel.render()
                        params = parameters.render()
                    with gr.Column(scale=6):
                        run = run_panel.render()
                        fetch = fetch_panel.render()
            with gr.Tab("History", id="history"):
                history = history_panel.render()
            with gr.Tab("Code", id="code"):
                code = code_panel.render()
        page_load = engine_panel.listen(engine, demo)
        image_input.listen(image, params["upscale_factor"])
        pnginfo_panel.listen(png_info, image.file, params)
        run_event = run_panel.listen(run, image, params, engine)
        fetch_panel.listen(fetch, engine.session, [run.result.file, run.result.json, run.view])
        presets_panel.listen(presets, engine.session, params, image.url, page_load).then(
            image_input.preview, [image.file, image.url, params["upscale_factor"]],
            [image.preview, image.info, image.loaded], api_visibility="private")
        code_panel.listen(code, params, image.url, image.file)
        history_panel.listen(history, engine.session, params, image.file, image.url, tabs, run_event, page_load)
    return demo


def launch(demo: gr.Blocks, **options: object) -> gr.Blocks:
    """Launch with the app's theme and settings; options override (tests pass prevent_thread_lock)."""
    from core import config

    settings = {"css_paths": [CSS_FILE], "footer_links": ["api", "gradio"],
                "allowed_paths": [str(config.data_dir())], "max_file_size": config.max_upload_bytes()}
    demo.queue(default_concurrency_limit=8, max_size=config.max_queue() or None)
    startup.resume_pending_runs()
    demo.launch(**{**settings, **options})
    return demo


if __name__ == "__main__":
    launch(build())
