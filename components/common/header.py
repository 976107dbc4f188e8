"""The header: the title, what the app does, and on a Space a button to duplicate it and Sign in with Hugging
Face (a signed-in visitor's history, presets and budget follow them across browsers; the owner can keep the
Space's key for signed-in visitors). Off a Space, ``gr.LoginButton`` would need the machine's own Hugging Face
login, so it is not rendered."""

from __future__ import annotations

import os

import gradio as gr

from core import config

TITLE = "Clarity Studio"
SIGN_IN = "Sign in to keep your history and your own allowance"


def render() -> None:
    with gr.Row(equal_height=True, elem_id="header"):
        gr.Markdown(f"# {TITLE}\nUpscale with `fal-ai/clarity-upscaler`, or offline with Real-ESRGAN — compare, "
                    "sweep and keep every run.", elem_id="title")
        if os.environ.get("SPACE_ID"):  # a copy of your own keeps your key and your runs to yourself
            gr.DuplicateButton("Duplicate this Space", size="sm", scale=0, min_width=0, elem_id="duplicate")
        if config.sign_in_available():  # a Space without its OAuth variables: Gradio's button would stop the app
            gr.LoginButton(SIGN_IN, size="sm", scale=0, min_width=0, elem_id="login")
