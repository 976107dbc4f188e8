"""Console panel: every event as a timestamped line, and a stage indicator queued → running → done."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from core.runner import STAGES


@dataclass
class Console:
    stage: gr.HTML
    log: gr.Textbox


def stage_html(stage: str) -> str:
    """The progress strip: each stage lit once reached; a failure or cancel shown in place of 'done'."""
    reached = STAGES.index(stage) if stage in STAGES else (-1 if stage == "idle" else len(STAGES) - 1)
    steps = []
    for index, name in enumerate(STAGES):
        label = stage if (name == "done" and stage in ("failed", "cancelled")) else name
        state = "now" if index == reached else ("past" if index < reached else "")
        if stage in ("failed", "cancelled") and name == "done":
            state = stage
        steps.append(f'<span class="stage {state}">{label}</span>')
    return f'<div class="stages" data-stage="{stage}">' + " → ".join(steps) + "</div>"


def render() -> Console:
    stage = gr.HTML(stage_html("idle"), elem_id="stage")
    log = gr.Textbox(label="Console", lines=10, max_lines=18, interactive=False, autoscroll=True,
                     elem_id="console", buttons=["copy"], placeholder="Queue status and logs appear here.")
    return Console(stage, log)
