"""axe-core in Chromium, for the accessibility tests: run it on a page, say which component each violation is in,
and rebuild that component alone on a bare Gradio page to tell the app's violations from Gradio's.

axe-core comes from npm (``tests/a11y/package.json``, pinned in its lock file; the README's test command runs
``npm ci`` there). A violation "counts as Gradio's" only when a bare ``gr.Blocks`` holding the same Gradio class
with the same constructor arguments (default theme, no CSS) shows the same rule in the same component at the same
viewport and colour scheme.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from testsupport.apps import free_port

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")

RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    const found = [];
    for (const rule of result.violations) {
        if (!['serious', 'critical'].includes(rule.impact)) continue;
        for (const node of rule.nodes) {
            const element = document.querySelector(node.target[0]);
            const ids = [];
            for (let e = element; e; e = e.parentElement) if (e.id) ids.push(e.id);
            const check = node.any[0] || node.all[0] || node.none[0] || {};
            found.push({rule: rule.id, impact: rule.impact, target: node.target.join(' '), ids,
                        message: check.message || rule.help});
        }
    }
    return found;
}"""


@dataclass(frozen=True)
class Violation:
    """One node axe-core flags: its rule, impact, CSS target, the component it is in (elem_id, or None when it is
    in no component of the app) and axe's message."""

    rule: str
    impact: str
    target: str
    owner: str | None
    message: str


def axe_path() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: the README's test command installs it (npm ci --prefix tests/a11y)")
    return str(AXE)


def audit(page, owners: set[str]) -> list[Violation]:
    """Every serious or critical violation axe-core finds on the page as it is now; ``owners`` are the elem_ids
    a violation may be attributed to (the innermost one around the node wins)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=axe_path())
    found = page.evaluate(RUN_AXE)
    return [Violation(v["rule"], v["impact"], v["target"], next((i for i in v["ids"] if i in owners), None),
                      v["message"]) for v in found]


_ROLES: dict[int, bool] = {}  # id(block) → True for an input of some event, False for an output only


def catalogue(demo: gr.Blocks) -> dict[str, gr.blocks.Block]:
    """The app's blocks that have an elem_id, by elem_id (and each one's role in the app's events)."""
    inputs = {id(block) for fn in demo.fns.values() for block in fn.inputs}
    outputs = {id(block) for fn in demo.fns.values() for block in fn.outputs}
    _ROLES.update({key: True for key in inputs})
    _ROLES.update({key: False for key in outputs - inputs})
    return {block.elem_id: block for block in demo.blocks.values() if getattr(block, "elem_id", None)}


def gradio_class(block: gr.blocks.Block) -> type:
    """The Gradio class a block is (an app's subclass of a Gradio component counts as its Gradio parent)."""
    return next(cls for cls in type(block).__mro__ if cls.__module__.startswith("gradio."))


def gradio_arguments(block: gr.blocks.Block) -> dict[str, Any]:
    """The arguments the Gradio class's own ``__init__`` was given (not its base Component's, which sees fewer),
    without references to other components of the app (``inputs`` of a value function)."""
    calls = getattr(block, "_constructor_args", None) or [{}]  # one entry per __init__ run, the subclass's first
    mro = type(block).__mro__
    own = sum(1 for cls in mro[:mro.index(gradio_class(block))] if "__init__" in cls.__dict__)
    return {name: value for name, value in calls[min(own, len(calls) - 1)].items()
            if not isinstance(value, gr.blocks.Block) and name not in ("inputs", "every", "render")}


def _rebuild(block: gr.blocks.Block) -> None:
    cls, arguments = gradio_class(block), gradio_arguments(block)
    if "interactive" in inspect.signature(cls).parameters and arguments.get("interactive") is None \
            and id(block) in _ROLES:
        # Gradio decides an undecided component's interactivity from the app's events (an output only is static);
        # alone on a page, with no events, it would be an input. The bare page is given what the app's page got.
        arguments["interactive"] = _ROLES[id(block)]
    if isinstance(block, gr.blocks.BlockContext):
        with cls(**arguments):
            for child in block.children:  # the layout's own parts (tabs of a Tabs); no leaf components
                if isinstance(child, gr.blocks.BlockContext):
                    _rebuild(child)
    else:
        cls(**arguments)


def describe(block: gr.blocks.Block) -> str:
    """``gr.Image`` for a block of that Gradio class."""
    return f"gr.{gradio_class(block).__name__}"


@contextmanager
def bare_pages(blocks: dict[str, gr.blocks.Block]) -> Iterator[dict[str, str]]:
    """Each block rebuilt alone in a bare gr.Blocks (Gradio's default theme, no CSS), launched: elem_id → URL."""
    launched: list[gr.Blocks] = []
    urls: dict[str, str] = {}
    try:
        for elem_id, block in blocks.items():
            with gr.Blocks() as bare:
                _rebuild(block)
            port = free_port()
            bare.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
            launched.append(bare)
            urls[elem_id] = f"http://127.0.0.1:{port}/"
        yield urls
    finally:
        for bare in launched:
            bare.close()
