"""Raw REST calls (``POST /gradio_api/call/<name>``, and ``/call/v2/<name>`` with values by name) answered as the
API page documents them, before Gradio reads them: an endpoint that is not there is a 404 that lists the endpoints
(Gradio answered 500), and a call with too few values gets the defaults of the parameters it left out (Gradio
stopped it with ``{"error": null}``: its check is meant for a page's JavaScript, not for a caller who left out
optional parameters). A required parameter left out is handed on as null, so the endpoint refuses it by name, as
for any client (``core/usecases/values.py``).

``gradio_client`` and the JavaScript client fill defaults themselves and send ``fn_index`` to the queue; they are
left alone. An ASGI middleware passed to Gradio's FastAPI app through ``launch(app_kwargs=...)``, like
``request_limits.py``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.usecases.values import ENDPOINTS

CALL = re.compile(r"/gradio_api/call/(?P<v2>v2/)?(?P<name>[^/]+)/?$")  # v2: values by name (the API page's curl)


def callable_names(scope: Scope) -> set[str]:
    """The api names a client may call: the app's non-private events (Gradio's own registry), else the public
    endpoints."""
    app = scope.get("app")
    blocks = getattr(app, "get_blocks", lambda: None)() if app is not None else None
    if blocks is None:
        return set(ENDPOINTS)
    return {str(fn.api_name) for fn in blocks.fns.values() if fn.api_name and fn.api_visibility != "private"}


def completed(name: str, body: Any) -> Any:
    """The request body with the values left out filled in: each optional parameter's default, a required one's
    null (refused by name downstream). Bodies that are not ``{"data": [...]}`` are returned as they are."""
    params = ENDPOINTS.get(name)
    if params is None or not isinstance(body, dict):
        return body
    data = body.get("data", [])
    if not isinstance(data, list) or len(data) >= len(params):
        return body
    return {**body, "data": [*data, *(None if param.required else param.default for param in params[len(data):])]}


async def _reply(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class ApiCalls:
    """404 for an unknown ``/gradio_api/call/<name>``; missing trailing values filled for a known one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = CALL.search(scope["path"]) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        name = found["name"]
        names = callable_names(scope)
        if name not in names:
            public = ", ".join(f"/{endpoint}" for endpoint in ENDPOINTS)
            await _reply(send, 404, {"error": f"There is no endpoint /{name}; this app's endpoints are {public}."})
            return
        if found["v2"]:  # named values: Gradio fills the ones left out from the API's defaults
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            body = completed(name, json.loads(raw)) if raw else raw
        except ValueError:
            body = None
        if body is not None and not isinstance(body, bytes):
            raw = json.dumps(body).encode()
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)
