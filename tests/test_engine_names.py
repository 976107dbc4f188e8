"""Engines are told apart by what they can do (``core.engines.describe``), never by their names: outside
``core/engines/`` no code compares a value with an engine's name, so adding an engine is one new file there."""

from __future__ import annotations

import ast
from pathlib import Path

from core.engines import ENGINES

ROOT = Path(__file__).resolve().parent.parent


def _names_in(node: ast.AST) -> set[str]:
    return {part.value for part in ast.walk(node) if isinstance(part, ast.Constant) and part.value in ENGINES}


def comparisons(path: Path, root: Path = ROOT) -> list[str]:
    """``x == "fal"``, ``x in ("fal", "local")``, ``RATES["fal"]``, ``"fal" if … else …``: each with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        compared = isinstance(node, ast.Compare) and bool(_names_in(node))
        indexed = isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and node.slice.value in ENGINES
        chosen = isinstance(node, ast.IfExp) and bool(_names_in(node.body) or _names_in(node.orelse))
        if compared or indexed or chosen:
            found.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}")
    return found


def test_no_engine_name_is_compared_outside_core_engines() -> None:
    files = [p for folder in ("components", "core") for p in (ROOT / folder).rglob("*.py")
             if "engines" not in p.relative_to(ROOT).parts]
    assert len(files) > 40
    assert [hit for path in files for hit in comparisons(path)] == []


def test_the_check_sees_each_kind_of_comparison(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('def f(engine, rates):\n    return rates["local"] if engine == "fal" else 2\n')
    assert comparisons(sample, tmp_path) == ["sample.py:2"] * 3
