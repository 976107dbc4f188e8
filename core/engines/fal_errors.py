"""fal's failures in plain words: any exception from fal_client or httpx as a StudioError a user can act on,
with the key scrubbed out of every message (docs/fal-protocol.md, "Errors").

What fal says about a key's *account* (its balance, a lock, a quota, an invalid key, missing permissions: 401,
402, 403, a 429 about a quota or a balance) belongs to the key's owner. For a shared app's own key
(``space_key``) a visitor reads ``ACCOUNT_UNAVAILABLE`` and the detail goes to the server log, once per message;
a visitor's own typed key keeps fal's full words.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from typing import Any

import fal_client
import httpx
from fal_client import FalClientHTTPError
from fal_client.auth import MissingCredentialsError

from core import schema
from core.errors import AuthError, EngineError, EngineTimeoutError, InputError, StudioError

KEYS_URL = "https://fal.ai/dashboard/keys"
NO_KEY = f"No fal key: type one in the Engine panel or set FAL_KEY. Create one at {KEYS_URL}"
ACCOUNT_UNAVAILABLE = ("This Space's fal account cannot run requests right now — use your own key or the local "
                       "engine.")
ACCOUNT_STATUSES = (401, 402, 403)
# Words that make any refusal about the account (a 429 for a spent quota, a 400 about billing, ...).
ACCOUNT_WORDS = re.compile(r"balance|locked|lock(ed)? out|quota|billing|payment|credit|exhaust|top.?up|suspend|"
                           r"plan\b|subscription|permission|forbidden|unauthori[sz]ed|invalid key|no user|"
                           r"account|spend", re.IGNORECASE)
log = logging.getLogger(__name__)
_logged: set[str] = set()
_logged_lock = threading.Lock()


def about_account(status: int, words: str, error_type: str | None = None) -> bool:
    """Whether fal's refusal (HTTP ``status``, its ``words`` and ``error_type``) is about the key's account: an
    invalid key, a lock, the balance, a quota or permissions."""
    return status in ACCOUNT_STATUSES or bool(ACCOUNT_WORDS.search(f"{words} {error_type or ''}"))


def _log_once(detail: str) -> None:
    """The owner's account detail, in the server log once per distinct message (never per visitor)."""
    with _logged_lock:
        if detail in _logged:
            return
        _logged.add(detail)
    log.warning("fal refused this Space's own key (visitors are told only that its account cannot run "
                "requests): %s", detail)


def _scrub(text: str, key: str | None) -> str:
    """Replace the key (and its secret half) wherever it appears."""
    if key:
        for secret in (key, key.partition(":")[2]):
            if len(secret) >= 4:
                text = text.replace(secret, "***")
    return text


def _item_words(item: Any) -> tuple[str | None, str]:
    """One 422 detail entry as ``(field, plain sentence)``."""
    if not isinstance(item, dict):
        return None, str(item)
    loc = item.get("loc") or []
    name = str(loc[-1]) if loc and loc[-1] != "body" else None
    msg = str(item.get("msg") or item.get("message") or item.get("type") or "invalid value").rstrip(".")
    if item.get("type") == "content_policy_violation":
        return name, f"fal's content checker refused this image ({msg})"
    field = schema.FIELD_BY_NAME.get(name or "")
    label = field.label if field else name
    return name, f"{label}: {msg}" if label else msg


def _words(detail: Any) -> str:
    """fal's ``detail`` (text, a list of errors, or a dict) as plain words, never a Python repr."""
    if detail is None:
        return ""
    if isinstance(detail, str):
        return "" if "<html" in detail.lower() else " ".join(detail.split())[:300]
    if isinstance(detail, dict) and "msg" not in detail:
        return "; ".join(f"{k}: {_words(v)}" for k, v in detail.items())
    items = detail if isinstance(detail, list) else [detail]
    return "; ".join(_item_words(item)[1] for item in items)


def _http_parts(exc: FalClientHTTPError | httpx.HTTPStatusError) -> tuple[int, Any, str | None]:
    if isinstance(exc, FalClientHTTPError):
        return exc.status_code, exc.message, exc.error_type
    response = exc.response  # httpx.HTTPStatusError (the CDN token request raises those)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    detail = body.get("detail", body) if isinstance(body, dict) else body
    error_type = (body.get("error_type") if isinstance(body, dict) else None) or response.headers.get(
        "x-fal-error-type")
    return response.status_code, detail, error_type


def translate(exc: BaseException, *, key: str | None = None, request_id: str | None = None,
              space_key: bool = False) -> StudioError:
    """Any failure from fal_client or httpx as a StudioError a user can act on; ``key`` is scrubbed out. With
    ``space_key`` (a shared app's own key) a refusal about the account is ``ACCOUNT_UNAVAILABLE`` (an AuthError),
    its detail logged once."""
    if isinstance(exc, StudioError):
        exc.message = _scrub(exc.message, key)
        exc.args = (exc.message,)
        return exc
    where = f" (request {request_id})" if request_id else ""
    if isinstance(exc, MissingCredentialsError):
        error: StudioError = AuthError(NO_KEY)
    elif isinstance(exc, (FalClientHTTPError, httpx.HTTPStatusError)):
        status, detail, error_type = _http_parts(exc)
        words = _words(detail) or httpx.codes.get_reason_phrase(status)
        kind = f", {error_type.replace('_', ' ')}" if error_type else ""
        if space_key and status != 422 and about_account(status, words, error_type):
            _log_once(_scrub(f"HTTP {status}{kind}: {words}", key))
            error = AuthError(ACCOUNT_UNAVAILABLE, request_id)
        elif status == 401:
            error = AuthError(f"fal rejected this key. Check it, or create one at {KEYS_URL}", request_id)
        elif status == 403:
            error = AuthError(f"fal refused this key's account: {words}", request_id)
        elif status == 422:
            items = detail if isinstance(detail, list) else [detail]
            fields = [_item_words(item)[0] for item in items]
            error = InputError(f"fal refused the input: {words}.", next((f for f in fields if f), None))
        elif status == 429:
            error = EngineError(f"fal is limiting this key (HTTP 429{kind}): {words}. Wait a moment, or run "
                                f"fewer requests at once.", request_id)
        elif status >= 500:
            error = EngineError(f"fal failed on its side (HTTP {status}{kind}){where}: {words}. Trying again "
                                f"usually helps.", request_id)
        else:
            error = EngineError(f"fal refused the request (HTTP {status}{kind}){where}: {words}", request_id)
    elif isinstance(exc, (fal_client.FalClientTimeoutError, httpx.TimeoutException, asyncio.TimeoutError,
                          TimeoutError)):
        error = EngineTimeoutError(f"fal did not answer in time{where}. It may still be running; try again "
                                   f"or resume it later.", request_id)
    elif isinstance(exc, httpx.TransportError):
        error = EngineError(f"Could not reach fal ({type(exc).__name__}){where}. Check the network "
                            f"connection and try again.", request_id)
    else:
        error = EngineError(f"fal client error{where}: {type(exc).__name__}: {exc}", request_id)
    return translate(error, key=key)
