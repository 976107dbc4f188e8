"""Ordinary mistakes (a refused input, a missing key, an out-of-range value) as messages, not crashes.

``refused(message)`` is the ``gr.Error`` a handler raises for them: the person sees the message, the server log gets
one line, and no Python traceback (Gradio prints one for every ``gr.Error`` unless told not to). A handler whose
outputs lie away from the control pressed returns ``said(message)`` into a line beside that control instead: an
error belongs to the widget it is about. Real errors are not caught, so they keep their traceback.
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
    """The error to raise for an ordinary mistake: logged once (in one line), shown without a traceback. Gradio
    marks every output of the event with it (an *Error* badge), so raise it only from a handler whose outputs sit
    by the control pressed; otherwise return ``said(message)`` into a line beside that control."""
    said(message)
    return gr.Error(toast(message), visible=visible, print_exception=False)


def said(message: str) -> str:
    """A refusal shown on the page beside the control it is about (not raised): logged once, returned as is."""
    now = time.monotonic()
    with _lock:
        for old in [text for text, at in _recent.items() if now - at > 2]:
            del _recent[old]
        repeated = message in _recent
        _recent[message] = now
    if not repeated:
        log.warning("refused: %s", " ".join(message.split()))
    return message
