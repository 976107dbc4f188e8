"""Safe to share with the owner's key: daily budgets, sign-in rules, where the history lives on a Space, typed
keys that leave the process, and a rate limit — each as a visitor or the Space's owner would notice it."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client, handle_file

from components.common import engine_panel
from components.common.session import Session
from core import config, engines
from core.errors import InputError
from core.runs.runs import Run
from core.sharing import budget, identity, limits, spending
from core.usecases.admission import build
from tests.conftest import api_client, launched_app
from tests.reliability import noise_png
from testsupport.apps import AppProcess


@pytest.fixture(scope="module")
def space() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLARITY_SHARED", "1")
        demo, url = launched_app()
    yield url
    demo.close()


@pytest.fixture
def on_space(monkeypatch, fal_key) -> None:
    """A shared app whose owner set FAL_KEY as a secret; each visitor at their own address."""
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("FAL_KEY", fal_key)
    monkeypatch.setenv("CLARITY_PROXY_HOPS", "1")


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return noise_png(tmp_path / "visitor.png", (100, 100), seed=zlib.crc32(request.node.name.encode()))


def visitor(url: str, address: str) -> Client:
    return api_client(url, headers={"X-Forwarded-For": address})


# -- budgets -------------------------------------------------------------------------------------------------

def test_caps_default_on_a_shared_app_with_a_key_and_zero_turns_one_off(monkeypatch, fal_key) -> None:
    assert budget.caps() == budget.Caps(None, None)  # single-user: no caps
    monkeypatch.setenv("CLARITY_SHARED", "1")
    assert budget.caps() == budget.Caps(None, None)  # shared, but no key of the owner's to protect
    monkeypatch.setenv("FAL_KEY", fal_key)
    assert budget.caps() == budget.Caps(5.0, 0.5)
    monkeypatch.setenv("CLARITY_VISITOR_DAILY_BUDGET_USD", "0")
    monkeypatch.setenv("CLARITY_DAILY_BUDGET_USD", "12.5")
    assert budget.caps() == budget.Caps(12.5, None)


def test_a_reservation_names_the_budget_and_what_is_left_and_survives_a_restart(tmp_path) -> None:
    path = tmp_path / "history.sqlite3"
    ledger = budget.Ledger(path)
    caps = budget.Caps(total=1.0, visitor=0.10)
    first = ledger.reserve(0.06, "alice", "198.51.100.1", "run", caps)
    with pytest.raises(InputError, match=r"This sweep would cost \$0.07; your daily budget on this Space's fal "
                                         r"key has \$0.04 left \(of \$0.10 a day\)"):
        ledger.reserve(0.07, "alice", "198.51.100.1", "sweep", caps)
    with pytest.raises(InputError, match="your daily budget"):  # a new owner from the same address: still counted
        ledger.reserve(0.07, "alice-again", "198.51.100.1", "sweep", caps)
    ledger.settle(first, 0.01)  # it used less than it reserved: the rest comes back
    ledger.reserve(0.07, "alice", "198.51.100.1", "sweep", caps)
    ledger.close()
    again = budget.Ledger(path)  # the app restarted
    assert again.spent_today("alice", "198.51.100.1") == pytest.approx(0.08)
    with pytest.raises(InputError, match="all visitors has \\$0.92 left"):
        again.reserve(0.95, "bob", "203.0.113.7", "run", budget.Caps(total=1.0, visitor=None))


def test_a_run_over_the_budget_is_refused_before_anything_reaches_fal(space, on_space, photo, fal_server,
                                                                      monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_VISITOR_DAILY_BUDGET_USD", "0.0001")  # less than one 100×100 → 200×200 run
    caller = visitor(space, "198.51.100.20")
    with pytest.raises(Exception, match=r"your daily budget on this Space's fal key has \$0.0001 left"):
        caller.predict(handle_file(photo), "", engine="fal", api_name="/upscale")
    with pytest.raises(Exception, match="your daily budget"):
        caller.predict(handle_file(photo), "", engine="fal", x_axis="seed", x_values="1, 2", y_axis="",
                       y_values="", confirm=True, api_name="/sweep")
    assert fal_server.requests == []  # not a submit, not an upload
    _, result = caller.predict(handle_file(photo), "", engine="local", api_name="/upscale")  # local is free
    assert result["status"] == "completed"


def test_a_finished_run_is_counted_at_its_real_price_and_shown(space, on_space, photo, fal_server) -> None:
    fal_server.set_default(queue_polls=1, run_polls=1)
    caller = visitor(space, "198.51.100.21")
    _, result = caller.predict(handle_file(photo), "", engine="fal", upscale_factor=2, api_name="/upscale")
    owner = next(iter(budget.ledger()._conn.execute("SELECT owner FROM spending")))[0]
    spent = budget.ledger().spent_today(owner, "198.51.100.21")
    assert spent == pytest.approx(result["image"]["width"] * result["image"]["height"] / 1e6 * 0.03)
    session = Session(shared=True, owner=owner, address="198.51.100.21")
    assert spending.today_line(session) == f"today: ${spent:.4f} of $0.50"
    assert "today: $" in engine_panel.status(session)


def test_a_visitors_own_key_is_not_counted(on_space, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_VISITOR_DAILY_BUDGET_USD", "0.0001")
    own = Session(shared=True, owner="carol", address="198.51.100.22", typed_key="their-own:key")
    with spending.reserved(own, "fal", 5.0, "run") as spend:  # nothing reserved, nothing refused
        spend.add(Run(engine="fal", arguments={}, status="completed", width=1000, height=1000), 5.0)
    assert budget.ledger().spent_today("carol", "198.51.100.22") == 0


# -- who may use the Space's key -------------------------------------------------------------------------------

def test_the_owner_can_keep_the_key_for_signed_in_visitors_or_named_ones(on_space, monkeypatch) -> None:
    anonymous = Session(shared=True, owner="a" * 32, address="198.51.100.23")
    ada = Session(shared=True, owner="hf:ada", signed_in=True)
    monkeypatch.setenv("CLARITY_KEY_REQUIRES_LOGIN", "1")
    with pytest.raises(InputError, match="signed in with Hugging Face"):
        spending.check_key_rules(anonymous, "fal")
    spending.check_key_rules(ada, "fal")
    spending.check_key_rules(anonymous, "local")  # the local engine stays open to everyone
    spending.check_key_rules(Session(shared=True, owner="x", typed_key="own:key"), "fal")  # so does one's own key
    monkeypatch.setenv("CLARITY_ALLOWED_USERS", "Grace, linus")
    with pytest.raises(InputError, match="CLARITY_ALLOWED_USERS"):
        spending.check_key_rules(ada, "fal")
    spending.check_key_rules(Session(shared=True, owner=identity.hf_owner("grace"), signed_in=True), "fal")


def test_the_page_offers_sign_in_only_on_a_space(tmp_path) -> None:
    def components(env: dict[str, str]) -> set[str]:
        app = AppProcess(tmp_path / "data", env).wait_ready()
        try:
            return {c["props"].get("elem_id") for c in httpx.get(app.url + "config", timeout=10).json()["components"]}
        finally:
            app.stop()

    assert "login" not in components({})
    space_env = {"SYSTEM": "spaces", "SPACE_ID": "owner/clarity-studio", "SPACE_HOST": "owner-clarity.hf.space",
                 "OAUTH_CLIENT_ID": "client", "OAUTH_CLIENT_SECRET": "secret", "OAUTH_SCOPES": "openid profile",
                 "OPENID_PROVIDER_URL": "https://hf.invalid", "CLARITY_PERSISTENT_ROOT": str(tmp_path / "none")}
    assert "login" in components(space_env)


# -- where the history lives -----------------------------------------------------------------------------------

def test_on_a_space_the_history_lives_on_persistent_storage(tmp_path, monkeypatch) -> None:
    from components.history import history_panel

    monkeypatch.delenv("CLARITY_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPACE_ID", "owner/clarity-studio")
    storage = tmp_path / "persistent"
    storage.mkdir()
    monkeypatch.setenv("CLARITY_PERSISTENT_ROOT", str(storage))
    assert config.data_dir() == storage / "clarity-studio" and "no persistent storage" not in history_panel.notice()
    monkeypatch.setenv("CLARITY_PERSISTENT_ROOT", str(tmp_path / "missing"))
    assert config.data_dir() == tmp_path / "data"
    assert "this Space has no persistent storage: history is lost when it restarts".lower() \
        in history_panel.notice().lower()


# -- a typed key leaves the process ----------------------------------------------------------------------------

def test_forgetting_a_typed_key_or_closing_the_tab_drops_its_engine(on_space) -> None:
    key = "visitor-typed:key-123"
    _, session, _, _ = engine_panel.set_key(key, Session(shared=True, owner="dan"))
    first = build("fal", session)
    assert build("fal", session) is first  # kept while the session lasts
    engine_panel.forget_key(session)
    assert build("fal", Session(typed_key=key)) is not first  # a new one: the old one is gone from the process
    engine_panel.end_session(Session(typed_key=key))
    assert not engines.forget(key)  # the tab's end already dropped it


# -- rate limit --------------------------------------------------------------------------------------------------

def test_runs_per_minute_are_limited_with_the_time_to_wait(monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_RUNS_PER_MINUTE", "2")
    keys = ("erin-" + json.dumps(id(monkeypatch)), "address:192.0.2.55")
    limits.check_rate(keys)
    limits.check_rate(keys)
    with pytest.raises(InputError, match=r"limit is 2 a minute \(CLARITY_RUNS_PER_MINUTE\)\. Try again in \d+ s"):
        limits.check_rate(keys)
    with pytest.raises(InputError):  # another session from the same address: the same count
        limits.check_rate(("someone-else", "address:192.0.2.55"))
    assert config.runs_per_minute() == 2


def test_the_rate_limit_is_on_by_default_only_when_shared(monkeypatch) -> None:
    assert config.runs_per_minute() == 0
    monkeypatch.setenv("CLARITY_SHARED", "1")
    assert config.runs_per_minute() == 10


def test_gradio_injects_the_sign_in_into_identify() -> None:
    import typing

    from components.common.session import identify

    assert typing.get_type_hints(identify)["profile"] == gr.OAuthProfile | None
