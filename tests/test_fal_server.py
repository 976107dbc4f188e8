"""The test fal server speaks fal's queue protocol to the real fal_client, over HTTPS at fal's host names
(docs/fal-protocol.md, "The queue" to "Errors")."""

from __future__ import annotations

import asyncio
import base64
import io
import json

import fal_client
import httpx
import pytest
from fal_client import Completed, FalClientHTTPError, InProgress, Queued
from PIL import Image

APP = "fal-ai/clarity-upscaler"


def png_bytes(width: int = 10, height: int = 7, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def data_uri(width: int = 10, height: int = 7) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(width, height)).decode()


def download(url: str) -> Image.Image:
    response = httpx.get(url)
    response.raise_for_status()
    return Image.open(io.BytesIO(response.content))


def test_subscribe_with_logs_returns_an_upscaled_png_of_the_exact_size(fal_server, fal_key):
    fal_server.script(logs=["Loading", "Tile 1/2", "Tile 2/2"])
    updates = []
    result = fal_client.SyncClient(key=fal_key).subscribe(
        APP, {"image_url": data_uri(10, 7), "upscale_factor": 2.5, "seed": 42}, with_logs=True,
        on_queue_update=updates.append, interval=0.01)

    assert result["seed"] == 42
    assert set(result) == {"image", "seed", "timings"} and "inference" in result["timings"]
    image = result["image"]
    assert (image["width"], image["height"], image["content_type"]) == (25, 18, "image/png")
    assert image["file_name"].endswith(".png") and image["url"].endswith(image["file_name"])
    served = download(image["url"])
    assert served.format == "PNG" and served.size == (25, 18)
    assert image["file_size"] == len(httpx.get(image["url"]).content)
    assert isinstance(updates[0], Queued) and isinstance(updates[-1], Completed)
    assert [entry["message"] for entry in updates[-1].logs] == ["Loading", "Tile 1/2", "Tile 2/2"]


def test_a_random_seed_is_reported_when_none_is_given(fal_server, fal_key):
    client = fal_client.SyncClient(key=fal_key)
    seeds = {client.subscribe(APP, {"image_url": data_uri()}, interval=0.01)["seed"] for _ in range(2)}
    assert all(isinstance(seed, int) and seed >= 0 for seed in seeds) and len(seeds) == 2


def test_status_answers_202_while_waiting_and_200_when_completed(fal_server, fal_key):
    fal_server.script(queue_polls=2, run_polls=2, logs=["one"])
    handle = fal_client.SyncClient(key=fal_key).submit(APP, {"image_url": data_uri()})
    headers = {"Authorization": f"Key {fal_key}"}
    answers = []
    with httpx.Client(headers=headers) as http:
        while not answers or answers[-1][1]["status"] != "COMPLETED":
            response = http.get(handle.status_url, params={"logs": "1"})
            answers.append((response.status_code, response.json()))
    assert [(code, body["status"]) for code, body in answers] == [
        (202, "IN_QUEUE"), (202, "IN_QUEUE"), (202, "IN_PROGRESS"), (202, "IN_PROGRESS"), (200, "COMPLETED")]
    assert [body["queue_position"] for _, body in answers[:2]] == [1, 0]
    assert answers[0][1]["logs"] is None
    assert answers[-1][1]["metrics"]["inference_time"] >= 0
    assert answers[-1][1]["response_url"] == handle.response_url


def test_logs_are_cumulative_on_every_poll_and_null_without_logs(fal_server, fal_key):
    fal_server.script(queue_polls=0, run_polls=3, logs=["a", "b", "a"])
    handle = fal_client.SyncClient(key=fal_key).submit(APP, {"image_url": data_uri()})
    polls = [handle.status(with_logs=True) for _ in range(4)]
    messages = [[entry["message"] for entry in status.logs or []] for status in polls]
    assert [type(status) for status in polls] == [InProgress, InProgress, InProgress, Completed]
    assert messages == [["a"], ["a", "b"], ["a", "b", "a"], ["a", "b", "a"]]
    assert all(set(entry) >= {"message", "level", "source", "timestamp"} for entry in polls[-1].logs)
    assert handle.status(with_logs=False).logs is None


def test_queue_positions_are_zero_based_and_count_down(fal_server, fal_key):
    fal_server.script(queue_polls=3)
    handle = fal_client.SyncClient(key=fal_key).submit(APP, {"image_url": data_uri()})
    events = list(handle.iter_events(interval=0.01))
    assert [event.position for event in events if isinstance(event, Queued)] == [2, 1, 0]
    assert isinstance(events[-1], Completed)


def test_a_timed_queue_wait_keeps_the_request_queued(fal_server, fal_key):
    fal_server.script(queue_wait=600, queue_step=100)
    handle = fal_client.SyncClient(key=fal_key).submit(APP, {"image_url": data_uri()})
    statuses = [handle.status() for _ in range(3)]
    assert all(isinstance(status, Queued) and status.position == 5 for status in statuses)
    assert fal_server.state(handle.request_id).status == "IN_QUEUE"


