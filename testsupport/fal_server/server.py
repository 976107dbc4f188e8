"""The test fal server: fal's queue, storage and CDN hosts on one HTTPS port, run by uvicorn in a thread.

Route shapes follow what ``fal_client`` 1.0.3 sends. The API tests use (details in the package docstring):
``script(match=None, times=None, **behaviour)``, ``set_default(**behaviour)``, ``reset()``, ``requests``,
``submits()``, ``uploads()``, ``files()``, ``state(request_id)``, ``read_served(url)``, ``url``, ``keys``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Host, Route, Router

from testsupport.fal_server import TEST_KEY, Environment, imaging
from testsupport.fal_server.account import Ticker, schedule
from testsupport.fal_server.cuts import CutConnection, QuietCuts
from testsupport.fal_server.jobs import (
    DEFAULT_BEHAVIOUR,
    Job,
    JobState,
    Script,
    check_behaviour,
    error_reply,
    poll_numbers,
)
from testsupport.fal_server.proxy import CDN_HOSTS, QUEUE_HOSTS, REST_HOSTS
from testsupport.fal_server.storage import StorageRoutes


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (headers lower-cased)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body_size: int
    at: float = field(default_factory=time.monotonic)


class FalServer(StorageRoutes):
    """A scriptable fal queue + storage server (see the package docstring)."""

    def __init__(self, environment: Environment, keys: Iterable[str] = (TEST_KEY,)) -> None:
        self.environment = environment
        self.queue_url = f"https://{QUEUE_HOSTS[0]}"
        self.rest_url = f"https://{REST_HOSTS[0]}"
        self.url = f"https://{CDN_HOSTS[0]}"  # the CDN: where uploads and results are served
        self.keys = set(keys)
        self._lock = threading.RLock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()
        queue = Router(routes=[
            Route("/{owner}/{alias}/requests/{request_id}/status/stream", self._status_stream, methods=["GET"]),
            Route("/{owner}/{alias}/requests/{request_id}/status", self._status, methods=["GET"]),
            Route("/{owner}/{alias}/requests/{request_id}/cancel", self._cancel, methods=["PUT"]),
            Route("/{owner}/{alias}/requests/{request_id}", self._result, methods=["GET"]),
            Route("/{owner}/{alias}", self._submit, methods=["POST"]),
        ])
        rest = Router(routes=[
            Route("/storage/auth/token", self._cdn_token, methods=["POST"]),
            Route("/storage/upload/initiate", self._storage_initiate, methods=["POST"]),
            Route("/storage/put/{upload_id}", self._storage_put, methods=["PUT"]),
        ])
        cdn = Router(routes=[
            Route("/files/upload", self._cdn_upload, methods=["POST"]),
            Route("/files/{path:path}", self._serve_file, methods=["GET"]),
        ])
        # One origin per fal host name, told apart by the Host header the tunnel carries (the proxy sends every
        # fal name here). fal.run / falrun.com (synchronous runs) are not played: the app never uses them.
        self.app = Starlette(routes=[*(Host(name, queue) for name in QUEUE_HOSTS),
                                     *(Host(name, rest) for name in REST_HOSTS),
                                     *(Host(name, cdn) for name in CDN_HOSTS)])

    # -- scripting and records -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget scripts, defaults, records, jobs, uploaded files and CDN tokens."""
        with self._lock:
            self._defaults = dict(DEFAULT_BEHAVIOUR)
            self._scripts: list[Script] = []
            self._requests: list[RecordedRequest] = []
            self._jobs: dict[str, Job] = {}
            self._files: dict[str, tuple[bytes, str]] = {}
            self._pending_puts: dict[str, tuple[str, str]] = {}
            self._tokens: set[str] = set()
            self._uploads: list[str] = []
            self.account_limit: int | None = None
            self.peak_in_progress = 0

    def set_default(self, **behaviour: Any) -> None:
        """Change the behaviour of submits no script matches."""
        check_behaviour(behaviour)
        with self._lock:
            self._defaults.update(behaviour)

    def set_account_limit(self, limit: int | None) -> None:
        """At most ``limit`` requests IN_PROGRESS at once, the rest IN_QUEUE in order (None: no limit)."""
        with self._lock:
            self.account_limit = limit

    def _schedule(self) -> None:
        with self._lock:
            running = schedule(self._jobs.values(), self.account_limit)
            self.peak_in_progress = max(self.peak_in_progress, running)

    def script(self, match: dict[str, Any] | None = None, times: int | None = None, **behaviour: Any) -> None:
        """Apply ``behaviour`` to the next ``times`` submits (every one when None) whose arguments hold ``match``."""
        check_behaviour(behaviour)
        with self._lock:
            self._scripts.append(Script(behaviour, match, times))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def submits(self) -> list[RecordedRequest]:
        """The recorded submit requests (POST to an application), retries included."""
        return [r for r in self.requests if r.method == "POST" and r.headers.get("host") in QUEUE_HOSTS
                and r.path.count("/") == 2]

    def state(self, request_id: str) -> JobState:
        """The request's current status and whether a cancel reached the server."""
        with self._lock:
            self._schedule()
            return self._jobs[request_id].state()

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> None:
        config = uvicorn.Config(self.app, ssl_certfile=str(self.environment.cert_file),
                                ssl_keyfile=str(self.environment.key_file), log_level="warning",
                                lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        logging.getLogger("uvicorn.error").addFilter(QuietCuts())
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.environment.sock]},
                                        name="fal-test-server", daemon=True)
        self._thread.start()
        self._ticker = Ticker(self._schedule).start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test fal server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._ticker.stop()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = self._server.force_exit = True  # don't wait for idle keep-alives
            self._thread.join(timeout=10)

    # -- helpers ----------------------------------------------------------------------------------------------

    async def _record(self, request: Request) -> Any:
        body = await request.body()
        try:
            payload = json.loads(body) if body and "json" in request.headers.get("content-type", "") else None
        except ValueError:
            payload = None
        record = RecordedRequest(request.method, request.url.path, dict(request.query_params),
                                 {k.lower(): v for k, v in request.headers.items()}, payload, len(body))
        with self._lock:
            self._requests.append(record)
        return payload

    def _authorised(self, request: Request) -> bool:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        return scheme == "Key" and key in self.keys

    def _job(self, request: Request) -> Job | None:
        with self._lock:
            return self._jobs.get(request.path_params["request_id"])

    def _base(self, request: Request, request_id: str) -> str:
        # On the host the request came to: a submit through fal_client's backup domain gets backup URLs.
        return (f"https://{request.url.netloc}/{request.path_params['owner']}/{request.path_params['alias']}"
                f"/requests/{request_id}")

    # -- queue ------------------------------------------------------------------------------------------------

    async def _submit(self, request: Request) -> Response:
        arguments = await self._record(request)
        if not self._authorised(request):
            return error_reply(401)
        with self._lock:
            script = next((s for s in self._scripts if s.take(arguments)), None)
            behaviour = {**self._defaults, **(script.behaviour if script else {})}
        if behaviour["submit_status"]:
            return error_reply(behaviour["submit_status"], behaviour["submit_body"],
                                          ingress=behaviour["ingress"])
        # The runner's work is decided now and revealed by the status machine; validation errors surface on
        # the result GET, as on fal's queue (the submit itself accepts any JSON).
        code, output, png = await asyncio.to_thread(imaging.upscale, arguments, self.read_served)
        if png is not None:
            output["image"]["url"] = self._store(png, "image/png", output["image"]["file_name"])
        request_id = str(uuid.uuid4())
        job = Job(request_id, arguments, behaviour, (code, output), webhook=request.query_params.get("fal_webhook"))
        with self._lock:
            self._jobs[request_id] = job
        base = self._base(request, request_id)
        return JSONResponse({"request_id": request_id, "response_url": base, "status_url": base + "/status",
                             "cancel_url": base + "/cancel", "gateway_request_id": request_id},
                            headers={"x-fal-request-id": request_id})

    async def _status(self, request: Request) -> Response:
        await self._record(request)
        if not self._authorised(request):
            return error_reply(401)
        job = self._job(request)
        if job is None:
            return JSONResponse({"detail": "Request not found"}, status_code=404)
        with self._lock:
            job.polls += 1
            poll = job.polls
            if poll in poll_numbers(job.behaviour["reset_on_poll"]):
                return CutConnection()
            if job.behaviour["status_error"] and poll in poll_numbers(job.behaviour["status_error_polls"]):
                return error_reply(job.behaviour["status_error"], ingress=job.behaviour["ingress"])
            self._schedule()
            job.advance(answering=True)
            body = job.status_body(self._base(request, job.request_id),
                                   request.query_params.get("logs", "").lower() in ("true", "1"))
        return JSONResponse(body, status_code=200 if job.status == "COMPLETED" else 202,
                            headers={"x-fal-request-id": job.request_id})

    async def _status_stream(self, request: Request) -> Response:
        """Server-sent events, one status per tick until COMPLETED (fal_client 1.0.3 never calls this)."""
        await self._record(request)
        if not self._authorised(request):
            return error_reply(401)
        job = self._job(request)
        if job is None:
            return JSONResponse({"detail": "Request not found"}, status_code=404)
        with_logs = request.query_params.get("logs", "").lower() in ("true", "1")

        async def events() -> Any:
            while True:
                with self._lock:
                    job.advance(answering=True)
                    body = job.status_body(self._base(request, job.request_id), with_logs)
                yield f"data: {json.dumps(body)}\n\n"
                if body["status"] == "COMPLETED":
                    return
                await asyncio.sleep(0.05)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def _result(self, request: Request) -> Response:
        await self._record(request)
        if not self._authorised(request):
            return error_reply(401)
        job = self._job(request)
        if job is None:
            return JSONResponse({"detail": "Request not found"}, status_code=404)
        with self._lock:
            self._schedule()
            b = job.behaviour
            if job.status != "COMPLETED":
                # Not confirmed against fal: a result asked for too early is refused with a 400.
                return JSONResponse({"detail": "Request is still in progress"}, status_code=400)
            if job.cancelled:
                return JSONResponse({"detail": "Request was cancelled"}, status_code=400)
            if b["result_status"]:
                return error_reply(b["result_status"], b["result_body"])
            if b["completed_error"]:
                return error_reply(500, {"detail": b["completed_error"],
                                                    "error_type": b["completed_error_type"]})
            code, output = job.outcome
            if code == 200 and job.finished is not None and job.started is not None:
                output = {**output, "timings": {"inference": round(job.finished - job.started, 4)}}
        return JSONResponse(output, status_code=code, headers={"x-fal-request-id": job.request_id})

    async def _cancel(self, request: Request) -> Response:
        # The codes are not confirmed by fal (only the status words are documented): 202 / 400 / 404.
        await self._record(request)
        if not self._authorised(request):
            return error_reply(401)
        job = self._job(request)
        if job is None:
            return JSONResponse({"status": "NOT_FOUND"}, status_code=404)
        with self._lock:
            self._schedule()
            if job.status == "COMPLETED":
                return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
            job.cancel_received = True
            # A queued request is removed; a running one is signalled and its app decides (ignore_cancel).
            job.cancelled = job.status == "IN_QUEUE" or not job.behaviour["ignore_cancel"]
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)
