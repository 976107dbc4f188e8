"""Links to a setting: the share link built from the form, and the deep link read when the page loads.

The widgets are the presets panel's (its notice, menu, share button and link box); this module holds the
handlers and their wiring. ``core.deeplink`` decides what a link may carry (never a key, a path or a data URI).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import gradio as gr

from components.common.refusal import refused
from components.common.session import Session
from components.common.text import plain, toast
from components.upscale.presets_panel import PresetsPanel, choices, form_arguments, matching, menu
from core import deeplink
from core.errors import InputError
from core.inputs.region import PARAMS as REGION_PARAMS
from core.inputs.region import Region
from core.schema import PARAMETER_FIELDS

if TYPE_CHECKING:
    from components.upscale.parameters import Widget


def _first(value: str | None) -> str:
    # Proxies may list several hops ("a.example, b.example"): the first is the one the visitor used.
    return (value or "").split(",")[0].strip()


def _query(request: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(getattr(request, "query_params", None) or {}).items()}


def page_url(request: Any) -> str:
    """The page's public address (no deep-link parameters; Gradio's own ``__theme``/``view`` kept)."""
    raw = getattr(request, "request", None)
    if raw is not None and hasattr(raw, "scope"):  # the live Starlette request of this event
        from gradio import route_utils

        # Gradio's own resolution: proxy headers (x-forwarded-host/-proto) and a mounted root path included.
        root = route_utils.get_root_url(raw, route_utils.get_api_call_path(raw),
                                        getattr(raw.app, "root_path", None) or None)
    else:
        headers = {str(k).lower(): str(v) for k, v in dict(getattr(request, "headers", None) or {}).items()}
        host = _first(headers.get("x-forwarded-host")) or _first(headers.get("host"))
        if not host:
            raise InputError("This page's address is unknown, so no link can be made.", None)
        root = f"{_first(headers.get('x-forwarded-proto')) or 'http'}://{host}"
    kept = [(k, v) for k, v in _query(request).items() if k in deeplink.GRADIO_PARAMS]
    return root.rstrip("/") + "/" + (f"?{urlencode(kept)}" if kept else "")


def share_link(request: gr.Request, preset_id: str | None, image_url: str, *values: Any) -> str:
    """A link that opens this page with the form as it is now (an uploaded file cannot travel in a link):
    ``values`` are the parameter widgets' (schema order), then, optionally, the region switch and its four boxes —
    the region goes into the link when the switch is on (refused in the boxes' words when they are wrong)."""
    count = len(PARAMETER_FIELDS)
    arguments = {**form_arguments(values[:count]), "image_url": (image_url or "").strip()}
    try:
        on, *boxes = values[count:] or (False,)
        region = Region.checked(dict(zip(REGION_PARAMS, boxes, strict=True))) if on is True else None
        return deeplink.share_url(page_url(request), arguments, preset_id or None, region)
    except InputError as exc:
        raise refused(exc.message) from None


def notice_markdown(errors: list[str]) -> str:
    """The refused link parameters as a list near the form ('' when all applied)."""
    if not errors:
        return ""
    lines = "\n".join(f"- {plain(message)}" for message in errors)
    return f"**Parts of the link were not applied:**\n{lines}"


def read_link(request: Any, owner: str) -> deeplink.DeepLink | None:
    """The deep link in the page's address (None on a plain visit); each refused part said in a toast."""
    query = _query(request)
    if not any(name not in deeplink.GRADIO_PARAMS for name in query):
        return None
    link = deeplink.parse_query(query, owner)
    for message in link.errors:
        gr.Warning(toast(message), title="Link")  # a toast renders HTML: the link's text stays text
    return link


def link_region(request: Any, owner: str) -> Region | None:
    """The region the page's address asks for (``region_x``… all four), None without one or with a refused one (its
    refusal is said once, by ``read_link``)."""
    query = _query(request)
    if not any(name in query for name in REGION_PARAMS):
        return None
    return deeplink.parse_query(query, owner).region


def load_link(request: gr.Request | None, session: Session) -> list[Any]:
    """On page load (``page_open``): [every parameter in schema order, image URL, preset menu, notice] from the
    query string. The menu names the preset the form now matches: the link's own, unless the link changed one of
    its values (then "custom")."""
    owner = session.files_owner()
    link = read_link(request, owner)
    if link is None:
        # A plain visit: leave the form alone, only add the visitor's saved presets to the menu.
        return [*(gr.skip() for _ in PARAMETER_FIELDS), gr.skip(), gr.Dropdown(choices=choices(owner)), ""]
    values = [link.arguments()[field.name] for field in PARAMETER_FIELDS]
    return [*values, link.image_url or gr.skip(), menu(owner, matching(values, owner, link.preset)),
            notice_markdown(link.errors)]


def listen(panel: PresetsPanel, params: dict[str, Widget], image_url: gr.Textbox, region: list[Any]) -> None:
    """Wire the share button (the deep link is read by the page's load event: ``page_open``); ``region``: the
    region switch and its four boxes."""
    widgets = list(params.values())
    panel.share.click(share_link, [panel.preset, image_url, *widgets, *region], panel.link, api_visibility="private",
                      show_progress="hidden")
