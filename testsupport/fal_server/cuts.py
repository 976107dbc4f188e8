"""A response cut mid-body (a broken connection, as a proxy or a dying runner gives) and the log filter that
keeps uvicorn quiet about it."""

from __future__ import annotations

import logging
from typing import Any

from starlette.responses import Response


class CutConnection(Response):
    """Start a response and stop mid-body: uvicorn closes the socket, the client sees a broken connection."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 202,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")]})
        await send({"type": "http.response.body", "body": b'{"status": "IN_', "more_body": True})


class QuietCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()
