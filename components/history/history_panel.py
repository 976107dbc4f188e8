"""History panel: every run, newest first — filter, inspect, restore, reuse, delete, export, copy as code."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from components.common import dataset_export
from components.common.dataset_export import DatasetExport
from components.common.files import servable, served
from components.common.refusal import refused, said
from components.common.session import Session, for_request
from components.common.text import counted, plain
from components.history import compare
from components.upscale import run_panel, whole_picture
from components.upscale.action import download_name
from components.upscale.region_panel import WHOLE
from core import config, schema
from core.csv_export import relative_path
from core.engines import ENGINES
from core.errors import StudioError
from core.inputs.region import Region
from core.runs import store
from core.runs.history import BIN_DAYS
from core.runs.runs import STATUSES, Run, ignores_seed, iso_time
from core.runs.thumbs import thumbnail
from core.usecases import HistoryQuery, export, values

if TYPE_CHECKING:
    from components.upscale.parameters import Widget

ANY, BIN = values.ANY, values.BIN  # the filters' "no filter", and the Status filter's choice that lists the bin
TABLE_LIMIT = values.HISTORY_LIMIT  # rows the table shows (and /history returns) at most: gr.Dataframe sends all


@dataclass
class HistoryPanel:
    notice: gr.Markdown
    search: gr.Textbox
    status: gr.Dropdown
    engine: gr.Dropdown
    refresh: gr.Button
    shown: gr.Markdown  # "newest 500 of 3,013 — …" when the table holds part of the history
    table: gr.Dataframe
    table_key: gr.State  # what the table shows (its filters and rows, ``table_key``), to tell when it changed
    selected: gr.State
    before_after: gr.ImageSlider
    details: gr.JSON
    restore: gr.Button
    reuse_seed: gr.Button
    whole: gr.Button  # *Run the whole picture with these settings*, for a region run
    delete: gr.Button
    delete_sweep: gr.Button
    action: gr.Markdown  # what the last button did or why it could not, beside the buttons
    undo: gr.Button
    put_back: gr.Button
    empty_bin: gr.Button
    confirm: gr.Row  # beside Empty the bin, after its first click: what will be destroyed, and to go on or not
    confirm_question: gr.Markdown
    confirm_yes: gr.Button
    confirm_keep: gr.Button
    asked: gr.State  # the run ids the bin held when the question was asked (only those are the ones agreed to)
    last_deleted: gr.State  # the run ids of the last deletion, for Undo
    code: gr.Code
    export: gr.Button
    csv: gr.File
    compare: compare.ComparePanel
    gallery: gr.Gallery
    gallery_ids: gr.State
    dataset: DatasetExport


def render() -> HistoryPanel:
    notice = gr.Markdown("", elem_id="history-notice")
    with gr.Row(equal_height=True):
        search = gr.Textbox("", label="Search", placeholder="prompt, picture name, request id, run id, sweep id, cell",
                            scale=3, elem_id="history-search")
        status = gr.Dropdown([ANY, *STATUSES, BIN], value=ANY, label="Status", scale=1, elem_id="history-status")
        engine = gr.Dropdown([ANY, *ENGINES], value=ANY, label="Engine", scale=1, elem_id="history-engine")
        refresh = gr.Button("Refresh", scale=1, elem_id="history-refresh")
    shown = gr.Markdown("", elem_id="history-shown")
    gallery = gr.Gallery(label="Newest runs — select one", columns=8, rows=1, height=200, object_fit="contain",
                         allow_preview=False, interactive=False, elem_id="history-gallery")
    table = gr.Dataframe(label="Runs", show_label=True, interactive=False, wrap=False,
                         elem_id="history-table", max_height=420, show_search="none")
    with gr.Row(elem_id="history-bin"):  # beside the table: a deletion is one click from undone (toasts carry no
        undo = gr.Button("Undo delete", size="sm", interactive=False, scale=0, min_width=200,  # buttons)
                         elem_id="history-undo")
        put_back = gr.Button("Put back the selected run", size="sm", visible=False, scale=0, min_width=200,
                             elem_id="history-put-back")
        empty_bin = gr.Button("Empty the bin", size="sm", variant="stop", visible=False, scale=0, min_width=160,
                              elem_id="history-empty-bin")
        with gr.Row(visible=False, elem_id="history-bin-confirm") as confirm:
            question = gr.Markdown("", elem_id="history-bin-question")
            yes = gr.Button("Yes, delete for good", size="sm", variant="stop", scale=0, min_width=200,
                            elem_id="history-bin-yes")
            keep = gr.Button("Keep them", size="sm", scale=0, min_width=120, elem_id="history-bin-keep")
    with gr.Row():
        with gr.Column(scale=3):
            before_after = gr.ImageSlider(label="Input / output", type="filepath", format="png",
                                          interactive=False, elem_id="history-slider", max_height=420)
        with gr.Column(scale=2):
            with gr.Row():
                restore = gr.Button("Restore into the form (to run again)", variant="primary",
                                    elem_id="history-restore")
                reuse_seed = gr.Button("Reuse seed", visible=False)  # offered once a run with a seed is selected
                whole = gr.Button(WHOLE, visible=False, elem_id="history-whole")
                delete = gr.Button("Delete (to the bin)", variant="stop", elem_id="history-delete")
                delete_sweep = gr.Button("Delete its sweep", variant="stop", visible=False,
                                         elem_id="history-delete-sweep")
            action = gr.Markdown("", elem_id="history-action")
            details = gr.JSON(label="Run", elem_id="history-details")
    code = gr.Code(label="Copy as code (reads the key from FAL_KEY)", language="python", elem_id="history-code")
    with gr.Row():
        export = gr.Button("Export the table as CSV", elem_id="history-export")
        csv = gr.File(label="CSV", interactive=False, elem_id="history-csv")
    dataset = dataset_export.render("the table", "history-dataset")
    comparing = compare.render()
    return HistoryPanel(notice, search, status, engine, refresh, shown, table, gr.State(""), gr.State(None),
                        before_after, details, restore, reuse_seed, whole, delete, delete_sweep, action, undo,
                        put_back, empty_bin, confirm, question, yes, keep, gr.State([]), gr.State([]), code,
                        export, csv, comparing, gallery, gr.State([]), dataset)


def _filters(status: str, engine: str) -> dict[str, Any]:
    return {"status": None if status in (ANY, BIN, "", None) else status,
            "engine": None if engine in (ANY, "", None) else engine, "binned": status == BIN}


def history(search: str = "", status: str = ANY, engine: str = ANY, offset: int = 0, limit: int = TABLE_LIMIT,
            session: Session | None = None, request: gr.Request | None = None) -> pd.DataFrame:
    """The caller's runs, newest first, with every schema field, seed, request id, status and engine: ``limit``
    rows (1–500) after skipping the ``offset`` newest (``HistoryQuery``'s rules); raises gr.Error naming a bad
    parameter."""
    try:
        query = HistoryQuery.checked({"search": search or "", "status": status or ANY, "engine": engine or ANY,
                                      "offset": offset, "limit": limit})
    except StudioError as exc:
        raise refused(str(exc)) from None
    return history_page(query, for_request(session, request))


def history_page(query: HistoryQuery, session: Session) -> pd.DataFrame:
    """The page of the caller's history a checked query asks for (``/history``, and the History tab's table)."""
    return store.store().table(session.scope(), search=query.search, **_filters(query.status, query.engine),
                               limit=query.limit, offset=query.offset)


def history_total(query: HistoryQuery, session: Session) -> int:
    """How many of the caller's runs the query's filters match (every page together)."""
    return store.store().count(session.scope(), search=query.search, **_filters(query.status, query.engine))


def shown_text(rows: int, total: int, offset: int = 0) -> str:
    """What part of the history a table of ``rows`` rows shows; empty when it shows every run."""
    if rows >= total and not offset:
        return ""
    if not offset:
        return f"Newest {rows:,} of {total:,} — search or filter to see older runs."
    return f"Runs {offset + 1:,}–{offset + rows:,} of {total:,}, newest first."


def empty_text(search: str, status: str, engine: str) -> str:
    """Why the table is empty: nothing matches the search or a filter, the bin is empty, or there is no run yet."""
    if (search or "").strip() or status not in (ANY, BIN, "", None) or engine not in (ANY, "", None):
        return "No run matches this search and these filters: clear them to see every run."
    return "The bin is empty." if status == BIN else "No runs yet: every upscale and sweep cell is listed here."


THUMBNAILS = 48  # the newest runs shown as pictures above the table


SHOW_CHOSEN = "() => document.querySelector('#history-slider')?.scrollIntoView({block: 'start', behavior: 'smooth'})"


def caption(run: Run) -> str:
    """A thumbnail's caption, what tells runs of one picture apart first (a strip cuts long captions):
    "fox.png ×2 · seed 7 · local"; a sweep's cell leads with its swept values ("creativity=0.5 · fox.png ×2 · …"),
    which are what tell its cells apart; a region run's names its region ("region 384×384 at 100,50", in its cell's
    label for a sweep's); then the status unless the run completed."""
    factor = run.arguments.get("upscale_factor")
    region = Region.parse(run.region)
    parts = [*([run.cell] if run.cell else []), *([region.label] if region and not run.cell else []),
             f"{run.input_name or 'image'}" + (f" ×{factor:g}" if isinstance(factor, (int, float)) else ""),
             *([f"seed {run.seed_used}"] if run.seed_used is not None else []), run.engine]
    return " · ".join(parts + ([] if run.status == "completed" else [run.status]))


