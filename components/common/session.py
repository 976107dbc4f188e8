"""Per-visitor settings kept server-side in a ``gr.State``: never rendered back to the page.

Single-user mode (a local app): every run belongs to everyone (``scope()`` is None). Shared mode (a Space, or
``CLARITY_SHARED=1``): each visitor has an owner id and sees only their own runs, sweeps, files and presets. The
id is issued and signed by the server (``core.identity``) and kept in the visitor's browser, or is their Hugging
Face username when they signed in; an API caller with neither gets one derived from its Gradio session. Until it
is known, a visitor sees nothing (``scope()`` matches no run).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import gradio as gr

from core import config
from core.engines import keyed_engine, keyless_engine
from core.sharing import identity

UNASSIGNED = "unassigned-visitor"  # matches no run: a shared session with no owner yet sees nothing


@dataclass
class Session:
    """One browser session: its typed key (server memory only), owner id, local model and webhook."""

    typed_key: str | None = None
    owner: str = ""
    local_model: str = ""
    webhook_url: str = ""
    shared: bool = False
    signed_in: bool = False  # identified by a Hugging Face sign-in, not by a browser token
    address: str = ""  # the client's network address (behind a Space's proxy: X-Forwarded-For)

    def __repr__(self) -> str:  # never let a typed key reach a log line through a repr
        return f"Session(owner={self.owner!r}, shared={self.shared}, key={'set' if self.typed_key else 'none'})"

    def fal_key(self) -> str | None:
        """The key this session uses: the one typed in, else the machine's ``FAL_KEY``."""
        return self.typed_key or config.env_fal_key()

    def scope(self) -> str | None:
        """The owner to filter the history by: None (everything) when single-user."""
        return (self.owner or UNASSIGNED) if self.shared else None

    @property
    def known(self) -> bool:
        """Whether the visitor's data may be read or written: always when single-user, else once identified."""
        return not self.shared or bool(self.owner)

    def files_owner(self) -> str:
        """Whose saved presets and batch images this visitor sees: the common folder when single-user, else their
        own (a folder nobody writes to while they are not identified)."""
        return (self.owner or UNASSIGNED) if self.shared else ""

    def limit_keys(self) -> tuple[str, ...]:
        """What the per-visitor limits count against: the owner, and for anonymous visitors in shared mode their
        network address too — so opening more sessions (each its own owner) does not multiply the limits."""
        keys = (self.owner or "single-user",)
        if self.shared and not self.signed_in:
            keys += (f"address:{self.address or 'unknown'}",)
        return keys

    def key_status(self) -> str:
        """A sentence about the key that never shows any part of it."""
        if self.typed_key:
            return "fal key: typed in, kept for this browser session only."
        if config.env_fal_key():
            return "fal key: set on the server (FAL_KEY)."
        return "No fal key: the local engine runs here on the CPU. Type a key to use fal."


def default_engine(session: Session | None = None) -> str:
    """The engine that needs a key (fal) when a key is available, otherwise the one that needs none (local)."""
    return keyed_engine() if (session or Session()).fal_key() else keyless_engine()


def _address(request: Any) -> str:
    headers = {str(k).lower(): str(v) for k, v in dict(getattr(request, "headers", None) or {}).items()}
    client = getattr(request, "client", None)
    return identity.client_address(headers, getattr(client, "host", None))


def for_request(session: Session | None, request: Any = None) -> Session:
    """The session with what the request tells: the client address, and for an API caller in shared mode (no
    browser identity) an owner derived from its Gradio session, keyed with the server secret."""
    session = session or Session(shared=config.shared_mode())
    if session.shared:
        if request is not None:
            session.address = _address(request)
        if not session.owner:
            session_hash = str(getattr(request, "session_hash", None) or identity.issue()[0])
            digest = hmac.new(identity.server_secret(), session_hash.encode(), hashlib.sha256).hexdigest()
            session.owner = "api-" + digest[:24]
    return session


def identify(token: str | None, session: Session, request: gr.Request = None,
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
