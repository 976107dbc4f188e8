"""Clarity Studio: a playground for fal-ai/clarity-upscaler, with an offline Real-ESRGAN engine."""

from __future__ import annotations

if __name__ == "__main__":  # before Gradio is imported: it reads GRADIO_SERVER_PORT as it loads
    from core import config_check

    config_check.at_start()  # one line per problem; a configuration that cannot work stops here

import gradio as gr  # noqa: E402

from components.api import public_api, sample_photo
from components.code import code_panel
from components.common import engine_panel, header, startup
from components.history import history_panel
from components.owner import owner_tab
from components.sweep import sweep_panel
from components.upscale import page_open, presets_panel, run_panel, upscale_tab


def build() -> gr.Blocks:
    """Every panel rendered, then every panel wired."""
    with gr.Blocks(title=header.TITLE) as demo:
        header.render()
        engine = engine_panel.render()
        public_api.build(engine.session)  # before any other event takes their names: /upscale, /sweep, /history…
        with gr.Tabs() as tabs:
            with gr.Tab("Upscale", id="upscale"):
                upscale = upscale_tab.render(engine.engine.value)
            with gr.Tab("Sweep", id="sweep") as sweep_tab:
                sweep = sweep_panel.render(engine.engine.value)
            with gr.Tab("History", id="history"):
                history = history_panel.render()
            with gr.Tab("Code", id="code") as code_tab:
                code = code_panel.render()
            with gr.Tab("Owner", id="owner", visible=False) as owner_view:
                owner = owner_tab.render(owner_view)
        engine_panel.listen(engine)
        page_open.listen(demo, engine, upscale, owner_view)
        owner_tab.listen(owner, engine.session)
        run_event = upscale_tab.listen(upscale, engine)
        sweep_event = sweep_panel.listen(sweep, engine.session, engine.engine, upscale.params, upscale.image,
                                         upscale.region, upscale_tab.whole_form(upscale, engine, tabs), sweep_tab)
        engine_panel.refresh_after(engine, run_event, sweep_event)
        code_panel.listen(code, upscale.params, upscale.image.url, upscale.image.file, code_tab,
                          upscale.region.boxes)
        restored = history_panel.listen(history, engine.session, upscale.params, upscale.image.file,
                                        upscale.image.url, tabs, run_event, upscale.run.view,
                                        upscale_tab.whole_form(upscale, engine, tabs))
        presets_panel.follow_after(restored, upscale.presets, engine.session, upscale.params)
        run_panel.pin_note(restored, upscale.run.view, upscale.image.file, upscale.image.url)
    return demo


def launch(demo: gr.Blocks, **options: object) -> gr.Blocks:
    """Launch with the app's settings (options override: tests pass prevent_thread_lock, a port, ...).

    The sample photo's address (the API page's snippets) is set from the app's own address before the server
    answers anyone (Gradio keeps the first API description it writes), and again from the address it took; then,
    unless the caller asked not to, the thread is held as ``launch`` would hold it."""
    startup.prepare(demo)
    settings, local_url = startup.address({**startup.launch_settings(), **options})
    hold = not settings.pop("prevent_thread_lock", False)
    sample_photo.serve_at(startup.public_root(local_url))
    demo.launch(**settings, prevent_thread_lock=True)
    if demo.local_url != local_url:
        sample_photo.serve_at(startup.public_root(demo.local_url))
    if hold:
        demo.block_thread()
    return demo


if __name__ == "__main__":
    launch(build())
