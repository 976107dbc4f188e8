"""Who a visitor is: ids the server signed, Hugging Face sign-ins, client addresses, and text that stays text."""

from __future__ import annotations

import gradio as gr
import pytest

from components.common.session import Session, for_request, identify
from components.common.text import code, plain
from core import config
from core.sharing import identity


def test_a_token_the_server_issued_is_trusted_and_nothing_else(monkeypatch) -> None:
    owner, token = identity.issue()
    assert identity.verify(token) == owner and token.startswith(owner + ".")
    for forged in (owner, f"{owner}.", f"{owner}.{'0' * 64}", token.upper(), token + "0", "../" + token, ""):
        assert identity.verify(forged) is None, forged
    monkeypatch.setenv("CLARITY_SERVER_SECRET", "another server's secret")
    assert identity.verify(token) is None  # signed elsewhere: not ours


def test_the_secret_is_made_once_and_kept_private(tmp_path) -> None:
    first = identity.server_secret()
    path = next(config.data_dir().rglob(identity.SECRET_FILE))
    assert identity.server_secret() == first and len(first) == 64 and oct(path.stat().st_mode)[-3:] == "600"


def test_a_page_load_replaces_an_unsigned_id_with_a_fresh_one() -> None:
    owner, token = identity.issue()
    kept, session = identify(owner, Session(shared=True))  # an id as the history holds it, unsigned
    assert kept != owner and session.owner != owner and identity.verify(kept) == session.owner
    kept, session = identify(token, Session(shared=True))
    assert (kept, session.owner) == (token, owner)
    assert identify("anything", Session(shared=False)) == ("anything", Session(shared=False))  # single-user


def test_a_hugging_face_sign_in_is_the_identity() -> None:
    profile = gr.OAuthProfile({"preferred_username": "Ada-L", "name": "Ada", "picture": "", "profile": ""})
    _, token = identity.issue()
    kept, session = identify(token, Session(shared=True), profile=profile)
    assert session.owner == "hf:ada-l" and session.signed_in and kept == token
    assert session.limit_keys() == ("hf:ada-l",)  # signed in: counted as themselves, not by address
    assert identity.hf_owner("../etc") is None and identity.hf_owner("") is None


def test_an_api_caller_gets_an_owner_of_its_own_session_and_is_counted_by_address(monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_PROXY_HOPS", "1")

    class Request:
        def __init__(self, session_hash: str, forwarded: str) -> None:
            self.session_hash, self.headers = session_hash, {"x-forwarded-for": forwarded}
            self.client = type("Client", (), {"host": "10.0.0.1"})()

    first = for_request(Session(shared=True), Request("a", "1.2.3.4, 198.51.100.9"))
    second = for_request(Session(shared=True), Request("b", "198.51.100.9"))
    assert first.owner != second.owner and first.owner.startswith("api-")
    assert first.limit_keys()[1] == second.limit_keys()[1] == "address:198.51.100.9"  # the proxy's hop, not theirs


@pytest.mark.parametrize(("headers", "peer", "hops", "expected"), [
    ({}, "127.0.0.1", None, "127.0.0.1"),
    ({"x-forwarded-for": "6.6.6.6"}, "127.0.0.1", None, "127.0.0.1"),  # not behind a proxy: the header is a lie
    ({"x-forwarded-for": "6.6.6.6, 203.0.113.5"}, "10.0.0.2", "1", "203.0.113.5"),
    ({"x-forwarded-for": "6.6.6.6, 203.0.113.5, 10.1.1.1"}, "10.0.0.2", "2", "203.0.113.5"),
    ({"x-forwarded-for": "203.0.113.5"}, "10.0.0.2", "5", "203.0.113.5"),
])
def test_the_client_address(monkeypatch, headers, peer, hops, expected) -> None:
    if hops:
        monkeypatch.setenv("CLARITY_PROXY_HOPS", hops)
    assert identity.client_address(headers, peer) == expected


@pytest.mark.parametrize("text", ["![x](https://e.invalid/p.png)", "<img src=x onerror=alert(1)>",
                                  "[a](javascript:alert(1))", "https://e.invalid/bare", "**bold** _it_ `code`",
                                  "$$x$$", "don't & <b>", "line\n# heading"])
def test_plain_text_leaves_nothing_for_markdown_to_interpret(text) -> None:
    shown = plain(text)
    assert "\n" not in shown and "](" not in shown and "<" not in shown.replace("\\<", "")
    assert shown.replace("\\", "") == text.replace("\n", " ")  # reads exactly as written


def test_a_code_span_cannot_be_closed_from_inside() -> None:
    assert code("a`b") == "`` a`b ``" and code("plain") == "` plain `"
