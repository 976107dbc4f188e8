"""What the owner's account tells strangers (issue 27 §3): on a shared app, fal's words about the Space's own key
or account (balance, lock, quota, invalid key, permissions) reach a visitor only as "this Space's fal account
cannot run requests right now", in the run's message and its history row; the detail goes to the server log
once. A visitor's own typed key, and the owner of a single-user app, keep fal's full words."""

from __future__ import annotations

import asyncio
import logging
import zlib
from pathlib import Path
from typing import Any

import pytest

from core.engines import fal_errors
from core.engines.fal_errors import ACCOUNT_UNAVAILABLE
from core.errors import StudioError
from core.usecases import RunRequest, Visitor, run_one
from tests.reliability import history_rows, noise_png

pytestmark = pytest.mark.reliability("account message")

# fal's refusals about an account, as its queue answers them: (where, status, body, words only the owner may read)
REFUSALS = {
    "locked for balance": ("submit", 403, {"detail": "User is locked. Reason: Exhausted balance. Top up your "
                                                     "balance at fal.ai/dashboard/billing."}, "Exhausted balance"),
    "invalid key": ("submit", 401, {"detail": "No user found for Key ID and Secret"}, "No user found"),
    "payment required": ("submit", 402, {"detail": "Insufficient credits: $0.00 left on this account"},
                         "Insufficient credits"),
    "no permission": ("submit", 403, {"detail": "Key 'owner-ci' lacks the permission to call this app"},
                      "owner-ci"),
    "quota at the result": ("result", 400, {"detail": "Monthly spend quota of $20 reached for team acme"},
                            "team acme"),
    "billing at the result": ("result", 400, {"detail": "Billing suspended for account acme-labs"}, "acme-labs"),
}


@pytest.fixture
def photo(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return noise_png(tmp_path / "photo.png", (40, 30), seed=zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(autouse=True)
def _fresh_log() -> None:
    fal_errors._logged.clear()  # a fresh server log (each test's engines are its own: tests/conftest.py)


@pytest.fixture
def space(monkeypatch: pytest.MonkeyPatch, fal_key: str) -> None:
    """A shared app with its own key, no per-minute limit (these tests run several runs through one visitor)."""
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("FAL_KEY", fal_key)
    monkeypatch.setenv("CLARITY_RUNS_PER_MINUTE", "0")


def refuse(fal_server: Any, where: str, status: int, body: dict) -> None:
    if where == "submit":
        fal_server.set_default(submit_status=status, submit_body=body)
    else:
        fal_server.set_default(result_status=status, result_body=body)


def attempt(photo: str, visitor: Visitor) -> str:
    """The run's failure message (refused before the first update, or its last update's)."""
    async def go() -> str:
        try:
            updates = [u async for u in run_one(RunRequest({"upscale_factor": 2}, photo, "fal"), visitor)]
        except StudioError as exc:
            return str(exc)
        return next(e.message for e in updates[-1].events if type(e).__name__ == "Failure")

    return asyncio.run(go())


def stranger(n: int = 1, key: str | None = None) -> Visitor:
    return Visitor(typed_key=key, owner=f"stranger-{n}", shared=True, address=f"203.0.113.{n}")


@pytest.mark.parametrize("name", REFUSALS, ids=REFUSALS.keys())
def test_a_stranger_on_the_spaces_key_learns_nothing_of_its_account(name: str, space: None, fal_server: Any,
                                                                     photo: str, caplog: Any) -> None:
    where, status, body, secret = REFUSALS[name]
    refuse(fal_server, where, status, body)
    with caplog.at_level(logging.WARNING, logger="core.engines.fal_errors"):
        said = [attempt(photo, stranger(n)) for n in (1, 2)]
    for message in said:
        assert ACCOUNT_UNAVAILABLE in message, message  # the second is refused before it runs: "… tried again after"
        assert secret not in message and str(status) not in message
    for row in history_rows():
        assert secret not in str(row["error"] or "")
    logged = [r.getMessage() for r in caplog.records if secret in r.getMessage()]
    assert len(logged) == 1  # the detail is in the server log, once for both visitors


@pytest.mark.parametrize("name", REFUSALS, ids=REFUSALS.keys())
def test_a_visitors_own_key_keeps_the_full_message(name: str, space: None, fal_server: Any, fal_key: str,
                                                    photo: str) -> None:
    where, status, body, secret = REFUSALS[name]
    refuse(fal_server, where, status, body)
    message = attempt(photo, stranger(3, key=fal_key + " "))  # typed by the visitor (a different string)
    assert secret in message or (status == 401 and "fal rejected this key" in message), message


def test_the_owner_of_a_single_user_app_keeps_the_full_message(monkeypatch: pytest.MonkeyPatch, fal_key: str,
                                                              fal_server: Any, photo: str) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    monkeypatch.delenv("CLARITY_SHARED", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    where, status, body, secret = REFUSALS["locked for balance"]
    refuse(fal_server, where, status, body)
    assert secret in attempt(photo, Visitor())


def test_a_spaces_key_fal_does_not_know_is_not_named_to_a_stranger(space: None, monkeypatch: pytest.MonkeyPatch,
                                                                    fal_server: Any, photo: str) -> None:
    monkeypatch.setenv("FAL_KEY", "revoked-id:0000000000000000")  # refused at the upload, before any submit
    message = attempt(photo, stranger(4))
    assert message == ACCOUNT_UNAVAILABLE and not fal_server.submits()


def test_a_refusal_not_about_the_account_keeps_its_words(space: None, fal_server: Any, photo: str) -> None:
    fal_server.set_default(submit_status=500, submit_body={"detail": "runner crashed"})
    message = attempt(photo, stranger(5))
    assert "runner crashed" in message and ACCOUNT_UNAVAILABLE not in message
