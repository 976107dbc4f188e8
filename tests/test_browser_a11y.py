"""In Chromium, with axe-core: every tab, at 1366×900 and 390×844, light and dark, has no serious or critical
violation that is the app's. A violation counts as Gradio's only when a bare Gradio page with the same component
and the same arguments shows it too (tests/a11y_audit.py builds that page); those are listed in
docs/accessibility.md by component and rule."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests import a11y_audit
from tests import browser_steps as steps
from tests.a11y_audit import Violation
from tests.browser import ROOT, browser_page

pytestmark = pytest.mark.browser
TABS = ("Upscale", "Sweep", "History", "Code")
VIEWS = [(scheme, width, height) for scheme in ("light", "dark") for width, height in ((1366, 900), (390, 844))]


@pytest.fixture(scope="module")
def app_blocks():
    """The app's components by elem_id (a fresh build of the same page the session's app serves)."""
    import app

    return a11y_audit.catalogue(app.build())


WIDTH = "id => document.getElementById(id).getBoundingClientRect().width"
View = tuple[str, int, int]


def audit_app(url: str, owners: set[str]) -> tuple[dict[View, list[Violation]], dict[View, dict[str, float]]]:
    """Every tab of the app, its accordions opened, audited in each view; and the width of each component a
    violation is in, as drawn there."""
    found: dict[View, list[Violation]] = {}
    widths: dict[View, dict[str, float]] = {}
    for view in VIEWS:
        scheme, width, height = view
        with browser_page(width, height, color_scheme=scheme) as page:
            steps.open_app(page, url)
            found[view] = []
            for tab in TABS:
                steps.open_tab(page, tab)
                steps.open_accordions(page)
                page.wait_for_timeout(300)
                now = a11y_audit.audit(page, owners)
                found[view] += [v for v in now if v not in found[view]]
                widths.setdefault(view, {}).update({v.owner: page.evaluate(WIDTH, v.owner) for v in now if v.owner})
    return found, widths


@pytest.mark.timeout(900)  # every tab in every view, then each suspect alone: past 300 s on a loaded machine
def test_no_serious_violation_is_the_apps(studio, app_blocks) -> None:
    found, widths = audit_app(studio, set(app_blocks))
    suspects = {v.owner for violations in found.values() for v in violations if v.owner}
    gradios: set[tuple[str, str]] = set()  # (component class, rule) Gradio shows on its own
    apps: list[str] = []
    with a11y_audit.bare_pages({elem_id: app_blocks[elem_id] for elem_id in sorted(suspects)}) as bare:
        for view, violations in found.items():
            scheme, width, height = view
            with browser_page(width, height, color_scheme=scheme) as page:
                alone: dict[str, set[str]] = defaultdict(set)  # elem_id → rules its bare page shows
                for elem_id in {v.owner for v in violations if v.owner}:
                    page.set_viewport_size({"width": width, "height": height})
                    page.goto(bare[elem_id])
                    page.locator(f"#{elem_id}").first.wait_for(state="attached")
                    # The same width as in the app (what wraps, clips or scrolls depends on it): narrow the
                    # window by what the bare page's box is wider.
                    wider = page.evaluate(WIDTH, elem_id) - widths[view][elem_id]
                    if wider > 1:
                        page.set_viewport_size({"width": round(width - wider), "height": height})
                    page.wait_for_timeout(300)
                    alone[elem_id] = {v.rule for v in a11y_audit.audit(page, {elem_id}) if v.owner == elem_id}
                for v in violations:
                    if v.owner and v.rule in alone[v.owner]:
                        gradios.add((a11y_audit.describe(app_blocks[v.owner]), v.rule))
                    else:
                        apps.append(f"{scheme} {width}px: {v.rule} ({v.impact}) in {v.owner or 'the page'} at "
                                    f"{v.target}: {v.message}")
    counts = Counter(v.rule for violations in found.values() for v in violations)
    print("serious/critical nodes by rule, all views:", dict(counts))  # the figures in docs/accessibility.md
    assert not apps, "the app's own serious/critical violations:\n" + "\n".join(sorted(set(apps)))
    listed = (ROOT / "docs" / "accessibility.md").read_text()
    rows = [line for line in listed.splitlines() if line.startswith("|")]
    missing = [f"{component} {rule}" for component, rule in sorted(gradios)
               if not any(f"`{component}`" in row and f"`{rule}`" in row for row in rows)]
    assert not missing, f"Gradio's violations not listed in docs/accessibility.md: {missing}"


FOCUS = """selector => {
    // Where focus is, whether it is the element wanted, and whether it is drawn (an outline or a box-shadow on
    // :focus-visible, the element's or its Gradio wrapper's).
    const element = document.activeElement;
    const drawn = e => { const s = getComputedStyle(e);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; };
    return {at: element.matches(selector), visible: element.matches(':focus-visible') && drawn(element),
            what: element.outerHTML.slice(0, 120)};
}"""


DONE = """before => {  // the request id of a run done that is not one of ``before``, or null
    const found = [...document.querySelector('#console textarea').value.matchAll(/Done in .* request (\\S+)/g)];
    const last = found.length ? found[found.length - 1][1] : null;
    return last && !before.includes(last) ? last : null;
}"""


def tab_to(page, selector: str, presses: int = 250) -> None:
    """Press Tab until the focus is on ``selector``; it must be reachable and drawn when it is there."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS, selector)
        if state["at"]:
            assert state["visible"], f"focus on {selector} is not visible: {state['what']}"
            return
    raise AssertionError(f"{selector} is not reachable with Tab ({presses} presses)")


