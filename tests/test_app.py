"""The app driven through gradio_client, as an API caller would: local and fal end to end, errors, cancel."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image
from skimage import data as samples

from components import store
from core import schema


@pytest.fixture
def photo(tmp_path: Path) -> str:
    """A real photo (scikit-image's astronaut), 96×80 so the CPU engine is quick."""
    path = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[60:220:2, 150:342:2]).save(path)
    return str(path)


def test_public_api_parameters_are_the_schema_fields(client) -> None:
    endpoints = client.view_api(return_format="dict")["named_endpoints"]
    names = [p["parameter_name"] for p in endpoints["/upscale"]["parameters"]]
    assert names == ["image", *(f.name for f in schema.FIELDS), "engine"]
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
    assert result["seed"] == 1234 and result["engine"] == "local" and result["status"] == "completed"
    run = store.store().get(result["run_id"])
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
    assert result["request_id"] and result["seed"] == 7 and result["image"]["url"].startswith(fal_server.url)
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
