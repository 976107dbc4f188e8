"""Per-visitor settings kept server-side in a ``gr.State``: never rendered back to the page.

Single-user mode (a local app): every run belongs to everyone (``scope()`` is None). Shared mode (a Space, or
``CLARITY_SHARED=1``): each visitor has an owner id and sees only their own runs, sweeps, files and presets. The
id is issued and signed by the server (``core.sharing.identity``) and kept in the visitor's browser, or is their Hugging
Face username when they signed in; an API caller with neither gets one derived from its Gradio session; an MCP
caller is its MCP session (``for_mcp``, from what ``components/api/mcp_identity.py`` signed). Until it is known, a
visitor sees nothing (``scope()`` matches no run).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.common.files import app_root
from core import config
from core.engines import keyed_engine, keyless_engine
from core.sharing import identity
from core.sharing.visitor import UNASSIGNED, Visitor
from core.usecases import key_refusal

__all__ = ["UNASSIGNED", "Session", "Visitor", "default_engine", "for_request", "identify"]


@dataclass(repr=False)  # Visitor's repr: never the key
class Session(Visitor):
    """One browser session: the visitor (``core/sharing/visitor.py``) and its webhook URL."""

    webhook_url: str = ""
    root_url: str = ""  # the app's public address as the last request gave it (output files' URLs start with it)

    def key_status(self) -> str:
        """A sentence about the key that never shows any part of it, written for whoever reads it: on a shared
        app a visitor learns who pays and, when they may not use the Space's key, why and what would change it."""
        if self.typed_key:
            return "fal key: typed in, kept for this browser session only."
        if config.env_fal_key() and not self.shared:
            return "fal key: set on this machine (FAL_KEY)."
        if config.env_fal_key():
            refusal = key_refusal(self)
            return refusal or "fal runs here are paid by this Space's owner, within a daily allowance."
        return "No fal key: the local engine runs here on the CPU. Type a key to use fal."


def default_engine(session: Session | None = None) -> str:
    """The engine that needs a key (fal) when a key is available and this visitor may use it, otherwise the one
    that needs none (local): a visitor the Space's key would refuse sees the local engine from the first screen."""
    session = session or Session()
    usable = session.fal_key() and (session.typed_key or not key_refusal(session))
    return keyed_engine() if usable else keyless_engine()


def _address(request: Any) -> str:
    headers = _headers(request)
    client = getattr(request, "client", None)
    return identity.client_address(headers, getattr(client, "host", None))


def _headers(request: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in dict(getattr(request, "headers", None) or {}).items()}


def for_mcp(request: Any) -> Session | None:
    """A fresh session for a tool call that came through the MCP door (``components/api/mcp_identity.py``
    signed its caller into the request), else None: in shared mode the owner of its MCP session and its network
    address; the fal key it sent in ``X-Fal-Key``, for this call only. Never the browser session Gradio's MCP
    client shares between all MCP callers."""
    headers = _headers(request)
    caller = identity.mcp_caller(headers.get("x-clarity-mcp-caller"))
    if caller is None:
        return None
    session = Session(shared=config.shared_mode(), mcp=True, typed_key=headers.get("x-fal-key", "").strip() or None)
    if session.shared:
        session.owner, session.address = caller
    return session


def for_request(session: Session | None, request: Any = None) -> Session:
    """The session with what the request tells: an MCP caller's own (``for_mcp``); else the app's address
    (``root_url``), the client address, and for an API caller in shared mode (no browser identity) an owner derived
    from its Gradio session, keyed with the server secret."""
    called = for_mcp(request) if request is not None else None
    if called is not None:
        called.root_url = app_root(request) or called.root_url
        return called
    session = session or Session(shared=config.shared_mode())
    session.root_url = app_root(request) or session.root_url
    if session.shared:
        if request is not None:
            session.address = _address(request)
        if not session.owner:
            session_hash = str(getattr(request, "session_hash", None) or identity.issue()[0])
            digest = hmac.new(identity.server_secret(), session_hash.encode(), hashlib.sha256).hexdigest()
            session.owner = "api-" + digest[:24]
    return session


def identify(token: str | None, session: Session, request: gr.Request | None = None,
             profile: gr.OAuthProfile | None = None) -> tuple[str, Session]:
    """On page load: who this visitor is. A Hugging Face sign-in (``profile``) names them; otherwise the token
    kept in their browser, if the server signed it, else a freshly issued one. Returns the token to keep."""
    if not session.shared:
        return token or "", session
    signed_in = identity.hf_owner(getattr(profile, "username", None))
    owner, token = identity.owner_from_token(token)
    session.owner, session.signed_in = (signed_in, True) if signed_in else (owner, False)
    if request is not None:
        session.address = _address(request)
    return token, session
