"""History panel: every run, newest first — filter, inspect, restore, reuse, delete, export, copy as code."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from components.common.files import servable, served
from components.common.refusal import refused
from components.common.session import Session, for_request
from components.common.text import plain
from components.history import compare
from core import config, schema
from core.csv_export import relative_path
from core.engines import ENGINES
from core.errors import StudioError
from core.runs import names, store
from core.runs.runs import STATUSES, Run
from core.runs.thumbs import thumbnail

if TYPE_CHECKING:
    from components.upscale.parameters import Widget

ANY = "any"
TABLE_LIMIT = 500  # rows the table shows (and /history returns) at most: gr.Dataframe sends them all each time


@dataclass
class HistoryPanel:
    notice: gr.Markdown
    search: gr.Textbox
    status: gr.Dropdown
    engine: gr.Dropdown
    refresh: gr.Button
    shown: gr.Markdown  # "newest 500 of 3,013 — …" when the table holds part of the history
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
    offset: gr.Number  # hidden: the /history API's paging inputs
    limit: gr.Number
    api_trigger: gr.Button
    compare: compare.ComparePanel
    gallery: gr.Gallery
    gallery_ids: gr.State


def render() -> HistoryPanel:
    notice = gr.Markdown("", elem_id="history-notice")
    with gr.Row(equal_height=True):
        search = gr.Textbox("", label="Search", placeholder="prompt, picture name, request id, run id", scale=3,
                            elem_id="history-search")
        status = gr.Dropdown([ANY, *STATUSES], value=ANY, label="Status", scale=1)
        engine = gr.Dropdown([ANY, *ENGINES], value=ANY, label="Engine", scale=1)
        refresh = gr.Button("Refresh", scale=1, elem_id="history-refresh")
    shown = gr.Markdown("", elem_id="history-shown")
    offset, limit = gr.Number(0, visible=False, precision=0), gr.Number(TABLE_LIMIT, visible=False, precision=0)
    api_trigger = gr.Button(visible=False)  # /history's own event: the page refreshes through history_view
    gallery = gr.Gallery(label="Newest runs — select one", columns=8, rows=1, height=200, object_fit="contain",
                         allow_preview=False, interactive=False, elem_id="history-gallery")
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
    comparing = compare.render()
    return HistoryPanel(notice, search, status, engine, refresh, shown, table, gr.State(None), before_after,
                        details, restore, reuse_seed, delete, code, export, csv, offset, limit, api_trigger, comparing,
                        gallery, gr.State([]))


def _filters(status: str, engine: str) -> dict[str, Any]:
    return {"status": None if status in (ANY, "", None) else status,
            "engine": None if engine in (ANY, "", None) else engine}


def history(search: str = "", status: str = ANY, engine: str = ANY, offset: int = 0, limit: int = TABLE_LIMIT,
            session: Session | None = None, request: gr.Request | None = None) -> pd.DataFrame:
    """The caller's runs, newest first, with every schema field, seed, request id, status and engine: ``limit``
    rows (1–500) after skipping the ``offset`` newest; raises gr.Error naming a bad offset or limit."""
    owner = for_request(session, request).scope()
    skip, count = _paging(offset, limit)
    return store.store().table(owner, search=search or "", **_filters(status, engine), limit=count, offset=skip)


def _paging(offset: Any, limit: Any) -> tuple[int, int]:
    try:
        skip, count = int(offset or 0), int(TABLE_LIMIT if limit in (None, "") else limit)
    except (TypeError, ValueError):
        raise refused(f"offset and limit must be whole numbers (got {offset!r}, {limit!r}).") from None
    if skip < 0 or not 1 <= count <= TABLE_LIMIT:
        raise refused(f"offset must be 0 or more and limit from 1 to {TABLE_LIMIT} (got {skip}, {count}).")
    return skip, count


def shown_text(rows: int, total: int, offset: int = 0) -> str:
    """What part of the history a table of ``rows`` rows shows; empty when it shows every run."""
    if rows >= total and not offset:
        return ""
    if not offset:
        return f"ℹ️ Newest {rows:,} of {total:,} — search or filter to see older runs."
    return f"ℹ️ Runs {offset + 1:,}–{offset + rows:,} of {total:,}, newest first."


THUMBNAILS = 48  # the newest runs shown as pictures above the table


SHOW_CHOSEN = "() => document.querySelector('#history-slider')?.scrollIntoView({block: 'start', behavior: 'smooth'})"


def caption(run: Run) -> str:
    """A thumbnail's caption, what tells runs of one picture apart first (a strip cuts long captions):
    "fox.png ×2 · seed 7 · local", then the status unless the run completed."""
    factor = run.arguments.get("upscale_factor")
    parts = [f"{run.input_name or 'image'}" + (f" ×{factor:g}" if isinstance(factor, (int, float)) else ""),
             *([f"seed {run.seed}"] if run.seed is not None else []), run.engine]
    return " · ".join(parts + ([] if run.status == "completed" else [run.status]))


def history_view(search: str, status: str, engine: str, session: Session) -> tuple[Any, ...]:
    """The History tab's table, the line that says when it holds only part of the history, and the newest runs'
    thumbnails (with the run id of each, for selecting a run by its picture)."""
    frame = history(search, status, engine, session=session)
    total = len(frame) if len(frame) < TABLE_LIMIT else store.store().count(
        session.scope(), search=search or "", **_filters(status, engine))
    pictures, ids = [], []
    data_dir = config.data_dir()
    for run_id in frame["id"][:THUMBNAILS]:
        run = store.store().get(run_id, session.scope())
        if run is not None and (picture := thumbnail(run, data_dir)):
            pictures.append((servable(picture), caption(run)))
            ids.append(run.id)
    return frame, shown_text(len(frame), total), pictures, ids


def select_picture(ids: list[str], session: Session, event: gr.SelectData) -> tuple[str | None, Any, dict, str]:
    """A thumbnail chosen: that run, as if its row had been selected."""
    index = event.index if isinstance(event.index, int) else -1
    run_id = ids[index] if 0 <= index < len(ids) else None
    return select(session, SimpleNamespace(row_value=[run_id] if run_id else []))  # type: ignore[arg-type]


def notice() -> str:
    text = getattr(store.store(), "notice", None)
    lines = [f"⚠️ {plain(text)}"] if text else []
    if config.history_is_ephemeral():
        lines.append("⚠️ This Space has no persistent storage: history is lost when it restarts. (Its owner can "
                     "add persistent storage in the Space's settings; the history then lives in "
                     "`/data/clarity-studio`.)")
    return "  \n".join(lines)


def select(session: Session, event: gr.SelectData) -> tuple[str | None, Any, dict, str]:
    """The selected run: its id, input/output pair, every detail, and the code that reproduces it."""
    row = event.row_value or []
    run_id = str(row[-1]) if row else None
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    if run is None:
        return None, None, {}, ""
    named = names.output_name(run.input_name, run.arguments.get("upscale_factor"), run.seed)
    pair = ((servable(run.input_path), servable(run.output_path, named)) if run.input_path and run.output_path
            else None)
    from core import snippets

    arguments = {k: v for k, v in {**run.arguments, **run.parameters()}.items() if v is not None}
    try:
        code = snippets.subscribe_code(arguments, image_path_hint=run.input_name or run.input_path)
    except StudioError as exc:
        code = f"# This run cannot be written as code: {exc}"
    return run.id, pair, _details(run), code


def _details(run: Run) -> dict[str, Any]:
    """Every field of the run a visitor may see: files named relative to the data directory, no owner id."""
    info = run.to_dict()
    del info["owner"]
    data_dir = config.data_dir()
    info["input_path"], info["output_path"] = (relative_path(info[name], data_dir) for name in ("input_path",
                                                                                               "output_path"))
    info["created"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created_at))
    info["queue_seconds"], info["run_seconds"] = run.queue_seconds, run.run_seconds
    return info


def restore(run_id: str | None, session: Session) -> list[Any]:
    """Every parameter of the run back into the form, its input image too, and the Upscale tab opened."""
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    if run is None:
        raise refused("Select a run in the table first.")
    values = run.parameters()
    # The stored input is a PNG (every input is normalised): it keeps its name, with the extension it now has.
    image = servable(run.input_path, Path(run.input_name).stem + ".png" if run.input_name else None)
    url = run.arguments.get("image_url") or "" if not image else ""
    return [*(values[f.name] for f in schema.PARAMETER_FIELDS), image, url, gr.Tabs(selected="upscale")]


def reuse_seed(run_id: str | None, session: Session) -> Any:
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    if run is None or run.seed is None:
        raise refused("This run has no recorded seed.")
    return run.seed


def delete(run_id: str | None, search: str, status: str, engine: str, session: Session) -> tuple:
    """Delete the selected run (with its files) and show the table without it."""
    if not run_id or not store.store().delete(run_id, owner=session.scope()):
        raise refused("Select a run in the table first.")
    gr.Info("Run deleted, with its output file.")
    return None, None, {}, "", *history_view(search, status, engine, session)


def export_csv(search: str, status: str, engine: str, session: Session) -> str:
    """The filtered history with every column, written by pandas."""
    owner = session.scope()
    frame = store.store().frame(owner, search=search or "", **_filters(status, engine))
    folder = config.data_dir() / "exports"
    folder.mkdir(exist_ok=True)
    path = folder / f"history-{time.strftime('%Y%m%d-%H%M%S')}-{len(frame)}.csv"
    return served(str(store.store().export_csv(frame, path)))


def listen(panel: HistoryPanel, session: gr.State, params: dict[str, Widget],
           image_file: gr.File, image_url: gr.Textbox, tabs: gr.Tabs, run_event: Any) -> None:
    """Wire the panel; ``run_event`` is the Upscale event, after which the table refreshes. Nothing of it is
    filled when the page loads: the table, the pictures, the notice and Compare's menus fill when a tab is
    selected (the History tab among them), so the first screen waits for none of them."""
    filters = [panel.search, panel.status, panel.engine, session]
    shown = [panel.table, panel.shown, panel.gallery, panel.gallery_ids]
    panel.refresh.click(history_view, filters, shown, api_visibility="private")
    panel.api_trigger.click(history, [*filters[:3], panel.offset, panel.limit, session], panel.table,
                            api_name="history")
    # Opening a tab refreshes too: sweep cells, and runs resumed in the background, are runs the Upscale event
    # never announced.
    for trigger in (panel.search.submit, panel.status.change, panel.engine.change, run_event.then, tabs.select):
        trigger(history_view, filters, shown, api_visibility="private", show_progress="hidden")
    chosen = [panel.selected, panel.before_after, panel.details, panel.code]
    panel.table.select(select, session, chosen, api_visibility="private").then(None, js=SHOW_CHOSEN)
    panel.gallery.select(select_picture, [panel.gallery_ids, session], chosen,
                         api_visibility="private").then(None, js=SHOW_CHOSEN)
    panel.restore.click(restore, [panel.selected, session], [*params.values(), image_file, image_url, tabs],
                        api_visibility="private")
    panel.reuse_seed.click(reuse_seed, [panel.selected, session], params["seed"], api_visibility="private")
    panel.delete.click(delete, [panel.selected, *filters],
                       [panel.selected, panel.before_after, panel.details, panel.code, *shown],
                       api_visibility="private")
    panel.export.click(export_csv, filters, panel.csv, api_visibility="private")
    tabs.select(notice, None, panel.notice, api_visibility="private", show_progress="hidden")
    compare.listen(panel.compare, session, [tabs.select, panel.refresh.click, run_event.then])
