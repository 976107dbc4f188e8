"""The console's text box: a Textbox on the page that the API leaves out of an event's outputs, like a gr.State.

The Upscale event streams each update's console text straight into it (``run_panel.upscale_live``): a log line
reaches the page with the update itself, not one request later through the State's ``change`` listener
(bench/log_latency.py), and ``/upscale`` still returns only the PNG and the result JSON. A template of
``gr.Textbox``, as Gradio's own ``gr.TextArea`` is (the page uses the Textbox), with ``skip_api`` as ``gr.State``
and ``gr.Button`` have it. Gradio writes ``console_log.pyi`` beside any module that subclasses a component; git
ignores it (``.gitignore``).
"""

from __future__ import annotations

import gradio as gr


class ConsoleLog(gr.Textbox):
    """A read-only Textbox that is not part of any event's API."""

    is_template = True

    @property
    def skip_api(self) -> bool:
        return True
