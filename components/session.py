"""Per-visitor settings kept server-side in a ``gr.State``: never rendered back to the page.

Single-user mode (a local app): every run belongs to everyone (``scope()`` is None). Shared mode (a Space, or
``CLARITY_SHARED=1``): each visitor has an owner id — kept in their browser (``gr.BrowserState``) so it survives a
reload, or derived from the Gradio session for API callers — and sees only their own runs, files and presets.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from core import config

UNASSIGNED = "unassigned-visitor"  # matches no run: a shared session with no owner yet sees nothing


@dataclass
class Session:
    """One browser session: its typed key (server memory only), owner id, local model and webhook."""

    typed_key: str | None = None
    owner: str = ""
    local_model: str = ""
    webhook_url: str = ""
    shared: bool = False

    def __repr__(self) -> str:  # never let a typed key reach a log line through a repr
        return f"Session(owner={self.owner!r}, shared={self.shared}, key={'set' if self.typed_key else 'none'})"

    def fal_key(self) -> str | None:
        """The key this session uses: the one typed in, else the machine's ``FAL_KEY``."""
        return self.typed_key or config.env_fal_key()

    def scope(self) -> str | None:
        """The owner to filter the history by: None (everything) when single-user."""
        return (self.owner or UNASSIGNED) if self.shared else None

    def key_status(self) -> str:
        """A sentence about the key that never shows any part of it."""
        if self.typed_key:
            return "🔑 fal key: typed in, kept for this browser session only."
        if config.env_fal_key():
            return "🔑 fal key: set on the server (FAL_KEY)."
        return "🔒 No fal key: the local engine runs here on the CPU. Type a key to use fal."


def default_engine(session: Session | None = None) -> str:
    """fal when a key is available, otherwise local."""
    return "fal" if (session or Session()).fal_key() else "local"


def for_request(session: Session | None, request: Any = None) -> Session:
    """The session, with an owner derived from the Gradio session for API callers in shared mode."""
    session = session or Session(shared=config.shared_mode())
    if session.shared and not session.owner:
        session_hash = getattr(request, "session_hash", None) or uuid.uuid4().hex
        session.owner = "api-" + hashlib.sha256(session_hash.encode()).hexdigest()[:24]
    return session


def identify(browser_owner: str | None, session: Session) -> tuple[str, Session]:
    """On page load: the owner id kept in this browser (made on the first visit) becomes the session's."""
    owner = browser_owner if browser_owner and len(browser_owner) <= 64 and browser_owner.isalnum() \
        else secrets.token_hex(16)
    if session.shared:
        session.owner = owner
    return owner, session
