"""Compare any two runs of the History: their outputs in the before/after slider and side by side at 1:1 pixels
in the same region, with the parameters that differ between them listed — whatever engines made them."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from components.common.files import servable, served
from components.common.refusal import refused, said
from components.common.session import Session
from components.common.text import plain, toast
from core.inputs.region import Region
from core.runs import crops, store
from core.runs.runs import Run, ignores_seed

RECENT = 200  # finished runs offered in each menu, newest first


@dataclass
class ComparePanel:
    first: gr.Dropdown
    second: gr.Dropdown
    go: gr.Button
    slider: gr.ImageSlider
    region: gr.Image  # A's output: a click on it chooses the region the crops show
    crops: gr.Gallery
    differences: gr.Dataframe
    note: gr.Markdown  # why the two runs cannot be compared, beside the Compare button (empty when they were)
    pressed: gr.State  # whether a comparison is on show: what a menu change then empties is said


def render() -> ComparePanel:
    with gr.Accordion("Compare two runs", open=False, elem_id="compare-panel"):
        with gr.Row(equal_height=True):
            first = gr.Dropdown([], label="Run A", scale=3, elem_id="compare-a")
            second = gr.Dropdown([], label="Run B", scale=3, elem_id="compare-b")
            go = gr.Button("Compare", scale=1, elem_id="compare-go")
        note = gr.Markdown("", elem_id="compare-note")
        slider = gr.ImageSlider(label="A / B", type="filepath", format="png", interactive=False,
                                elem_id="compare-slider", max_height=480)
        with gr.Row():
            region = gr.Image(label="Click on A to choose the region", type="filepath", format="png",
                              interactive=False, height=260, scale=1, elem_id="compare-region", buttons=[])
            crops = gr.Gallery(label="The same region of A and B, 1:1 pixels", format="png", columns=2,
                               object_fit="none", interactive=False, elem_id="compare-crops", scale=2,
                               allow_preview=False)
        differences = gr.Dataframe(label="What differs", interactive=False, elem_id="compare-differences",
                                   visible=False)  # shown with a comparison: empty, it is only bare headers
    return ComparePanel(first, second, go, slider, region, crops, differences, note, gr.State(False))


def label(run: Run) -> str:
    """How a run reads in the menus: when, which picture (and its region, for a region run), which engine, the
    factor and the seed (when its engine used one), and its own output size."""
    when = time.strftime("%m-%d %H:%M:%S", time.localtime(run.created_at))
    engine = run.engine + (f" {run.model}" if run.model else "")
    factor = run.arguments.get("upscale_factor")
    seed = f"seed {run.seed_used} · " if run.seed_used is not None else ""
    area = Region.parse(run.region)
    picture = (run.input_name or "image") + (f" · {area.label}" if area else "")
    return (f"{when} · {picture} · {engine} · ×{factor:g} · {seed}"
            f"{run.width}×{run.height}") if factor is not None else f"{when} · {picture} · {engine}"


def choices(session: Session) -> tuple[Any, Any]:
    """Both menus: the visitor's finished runs, newest first. Runs whose labels read alike (two runs of one
    picture finished in the same second, on an engine that uses no seed) end in " · run <first 8 of the id>", so
    every choice reads differently."""
    frame = store.store().frame(session.scope(), status="completed", limit=RECENT)
    runs = [run for run_id in frame["id"] if (run := store.store().get(run_id, session.scope())) and run.output_path]
    labels = [label(run) for run in runs]
    alike = Counter(labels)
    options = [(text + (f" · run {run.id[:8]}" if alike[text] > 1 else ""), run.id)
               for text, run in zip(labels, runs, strict=True)]
    return gr.update(choices=options), gr.update(choices=options)


def differences(first: Run, second: Run) -> pd.DataFrame:
    """Every parameter (and the engine, model and input) whose value differs between the two runs."""
    a, b = ({"engine": run.engine, "model": run.model, "input": run.input_name, "region": _part(run),
             **run.parameters(), **({"seed": "not used"} if ignores_seed(run.engine) else {})}
            for run in (first, second))
    rows = [{"parameter": name, "A": _shown(a[name]), "B": _shown(b.get(name))} for name in a
            if a[name] != b.get(name)]
    return pd.DataFrame(rows or [{"parameter": "(none)", "A": "the same settings", "B": "the same settings"}])


def _shown(value: object) -> str:
    """A setting as the table says it: "none" for no value (a lanczos run's model; not Python's "None"), "(empty)"
    for an empty text, numbers as typed."""
    if value is None:
        return "none"
    if value == "":
        return "(empty)"
    return str(value)


def _part(run: Run) -> str:
    area = Region.parse(run.region)
    return area.label if area else "the whole picture"


@dataclass(frozen=True)
class Pair:
    """Two runs to compare and the pictures shown for them: each run's output, or for a whole run beside a region
    run, the same part of its output (``crops.same_part``)."""

    first: Run
    second: Run
    pictures: tuple[str, str]

    @property
    def runs(self) -> tuple[Run, Run]:
        return self.first, self.second


class NotComparable(Exception):
    """Two runs the panel cannot compare; the message says why, in the user's words."""


