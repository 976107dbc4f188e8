"""Nothing is lost to a restart: runs persist, a killed app's fal runs resume to completed, local ones say so."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from core.inputs import images
from core.runs.history import History
from tests.conftest import api_client
from testsupport.apps import AppProcess


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "gradient.png"
    Image.linear_gradient("L").resize((64, 48)).convert("RGB").save(path)
    return str(path)


def wait_for(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def rows(data_dir: Path) -> list:
    with contextlib.closing(History(data_dir / "history.sqlite3", data_dir)) as history:
        return history.frame(None).to_dict("records")


def test_killed_during_a_batch_every_run_survives_and_fal_runs_resume(tmp_path, photo, fal_server, fal_key) -> None:
    data_dir = tmp_path / "data"
    env = {"FAL_KEY": fal_key}
    fal_server.set_default(queue_polls=2, run_time=4.0, logs=["working"])
    first = AppProcess(data_dir, env).wait_ready()
    try:
        client = api_client(first.url)
        for seed in (1, 2, 3, 4):
            client.submit(handle_file(photo), "", seed=seed, engine="fal", api_name="/upscale")
        wait_for(lambda: len(fal_server.submits()) == 4, what="4 submits")
        wait_for(lambda: sum(bool(r["request_id"]) for r in rows(data_dir)) == 4, what="4 request ids saved")
    finally:
        first.kill()
    before = rows(data_dir)
    assert len(before) == 4 and {r["status"] for r in before} <= {"queued", "running"}

    second = AppProcess(data_dir, env).wait_ready()
    try:
        wait_for(lambda: all(r["status"] == "completed" for r in rows(data_dir)), what="the runs to resume")
    finally:
        second.stop()
    after = rows(data_dir)
    assert sorted(r["requested_seed"] for r in after) == [1, 2, 3, 4]
    assert len(fal_server.submits()) == 4  # resumed by request id, never paid for twice
    for row in after:
        assert Path(row["output_path"]).is_file() and row["seed"] == row["requested_seed"]


def test_a_local_run_cut_off_by_a_kill_is_marked_interrupted(tmp_path) -> None:
    data_dir = tmp_path / "data"
    big = tmp_path / "big.png"
    Image.effect_noise((700, 700), 60).convert("RGB").save(big)
    first = AppProcess(data_dir).wait_ready()
    try:
        api_client(first.url).submit(handle_file(str(big)), "", upscale_factor=4, engine="local",
                                                api_name="/upscale")
        wait_for(lambda: any(r["status"] == "running" for r in rows(data_dir)), what="the local run to start")
    finally:
        first.kill()
    second = AppProcess(data_dir).wait_ready()
    try:
        wait_for(lambda: rows(data_dir)[0]["status"] == "interrupted", what="interrupted")
    finally:
        second.stop()
    assert "stopped" in rows(data_dir)[0]["error"] or "interrupted" in rows(data_dir)[0]["error"].lower()


def test_fetch_by_request_id_gets_a_result_submitted_elsewhere(client, photo, fal_server, fal_key, monkeypatch) -> None:
    import fal_client

    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(run_polls=2, logs=["from another tool"])
    image = images.to_png_data_uri(photo)
    handle = fal_client.SyncClient(key=fal_key).submit("fal-ai/clarity-upscaler", {"image_url": image, "seed": 5})
    png, result = client.predict(handle.request_id, api_name="/fetch")
    assert Image.open(png).size == (128, 96) and result["seed"] == 5 and result["request_id"] == handle.request_id


def test_an_id_not_in_the_history_with_no_key_says_so(client, monkeypatch) -> None:
    """With no fal key, an id that is not in the caller's history is named as that (a typo is the likely cause),
    with how a request made elsewhere could be followed; not a bare "No fal key"."""
    from gradio_client.exceptions import AppError

    monkeypatch.delenv("FAL_KEY", raising=False)
    with pytest.raises(AppError) as refused:
        client.predict("764cabcf-b745-4b3e-ae38-1200304cf45b", api_name="/fetch")
    said = str(refused.value)
    assert "not in your history" in said and "fal key" in said and not said.startswith("No fal key"), said
