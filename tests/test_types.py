"""Types at the seams (issue 14, point 8; issue 24): mypy passes over the app, its components, core/ (strict) and
the benchmarks, and the engine, history and sweep seams say what they take and return — no ``Any`` but in JSON
dicts (``dict[str, Any]``: arguments, results)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent
SEAMS = ("core/engines/base.py", "core/engines/__init__.py", "core/runs/history.py", "core/sweep/plan.py",
         "core/sweep/sweep_run.py", "core/runs/resume.py")


STRICT_PER_MODULE = ("disallow_any_generics", "disallow_subclassing_any", "disallow_untyped_calls",
                     "disallow_untyped_decorators", "warn_return_any", "no_implicit_reexport", "extra_checks")


def test_mypy_reports_no_errors_over_the_configured_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # mypy reads [tool.mypy] files relative to where it runs, as scripts/test.sh does
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                      "--cache-dir", str(ROOT / ".mypy_cache")])
    assert status == 0, stdout + stderr
    assert stdout.startswith("Success: no issues found"), stdout


def test_mypy_checks_the_whole_app_and_core_strictly() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert {"app.py", "components", "core", "bench"} <= set(settings["files"])
    for flag in ("disallow_untyped_defs", "disallow_incomplete_defs", "check_untyped_defs", "warn_unused_ignores",
                 "no_implicit_optional", "warn_redundant_casts", "warn_unused_configs", "strict_equality"):
        assert settings.get(flag) is True, flag
    core = [o for o in settings["overrides"] if o["module"] == ["core", "core.*"]]
    assert len(core) == 1 and all(core[0].get(flag) is True for flag in STRICT_PER_MODULE), core
    assert "strict" not in core[0]  # `strict = true` in an override applies to every module, not just these
    assert "ignore_missing_imports" not in settings  # only per module that ships no types (overrides)
    pinned = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert any(line.startswith("mypy==") for line in pinned)
    assert "python -m mypy" in (ROOT / "scripts" / "test.sh").read_text()


def _is_json_dict(node: ast.AST) -> bool:
    """``dict[str, Any]``: a JSON object (endpoint arguments and results)."""
    return (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "dict"
            and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2
            and isinstance(node.slice.elts[0], ast.Name) and node.slice.elts[0].id == "str")


def _loose_any(annotation: ast.AST | None) -> bool:
    """Whether ``Any`` appears in the annotation other than as the values of a ``dict[str, Any]``."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):  # a quoted annotation
        annotation = ast.parse(annotation.value, mode="eval").body
    if _is_json_dict(annotation):
        return False
    if isinstance(annotation, (ast.Name, ast.Attribute)):
        return (annotation.id if isinstance(annotation, ast.Name) else annotation.attr) == "Any"
    return any(_loose_any(child) for child in ast.iter_child_nodes(annotation) if isinstance(child, ast.expr))


def _public_signatures(path: str) -> list[tuple[str, ast.AST | None]]:
    """(where, annotation) for every parameter and return of the module's public functions and methods, and for
    the annotated attributes of its public classes (protocols, dataclasses)."""
    tree = ast.parse((ROOT / path).read_text(), path)
    found: list[tuple[str, ast.AST | None]] = []

    def function(node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str) -> None:
        if node.name.startswith("_") and node.name != "__init__":
            return
        arguments = node.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                 *(a for a in (arguments.vararg, arguments.kwarg) if a is not None)]
        for argument in every:
            if argument.arg not in ("self", "cls"):
                found.append((f"{path}: {owner}{node.name}({argument.arg})", argument.annotation))
        found.append((f"{path}: {owner}{node.name} -> return", node.returns))

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function(node, "")
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    function(member, f"{node.name}.")
                elif isinstance(member, ast.AnnAssign) and isinstance(member.target, ast.Name):
                    found.append((f"{path}: {node.name}.{member.target.id}", member.annotation))
    return found


@pytest.mark.parametrize("path", SEAMS)
def test_the_seams_carry_no_any(path: str) -> None:
    signatures = _public_signatures(path)
    assert signatures, f"{path} has no public signatures: has it moved?"
    untyped = [where for where, annotation in signatures
               if annotation is None and not where.endswith("__init__ -> return")]
    loose = [where for where, annotation in signatures if _loose_any(annotation)]
    assert not untyped, f"unannotated: {untyped}"
    assert not loose, f"Any outside a JSON dict: {loose}"


def test_the_any_check_sees_what_it_should() -> None:
    def loose(text: str) -> bool:
        return _loose_any(ast.parse(text, mode="eval").body)

    assert loose("Any") and loose("Any | None") and loose("list[Any]") and loose("Callable[[Run], Any]")
    assert loose("typing.Any") and loose("'Any'") and loose("dict[CellKey, Any]")
    assert not loose("dict[str, Any]") and not loose("dict[str, Any] | None") and not loose("list[dict[str, Any]]")
    assert not loose("Engine") and not loose("History") and not loose("None")