def choose_by_keyboard(page, elem_id: str, other: str) -> bool:
    """Open a dropdown with Tab, go down it until the highlighted option is not ``other``, choose it with Enter;
    whether the box now holds it."""
    tab_to(page, f"#{elem_id} input")
    page.locator(f"#{elem_id} [role=option]").first.wait_for(timeout=15_000)  # the menu is open
    wanted = ""
    for _ in range(6):  # down the menu until the highlighted run is one to choose, as a user reads it
        page.keyboard.press("ArrowDown")
        highlighted = page.locator(f"#{elem_id} [role=option].active")
        highlighted.wait_for(timeout=5_000)
        wanted = highlighted.inner_text().replace("✓", "").strip()
        if wanted not in ("", other):
            break
    page.keyboard.press("Enter")
    try:
        page.wait_for_function("([id, wanted]) => document.querySelector(`#${id} input`).value === wanted",
                               arg=[elem_id, wanted], timeout=5_000)
    except PlaywrightTimeout:
        return False
    return True


def test_the_main_path_by_keyboard_alone(studio) -> None:
    """Choose an example, upscale it on the local engine, read the result, open the run in History: Tab, Enter
    and Space only, the focus visible at every stop."""
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        assert page.locator("#engine input[value=local]").is_checked()  # no key: the local engine
        tab_to(page, "#examples button.label-wrap")
        page.keyboard.press("Enter")
        tab_to(page, "#example-photos button.thumbnail-item")
        page.keyboard.press("Enter")
        page.locator("#input-info").get_by_text("→ output").wait_for()
        done: list[str] = []
        for _ in range(2):  # two runs of the same picture
            tab_to(page, "#run-button")
            page.keyboard.press("Enter")
            page.wait_for_function(DONE, arg=done, timeout=120_000)
            done.append(page.evaluate(DONE, done))
            page.locator("#run-button:not([disabled])").wait_for()
        assert "Done in" in steps.console_text(page)
        tab_to(page, "#result-file a")  # the output PNG, to download
        assert "×" in page.locator("#result-details").inner_text()

        tab_to(page, "button[role=tab][data-tab-id=history]")
        page.keyboard.press("Space")
        tab_to(page, "#history-gallery button.thumbnail-item")
        page.keyboard.press("Enter")
        page.locator("#history-slider img").first.wait_for(timeout=30_000)
        page.locator("#history-details").get_by_text("local").first.wait_for()

        tab_to(page, "#compare-panel button.label-wrap")  # compare the two runs
        page.keyboard.press("Enter")
        for elem_id in ("compare-a", "compare-b"):  # A: the newest run; B: the next one down that is not A
            other = page.locator("#compare-a input").input_value() if elem_id == "compare-b" else ""
            for _ in range(3):  # (a refill of the menus, after a run or a tab change, may close one mid-choice)
                if choose_by_keyboard(page, elem_id, other):
                    break
        assert page.locator("#compare-a input").input_value() != page.locator("#compare-b input").input_value()
        tab_to(page, "#compare-go")
        page.keyboard.press("Enter")
        page.locator("#compare-slider img").nth(1).wait_for(timeout=30_000)


BOXES = "label:has(> [data-testid=block-info]) :is(textarea, input[type=text], input[type=password])"
LABEL = "e => e.closest('label').querySelector('[data-testid=block-info]').innerText.trim()"


def test_every_text_box_is_named_by_its_label(studio) -> None:
    """A screen reader announces each text box by the label drawn above it. A Textbox with a Copy button is the
    catch: Gradio draws the button first inside the box's <label>, so the label names the button and the box
    falls back to its placeholder (docs/accessibility.md)."""
    unnamed: list[str] = []
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        for tab in (*TABS, "Owner"):
            steps.open_tab(page, tab)
            steps.open_accordions(page)
            page.wait_for_timeout(300)
            for box in page.locator(BOXES).all():
                if box.is_visible():
                    label = box.evaluate(LABEL)
                    role = box.aria_snapshot().splitlines()[0].removeprefix("- ").strip("'")  # YAML, maybe quoted
                    if not role.startswith(f'textbox "{label}'):
                        unnamed.append(f"{tab}: {label!r} is read as {role}")
    assert not unnamed, "\n".join(unnamed)
