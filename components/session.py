"""Per-visitor settings kept server-side in a ``gr.State``: never rendered back to the page."""

from __future__ import annotations

from dataclasses import dataclass

from core import config


@dataclass
class Session:
    """One browser session: its typed key (server memory only), owner id, local model and webhook."""

    typed_key: str | None = None
    owner: str = ""
    local_model: str = ""
    webhook_url: str = ""

    def fal_key(self) -> str | None:
        """The key this session uses: the one typed in, else the machine's ``FAL_KEY``."""
        return self.typed_key or config.env_fal_key()

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
