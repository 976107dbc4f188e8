"""Who is asking: the part of a browser or API session the use cases need (``core/usecases/``), without Gradio.

Single-user mode (a local app): every run belongs to everyone (``scope()`` is None). Shared mode (a Space, or
``CLARITY_SHARED=1``): each visitor has an owner id and sees only their own runs, sweeps, files and presets; the
limits count against the owner and, for a visitor who did not sign in, their network address too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core import config

UNASSIGNED = "unassigned-visitor"  # matches no run: a shared session with no owner yet sees nothing


@dataclass
class Visitor:
    """One visitor: owner id, the key they typed (server memory only, never in a repr), how they are known, and
    the model they chose for each engine that offers models (engine id → model name)."""

    typed_key: str | None = field(default=None, repr=False)
    owner: str = ""
    shared: bool = False  # a shared app (a Space): owners, limits and the Space key's rules apply
    signed_in: bool = False  # identified by a Hugging Face sign-in, not by a browser token
    address: str = ""  # the client's network address (behind a Space's proxy: X-Forwarded-For)
    mcp: bool = False  # came in through the MCP door (an assistant's tool call): its own rules on the Space's key
    models: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never let a typed key reach a log line through a repr
        return (f"{type(self).__name__}(owner={self.owner!r}, shared={self.shared}, "
                f"key={'set' if self.typed_key else 'none'})")

    def fal_key(self) -> str | None:
        """The key this visitor's runs use: the one typed in, else the machine's ``FAL_KEY``."""
        return self.typed_key or config.env_fal_key()

    def model_for(self, engine_id: str) -> str | None:
        """The model this visitor chose for ``engine_id`` (None: the engine's default)."""
        return self.models.get(engine_id) or None

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
        if self.shared and not self.signed_in:
            return (self.owner or "single-user", f"address:{self.address or 'unknown'}")
        return (self.owner or "single-user",)
