"""One answer for every client (issue 26 §1, §3): each public endpoint returns exactly the outputs
``/gradio_api/info`` documents — through ``gradio_client``, raw REST and the official JavaScript client
(``@gradio/client``, pinned in ``tests/js/package.json`` and installed with ``npm ci``) — and a bad value is refused
in the same words, naming the parameter, through all three. An unknown endpoint is a 404; a REST call with too few
values gets the defaults of the ones it left out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file

from core.usecases.values import ENDPOINTS
from tests.reliability import TIMEOUT, noise_png
from tests.reliability.test_loose_values import bad_values, named_as, rest_call, sends_json

JS = Path(__file__).resolve().parent / "js"


def js_calls(url: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``calls`` through @gradio/client in node (tests/js/calls.mjs); one result each."""
    if not (JS / "node_modules" / "@gradio" / "client").is_dir():
        if shutil.which("npm") is None:
            pytest.fail("npm is needed for the JavaScript client tests (scripts/test.sh runs npm ci)")
        subprocess.run(["npm", "ci", "--prefix", str(JS), "--no-audit", "--no-fund"], check=True, timeout=300,
                       capture_output=True)
    done = subprocess.run(["node", str(JS / "calls.mjs")], input=json.dumps({"url": url, "calls": calls}),
                          capture_output=True, text=True, timeout=TIMEOUT * max(1, len(calls)), check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def upload(url: str, path: str) -> dict[str, Any]:
    """A file uploaded as a REST caller does (POST /gradio_api/upload), as the FileData to pass."""
    with open(path, "rb") as handle:
        stored = httpx.post(f"{url}gradio_api/upload", files={"files": handle}, timeout=TIMEOUT).json()[0]
    return {"path": stored, "meta": {"_type": "gradio.FileData"}, "orig_name": Path(path).name}


@pytest.fixture
def photo(tmp_path: Path) -> str:
    return noise_png(tmp_path / "client photo.png", (32, 24), seed=3)


def test_every_endpoint_has_the_documented_outputs_through_all_three_clients(studio: str, client: Client,
                                                                             photo: str) -> None:
    info = httpx.get(f"{studio}gradio_api/info", timeout=TIMEOUT).json()["named_endpoints"]
    assert set(info) == {f"/{name}" for name in ENDPOINTS}  # nothing else is public
    documented = {name: len(endpoint["returns"]) for name, endpoint in info.items()}
    assert documented == {"/upscale": 2, "/sweep": 3, "/history": 2, "/fetch": 2, "/dataset": 1, "/cells": 2,
                          "/status": 1, "/cancel": 1, "/retry": 2, "/sweep_price": 1}

    upscale = {"upscale_factor": 1.5, "engine": "lanczos"}
    sweep = {"engine": "lanczos", "x_axis": "upscale_factor", "x_values": "1, 2"}
    python = {"/upscale": client.predict(image=handle_file(photo), **upscale, api_name="/upscale"),
              "/sweep": client.predict(image=handle_file(photo), **sweep, api_name="/sweep"),
              "/history": client.predict(api_name="/history")}
    run_id, sweep_id = python["/upscale"][1]["run_id"], python["/sweep"][2]["sweep_id"]
    python["/fetch"] = client.predict(run_id, api_name="/fetch")
    python["/dataset"] = client.predict(engine="lanczos", api_name="/dataset")
    python["/cells"] = client.predict(sweep_id=sweep_id, api_name="/cells")
    python["/status"] = client.predict(id=run_id, api_name="/status")
    python["/cancel"] = client.predict(id=run_id, api_name="/cancel")
    python["/retry"] = client.predict(id=run_id, api_name="/retry")
    python["/sweep_price"] = client.predict(image=handle_file(photo), **sweep, api_name="/sweep_price")

    image = upload(studio, photo)
    by_id = {"id": run_id}
    rest = {}
    for name, values in (("upscale", {"image": image, **upscale}), ("sweep", {"image": image, **sweep}),
                         ("history", {}), ("fetch", {"request_id": run_id}), ("dataset", {"engine": "lanczos"}),
                         ("cells", {"sweep_id": sweep_id}), ("status", by_id), ("cancel", by_id), ("retry", by_id),
                         ("sweep_price", {"image": image, **sweep})):
        data = [values.get(param.name, param.default) for param in ENDPOINTS[name]]
        completed, output = rest_call(studio, name, data)
        assert completed, output
        rest[f"/{name}"] = output

    js = dict(zip([*documented, "info"], js_calls(studio, [
        {"endpoint": "/upscale", "values": upscale, "files": {"image": photo}},
        {"endpoint": "/sweep", "values": sweep, "files": {"image": photo}},
        {"endpoint": "/history", "values": {}},
        {"endpoint": "/fetch", "values": {"request_id": run_id}},
        {"endpoint": "/dataset", "values": {"engine": "lanczos"}},
        {"endpoint": "/cells", "values": {"sweep_id": sweep_id}},
        *({"endpoint": name, "values": by_id} for name in ("/status", "/cancel", "/retry")),
        {"endpoint": "/sweep_price", "values": sweep, "files": {"image": photo}},
        {"info": True}]), strict=True))

    for endpoint, count in documented.items():
        got_python = python[endpoint] if count > 1 else [python[endpoint]]
        assert len(got_python) == count, (endpoint, got_python)
        assert len(rest[endpoint]) == count, (endpoint, rest[endpoint])
        assert js[endpoint]["ok"], js[endpoint]
        assert len(js[endpoint]["data"]) == count, (endpoint, js[endpoint]["data"])
    as_lists = {key: value if documented[key] > 1 else [value] for key, value in python.items()}
    for outputs in (as_lists, rest, {key: value["data"] for key, value in js.items() if key != "info"}):
        assert outputs["/upscale"][1]["image"]["width"] == 48 and outputs["/upscale"][1]["status"] == "completed"
        assert outputs["/fetch"][1]["run_id"] == run_id
        assert outputs["/status"][0]["run_id"] == run_id and outputs["/status"][0]["status"] == "completed"
        assert outputs["/cancel"][0]["status"] == "completed" and outputs["/cancel"][0]["cancelled_now"] is False
        retried = outputs["/retry"][1]
        assert retried["status"] == "completed" and retried["run_id"] != run_id and retried["image"]["width"] == 48
        pictures, cells = outputs["/cells"]
        assert [picture["caption"] for picture in pictures] == ["upscale_factor=1", "upscale_factor=2"]
        assert [cell["result"]["image"]["width"] for cell in cells["cells"]] == [32, 64]
        assert cells["sweep_id"] == sweep_id and cells["counts"] == {"completed": 2}
        summary = outputs["/sweep"][2]
        assert summary["dry_run"] is False and summary["counts"] == {"completed": 2}
        assert outputs["/sweep_price"][0]["cells"] == 2 and outputs["/sweep_price"][0]["price_usd"] == 0
        page = outputs["/history"][1]
        assert page["offset"] == 0 and page["next_offset"] is None and page["returned"] == page["total"] > 0
    assert {"headers", "data"} <= set(rest["/history"][0]) and {"headers", "data"} <= set(js["/history"]["data"][0])

    # the same parameters — names, order, types, defaults, required-ness — for the three
    js_info = js["info"]["data"]["named_endpoints"]
    python_info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for endpoint, described in info.items():
        shape = [(p["parameter_name"], p["python_type"]["type"], p["parameter_has_default"],
                  p["parameter_default"] if p["python_type"]["type"] != "filepath" else None)
                 for p in described["parameters"]]
        assert shape == [(p.name, *_shape(p)) for p in ENDPOINTS[endpoint.lstrip("/")]], endpoint
        assert [p["parameter_name"] for p in python_info[endpoint]["parameters"]] == [s[0] for s in shape]
        shown_to_js = [p for p in js_info[endpoint]["parameters"] if not p.get("hidden")]  # the JS client lists the
        # browser session (a gr.State the API leaves out) as a hidden parameter it fills itself
        assert [(p["parameter_name"], p["parameter_has_default"]) for p in shown_to_js] == \
            [(s[0], s[2]) for s in shape], endpoint


def test_a_history_page_says_the_total_and_where_the_next_page_starts(studio: str, client: Client,
                                                                     photo: str) -> None:
    for factor in (1, 1.5, 2):
        client.predict(image=handle_file(photo), upscale_factor=factor, engine="lanczos", api_name="/upscale")
    first = client.predict(offset=0, limit=2, api_name="/history")
    last = client.predict(offset=2, limit=2, api_name="/history")
    assert first[1] == {"total": 3, "offset": 0, "limit": 2, "returned": 2, "next_offset": 2}
    assert last[1] == {"total": 3, "offset": 2, "limit": 2, "returned": 1, "next_offset": None}
    assert len(first[0]["data"]) == 2 and len(last[0]["data"]) == 1
    completed, rest = rest_call(studio, "history", ["", "any", "lanczos", 1, 1])
    assert completed and rest[1]["total"] == 3 and rest[1]["next_offset"] == 2


def test_a_dry_run_prices_a_sweep_and_runs_nothing_through_all_three_clients(studio: str, client: Client,
                                                                              photo: str) -> None:
    grid = {"engine": "local", "x_axis": "upscale_factor", "x_values": "1, 2, 4", "dry_run": True}
    python = client.predict(image=handle_file(photo), **grid, api_name="/sweep")
    completed, rest = rest_call(studio, "sweep", [upload(studio, photo) if p.name == "image" else
                                                  grid.get(p.name, p.default) for p in ENDPOINTS["sweep"]])
    assert completed, rest
    [js] = js_calls(studio, [{"endpoint": "/sweep", "values": grid, "files": {"image": photo}}])
    assert js["ok"], js
    megapixels = (32 * 24 + 64 * 48 + 128 * 96) / 1e6
    for csv, sheet, priced in (python, rest, js["data"]):
        assert csv is None and sheet is None
        assert priced["dry_run"] is True and priced["cells"] == 3 and priced["price_usd"] == 0
        assert priced["output_megapixels"] == pytest.approx(megapixels, abs=1e-4)
    assert client.predict(api_name="/history")[1]["total"] == 0  # nothing ran


def _shape(param: Any) -> tuple[str, bool, Any]:
    from gradio_client.utils import json_schema_to_python_type

    kind = "filepath" if param.kind == "file" else json_schema_to_python_type(param.json_schema())
    return kind, not param.required, param.default


BAD = [(name, param, value) for name, params in ENDPOINTS.items() for param in params
       for value in bad_values(param)[:3] if sends_json(value) and param.kind != "file"]


def test_a_bad_value_is_refused_in_the_same_words_through_all_three_clients(studio: str, client: Client,
                                                                            fal_server, fal_key,
                                                                            monkeypatch) -> None:
    """The loose-value table's first values for every parameter, through the three clients: the same message,
    naming the parameter (the full table runs through two of them in tests/reliability/test_loose_values.py)."""
    monkeypatch.setenv("FAL_KEY", fal_key)
    good = {"image_url": "https://example.com/never-fetched.png", "x_values": "0.2", "request_id": "run-id-1234",
            "id": "run-id-1234", "sweep_id": "sweep-id-1234"}
    calls, expected = [], []
    for name, param, value in BAD:
        values = {key: good[key] for key in good if key in {p.name for p in ENDPOINTS[name]}} | {param.name: value}
        calls.append({"endpoint": f"/{name}", "values": values})
        try:
            client.predict(**values, api_name=f"/{name}")
            said = "(completed)"
        except Exception as exc:
            said = str(exc)
        data = [values.get(p.name, p.default) for p in ENDPOINTS[name]]
        completed, rest = rest_call(studio, name, data)
        assert not completed and rest == said, (name, param.name, value, rest, said)
        assert f"{named_as(param)} must be" in said or f"{named_as(param)} is required" in said, said
        expected.append(said)
    answers = js_calls(studio, calls)
    assert [answer.get("error") for answer in answers] == expected
    assert fal_server.submits() == []


def test_unknown_endpoints_are_404_and_too_few_values_take_the_defaults(studio: str, photo: str) -> None:
    for route in ("call", "call/v2"):
        answer = httpx.post(f"{studio}gradio_api/{route}/nothing_here", json={"data": []}, timeout=TIMEOUT)
        assert answer.status_code == 404 and "/upscale" in answer.json()["error"], (route, answer.text)
    completed, output = rest_call(studio, "history", [])  # every value left out: the defaults
    assert completed and output[0]["data"] == []
    completed, output = rest_call(studio, "sweep", [None, None])  # x_values, required, left out: said by name
    assert not completed and "x_values is required" in output
    image = upload(studio, photo)
    completed, output = rest_call(studio, "upscale", [image, None, "p", 1.0])  # the rest: the defaults (local)
    assert completed and output[1]["engine"] == "local" and output[1]["status"] == "completed"


def test_the_picture_is_read_by_its_content_named_or_not(studio: str, tmp_path: Path) -> None:
    """The API page's JavaScript snippet sends a Blob (no name, no type): it is read by its content, as a named
    File is; a named file that is not a picture is refused for what it is, whatever its name says."""
    from PIL import Image

    jpeg = tmp_path / "camera upload"  # no extension at all
    Image.new("RGB", (20, 16), (30, 120, 200)).save(jpeg, format="JPEG")
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture")
    answers = js_calls(studio, [
        {"endpoint": "/upscale", "values": {"engine": "lanczos", "upscale_factor": 2}, "blobs": {"image": str(jpeg)}},
        {"endpoint": "/upscale", "values": {"engine": "lanczos", "upscale_factor": 2}, "files": {"image": str(jpeg)}},
        {"endpoint": "/upscale", "values": {"engine": "lanczos"}, "files": {"image": str(text)}}])
    for answer in answers[:2]:
        assert answer["ok"], answer
        assert answer["data"][1]["image"]["width"] == 40 and answer["data"][1]["status"] == "completed"
    assert not answers[2]["ok"] and "not an image" in answers[2]["error"]


def test_the_picture_defaults_to_the_sample_photo_and_a_given_url_is_used_instead(studio: str,
                                                                                  client: Client) -> None:
    """The picture's documented default is the bundled sample photo (451×300), so a call with no picture runs on
    it; an image_url given is used in place of the picture (a client fills the default in: it must not win)."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (10, 8), (200, 40, 40)).save(buffer, format="PNG")
    pasted = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    _, sample = client.predict(engine="lanczos", api_name="/upscale")
    _, given = client.predict(image_url=pasted, engine="lanczos", api_name="/upscale")
    assert (sample["image"]["width"], sample["image"]["height"]) == (902, 600)
    assert (given["image"]["width"], given["image"]["height"]) == (20, 16)
    [js_sample, js_given] = js_calls(studio, [{"endpoint": "/upscale", "values": {"engine": "lanczos"}},
                                              {"endpoint": "/upscale", "values": {"engine": "lanczos",
                                                                                  "image_url": pasted}}])
    assert js_sample["data"][1]["image"]["width"] == 902 and js_given["data"][1]["image"]["width"] == 20
