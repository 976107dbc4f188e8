"""Visitor identity in a shared app: owner ids the server issues and signs, and the client address.

A visitor's browser keeps a *token* ``<owner id>.<signature>``, where the signature is an HMAC-SHA256 of the id
under a secret that never leaves the server (``CLARITY_SERVER_SECRET``, or a file made once in the data
directory, which the app never serves). The browser's own storage is readable and writable by the page, so the
server trusts a token only when the signature checks out; anything else (an id copied from somewhere, a forged
or truncated token, the unsigned ids older versions kept) is replaced by a freshly issued one.

A visitor signed in with Hugging Face is identified by their username (``hf:<username>``) instead, so their
history follows them across browsers.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from collections.abc import Mapping

from core import config

_OWNER = re.compile(r"^[0-9a-f]{32}$")
_HF_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
SECRET_FILE = "server-secret"


def server_secret() -> bytes:
    """The signing secret: ``CLARITY_SERVER_SECRET``, else one made once (mode 0600) in the data directory."""
    value = os.environ.get("CLARITY_SERVER_SECRET", "").strip()
    if value:
        return value.encode()
    path = config.data_dir() / SECRET_FILE
    if not path.exists():  # written whole under another name, then linked: a reader never sees half a secret
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".secret.")
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):  # another thread made it first: theirs stands
            os.link(partial, path)
        os.unlink(partial)
    return path.read_text().strip().encode()


def _signature(owner: str) -> str:
    return hmac.new(server_secret(), owner.encode(), hashlib.sha256).hexdigest()


def issue() -> tuple[str, str]:
    """A fresh owner id and its signed token: ``(owner, token)``."""
    owner = secrets.token_hex(16)
    return owner, f"{owner}.{_signature(owner)}"


def verify(token: str | None) -> str | None:
    """The owner id a token carries when the server signed it; None for anything else."""
    owner, _, signature = (token or "").partition(".")
    if not _OWNER.match(owner) or len(signature) != 64:
        return None
    return owner if hmac.compare_digest(signature, _signature(owner)) else None


def owner_from_token(token: str | None) -> tuple[str, str]:
    """``(owner, token)``: the token's owner when it is genuine, else a freshly issued pair."""
    owner = verify(token)
    return (owner, token or "") if owner else issue()


def hf_owner(username: str | None) -> str | None:
    """The owner id of a Hugging Face user (``hf:<username>``), or None for a missing or malformed name."""
    name = (username or "").strip()
    return f"hf:{name.lower()}" if _HF_USERNAME.match(name) else None


def client_address(headers: Mapping[str, str], peer: str | None) -> str:
    """The visitor's network address. Behind a Space's proxy (``SPACE_ID`` set) the peer is the proxy, so the
    address is taken from ``X-Forwarded-For``: the entry ``CLARITY_PROXY_HOPS`` (default 1) from the right, the
    one the trusted proxy appended — entries further left are whatever the client chose to send."""
    forwarded = [part.strip() for part in (headers.get("x-forwarded-for") or "").split(",") if part.strip()]
    hops = config.whole("CLARITY_PROXY_HOPS", 1 if os.environ.get("SPACE_ID") else 0)
    if hops > 0 and forwarded:
        return forwarded[-min(hops, len(forwarded))]
    return peer or "unknown"


def address_key(address: str | None) -> str | None:
    """What the app keeps of a network address: ``addr-`` and 16 hex digits of an HMAC-SHA256 under the server
    secret — enough to count spending per address, never the address itself. None stays None; a value already
    in this form is returned as is."""
    if address is None or address.startswith("addr-"):
        return address
    return "addr-" + hmac.new(server_secret(), address.encode(), hashlib.sha256).hexdigest()[:16]


def mcp_caller_mark(owner: str, address: str) -> str:
    """What the MCP door hands on with each tool call it forwards (``components/api/mcp_identity.py``): the
    caller's owner id and network address, signed under the server secret so no caller can write one."""
    text = f"{owner} {address}"
    return f"{text} {hmac.new(server_secret(), b'mcp ' + text.encode(), hashlib.sha256).hexdigest()}"


def mcp_caller(mark: str | None) -> tuple[str, str] | None:
    """``(owner, address)`` of a mark ``mcp_caller_mark`` wrote; None for anything else (missing, altered,
    forged)."""
    parts = (mark or "").split(" ")
    if len(parts) != 3 or not _OWNER.match(parts[0]) or len(parts[2]) != 64:
        return None
    expected = mcp_caller_mark(parts[0], parts[1]).rsplit(" ", 1)[1]
    return (parts[0], parts[1]) if hmac.compare_digest(parts[2], expected) else None
