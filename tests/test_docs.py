"""README.md stays true: every endpoint field and every shipped preset is described, and its example link works."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from core import deeplink, presets, schema

README = Path(__file__).resolve().parent.parent / "README.md"


def section(title: str) -> str:
    """The README text under ``## title`` up to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The cells of each body row of the Markdown tables in ``text``."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]
    return [row for row in rows if not set("".join(row)) <= set("-: ")][1:]  # no separator, no header


@pytest.mark.parametrize("field", schema.FIELDS, ids=lambda f: f.name)
def test_every_field_is_described(field: schema.Field) -> None:
    rows = {row[0]: row for row in table_rows(section("The endpoint's fields"))}
    assert f"`{field.name}`" in rows, f"{field.name} is missing from README's field table"
    assert rows[f"`{field.name}`"][-1], f"{field.name} has no description in README"


def test_the_presets_table_lists_exactly_the_shipped_presets_in_menu_order() -> None:
    rows = table_rows(section("Presets"))
    assert [(label, ident) for label, ident, _ in rows] == [(p.label, f"`{p.id}`") for p in presets.shipped()]
    for label, _, what_for in rows:
        assert len(what_for) > 20, f"say what {label!r} is for"


def test_the_example_link_applies_cleanly() -> None:
    links = re.findall(r"^https?://\S+\?\S+$", section("Links to a setting"), re.M)
    assert links, "README's 'Links to a setting' shows no example link"
    for link in links:
        query = dict(parse_qsl(urlsplit(link).query))
        opened = deeplink.parse_query(query)
        assert opened.errors == [] and opened.preset == query.get("preset"), link
        for name in query:
            assert name in schema.FIELD_BY_NAME or name == deeplink.PRESET_PARAM, name


def test_the_tests_screenshots_leave_the_checkout_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.browser import ROOT, screenshot

    class Page:  # what screenshot() needs of a Playwright page
        def screenshot(self, path: str, full_page: bool) -> None:
            Path(path).write_bytes(b"\x89PNG")

    monkeypatch.delenv("CLARITY_SCREENSHOTS", raising=False)
    path = screenshot(Page(), "checkout-clean-check")
    path.unlink()
    assert ROOT not in path.parents, path
