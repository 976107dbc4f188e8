"""Start-up work done at launch (never at import): the queue, launch settings, and re-attaching to fal runs a
restart left pending."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from components.common import request_limits, theme
from core import config, usecases

HERE = Path(__file__).resolve().parent


def resume_pending_runs() -> Any:
    """Follow every pending fal run to completion in the background; mark interrupted local runs
    (``core/usecases/fetch.py``)."""
    return usecases.resume_pending()


def prepare(demo: gr.Blocks) -> None:
    """The queue (bounded) and the resumption of pending runs."""
    check_data_dir()
    demo.queue(default_concurrency_limit=8, max_size=config.max_queue() or None)
    resume_pending_runs()


def check_data_dir() -> None:
    """Refuse to start with the data directory inside Gradio's cache, which Gradio serves to anyone by path."""
    from gradio import utils

    cache = Path(utils.get_upload_folder()).resolve()
    if config.data_dir().is_relative_to(cache):
        raise SystemExit(f"CLARITY_DATA_DIR must not lie inside Gradio's cache ({cache}): Gradio serves that "
                         "folder to anyone who names a file in it.")


def launch_settings() -> dict[str, Any]:
    """The theme (components/common/theme.py), styles, keyboard shortcuts, the upload cap, the request-body cap
    and footer links. No ``allowed_paths``: the data directory is never served by path (see
    components/common/files.py)."""
    return {"theme": theme.build(), "css_paths": [str(HERE / "style.css")],
            "head_paths": [str(HERE / "shortcuts.html")],
            "footer_links": ["api", "gradio"], "max_file_size": config.max_upload_bytes(),
            "app_kwargs": {"middleware": request_limits.middleware()}}
