""""Reuse this seed" puts the result's seed where the person sees it. The Seed box used to sit in the closed
*Advanced* accordion, so the click seemed to do nothing (a user trial)."""

from __future__ import annotations

import gradio as gr
import pytest

from components.upscale import run_panel
from components.upscale.action import View


@pytest.fixture(scope="module")
def demo() -> gr.Blocks:
    import app

    return app.build()


def _ancestors(block: gr.blocks.Block) -> list[gr.blocks.Block]:
    found, parent = [], block.parent
    while parent is not None:
        found.append(parent)
        parent = parent.parent
    return found


def test_the_seed_box_is_not_inside_a_closed_accordion(demo) -> None:
    seed = next(b for b in demo.blocks.values() if getattr(b, "label", None) == "Seed")
    reuse = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "reuse-seed")
    assert [fn for fn in demo.fns.values() if (reuse._id, "click") in fn.targets][0].outputs == [seed]
    closed = [a for a in _ancestors(seed) if isinstance(a, gr.Accordion) and not a.open]
    assert closed == []


def test_reuse_gives_the_shown_seed_or_leaves_the_box_alone() -> None:
    view = View()
    assert run_panel.seed_of(view) == gr.skip()  # no result yet: the box keeps what the person typed
    view.seed = 2905471882
    assert run_panel.seed_of(view) == 2905471882
