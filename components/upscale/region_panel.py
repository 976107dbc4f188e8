"""The region panel, under the input: a part of the picture to run or sweep instead of the whole of it.

Click two corners on the picture (Gradio's select event gives its pixel coordinates) or type x, y, width and height;
one switch, *Run on the region*, decides whether the Upscale button and the Sweep tab use it. A line gives the
region's output size and price beside the whole picture's, following the factor; another says once what a crop
cannot promise. What a region may be is ``core/inputs/region.py``'s rule, said in the boxes' words.

A new picture clears the boxes and unticks the switch: a region is a part of one picture, and an old one must never
crop the next picture or make its run fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image, ImageDraw

from components.common.files import servable
from core import config, schema
from core.errors import InputError
from core.inputs.images import InputImage
from core.inputs.region import CONTEXT_NOTE, PARAMS, Region, from_corners, price_line

PREVIEW_SIDE = 768  # the drawn preview's longest side (clicks are scaled back to input pixels)
NO_PICTURE = "Give an image to choose a region of it."
FIRST = "Click the opposite corner."
UNUSED = "the boxes' region is used only when **Run on the region** is ticked"
WHOLE = "Run the whole picture with these settings"  # the button under a finished region run (whole_picture.py)


@dataclass
class RegionPanel:
    on: gr.Checkbox  # "Run on the region"
    x: gr.Textbox
    y: gr.Textbox
    width: gr.Textbox
    height: gr.Textbox
    picture: gr.Image  # the input with the region drawn: click two corners on it
    line: gr.Markdown  # the region's and the whole picture's output size and price, or why the boxes are refused
    corner: gr.State  # the first corner clicked, in input pixels (None: none yet)
    linked: gr.State  # the region run a whole-picture run in the form comes from (None: none)
    pending: gr.State  # a region a link asked for (Region), for the picture that comes next (None: none)
    cleared_for: gr.State  # the digest of the picture the boxes were last cleared for (None: none yet)

    @property
    def boxes(self) -> list[Any]:
        """The switch and the four boxes, in the order ``region_of`` takes them."""
        return [self.on, self.x, self.y, self.width, self.height]


def render() -> RegionPanel:
    with gr.Accordion("Region: try a part of the picture first", open=False, elem_id="region-panel"):
        on = gr.Checkbox(False, label="Run on the region", elem_id="region-on",
                         info="The Upscale button and the Sweep tab upscale only this part of the picture.")
        picture = gr.Image(None, label="Click two corners of the region", type="filepath", format="png",
                           interactive=False, height=260, elem_id="region-picture", buttons=[])
        with gr.Row():
            x = gr.Textbox("", label="x", placeholder="px", max_lines=1, min_width=60, elem_id="region-x")
            y = gr.Textbox("", label="y", placeholder="px", max_lines=1, min_width=60, elem_id="region-y")
            width = gr.Textbox("", label="width", placeholder="px", max_lines=1, min_width=60, elem_id="region-width")
            height = gr.Textbox("", label="height", placeholder="px", max_lines=1, min_width=60,
                                elem_id="region-height")
        line = gr.Markdown(NO_PICTURE, elem_id="region-line")
        gr.Markdown(CONTEXT_NOTE, elem_id="region-context")
    return RegionPanel(on, x, y, width, height, picture, line, gr.State(None), gr.State(None), gr.State(None),
                       gr.State(None))


def region_of(on: bool | None, x: Any, y: Any, width: Any, height: Any) -> Region | None:
    """The region the form asks for: None with the switch off (whatever the boxes hold, empty ones included), else
    the four boxes checked by ``Region.checked`` (InputError in the boxes' words)."""
    if not on:
        return None
    return Region.checked(dict(zip(PARAMS, (x, y, width, height), strict=True)))


def _scale(loaded: InputImage) -> float:
    return min(1.0, PREVIEW_SIDE / max(loaded.width, loaded.height))


def drawn(loaded: InputImage | None, region: Region | None) -> str | None:
    """A preview of the input (its longest side at most ``PREVIEW_SIDE``) with ``region`` drawn on it."""
    if loaded is None:
        return None
    folder = config.data_dir() / "previews"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{loaded.digest[:24]}{'-' + region.tag if region else ''}.png"
    if not path.is_file():
        scale = _scale(loaded)
        with Image.open(loaded.path) as source:
            preview = source.convert("RGB").resize((max(1, round(loaded.width * scale)),
                                                    max(1, round(loaded.height * scale))))
        if region is not None:
            box = [round(v * scale) for v in region.box]
            pen = ImageDraw.Draw(preview)
            pen.rectangle(box, outline=(255, 64, 64), width=3)
            pen.rectangle([b + d for b, d in zip(box, (3, 3, -3, -3), strict=True)], outline=(255, 255, 255), width=1)
        preview.save(path, compress_level=1)
    return servable(str(path), Path(path).name)


def shown(loaded: InputImage | None, factor: object, on: bool | None, x: Any, y: Any, width: Any,
          height: Any) -> tuple[Any, str]:
    """The drawn preview and the price line for the form as it is: the whole picture's price with the switch off
    (empty boxes are no region, never a warning); the region's beside it with the switch on, or why the boxes are
    refused, in their own words. A factor typed past the slider's end is priced as the slider keeps it."""
    if loaded is None:
        return None, NO_PICTURE
    kept = schema.nearest_in_range("upscale_factor", factor)
    if kept is None:  # not a number (yet): the line stays as it was
        return gr.skip(), gr.skip()
    try:
        region = region_of(on, x, y, width, height)
        if region is not None:
            region.inside(loaded.width, loaded.height)
    except InputError as exc:
        return drawn(loaded, None), f"Warning: {exc}"
    line = price_line(region, loaded.width, loaded.height, kept)
    if region is None and all(str(box if box is not None else "").strip() for box in (x, y, width, height)):
        line += f" · {UNUSED}"  # typed, not chosen: the switch is the user's (never ticked under their click)
    return drawn(loaded, region), line



def cleared(loaded: InputImage | None, factor: float, pending: Region | None = None, on: bool = False,
            *boxes_and_picture: Any) -> tuple[Any, ...]:
    """A new picture in the form: the switch off, the boxes empty, no corner clicked, the new picture drawn — or,
    for the picture a link brought with a region (``pending``), that region in the boxes with the switch on (its
    refusal said on the line when it does not fit the picture). ``on`` and ``boxes`` are the switch and the four
    boxes as they were when the picture came: only what held something is emptied, so a box typed while this
    ran is kept (under load a late clearing emptied the x the user had just typed). The switch is unticked only
    with a region to clear: ticked over empty boxes it names no region of the last picture, and it may have been
    ticked for this one while it loaded (a tick given half a second after an upload was undone). The last value
    after the boxes is the digest of the picture they were last cleared for (None: for no picture). Boxes cleared
    for no picture (the box emptied, or none given yet) or for this same picture (loaded again) hold what was
    typed for the picture now here: they are kept, and the picture drawn with them (a user trial: a region typed in
    the second after a new file was chosen was erased as the picture arrived, 8 times in 8). Returns the switch,
    the four boxes, the corner, the drawn picture, the line, the pending region and that digest."""
    *boxes, cleared_for = boxes_and_picture if boxes_and_picture else (None,)
    digest = loaded.digest if loaded is not None else None
    if pending is None and loaded is not None and cleared_for in (None, digest):
        picture, line = shown(loaded, factor, on, *[*boxes, "", "", "", ""][:4])
        return (*[gr.skip()] * 5, None, picture, line, gr.skip(), digest)
    if pending is not None and loaded is not None:
        typed = [str(value) for value in pending.values().values()]
        picture, line = shown(loaded, factor, True, *typed)
        return True, *typed, None, picture, line, None, digest
    held = [box not in (None, "") for box in [*boxes, "", "", "", ""][:4]]
    kept_on = bool(on) and not any(held)
    picture, line = shown(loaded, factor, kept_on, "", "", "", "")
    emptied = ["" if box_held else gr.skip() for box_held in held]
    return (False if on and not kept_on else gr.skip()), *emptied, None, picture, line, pending, digest


def clicked(loaded: InputImage | None, corner: tuple[int, int] | None, factor: float,
            event: gr.SelectData) -> tuple[Any, ...]:
    """A click on the preview: the first corner is kept; the second makes the region (the boxes filled, the switch
    on, the region drawn and priced)."""
    if loaded is None or not isinstance(event.index, (list, tuple)) or len(event.index) < 2:
        return (gr.skip(),) * 8
    scale = _scale(loaded)
    point = (min(loaded.width - 1, round(event.index[0] / scale)),
             min(loaded.height - 1, round(event.index[1] / scale)))
    if corner is None:
        return point, *(gr.skip(),) * 6, f"First corner at {point[0]},{point[1]}. {FIRST}"
    region = from_corners((int(corner[0]), int(corner[1])), point, loaded.width, loaded.height)
    picture, line = shown(loaded, factor, True, *region.values().values())
    return None, True, *(str(v) for v in region.values().values()), picture, line


def listen(panel: RegionPanel, loaded: gr.State, factor: Any) -> None:
    """Wire the panel to the form's loaded picture and factor."""
    quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden", "trigger_mode": "always_last"}
    loaded.change(cleared, [loaded, factor, panel.pending, *panel.boxes, panel.cleared_for],
                  [*panel.boxes, panel.corner, panel.picture, panel.line, panel.pending, panel.cleared_for], **quiet)
    # One listener for every trigger, so "always_last" keeps the newest form: a box is read as it is typed, not
    # only when it is left (a quick typist's last box is never left before the Upscale button is pressed).
    # Raw values: Gradio refuses a factor typed past the slider's end before any handler runs (a stale line).
    gr.on([panel.on.change, factor.change, *(box.input for box in panel.boxes[1:]),
           *(box.blur for box in panel.boxes[1:]), *(box.submit for box in panel.boxes[1:])],
          shown, [loaded, factor, *panel.boxes], [panel.picture, panel.line], preprocess=False, **quiet)
    panel.picture.select(clicked, [loaded, panel.corner, factor],
                         [panel.corner, *panel.boxes, panel.picture, panel.line], api_visibility="private",
                         show_progress="hidden")
