"""Injected fal faults through the test fal server and the real app API: every run ends in the history with a
truthful status and reason, and nothing is lost (rows = submitted runs; completed ones have their files)."""

from __future__ import annotations

import contextlib
import re
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import handle_file

from tests.conftest import api_client
from tests.reliability import TIMEOUT, assert_history_sound, history_rows, noise_png, wait_for
from testsupport.apps import AppProcess  # at collection: importing tests.conftest later would reset GRADIO_TEMP_DIR


@pytest.fixture
def photo(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Content unique to the test: the fal engine uploads a content once per process, and the test server
    # forgets its files between tests.
    return noise_png(tmp_path / "photo.png", (40, 30), seed=zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def fal_env(monkeypatch: pytest.MonkeyPatch, fal_key: str, fal_server: Any) -> Any:
    monkeypatch.setenv("FAL_KEY", fal_key)
    return fal_server


def run(client: Any, photo: str, **params: Any) -> Any:
    return client.submit(handle_file(photo), "", engine="fal", api_name="/upscale", **params)


def completes(client: Any, photo: str, **params: Any) -> dict:
    png, result = run(client, photo, **params).result(timeout=TIMEOUT)
    assert result["status"] == "completed" and Path(png).is_file()
    row = assert_history_sound(1)[0]
    assert row["status"] == "completed" and row["request_id"] == result["request_id"]
    return row


def fails(client: Any, photo: str, match: str, **params: Any) -> dict:
    """The call fails saying ``match``; the one history row says the same, in a final status."""
    with pytest.raises(Exception, match=match):
        run(client, photo, **params).result(timeout=TIMEOUT)
    row = assert_history_sound(1)[0]
    assert row["status"] == "failed"
    assert re.search(match, row["error"]), row["error"]
    return row


def test_a_rejected_key_401(client, photo, fal_server, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", "stolen-id:not-a-real-secret")
    row = fails(client, photo, r"fal rejected this key\. Check it, or create one at https://fal.ai/dashboard/keys")
    assert "not-a-real-secret" not in str(row) and not fal_server.submits()  # refused at the upload


def test_a_locked_account_403(client, photo, fal_env) -> None:
    fal_env.script(submit_status=403)
    fails(client, photo, r"fal refused this key's account: User is locked\. Reason: Exhausted balance\. Top up")


def test_an_input_refused_422_names_its_field(client, photo, fal_env) -> None:
    fal_env.script(result_status=422)  # fal validates when the job runs: the result GET answers 422
    row = fails(client, photo, r"fal refused the input: Image URL: Failed to load the image")
    assert row["error_field"] == "image_url" and row["request_id"]


@pytest.mark.parametrize("where", ["submit", "status"])
def test_a_storm_of_429s_is_retried_then_completes(client, photo, fal_env, where: str) -> None:
    if where == "submit":
        fal_env.script(times=4, submit_status=429)
    else:
        fal_env.set_default(status_error=429, status_error_polls=(1, 2, 3, 4))
    completes(client, photo)
    assert len(fal_env.submits()) == (5 if where == "submit" else 1)  # one run, however many attempts


def test_a_500_fails_once_without_a_retry(client, photo, fal_env) -> None:
    fal_env.script(submit_status=500)
    fails(client, photo, r"fal failed on its side \(HTTP 500, internal error\).*Trying again usually helps")
    assert len(fal_env.submits()) == 1  # 500 is not retried: a retried submit could be paid twice


def test_a_runner_503_that_is_not_the_ingress_fails_truthfully(client, photo, fal_env) -> None:
    fal_env.script(submit_status=503)
    fails(client, photo, r"HTTP 503, runner scheduling failure")


@pytest.mark.parametrize("where", ["submit", "status"])
def test_503_from_the_ingress_is_retried(client, photo, fal_env, where: str) -> None:
    if where == "submit":
        fal_env.script(times=2, submit_status=503, ingress=True)
    else:
        fal_env.set_default(status_error=503, ingress=True, status_error_polls=(1, 2))
    completes(client, photo)


def test_the_connection_reset_during_polling(client, photo, fal_env) -> None:
    fal_env.set_default(reset_on_poll=(2, 3), run_polls=3)
    row = completes(client, photo)
    assert fal_env.state(row["request_id"]).polls > 3  # the cut polls were asked again


def test_a_result_get_failing_500_keeps_the_request_id(client, photo, fal_env) -> None:
    fal_env.script(result_status=500)
    row = fails(client, photo, r"HTTP 500")
    assert row["request_id"] and fal_env.state(row["request_id"]).status == "COMPLETED"


def test_a_stall_past_the_timeout(client, photo, fal_env, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_FAL_TIMEOUT", "2")
    fal_env.set_default(stall=True)
    row = fails(client, photo, r"fal did not finish request .* within 2 s\. It may still be running")
    assert row["request_id"] in row["error"]  # the id to resume or cancel it by
    assert fal_env.state(row["request_id"]).status == "IN_PROGRESS"  # "may still be running" is true


def test_completed_with_an_error(client, photo, fal_env) -> None:
    fal_env.set_default(completed_error="Runner disconnected", completed_error_type="runner_disconnected")
    fails(client, photo, r"fal reported an error: Runner disconnected \(runner_disconnected\)")


@pytest.mark.parametrize("stage", ["queued", "running"])
def test_cancel_reaches_the_remote_request(client, photo, fal_env, stage: str) -> None:
    if stage == "queued":
        fal_env.set_default(queue_wait=60, queue_step=1)
    else:
        fal_env.set_default(stall=True, logs=["working"])
    job = run(client, photo)
    wait_for(lambda: any(r["request_id"] and r["status"] == stage for r in history_rows()), TIMEOUT,
             f"the run to be {stage} on fal")
    request_id = history_rows()[0]["request_id"]
    assert fal_env.state(request_id).status == ("IN_QUEUE" if stage == "queued" else "IN_PROGRESS")
    # gradio_client's cancel POST gives up after 5 s; on a loaded machine the app may still be cancelling at fal
    with contextlib.suppress(httpx.TimeoutException):
        job.cancel()
    wait_for(lambda: history_rows()[0]["status"] == "cancelled", TIMEOUT, "the run to be recorded as cancelled")
    wait_for(lambda: fal_env.state(request_id).cancel_received, TIMEOUT, "the cancel to reach fal")
    row = assert_history_sound(1)[0]
    assert row["error"] == "Cancelled by the user." and len(fal_env.submits()) == 1
    assert fal_env.state(request_id).status == "COMPLETED"  # fal stopped it: nothing left running to pay for


def test_an_upload_that_falls_back_to_storage(client, photo, fal_env) -> None:
    fal_env.set_default(cdn_upload_status=500)
    completes(client, photo)
    assert len(fal_env.uploads()) == 1  # through the signed-URL fallback


def test_an_upload_failure_submits_nothing(client, photo, fal_server, monkeypatch) -> None:
    key = "upload-test-id:0123456789abcdef"  # its own key: a fresh client, with no upload token cached
    monkeypatch.setattr(fal_server, "keys", fal_server.keys | {key})
    monkeypatch.setenv("FAL_KEY", key)
    fal_server.set_default(storage_status=500)  # fal's storage answering 500: token and signed URL alike
    row = fails(client, photo, r"fal failed on its side \(HTTP 500")
    assert row["request_id"] is None and not fal_server.submits()  # nothing reached the queue, nothing paid
    assert "/storage/auth/token" in [r.path for r in fal_server.requests]


@pytest.mark.timeout(240)
def test_the_app_restarted_mid_sweep_loses_nothing(tmp_path, photo, fal_env, fal_key) -> None:
    data_dir = tmp_path / "restart-data"
    fal_env.set_default(queue_polls=2, run_time=4.0, logs=["working"])
    first = AppProcess(data_dir, {"FAL_KEY": fal_key}).wait_ready()
    try:
        api_client(first.url).submit(handle_file(photo), "", engine="fal", x_axis="creativity",
                                                x_values="0.2, 0.4, 0.6, 0.8", y_axis="", y_values="",
                                                api_name="/sweep")
        wait_for(lambda: sum(bool(r["request_id"]) for r in history_rows(data_dir)) == 4, TIMEOUT,
                 "the 4 cells to reach fal")
    finally:
        first.kill()
    before = history_rows(data_dir)
    assert len({r["sweep_id"] for r in before}) == 1 and {r["status"] for r in before} <= {"queued", "running"}

    second = AppProcess(data_dir, {"FAL_KEY": fal_key}).wait_ready()
    try:
        # ~11 s alone; a user trial's run, with a browser and another app sharing the 2 cores, took over 60
        wait_for(lambda: all(r["status"] == "completed" for r in history_rows(data_dir)), 2 * TIMEOUT,
                 "the cells to resume")
    finally:
        second.stop()
    rows = assert_history_sound(4, data_dir=data_dir)
    assert sorted(r["creativity"] for r in rows) == [0.2, 0.4, 0.6, 0.8]
    assert {r["sweep_id"] for r in rows} == {before[0]["sweep_id"]} and len(fal_env.submits()) == 4  # none paid twice
