"""*Export as dataset*: a button, the zip it writes (Hugging Face's ``imagefolder`` layout, ``core/runs/dataset.py``)
and a line beside them saying what it holds or why there is nothing — for a finished sweep and for the History
tab's table. The runs are read through ``core/usecases/export.py`` (the visitor's own only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.common.files import served
from components.common.refusal import said
from components.common.session import Session, for_request
from core.errors import StudioError
from core.runs.dataset import DatasetZip
from core.usecases import export

HOW_TO_LOAD = 'unzip it, then `datasets.load_dataset("imagefolder", data_dir="<folder>")`'


@dataclass
class DatasetExport:
    button: gr.Button
    file: gr.File
    line: gr.Markdown


def render(what: str, elem_id: str) -> DatasetExport:
    """The button (``Export <what> as dataset``), its file and line; ids ``<elem_id>``, ``-file``, ``-line``."""
    with gr.Row(equal_height=True):
        button = gr.Button(f"Export {what} as dataset", size="sm", scale=1, min_width=200, elem_id=elem_id)
        file = gr.File(label="Dataset (imagefolder zip)", interactive=False, visible=False, scale=2,
                       elem_id=f"{elem_id}-file")
    line = gr.Markdown("", elem_id=f"{elem_id}-line")
    return DatasetExport(button, file, line)


def shown(written: DatasetZip) -> tuple[Any, str]:
    """The zip as a file to download, and the line saying what it holds and how to load it."""
    left_out = f"; {written.skipped} run{'s' * (written.skipped != 1)} not finished left out" if written.skipped \
        else ""
    return (gr.File(served(str(written.path)), visible=True),
            f"{written.rows} picture{'s' * (written.rows != 1)} with their parameters in `metadata.jsonl`"
            f"{left_out} — {HOW_TO_LOAD}.")


def sweep(view: Any, session: Session, request: gr.Request | None = None) -> tuple[Any, str]:
    """The Sweep tab's handler: the sweep on show (``view.plan``) as a dataset."""
    plan = getattr(view, "plan", None)
    if plan is None:
        return gr.skip(), said("Run or re-open a sweep first: there is nothing to export.")
    try:
        return shown(export.sweep_dataset(plan.id, for_request(session, request)))
    except StudioError as exc:
        return gr.skip(), said(str(exc))
