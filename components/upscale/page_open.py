"""What the page does when it opens, as one event: who the visitor is, the key's status (with today's spending),
and the deep link — the form, its picture's preview, and the preset menu with the visitor's saved presets.

One event, not a chain of them: each event is a round trip through Gradio's queue, and a chain pays them one after
another before the page is ready (``bench/page_load.py``). The History tab fills itself when it is opened
(``components/history/history_panel.py``), not here.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.common import engine_panel
from components.common.engine_panel import EnginePanel
from components.common.session import Session, default_engine, identify
from components.upscale import deeplink_panel, image_input
from components.upscale.upscale_tab import UpscaleTab
from core.schema import PARAMETER_FIELDS
from core.sharing import owner


def open_page(token: str | None, session: Session, request: gr.Request | None = None,
              profile: gr.OAuthProfile | None = None) -> list[Any]:
    """[the token the browser keeps, the session, the key's status, the engine this visitor may use, the Owner tab
    (shown only to the owner: ``core/sharing/owner.py``), every parameter in schema order, the image URL, the preset
    menu, the link's notice, the input preview, its size/price line, the loaded input, the link's region (for the
    picture that comes next: ``region_panel.cleared``)]."""
    token, session = identify(token, session, request, profile)
    linked = deeplink_panel.load_link(request, session)
    count = len(PARAMETER_FIELDS)
    values, url = linked[:count], linked[count]
    shown: list[Any] = [gr.skip(), gr.skip(), gr.skip()]
    if url != gr.skip():  # the link gave a picture: its preview and size line, as when a URL is typed
        factor = values[[field.name for field in PARAMETER_FIELDS].index("upscale_factor")]
        shown = list(image_input.preview(None, url, factor, session, default_engine(session)))
    region = deeplink_panel.link_region(request, session.files_owner())
    return [token, session, engine_panel.status(session), default_engine(session),
            gr.Tab(visible=owner.is_owner(session)), *linked, *shown, region if region else gr.skip()]


def listen(demo: gr.Blocks, engine: EnginePanel, tab: UpscaleTab, owner_view: gr.Tab) -> Any:
    """Wire the page's one load event; returns it."""
    image, presets = tab.image, tab.presets
    outputs = [engine.browser_owner, engine.session, engine.key_status, engine.engine, owner_view,
               *tab.params.values(), image.url,
               presets.preset, presets.notice, image.preview, image.info, image.loaded, tab.region.pending]
    return demo.load(open_page, [engine.browser_owner, engine.session], outputs, api_visibility="private",
                     show_progress="minimal")
