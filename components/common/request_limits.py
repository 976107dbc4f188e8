"""A cap on request bodies, applied before Gradio reads them.

An API call carries its arguments as JSON, so a data URI of any size would be read, parsed and held in memory
before a handler could measure it. This ASGI middleware (passed to Gradio's FastAPI app through
``launch(app_kwargs=...)``) answers 413 to a body larger than the largest image the app accepts written as a
data URI — by its ``Content-Length`` before reading anything, or while it streams in. Gradio's upload route is
left to Gradio, which enforces ``max_file_size`` on uploads as they stream.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import config

UPLOAD_SUFFIX = "/upload"


def body_limit() -> int:
    """Bytes: the upload limit written in base64 (4/3), plus 1 MiB for the other arguments and JSON."""
    return config.max_upload_bytes() * 4 // 3 + 2**20


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse request bodies over ``body_limit()`` bytes (read per request, like every setting) with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/").endswith(UPLOAD_SUFFIX):
            await self.app(scope, receive, send)
            return
        limit = body_limit()
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        limit_mb = config.max_upload_bytes() / 2**20
        body = json.dumps({"error": f"The request is larger than this app accepts: images are limited to "
                                    f"{limit_mb:.0f} MB (CLARITY_MAX_UPLOAD_MB), also as data URIs."}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def middleware() -> list[Any]:
    """The middleware list for ``launch(app_kwargs={"middleware": ...})``."""
    return [Middleware(BodySizeLimit)]