def test_cancel_a_queued_request_then_again_and_an_unknown_one(fal_server, fal_key):
    fal_server.script(queue_polls=100)

    async def scenario() -> tuple[FalClientHTTPError, FalClientHTTPError, str]:
        client = fal_client.AsyncClient(key=fal_key)
        handle = await client.submit(APP, {"image_url": data_uri()})
        await handle.status()
        await handle.cancel()
        with pytest.raises(FalClientHTTPError) as again:
            await handle.cancel()
        with pytest.raises(FalClientHTTPError) as unknown:
            await client.cancel(APP, "no-such-request")
        return again.value, unknown.value, handle.request_id

    again, unknown, request_id = asyncio.run(scenario())
    state = fal_server.state(request_id)
    assert state.cancel_received and state.status == "COMPLETED"
    assert (again.status_code, again.response.json()) == (400, {"status": "ALREADY_COMPLETED"})
    assert (unknown.status_code, unknown.response.json()) == (404, {"status": "NOT_FOUND"})
    cancels = [r for r in fal_server.requests if r.method == "PUT"]
    assert [r.path for r in cancels][0] == f"/{APP}/requests/{request_id}/cancel"


def test_a_running_request_that_ignores_cancel_still_completes(fal_server, fal_key):
    fal_server.script(queue_polls=0, run_polls=3, ignore_cancel=True)
    handle = fal_client.SyncClient(key=fal_key).submit(APP, {"image_url": data_uri()})
    assert isinstance(handle.status(), InProgress)
    handle.cancel()
    assert fal_server.state(handle.request_id).cancel_received
    assert handle.get(interval=0.01)["image"]["width"] == 20


def test_a_wrong_or_missing_key_gets_401_with_fals_body(fal_server):
    with pytest.raises(FalClientHTTPError) as wrong:
        fal_client.SyncClient(key="not-a-key").submit(APP, {"image_url": data_uri()})
    assert wrong.value.status_code == 401
    assert wrong.value.message == "No user found for Key ID and Secret"
    missing = httpx.post(f"{fal_server.queue_url}/{APP}", json={"image_url": data_uri()})
    assert missing.status_code == 401 and missing.json() == {"detail": "No user found for Key ID and Secret"}


def test_invalid_arguments_come_back_as_422_detail_lists(fal_server, fal_key):
    client = fal_client.SyncClient(key=fal_key)
    handle = client.submit(APP, {"upscale_factor": 5, "num_inference_steps": 2.5, "enable_safety_checker": "x"})
    with pytest.raises(FalClientHTTPError) as caught:
        handle.get(interval=0.01)
    assert caught.value.status_code == 422
    detail = caught.value.message
    assert isinstance(detail, list)
    assert {tuple(item["loc"]) for item in detail} == {
        ("body", "image_url"), ("body", "upscale_factor"), ("body", "num_inference_steps"),
        ("body", "enable_safety_checker")}
    assert all(isinstance(item["msg"], str) and isinstance(item["type"], str) for item in detail)
    by_field = {item["loc"][1]: item for item in detail}
    assert by_field["image_url"]["type"] == "missing"
    assert by_field["upscale_factor"]["msg"] == "Input should be less than or equal to 4"


@pytest.mark.parametrize("url, kind", [
    ("data:image/png;base64," + base64.b64encode(b"not an image").decode(), "image_load_error"),
    ("https://example.com/cat.png", "file_download_error"),
])
def test_an_unreadable_image_is_a_422_on_image_url(fal_server, fal_key, url, kind):
    handle = fal_client.SyncClient(key=fal_key).submit(APP, {"image_url": url})
    with pytest.raises(FalClientHTTPError) as caught:
        handle.get(interval=0.01)
    assert caught.value.status_code == 422
    assert [(item["loc"], item["type"]) for item in caught.value.message] == [(["body", "image_url"], kind)]


def test_a_429_storm_on_submit_and_status_is_retried_and_succeeds(fal_server, fal_key):
    fal_server.script(times=2, submit_status=429)
    fal_server.script(status_error=429, status_error_polls=(1, 2, 3))
    result = fal_client.SyncClient(key=fal_key).subscribe(APP, {"image_url": data_uri()}, interval=0.01)
    assert result["image"]["width"] == 20
    assert len(fal_server.submits()) == 3
    (job,) = {r.path.split("/")[4] for r in fal_server.requests if r.path.endswith("/status")}
    assert fal_server.state(job).polls >= 3 + 3  # three refused polls, then the ones that walked the stages


def test_an_ingress_503_is_retried_but_fals_own_503_is_not(fal_server, fal_key):
    client = fal_client.SyncClient(key=fal_key)
    fal_server.script(times=1, submit_status=503, ingress=True)
    assert client.subscribe(APP, {"image_url": data_uri()}, interval=0.01)["image"]["height"] == 14
    assert len(fal_server.submits()) == 2
    fal_server.script(submit_status=503)
    with pytest.raises(FalClientHTTPError) as caught:
        client.submit(APP, {"image_url": data_uri()})
    assert caught.value.status_code == 503 and caught.value.error_type == "runner_scheduling_failure"
    assert caught.value.response_headers["x-fal-error-type"] == "runner_scheduling_failure"
    assert len(fal_server.submits()) == 3


