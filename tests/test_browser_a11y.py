"""In Chromium, with axe-core: every tab, at 1366×900 and 390×844, light and dark, has no serious or critical
violation that is the app's. A violation counts as Gradio's only when a bare Gradio page with the same component
and the same arguments shows it too (tests/a11y_audit.py builds that page); those are listed in
docs/accessibility.md by component and rule."""

from __future__ import annotations

from collections import defaultdict

import pytest

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
    assert not apps, "the app's own serious/critical violations:\n" + "\n".join(sorted(set(apps)))
    listed = (ROOT / "docs" / "accessibility.md").read_text()
    rows = [line for line in listed.splitlines() if line.startswith("|")]
    missing = [f"{component} {rule}" for component, rule in sorted(gradios)
               if not any(f"`{component}`" in row and f"`{rule}`" in row for row in rows)]
    assert not missing, f"Gradio's violations not listed in docs/accessibility.md: {missing}"
