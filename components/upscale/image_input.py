"""Image input: upload a file, or paste an https:// URL or a data URI; a preview and a size/price line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.common.files import servable
from components.common.session import Session
from components.common.text import toast
from components.upscale.region_panel import region_of
from core import schema
from core.engines import ENGINES
from core.engines import describe as describe_engine
from core.errors import InputError
from core.inputs import formats, images
from core.inputs.images import InputImage
from core.inputs.region import price_line
from core.usecases import over_budget
from core.usecases.validate import read_input

if TYPE_CHECKING:
    from components.upscale.parameters import Widget

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = ("astronaut.jpg", "coffee.jpg", "chelsea.jpg", "rocket.jpg")
# No ``file_types``: Gradio 6.31 makes any list a filter, not a hint — the page drops a picked or dropped file
# whose extension and MIME type are not listed (an unnamed upload, "IMG_1.jpg.download", a .heic the browser
# types as "") and the server refuses one whose name guesses no listed type (gradio_client.utils.is_valid_file);
# only a lone "file" passes all, and it hints nothing. The label names the formats read (formats.label_list());
# the content decides (core/inputs/images.py), and a refusal names what the file is.
FILE_TYPES: list[str] | None = None
FAL_EXAMPLE_URL = "https://storage.googleapis.com/falserverless/gallery/NOCA_Mick-Thompson.resized.resized.jpg"


@dataclass
class ImageInput:
    file: gr.File
    url: gr.Textbox
    preview: gr.Image
    info: gr.Markdown
    loaded: gr.State  # the InputImage last loaded (or None)
    refused: gr.State  # the message for a dropped file just refused (shown until another input is given)
    examples: gr.Gallery  # the example photos; the one selected goes into ``file``
    picked: gr.State  # the example last put into ``file`` (its path), or None


def render() -> ImageInput:
    file = gr.File(label=f"Image ({formats.label_list()})", file_types=FILE_TYPES, type="filepath",
                   elem_id="input-file", height=150)  # the label chip clears the upload icon
    url = gr.Textbox(label="…or an image URL", placeholder="https://… or data:image/png;base64,…",
                     elem_id="input-url", max_lines=1)
    preview = gr.Image(label="Input", type="filepath", format="png", interactive=False, height=220,
                       elem_id="input-preview", buttons=["fullscreen"])
    info = gr.Markdown("Give an image to see its output size and estimated price.", elem_id="input-info")
    with gr.Accordion("Examples", open=False, elem_id="examples"):
        # Pictures, not file-name chips: a gallery whose selected photo goes into the image box.
        examples = gr.Gallery([(str(EXAMPLES / name), name) for name in EXAMPLE_FILES], label="Photos that work "
                              "offline (public domain / CC0): select one", columns=4, rows=1, height=170,
                              object_fit="cover", allow_preview=False, interactive=False, elem_id="example-photos",
                              buttons=[])
        gr.Examples([[FAL_EXAMPLE_URL]], inputs=[url], label="fal's own example URL (for the fal engine)")
    return ImageInput(file, url, preview, info, gr.State(None), gr.State(""), examples, gr.State(None))


def pick_example(event: gr.SelectData) -> tuple[str, str]:
    """The example photo selected in the gallery, for the image box, and as the example picked."""
    index = event.index if isinstance(event.index, int) else 0
    path = str(EXAMPLES / EXAMPLE_FILES[index % len(EXAMPLE_FILES)])
    return path, path


def example_shown(file: str | None, picked: str | None) -> tuple[Any, str | None]:
    """The Examples gallery's highlight follows the picture in the form: kept while it is the example picked,
    taken off when another picture (uploaded, restored) or none replaces it — (gallery update, example picked)."""
    if file and picked and Path(file).name == Path(picked).name:
        return gr.skip(), picked
    return gr.Gallery(selected_index=None), None


URL_UNUSED = "the file is used, not the image URL (clear the file to use the URL)"


def free_here(engine: str | None) -> str:
    """What the line adds on an engine that costs nothing (local, lanczos): the price it shows is fal's, for
    comparison (it read as if fal would be used); "" on a priced engine, or when none is known."""
    if not engine or engine not in ENGINES or describe_engine(engine).priced:
        return ""
    return f" · free on the {engine} engine: the price is what fal would charge"


def preview(file: str | None, url: str | None, factor: float, session: Session | None = None,
            engine: str | None = None) -> tuple[str | None, str, InputImage | None]:
    """Preview path, the size/price line (or the reason the input is refused), and the loaded input. The line says
    when the run would not fit what the visitor may still spend today on a shared Space's key, and when the chosen
    ``engine`` is free (``free_here``)."""
    if not file and not (url or "").strip():
        return None, "Give an image to see its output size and estimated price.", None
    try:
        loaded = read_input(file, url)
    except InputError as exc:
        return None, f"Warning: {exc}", None
    line = describe(loaded, factor, session, engine=engine)
    if file and (url or "").strip() and isinstance(line, str):  # both given: the one that is used is said
        line += f" · {URL_UNUSED}"
    return servable(loaded.path), line, loaded  # the stored copy, in Gradio's cache when the data dir is not


def url_given(file: str | None, url: str | None, factor: float, shown: str = "", session: Session | None = None,
              engine: str | None = None) -> tuple[str | None, str, InputImage | None]:
    """An image URL typed (Enter, or the box left): ``preview``, and a URL refused says so in a toast as well as in
    the line under the preview, about 250 px below the box (a user trial looked for it by the box). ``shown`` is the
    line as it is: the same refusal again (Enter, then the box left) is not toasted twice."""
    found = preview(file, url, factor, session, engine)
    line = found[1]
    if line.startswith("Warning: ") and line != shown:
        gr.Warning(toast(line.removeprefix("Warning: ")))
    return found


def file_changed(file: str | None, url: str | None, factor: float, refused: str, shown: str = "",
                 session: Session | None = None, engine: str | None = None) -> tuple:
    """A file that is not an image (or too large) is refused the moment it is dropped: taken out of the box, its
    reason said in the info line and a warning. Otherwise the preview, as for any input. An empty box never
    replaces a refusal's reason (``shown``, the info line as it is), whichever of their events runs first."""
    emptied = not file and not (url or "").strip()
    if emptied and (refused or (shown or "").startswith("Warning:")):  # the box emptied by the refusal: keep the reason
        return gr.skip(), None, gr.skip(), None, ""
    if file:
        try:
            images.load_file(file)
        except InputError as exc:
            gr.Warning(toast(f"{exc} The file was not kept."))
            message = f"Warning: {exc} The file was not kept."
            return None, None, message, None, message
    return (gr.skip(), *preview(file, url, factor, session, engine), "")


