"""Every output PNG carries the settings that made it, and reading a stranger's PNG never breaks anything."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from core import pnginfo, schema

ARGUMENTS = {"prompt": "ein Fuchs im Schnee — 雪の狐", "upscale_factor": 3.25, "negative_prompt": "blurry, jpeg",
             "creativity": 0.72, "resemblance": 0.15, "guidance_scale": 11.5, "num_inference_steps": 33,
             "seed": 987654321, "enable_safety_checker": False}
INFO = {"arguments": ARGUMENTS, "seed": 987654321, "request_id": "req-42", "engine": "fal", "model": None}


def png_bytes(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def test_every_field_round_trips(tmp_path: Path) -> None:
    assert set(ARGUMENTS) == {f.name for f in schema.PARAMETER_FIELDS}  # the sample covers the whole schema
    path = tmp_path / "out.png"
    pnginfo.write_png(Image.new("RGB", (8, 6), "teal"), path, INFO)
    assert pnginfo.read_png_info(path) == ARGUMENTS
    assert pnginfo.read_png_info(path.read_bytes()) == ARGUMENTS
    record = pnginfo.read_png_metadata(path)
    assert (record["endpoint"], record["request_id"], record["engine"], record["version"]) == (
        schema.ENDPOINT, "req-42", "fal", 1)


def test_the_seed_used_replaces_a_random_seed(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    arguments = {k: v for k, v in ARGUMENTS.items() if k != "seed"}
    pnginfo.write_png(Image.new("RGB", (4, 4)), path, {"arguments": arguments, "seed": 5, "engine": "local",
                                                        "model": "realesrgan-x4plus"})
    info = pnginfo.read_png_info(path)
    assert info["seed"] == 5 and info["prompt"] == ARGUMENTS["prompt"]
    assert "Seed: 5" in Image.open(path).info["parameters"]


def test_missing_arguments_are_written_as_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    pnginfo.write_png(Image.new("RGB", (4, 4)), path, {"arguments": {}, "engine": "fal"})
    assert pnginfo.read_png_info(path) == schema.defaults()


def test_human_readable_parameters_chunk(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    pnginfo.write_png(Image.new("RGB", (4, 4)), path, INFO)
    text = Image.open(path).info["parameters"]
    prompt, negative, settings = text.split("\n")
    assert prompt == ARGUMENTS["prompt"] and negative == "Negative prompt: blurry, jpeg"
    for expected in ("Steps: 33", "CFG scale: 11.5", "Seed: 987654321", "Upscale factor: 3.25",
                     "Creativity: 0.72", "Resemblance: 0.15", "Request id: req-42", schema.ENDPOINT):
        assert expected in settings


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "I;16"])
def test_stamping_keeps_the_pixels_and_other_chunks(tmp_path: Path, mode: str) -> None:
    rng = np.random.default_rng(1)
    if mode == "I;16":
        source = Image.fromarray(rng.integers(0, 65535, (13, 17), dtype=np.uint16))
    else:
        source = Image.fromarray(rng.integers(0, 255, (13, 17, len(mode)), dtype=np.uint8).squeeze(), mode)
    other = PngImagePlugin.PngInfo()
    other.add_text("Software", "another tool")
    path = tmp_path / "out.png"
    path.write_bytes(png_bytes(source, pnginfo=other, dpi=(300, 300)))
    pnginfo.stamp_png(path, INFO)
    with Image.open(path) as stamped:
        assert stamped.mode == source.mode and stamped.tobytes() == source.tobytes()
        assert stamped.info["Software"] == "another tool"
        assert stamped.info["dpi"] == pytest.approx((300, 300), abs=0.1)
    assert pnginfo.read_png_info(path) == ARGUMENTS
    assert Image.open(path).info["parameters"].startswith(ARGUMENTS["prompt"])  # UTF-8 text survives
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temp file left behind


def idat(data: bytes) -> bytes:
    """The compressed pixel data of a PNG, chunk by chunk."""
    position, found = 8, []
    while position < len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        if data[position + 4:position + 8] == b"IDAT":
            found.append(data[position + 8:position + 8 + length])
        position += 12 + length
    return b"".join(found)


def test_stamping_does_not_re_encode_the_pixels(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(png_bytes(Image.effect_noise((64, 48), 40).convert("RGB"), compress_level=1))
    before = path.read_bytes()
    pnginfo.stamp_png(path, INFO)
    after = path.read_bytes()
    assert idat(after) == idat(before) and len(after) > len(before)


def test_stamping_a_file_that_is_not_a_png_makes_it_one(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    Image.new("RGB", (5, 5), "orange").save(path, format="JPEG")
    pnginfo.stamp_png(path, INFO)
    with Image.open(path) as stamped:
        assert stamped.format == "PNG" and stamped.size == (5, 5)
    assert pnginfo.read_png_info(path) == ARGUMENTS


def test_stamping_twice_replaces_the_record(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    pnginfo.write_png(Image.new("RGB", (4, 4)), path, INFO)
    pnginfo.stamp_png(path, {**INFO, "arguments": {**ARGUMENTS, "creativity": 0.1}, "seed": 1})
    info = pnginfo.read_png_info(path)
    assert info["creativity"] == 0.1 and info["seed"] == 1
    assert Image.open(path).info["parameters"].count("Negative prompt:") == 1


def test_palette_transparency_survives_stamping(tmp_path: Path) -> None:
    source = Image.new("P", (6, 6), 3)
    source.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    source.putpixel((0, 0), 1)
    path = tmp_path / "out.png"
    path.write_bytes(png_bytes(source, transparency=1))
    pnginfo.stamp_png(path, INFO)
    with Image.open(path) as stamped:
        rgba = stamped.convert("RGBA")
        assert rgba.getpixel((0, 0))[3] == 0 and rgba.getpixel((1, 1)) == (0, 0, 255, 255)


def test_a_plain_png_has_no_info(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    path.write_bytes(png_bytes(Image.new("RGB", (4, 4))))
    assert pnginfo.read_png_info(path) is None
    assert pnginfo.read_png_info(png_bytes(Image.new("RGB", (4, 4)))) is None


@pytest.mark.parametrize("chunk", ["{not json", "[1, 2, 3]", '{"arguments": "oops"}', ""])
def test_damaged_json_gives_none(chunk: str) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text(pnginfo.CHUNK, chunk)
    assert pnginfo.read_png_info(png_bytes(Image.new("RGB", (4, 4)), pnginfo=info)) is None


def test_bad_values_and_unknown_keys_are_dropped() -> None:
    record = {"endpoint": schema.ENDPOINT, "version": 1, "arguments": {
        "upscale_factor": 99, "creativity": "0.5", "num_inference_steps": 20, "image_url": "https://x.test/a.png",
        "fal_key": "secret", "future_field": 3}}
    info = PngImagePlugin.PngInfo()
    info.add_text(pnginfo.CHUNK, json.dumps(record))
    assert pnginfo.read_png_info(png_bytes(Image.new("RGB", (4, 4)), pnginfo=info)) == {
        "creativity": 0.5, "num_inference_steps": 20}


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a garbage", bytes(range(256))])
def test_random_bytes_never_raise(data: bytes) -> None:
    assert pnginfo.read_png_info(data) is None


def test_a_jpeg_or_missing_file_gives_none(tmp_path: Path) -> None:
    jpeg = tmp_path / "photo.jpg"
    Image.new("RGB", (4, 4)).save(jpeg)
    assert pnginfo.read_png_info(jpeg) is None
    assert pnginfo.read_png_info(tmp_path / "missing.png") is None
