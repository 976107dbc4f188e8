"""The owner's side of a shared Space (issue 30): caps that never reset silently, an owner's view strangers never
see, a ledger without raw addresses, money that never contradicts itself, first screens that tell the truth."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import handle_file

from components.common import engine_panel, startup
from components.common.session import Session, default_engine
from components.owner import owner_tab
from components.upscale import image_input, page_open
from core import money
from core.errors import InputError
from core.runs.runs import Run
from core.sharing import budget, identity, owner, spending
from tests.conftest import api_client, launched_app, upgraded_elsewhere_meanwhile
from tests.reliability import noise_png

ADDRESS = "198.51.100.77"


@pytest.fixture(autouse=True)
def _account_works() -> Iterator[None]:
    owner.account_ok()  # the account's state is the process's: each test starts with a working one
    yield
    owner.account_ok()


@pytest.fixture
def shared_key(monkeypatch, fal_key) -> None:
    """A shared app whose owner set FAL_KEY; its data directory was set explicitly, so the caps persist."""
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("FAL_KEY", fal_key)


@pytest.fixture
def space_without_storage(monkeypatch, fal_key, tmp_path) -> None:
    """A Space with the owner's key and neither persistent storage nor a data directory of the owner's."""
    monkeypatch.delenv("CLARITY_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPACE_ID", "owner/clarity-studio")
    monkeypatch.setenv("CLARITY_PERSISTENT_ROOT", str(tmp_path / "no-persistent-storage"))
    monkeypatch.setenv("FAL_KEY", fal_key)


def stranger(name: str) -> Session:
    return Session(shared=True, owner=f"{zlib.crc32(name.encode()):08x}" * 4, address=ADDRESS)


# -- money ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cost", "left", "words"), [
    (0.0288, 0.0275, ("$0.03", "$0.02")),   # the case: it read "$0.03 … $0.03 left"
    (0.094, 0.01, ("$0.10", "$0.01")),
    (0.0101, 0.0199, ("$0.02", "$0.01")),
    (0.0012, 0.0008, ("$0.0012", "$0.0008")),  # below a cent: four decimals, never "$0.00 … $0.00"
    (0.00015, 0.00014, ("$0.0002", "$0.0001")),
])
def test_a_refused_cost_is_always_more_than_what_is_left(cost, left, words) -> None:
    assert (money.cost(cost), money.left(left)) == words
    shown_cost, shown_left = (float(text.lstrip("$")) for text in words)
    assert shown_cost > shown_left  # a refusal can never read as if the run would fit


def test_a_refusal_says_the_cost_rounded_up_and_what_is_left_rounded_down(tmp_path) -> None:
    ledger = budget.Ledger(tmp_path / "history.sqlite3")
    caps = budget.Caps(total=None, visitor=0.05)
    ledger.reserve(0.0225, "ada", ADDRESS, "run", caps)  # 0.0275 left
    with pytest.raises(InputError, match=r"would cost \$0\.03; your daily budget .* has \$0\.02 left"):
        ledger.reserve(0.0288, "ada", ADDRESS, "run", caps)


# -- the ledger keeps no address -------------------------------------------------------------------------------

def test_the_ledger_keeps_no_raw_address_yet_counts_per_address(tmp_path) -> None:
    path = tmp_path / "history.sqlite3"
    old = sqlite3.connect(path)  # a ledger an older version wrote, with a raw address
    old.execute(budget.TABLE)
    old.execute("INSERT INTO spending VALUES ('r0', ?, 'x', '203.0.113.9', 0.01, 0.01, 'settled', 'run', ?)",
                (budget.today(), time.time()))
    old.commit()
    old.close()
    ledger = budget.Ledger(path)
    caps = budget.Caps(total=None, visitor=0.05)
    ledger.reserve(0.04, "ada", ADDRESS, "run", caps)
    ledger.note_refusal("ada", ADDRESS, "sign-in required")
    with pytest.raises(InputError, match="your daily budget"):  # a fresh owner at the same address: still counted
        ledger.reserve(0.02, "ada-again", ADDRESS, "run", caps)
    with pytest.raises(InputError, match="your daily budget"):  # the old row's address still counts, hashed
        ledger.reserve(0.045, "someone", "203.0.113.9", "run", caps)
    ledger.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("history.sqlite3"))
    for address in (ADDRESS, "203.0.113.9"):
        assert address.encode() not in stored
    rows = sqlite3.connect(path).execute("SELECT address FROM spending UNION SELECT address FROM refusals")
    assert {row[0][:5] for row in rows} == {"addr-"}


def test_two_processes_upgrading_one_ledger_at_once_both_open_it(tmp_path) -> None:
    path = tmp_path / "history.sqlite3"
    budget.Ledger(path).close()
    with contextlib.closing(sqlite3.connect(path)) as conn:  # the ledger as a version before "forgiven" left it
        conn.execute("ALTER TABLE spending DROP COLUMN forgiven")
        conn.commit()
    thread = upgraded_elsewhere_meanwhile(path, "ALTER TABLE spending ADD COLUMN forgiven INTEGER NOT NULL DEFAULT 0")
    budget.Ledger(path).close()  # raised "duplicate column name: forgiven" before
    thread.join()


def test_the_ledger_forgets_rows_older_than_its_days(tmp_path, monkeypatch) -> None:
    path = tmp_path / "history.sqlite3"
    ledger = budget.Ledger(path)
    old_day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 40 * 86400))
    ledger._conn.execute("INSERT INTO spending (id, day, owner, address, reserved, spent, state, label, created_at)"
                         " VALUES ('old', ?, 'x', NULL, 1, 1, 'settled', 'run', 0)", (old_day,))
    ledger.close()
    monkeypatch.setenv("CLARITY_LEDGER_DAYS", "60")
    budget.Ledger(path).close()
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM spending").fetchone()[0] == 1
    monkeypatch.delenv("CLARITY_LEDGER_DAYS")  # 30 days by default
    budget.Ledger(path).close()
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM spending").fetchone()[0] == 0


# -- a cap that resets silently is no cap ----------------------------------------------------------------------

def test_without_persistent_storage_the_owners_key_waits_until_the_owner_opts_in(
        space_without_storage, fal_server, tmp_path, monkeypatch, caplog) -> None:
    visitor = stranger("nina")
    assert default_engine(visitor) == "local"  # the first screen does not offer what it would refuse
    assert "persistent storage" in visitor.key_status()
    with caplog.at_level(logging.WARNING, logger="clarity.owner"):
        startup.warn_resetting_caps()
    assert "CLARITY_ACCEPT_RESETTING_CAPS=1" in caplog.text and "persistent storage" in caplog.text
    demo, url = launched_app()
    try:
        photo = noise_png(tmp_path / "p.png", (64, 64), seed=3)
        caller = api_client(url)
        with pytest.raises(Exception, match="turn on persistent storage"):
            caller.predict(handle_file(photo), "", engine="fal", api_name="/upscale")
        assert fal_server.submits() == []
        _, result = caller.predict(handle_file(photo), "", engine="local", api_name="/upscale")
        assert result["status"] == "completed"  # the local engine stays open
        monkeypatch.setenv("CLARITY_ACCEPT_RESETTING_CAPS", "1")  # the owner accepts caps that reset
        _, result = caller.predict(handle_file(photo), "", engine="fal", api_name="/upscale")
        assert result["status"] == "completed" and len(fal_server.submits()) == 1
        assert default_engine(stranger("nina")) == "fal"
    finally:
        demo.close()


def test_with_persistent_storage_the_key_is_used_without_a_setting(space_without_storage, tmp_path,
                                                                   monkeypatch) -> None:
    storage = tmp_path / "persistent"
    storage.mkdir()
    monkeypatch.setenv("CLARITY_PERSISTENT_ROOT", str(storage))
    assert spending.key_refusal(stranger("omar")) is None and default_engine(stranger("omar")) == "fal"


# -- first screens that tell the truth -------------------------------------------------------------------------

@pytest.mark.parametrize("rule", ["sign-in", "allowed list", "total cap spent", "blocked", "account failing"])
def test_a_visitor_the_key_would_refuse_sees_the_local_engine_and_why_before_any_click(shared_key, monkeypatch,
                                                                                        rule) -> None:
    visitor = stranger("pia")
    assert default_engine(visitor) == "fal" and "paid by this Space's owner" in visitor.key_status()
    if rule == "sign-in":
        monkeypatch.setenv("CLARITY_KEY_REQUIRES_LOGIN", "1")
        why = "signed in with Hugging Face"
    elif rule == "allowed list":
        monkeypatch.setenv("CLARITY_ALLOWED_USERS", "grace")
        visitor = Session(shared=True, owner="hf:linus", signed_in=True)
        why = "people its owner named"
    elif rule == "total cap spent":
        monkeypatch.setenv("CLARITY_DAILY_BUDGET_USD", "0.05")
        budget.ledger().reserve(0.05, "someone-else", "203.0.113.1", "run", budget.caps())
        why = "daily budget for all visitors ($0.05) is spent"
    elif rule == "blocked":
        budget.ledger().block(visitor.owner)
        why = "stopped your use"
    else:
        owner.account_failed("User is locked. Reason: Exhausted balance.")
        why = "fal account cannot run requests right now"
    assert default_engine(visitor) == "local"
    assert why in visitor.key_status() and "Exhausted balance" not in visitor.key_status()
    with pytest.raises(InputError, match="local engine"):
        spending.check_key_rules(visitor, "fal")
    assert default_engine(Session(shared=True, owner=visitor.owner, typed_key="their:own")) == "fal"


def test_the_budget_line_shows_what_the_space_has_left_and_marks_a_run_that_would_not_fit(shared_key, tmp_path,
                                                                                          monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_DAILY_BUDGET_USD", "1.00")
    visitor = stranger("quinn")
    budget.ledger().reserve(0.98, "others", "203.0.113.2", "sweep", budget.Caps(total=1.0, visitor=None))
    assert engine_panel.status(visitor).endswith("today: $0.00 of $0.50 · $0.02 left on this Space today")
    photo = noise_png(tmp_path / "big.png", (1000, 1000), seed=4)  # ×2 → 4 MP → $0.12 on fal
    _, line, loaded = image_input.preview(photo, None, 2, visitor)
    assert "more than the $0.02 you have left today" in line
    assert "more than" in image_input.describe(loaded, 1, visitor)  # ×1 is 1 MP, $0.03: still over
    small = noise_png(tmp_path / "small.png", (64, 64), seed=5)
    _, line, _ = image_input.preview(small, None, 2, visitor)
    assert "more than" not in line


# -- the owner hears of spending ----------------------------------------------------------------------------

def test_each_paid_run_is_one_log_line_and_a_reached_cap_one_warning(shared_key, monkeypatch, caplog) -> None:
    monkeypatch.setenv("CLARITY_DAILY_BUDGET_USD", "0.10")
    runs = []
    with caplog.at_level(logging.INFO, logger="clarity.owner"):
        for name in ("rae", "sam"):  # each reserves its estimate; the output came out larger: $0.051 each
            with spending.reserved(stranger(name), "fal", 0.04, "run") as spend:
                runs.append(Run(engine="fal", arguments={}, status="completed", width=1000, height=1700))
                spend.add(runs[-1], 0.04)
        for name in ("tia", "uma"):  # the Space's day is spent: refused before anything runs
            with pytest.raises(InputError, match=r"daily budget for all visitors \(\$0.10\) is spent"):
                with spending.reserved(stranger(name), "fal", 0.01, "run"):
                    pass
    paid = [r.getMessage() for r in caplog.records if r.getMessage().startswith("paid:")]
    assert paid == [f"paid: visitor {stranger('rae').owner[:8]} · {runs[0].id} · $0.06 · today $0.06 of $0.10 in all",
                    f"paid: visitor {stranger('sam').owner[:8]} · {runs[1].id} · $0.06 · today $0.11 of $0.10 in all"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("cap reached" in w and "all visitors" in w for w in warnings) == 1  # once, not per visitor
    assert dict(zip(*(owner.report(Session()).refusals[c] for c in ("reason", "count")), strict=True)) == {
        "total cap": 2}


def test_an_account_failure_rests_the_key_and_it_is_tried_again_later(shared_key, fal_server, tmp_path,
                                                                      caplog) -> None:
    from core.usecases import RunRequest, run_one

    fal_server.script(times=1, submit_status=403)
    photo = noise_png(tmp_path / "p.png", (64, 64), seed=6)

    async def run(visitor: Session) -> Run:
        async for update in run_one(RunRequest({"upscale_factor": 2}, photo, "fal"), visitor):
            last = update.run
        return last

    import asyncio

    with caplog.at_level(logging.WARNING, logger="clarity.owner"):
        failed = asyncio.run(run(stranger("vic")))
        assert failed.status == "failed"
        for name in ("wes", "xan"):  # later visitors are told before any click, and nothing reaches fal
            with pytest.raises(InputError, match="fal account cannot run requests"):
                asyncio.run(run(stranger(name)))
    assert len(fal_server.submits()) == 1
    assert sum("fal account failing" in r.getMessage() for r in caplog.records) == 1  # once, not per visitor
    assert "last failed" in owner.report(Session()).account
    owner._account["at"] = time.time() - owner.RETRY_AFTER_S - 1  # five minutes later: the owner topped up
    fal_server.set_default(queue_polls=1, run_polls=1)
    assert asyncio.run(run(stranger("yul"))).status == "completed"
    assert owner.account_failing() is None


# -- the owner's view ----------------------------------------------------------------------------------------

def test_who_sees_the_owners_view(monkeypatch) -> None:
    assert owner.is_owner(Session())  # a single-user app: its user
    monkeypatch.setenv("SPACE_AUTHOR_NAME", "Ada")
    monkeypatch.setenv("CLARITY_ADMINS", "grace, linus")
    assert owner.is_owner(Session(shared=True, owner=identity.hf_owner("ada"), signed_in=True))
    assert owner.is_owner(Session(shared=True, owner="hf:linus", signed_in=True))  # an organisation's admin
    for who in (stranger("zed"), Session(shared=True, owner="hf:mallory", signed_in=True),
                Session(shared=True, owner="hf:ada", signed_in=False)):  # a forged id without sign-in
        assert not owner.is_owner(who)
        for action in (owner.report, owner.export, lambda v: owner.reset_visitor(v, "x"),
                       lambda v: owner.block_visitor(v, "x")):
            with pytest.raises(InputError, match="Only this Space's owner"):
                action(who)
        assert owner_tab.view(who) == (owner_tab.gr.skip(),) * 5
        assert page_open.open_page("", who)[4].visible is False  # the page's load keeps the Owner tab hidden


def test_the_owner_sees_spending_resets_blocks_and_exports(shared_key, monkeypatch) -> None:
    monkeypatch.setenv("SPACE_AUTHOR_NAME", "ada")
    me = Session(shared=True, owner="hf:ada", signed_in=True)
    ann, ben = stranger("ann"), stranger("ben")
    ben.address = "203.0.113.50"
    for visitor, height in ((ann, 10_000), (ben, 3_000)):  # 10 MP → $0.30 and 3 MP → $0.09 at fal's price
        with spending.reserved(visitor, "fal", height / 1e6 * 0.03 * 1000, "run") as spend:
            spend.add(Run(engine="fal", arguments={}, status="completed", width=1000, height=height), 0.0)
    monkeypatch.setenv("CLARITY_KEY_REQUIRES_LOGIN", "1")
    with pytest.raises(InputError):
        spending.check_key_rules(ann, "fal")
    monkeypatch.delenv("CLARITY_KEY_REQUIRES_LOGIN")
    report = owner.report(me)
    assert list(report.visitors["visitor"]) == [ann.owner, ben.owner]  # most spent first
    assert report.visitors["spent_usd"].sum() == pytest.approx(report.days["spent_usd"].iloc[0])
    assert dict(zip(report.refusals["reason"], report.refusals["count"], strict=True)) == {"sign-in required": 1}
    assert "all visitors $5.00 a day, each visitor $0.50 a day" in report.caps
    before = budget.ledger().spent_in_all_today()
    owner.reset_visitor(me, ann.owner)
    assert budget.ledger().spent_today(ann.owner, ann.address) == 0  # a fresh allowance…
    assert budget.ledger().spent_in_all_today() == before  # …and the Space's total still counts what was spent
    owner.block_visitor(me, ben.owner)
    assert spending.key_refusal(ben) is not None and owner.report(me).visitors["blocked"].tolist() == [False, True]
    owner.block_visitor(me, ben.owner, blocked=False)
    assert spending.key_refusal(ben) is None
    exported = Path(owner.export(me)).read_text(encoding="utf-8-sig")
    assert ann.owner in exported and ADDRESS not in exported and "addr-" in exported


def test_strangers_find_no_owner_door_in_the_api_and_no_owner_tab(shared_key, tmp_path) -> None:
    demo, url = launched_app()
    try:
        for address in ("198.51.100.1", "198.51.100.2"):
            api = api_client(url, headers={"X-Forwarded-For": address}).view_api(print_info=False,
                                                                                          return_format="dict")
            names = " ".join(api["named_endpoints"]) + " ".join(map(str, api["unnamed_endpoints"]))
            assert "owner" not in names.lower() and "ledger" not in names.lower()
        tab = next(block for block in demo.config["components"] if block.get("props", {}).get("label") == "Owner"
                   or block.get("props", {}).get("id") == "owner")
        assert tab["props"].get("visible") is False  # drawn hidden; only the owner's page load shows it
    finally:
        demo.close()


@pytest.mark.parametrize("shared", [False, True])
def test_the_owner_tab_speaks_of_a_space_only_on_a_shared_app(shared, monkeypatch) -> None:
    # A single-user app's user saw "Spending on this Space's fal key" and caps "the Space's key is off": words about
    # a Space they do not run, over tables that stay empty because nothing is counted off a shared app.
    import gradio as gr

    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.setenv("CLARITY_SHARED", "1" if shared else "0")
    with gr.Blocks() as demo, gr.Tab("Owner") as tab:
        owner_tab.render(tab)
    intro = next(block.value for block in demo.blocks.values() if getattr(block, "elem_id", "") == "owner-intro")
    if shared:
        assert "Space's fal key" in intro
        return
    assert "Space" not in intro.replace("Hugging Face Space", "") and "not shared" in intro
    caps = owner.report(Session()).caps  # a single-user app's user is its owner
    assert "not shared" in caps and "Space's key" not in caps