def describe(loaded: InputImage | None, factor: object, session: Session | None = None, on: bool | None = None,
             x: Any = None, y: Any = None, width: Any = None, height: Any = None, engine: str | None = None) -> str:
    """The size/price line of the loaded input at ``factor``, marked when it would not fit the visitor's day. A
    factor typed past the slider's end is priced as the slider keeps it (the run uses that), never left stale.
    With the region panel's switch ``on`` and its boxes (``x``, ``y``, ``width``, ``height``) a region of the
    picture, a run is of that region: the line prices it, beside the whole picture (it priced only the whole). On
    a free ``engine`` it says so (``free_here``)."""
    kept = schema.nearest_in_range("upscale_factor", factor)
    if loaded is None or kept is None:
        return gr.skip()
    try:
        region = region_of(on, x, y, width, height)
        if region is not None:
            region.inside(loaded.width, loaded.height)
    except InputError as exc:  # the switch on and no usable region: a run would be refused (it priced the whole)
        whole = images.describe(loaded.width, loaded.height, kept)
        return f"The region is not usable, so Upscale would be refused: {exc.message} · {whole}"
    if region is not None:
        over = over_budget(session, region.width, region.height, kept) if session is not None else ""
        return f"A run is of the region: {price_line(region, loaded.width, loaded.height, kept)}{over}" + (
            free_here(engine))
    over = over_budget(session, loaded.width, loaded.height, kept) if session is not None else ""
    return images.describe(loaded.width, loaded.height, kept) + over + free_here(engine)


def listen(panel: ImageInput, factor: Widget, session: gr.State, region: list[Any], engine: gr.Radio) -> None:
    """Wire the input; ``region`` is the region panel's switch and four boxes, which the size/price line follows,
    as it follows the ``engine`` chosen."""
    outputs = [panel.preview, panel.info, panel.loaded]
    panel.examples.select(pick_example, None, [panel.file, panel.picked], api_visibility="private")
    panel.file.change(example_shown, [panel.file, panel.picked], [panel.examples, panel.picked],
                      api_visibility="private", show_progress="hidden")
    # always_last: the box emptied by a refusal fires .change again; that run must wait for the refusal's own to
    # finish (and see its reason kept), not race it.
    panel.file.change(file_changed, [panel.file, panel.url, factor, panel.refused, panel.info, session, engine],
                      [panel.file, *outputs, panel.refused], api_visibility="private", trigger_mode="always_last")
    for typed in (panel.url.submit, panel.url.blur):
        typed(url_given, [panel.file, panel.url, factor, panel.info, session, engine], outputs,
              api_visibility="private")
    # Raw values (preprocess=False): Gradio refuses a slider's number past its end before any handler runs, which
    # left the line priced at the previous factor with an Error badge on it. One event for every trigger, so its
    # draws run one at a time and the last lands last (one event each, a box's draw with the switch still off
    # could finish after the switch's own, and the line priced the whole picture with the region on).
    gr.on([factor.change, engine.change, *(box.change for box in region)], describe,
          [panel.loaded, factor, session, *region, engine],
          panel.info, api_visibility="private", show_progress="hidden", trigger_mode="always_last", preprocess=False)
