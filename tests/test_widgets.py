"""No widget starts with a value its page component would rewrite when it is first drawn.

Gradio 6.31's page components normalise some values as they mount: a number box turns an empty value into 0
(``value ??= 0``), a slider's range input snaps to its bounds and step. Inside a closed accordion or another tab
that happens when it is first opened, so a value would change without the user touching it (issue 12: the
random seed became 0). The browser test ``test_browser_untouched.py`` checks the whole path; this one checks
every widget of the built app at once.
"""

from __future__ import annotations

import math

import gradio as gr

import app


def test_every_widget_starts_with_a_value_its_page_component_keeps() -> None:
    demo = app.build()
    for block in demo.blocks.values():
        name = block.elem_id or getattr(block, "label", None) or type(block).__name__
        if isinstance(block, gr.Number):
            assert block.value is not None, f"{name}: an empty number box becomes 0 when it is first drawn"
        if isinstance(block, gr.Slider):
            assert block.minimum <= block.value <= block.maximum, name
            steps = (block.value - block.minimum) / block.step
            assert math.isclose(steps, round(steps), abs_tol=1e-9), f"{name}: {block.value} is off its step"
        if isinstance(block, (gr.Dropdown, gr.Radio)) and block.value not in (None, []):
            values = [choice[1] if isinstance(choice, tuple) else choice for choice in block.choices]
            assert block.value in values, f"{name}: {block.value!r} is not one of its choices"