@pytest.mark.parametrize("code, error_type", [(403, None), (500, "internal_error"), (504, "request_timeout")])
def test_submit_errors_carry_fals_bodies(fal_server, fal_key, code, error_type):
    fal_server.script(submit_status=code)
    with pytest.raises(FalClientHTTPError) as caught:
        fal_client.SyncClient(key=fal_key).submit(APP, {"image_url": data_uri()})
    assert caught.value.status_code == code and caught.value.error_type == error_type
    assert isinstance(caught.value.message, str) and caught.value.message
    assert len(fal_server.submits()) == 1  # none of these is retried


def test_a_connection_cut_during_a_poll_is_retried(fal_server, fal_key):
    fal_server.script(reset_on_poll=2)
    result = fal_client.SyncClient(key=fal_key).subscribe(APP, {"image_url": data_uri()}, interval=0.01)
    assert result["image"]["width"] == 20


def test_completed_can_carry_an_error(fal_server, fal_key):
    fal_server.script(completed_error="Runner disconnected", completed_error_type="runner_disconnected")
    handle = fal_client.SyncClient(key=fal_key).submit(APP, {"image_url": data_uri()})
    final = list(handle.iter_events(with_logs=True, interval=0.01))[-1]
    assert isinstance(final, Completed)
    assert (final.error, final.error_type) == ("Runner disconnected", "runner_disconnected")


def test_scripts_match_arguments_and_run_out(fal_server, fal_key):
    client = fal_client.SyncClient(key=fal_key)
    fal_server.script(match={"seed": 7}, times=1, submit_status=500)
    assert client.submit(APP, {"image_url": data_uri(), "seed": 8}).request_id
    with pytest.raises(FalClientHTTPError):
        client.submit(APP, {"image_url": data_uri(), "seed": 7})
    assert client.submit(APP, {"image_url": data_uri(), "seed": 7}).request_id
    with pytest.raises(TypeError):
        fal_server.script(no_such_behaviour=True)


def test_the_server_records_exactly_what_was_sent(fal_server, fal_key):
    arguments = {"image_url": data_uri(), "prompt": "a cat", "upscale_factor": 1.5, "seed": 3}
    fal_client.SyncClient(key=fal_key).submit(APP, arguments, webhook_url="https://example.com/hook?x=1")
    (submit,) = fal_server.submits()
    assert submit.json == arguments
    assert submit.query == {"fal_webhook": "https://example.com/hook?x=1"}
    assert submit.headers["authorization"] == f"Key {fal_key}"


def test_upload_file_and_upload_image_are_served_back(fal_server, fal_key, tmp_path):
    path = tmp_path / "input.png"
    path.write_bytes(png_bytes(6, 4))

    async def scenario() -> tuple[str, str]:
        client = fal_client.AsyncClient(key=fal_key)
        return await client.upload_file(path), await client.upload_image(Image.new("RGB", (3, 3)), format="png")

    file_url, image_url = asyncio.run(scenario())
    assert httpx.get(file_url).content == path.read_bytes()
    assert download(image_url).size == (3, 3)
    assert fal_server.uploads() == [file_url, image_url]
    cdn = [r for r in fal_server.requests if r.path == "/files/upload"]
    assert len(cdn) == 2 and all(r.headers["authorization"].startswith("Bearer ") for r in cdn)
    assert all(fal_key not in r.headers["authorization"] for r in cdn)  # the CDN sees a token, not the key
    token = [r for r in fal_server.requests if r.path == "/storage/auth/token"]
    assert token and token[0].query == {"storage_type": "fal-cdn-v3"}


def test_an_uploaded_file_can_be_the_input(fal_server, fal_key):
    client = fal_client.SyncClient(key=fal_key)
    url = client.upload(png_bytes(8, 8), "image/png", file_name="in.png")
    result = client.subscribe(APP, {"image_url": url, "upscale_factor": 3}, interval=0.01)
    assert (result["image"]["width"], result["image"]["height"]) == (24, 24)


def test_a_failing_cdn_upload_falls_back_to_the_signed_url_path(fal_server, fal_key):
    fal_server.set_default(cdn_upload_status=500)
    url = fal_client.SyncClient(key=fal_key).upload(png_bytes(), "image/png", file_name="in.png")
    assert download(url).size == (10, 7)
    paths = [r.path for r in fal_server.requests]
    assert "/storage/upload/initiate" in paths and any(p.startswith("/storage/put/") for p in paths)


def test_the_status_stream_sends_events_until_completed(fal_server, fal_key):
    fal_server.script(queue_polls=1, run_polls=1, logs=["x"])
    handle = fal_client.SyncClient(key=fal_key).submit(APP, {"image_url": data_uri()})
    with httpx.stream("GET", handle.status_url + "/stream", params={"logs": "1"},
                      headers={"Authorization": f"Key {fal_key}"}) as response:
        events = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]
    assert [event["status"] for event in events] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    assert events[-1]["logs"][0]["message"] == "x"
