"""PNG info: drop a PNG made by this app onto the form and its parameters come back (like A1111's PNG Info)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.common.refusal import refused
from components.common.text import code, plain
from core import pnginfo, schema

if TYPE_CHECKING:
    from components.upscale.parameters import Widget


@dataclass
class PngInfoPanel:
    notice: gr.Markdown
    apply: gr.Button
    found: gr.State  # the parameters read from the dropped PNG, or None


def render() -> PngInfoPanel:
    notice = gr.Markdown("", elem_id="pnginfo-notice")
    apply = gr.Button("Use the settings stored in this PNG", visible=False, size="sm", elem_id="pnginfo-apply")
    return PngInfoPanel(notice, apply, gr.State(None))


def inspect(file: str | None) -> tuple[str, Any, dict | None]:
    """The notice, the button's visibility and the parameters when the file carries Clarity Studio's chunk."""
    found = pnginfo.read_png_info(file) if file else None
    if not file or not found:
        return "", gr.Button(visible=False), None
    meta = pnginfo.read_png_metadata(file) or {}  # what a file says is shown as text, never as Markdown
    made = f"{plain(meta.get('engine', '?'), 40)} engine" + (f", request {code(meta['request_id'], 128)}"
                                                            if meta.get("request_id") else "")
    summary = ", ".join(f"{name}={plain(found[name], 40)}" for name in ("upscale_factor", "creativity",
                                                                         "resemblance", "seed")
                        if found.get(name) is not None)
    return f"This PNG was made by Clarity Studio ({made}): {summary}.", gr.Button(visible=True), found


def apply(found: dict | None) -> list[Any]:
    """Every parameter widget, in schema order, set from the PNG (a field it lacks keeps its default)."""
    if not found:
        raise refused("This file carries no Clarity Studio parameters.")
    return [found.get(field.name, field.default) for field in schema.PARAMETER_FIELDS]


def listen(panel: PngInfoPanel, file: gr.File, params: dict[str, Widget]) -> Any:
    """Wire the panel; returns the event that fills the form from the PNG (the preset menu follows it)."""
    file.change(inspect, file, [panel.notice, panel.apply, panel.found], api_visibility="private",
                show_progress="hidden")
    return panel.apply.click(apply, panel.found, list(params.values()), api_visibility="private")
