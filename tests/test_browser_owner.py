"""In headless Chromium: the first screen of a visitor the Space's key would refuse says so before any click, at a
phone's width and a laptop's; the Owner tab shows the owner a day of visitors and never shows to strangers."""

from __future__ import annotations

import pytest

from components.common.session import Session
from core.runs.runs import Run
from core.sharing import spending
from tests import browser_steps as steps
from tests.browser import browser_page, screenshot
from tests.conftest import launched_app
from testsupport.apps import AppProcess

pytestmark = pytest.mark.browser


def checked_engine(page) -> str:
    return page.locator("#engine input[type=radio]:checked").evaluate("input => input.value")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 900)])
def test_a_visitor_who_may_not_use_the_key_sees_the_local_engine_and_why_on_the_first_screen(
        monkeypatch, fal_key, width, height) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("FAL_KEY", fal_key)
    monkeypatch.setenv("CLARITY_KEY_REQUIRES_LOGIN", "1")
    demo, url = launched_app()
    try:
        with browser_page(width, height) as page:
            steps.open_app(page, url)
            assert checked_engine(page) == "local"
            status = page.locator("#key-status")
            assert "signed in with Hugging Face" in status.inner_text()
            box = status.bounding_box()
            assert box is not None and box["y"] + box["height"] <= height  # read before scrolling
            assert steps.no_horizontal_scroll(page)
            assert not page.locator("button[role=tab]", has_text="Owner").count()
            screenshot(page, f"owner-first-screen-{width}")
    finally:
        demo.close()


def test_the_owner_sees_a_day_of_visitors_and_strangers_see_no_owner_tab(monkeypatch, fal_key) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("FAL_KEY", fal_key)
    visitors = [Session(shared=True, owner=f"{n:032x}", address=f"198.51.100.{n}") for n in (11, 12, 13)]
    for n, visitor in enumerate(visitors, start=1):  # a day of emulated visitors on the Space's key
        with spending.reserved(visitor, "fal", 0.03 * n, "run") as spend:
            spend.add(Run(engine="fal", arguments={}, status="completed", width=1000, height=1000 * n), 0.03 * n)
    demo, url = launched_app()
    try:
        for _stranger in range(2):  # two strangers, each in their own browser
            with browser_page(1366, 900) as page:
                steps.open_app(page, url)
                assert not page.locator("button[role=tab]", has_text="Owner").count()
                assert not page.get_by_text(visitors[0].owner).count()
    finally:
        demo.close()
    monkeypatch.setenv("CLARITY_SHARED", "0")  # the owner's own app (single-user): its user is the owner
    demo, url = launched_app()
    try:
        with browser_page(1366, 900) as page:
            steps.open_app(page, url)
            steps.open_tab(page, "Owner")
            page.locator("#owner-visitors [role=gridcell]").first.wait_for()
            shown = steps.table_column(page, "owner-visitors", "visitor")
            assert shown == [visitor.owner for visitor in reversed(visitors)]  # most spent first
            assert [float(v) for v in steps.table_column(page, "owner-days", "spent_usd")] == [0.18]
            screenshot(page, "owner-view")
    finally:
        demo.close()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 900)])
def test_the_spaces_header_buttons_keep_their_natural_size_and_say_what_sign_in_gives(tmp_path, width,
                                                                                      height) -> None:
    space = {"SYSTEM": "spaces", "SPACE_ID": "owner/clarity-studio", "SPACE_HOST": "owner-clarity.hf.space",
             "OAUTH_CLIENT_ID": "client", "OAUTH_CLIENT_SECRET": "secret", "OAUTH_SCOPES": "openid profile",
             "OPENID_PROVIDER_URL": "https://hf.invalid", "CLARITY_PERSISTENT_ROOT": str(tmp_path / "none")}
    app = AppProcess(tmp_path / "data", space).wait_ready()
    try:
        with browser_page(width, height) as page:
            steps.open_app(page, app.url)
            login = page.locator("#login")
            assert "keep your history and your own allowance" in login.inner_text()
            for button in (login, page.locator("#duplicate")):
                box = button.bounding_box()
                assert box is not None and box["height"] <= 64 and box["width"] <= width * 0.9, box
            title = page.locator("#title").bounding_box()
            assert title is not None and title["height"] < height / 3  # the header leaves room for the app
            screenshot(page, f"space-header-{width}")
    finally:
        app.stop()
