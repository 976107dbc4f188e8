"""Start-up work done at launch (never at import): the queue, launch settings, and re-attaching to fal runs a
restart left pending."""

from __future__ import annotations

import logging
import os
import socket
import warnings
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from components.api import mcp_identity
from components.common import api_calls, request_limits, theme
from core import config, usecases

HERE = Path(__file__).resolve().parent
log = logging.getLogger("clarity.owner")


def resume_pending_runs() -> Any:
    """Follow every pending fal run to completion in the background; mark interrupted local runs
    (``core/usecases/fetch.py``)."""
    return usecases.resume_pending()


def prepare(demo: gr.Blocks) -> None:
    """The queue (bounded) and the resumption of pending runs."""
    # Gradio warns that the public endpoints' browser session (a gr.State) is not kept between MCP tool calls: an
    # MCP call never uses it (components/common/session.py: for_mcp gives each MCP caller its own session).
    warnings.filterwarnings("ignore", message="This MCP server includes a tool that has a gr.State input")
    check_data_dir()
    warn_resetting_caps()
    # Gradio's queue sums up its last 10,000 events for its monitoring page (a pandas group-by, ~55 ms of CPU) after
    # every event by default; the app turns that page off (``launch_settings``), so the sum is never read. Made
    # once in a billion events instead (Gradio's own setting, read as the queue is made; an owner's value stays):
    # re-opening a 100-cell sweep in the page spent a third of the app's CPU on it (bench/sweep.py, case e).
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(10 ** 9))
    demo.queue(default_concurrency_limit=8, max_size=config.max_queue() or None)
    resume_pending_runs()
    usecases.keep_saving()  # a finished paid result the disk could not take is saved again every 30 s


def warn_resetting_caps() -> None:
    """Tell the owner, once at start, that the Space's key is off because its caps would reset at every restart,
    and how to turn it on (README, "Hugging Face Space")."""
    if config.shared_mode() and config.env_fal_key() and not config.caps_survive_restart():
        log.warning("this Space's FAL_KEY is not used: without persistent storage its spending caps would reset at "
                    "every restart. Turn on persistent storage in the Space's settings (the data goes to /data), set "
                    "CLARITY_DATA_DIR to a folder that survives restarts, or accept caps that reset with "
                    "CLARITY_ACCEPT_RESETTING_CAPS=1. Visitors can still type their own key or use the local engine.")


def check_data_dir() -> None:
    """Refuse to start with the data directory inside Gradio's cache, which Gradio serves to anyone by path."""
    from gradio import utils

    cache = Path(utils.get_upload_folder()).resolve()
    if config.data_dir().is_relative_to(cache):
        raise SystemExit(f"CLARITY_DATA_DIR must not lie inside Gradio's cache ({cache}): Gradio serves that "
                         "folder to anyone who names a file in it.")


def launch_settings() -> dict[str, Any]:
    """The theme (components/common/theme.py), styles, keyboard shortcuts, the upload cap, the request-body cap
    (then raw REST calls completed, ``api_calls.py``, and MCP callers signed, ``components/api/mcp_identity.py``),
    the MCP server (the public endpoints as tools, at ``/gradio_api/mcp/``) and footer links. No
    ``allowed_paths``: the data directory is never served by path (see components/common/files.py). No monitoring
    page: Gradio's ``/monitoring/summary`` (on unless turned off) told anyone every handler's name, success rate
    and timings, how busy a shared Space is."""
    return {"theme": theme.build(), "css_paths": [str(HERE / "style.css")], "enable_monitoring": False,
            "head_paths": [str(HERE / "shortcuts.html"), str(HERE / "page_end.html")],
            "footer_links": ["api", "gradio"], "max_file_size": config.max_upload_bytes(), "mcp_server": True,
            "app_kwargs": {"middleware": [*request_limits.middleware(), Middleware(api_calls.ApiCalls),
                                          Middleware(mcp_identity.McpIdentity)]}}


FIRST_PORT, PORTS_TRIED = 7860, 100  # where Gradio looks for a free port when none is given


def _free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def address(settings: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The launch settings with the port fixed before the server starts, and the local URL it will answer at.

    Gradio caches ``/gradio_api/info`` (the API page's snippets, the sample photo's address among them) at its first
    request, which may come before ``launch`` returns: so the address is known first, as Gradio would choose it —
    ``server_name``/``GRADIO_SERVER_NAME`` (127.0.0.1; 0.0.0.0 is reached as localhost), ``server_port``/
    ``GRADIO_SERVER_PORT``, else the first free port from 7860. OSError when none of those ports is free."""
    name = str(settings.get("server_name") or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1")
    given = settings.get("server_port") or os.environ.get("GRADIO_SERVER_PORT")
    if given:
        port = int(str(given))
    else:
        port = next((p for p in range(FIRST_PORT, FIRST_PORT + PORTS_TRIED) if _free(name, p)), 0)
        if not port:
            raise OSError(f"No free port from {FIRST_PORT} to {FIRST_PORT + PORTS_TRIED - 1}: set GRADIO_SERVER_PORT.")
    host = "localhost" if name == "0.0.0.0" else f"[{name}]" if ":" in name else name
    return {**settings, "server_name": name, "server_port": port}, f"http://{host}:{port}/"


def public_root(local_url: str | None) -> str:
    """Where visitors reach this app: a Space's own address (``SPACE_HOST``), else its local URL."""
    host = os.environ.get("SPACE_HOST", "").strip()
    return f"https://{host}/" if host else (local_url or "http://127.0.0.1:7860/")
