"""fal's output shape from every engine, and a record full enough to reproduce a run (issue 26 §5): the result
JSON, the history rows and exports, the PNG info, omitted values, and an old history database opened by this code."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from PIL import Image
from skimage import data as samples

from core.runs import store


@pytest.fixture
def photo(tmp_path: Path) -> str:
    """A real photo (scikit-image's coffee), 100×80 so the CPU engine is quick; no other test's picture (the fal
    engine reuses an upload by its content, and the test fal server forgets uploads between tests)."""
    path = tmp_path / "coffee.png"
    Image.fromarray(samples.coffee()[100:260:2, 150:350:2]).save(path)
    return str(path)


@pytest.mark.parametrize("engine", ["local", "lanczos", "fal"])
def test_every_engine_answers_in_fals_output_shape(client, studio, photo, engine, fal_server, fal_key,
                                                   monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    png, result = client.predict(image=handle_file(photo), engine=engine, api_name="/upscale")
    image = result["image"]
    assert set(image) >= {"url", "content_type", "file_name", "file_size", "width", "height"}
    assert set(result) >= {"image", "seed", "timings"}
    # image.url is where this app serves the output, like fal's CDN link: it downloads the very PNG returned
    assert image["url"].startswith(studio.rstrip("/") + "/gradio_api/file=")
    served = httpx.get(image["url"], timeout=30)
    assert served.status_code == 200 and served.content == Path(png).read_bytes()
    assert image["file_size"] == len(served.content)
    with Image.open(png) as output:
        assert (image["width"], image["height"]) == output.size
    assert image["content_type"] == "image/png" and image["file_name"] == Path(png).name
    assert isinstance(result["timings"], dict) and result["timings"]
    # unguessable: a folder named by a keyed hash of the content, not by anything the caller knows
    assert re.search(r"/[0-9a-f]{64}/", image["url"])
    assert result["run_id"] not in image["url"] and result["request_id"] not in image["url"]
    if engine == "fal":
        assert isinstance(result["seed"], int) and result["result_url"].startswith(fal_server.url)
    else:
        assert result["seed"] is None and result["result_url"] is None  # the engine uses no seed
    assert result["engine"] == engine and result["model"] == store.store().get(result["run_id"]).model
    from core import pnginfo

    stamped = pnginfo.read_png_metadata(png)  # an uploaded picture: the PNG leads to no copy of it (fal's storage)
    assert stamped is not None and stamped["image_url"] is None and stamped["engine"] == engine


def test_fetch_by_run_id_answers_in_the_same_shape(client, studio, photo) -> None:
    _, made = client.predict(image=handle_file(photo), engine="local", api_name="/upscale")
    png, fetched = client.predict(made["run_id"], api_name="/fetch")
    assert fetched["image"]["url"].startswith(studio.rstrip("/") + "/gradio_api/file=")
    assert httpx.get(fetched["image"]["url"], timeout=30).content == Path(png).read_bytes()
    assert fetched["image"]["file_size"] == Path(png).stat().st_size


def _history(client) -> list[dict]:
    page, _ = client.predict(api_name="/history")
    return [dict(zip(page["headers"], row, strict=True)) for row in page["data"]]


ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def test_history_rows_and_png_info_keep_what_reproduces_a_run(client, photo, fal_server, fal_key,
                                                               monkeypatch) -> None:
    import fal_client

    from core import pnginfo
    from core.sharing import fetch

    monkeypatch.setenv("FAL_KEY", fal_key)
    url = fal_client.SyncClient(key=fal_key).upload(Path(photo).read_bytes(), "image/png", file_name="photo.png")
    monkeypatch.setattr(fetch, "fetch_image_bytes", lambda address: fal_server.read_served(address))
    png, by_url = client.predict(None, url, engine="local", api_name="/upscale")
    sweep_cells, _, _ = client.predict(handle_file(photo), None, engine="lanczos", x_axis="upscale_factor",
                                    x_values="1, 2", y_axis="", y_values="", api_name="/sweep")
    fal_server.script(submit_status=422, submit_body={"detail": [
        {"loc": ["body", "guidance_scale"], "msg": "too strong for this image", "type": "value_error"}]})
    with pytest.raises(Exception, match="too strong"):
        client.predict(handle_file(photo), None, engine="fal", api_name="/upscale")

    rows = _history(client)
    failed, *cells, local = rows
    # engine and model apart; the picture's URL; times that say their zone
    assert (local["engine"], local["model"], local["image_url"]) == ("local", "fast", url)
    assert all(ISO_WITH_ZONE.match(row["time"]) for row in rows), [row["time"] for row in rows]
    # a sweep's cells carry its id, the failed run its own words
    assert len(cells) == 2 and cells[0]["sweep_id"] and cells[0]["sweep_id"] == cells[1]["sweep_id"]
    assert {cell["engine"] for cell in cells} == {"lanczos"} and {cell["model"] for cell in cells} == {None}
    assert failed["status"] == "failed" and "too strong for this image" in failed["error"]
    assert local["sweep_id"] is None and local["error"] is None

    stamped = pnginfo.read_png_metadata(png)
    assert stamped is not None
    assert (stamped["image_url"], stamped["engine"], stamped["model"]) == (url, "local", "fast")
    assert stamped["seed"] is None and ISO_WITH_ZONE.match(stamped["created_at"])
    cell_run = store.store().get(cells[0]["id"])
    cell_png = pnginfo.read_png_metadata(cell_run.output_path)
    assert cell_png["sweep_id"] == cells[0]["sweep_id"] and cell_png["cell"] == cell_run.cell
    assert by_url["run_id"] == local["id"] and by_url["sweep_id"] is None
    assert ISO_WITH_ZONE.match(by_url["created_at"])
    _, cell_result = client.predict(cells[0]["id"], api_name="/fetch")  # a cell fetched by id says its sweep
    assert (cell_result["sweep_id"], cell_result["cell"]) == (cells[0]["sweep_id"], cells[0]["cell"])
    from types import SimpleNamespace

    from components.common.session import Session
    from components.history import history_panel

    code = history_panel.select(Session(), SimpleNamespace(row_value=[local["id"]]))[3]  # type: ignore[arg-type]
    assert f'"image_url": "{url}"' in code and "upload_file" not in code  # reproduced from its URL
    import csv

    with open(sweep_cells, encoding="utf-8-sig", newline="") as handle:
        exported = list(csv.DictReader(handle))  # the sweep's own CSV says the same
    assert {row["sweep_id"] for row in exported} == {cells[0]["sweep_id"]}
    assert all(ISO_WITH_ZONE.match(row["created_at"]) for row in exported)


def test_csv_export_and_run_times_say_their_zone(monkeypatch, tmp_path: Path) -> None:
    import csv
    import time

    from core.runs.history import History, export_csv
    from core.runs.runs import Run, iso_time

    monkeypatch.setenv("TZ", "IST-05:30")  # a zone half an hour off the hour, east of UTC
    time.tzset()
    try:
        assert iso_time(0) == "1970-01-01T05:30:00+05:30"
        history = History(tmp_path / "h.sqlite3")
        run = Run(engine="lanczos", arguments={"upscale_factor": 2.0}, created_at=0.0, started_at=1.0,
                  finished_at=2.0, status="completed")
        history.save(run)
        written = export_csv(history.frame(None), tmp_path / "runs.csv", tmp_path)
        with open(written, encoding="utf-8-sig", newline="") as handle:
            (row,) = list(csv.DictReader(handle))
        assert (row["created_at"], row["finished_at"]) == ("1970-01-01T05:30:00+05:30", "1970-01-01T05:30:02+05:30")
        assert history.table(None).iloc[0]["time"] == "1970-01-01T05:30:00+05:30"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_value_left_out_is_the_schemas_default_at_every_door(photo) -> None:
    import asyncio

    from core import pnginfo, schema, snippets
    from core.sharing.visitor import Visitor
    from core.usecases import RunRequest, run_one

    defaults = schema.defaults()

    async def run() -> object:
        last = None
        left_out = {"prompt": None, "negative_prompt": None, "creativity": None, "enable_safety_checker": None}
        async for update in run_one(RunRequest(left_out, photo, "lanczos"), Visitor()):
            last = update.run
        return last

    made = asyncio.run(run())
    kept = store.store().get(made.id)
    for name in ("prompt", "negative_prompt", "creativity", "enable_safety_checker"):
        assert kept.arguments[name] == defaults[name], name  # not an empty prompt, not a refusal
        assert kept.parameters()[name] == defaults[name], name
    stamped = pnginfo.read_png_info(kept.output_path)
    assert stamped["prompt"] == defaults["prompt"] and stamped["negative_prompt"] == defaults["negative_prompt"]
    # what the history shows and the code that reproduces it
    row = store.store().table(None).iloc[0]
    assert row["prompt"] == defaults["prompt"]
    code = snippets.subscribe_code({"image_url": "https://example.com/a.png", "prompt": None, "seed": None})
    assert "None" not in code and '"prompt"' not in code  # left out, so fal applies its own default
    # a PNG whose record has a null prompt (written elsewhere) reads as the default too
    from PIL import Image as PILImage
    from PIL import PngImagePlugin

    chunks = PngImagePlugin.PngInfo()
    chunks.add_text(pnginfo.CHUNK, '{"arguments": {"prompt": null, "creativity": 0.5}}')
    other = Path(kept.output_path).with_name("other.png")
    PILImage.new("RGB", (4, 4)).save(other, pnginfo=chunks)
    assert pnginfo.read_png_info(other)["prompt"] == defaults["prompt"]


# The runs table as the first version of the history wrote it (commit d4f04a8, the history module then at the
# top of core): no input name, source URL, queued or running seconds, no bin; local runs recorded a random seed.
OLD_SCHEMA = """CREATE TABLE runs (id TEXT PRIMARY KEY, created_at REAL, owner TEXT, engine TEXT, model TEXT,
    status TEXT, prompt TEXT, upscale_factor REAL, negative_prompt TEXT, creativity REAL,
    resemblance REAL, guidance_scale REAL,
    num_inference_steps INTEGER, requested_seed INTEGER, enable_safety_checker INTEGER, image_url TEXT,
    request_id TEXT, seed INTEGER, error TEXT, error_field TEXT, started_at REAL, finished_at REAL, timings TEXT,
    input_path TEXT, output_path TEXT, result_url TEXT, width INTEGER, height INTEGER, content_type TEXT,
    sweep_id TEXT, cell TEXT)"""
OLD_COLUMNS = ("id", "created_at", "owner", "engine", "model", "status", "prompt", "upscale_factor", "negative_prompt",
               "creativity", "resemblance", "guidance_scale", "num_inference_steps", "requested_seed",
               "enable_safety_checker", "image_url", "request_id", "seed", "error", "error_field", "started_at",
               "finished_at", "timings", "input_path", "output_path", "result_url", "width", "height", "content_type",
               "sweep_id", "cell")


def _old_database(path: Path, outputs: Path) -> dict[str, dict]:
    """An old history file with one run of each kind; returns the rows by id."""
    import json
    import sqlite3

    outputs.mkdir(parents=True, exist_ok=True)
    base = {"owner": "", "prompt": "a fox", "upscale_factor": 2.0, "negative_prompt": "blur", "creativity": 0.35,
            "resemblance": 0.6, "guidance_scale": 4.0, "num_inference_steps": 18, "enable_safety_checker": 1,
            "timings": json.dumps({"inference": 1.5}), "content_type": "image/png", "width": 8, "height": 6}
    rows = {
        "oldlocal": {"engine": "local", "model": "fast", "status": "completed", "requested_seed": 42, "seed": 987654,
                     "request_id": "local-1", "started_at": 1_700_000_002.0, "finished_at": 1_700_000_005.0},
        "oldfal": {"engine": "fal", "status": "completed", "seed": 1234, "request_id": "req-fal",
                   "image_url": "https://v3.fal.media/files/in.png", "result_url": "https://v3.fal.media/out.png",
                   "started_at": 1_700_000_103.0, "finished_at": 1_700_000_110.0},
        "oldfailed": {"engine": "fal", "status": "failed", "request_id": "req-bad", "error": "fal said: too strong",
                      "error_field": "guidance_scale", "finished_at": 1_700_000_201.0},
        "oldcell": {"engine": "local", "model": "quality", "status": "completed", "seed": 5, "sweep_id": "sweep1",
                    "cell": "x=2", "request_id": "local-2", "started_at": 1_700_000_301.0,
                    "finished_at": 1_700_000_302.0},
        "olddata": {"engine": "local", "model": "fast", "status": "interrupted", "image_url": "data:image/png;base64,…",
                    "error": "The app stopped before this run finished."},
    }
    for number, (run_id, row) in enumerate(rows.items()):
        row.update({**base, **row, "id": run_id, "created_at": 1_700_000_000.0 + 100 * number})
        if row["status"] == "completed":
            row["output_path"] = str(outputs / f"{run_id}.png")
            Image.new("RGB", (8, 6), (10 * number, 80, 120)).save(row["output_path"])
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_SCHEMA)
        conn.execute("PRAGMA user_version = 1")
        for row in rows.values():
            conn.execute(f"INSERT INTO runs ({', '.join(OLD_COLUMNS)}) VALUES ({', '.join('?' * len(OLD_COLUMNS))})",
                         [row.get(column) for column in OLD_COLUMNS])
    conn.close()
    return rows


def test_an_old_history_database_migrates_on_first_start(client, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    import pandas as pd

    from core import config
    from core.runs.history import FILE_NAME, History

    original = tmp_path / "old" / FILE_NAME
    original.parent.mkdir()
    rows = _old_database(original, config.data_dir() / "outputs")
    before = original.read_bytes()
    shutil.copy(original, config.data_dir() / FILE_NAME)  # the app opens a copy, as an upgraded app would

    history = {row["id"]: row for row in _history(client)}  # the first start opens and migrates it
    assert set(history) == set(rows)  # every run readable
    assert original.read_bytes() == before
    local, fal, failed, cell, data = (history[i] for i in ("oldlocal", "oldfal", "oldfailed", "oldcell", "olddata"))
    assert (local["engine"], local["model"], local["seed"]) == ("local", "fast", None)  # no random seed any more
    assert (fal["seed"], fal["image_url"], fal["prompt"]) == (1234, "https://v3.fal.media/files/in.png", "a fox")
    assert failed["error"] == "fal said: too strong" and failed["status"] == "failed"
    assert (cell["sweep_id"], cell["cell"], cell["model"]) == ("sweep1", "x=2", "quality")
    assert data["image_url"] is None and data["status"] == "interrupted"
    assert all(ISO_WITH_ZONE.match(row["time"]) for row in history.values())
    assert local["duration (s)"] == 3.0

    kept = store.store()
    frame = kept.frame(None).set_index("id")
    assert pd.isna(frame.loc["oldlocal", "seed"]) and frame.loc["oldlocal", "requested_seed"] == 42  # CSV too
    assert frame.loc["oldfal", "queued_seconds"] == 3.0 and frame.loc["oldfal", "running_seconds"] == 7.0
    run = kept.get("oldlocal")
    assert run.seed is None and run.arguments["seed"] == 42 and run.engine_seconds == 3.0
    assert [r.id for r in kept.pending()] == []  # nothing old is taken for a run still going
    png, fetched = client.predict("oldfal", api_name="/fetch")  # an old run is reachable and in today's shape
    assert fetched["seed"] == 1234 and fetched["image"]["file_size"] == Path(png).stat().st_size
    assert fetched["result_url"] == "https://v3.fal.media/out.png"

    # a second start changes nothing; new runs go in beside the old ones
    with sqlite3.connect(config.data_dir() / FILE_NAME) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    again = History(config.data_dir() / FILE_NAME)
    assert again.get("oldlocal") == run and again.frame(None).set_index("id").equals(frame)
    again.close()


@pytest.mark.parametrize("where", ["submit", "events", "result"])
def test_a_run_that_fails_unexpectedly_ends_failed_with_its_words(tmp_path: Path, where: str) -> None:
    """An engine's bug at any step: the run does not stay 'queued' or 'running' with no words; the record says it
    failed and why, without quoting the exception's message (it could hold anything, a key included)."""
    import asyncio

    from core.engines.base import Completed
    from core.runs.history import History
    from core.runs.runner import execute
    from core.runs.runs import Run

    class Job:
        request_id, arguments = "bug-1", {"upscale_factor": 2.0}

        async def events(self):  # type: ignore[no-untyped-def]
            if where == "events":
                raise KeyError("secret-key-material")
            yield Completed(logs=[], metrics={})

        async def result(self) -> dict:
            raise ValueError("secret-key-material")

        async def cancel(self) -> None:
            return None

    class Engine:
        name = "lanczos"

        async def submit(self, arguments: dict, image_path: str | None = None) -> Job:
            if where == "submit":
                raise RuntimeError("secret-key-material")
            return Job()

    history = History(tmp_path / "history.sqlite3", tmp_path)
    run = Run(engine="lanczos", arguments={"upscale_factor": 2.0})

    async def go() -> list:
        return [update async for update in execute(Engine(), run, None, history.save)]  # type: ignore[arg-type]

    updates = asyncio.run(go())
    kept = history.get(run.id)
    assert kept.status == "failed" and updates[-1].stage == "failed"
    assert "failed unexpectedly" in kept.error and "secret-key-material" not in kept.error
    row = history.table(None).iloc[0]
    assert row["status"] == "failed" and "failed unexpectedly" in row["error"]


def test_over_raw_rest_image_url_is_the_file_outputs_own_address(studio, photo) -> None:
    import base64
    import json

    picture = "data:image/png;base64," + base64.b64encode(Path(photo).read_bytes()).decode()
    with httpx.Client(base_url=studio, timeout=60) as http:
        posted = http.post("gradio_api/call/upscale", json={"data": [None, picture, None, 1.5]})
        stream = http.get(f"gradio_api/call/upscale/{posted.json()['event_id']}").text
    kind, data = re.findall(r"^event: (\w+)\ndata: (.*)$", stream, re.M)[-1]
    assert kind == "complete", stream
    file, result = json.loads(data)
    assert result["image"]["url"] == file["url"]  # the address Gradio gives the File output, nothing guessed
    assert result["image"]["file_size"] == file["size"] == len(httpx.get(file["url"], timeout=30).content)
