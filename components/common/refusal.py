"""Ordinary mistakes (a refused input, a missing key, an out-of-range value) as messages, not crashes.

``refused(message)`` is the ``gr.Error`` every handler raises for them: the person sees the message, the server
log gets one line, and no Python traceback (Gradio prints one for every ``gr.Error`` unless told not to). Real
errors are not caught, so they keep their traceback.
"""

from __future__ import annotations

import logging
import threading
import time

import gradio as gr

from components.common.text import toast

log = logging.getLogger("clarity.refused")
_recent: dict[str, float] = {}  # message → when it was logged: every listener reading a refused widget raises it
_lock = threading.Lock()


def refused(message: str, *, visible: bool = True) -> gr.Error:
    """The error to raise for an ordinary mistake: logged once (in one line), shown without a traceback."""
    now = time.monotonic()
    with _lock:
        for old in [text for text, at in _recent.items() if now - at > 2]:
            del _recent[old]
        repeated = message in _recent
        _recent[message] = now
    if not repeated:
        log.warning("refused: %s", " ".join(message.split()))
    return gr.Error(toast(message), visible=visible, print_exception=False)
