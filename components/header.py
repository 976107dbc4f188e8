"""The header: the title, what the app does, and on a Space a button to duplicate it."""

from __future__ import annotations

import os

import gradio as gr

TITLE = "Clarity Studio"


def render() -> None:
    with gr.Row(equal_height=True, elem_id="header"):
        gr.Markdown(f"# {TITLE}\nUpscale with `fal-ai/clarity-upscaler`, or offline with Real-ESRGAN — compare, "
                    "sweep and keep every run.", elem_id="title")
        if os.environ.get("SPACE_ID"):  # a copy of your own keeps your key and your runs to yourself
            gr.DuplicateButton("Duplicate this Space", size="sm", scale=0)
