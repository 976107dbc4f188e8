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


# Where the project names its own files: a path (``core/runs/history.py``, ``bench/overhead``, ``core/schema.validate``)
# or a dotted module (``core.runs.runner.execute``, an attribute after the module allowed).
_OWN = "core|components|bench|tests|testsupport|docs|scripts|presets|examples"
_PATH = re.compile(rf"(?<![\w./-])((?:{_OWN})/[\w./-]*\w)")
_DOTTED = re.compile(r"(?<![\w./-])((?:core|components|testsupport|bench)(?:\.[A-Za-z_]\w*)+)")
_SKIPPED = {"tests/test_docs.py"}  # this file names stale paths on purpose (the check's own test)


def _names_a_real_path(text: str) -> bool:
    root = README.parent
    stem = text.rsplit(".", 1)[0]  # core/schema.validate → core/schema(.py); bench/overhead → bench/overhead(.py)
    return any((root / candidate).exists() for candidate in (text, f"{text}.py", f"{stem}.py"))


def _names_a_real_module(dotted: str) -> bool:
    root, parts = README.parent, dotted.split(".")
    for length in range(len(parts), 0, -1):  # the longest prefix that is a module; what follows, its attributes
        base = root.joinpath(*parts[:length])
        source = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        if source.is_file():
            return length == len(parts) or re.search(rf"\b{re.escape(parts[length])}\b", source.read_text()) is not None
    return False


def stale_names(paths: list[Path]) -> list[str]:
    """``file:line: name`` for every own path or dotted module a file names that does not exist."""
    root, found = README.parent, []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.relative_to(root) if path.is_relative_to(root) else path.name}:{number}"
            found += [f"{where}: {m}" for m in _PATH.findall(line) if not _names_a_real_path(m)]
            found += [f"{where}: {m}" for m in _DOTTED.findall(line) if not _names_a_real_module(m)]
    return found


def test_every_file_and_module_the_docs_and_docstrings_name_exists() -> None:
    root = README.parent
    paths = [p for p in root.rglob("*") if p.suffix in (".py", ".md", ".toml", ".sh", ".cfg")
             and not any(part.startswith(".") for part in p.relative_to(root).parts)
             and str(p.relative_to(root)) not in _SKIPPED]
    assert len(paths) > 100
    assert stale_names(paths) == []


def test_the_name_check_sees_a_moved_module(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Runs through ``core.runner.execute`` (core/history.py, components/checked_inputs.pyi)."""\n'
                      '"""Still here: ``core.runs.runner.execute``, core/runs/history.py, bench/overhead, '
                      'core/schema.validate()."""\n', encoding="utf-8")
    assert [line.split(": ", 1)[1] for line in stale_names([sample])] == [
        "core/history.py", "components/checked_inputs.pyi", "core.runner.execute"]