def table_key(search: str, status: str, engine: str, frame: pd.DataFrame) -> str:
    """What a table of the History tab shows, as a short digest of its search, filters and every value of its
    rows: another filter, a run added, deleted or changing status give another key."""
    text = "\x1f".join([(search or "").strip(), status or "", engine or "", frame.to_csv(index=False)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def history_view(search: str, status: str, engine: str, session: Session, seen: str | None = None) -> tuple[Any, ...]:
    """The History tab's table, the line that says when it holds only part of the history, the newest runs'
    thumbnails (with the run id of each, for selecting a run by its picture), the bin's buttons shown in the bin,
    the table's key (``table_key``) and the table's exports (the CSV, the dataset zip and its line): emptied when
    the table is not the one ``seen`` (the key it had), since they were of another table, else left as they are."""
    frame = history(search, status, engine, session=session)
    binned = status == BIN
    total = len(frame) if len(frame) < TABLE_LIMIT else store.store().count(
        session.scope(), search=search or "", **_filters(status, engine))
    pictures, ids = [], []
    data_dir = config.data_dir()
    for run_id in frame["id"][:THUMBNAILS]:
        run = store.store().get(run_id, session.scope(), binned=binned)
        if run is not None and (picture := thumbnail(run, data_dir)):
            pictures.append((servable(picture), caption(run)))
            ids.append(run.id)
    line = shown_text(len(frame), total) or (empty_text(search, status, engine) if frame.empty else "")
    if binned:
        line = (f"The bin: deleted runs, kept with their files for {BIN_DAYS} days, then purged. Select one to put "
                f"it back, or empty the bin. {line}")
    key = table_key(search, status, engine, frame)
    exports = ((None, gr.File(value=None, visible=False), "") if key != seen else (gr.skip(),) * 3)
    return (frame, line, pictures, ids, gr.update(visible=binned), gr.update(visible=binned), key, *exports)


VIEW_OUTPUTS = 10  # the values history_view gives, one per output of the table's view ("shown" in ``listen``)
KEY_AT = 6  # where among them the table's key is


def refreshed(search: str, status: str, engine: str, session: Session, seen: str | None = None) -> tuple[Any, ...]:
    """``history_view`` for a new search or filter, a refresh, a tab opened or a run done; when the table changed
    (not the one ``seen``), the line beside the buttons is cleared too: what it said (a refusal, what a button did)
    was about the table before."""
    view = history_view(search, status, engine, session, seen)
    return (*view, "" if view[KEY_AT] != seen else gr.skip())


def unselected() -> tuple[None, None, dict, str, Any]:
    """``select``'s five values when no run is selected: no id, no pictures, no details, no code, no sweep."""
    return None, None, {}, "", gr.update(visible=False)


def in_table(run_id: str | None, frame: pd.DataFrame) -> bool:
    """Whether the run ``run_id`` is a row of the table ``frame`` (no run, None, is in every table)."""
    return run_id is None or run_id in set(frame["id"])


def shown_again(search: str, status: str, engine: str, session: Session, seen: str | None = None,
                selected: str | None = None, deleted: list[str] | None = None) -> tuple[Any, ...]:
    """``refreshed``'s values, then ``select``'s five and Undo's two (``undo_offered``): the selection (run id
    ``selected``) and its details emptied when its run is not in the table now (a filter, a search or another tab
    took it out: Delete would act on a run the table does not show), else left as they are, no thumbnail
    highlighted then; and Undo saying how many runs of the last deletion (``deleted``, run ids) the bin still
    holds."""
    view = list(refreshed(search, status, engine, session, seen))
    if in_table(selected, view[0]):
        selection: tuple[Any, ...] = (gr.skip(),) * 5
    else:
        view[2] = gr.Gallery(value=view[2], selected_index=None)
        selection = unselected()
    return (*view, *selection, *undo_offered(deleted or [], session))


def undo_button(count: int) -> Any:
    """The Undo button for a last deletion of which ``count`` runs are still in the bin: "Undo delete (2 runs)",
    or "Undo delete", disabled, when there is nothing to undo."""
    if not count:
        return gr.update(interactive=False, value="Undo delete")
    return gr.update(interactive=True, value=f"Undo delete ({count} run{'s' * (count != 1)})")


def undo_offered(ids: list[str], session: Session) -> tuple[list[str], Any]:
    """The runs of the last deletion (run ids) the visitor's bin still holds — one put back by hand, or purged,
    is not — and the Undo button for them (``undo_button``)."""
    bin_ = store.store()
    owner = session.scope()
    left = [run_id for run_id in ids if bin_.get(run_id, owner) is None and bin_.get(run_id, owner, binned=True)]
    return left, undo_button(len(left))


def unselected_view(search: str, status: str, engine: str, session: Session,
                    seen: str | None = None) -> tuple[Any, ...]:
    """``history_view`` after the selection was cleared (a delete, its undo, the bin emptied): no thumbnail
    highlighted beside details that are empty (the gallery kept the highlight at the index it had)."""
    frame, line, pictures, ids, *rest = history_view(search, status, engine, session, seen)
    return (frame, line, gr.Gallery(value=pictures, selected_index=None), ids, *rest)


def select_picture(ids: list[str], session: Session, event: gr.SelectData) -> tuple[Any, ...]:
    """A thumbnail chosen: that run, as if its row had been selected (``select_row``)."""
    index = event.index if isinstance(event.index, int) else -1
    run_id = ids[index] if 0 <= index < len(ids) else None
    return select_row(session, SimpleNamespace(row_value=[run_id] if run_id else []))  # type: ignore[arg-type]


def select_row(session: Session, event: gr.SelectData) -> tuple[Any, ...]:
    """A row clicked: ``select``'s five values, then the line beside the buttons cleared (what it said — a
    refusal, a seed reused, a run deleted — was about the run selected before, or about none)."""
    return (*select(session, event), "")


def notice() -> str:
    text = getattr(store.store(), "notice", None)
    lines = [f"Warning: {plain(text)}"] if text else []
    if config.history_is_ephemeral():
        lines.append("Warning: This Space has no persistent storage: history is lost when it restarts. (Its owner can "
                     "add persistent storage in the Space's settings; the history then lives in "
                     "`/data/clarity-studio`.)")
    return "  \n".join(lines)


def select(session: Session, event: gr.SelectData) -> tuple[str | None, Any, dict, str, Any]:
    """The selected run (one in the bin too): its id, input/output pair, every detail, the code that reproduces
    it, and "Delete its sweep" shown when it is a sweep's cell (not in the bin)."""
    row = event.row_value or []
    run_id = str(row[-1]) if row else None
    run = store.store().get(run_id, owner=session.scope(), binned=True) if run_id else None
    if run is None:
        return unselected()
    named = download_name(run)
    pair = ((servable(run.input_path), servable(run.output_path, named)) if run.input_path and run.output_path
            else None)
    from core import snippets

    arguments = run.replay_arguments()
    try:
        code = snippets.subscribe_code(arguments, image_path_hint=run.input_name or run.input_path,
                                       region=Region.parse(run.region))
    except StudioError as exc:
        code = f"# This run cannot be written as code: {exc}"
    in_bin = store.store().get(run.id, owner=session.scope()) is None
    return run.id, pair, _details(run), code, gr.update(visible=run.sweep_id is not None and not in_bin)


def bin_buttons(status: str) -> tuple[Any, Any]:
    """*Restore into the form* and *Delete* are not offered in the bin: a binned run is put back or purged
    (they were there, and each refused a binned run when pressed)."""
    outside = status != BIN
    return gr.update(visible=outside), gr.update(visible=outside)


def _details(run: Run) -> dict[str, Any]:
    """Every field of the run a visitor may see: files named relative to the data directory, no owner id."""
    info = run.to_dict()
    del info["owner"]
    data_dir = config.data_dir()
    for name in ("input_path", "output_path", "whole_path"):
        info[name] = relative_path(info[name], data_dir)
    for name in ("created_at", "started_at", "finished_at"):  # ISO 8601 with the zone, not epoch seconds
        if isinstance(info.get(name), (int, float)):
            info[name] = iso_time(info[name])
    info["seed"] = run.seed_used  # none on an engine that uses no seed (older rows kept a random one)
    if ignores_seed(run.engine):  # nor among its arguments (a sweep's cells were given the sweep's)
        info["arguments"] = {k: v for k, v in info["arguments"].items() if k != "seed"}
    info["queued_seconds"], info["running_seconds"] = run.queue_seconds, run.engine_seconds
    info["run_seconds"] = run.run_seconds  # from leaving the queue to the output kept (its download included)
    for name in ("queued_seconds", "running_seconds", "run_seconds"):  # to the millisecond, not 0.0207347869…
        if isinstance(info[name], float):
            info[name] = round(info[name], 3)
    if isinstance(info.get("timings"), dict):
        info["timings"] = {step: round(value, 3) if isinstance(value, float) else value
                           for step, value in info["timings"].items()}
    return info


def restore(run_id: str | None, session: Session, view: run_panel.View | None = None) -> list[Any]:
    """Every parameter of the run back into the form, its input image and its engine too, the Upscale tab opened,
    its run panel (``view``, as it was) saying what was restored and where the run it showed went, and the Output
    PNG and Result JSON emptied (the last run's console, pictures and files are not this one's); or, with no run
    selected, only the line beside the buttons says so. (A lanczos run restored ran on the engine chosen before,
    and a free run could go to fal.)"""
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    if run is None:
        unchanged = [gr.skip()] * (len(schema.PARAMETER_FIELDS) + 7)
        return [*unchanged, said("Select a run in the table first (one not in the bin) to restore it.")]
    values = run.parameters()
    # The stored input is a PNG (every input is normalised): it keeps its name, with the extension it now has.
    image = servable(run.input_path, Path(run.input_name).stem + ".png" if run.input_name else None)
    url = run.arguments.get("image_url") or "" if not image else ""
    restored = run_panel.put_aside(view, f"Restored {run_panel.run_label(run)} into the form: press Upscale to "
                                         "run it again.")
    return [*(values[f.name] for f in schema.PARAMETER_FIELDS), image, url, run.engine, gr.Tabs(selected="upscale"),
            restored, None, None, ""]


def whole_offered(run_id: str | None, session: Session) -> Any:
    """*Run the whole picture* is offered for a selected finished region run."""
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    return gr.update(visible=run is not None and run.region is not None and run.status == "completed")


def seed_offered(run_id: str | None, session: Session) -> Any:
    """*Reuse seed* is offered only for a selected run whose seed made its picture (never a local or lanczos
    run: those engines use no seed)."""
    run = store.store().get(run_id, owner=session.scope(), binned=True) if run_id else None
    return gr.update(visible=run is not None and run.seed_used is not None)


def reuse_seed(run_id: str | None, session: Session) -> tuple[Any, str]:
    """The run's seed into the Upscale tab's Seed box, said beside the button and in a toast (the tab stays)."""
    run = store.store().get(run_id, owner=session.scope(), binned=True) if run_id else None
    if run is None:
        return gr.skip(), said("Select a run in the table first to reuse its seed.")
    if run.seed_used is None:
        why = f"the {run.engine} engine uses no seed" if ignores_seed(run.engine) else "it has no recorded seed"
        return gr.skip(), said(f"This run's seed cannot be reused: {why}.")
    gr.Info(f"Seed {run.seed_used} is in the Upscale tab's form.")
    return run.seed_used, (f"Seed **{run.seed_used}** is in the Upscale tab's form: a run there with these "
                           "settings gives this picture again.")


def _deleted(ids: list[str], what: str, search: str, status: str, engine: str, session: Session,
             seen: str | None) -> tuple:
    line = (f"Moved {what} to the bin. **Undo delete** puts it back; the bin (Status: “{BIN}”) keeps it, with its "
            f"files, for {BIN_DAYS} days.")
    return (*unselected(), line, ids, undo_button(len(ids)), *unselected_view(search, status, engine, session, seen))


def delete(run_id: str | None, search: str, status: str, engine: str, session: Session,
           seen: str | None = None) -> tuple:
    """Move the selected run to the bin (its files kept) and show the table without it (``seen``: the table's
    key before, as ``history_view`` takes it); Undo puts it back."""
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    if run is None or not store.store().delete(run.id, owner=session.scope()):
        return (*[gr.skip()] * 5, said("Select a run in the table first (one not in the bin) to delete it."),
                *[gr.skip()] * (2 + VIEW_OUTPUTS))
    return _deleted([run.id], run_panel.run_label(run), search, status, engine, session, seen)


def delete_sweep(run_id: str | None, search: str, status: str, engine: str, session: Session,
                 seen: str | None = None) -> tuple:
    """Move every run of the selected cell's sweep to the bin; Undo puts them all back."""
    run = store.store().get(run_id, owner=session.scope()) if run_id else None
    ids = store.store().delete_sweep(run.sweep_id, owner=session.scope()) if run and run.sweep_id else []
    if not ids:
        return (*[gr.skip()] * 5, said("Select a run of a sweep first (one not in the bin) to delete its sweep."),
                *[gr.skip()] * (2 + VIEW_OUTPUTS))
    return _deleted(ids, f"sweep {run.sweep_id} ({counted(len(ids), 'run')})" if run else "the sweep", search,
                    status, engine, session, seen)


def undo(ids: list[str], search: str, status: str, engine: str, session: Session, seen: str | None = None) -> tuple:
    """Put the last deletion back (every run of it still in the bin)."""
    back = store.store().undelete(ids or [], owner=session.scope())
    line = f"Put back {back} run{'s' * (back != 1)}." if back else "Nothing to undo: the bin no longer holds them."
    return line, [], undo_button(0), *unselected_view(search, status, engine, session, seen)


def put_back(run_id: str | None, search: str, status: str, engine: str, session: Session,
             seen: str | None = None, deleted: list[str] | None = None) -> tuple:
    """Take the selected run out of the bin: ``select``'s five values emptied (the run left the bin's table),
    what was done, Undo's two for the last deletion (``deleted``, run ids; ``undo_offered``: the run put back is
    no longer to undo) and the table's view; or, with no run of the bin selected, only the line saying so."""
    if not run_id or not store.store().undelete([run_id], owner=session.scope()):
        return (*[gr.skip()] * 5, said("Select a run in the bin first to put it back."),
                *[gr.skip()] * (2 + VIEW_OUTPUTS))
    return (*unselected(), "Put back 1 run.", *undo_offered(deleted or [], session),
            *unselected_view(search, status, engine, session, seen))


def empty_bin(search: str, status: str, engine: str, session: Session, seen: str | None = None) -> tuple:
    """Delete for good every run in the visitor's bin, with its files."""
    gone = store.store().purge(session.scope())
    return (f"Emptied the bin: {gone} run{'s' * (gone != 1)} deleted for good, with {'their' if gone != 1 else 'its'}"
            " files.", [], undo_button(0), *history_view(search, status, engine, session, seen))


def binned_ids(session: Session) -> list[str]:
    """Every run id in the visitor's bin (not only those the table shows: Empty the bin empties it all)."""
    return sorted(store.store().frame(session.scope(), binned=True)["id"])


def unasked() -> tuple[Any, ...]:
    """The question beside Empty the bin put away: its row hidden, nothing agreed to."""
    return gr.Row(visible=False), gr.skip(), gr.skip(), []


def ask_empty(session: Session, search: str = "", engine: str = ANY) -> tuple[Any, ...]:
    """Empty the bin's first click: beside it, how many runs will be deleted for good with their files (and how
    many of them the table's search or Engine filter hides: the whole bin is emptied), a button to go on and one
    to keep them (``unasked``'s four values, shown); with an empty bin, only the line saying so."""
    ids = binned_ids(session)
    if not ids:
        return (*unasked(), "The bin is empty: nothing to delete.")
    shown = len(history(search, BIN, engine, session=session))
    hidden = f" ({len(ids) - shown} of them not shown by your search or filter)" if shown < len(ids) else ""
    runs = f"{len(ids)} run{'s' * (len(ids) != 1)}"
    return (gr.Row(visible=True), f"**Delete {runs}{hidden} and {'their' if len(ids) != 1 else 'its'} files for "
            "good?** This cannot be undone.", gr.update(value=f"Yes, delete {len(ids)} for good"), ids, gr.skip())


def still_asked(asked: list[str], status: str, session: Session) -> tuple[Any, ...]:
    """The question kept only while the bin is shown and holds what it held when asked (a put back, an undo, a
    new deletion make its count wrong), else put away."""
    if asked and status == BIN and binned_ids(session) == sorted(asked):
        return (gr.skip(),) * 4
    return unasked()


def empty_agreed(asked: list[str], search: str, status: str, engine: str, session: Session,
                 seen: str | None = None) -> tuple:
    """The question's *Yes*: the bin emptied (``empty_bin``) when it still holds the runs ``asked`` about, else
    only the line saying it changed; the question put away either way."""
    if not asked or binned_ids(session) != sorted(asked):
        return (said("The bin changed since you asked: nothing was deleted. Press **Empty the bin** again."),
                *[gr.skip()] * (2 + VIEW_OUTPUTS), *unasked())
    return (*empty_bin(search, status, engine, session, seen), *unasked())


def export_csv(search: str, status: str, engine: str, session: Session) -> str:
    """The filtered history with every column, written by pandas."""
    owner = session.scope()
    frame = store.store().frame(owner, search=search or "", **_filters(status, engine))
    folder = config.data_dir() / "exports"
    folder.mkdir(exist_ok=True)
    path = folder / f"history-{time.strftime('%Y%m%d-%H%M%S')}-{len(frame)}.csv"
    return served(str(store.store().export_csv(frame, path)))


def export_dataset(search: str, status: str, engine: str, session: Session,
                   request: gr.Request | None = None) -> tuple[Any, str]:
    """The table as filtered (not the bin), its finished runs as an imagefolder zip (``core/usecases/export.py``)."""
    filters = _filters(status, engine)
    if filters["binned"]:
        return gr.skip(), said("The bin is not exported: choose another status to export its runs.")
    try:
        written = export.history_dataset(for_request(session, request), search or "", filters["status"],
                                         filters["engine"])
    except StudioError as exc:
        return gr.skip(), said(str(exc))
    return dataset_export.shown(written)


def listen(panel: HistoryPanel, session: gr.State, params: dict[str, Widget],
           image_file: gr.File, image_url: gr.Textbox, tabs: gr.Tabs, run_event: Any, run_view: gr.State,
           whole: whole_picture.Form) -> Any:
    """Wire the panel and return the Restore event; ``run_event`` is the Upscale event, after which the table
    refreshes, and ``run_view`` the Upscale tab's run panel (Restore says there what it restored). Nothing of it is
    filled when the page loads: the table, the pictures, the notice and Compare's menus fill when a tab is
    selected (the History tab among them), so the first screen waits for none of them."""
    filters = [panel.search, panel.status, panel.engine, session]
    viewing = [*filters, panel.table_key]  # a handler that shows the table again is told which one it replaces
    shown = [panel.table, panel.shown, panel.gallery, panel.gallery_ids, panel.put_back, panel.empty_bin,
             panel.table_key, panel.csv, panel.dataset.file, panel.dataset.line]  # history_view's outputs
    chosen = [panel.selected, panel.before_after, panel.details, panel.code, panel.delete_sweep]
    # Each showing of the table also drops a selection it no longer holds, and Undo follows the bin.
    again = ([*viewing, panel.selected, panel.last_deleted],
             [*shown, panel.action, *chosen, panel.last_deleted, panel.undo])
    changers = [panel.refresh.click(shown_again, *again, api_visibility="private")]
    # Opening a tab refreshes too: sweep cells, and runs resumed in the background, are runs the Upscale event
    # never announced.
    for trigger in (panel.search.submit, panel.status.change, panel.engine.change, run_event.then, tabs.select):
        changers.append(trigger(shown_again, *again, api_visibility="private", show_progress="hidden"))
    panel.status.change(bin_buttons, panel.status, [panel.restore, panel.delete], api_visibility="private",
                        show_progress="hidden", queue=False)
    panel.table.select(select_row, session, [*chosen, panel.action],
                       api_visibility="private").then(None, js=SHOW_CHOSEN)
    panel.gallery.select(select_picture, [panel.gallery_ids, session], [*chosen, panel.action],
                         api_visibility="private").then(None, js=SHOW_CHOSEN)
    restored = panel.restore.click(restore, [panel.selected, session, run_view],
                                   [*params.values(), image_file, image_url, whole.engine, tabs, run_view,
                                    *whole.shown, panel.action], api_visibility="private")
    restored.then(None, js=run_panel.SHOW_FORM)
    panel.reuse_seed.click(reuse_seed, [panel.selected, session], [params["seed"], panel.action],
                           api_visibility="private")
    panel.selected.change(seed_offered, [panel.selected, session], panel.reuse_seed, api_visibility="private",
                          show_progress="hidden")
    panel.selected.change(whole_offered, [panel.selected, session], panel.whole, api_visibility="private",
                          show_progress="hidden")
    whole_picture.listen(panel.whole, panel.selected, session, whole)
    undoable = [panel.action, panel.last_deleted, panel.undo, *shown]
    binning = [button.click(handler, [panel.selected, *viewing], [*chosen, *undoable], api_visibility="private")
               for button, handler in ((panel.delete, delete), (panel.delete_sweep, delete_sweep))]
    binning.append(panel.undo.click(undo, [panel.last_deleted, *viewing], undoable, api_visibility="private"))
    binning.append(panel.put_back.click(put_back, [panel.selected, *viewing, panel.last_deleted],
                                        [*chosen, *undoable], api_visibility="private"))
    changers += binning  # what moves runs into the bin or out of it
    confirming = [panel.confirm, panel.confirm_question, panel.confirm_yes, panel.asked]
    panel.empty_bin.click(ask_empty, [session, panel.search, panel.engine], [*confirming, panel.action],
                          api_visibility="private")
    emptied = panel.confirm_yes.click(empty_agreed, [panel.asked, *viewing], [*undoable, *confirming],
                                      api_visibility="private")
    panel.confirm_keep.click(unasked, None, confirming, api_visibility="private")
    # Whatever shows the table again may have changed the bin (or left it): the question follows.
    for event in changers:
        event.then(still_asked, [panel.asked, panel.status, session], confirming, api_visibility="private",
                   show_progress="hidden")
    panel.export.click(export_csv, filters, panel.csv, api_visibility="private")
    panel.dataset.button.click(export_dataset, filters, [panel.dataset.file, panel.dataset.line],
                               api_visibility="private")
    tabs.select(notice, None, panel.notice, api_visibility="private", show_progress="hidden")
    # Compare's menus follow every change of the history: a tab opened, Refresh, a run done, and what the tab's
    # buttons delete or put back (after Undo delete they listed 11 runs of 19)
    compare.listen(panel.compare, session, [tabs.select, panel.refresh.click, run_event.then,
                                            *(event.then for event in binning), emptied.then])
    return restored
