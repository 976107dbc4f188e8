"""The folders show the architecture (docs/architecture.md): core/ imports no Gradio, and no two modules import
each other, directly or round a longer loop (a package's ``__init__`` importing its own modules excepted)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "components")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports anywhere (a function's own import included: it is a dependency too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {name for name in names if name in known}
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    return {name: imports(path, set(files)) - {name} for name, path in files.items()}


def test_core_imports_no_gradio() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py")
                 if any(isinstance(n, (ast.Import, ast.ImportFrom)) and "gradio" in ast.unparse(n)
                        for n in ast.walk(ast.parse(p.read_text())))]
    assert offenders == []


def test_no_import_cycles() -> None:
    edges = graph()
    assert len(edges) > 60
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target] if target in trail else [node, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def _imported_roots(path: Path) -> set[str]:
    """The top-level package of every module ``path`` imports, anywhere in it."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
    return roots


def test_bench_and_testsupport_import_neither_tests_nor_components() -> None:
    offenders = {}
    for path in [*(ROOT / "bench").rglob("*.py"), *(ROOT / "testsupport").rglob("*.py")]:
        where = str(path.relative_to(ROOT))
        wrong = _imported_roots(path) & {"tests", "components"}
        if wrong:
            offenders[where] = sorted(wrong)
    assert offenders == {}


def test_core_imports_no_components_and_no_app() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(_imported_roots(p) & {"components", "app", "tests", "bench"})
                 for p in (ROOT / "core").rglob("*.py")}
    assert {where: wrong for where, wrong in offenders.items() if wrong} == {}


def test_the_import_check_sees_a_function_level_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\ndef f():\n    from tests.browser import ARGS\n    import components.common\n")
    assert _imported_roots(sample) == {"os", "tests", "components"}
