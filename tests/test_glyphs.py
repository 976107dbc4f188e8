"""Every character the app puts on the page renders without an emoji font: a fresh Chromium on Debian (DejaVu and
Liberation only) drew "🔑 fal key" and "🧾 This PNG …" as "▯ fal key" and "▯ This PNG …" (a user trial).

The strings that reach the page are the string literals of ``components/`` and ``core/`` (docstrings aside: they
are read in the code, not on the page) and the page's own HTML and CSS. Each character must be in the set that
every common text font draws (Windows Glyph List 4's letters, punctuation, arrows and maths signs)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Latin letters and Latin-1 signs (× · ° é …), then the typographic signs every text font has.
SAFE = {chr(code) for code in range(0x20, 0x7F)} | {chr(code) for code in range(0xA0, 0x180)} | set(
    "\r\n\t–—‘’‚“”„†‡•…‰‹›€™←↑→↓↔−√∞≈≠≤≥■□▪▫▲►▼◄○●")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def page_strings() -> list[tuple[str, str]]:
    """(where, text) for every string that can reach the page."""
    found = []
    for path in sorted([*ROOT.glob("components/**/*.py"), *ROOT.glob("core/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            # One or two characters are a parser's table (full-width signs, dashes to accept), not text to show.
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip \
                    and len(node.value) > 2:
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.value))
    for path in sorted([*ROOT.glob("components/**/*.html"), *ROOT.glob("components/**/*.css")]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found.append((f"{path.relative_to(ROOT)}:{number}", line))
    return found


def test_every_glyph_on_the_page_renders_without_an_emoji_font() -> None:
    unsafe = [(where, "".join(sorted(set(text) - SAFE))) for where, text in page_strings() if set(text) - SAFE]
    assert not unsafe, unsafe


def test_the_check_sees_what_it_must() -> None:
    texts = [text for _, text in page_strings()]
    assert any("fal key" in text for text in texts) and any("This PNG was made" in text for text in texts)
    assert "🔑" not in SAFE and "⚠" not in SAFE and "️" not in SAFE and "→" in SAFE
