"""In Chromium: the Preset menu says which preset the form matches, or "custom" once it matches none."""

from __future__ import annotations

import pytest

from tests import browser_steps as steps
from tests.browser import browser_page

pytestmark = pytest.mark.browser


def test_the_preset_menu_follows_the_form(studio) -> None:
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        menu = page.locator("#preset input")
        page.wait_for_function("() => document.querySelector('#preset input').value === 'fal defaults'")
        steps.set_number(page, "creativity", "0.5")
        page.wait_for_function("() => document.querySelector('#preset input').value.startsWith('custom')")
        steps.choose(page, "preset", "Gentle restore")
        steps.wait_value(page, "#param-creativity input[type=number]", "0.2")  # the preset filled the form
        page.wait_for_timeout(500)
        assert menu.input_value() == "Gentle restore"  # and the menu still names it
