"""Scripted behaviour and the life of one queued request (IN_QUEUE → IN_PROGRESS → COMPLETED).

A stage ends when both its minimum number of answered polls and its minimum time have passed, so tests can
be exact (``queue_polls=3`` shows positions 2, 1, 0) or realistic (``queue_wait=0.5``) without timing races.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

DEFAULT_BEHAVIOUR: dict[str, Any] = {
    "queue_polls": 1, "queue_wait": 0.0, "queue_step": 0.1,
    "run_polls": 2, "run_time": 0.0, "run_time_spread": 0.0,
    "logs": ("Loading ESRGAN and the ControlNet tile model", "Upscaling tile 1/1"),
    "submit_status": None, "submit_body": None, "ingress": False,
    "status_error": None, "status_error_polls": (1,), "reset_on_poll": None,
    "completed_error": None, "completed_error_type": None,
    "stall": False, "ignore_cancel": False,
    "result_status": None, "result_body": None,
    "cdn_upload_status": None, "storage_status": None,
}

# fal's bodies and X-Fal-Error-Type values (docs/fal-protocol.md, "Errors").
ERROR_BODIES: dict[int, tuple[Any, str | None]] = {
    400: ("Bad request", "bad_request"),
    401: ("No user found for Key ID and Secret", None),
    403: ("User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.", None),
    404: ("Application not found", None),
    408: ("Request timed out", "request_timeout"),
    422: ([{"loc": ["body", "image_url"], "msg": "Failed to load the image. Please ensure the image file is "
            "not corrupted and is in a supported format.", "type": "image_load_error"}], None),
    429: ("Too many requests: the concurrent request limit of this account was reached", None),
    500: ("Internal server error", "internal_error"),
    502: ("Runner returned an incomplete response", "runner_incomplete_response"),
    503: ("Runner scheduling failure", "runner_scheduling_failure"),
    504: ("Request timed out", "request_timeout"),
}

NGINX_PAGE = ("<html>\r\n<head><title>{code} Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
              "<center><h1>{code} Service Temporarily Unavailable</h1></center>\r\n"
              "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


def check_behaviour(behaviour: dict[str, Any]) -> None:
    unknown = sorted(set(behaviour) - set(DEFAULT_BEHAVIOUR))
    if unknown:
        raise TypeError(f"unknown fal server behaviour {unknown}; known: {sorted(DEFAULT_BEHAVIOUR)}")


def poll_numbers(value: int | Iterable[int] | None) -> set[int]:
    if value is None:
        return set()
    return {value} if isinstance(value, int) else set(value)


def error_response(code: int, body: Any = None, *, ingress: bool = False) -> tuple[int, Any, dict[str, str]]:
    """``(status, json-or-text body, headers)`` as fal answers ``code``."""
    if ingress and code in (502, 503, 504):
        return code, NGINX_PAGE.format(code=code), {"content-type": "text/html"}
    headers = {"x-fal-request-id": "gw-" + str(time.monotonic_ns())}
    if body is not None:
        return code, body, headers
    detail, error_type = ERROR_BODIES.get(code, (f"HTTP {code}", None))
    payload: dict[str, Any] = {"detail": detail}
    if error_type:
        payload["error_type"] = error_type
        headers["x-fal-error-type"] = error_type
    return code, payload, headers


def error_reply(code: int, body: Any = None, *, ingress: bool = False) -> Response:
    """The HTTP response fal sends for ``code`` (see ``error_response``)."""
    status, payload, headers = error_response(code, body, ingress=ingress)
    if isinstance(payload, str):
        return Response(payload, status_code=status, headers=headers, media_type="text/html")
    return JSONResponse(payload, status_code=status, headers=headers)


@dataclass
class Script:
    behaviour: dict[str, Any]
    match: dict[str, Any] | None = None
    times: int | None = None

    def take(self, arguments: Any) -> bool:
        """Whether this script applies to a submit of ``arguments`` (and count it)."""
        if self.times is not None and self.times <= 0:
            return False
        if self.match and not (isinstance(arguments, dict)
                               and all(k in arguments and arguments[k] == v for k, v in self.match.items())):
            return False
        if self.times is not None:
            self.times -= 1
        return True


@dataclass(frozen=True)
class JobState:
    """What the server knows about a request, for assertions."""

    status: str
    cancel_received: bool
    polls: int
    arguments: Any


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Job:
    request_id: str
    arguments: Any
    behaviour: dict[str, Any]
    outcome: tuple[int, Any]  # the result GET's (status, body), decided at submit
    webhook: str | None = None
    created: float = field(default_factory=time.monotonic)
    status: str = "IN_QUEUE"
    started: float | None = None
    finished: float | None = None
    answered: int = 0  # polls answered in the current stage
    polls: int = 0  # every status request, errors included
    cancel_received: bool = False
    cancelled: bool = False
    position: int = 0
    logs: list[dict[str, Any]] = field(default_factory=list)
    may_start: bool = True  # the account has a slot for it (testsupport/fal_server/account.py)
    ahead: int = 0  # requests ahead of it waiting for the account's slots
    run_time: float = 0.0  # this job's own seconds IN_PROGRESS: ``run_time`` ± ``run_time_spread`` (a share)

    def __post_init__(self) -> None:
        spread = float(self.behaviour.get("run_time_spread") or 0.0)
        self.run_time = float(self.behaviour["run_time"]) * (1.0 + random.uniform(-spread, spread))

    def _reveal(self, count: int) -> None:
        wanted = list(self.behaviour["logs"] or ())
        while len(self.logs) < min(count, len(wanted)):
            entry = wanted[len(self.logs)]
            entry = {"message": entry} if isinstance(entry, str) else dict(entry)
            self.logs.append({"message": entry["message"], "level": entry.get("level", "INFO"),
                              "source": entry.get("source", "USER"), "timestamp": _stamp()})

    def _complete(self, now: float) -> None:
        self.status, self.finished = "COMPLETED", now
        if self.started is None:
            self.started = now
        if not self.cancelled:
            self._reveal(len(self.behaviour["logs"] or ()))

    def advance(self, answering: bool) -> None:
        """Move through the stages; ``answering`` counts this call as a poll answered in the current stage."""
        b, now = self.behaviour, time.monotonic()
        if self.status == "IN_QUEUE":
            if self.cancelled:
                self._complete(now)
            elif (self.may_start and self.answered >= b["queue_polls"]
                  and now - self.created >= b["queue_wait"]):
                self.status, self.started, self.answered = "IN_PROGRESS", now, 0
        if self.status == "IN_PROGRESS":
            assert self.started is not None
            run_done = self.answered >= b["run_polls"] and now - self.started >= self.run_time
            if self.cancelled or (run_done and not b["stall"]):
                self._complete(now)
            else:
                done = self.answered + (1 if answering else 0)
                by_polls = done / b["run_polls"] if b["run_polls"] else 1.0
                by_time = (now - self.started) / self.run_time if self.run_time else 1.0
                progress = min(by_polls, by_time)
                total = len(b["logs"] or ())
                self._reveal(sum(1 for i in range(total) if (i + 1) / (total + 1) <= progress + 1e-9))
        if answering and self.status != "COMPLETED":
            if self.status == "IN_QUEUE":
                self.position = self.queue_position()  # before this poll counts
            self.answered += 1

    def queue_position(self) -> int:
        b = self.behaviour
        by_polls = b["queue_polls"] - 1 - self.answered
        remaining = b["queue_wait"] - (time.monotonic() - self.created)
        by_time = math.ceil(remaining / b["queue_step"]) - 1 if remaining > 0 and b["queue_step"] > 0 else 0
        return max(by_polls, by_time, self.ahead, 0)

    def status_body(self, base_url: str, with_logs: bool) -> dict[str, Any]:
        """The status JSON for the current stage (call ``advance`` first)."""
        body: dict[str, Any] = {"status": self.status, "request_id": self.request_id,
                                "response_url": base_url, "status_url": base_url + "/status",
                                "cancel_url": base_url + "/cancel", "logs": None}
        if self.status == "IN_QUEUE":
            body["queue_position"] = self.position
            return body
        if with_logs and self.logs:
            body["logs"] = [dict(entry) for entry in self.logs]
        if self.status == "COMPLETED":
            assert self.started is not None and self.finished is not None
            body["metrics"] = {"inference_time": round(self.finished - self.started, 4)}
            if self.behaviour["completed_error"]:
                body["error"] = self.behaviour["completed_error"]
                body["error_type"] = self.behaviour["completed_error_type"] or "runner_server_error"
        return body

    def state(self) -> JobState:
        return JobState(self.status, self.cancel_received, self.polls, self.arguments)
