"""The app driven through gradio_client, as an API caller would: local and fal end to end, errors, cancel."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image
from skimage import data as samples

from core import schema
from core.inputs.region import PARAMS as REGION_PARAMS
from core.runs import store


@pytest.fixture
def photo(tmp_path: Path) -> str:
    """A real photo (scikit-image's astronaut), 96×80 so the CPU engine is quick."""
    path = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[60:220:2, 150:342:2]).save(path)
    return str(path)


def test_public_api_parameters_are_the_schema_fields(client) -> None:
    endpoints = client.view_api(return_format="dict")["named_endpoints"]
    names = [p["parameter_name"] for p in endpoints["/upscale"]["parameters"]]
    assert names == ["image", *(f.name for f in schema.FIELDS), "engine", *REGION_PARAMS]  # new ones last
    defaults = {p["parameter_name"]: p["parameter_default"] for p in endpoints["/upscale"]["parameters"]}
    for field in schema.PARAMETER_FIELDS:
        assert defaults[field.name] == field.default, field.name
    assert defaults["engine"] == "local"  # no FAL_KEY in the test environment
    assert len(endpoints["/upscale"]["returns"]) == 2  # the PNG and the result JSON, nothing internal


def test_local_engine_end_to_end_on_a_real_photo(client, photo: str) -> None:
    png, result = client.predict(handle_file(photo), "", upscale_factor=1.5, seed=1234, engine="local",
                                 api_name="/upscale")
    with Image.open(png) as output:
        assert output.format == "PNG" and output.size == (round(96 * 1.5), round(80 * 1.5))
        detail = np.asarray(output.convert("L"), dtype=float)
    assert detail.std() > 10  # a picture, not a blank
    assert result["seed"] is None and result["engine"] == "local" and result["status"] == "completed"
    run = store.store().get(result["run_id"])
    assert run.arguments["seed"] == 1234  # asked for and recorded (to replay on fal), though Real-ESRGAN uses none
    assert run.status == "completed" and run.output_path and Path(run.output_path).exists()
    assert run.arguments["creativity"] == 0.35  # ignored locally, recorded anyway


def test_bad_input_gets_a_clean_message_and_is_recorded_nowhere(client, tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture")
    with pytest.raises(Exception, match="not an image"):
        client.predict(handle_file(str(text)), "", engine="local", api_name="/upscale")
    with pytest.raises(Exception, match="Give an image"):
        client.predict(None, "", engine="local", api_name="/upscale")
    with pytest.raises(Exception, match="https://"):
        client.predict(None, "ftp://example.com/a.png", engine="fal", api_name="/upscale")
    assert store.store().count() == 0


def test_fal_engine_end_to_end_against_the_test_server(client, photo, fal_server, fal_key, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=3, run_polls=3, logs=["loading model", "upscaling tile 1/1", "done"])
    png, result = client.predict(handle_file(photo), "", creativity=0.5, seed=7, engine="fal",
                                 api_name="/upscale")
    assert Image.open(png).size == (192, 160)
    submitted = fal_server.submits()[-1].json
    assert submitted["creativity"] == 0.5 and submitted["seed"] == 7
    assert submitted["image_url"].startswith(fal_server.url)  # uploaded once with fal_client
    assert result["request_id"] and result["seed"] == 7 and result["result_url"].startswith(fal_server.url)
    run = store.store().get(result["run_id"])
    assert run.status == "completed" and Path(run.output_path).exists()  # downloaded: fal's URLs expire
    requests_with_key = [r for r in fal_server.requests if fal_key in str(r.headers)]
    assert requests_with_key and fal_key not in str(result)


def test_a_422_names_its_field(client, photo, fal_server, fal_key, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.script(submit_status=422, submit_body={"detail": [
        {"loc": ["body", "guidance_scale"], "msg": "too strong for this image", "type": "value_error"}]})
    with pytest.raises(Exception, match="Guidance|guidance_scale") as caught:
        client.predict(handle_file(photo), "", engine="fal", api_name="/upscale")
    assert "too strong for this image" in str(caught.value) and "[{" not in str(caught.value)
    run = store.store().frame(None).iloc[0]
    assert run["status"] == "failed" and run["error_field"] == "guidance_scale"


def test_a_rejected_key_says_where_to_get_one(client, photo, fal_server, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", "wrong-id:wrong-secret")
    with pytest.raises(Exception, match="fal.ai/dashboard/keys") as caught:
        client.predict(handle_file(photo), "", engine="fal", api_name="/upscale")
    assert "wrong-secret" not in str(caught.value)


def test_cancel_reaches_the_remote_request(client, photo, fal_server, fal_key, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(stall=True)
    job = client.submit(handle_file(photo), "", engine="fal", api_name="/upscale")
    deadline = time.time() + 30
    while not fal_server.submits() and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    job.cancel()
    request_id = None
    while time.time() < deadline:
        frame = store.store().frame(None)
        if len(frame) and frame.iloc[0]["status"] == "cancelled":
            request_id = frame.iloc[0]["request_id"]
            break
        time.sleep(0.1)
    assert request_id, "the run was not recorded as cancelled"
    assert fal_server.state(request_id).cancel_received


def _documented_api() -> dict[str, tuple[str, str]]:
    """README's Public API table: api_name → (takes, returns)."""
    from tests.test_docs import section, table_rows

    return {row[0].strip("`"): (row[1], row[2]) for row in table_rows(section("Public API"))}


def test_the_public_api_is_as_the_readme_documents_it(client) -> None:
    import re

    endpoints = client.view_api(return_format="dict")["named_endpoints"]
    documented = _documented_api()
    assert {name.lstrip("/") for name in endpoints} == set(documented)
    fields = {f.name for f in schema.FIELDS}
    for name, (takes, _) in documented.items():
        named = set(re.findall(r"`(\w+)`", takes))
        if "the nine other fields" in takes or takes.startswith("the same"):
            named |= fields | set(re.findall(r"`(\w+)`", documented["upscale"][0]))
        parameters = [p["parameter_name"] for p in endpoints[f"/{name}"]["parameters"]]
        assert set(parameters) <= named, (name, set(parameters) - named)
    for name in ("upscale", "sweep"):  # an image is a file *or* an image_url: neither is required on its own
        required = [p["parameter_name"] for p in endpoints[f"/{name}"]["parameters"] if not p["parameter_has_default"]]
        assert "image" not in required and "image_url" not in required, (name, required)
    assert [r["label"] for r in endpoints["/history"]["returns"]] == ["Runs", "Page"]


def test_history_returns_every_field_under_its_endpoint_name(client, photo: str) -> None:
    client.predict(handle_file(photo), None, upscale_factor=1, engine="local", api_name="/upscale")
    table, _ = client.predict(api_name="/history")
    headers = table["headers"]
    assert {f.name for f in schema.PARAMETER_FIELDS} <= set(headers), headers
    row = dict(zip(headers, table["data"][0], strict=True))
    assert row["negative_prompt"] == schema.FIELD_BY_NAME["negative_prompt"].default
    assert row["enable_safety_checker"] in (True, "true", "True")
