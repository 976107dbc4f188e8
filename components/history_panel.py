"""History panel: every run, newest first — filter, inspect, restore, reuse, delete, export, copy as code."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from components import store
from components.refusal import refused
from components.session import Session, for_request
from core import config, schema
from core.errors import StudioError
from core.runs import STATUSES, Run

ANY = "any"


@dataclass
class HistoryPanel:
    notice: gr.Markdown
    search: gr.Textbox
    status: gr.Dropdown
    engine: gr.Dropdown
    refresh: gr.Button
    table: gr.Dataframe
    selected: gr.State
    before_after: gr.ImageSlider
    details: gr.JSON
    restore: gr.Button
    reuse_seed: gr.Button
    delete: gr.Button
    code: gr.Code
    export: gr.Button
    csv: gr.File


def render() -> HistoryPanel:
    notice = gr.Markdown("", elem_id="history-notice")
    with gr.Row(equal_height=True):
        search = gr.Textbox("", label="Search", placeholder="prompt, request id, run id", scale=3,
                            elem_id="history-search")
        status = gr.Dropdown([ANY, *STATUSES], value=ANY, label="Status", scale=1)
        engine = gr.Dropdown([ANY, "fal", "local"], value=ANY, label="Engine", scale=1)
        refresh = gr.Button("Refresh", scale=1, elem_id="history-refresh")
    table = gr.Dataframe(label="Runs", show_label=True, interactive=False, wrap=False,
                         elem_id="history-table", max_height=420, show_search="none")
    with gr.Row():
        with gr.Column(scale=3):
            before_after = gr.ImageSlider(label="Input / output", type="filepath", format="png",
                                          interactive=False, elem_id="history-slider", max_height=420)
        with gr.Column(scale=2):
            with gr.Row():
                restore = gr.Button("Restore into the form (to run again)", variant="primary",
                                    elem_id="history-restore")
                reuse_seed = gr.Button("Reuse seed")
                delete = gr.Button("Delete", variant="stop", elem_id="history-delete")
            details = gr.JSON(label="Run", elem_id="history-details")
    code = gr.Code(label="Copy as code (reads the key from FAL_KEY)", language="python", elem_id="history-code")
    with gr.Row():
        export = gr.Button("Export the table as CSV", elem_id="history-export")
        csv = gr.File(label="CSV", interactive=False, elem_id="history-csv")
    return HistoryPanel(notice, search, status, engine, refresh, table, gr.State(None), before_after, details,
                        restore, reuse_seed, delete, code, export, csv)


def _filters(status: str, engine: str) -> dict[str, Any]:
    return {"status": None if status in (ANY, "", None) else status,
            "engine": None if engine in (ANY, "", None) else engine}


def history(search: str = "", status: str = ANY, engine: str = ANY, session: Session | None = None,
            request: gr.Request = None) -> pd.DataFrame:
    """The caller's runs, newest first, with every schema field, seed, request id, status and engine."""
    owner = for_request(session, request).scope()
    return store.store().table(owner, search=search or "", **_filters(status, engine))


def notice() -> str:
    text = getattr(store.store(), "notice", None)
    return f"⚠️ {text}" if text else ""


def select(session: Session, event: gr.SelectData) -> tuple[str | None, Any, dict, str]:
    """The selected run: its id, input/output pair, every detail, and the code that reproduces it."""
    row = event.row_value or []
    run_id = str(row[-1]) if row else None
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    if run is None:
        return None, None, {}, ""
    pair = (run.input_path, run.output_path) if run.input_path and run.output_path else None
    from core import snippets

    arguments = {k: v for k, v in {**run.arguments, **run.parameters()}.items() if v is not None}
    try:
        code = snippets.subscribe_code(arguments, image_path_hint=run.input_path)
    except StudioError as exc:
        code = f"# This run cannot be written as code: {exc}"
    return run.id, pair, _details(run), code


def _details(run: Run) -> dict[str, Any]:
    info = run.to_dict()
    info["created"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created_at))
    info["queue_seconds"], info["run_seconds"] = run.queue_seconds, run.run_seconds
    return info


def restore(run_id: str | None, session: Session) -> list[Any]:
    """Every parameter of the run back into the form, its input image too, and the Upscale tab opened."""
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    if run is None:
        raise refused("Select a run in the table first.")
    values = run.parameters()
    image = run.input_path if run.input_path else None
    url = run.arguments.get("image_url") or "" if not image else ""
    return [*(values[f.name] for f in schema.PARAMETER_FIELDS), image, url, gr.Tabs(selected="upscale")]


def reuse_seed(run_id: str | None, session: Session) -> Any:
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    if run is None or run.seed is None:
        raise refused("This run has no recorded seed.")
    return run.seed


def delete(run_id: str | None, session: Session, search: str, status: str, engine: str) -> tuple:
    if not run_id or not store.store().delete(run_id, owner=session.scope()):
        raise refused("Select a run in the table first.")
    gr.Info("Run deleted, with its output file.")
    return None, None, {}, "", history(search, status, engine, session)


def export_csv(search: str, status: str, engine: str, session: Session) -> str:
    """The filtered history with every column, written by pandas."""
    owner = session.scope()
    frame = store.store().frame(owner, search=search or "", **_filters(status, engine))
    folder = config.data_dir() / "exports"
    folder.mkdir(exist_ok=True)
    path = folder / f"history-{time.strftime('%Y%m%d-%H%M%S')}-{len(frame)}.csv"
    return str(store.store().export_csv(frame, path))


def listen(panel: HistoryPanel, session: gr.State, params: dict[str, gr.components.Component],
           image_file: gr.File, image_url: gr.Textbox, tabs: gr.Tabs, run_event: Any, page_load: Any) -> None:
    """Wire the panel; ``run_event`` is the Upscale event, after which the table refreshes."""
    filters = [panel.search, panel.status, panel.engine, session]
    panel.refresh.click(history, filters, panel.table, api_name="history")
    # Opening a tab refreshes too: sweep cells, and runs resumed in the background, are runs the Upscale event
    # never announced.
    for trigger in (panel.search.submit, panel.status.change, panel.engine.change, run_event.then, tabs.select):
        trigger(history, filters, panel.table, api_visibility="private", show_progress="hidden")
    panel.table.select(select, session, [panel.selected, panel.before_after, panel.details, panel.code],
                       api_visibility="private")
    panel.restore.click(restore, [panel.selected, session], [*params.values(), image_file, image_url, tabs],
                        api_visibility="private")
    panel.reuse_seed.click(reuse_seed, [panel.selected, session], params["seed"], api_visibility="private")
    panel.delete.click(delete, [panel.selected, *filters],
                       [panel.selected, panel.before_after, panel.details, panel.code, panel.table],
                       api_visibility="private")
    panel.export.click(export_csv, filters, panel.csv, api_visibility="private")
    page_load.then(history, filters, panel.table, api_visibility="private").then(
        notice, None, panel.notice, api_visibility="private")
