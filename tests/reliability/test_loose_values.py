"""Values taken too loosely (issue 27 §2): every parameter of every public endpoint is checked against its declared
type and range before anything runs.

One table of bad values per kind of parameter (a wrong type, an empty value, NaN and infinity, huge numbers, an
unknown choice), sent to every parameter of every endpoint (``core/usecases/values.py``'s ``ENDPOINTS``) through
``gradio_client`` and through raw REST (``POST /gradio_api/call/<name>``). Every other value of the call is good,
and the engine is fal with a key the test fal server accepts: a value taken loosely would start paid work there.
Each case expects a plain refusal naming the parameter — never Gradio's "not in the list of choices", a blank
error or a traceback — no fal submit, and nothing in the history. A good call per endpoint is the control: the
same call without the bad value does reach fal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from core import config
from core.inputs import images
from core.inputs.region import BOX
from core.inputs.region import PARAMS as REGION_PARAMS
from core.usecases.values import ENDPOINTS, Param
from tests.conftest import api_client
from tests.reliability import TIMEOUT, assert_history_sound, noise_png

pytestmark = pytest.mark.reliability("loose value")

NAN, INF = math.nan, math.inf


def bad_values(param: Param) -> list[Any]:
    """The values ``param`` must refuse, by its kind: wrong types, empty values, NaN/inf, huge numbers, unknown
    choices. NaN and infinity are JSON only through REST (gradio_client will not send them)."""
    wrong = [[], {"a": 1}]
    if param.kind == "boolean":
        return ["false", "no", "0 ", "true", 0, 1, None, *wrong]
    if param.kind in ("number", "integer"):
        above = (param.maximum or 0) + 1
        values: list[Any] = [str(param.default if param.default is not None else 1), True, "", NAN, INF, -INF,
                             1e308, -1e308, 10**30, above, *wrong]
        if param.minimum is not None:
            values.append(param.minimum - 1)
        if param.kind == "integer":
            values += [18.5, float(param.default if param.default is not None else 1)]  # floats where ints are
        if param.default is not None:
            values.append(None)  # only the seed is optional (null: random)
        return values
    if param.kind == "choice":  # "" and " " are y_axis's "none"
        empty = [] if "" in param.choices else ["", " "]
        return ["bogus", *empty, 5, None, True, [param.choices[0]]]
    if param.kind == "text":
        values = [5, True, 1.5, "x" * (param.max_chars + 1), *wrong]
        return values + (["", "   ", None] if param.required else [])
    if param.kind == "url":
        return [5, True, 1.5, *wrong]
    if param.kind == "region":  # judged by core/inputs/region.py, in the box's words
        return ["bogus", True, -1, 18.5, NAN, 10**30, *wrong]
    return ["not/an/uploaded/file.png", 5, True]  # file


def _id(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, allow_nan=True) if not isinstance(value, int) \
        or isinstance(value, bool) or abs(value) < 10**6 else f"int{len(str(value))}"
    return repr(text[:12]) if isinstance(text, str) else str(text)


CASES = [pytest.param(name, param, value, id=f"{name}-{param.name}-{_id(value)}")
         for name, params in ENDPOINTS.items() for param in params for value in bad_values(param)]


@pytest.fixture
def good(fal_server, fal_key, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """A good call of every endpoint, by parameter name, on fal (whose test server counts submits); a sweep that
    runs only when confirmed (``CLARITY_CONFIRM_CELLS=1``), and confirmed."""
    monkeypatch.setenv("FAL_KEY", fal_key)
    monkeypatch.setenv("CLARITY_CONFIRM_CELLS", "1")
    picture = images.to_png_data_uri(noise_png(Path(config.data_dir()) / "loose.png", (32, 24)))
    base = {"image": None, "image_url": picture, "prompt": "p", "upscale_factor": 1.0, "negative_prompt": "n",
            "creativity": 0.35, "resemblance": 0.6, "guidance_scale": 4.0, "num_inference_steps": 18,
            "seed": 7, "enable_safety_checker": True, "engine": "fal"}
    region = dict.fromkeys(REGION_PARAMS)  # the whole picture; last in /upscale
    upscale = {**base, **region}
    later = {"vary_seed": False, "z_axis": "", "z_values": "", "w_axis": "", "w_values": ""}  # /sweep's, after it
    return {"upscale": upscale,
            "sweep": {**base, "x_axis": "creativity", "x_values": "0.2, 0.4", "y_axis": "", "y_values": "",
                      "confirm": True, "dry_run": False, **region, **later},
            "history": {"search": "", "status": "any", "engine": "any", "offset": 0, "limit": 10},
            "fetch": {"request_id": "0123abcd-not-a-request"},
            "dataset": {"sweep_id": "", "search": "", "status": "any", "engine": "any"},
            "cells": {"sweep_id": "0123abcd-not-a-sweep"},
            "sweep_price": {**base, "x_axis": "creativity", "x_values": "0.2, 0.4", "y_axis": "", "y_values": "",
                            **region, **later},
            **{name: {"id": "0123abcd-not-a-run"} for name in ("status", "cancel", "retry")}}


def rest_call(base_url: str, name: str, data: list[Any]) -> tuple[bool, Any]:
    """POST /gradio_api/call/<name>, then read its stream: (completed, the outputs or the error message)."""
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as http:
        posted = http.post(f"gradio_api/call/{name}", content=json.dumps({"data": data}, allow_nan=True),
                           headers={"content-type": "application/json"})
        assert posted.status_code == 200, posted.text
        stream = http.get(f"gradio_api/call/{name}/{posted.json()['event_id']}").text
    events = re.findall(r"^event: (\w+)\ndata: (.*)$", stream, re.M)
    assert events, stream
    kind, data_text = events[-1]
    data = json.loads(data_text) if data_text.strip() else None
    if kind == "error":  # Gradio's error event: {"error": message, "title": ..., ...}, or null for a blank one
        return False, data.get("error") if isinstance(data, dict) else data
    return kind == "complete", data


def client_call(client: Client, name: str, values: dict[str, Any]) -> tuple[bool, str]:
    try:
        job = client.submit(**values, api_name=f"/{name}")
        return True, str(job.result(timeout=TIMEOUT))
    except Exception as exc:  # gradio_client raises the app's message as an AppError
        return False, str(exc)


def named_as(param: Param) -> str:
    """How a refusal names ``param``: by its name, a region's box by the box's words ("Region x", as the page)."""
    return f"Region {BOX[param.name]}" if param.kind == "region" else param.name


def assert_named_refusal(param: Param, completed: bool, message: Any) -> None:
    assert not completed, f"{param.name}: the call went through: {message}"
    text = str(message)
    assert re.search(rf"\b{named_as(param)} (must be|is required)", text), text
    for generic in ("not in the list of choices", "raised an exception", "Traceback", "None"):
        assert generic not in text.replace("null", ""), text


def sends_json(value: Any) -> bool:
    """gradio_client sends its values as strict JSON: no NaN, no infinity."""
    return not (isinstance(value, float) and not math.isfinite(value))


@pytest.fixture
def submits(fal_server) -> Iterator[None]:
    before = len(fal_server.submits())
    yield
    assert len(fal_server.submits()) == before, "a refused value reached fal"


@pytest.mark.parametrize(("name", "param", "value"), CASES)
def test_rest_refuses_by_name(studio: str, good, fal_server, submits, name: str, param: Param, value: Any) -> None:
    values = {**good[name], param.name: value}
    completed, message = rest_call(studio, name, list(values.values()))
    assert_named_refusal(param, completed, message)
    assert_history_sound(0)


@pytest.fixture(scope="module")
def one_client(studio: str) -> Client:
    """One gradio_client session for every case (a refused call leaves nothing in it)."""
    return api_client(studio)


@pytest.mark.parametrize(("name", "param", "value"), [case for case in CASES if sends_json(case.values[2])])
def test_gradio_client_refuses_by_name(one_client: Client, good, fal_server, submits, name: str, param: Param,
                                       value: Any) -> None:
    completed, message = client_call(one_client, name, {**good[name], param.name: value})
    assert_named_refusal(param, completed, message)
    assert_history_sound(0)


@pytest.mark.parametrize("name", ["upscale", "sweep"])
def test_the_good_call_does_reach_fal(studio: str, good, fal_server, name: str) -> None:
    """The control: without the bad value the very same call is submitted to fal (so 'no submit' above means
    the value was refused, not that nothing could have run)."""
    completed, output = rest_call(studio, name, list(good[name].values()))
    assert completed, output
    assert len(fal_server.submits()) == (1 if name == "upscale" else 2)


@pytest.mark.parametrize(("param", "value", "clean"), [("engine", "LOCAL", "local"), ("x_axis", "Creativity", None)])
def test_choices_are_matched_without_regard_to_case(param: str, value: str, clean: str | None) -> None:
    from core.usecases import SweepRequest

    asked = SweepRequest.checked({"x_values": "0.2", param: value})
    assert getattr(asked, param) == (clean or value.lower())


@pytest.fixture(scope="module")
def page_app() -> Iterator[tuple[Any, str]]:
    from tests.conftest import launched_app

    demo, url = launched_app()
    yield demo, url
    demo.close()


@pytest.mark.parametrize(("name", "loose"), [("confirm", "false"), ("confirm", "no"), ("confirm", "0 "),
                                             ("confirm", 1), ("vary_seed", "false"), ("vary_seed", 0)])
def test_the_pages_own_sweep_event_refuses_a_box_that_is_not_a_boolean(page_app, good, fal_server, submits,
                                                                       name: str, loose: Any) -> None:
    """The page's events are private, not unreachable: anyone can post to the queue by ``fn_index``. The page's
    Run sweep, sent "false" for its confirmation box or its *Vary seed per cell*, is refused by name as the API is
    (the rule is the use case's, ``SweepRequest``), and nothing reaches fal."""
    demo, url = page_app
    index = next(i for i, fn in demo.fns.items()
                 if getattr(fn.fn, "__name__", "") == "sweep" and fn.api_visibility == "private")
    values = good["sweep"]
    later = ("vary_seed", "z_axis", "z_values", "w_axis", "w_values")
    data = [*(values[param.name] for param in ENDPOINTS["sweep"]
              if param.name not in ("confirm", "dry_run", *REGION_PARAMS, *later)),
            loose if name == "confirm" else False, None, False, "", "", "", "",  # no dry run (the API's own); then
            loose if name == "vary_seed" else False, "", "", "", ""]  # the region panel, switched off, Vary seed
    # per cell, and no Z or W axis
    with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        joined = http.post("gradio_api/queue/join", json={"data": data, "fn_index": index, "event_data": None,
                                                           "session_hash": "loose-page", "trigger_id": None})
        assert joined.status_code == 200, joined.text
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": "loose-page"}) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    break
    assert not message.get("success"), message
    assert_named_refusal(Param(name, "boolean"), False, message["output"].get("error"))
    assert_history_sound(0)
