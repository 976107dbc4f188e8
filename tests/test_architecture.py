"""The seams docs/architecture.md draws, read from the code itself: one use-case layer builds engines, checks
limits and reserves budgets; components read engines' descriptors through the registry; nothing branches on an
engine's name, an axis's name or a line of display text; engines import nothing of runs, sweeps or use cases."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.engines import ENGINES
from core.sweep.axes import AXES, ENGINE, IMAGE, SEARCH_REPLACE

ROOT = Path(__file__).resolve().parents[1]
UI = [ROOT / "app.py", *sorted((ROOT / "components").rglob("*.py"))]
CORE = sorted((ROOT / "core").rglob("*.py"))
USECASES = ROOT / "core" / "usecases"
RUN_MACHINERY = {"core.sharing.budget", "core.sharing.limits", "core.sharing.spending", "core.usecases.admission"}
API = "components/api/public_api.py"  # the public API's own events, beside each page's
DOORS = {"run_one": {("components/upscale/action.py", "upscale"), (API, "upscale"), (API, "retry")},
         "run_sweep": {("components/sweep/sweep_actions.py", "sweep"), (API, "sweep")},
         "retry_cells": {("components/sweep/sweep_actions.py", "retry"), (API, "retry")},
         "fetch": {("components/upscale/fetch_panel.py", "fetch_request"), (API, "fetch")},
         "resume_pending": {("components/common/startup.py", "resume_pending_runs")}}


def name_of(path: Path) -> str:
    return str(path.relative_to(ROOT))


def imports(path: Path) -> Iterator[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import in ``path``, relative ones resolved."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name, node.lineno


def touches(module: str, name: str | None, targets: set[str]) -> bool:
    full = f"{module}.{name}" if name else module
    return any(full == target or full.startswith(target + ".") or module == target for target in targets)


def test_only_the_use_case_layer_builds_engines_checks_limits_and_reserves_budgets() -> None:
    engine_modules = {f"core.engines.{engine}" for engine in ENGINES} | {"core.engines.realesrgan"}
    found = []
    for path in UI + CORE:
        inside = path.is_relative_to(USECASES)
        for module, name, line in imports(path):
            if not inside and name == "factory" and module == "core.engines":
                found.append(f"{name_of(path)}:{line} imports the engine factories")
            sharing = path.is_relative_to(ROOT / "core" / "sharing") or path.is_relative_to(ROOT / "core" / "runs")
            if not inside and not sharing and touches(module, name, RUN_MACHINERY):
                found.append(f"{name_of(path)}:{line} imports {module}.{name or ''} (limits, budgets or running)")
            if not path.is_relative_to(ROOT / "core" / "engines") and touches(module, name, engine_modules):
                found.append(f"{name_of(path)}:{line} imports an engine module ({module}); use core.engines")
    assert found == []


def test_components_read_engines_only_through_the_registry() -> None:
    found = [f"{name_of(path)}:{line} imports {module}" for path in UI for module, name, line in imports(path)
             if module.startswith("core.engines.") or (module == "core.engines" and name in ENGINES)]
    assert found == []


def constants(node: ast.AST) -> list[object]:
    """The constants a comparison compares against (a tuple, list or set of them too)."""
    values: list[object] = []
    if isinstance(node, ast.Compare):
        for side in (node.left, *node.comparators):
            if isinstance(side, ast.Constant):
                values.append(side.value)
            elif isinstance(side, (ast.Tuple, ast.List, ast.Set)):
                values += [item.value for item in side.elts if isinstance(item, ast.Constant)]
    elif isinstance(node, ast.MatchValue) and isinstance(node.value, ast.Constant):
        values.append(node.value.value)
    return values


@pytest.mark.parametrize("what,names,where", [
    ("an engine's name", set(ENGINES), UI + CORE),
    ("a special axis's name", {name for name, axis in AXES.items() if axis.kind in (ENGINE, IMAGE, SEARCH_REPLACE)},
     UI + [path for path in CORE if name_of(path) != "core/sweep/axes.py"]),
])
def test_no_decision_compares_a_name(what: str, names: set[str], where: list[Path]) -> None:
    """No if-chain on engine names (descriptors say what an engine can do); no UI or core file but the axes module
    compares axis names (``core/sweep/axes.py`` says which axes are special)."""
    found = [f"{name_of(path)}:{node.lineno} {ast.unparse(node)[:80]}" for path in where
             for node in ast.walk(ast.parse(path.read_text()))
             if any(isinstance(value, str) and value in names for value in constants(node))]
    assert found == [], f"compares {what}"


def test_no_decision_reads_display_text() -> None:
    """What a view says (``message``, ``lines``, ``details``) is never compared: decisions read typed state."""
    found = []
    for path in UI:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                sides = (node.left, *node.comparators)
                if any(isinstance(side, ast.Attribute) and side.attr in ("message", "lines", "details")
                       for side in sides):
                    found.append(f"{name_of(path)}:{node.lineno} {ast.unparse(node)[:80]}")
    assert found == []


def test_engines_import_nothing_of_runs_sweeps_sharing_or_use_cases() -> None:
    above = {"core.runs", "core.sweep", "core.sharing", "core.usecases"}
    found = [f"{name_of(path)}:{line} imports {module}" for path in sorted((ROOT / "core" / "engines").glob("*.py"))
             for module, name, line in imports(path) if touches(module, name, above)]
    assert found == []


def calls_in(path: Path) -> dict[str, set[str]]:
    """{called name: the top-level functions of ``path`` that call it}."""
    callers: dict[str, set[str]] = {}
    for top in ast.parse(path.read_text()).body:
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(top):
                if isinstance(node, ast.Call):
                    func = node.func
                    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                    if called:
                        callers.setdefault(called, set()).add(top.name)
    return callers


def test_every_door_calls_its_use_case_and_nothing_else_runs_an_engine() -> None:
    """Each use case has exactly one caller in the UI — its door — and no UI code runs, follows or resumes a run
    by itself (``execute``, ``follow``, ``follow_request``, ``resume_in_background`` belong to the use cases)."""
    callers: dict[str, set[tuple[str, str]]] = {}
    for path in UI:
        for called, functions in calls_in(path).items():
            for function in functions:
                callers.setdefault(called, set()).add((name_of(path), function))
    for use_case, door in DOORS.items():
        assert callers.get(use_case) == door, use_case
    for machinery in ("execute", "follow", "follow_request", "resume_in_background", "run_plan", "retry_failed",
                      "check_rate", "job_slot", "reserved", "make_engine", "factory"):
        assert machinery not in callers, f"{machinery} is called from {callers.get(machinery)}"
