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
