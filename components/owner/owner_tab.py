"""Owner tab: the Space owner's view of spending (``core/sharing/owner.py``) — caps in force, the fal account's
last failure, spending by day and by visitor today, refusals by reason — with reset, block and export.

The tab is drawn hidden for everyone and shown by the page's load event only to the owner (a single-user app's
user, or the Space's author or an admin signed in with Hugging Face). Every handler asks ``core.sharing.owner``,
which refuses anyone else, so a stranger who reaches an event by other means gets a refusal, not the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from components.common.refusal import said
from components.common.session import Session
from components.common.text import plain
from core import config
from core.errors import StudioError
from core.sharing import owner

INTRO = ("Spending on this Space's fal key by its visitors. Addresses are kept only as keyed hashes; the ledger keeps "
         "its rows for `CLARITY_LEDGER_DAYS` days (README: *What is stored about visitors*).")
INTRO_UNSHARED = ("This app is not shared: only you use it, on your own key, and nothing is counted here. Shared (on a "
                  "Hugging Face Space, or with `CLARITY_SHARED=1`), this tab shows its owner what visitors spend on "
                  "the app's `FAL_KEY`: by day and by visitor, refusals, and who to reset or block (README: "
                  "*Hugging Face Space*).")


@dataclass
class OwnerTab:
    tab: gr.Tab
    caps: gr.Markdown
    account: gr.Markdown
    days: gr.Dataframe
    visitors: gr.Dataframe
    refusals: gr.Dataframe
    target: gr.Textbox
    reset: gr.Button
    block: gr.Button
    unblock: gr.Button
    line: gr.Markdown
    export: gr.Button
    ledger: gr.File


def render(tab: gr.Tab) -> OwnerTab:
    """The tab's widgets, inside ``tab`` (drawn hidden)."""
    gr.Markdown(INTRO if config.shared_mode() else INTRO_UNSHARED, elem_id="owner-intro")
    caps, account = gr.Markdown(elem_id="owner-caps"), gr.Markdown(elem_id="owner-account")
    visitors = gr.Dataframe(label="Visitors today (select one to act on it)", interactive=False,
                            elem_id="owner-visitors")
    with gr.Row():
        target = gr.Textbox(label="Visitor id", placeholder="select a visitor above", scale=3)
        reset = gr.Button("Reset their day", size="sm", scale=1, min_width=140)
        block = gr.Button("Block from the key", size="sm", variant="stop", scale=1, min_width=140)
        unblock = gr.Button("Unblock", size="sm", scale=1, min_width=100)
    line = gr.Markdown(elem_id="owner-line")
    with gr.Row():
        days = gr.Dataframe(label="Spending by day (UTC)", interactive=False, elem_id="owner-days")
        refusals = gr.Dataframe(label="Refusals by reason", interactive=False, elem_id="owner-refusals")
    export = gr.Button("Export the ledger as CSV", size="sm")
    ledger = gr.File(label="Ledger", visible=False)
    return OwnerTab(tab, caps, account, days, visitors, refusals, target, reset, block, unblock, line, export,
                    ledger)


def view(session: Session) -> tuple[Any, ...]:
    """[caps, account, spending by day, visitors today, refusals by reason]; nothing for anyone but the owner."""
    try:
        report = owner.report(session)
    except StudioError:
        return (gr.skip(),) * 5
    return (plain(report.caps), plain(report.account), report.days, report.visitors, report.refusals)


def pick(frame: pd.DataFrame, event: gr.SelectData) -> str:
    """The visitor id of the row selected in the visitors table."""
    row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
    try:
        return str(frame.iloc[int(row)]["visitor"])
    except (IndexError, KeyError, TypeError, ValueError):
        return gr.skip()


def act(what: str) -> Any:
    """The handler of one of the owner's actions on the visitor named in the box."""

    def handler(target: str, session: Session) -> tuple[Any, ...]:
        try:
            if what == "reset":
                done = owner.reset_visitor(session, target or "")
            else:
                done = owner.block_visitor(session, target or "", blocked=what == "block")
        except StudioError as exc:
            return (said(str(exc)), *(gr.skip(),) * 5)
        return (plain(done), *view(session))

    return handler


def export(session: Session) -> Any:
    try:
        return gr.File(owner.export(session), visible=True)
    except StudioError as exc:
        said(str(exc))
        return gr.skip()


def listen(panel: OwnerTab, session: gr.State) -> None:
    """Fill the tab when selected (the page's load event shows it to the owner: ``page_open.py``); wire the
    actions."""
    shown = [panel.caps, panel.account, panel.days, panel.visitors, panel.refusals]
    panel.tab.select(view, session, shown, api_visibility="private")
    panel.visitors.select(pick, panel.visitors, panel.target, api_visibility="private")
    for button, what in ((panel.reset, "reset"), (panel.block, "block"), (panel.unblock, "unblock")):
        button.click(act(what), [panel.target, session], [panel.line, *shown], api_visibility="private")
    panel.export.click(export, session, panel.ledger, api_visibility="private")
