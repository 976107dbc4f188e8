"""The page says what the chosen engine ignores: marked knobs, a sweep axis it uses, a refusal by name."""

from __future__ import annotations

import pytest

from tests import browser_steps as steps
from tests.browser import browser_page

pytestmark = pytest.mark.browser

IGNORED_BY_LOCAL = ("prompt", "creativity", "resemblance")  # on the page without opening Advanced


def marked(page, name: str) -> bool:
    return page.locator(f"#param-{name}").evaluate("el => el.classList.contains('ignored-by-local') && "
                                                   "getComputedStyle(el, '::before').content.includes('ignored')")


def test_the_local_engine_marks_its_ignored_knobs_and_refuses_to_sweep_them(studio) -> None:
    with browser_page() as page:
        steps.open_app(page, studio)  # no key: the local engine
        assert all(marked(page, name) for name in IGNORED_BY_LOCAL)
        assert not marked(page, "upscale_factor")
        note = page.locator("#engine-note")
        note.get_by_text("The local engine ignores").wait_for()  # the chosen engine's note, not every engine's
        assert "lanczos" not in note.inner_text()
        page.locator("#engine").get_by_text("lanczos", exact=True).click()
        note.get_by_text("The lanczos engine ignores").wait_for()
        assert "The local engine" not in note.inner_text()
        page.locator("#engine").get_by_text("local", exact=True).click()
        note.get_by_text("The local engine ignores").wait_for()
        steps.open_tab(page, "Sweep")
        assert page.locator("#sweep-x-axis input").input_value() == "Upscale factor"  # one local uses

        page.locator("#engine").get_by_text("fal", exact=True).click()
        page.wait_for_function("() => document.querySelector('#sweep-x-axis input').value === 'Creativity'")
        steps.open_tab(page, "Upscale")
        page.wait_for_function("() => !document.querySelector('#param-creativity')"
                               ".classList.contains('ignored-by-local')")
        assert not any(marked(page, name) for name in IGNORED_BY_LOCAL)
        assert "ignores" not in page.locator("#engine-note").inner_text()  # fal uses every knob

        steps.open_tab(page, "Sweep")
        page.locator("#sweep-x-values textarea, #sweep-x-values input").first.fill("0.2, 0.5")
        page.locator("#sweep-preflight").get_by_text("2 cells").wait_for()
        page.locator("#engine").get_by_text("local", exact=True).click()  # typed values stay the user's
        page.locator("#sweep-preflight").get_by_text(
            "The local engine ignores creativity: these cells would be identical; choose fal or another axis"
        ).wait_for()
        assert page.locator("#sweep-x-axis input").input_value() == "Creativity"
        steps.open_tab(page, "Upscale")
        page.wait_for_function("() => document.querySelector('#param-creativity')"
                               ".classList.contains('ignored-by-local')")
