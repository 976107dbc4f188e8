"""In Chromium: the Code tab draws its snippets whole, with their line numbers beside their lines. The code boxes
are CodeMirror editors (gr.Code); given new text while their tab was hidden (on every change of the form), they
measured their lines in a box of no size: curl drew its first lines only, its line numbers out of step, until
clicked (a user trial). The code is now written when the tab is opened (components/code/code_panel.py)."""

from __future__ import annotations

import pytest

from components.code.code_panel import code_for
from tests import browser_steps as steps
from tests.browser import browser_page, screenshot

pytestmark = pytest.mark.browser
DRAWN = """id => {
    const box = document.querySelector(`#${id}`);
    const lines = [...box.querySelectorAll('.cm-line')];
    const numbers = [...box.querySelectorAll('.cm-lineNumbers .cm-gutterElement')].filter(g => g.innerText.trim());
    const apart = numbers.slice(0, lines.length).map((n, i) => Math.abs(n.getBoundingClientRect().top
        - lines[i].getBoundingClientRect().top));
    return {lines: lines.length, last: lines.length ? lines[lines.length - 1].innerText : '',
            apart: Math.max(0, ...apart)};
}"""


def test_the_code_tab_draws_every_line_of_curl_beside_its_number(studio) -> None:
    with browser_page(1366, 1200) as page:
        steps.open_app(page, studio)
        steps.set_number(page, "creativity", "0.5")  # the form changes while the Code tab is hidden
        page.wait_for_timeout(1000)
        steps.open_tab(page, "Code")
        page.locator("#code-curl").get_by_text("creativity").first.wait_for()
        page.wait_for_function("() => document.querySelector('#code-curl').innerText.includes('0.5')")
        page.wait_for_timeout(1000)
        curl = code_for(creativity=0.5)[3].rstrip("\n").split("\n")
        drawn = page.evaluate(DRAWN, "code-curl")
        assert drawn["lines"] == len(curl) and drawn["last"] == curl[-1], drawn
        page.locator("#code-body").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        for elem_id in ("code-body", "code-curl"):
            assert page.evaluate(DRAWN, elem_id)["apart"] < 2, elem_id
        screenshot(page, "code")


def test_at_a_laptops_height_with_a_picture_the_code_is_drawn_whole_as_the_page_scrolls(studio, tmp_path) -> None:
    """A user trial at 1366×900: a picture uploaded, the Code tab opened; the JSON body's numbers stood apart from
    its lines and curl stopped at line 13 (below the fold) until clicked."""
    from PIL import Image

    photo = tmp_path / "chelsea.png"
    Image.new("RGB", (64, 48), "teal").save(photo)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.upload(page, str(photo))
        steps.open_tab(page, "Code")
        page.locator("#code-curl").get_by_text("creativity").first.wait_for()
        page.wait_for_timeout(1500)
        for _ in range(12):  # the wheel, as a hand scrolls: no click in the boxes
            page.mouse.wheel(0, 300)
            page.wait_for_timeout(150)
        page.wait_for_timeout(800)
        curl = code_for()[3].rstrip("\n").split("\n")
        drawn = page.evaluate(DRAWN, "code-curl")
        assert drawn["lines"] == len(curl) and drawn["last"] == curl[-1], drawn
        for elem_id in ("code-body", "code-curl"):
            assert page.evaluate(DRAWN, elem_id)["apart"] < 2, (elem_id, page.evaluate(DRAWN, elem_id))
