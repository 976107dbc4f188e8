"""The page opens with one load event (``bench/page_load.py`` measures why), and what it no longer fills on
load — the History tab's table, pictures and notice, Compare's menus — still arrives when the visitor opens the
History tab. Checked through the built app's own events: their triggers, and their handlers run on their inputs.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pytest

from components.common.session import Session
from components.upscale import page_open
from core.runs import store
from core.runs.runs import Run


@pytest.fixture(scope="module")
def demo() -> gr.Blocks:
    import app

    return app.build()


def _by_id(demo: gr.Blocks, elem_id: str) -> Any:
    return next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == elem_id)


def _triggered_by(demo: gr.Blocks, block: Any, event: str) -> list[Any]:
    return [fn for fn in demo.fns.values() if (block._id, event) in fn.targets]


def _run(fn: Any) -> Any:
    """The event's handler on its inputs' values as the page holds them when it opens (a fresh session)."""
    values = [Session() if isinstance(block, gr.State) and isinstance(block.value, Session) else block.value
              for block in fn.inputs]
    return fn.fn(*values)


def test_the_page_opens_with_one_load_event_and_nothing_chained_on_it(demo) -> None:
    loads = [fn for fn in demo.fns.values() if any(event == "load" for _, event in fn.targets)]
    assert [fn.fn for fn in loads] == [page_open.open_page]
    load_ids = {id(fn) for fn in loads}
    index = {i: fn for i, fn in demo.fns.items()}
    assert not [fn for fn in demo.fns.values() if fn.trigger_after is not None
                and id(index.get(fn.trigger_after)) in load_ids]
    outputs = {getattr(block, "elem_id", None) for block in loads[0].outputs}
    assert not {"history-table", "history-gallery", "history-notice"} & outputs  # deferred to the tab


def test_opening_the_history_tab_fills_its_table_pictures_notice_and_compare_menus(demo, monkeypatch) -> None:
    history = store.store()
    earlier = Run(engine="local", arguments={"prompt": "made before the page opened"}, status="completed",
                  output_path="")
    history.save(earlier)
    monkeypatch.setattr(history, "notice", "The history file was damaged and started afresh.", raising=False)
    tabs = next(block for block in demo.blocks.values() if isinstance(block, gr.Tabs))
    filled: dict[str, Any] = {}
    for fn in _triggered_by(demo, tabs, "select"):
        result = _run(fn)
        result = result if isinstance(result, (tuple, list)) else [result]
        for block, value in zip(fn.outputs, result, strict=True):
            filled[getattr(block, "elem_id", None) or str(block._id)] = value
    table, notice = filled["history-table"], filled["history-notice"]
    assert earlier.id in list(table["id"])  # the run made before the page opened is in the table
    assert "damaged" in notice
    for menu in ("compare-a", "compare-b"):
        assert menu in filled  # Compare's menus refill too
    assert "history-gallery" in filled


def test_open_page_on_a_plain_visit_leaves_the_form_alone() -> None:
    request = gr.Request(headers={"host": "studio.example"}, query_params={}, client=None)
    token, session, status, engine, owner_tab, *rest = page_open.open_page("", Session(), request)
    assert token == "" and isinstance(session, Session) and "fal key" in status.lower()
    assert engine == "local" and owner_tab.visible is True  # no key here; a single-user app's user owns it
    assert all(value == gr.skip() for value in rest[:-6])  # every parameter and the URL untouched
    assert rest[-4:] == [gr.skip()] * 4  # no preview to make, no region from a link


def test_open_page_with_a_deep_link_fills_the_form_and_names_the_preset() -> None:
    request = gr.Request(headers={"host": "studio.example"}, query_params={"preset": "gentle-restore"},
                         client=None)
    outputs = page_open.open_page("", Session(), request)
    menu = outputs[-6]
    assert menu.value == "gentle-restore"
