"""Sweep tab: an X (× Y × Z × W) grid of runs, live per-cell status, a layout to pivot it, and views to compare
the cells.

The public ``sweep`` API returns the CSV and the contact sheet; everything else the tab shows goes through a
``gr.State`` (``SweepView``) and its ``.change`` handlers, as the Upscale tab does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.common import dataset_export
from components.common.dataset_export import DatasetExport
from components.sweep import page_export, sweep_layout, sweep_preflight, sweep_reopen
from components.sweep import sweep_actions as actions
from components.sweep import sweep_views as views
from components.sweep.page_export import PageExport
from components.sweep.sweep_actions import SweepView, sweep
from components.upscale import whole_picture
from components.upscale.image_input import FILE_TYPES, ImageInput
from components.upscale.region_panel import WHOLE, RegionPanel
from core.inputs.region import PARAMS as REGION_PARAMS
from core.sweep.axes import AXES, AXIS_CHOICES

if TYPE_CHECKING:
    from components.upscale.parameters import Widget


@dataclass
class SweepPanel:
    x_axis: gr.Dropdown
    x_values: gr.Textbox
    x_parsed: gr.Markdown
    y_axis: gr.Dropdown
    y_values: gr.Textbox
    y_parsed: gr.Markdown
    batch: gr.File
    vary_seed: gr.Checkbox  # each cell its own seed
    preflight: gr.Markdown
    confirm: gr.Checkbox
    run: gr.Button
    cancel: gr.Button
    retry: gr.Button
    progress: gr.Markdown
    grid: gr.Gallery
    table: gr.Dataframe
    sheet: gr.Image
    csv: gr.File
    sheet_download: gr.DownloadButton
    crop_input: gr.Image
    crop_x: gr.Slider
    crop_y: gr.Slider
    crop_size: gr.Slider
    crops: gr.Gallery
    diff_cell: gr.Dropdown
    diff_against: gr.Dropdown
    diff_image: gr.Image
    metric: gr.Dropdown
    plot: gr.LinePlot
    metrics: gr.Dataframe
    past: gr.Dropdown
    refresh: gr.Button
    view: gr.State
    state: gr.HTML  # whether a sweep runs, for the page's keys (components/common/shortcuts.html)
    past_note: gr.Markdown  # why a past sweep could not be opened, beside its menu
    input_preview: gr.Image  # the Upscale tab's picture, which a run of the grid sweeps
    input_name: gr.Markdown
    metric_note: gr.Markdown  # what the plotted metric compares, and what it cannot
    dataset: DatasetExport  # the sweep on show as an imagefolder zip
    page: PageExport  # the sweep on show as a web page that opens from disk
    cell_run: gr.State  # the run of the cell chosen in the grid
    whole: gr.Button  # *Run the whole picture with these settings* of the chosen cell (a region sweep's)
    more_axes: gr.Accordion  # the Z and W axes
    z_axis: gr.Dropdown
    z_values: gr.Textbox
    z_parsed: gr.Markdown
    w_axis: gr.Dropdown
    w_values: gr.Textbox
    w_parsed: gr.Markdown
    layout: gr.State  # how the grid on show is laid out (components/sweep/sweep_layout.py)
    layout_row: gr.Row
    across: gr.Dropdown
    down: gr.Dropdown
    swap: gr.Button
    fixed: list[gr.Dropdown]  # one per axis neither across nor down: its value shown, or all
    layout_sheet: gr.Button  # *Contact sheet of this layout*
    past_tab: gr.Tab  # *Past sweeps*: its menu is filled as it opens (never while the menu is open)
    sheet_line: gr.Markdown  # under the sheet's buttons: which layout's sheet is on show, or why none was drawn
    legend: gr.Markdown  # above the grid: its columns' and rows' values in order (a gallery has no headers)


def render(engine_id: str = "fal") -> SweepPanel:
    with gr.Row(equal_height=True):
        with gr.Column(scale=3, min_width=320):  # on a phone the picture goes below the help, not beside it
            gr.Markdown("Vary up to four parameters over a grid (X, Y, and under them Z and W). Values use the "
                        "X/Y plot syntax: `0.2, 0.5`, `0-1 (+0.25)`, `0.35-0.65 [4]`. The base settings and image "
                        "are the Upscale tab's. After a run, lay the grid out again: any axis across or down.",
                        elem_id="sweep-help")
        with gr.Column(scale=0, min_width=240, elem_id="sweep-input"):  # which picture a run of the grid sweeps
            input_preview = gr.Image(None, label="Picture to sweep", type="filepath", interactive=False, height=110,
                                     elem_id="sweep-input-preview", buttons=[])
            input_name = gr.Markdown(views.input_line(None, None, None), elem_id="sweep-input-name")
    y_choices = [("none", actions.NONE), *AXIS_CHOICES]
    with gr.Row():
        first = views.default_axis(engine_id)
        x_axis = gr.Dropdown(AXIS_CHOICES, value=first, label="X axis", scale=1, elem_id="sweep-x-axis")
        x_values = gr.Textbox(label="X values", placeholder=f"e.g. {AXES[first].example}", info=AXES[first].help,
                              scale=3, elem_id="sweep-x-values")
    x_parsed = gr.Markdown("", elem_id="sweep-x-parsed")
    with gr.Row():
        y_axis = gr.Dropdown(y_choices, value=actions.NONE, label="Y axis", scale=1, elem_id="sweep-y-axis")
        y_values = gr.Textbox(label="Y values", interactive=False, scale=3, elem_id="sweep-y-values")
    y_parsed = gr.Markdown("", elem_id="sweep-y-parsed")
    with gr.Accordion("Z and W axes: a grid per value (needs a Y axis)", open=False,
                      elem_id="sweep-more-axes") as more_axes:
        with gr.Row():
            z_axis = gr.Dropdown(y_choices, value=actions.NONE, label="Z axis", scale=1, elem_id="sweep-z-axis")
            z_values = gr.Textbox(label="Z values", interactive=False, scale=3, elem_id="sweep-z-values")
        z_parsed = gr.Markdown("", elem_id="sweep-z-parsed")
        with gr.Row():
            w_axis = gr.Dropdown(y_choices, value=actions.NONE, label="W axis", scale=1, elem_id="sweep-w-axis")
            w_values = gr.Textbox(label="W values", interactive=False, scale=3, elem_id="sweep-w-values")
        w_parsed = gr.Markdown("", elem_id="sweep-w-parsed")
    batch = gr.File(label="Images for the image axis (batch)", file_count="multiple", file_types=FILE_TYPES,
                    type="filepath", visible=False, elem_id="sweep-batch")
    vary_seed = gr.Checkbox(False, label="Vary seed per cell",
                            info="Each cell its own seed (the sweep's seed plus the cell's number); unticked, one "
                                 "seed for the whole grid, so cells differ only by their axis values.",
                            elem_id="sweep-vary-seed")
    preflight = gr.Markdown("", elem_id="sweep-preflight")
    confirm = gr.Checkbox(False, label="I understand", visible=False, elem_id="sweep-confirm")
    with gr.Row():
        run = gr.Button("Run sweep", variant="primary", scale=3, elem_id="sweep-run")
        cancel = gr.Button("Cancel all", variant="stop", scale=1, elem_id="sweep-cancel", interactive=False)
        retry = gr.Button("Retry unfinished", scale=1, interactive=False, elem_id="sweep-retry")
    progress = gr.Markdown("", elem_id="sweep-progress")
    state = gr.HTML(views.state_html(SweepView()), elem_id="sweep-state", container=False, padding=False)
    with gr.Row(visible=False, elem_id="sweep-layout") as layout_row:  # shown with a grid of two axes or more
        across = gr.Dropdown([], label="Across", scale=2, min_width=140, elem_id="sweep-across")
        down = gr.Dropdown([], label="Down", scale=2, min_width=140, elem_id="sweep-down")
        swap = gr.Button("Swap across and down", size="sm", scale=1, min_width=120, elem_id="sweep-swap")
        fixed = [gr.Dropdown([], label=f"Other axis {number + 1}", visible=False, scale=2, min_width=140,
                             elem_id=f"sweep-fixed-{number + 1}") for number in range(sweep_layout.FIXED)]
    legend = gr.Markdown("", elem_id="sweep-legend")  # the grid's column and row headers, in order
    grid = gr.Gallery(label="Cells", format="png", columns=3, object_fit="contain", height="auto",
                      elem_id="sweep-grid", interactive=False)
    whole = gr.Button(WHOLE + " (the chosen cell's)", size="sm", visible=False, elem_id="sweep-whole")
    # Widths in pixels (cell, status, seed, queued, running, request id, error): at a phone's width the table
    # scrolls sideways instead of squeezing its headers to a letter a line.
    table = gr.Dataframe(label="Cell status", interactive=False, wrap=True, elem_id="sweep-table", max_height=320,
                         column_widths=[260, 100, 110, 90, 100, 320, 200],
                         visible=False)  # shown with the first sweep: an empty table is only bare headers
    with gr.Tab("Contact sheet"):
        sheet = gr.Image(label="Contact sheet", show_label=False, type="filepath", format="png", interactive=False,
                         elem_id="sweep-sheet", buttons=["download", "fullscreen"])
        with gr.Row():
            csv = gr.File(label="Cells CSV", interactive=False, elem_id="sweep-csv")
            sheet_download = gr.DownloadButton("Download the contact sheet", elem_id="sweep-sheet-download")
            layout_sheet = gr.Button("Contact sheet of this layout", elem_id="sweep-layout-sheet")
        sheet_line = gr.Markdown("", elem_id="sweep-sheet-line")
        dataset = dataset_export.render("this sweep", "sweep-dataset")
        page = page_export.render()
    with gr.Tab("Detail crop"):
        with gr.Row():
            crop_input = gr.Image(label="Input: click to centre the crop", type="filepath", format="png",
                                  interactive=False, elem_id="sweep-crop-input", height=300)
            with gr.Column():
                crop_x = gr.Slider(0, 1024, value=64, step=1, label="Centre x (input px)", elem_id="sweep-crop-x")
                crop_y = gr.Slider(0, 1024, value=64, step=1, label="Centre y (input px)", elem_id="sweep-crop-y")
                crop_size = gr.Slider(*views.CROP_SIZES, value=views.CROP_SIZE, step=1, label="Size (input px)",
                                      elem_id="sweep-crop-size")
        crops = gr.Gallery(label="The same region of every cell, 1:1 output pixels", format="png", columns=3,
                           object_fit="none", elem_id="sweep-crops", interactive=False)
    with gr.Tab("Difference"):
        with gr.Row():
            # custom values allowed: a menu still holding the last sweep's cell as a re-opened sweep's choices
            # arrive was refused by Gradio in a raw toast ("Value: … is not in the list of choices"); the handler
            # leaves such a value alone (views.difference)
            diff_cell = gr.Dropdown([], label="Cell", elem_id="sweep-diff-cell", allow_custom_value=True)
            diff_against = gr.Dropdown(["input"], value="input", label="Against", elem_id="sweep-diff-against",
                                       allow_custom_value=True)
        diff_image = gr.Image(label=views.DIFFERENCE_LABEL, type="filepath", format="png",
                              interactive=False, elem_id="sweep-diff")
    with gr.Tab("Metrics"):
        metric = gr.Dropdown(["psnr", "ssim", "sharpness"], value="psnr", label="Plot", elem_id="sweep-metric")
        metric_note = gr.Markdown(views.METRIC_NOTES["psnr"], elem_id="sweep-metric-note")
        plot = gr.LinePlot(x="x", y="value", color="series", label="Metric against X", elem_id="sweep-plot")
        metrics = gr.Dataframe(label="Metrics per cell", interactive=False, elem_id="sweep-metrics")
    with gr.Tab("Past sweeps") as past_tab:
        with gr.Row():
            past = gr.Dropdown([], label="Re-open a past sweep", scale=4, elem_id="sweep-past")
            refresh = gr.Button("Refresh", scale=1, elem_id="sweep-past-refresh")
        past_note = gr.Markdown("", elem_id="sweep-past-note")
    return SweepPanel(x_axis, x_values, x_parsed, y_axis, y_values, y_parsed, batch, vary_seed, preflight, confirm, run,
                      cancel, retry, progress, grid, table, sheet, csv, sheet_download, crop_input, crop_x, crop_y,
                      crop_size, crops, diff_cell, diff_against, diff_image, metric, plot, metrics, past, refresh,
                      gr.State(SweepView()), state, past_note, input_preview, input_name, metric_note, dataset,
                      page, gr.State(None), whole, more_axes, z_axis, z_values, z_parsed, w_axis, w_values, w_parsed,
                      gr.State(None), layout_row, across, down, swap, fixed, layout_sheet, past_tab, sheet_line,
                      legend)


def listen(panel: SweepPanel, session: gr.State, engine: gr.Radio, params: dict[str, Widget],
           image: ImageInput, region: RegionPanel, whole: whole_picture.Form, tab: gr.Tab) -> Any:
    """Wire the tab; ``params`` are the Upscale tab's parameter widgets (schema order), ``image`` its input,
    ``region`` its region panel (the grid runs on the region when its switch is on), ``whole`` what *Run the whole
    picture* fills there, ``tab`` the Sweep tab itself (opening it says whether the sweep on show was deleted in
    History meanwhile)."""
    private: dict[str, Any] = {"api_visibility": "private"}
    quiet: dict[str, Any] = {**private, "show_progress": "hidden", "trigger_mode": "always_last"}
    drawn: dict[str, Any] = {**quiet, "concurrency_limit": None}  # a view drawn: each page's own, in order
    prompts = [params["prompt"], params["negative_prompt"]]
    for letter, axis, values, parsed in (("x", panel.x_axis, panel.x_values, panel.x_parsed),
                                         ("y", panel.y_axis, panel.y_values, panel.y_parsed),
                                         ("z", panel.z_axis, panel.z_values, panel.z_parsed),
                                         ("w", panel.w_axis, panel.w_values, panel.w_parsed)):
        axis.change(partial(views.axis_changed, letter=letter), axis, values, **quiet)
        for trigger in (axis.change, values.change):
            trigger(views.preview_values, [axis, values, *prompts], parsed, **quiet)
    engine.change(views.follow_engine, [engine, panel.x_axis, panel.x_values], panel.x_axis, **quiet)
    axes = [panel.x_axis, panel.y_axis, panel.z_axis, panel.w_axis]
    for axis in axes:
        axis.change(views.batch_visible, axes, panel.batch, **quiet)
    panel.batch.upload(views.upload_batch, [panel.batch, *axes, session],
                       [panel.x_values, panel.y_values, panel.z_values, panel.w_values], **private)

    axes = [panel.x_axis, panel.y_axis, panel.z_axis, panel.w_axis]  # an image axis sweeps its own pictures
    shown_input = [image.loaded, image.file, image.url, *region.boxes, panel.view, *axes]
    picture_sources: list[Any] = [image.loaded, image.file, *axes]
    for component in picture_sources:  # a file renamed (a restore), same picture
        component.change(views.input_shown, shown_input, [panel.input_preview, panel.input_name], **quiet)
    # The region's switch and boxes are read as this tab opens, not on each of their changes (they can change only
    # on the Upscale tab): two corners clicked set all five at once, and their change events, each with the boxes
    # as inputs and this hidden tab's widgets as outputs, at times went on firing in the page with nobody touching
    # it (a core kept busy, the server called for ever: tests/test_browser_region.py).
    tab.select(views.input_shown, shown_input, [panel.input_preview, panel.input_name], **quiet)
    panel.view.change(views.input_named, shown_input, panel.input_name, **quiet)

    names: dict[gr.components.Component, str]
    names = {image.loaded: "loaded", **{widget: name for name, widget in params.items()}, engine: "engine",
             panel.x_axis: "x_axis", panel.x_values: "x_values", panel.y_axis: "y_axis",
             panel.y_values: "y_values", session: "session", panel.confirm: "confirm", panel.vary_seed: "vary_seed",
             panel.z_axis: "z_axis", panel.z_values: "z_values", panel.w_axis: "w_axis", panel.w_values: "w_values",
             **dict(zip(region.boxes, ("region_on", *REGION_PARAMS), strict=True))}
    priced = partial(sweep_preflight.preflight, names)
    for component in [image.loaded, *params.values(), engine, panel.x_axis, panel.x_values, panel.y_axis,
                      panel.y_values, panel.batch, panel.vary_seed, panel.z_axis, panel.z_values,
                      panel.w_axis, panel.w_values]:
        component.change(priced, set(names), [panel.preflight, panel.confirm], **quiet)
    tab.select(priced, set(names), [panel.preflight, panel.confirm], **quiet)  # the region: as above

    outputs = [panel.csv, panel.sheet, panel.view]
    inputs = [image.file, image.url, *params.values(), engine, panel.x_axis, panel.x_values, panel.y_axis,
              panel.y_values, panel.confirm, session, *region.boxes, panel.vary_seed, panel.z_axis, panel.z_values,
              panel.w_axis, panel.w_values]
    # Gradio's progress and a refusal's Error badge go on the pre-flight line, the one that says why a sweep would
    # be refused: on the progress line the badge sat beside the last sweep's "4 completed · done", not its own.
    # The line answers the press at once: checking and pricing a large picture took a second or two, while it
    # went on saying the last sweep was done.
    panel.run.click(actions.starting, panel.view, panel.progress, **quiet, queue=False)
    run = panel.run.click(sweep, inputs, outputs, **private, concurrency_limit=None, show_progress="minimal",
                          show_progress_on=[panel.preflight])
    retry = panel.retry.click(actions.retry, [panel.view, session], outputs, **private, concurrency_limit=None,
                              show_progress="minimal", show_progress_on=[panel.preflight])
    for event in (run, retry):  # an event that failed midway leaves no sweep running (a cancel says so itself)
        event.failure(views.settled, panel.view, panel.view, **quiet)
        event.failure(actions.unchanged, panel.view, panel.progress, **quiet)  # refused: the last sweep's line
        # the sweep's cells are in the history now: the pre-flight's time is learned from them (it said "first
        # run: no estimate" after the first sweep until a value was edited)
        event.then(priced, set(names), [panel.preflight, panel.confirm], **quiet)
    panel.cancel.click(actions.cancel_note, panel.view, panel.progress, cancels=[run, retry], **private,
                       queue=False).then(actions.after_cancel, [panel.view, session], outputs, **private).then(
        priced, set(names), [panel.preflight, panel.confirm], **quiet)

    layout_controls = [panel.layout_row, panel.across, panel.down, panel.swap, *panel.fixed]
    # Queued (``drawn``), never queue=False: unqueued calls run side by side and the page applies their answers as
    # they arrive, so a slow draw of an older view (thumbnails being made) landed after the last one and left
    # finished cells as "queued" tiles after Cancel all. Queued with always_last, the page sends the next draw only
    # once the last one is in, and then only the newest view.
    panel.view.change(sweep_layout.synced, [panel.view, panel.layout], [panel.layout, *layout_controls], **drawn)
    panel.view.change(views.render_grid, [panel.view, panel.layout],
                      [panel.progress, panel.grid, panel.table, panel.state, panel.run, panel.cancel, panel.retry,
                       panel.legend], **drawn)
    crop_inputs = [panel.view, panel.layout, panel.crop_x, panel.crop_y, panel.crop_size]
    results = [panel.sheet_download, panel.crop_input, panel.crop_x, panel.crop_y, panel.crop_size, panel.diff_cell,
               panel.diff_against, panel.metrics]
    panel.view.change(views.render_results, [panel.view, panel.crop_size], results, **quiet).then(
        views.crops, crop_inputs, panel.crops, **private)
    # A pivot: the layout's menus and Swap make a new layout; the grid, crops, difference choices and metrics
    # follow it (nothing re-runs: the same cells, re-indexed).
    # (Chained to the pivot's own events, not to the layout's .change: a new sweep's default layout would redraw
    # the grid its view has just drawn.)
    # Each menu sends its own value only: a hidden menu's leftover value is never read (Gradio would refuse it),
    # and the others' values are the layout's, not what a menu showed a moment ago.
    pivots = [menu.input(handler, [panel.view, panel.layout, menu], [panel.layout, *layout_controls], **private)
              for menu, handler in ((panel.across, sweep_layout.across_chosen), (panel.down, sweep_layout.down_chosen),
                                    *((menu, sweep_layout.picked) for menu in panel.fixed))]
    pivots.append(panel.swap.click(sweep_layout.swap, [panel.view, panel.layout], [panel.layout, *layout_controls],
                                   **private))
    chosen_diff = [panel.diff_cell, panel.diff_against]  # a pivot keeps the cells compared and the crops' centre
    for pivot in pivots:
        pivot.then(views.render_grid, [panel.view, panel.layout],
                   [panel.progress, panel.grid, panel.table, panel.state, panel.run, panel.cancel, panel.retry,
                    panel.legend],
                   **quiet).then(views.laid_out_results, [panel.view, panel.layout, *chosen_diff],
                                 [panel.diff_cell, panel.diff_against, panel.metrics], **quiet).then(
            views.crop_picture, [panel.view, panel.layout, panel.crop_size, panel.crop_x, panel.crop_y],
            [panel.crop_input, panel.crop_x, panel.crop_y, panel.crop_size], **quiet).then(
            views.crops, crop_inputs, panel.crops, **quiet)
    panel.layout_sheet.click(sweep_layout.sheet, [panel.view, panel.layout], [panel.sheet, panel.sheet_line],
                             **private)
    panel.view.change(views.files_kept, panel.view, [panel.csv, panel.sheet, panel.sheet_line, panel.dataset.file,
                                                    panel.dataset.line], **quiet)
    panel.crop_input.select(views.pick_centre, None, [panel.crop_x, panel.crop_y], **private)
    # .change, not .release: a slider's release comes only at the end of a drag or when its number box loses focus,
    # so a size typed and Enter pressed, or stepped with an arrow key, left the crops as they were. Raw values
    # (preprocess=False): each keystroke of a size being typed is a change, and Gradio refused "1" of "120".
    for slider in (panel.crop_x, panel.crop_y, panel.crop_size):
        slider.change(views.crops_as_typed, crop_inputs, panel.crops, **quiet, preprocess=False)
        slider.change(views.crop_marked, crop_inputs, panel.crop_input, **quiet, preprocess=False)
    for trigger in (panel.diff_cell.change, panel.diff_against.change):
        trigger(views.difference, [panel.view, panel.diff_cell, panel.diff_against], panel.diff_image, **quiet)
    for trigger in (panel.metric.change, panel.metrics.change):
        trigger(views.plot, [panel.view, panel.layout, panel.metric], [panel.plot, panel.metric_note], **quiet)

    panel.grid.select(views.pick_cell, [panel.view, panel.layout], [panel.cell_run, panel.whole], **private)
    panel.run.click(views.no_cell, None, [panel.cell_run, panel.whole], **private, queue=False)  # a new grid
    whole_picture.listen(panel.whole, panel.cell_run, session, whole)
    panel.dataset.button.click(dataset_export.sweep, [panel.view, session],
                               [panel.dataset.file, panel.dataset.line], **private)
    panel.view.change(page_export.size, [panel.view, session], [panel.page.line, panel.page.file], **quiet)
    panel.page.button.click(page_export.write, [panel.view, panel.layout, session], [panel.page.file, panel.page.line],
                            **private)
    # Filled as the menu's tab (or the Sweep tab) opens, not as the menu takes focus: choices that changed under the
    # open menu (a sweep deleted in History) failed in the page ("Cannot read properties of undefined").
    for trigger in (panel.refresh.click, panel.past_tab.select, tab.select, run.then):
        trigger(sweep_reopen.sweep_choices, [session, panel.view], panel.past, **private)
    shown = [panel.x_axis, panel.x_values, panel.y_axis, panel.y_values, engine,  # the grid's own, put back
             panel.vary_seed, panel.z_axis, panel.z_values, panel.w_axis, panel.w_values, panel.more_axes]
    tab.select(sweep_reopen.whereabouts, [panel.view, session], panel.view, **quiet)
    panel.past.input(sweep_reopen.opening, panel.past, panel.past_note, **private, queue=False, show_progress="hidden")
    panel.past.input(sweep_reopen.open_sweep, [panel.past, session], [*outputs, *shown, panel.batch, panel.past_note],
                     **private, show_progress_on=[panel.past_note])
    return run
