"""The Lanczos baseline (core/engines/lanczos.py): the plain resize a visitor compares clarity against — in the
Upscale tab and the public API (the same ``/upscale`` event), on a sweep's engine axis, free, never the default,
and saying the knobs and the seed it ignores."""

from __future__ import annotations

import zlib
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from gradio_client import handle_file
from PIL import Image

from components.common.session import Session, default_engine
from components.upscale import parameters
from core import pnginfo, schema
from core.engines import ENGINES, describe, keyless_engine, parse_spec
from core.errors import InputError
from core.sweep.ignored import refuse_ignored
from tests.reliability import noise_png


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return noise_png(tmp_path / "baseline.png", (40, 30), seed=zlib.crc32(request.node.name.encode()))


def test_the_upscale_event_resizes_with_lanczos_free_and_stamped(client, photo) -> None:
    png, result = client.predict(handle_file(photo), "", engine="lanczos", upscale_factor=2, seed=11,
                                 creativity=0.9, api_name="/upscale")
    assert result["status"] == "completed" and result["engine"] == "lanczos"
    assert (result["image"]["width"], result["image"]["height"]) == (80, 60)
    with Image.open(photo) as source, Image.open(png) as output:
        expected = np.asarray(source.convert("RGB").resize((80, 60), Image.Resampling.LANCZOS))
        assert np.array_equal(np.asarray(output.convert("RGB")), expected)  # exactly Pillow's LANCZOS resize
    stamped = pnginfo.read_png_metadata(png)
    assert stamped is not None and stamped["engine"] == "lanczos"
    assert stamped["arguments"]["upscale_factor"] == 2 and stamped["arguments"]["creativity"] == 0.9  # recorded
    assert result["seed"] is None and result["request_id"].startswith("lanczos-")  # a resize uses no seed


def test_a_url_input_and_a_bad_factor_are_handled_like_any_engines(client, photo) -> None:
    data_uri = "data:image/png;base64," + __import__("base64").b64encode(Path(photo).read_bytes()).decode()
    _, result = client.predict(None, data_uri, engine="lanczos", upscale_factor=3, api_name="/upscale")
    assert (result["image"]["width"], result["image"]["height"]) == (120, 90)
    with pytest.raises(Exception, match="upscale_factor|Upscale factor"):
        client.predict(handle_file(photo), "", engine="lanczos", upscale_factor=99, api_name="/upscale")


def test_it_is_offered_never_the_default_and_says_what_it_ignores(studio) -> None:
    config = httpx.get(studio + "config", timeout=10).json()
    radio = next(c for c in config["components"] if c["props"].get("elem_id") == "engine")
    assert [choice[1] for choice in radio["props"]["choices"]] == list(ENGINES) and "lanczos" in ENGINES
    assert radio["props"]["value"] == "local"  # no key here: the default stays Real-ESRGAN
    assert default_engine(Session()) == keyless_engine() == "local"
    info = describe("lanczos")
    assert not info.priced and not info.needs_key and not info.models
    assert info.ignored == tuple(f.name for f in schema.PARAMETER_FIELDS if f.name != "upscale_factor")
    assert "seed" in info.ignored and parameters.engine_note("lanczos").startswith("The lanczos engine ignores")
    for engine in ENGINES:  # the note under the knobs is the chosen engine's alone
        others = [f"The {other} engine" for other in ENGINES if other != engine]
        assert not any(other in parameters.engine_note(engine) for other in others)
    assert parameters.engine_note("fal") == ""  # fal uses every knob
    assert "ignored-by-engine" in parameters.marks("lanczos", schema.FIELD_BY_NAME["seed"])
    assert parameters.marks("lanczos", schema.FIELD_BY_NAME["upscale_factor"]) == []


def test_a_sweep_refuses_an_axis_it_ignores_seed_included() -> None:
    for axis in ("seed", "creativity", "prompt_sr"):
        with pytest.raises(InputError, match=f"The lanczos engine ignores {axis}"):
            refuse_ignored("lanczos", axis)
    refuse_ignored("lanczos", "upscale_factor")
    assert parse_spec("lanczos") == ("lanczos", None)
    with pytest.raises(InputError, match="lanczos"):
        parse_spec("lanczos:sharp")


def test_a_sweep_on_lanczos_and_an_engine_axis_with_it(client, photo, fal_server, fal_key, monkeypatch) -> None:
    csv, sheet, _ = client.predict(handle_file(photo), None, engine="lanczos", x_axis="upscale_factor",
                                x_values="1, 2", y_axis="", y_values="", api_name="/sweep")
    cells = pd.read_csv(csv, encoding="utf-8-sig")
    assert list(cells["status"]) == ["completed"] * 2 and set(cells["engine"]) == {"lanczos"}
    assert Path(sheet).is_file()

    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    csv, _, _ = client.predict(handle_file(photo), None, engine="fal", x_axis="engine",
                            x_values="fal, local:fast, lanczos", y_axis="creativity", y_values="0.2, 0.5",
                            api_name="/sweep")
    cells = pd.read_csv(csv, encoding="utf-8-sig")
    assert list(cells["status"]) == ["completed"] * 6
    assert list(cells["engine"][:3]) == ["fal", "local", "lanczos"]
    assert len(fal_server.submits()) == 2  # only the fal cells reached fal
