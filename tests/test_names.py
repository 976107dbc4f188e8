"""Runs you can tell apart: the picture's own name travels with its run — into the History, back into the form
on Restore, into snippets — and outputs download as ``<input stem>_x<factor>_<seed>.png``."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from components.common.session import Session
from components.history import history_panel
from core import schema
from core.runs.names import input_name, output_name, safe_file_name


@pytest.mark.parametrize(("name", "safe"), [
    ("coffee400.jpg", "coffee400.jpg"), ("../../etc/passwd", "etc_passwd"), ("a\\b:c*?.png", "a_b_c.png"),
    ("con.txt", "con_.txt"), (".bashrc", "bashrc"), ("café 東京.webp", "café 東京.webp"), ("", "image"),
    ("x" * 200 + ".jpeg", "x" * 75 + ".jpeg"), ("tab\there.png", "tabhere.png"),
])
def test_a_name_is_made_safe_for_any_file_system(name: str, safe: str) -> None:
    assert safe_file_name(name) == safe


LONG_NAMES = {"80 CJK characters": "東京の夜景" * 16 + ".jpg", "72 ASCII characters": "a" * 72 + ".png",
              "200 accented letters": "é" * 200 + ".webp", "a long name with a dot inside": "v1.2." + "x" * 90 + ".png",
              "a name ending in dots and spaces": "holiday" + " ." * 50 + ".png"}


@pytest.mark.parametrize("name", LONG_NAMES)
@pytest.mark.parametrize(("factor", "seed"), [(2.0, 1916117763), (1.5, 0), (4.0, None), (None, 4294967295)])
def test_a_long_name_keeps_its_factor_and_seed_whole(name: str, factor: float | None, seed: int | None) -> None:
    made = output_name(input_name(f"/tmp/{LONG_NAMES[name]}", None), factor, seed)
    tail = (f"_x{factor:g}" if factor is not None else "") + (f"_{seed}" if seed is not None else "") + ".png"
    assert made.endswith(tail), made  # a cut seed would name another, valid seed
    stem = made[: -len(tail)]
    assert stem and stem[-1] not in " ." and len(made) <= 80 and len(made.encode("utf-8")) <= 200
    assert LONG_NAMES[name].startswith(stem[:4])


@pytest.mark.parametrize("name", ["CON.png", "con", "nul.tar.gz", "Aux.JPG", "com1 .png", "LPT9.", "COM¹.png",
                                  "conin$.png", "prn....png", " . .png"])
def test_names_stay_valid_on_windows(name: str) -> None:
    for made in (safe_file_name(name), output_name(name, None, None), output_name(name, 2, 7)):
        first = made.split(".", 1)[0].rstrip(" ").lower()
        assert first not in {"con", "prn", "aux", "nul", "conin$", "conout$", "com1", "lpt9", "com¹"}
        assert made == made.strip(" .") or made.endswith(".png")
        assert not set('<>:"/\\|?*') & set(made) and made[-1] not in " ."


def test_the_name_of_an_upload_or_a_url() -> None:
    assert input_name("/tmp/gradio/9f91/coffee400.jpg", "") == "coffee400.jpg"
    assert input_name(None, "https://example.com/photos/red%20fox.png?size=big") == "red fox.png"
    assert input_name(None, "data:image/png;base64,AAAA") is None and input_name(None, None) is None
    assert output_name("coffee400.jpg", 2.0, 42) == "coffee400_x2_42.png"
    assert output_name(None, 1.5, None) == "image_x1.5.png"


def test_an_upload_keeps_its_name_through_the_run_the_history_and_restore(client, tmp_path: Path) -> None:
    photo = tmp_path / "coffee400.jpg"
    Image.radial_gradient("L").resize((40, 30)).convert("RGB").save(photo, format="JPEG")
    png, result = client.predict(handle_file(str(photo)), None, upscale_factor=2, engine="local",
                                 api_name="/upscale")
    expected = "coffee400_x2_local.png"  # the local engine uses no seed: the name carries the engine instead
    assert Path(png).name == expected and result["image"]["file_name"] == expected
    table, _ = client.predict(api_name="/history")
    assert table["data"][0][table["headers"].index("input")] == "coffee400.jpg"
    assert client.predict("coffee400", api_name="/history")[0]["data"]  # found by its name
    restored = history_panel.restore(result["run_id"], Session())
    assert Path(restored[len(schema.PARAMETER_FIELDS)]).name == "coffee400.png"  # its name, as the PNG it was stored as


def test_the_history_shows_the_newest_runs_as_pictures_that_select_their_run(client, tmp_path: Path) -> None:
    from types import SimpleNamespace

    photo = tmp_path / "fox.png"
    Image.radial_gradient("L").resize((40, 30)).convert("RGB").save(photo)
    made = [client.predict(handle_file(str(photo)), None, upscale_factor=factor, engine="local",
                           api_name="/upscale")[1]["run_id"] for factor in (1, 2)]
    table, _, pictures, ids, *_ = history_panel.history_view("", "any", "any", Session())
    assert ids == made[::-1]  # newest first, like the table
    captions = [caption for _, caption in pictures]  # runs of one picture told apart by factor (no seed locally)
    assert captions == ["fox.png ×2 · local", "fox.png ×1 · local"]
    assert all(caption.endswith(" · local") for caption in captions)
    with Image.open(pictures[0][0]) as small:
        assert max(small.size) <= 160
    chosen = history_panel.select_picture(ids, Session(), SimpleNamespace(index=1))
    assert chosen[0] == made[0]


def test_two_engines_outputs_of_one_picture_download_under_two_names(client, tmp_path: Path) -> None:
    """A user trial: the local and lanczos outputs of one picture both downloaded as ``chelsea_x2.png``, the second
    overwriting the first in the downloads folder."""
    photo = tmp_path / "chelsea.png"
    Image.radial_gradient("L").resize((40, 30)).convert("RGB").save(photo)
    names = {client.predict(handle_file(str(photo)), None, upscale_factor=2, engine=engine,
                            api_name="/upscale")[1]["image"]["file_name"] for engine in ("local", "lanczos")}
    assert names == {"chelsea_x2_local.png", "chelsea_x2_lanczos.png"}
