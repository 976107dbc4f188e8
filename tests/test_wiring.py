"""Every event of the built app hands its handler what the handler expects: as many inputs as it takes, in its
order, each of the kind its parameter is typed as (state, text, number, flag, file, table).

A handler whose inputs are listed in another order than its parameters runs with the wrong values — Delete on
the History tab once received the search text as its session — and nothing but running it would tell.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from typing import Any

import gradio as gr
import pandas as pd
import pytest

from components.common.session import Session
from components.upscale.checked_inputs import SeedBox

INJECTED = (gr.Request, gr.EventData, gr.OAuthProfile, gr.OAuthToken, gr.Progress)

# What a parameter may be typed as for each kind of input component.
TEXT, NUMBER, FLAG, FILE, TABLE = {str}, {int, float}, {bool}, {str, list}, {pd.DataFrame}
KINDS: list[tuple[type, set[type]]] = [
    (SeedBox, NUMBER),  # a text box on the page; its handlers get a whole number or None
    (gr.Checkbox, FLAG), (gr.Number, NUMBER), (gr.Slider, NUMBER), (gr.Textbox, TEXT), (gr.Code, TEXT),
    (gr.Markdown, TEXT), (gr.Radio, TEXT), (gr.Dropdown, TEXT | {list}), (gr.Dataframe, TABLE),
    (gr.File, FILE), (gr.Image, FILE), (gr.ImageSlider, {tuple}), (gr.Gallery, {list}),
]


def _types(hint: Any) -> set[Any]:
    """The classes a hint allows (``None`` dropped); ``{Any}`` when it allows anything."""
    if hint is Any or hint is object:
        return {Any}
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return set().union(*(_types(arg) for arg in typing.get_args(hint) if arg is not type(None)))
    origin = typing.get_origin(hint)
    return {origin or hint}


def _injected(hint: Any) -> bool:
    return any(isinstance(t, type) and issubclass(t, INJECTED) for t in _types(hint) if t is not Any)


def _expected(component: Any) -> set[type] | None:
    """The types a parameter fed by ``component`` may have; None when any type will do."""
    if isinstance(component, gr.State):  # a State holding a record must reach a parameter of that record's type
        value = component.value
        return {type(value)} if value is not None and not isinstance(value, (str, int, float, bool)) else None
    for kind, allowed in KINDS:
        if isinstance(component, kind):
            return allowed
    return None


def _parameters(fn: Any) -> list[tuple[str, Any, bool]] | None:
    """(name, hint, is *args) for each parameter Gradio fills from inputs; None for handlers not checked here."""
    if isinstance(fn, functools.partial):
        return None  # the pre-flight's partials take a set of inputs as one dict
    hints = typing.get_type_hints(fn)
    found = []
    for parameter in inspect.signature(fn).parameters.values():
        hint = hints.get(parameter.name, Any)
        if _injected(hint):
            continue
        found.append((parameter.name, hint, parameter.kind is inspect.Parameter.VAR_POSITIONAL))
    return found


def _problems(fn: Any, inputs: list[Any]) -> list[str]:
    parameters = _parameters(fn)
    if parameters is None:
        return []
    name = getattr(fn, "__qualname__", repr(fn))
    varargs = [p for p in parameters if p[2]]
    fixed = [p for p in parameters if not p[2]]
    required = [p for p in fixed if inspect.signature(fn).parameters[p[0]].default is inspect.Parameter.empty]
    problems = []
    if len(inputs) < len(required) or (not varargs and len(inputs) > len(fixed)):
        problems.append(f"{name}: {len(inputs)} inputs for parameters {[p[0] for p in fixed]}")
    for position, component in enumerate(inputs):
        if position < len(fixed):
            parameter, hint, _ = fixed[position]
        elif varargs:
            parameter, hint, _ = varargs[0]
        else:
            break
        allowed, declared = _expected(component), _types(hint)
        if allowed is None or Any in declared:
            continue
        if not any(isinstance(t, type) and any(issubclass(t, a) for a in allowed) for t in declared):
            problems.append(f"{name}: parameter {position + 1} {parameter!r} is typed {hint} but is fed by a "
                            f"{type(component).__name__} ({getattr(component, 'elem_id', None) or component.label})")
    return problems


@pytest.fixture(scope="module")
def demo() -> gr.Blocks:
    import app

    return app.build()


def test_every_event_hands_its_handler_what_it_expects(demo) -> None:
    checked, problems = 0, []
    for block_fn in demo.fns.values():
        if block_fn.fn is None or isinstance(block_fn.inputs, set) or not isinstance(block_fn.inputs, list):
            continue
        problems += _problems(block_fn.fn, list(block_fn.inputs))
        checked += 1
    assert checked > 60  # every event of every tab, not a handful
    assert not problems, "\n".join(problems)


def test_the_check_catches_inputs_in_another_order() -> None:
    def delete(run_id: str | None, session: Session, search: str) -> None: ...

    inputs = [gr.State(None), gr.Textbox(), gr.State(Session())]
    assert len(_problems(delete, inputs)) == 2  # the text box fed to session, the session fed to search


def test_every_view_drawn_from_a_state_lands_in_order(demo) -> None:
    """A user trial: after Cancel all, finished cells stayed grey "queued" tiles until the grid was laid out again.

    The grid was drawn by a queue=False call on each change of the sweep's view; such calls run side by side and
    the page applies their answers as they come, so a slow draw of an older view landed after the newest. A handler
    that draws what a state holds is queued with always_last: the page sends the next draw once the last one is in,
    and only for the newest state."""
    states = {block._id for block in demo.blocks.values() if isinstance(block, gr.State)}
    drawn, out_of_order = 0, []
    for block_fn in demo.fns.values():
        if block_fn.fn is None or not any(target in states and event == "change"
                                          for target, event in block_fn.targets):
            continue
        if not any(not isinstance(block, gr.State) for block in block_fn.outputs):
            continue  # it only keeps a state: nothing on the page to draw out of order
        drawn += 1
        if not block_fn.queue or block_fn.trigger_mode != "always_last":
            out_of_order.append(f"{block_fn.name}: queue={block_fn.queue}, trigger_mode={block_fn.trigger_mode}")
    assert drawn >= 8  # the run's view, the sweep's view and layout, the pictures' views: not a handful
    assert not out_of_order, "\n".join(out_of_order)
