"""Who an MCP caller is: each MCP session its own visitor, known to the public endpoints by a mark no caller can write.

Gradio's MCP server (``launch(mcp_server=True)``, at ``/gradio_api/mcp/``) answers an assistant's tool call by
calling the public endpoint through one ``gradio_client`` of its own, with the caller's HTTP headers: every MCP
caller would reach the endpoint as the same Gradio session, from the loopback address. And its transport is
stateless: it issues no MCP session id. So this ASGI middleware (passed to Gradio's FastAPI app through
``launch(app_kwargs=...)``, like ``components/common/request_limits.py``), on every request to the MCP endpoint:

- gives a caller without a genuine ``Mcp-Session-Id`` a new one on the response — an owner id signed by the server
  (``core.sharing.identity.issue``), which MCP clients send back with every later request of that session (on
  the older SSE transport, ``/gradio_api/mcp/sse``, the session is the one the server gave the event stream);
- replaces any ``X-Clarity-MCP-Caller`` header with the caller's owner id and network address (the peer, or behind a
  Space's proxy the ``X-Forwarded-For`` entry ``CLARITY_PROXY_HOPS`` from the right), signed under the server secret
  (``identity.mcp_caller_mark``). Gradio forwards it with the call; ``components/common/session.for_request``
  trusts the owner and address it carries only when the signature checks out, and marks the visitor as an MCP
  caller (``Visitor.mcp``: the Space's key only with ``CLARITY_MCP_USES_SPACE_KEY``).

An MCP caller's own fal key comes in the ``X-Fal-Key`` header (``for_request`` keeps it in that call's session
only: never stored, logged or echoed).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.sharing import identity

PATH = "/gradio_api/mcp"
SESSION_HEADER = b"mcp-session-id"
CALLER_HEADER = "x-clarity-mcp-caller"  # lower case, as Starlette hands headers on
KEY_HEADER = "x-fal-key"


def _sse_owner(scope: Scope) -> str | None:
    """The owner of a message posted to an SSE session (Gradio's older transport, ``/gradio_api/mcp/sse``), whose
    session is the ``session_id`` the server gave its event stream (a random UUID): an id derived from it under the
    server secret, so each SSE session is its own visitor too."""
    if "/messages" not in scope["path"]:
        return None
    session = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_id", [""])[0]
    if not session:
        return None
    return hmac.new(identity.server_secret(), b"sse " + session.encode(), hashlib.sha256).hexdigest()[:32]


class McpIdentity:
    """Sign each MCP request's caller (owner id from its session, network address) into ``CALLER_HEADER``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PATH):
            await self.app(scope, receive, send)
            return
        headers = [(name, value) for name, value in scope.get("headers") or []
                   if name.lower() != CALLER_HEADER.encode()]
        given = dict(headers).get(SESSION_HEADER, b"").decode("latin-1")
        owner = identity.verify(given) or _sse_owner(scope)
        token = given if identity.verify(given) else None
        if owner is None:
            owner, token = identity.issue()
        text = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers}
        client = scope.get("client")
        address = identity.client_address(text, client[0] if client else None)
        mark = identity.mcp_caller_mark(owner, address.replace(" ", ""))
        scope = {**scope, "headers": [*headers, (CALLER_HEADER.encode(), mark.encode("latin-1"))]}
        if token is None or given == token:  # the session the client already holds (or an SSE session)
            await self.app(scope, receive, send)
            return

        async def with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent = [(name, value) for name, value in message.get("headers") or []
                        if name.lower() != SESSION_HEADER]
                message = {**message, "headers": [*sent, (SESSION_HEADER, str(token).encode())]}
            await send(message)

        await self.app(scope, receive, with_session)
