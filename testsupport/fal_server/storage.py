"""Storage and CDN routes of the test fal server: the token, the v3 upload, the signed-URL fallback, files.

The token and the signed-URL initiate live on ``rest.fal.ai`` (``fal_client.client.REST_URL``), the v3 upload
on ``v3.fal.media`` (``CDN_URL``). fal's real signed URL points at its storage bucket; here it stays on
``rest.fal.ai`` (the proxy serves fal's own names only). Everything uploaded, and every result PNG, is served
by the CDN at ``https://v3.fal.media/files/<id>/<name>``.
"""

from __future__ import annotations

import mimetypes
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from testsupport.fal_server import Environment
from testsupport.fal_server.jobs import error_reply
from testsupport.fal_server.proxy import CDN_HOSTS


class StorageRoutes:
    """Mixed into FalServer, which provides the lock, the records and the authorisation check."""

    url: str
    rest_url: str
    environment: Environment
    _lock: threading.RLock
    _defaults: dict[str, Any]
    _files: dict[str, tuple[bytes, str]]
    _pending_puts: dict[str, tuple[str, str]]
    _tokens: set[str]
    _uploads: list[str]

    async def _record(self, request: Request) -> Any:
        raise NotImplementedError

    def _authorised(self, request: Request) -> bool:
        raise NotImplementedError

    def uploads(self) -> list[str]:
        """URLs of the files uploaded so far (either upload path)."""
        with self._lock:
            return list(self._uploads)

    def files(self) -> dict[str, bytes]:
        with self._lock:
            return {self.url + path: data for path, (data, _) in self._files.items()}

    def read_served(self, url: str) -> bytes | None:
        """The bytes this server serves at ``url`` (on any of the CDN's names), or None."""
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname not in CDN_HOSTS or parts.port not in (None, 443):
            return None
        with self._lock:
            entry = self._files.get(parts.path)
        return entry[0] if entry else None

    def _store(self, data: bytes, content_type: str, name: str) -> str:
        path = f"/files/{uuid.uuid4().hex[:16]}/{name or 'upload.bin'}"
        with self._lock:
            self._files[path] = (data, content_type)
        return self.url + path

    # -- storage and CDN ----------------------------------------------------------------------------------------

    def _storage_failure(self) -> int | None:
        with self._lock:
            return self._defaults["storage_status"]

    async def _cdn_token(self, request: Request) -> Response:
        await self._record(request)
        if not self._authorised(request):
            return error_reply(401)
        if failure := self._storage_failure():
            return error_reply(failure)
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens.add(token)
        expires = datetime.now(UTC) + timedelta(hours=1)
        return JSONResponse({"token": token, "token_type": "Bearer", "base_url": self.url,
                             "expires_at": expires.isoformat()})

    async def _cdn_upload(self, request: Request) -> Response:
        await self._record(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            valid, failure = scheme == "Bearer" and token in self._tokens, self._defaults["cdn_upload_status"]
        if not valid:
            return JSONResponse({"detail": "Invalid or expired token"}, status_code=401)
        if failure:
            return error_reply(failure)
        content_type = request.headers.get("content-type", "application/octet-stream")
        name = request.headers.get("x-fal-file-name") or (
            uuid.uuid4().hex[:12] + (mimetypes.guess_extension(content_type.split(";")[0]) or ".bin"))
        url = self._store(await request.body(), content_type, name)
        with self._lock:
            self._uploads.append(url)
        return JSONResponse({"access_url": url, "content_type": content_type})

    async def _storage_initiate(self, request: Request) -> Response:
        payload = await self._record(request) or {}
        if not self._authorised(request):
            return error_reply(401)
        if failure := self._storage_failure():
            return error_reply(failure)
        upload_id = uuid.uuid4().hex[:16]
        name, content_type = payload.get("file_name") or "upload.bin", payload.get("content_type", "")
        with self._lock:
            self._pending_puts[upload_id] = (name, content_type)
        return JSONResponse({"upload_url": f"{self.rest_url}/storage/put/{upload_id}",
                             "file_url": f"{self.url}/files/{upload_id}/{name}"})

    async def _storage_put(self, request: Request) -> Response:
        await self._record(request)
        upload_id = request.path_params["upload_id"]
        with self._lock:
            pending = self._pending_puts.pop(upload_id, None)
        if pending is None:
            return Response("signed URL expired or unknown", status_code=403)
        data = await request.body()
        with self._lock:
            self._files[f"/files/{upload_id}/{pending[0]}"] = (data, pending[1] or "application/octet-stream")
            self._uploads.append(f"{self.url}/files/{upload_id}/{pending[0]}")
        return Response(status_code=200)

    async def _serve_file(self, request: Request) -> Response:
        await self._record(request)
        with self._lock:
            entry = self._files.get(request.url.path)
        if entry is None:
            return Response("Not Found", status_code=404)
        return Response(entry[0], media_type=entry[1])
