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
    """A real photo (scikit-image's astronaut), 96×80 so the CPU engine is quick."""
    path = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[60:220:2, 150:342:2]).save(path)
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


def test_fetch_by_run_id_answers_in_the_same_shape(client, studio, photo) -> None:
    _, made = client.predict(image=handle_file(photo), engine="local", api_name="/upscale")
    png, fetched = client.predict(made["run_id"], api_name="/fetch")
    assert fetched["image"]["url"].startswith(studio.rstrip("/") + "/gradio_api/file=")
    assert httpx.get(fetched["image"]["url"], timeout=30).content == Path(png).read_bytes()
    assert fetched["image"]["file_size"] == Path(png).stat().st_size


def _history(client) -> list[dict]:
    page = client.predict(api_name="/history")
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
    _, sweep_cells = client.predict(handle_file(photo), None, engine="lanczos", x_axis="upscale_factor",
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
    assert by_url["run_id"] == local["id"]


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
