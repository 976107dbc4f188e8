"""What a local run leaves for the person who clicked, now that less is done around the engine: the output PNG
under its download name with its parameters, pixel for pixel the file the history keeps; the history row with its
files and timings; the slider's "before" being the stored input itself, not a resized copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image
from skimage import data as samples

from components.upscale import result as result_panel
from core import config, pnginfo
from core.runs import store


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "helmet.png"
    Image.fromarray(samples.astronaut()[40:120, 200:296]).save(path)
    return str(path)


def test_the_output_png_keeps_its_name_parameters_and_pixels(client, photo: str) -> None:
    png, result = client.predict(handle_file(photo), "", upscale_factor=2, seed=77, engine="local",
                                 api_name="/upscale")
    assert Path(png).name == "helmet_x2_local.png" == result["image"]["file_name"]  # the local engine uses no seed
    info = pnginfo.read_png_metadata(png)
    assert info is not None
    # Real-ESRGAN uses no seed: the 77 asked for made nothing, and the PNG carries none
    assert info["arguments"]["seed"] is None and info["arguments"]["upscale_factor"] == 2
    assert info["engine"] == "local" and info["model"] == "fast" and info["request_id"] == result["request_id"]
    with Image.open(png) as image:
        assert "Seed: not used" in image.info[pnginfo.TEXT_CHUNK] and image.size == (192, 160)
        downloaded = np.asarray(image)
    run = store.store().get(result["run_id"])
    assert run is not None and run.status == "completed"
    with Image.open(run.output_path) as kept:
        assert np.array_equal(np.asarray(kept), downloaded)  # lossless, and the same file the history keeps
    assert run.input_path and Path(run.input_path).is_file()
    assert run.timings["inference"] > 0 and run.width == 192 and run.height == 160


def test_the_sliders_before_picture_is_the_stored_input_not_a_copy(client, photo: str) -> None:
    _, result = client.predict(handle_file(photo), "", upscale_factor=2, seed=5, engine="local",
                               api_name="/upscale")
    run = store.store().get(result["run_id"])
    assert run is not None
    assert result_panel.before_image(run) == run.input_path
    outputs = sorted(p.name for p in (config.data_dir() / "outputs").iterdir())
    assert outputs == [Path(run.output_path).name]  # no resized "before" written beside the output


def test_restamping_a_png_that_already_carries_its_parameters_leaves_it_untouched(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    info = {"arguments": {"upscale_factor": 2.0, "prompt": "Ünïcode ✓"}, "seed": 3, "engine": "local",
            "request_id": "local-1", "model": "fast"}
    pnginfo.write_png(Image.new("RGB", (8, 8), (1, 2, 3)), path, info)
    before = path.stat().st_mtime_ns, path.read_bytes()
    assert pnginfo.carries(path, info)
    pnginfo.stamp_png(path, info)
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before
    pnginfo.stamp_png(path, {**info, "seed": 4})  # different parameters: stamped again
    assert not pnginfo.carries(path, info) and pnginfo.read_png_info(path)["seed"] == 4
    with Image.open(path) as image:
        assert image.getpixel((0, 0)) == (1, 2, 3)


def test_the_run_length_png_is_lossless_and_carries_its_parameters(tmp_path: Path) -> None:
    import zlib

    noisy = np.random.default_rng(1).integers(0, 256, (64, 48, 3), dtype=np.uint8)
    flat = np.zeros((64, 48, 4), np.uint8)
    flat[10:30, 5:40] = (200, 10, 10, 128)
    info = {"arguments": {"upscale_factor": 2.0}, "seed": 9, "engine": "local", "request_id": "r", "model": "fast"}
    for name, pixels in (("noisy", noisy), ("flat", flat)):
        path = tmp_path / f"{name}.png"
        pnginfo.write_png(Image.fromarray(pixels), path, info, compress_level=1, compress_type=zlib.Z_RLE)
        with Image.open(path) as image:
            assert np.array_equal(np.asarray(image), pixels), name
        assert pnginfo.read_png_info(path)["seed"] == 9