def _pair(first_id: str | None, second_id: str | None, session: Session) -> Pair:
    """Both runs, the visitor's own and finished, with outputs of one size — or a region run and a whole run at the
    same factor, the whole one shown at the region; raises NotComparable naming what is not."""
    if not first_id or not second_id:
        raise NotComparable("Choose two runs, A and B.")
    first, second = (store.store().get(run_id, session.scope()) for run_id in (first_id, second_id))
    if first is None or second is None or not (first.output_path and second.output_path):
        raise NotComparable("Both runs must be finished runs of yours, with their outputs.")
    if not (Path(first.output_path).is_file() and Path(second.output_path).is_file()):
        raise NotComparable("An output file of these runs is gone (deleted with its run?).")
    if (first.width, first.height) == (second.width, second.height):
        return Pair(first, second, (first.output_path, second.output_path))
    part = crops.same_part(first, second) or crops.same_part(second, first)
    if part is not None:  # a region run and the whole run: the whole one at the region
        return Pair(first, second, (first.output_path, part) if first.region else (part, second.output_path))
    raise NotComparable(f"The outputs differ in size ({first.width}×{first.height} and {second.width}×"
                        f"{second.height}): choose two runs of the same output size, or a region run and a whole "
                        "run of its picture at the same factor.")


def _box(pair: Pair, centre: tuple[int, int] | None) -> tuple[Run, tuple[int, int, int, int]]:
    """The run whose size the pictures shown have, and the crops' square around ``centre`` in their pixels."""
    shown = pair.first if pair.pictures[0] == pair.first.output_path else pair.second
    return shown, crops.region(shown.width or 0, shown.height or 0, centre)


def crops_at(pair: Pair, centre: tuple[int, int] | None = None) -> list[tuple[str, str]]:
    """The same region of both pictures around ``centre`` (pixels of the pictures shown; the middle when None), at
    1:1, captioned "A · …" and "B · …" with each run's own label (its region, its own output size), and for a whole
    run shown at a region run's part, which part."""
    shown, (left, top, right, _) = _box(pair, centre)
    made = crops.crops([shown, shown], centre, outputs=pair.pictures)
    captions = []
    for name, run, picture in zip(("A", "B"), pair.runs, pair.pictures, strict=True):
        part = "" if picture == run.output_path else f" · shown at the {_part(shown)}"
        captions.append(f"{name} · {label(run)}{part} · crop {left},{top} +{right - left}px")
    return [(served(path), caption) for path, caption in zip(made, captions, strict=True)]


def region_marked(pair: Pair, centre: tuple[int, int] | None = None) -> str:
    """A's picture (the one clicked to choose the region: same size, same pixels) with the crops' square around
    ``centre`` drawn on it (the middle when None), as a path the page can show."""
    return served(crops.marked(pair.pictures[0], _box(pair, centre)[1]))


def compare(first_id: str | None, second_id: str | None, session: Session) -> tuple[Any, ...]:
    """The two pictures in the slider, A's to choose a region on (the centre region marked on it), both pictures'
    centre region at 1:1, what differs, an empty note and True (a comparison is on show). Both must be the
    visitor's finished runs, their outputs of one size (or a region run and the whole run, the whole one shown at
    the region). Two runs that cannot be compared: every view emptied (none left showing an earlier pair), the
    reason in the note beside the button, with a warning, and False."""
    try:
        pair = _pair(first_id, second_id, session)
    except NotComparable as exc:
        message = said(str(exc))
        gr.Warning(toast(message))
        return None, None, [], gr.Dataframe(value=None, visible=False), f"Warning: {plain(message)}", False
    return ((servable(pair.pictures[0]), servable(pair.pictures[1])), region_marked(pair),
            crops_at(pair), gr.Dataframe(value=differences(pair.first, pair.second), visible=True), "", True)


def choose_region(first_id: str | None, second_id: str | None, session: Session,
                  event: gr.SelectData) -> tuple[list[tuple[str, str]], str]:
    """A click on A's picture (``event.index``: x, y in its pixels): both crops centred there, and A's picture with
    their square marked there. Raises gr.Error when the two runs can no longer be compared."""
    try:
        pair = _pair(first_id, second_id, session)
    except NotComparable as exc:  # the crops sit beside the picture clicked: their Error badge is where it belongs
        raise refused(str(exc)) from None
    x, y = (int(value) for value in event.index[:2])
    return crops_at(pair, (x, y)), region_marked(pair, (x, y))


def uncompared(menu: str, pressed: bool) -> tuple[Any, ...]:
    """Every view of the comparison emptied once another run is chosen in ``menu`` ("Run A" or "Run B"): the
    slider, A's picture, the crops, the differences and the note were about the pair chosen before. Where they
    were, the note says why they went when a comparison was on show (``pressed``: not after a refusal, when
    there was nothing to lose)."""
    note = f"{menu} changed: press **Compare** to compare the new pair." if pressed else ""
    return None, None, [], gr.Dataframe(value=None, visible=False), note


def listen(panel: ComparePanel, session: gr.State, refreshers: list[Any]) -> None:
    """Wire the panel; the menus refill after each of ``refreshers`` (events that change the history)."""
    for event in refreshers:
        event(choices, session, [panel.first, panel.second], api_visibility="private", show_progress="hidden")
    chosen = [panel.first, panel.second, session]
    views = [panel.slider, panel.region, panel.crops, panel.differences, panel.note]
    panel.go.click(compare, chosen, [*views, panel.pressed], api_visibility="private")
    panel.region.select(choose_region, chosen, [panel.crops, panel.region], api_visibility="private")
    for menu, name in ((panel.first, "Run A"), (panel.second, "Run B")):  # what is shown was about the pair before
        menu.change(partial(uncompared, name), panel.pressed, views, api_visibility="private",
                    show_progress="hidden")
