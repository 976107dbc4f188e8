"""Pictures as phones, cameras and editors write them (issue 22), through the public API on the local engine:
colour profiles, bit depths, formats and long names are categories of the tally. Each case either completes
with the picture's meaning kept, or is refused by name with nothing in the history."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from core.inputs import colour, formats
from tests import icc_profiles as icc
from tests import png_files
from tests.reliability import completed, refused, upscale

GOLD = (200, 160, 40)


def flat(mode: str = "RGB", value: object = GOLD) -> Image.Image:
    return Image.new(mode, (24, 16), value)  # type: ignore[arg-type]


def encoded(image: Image.Image, fmt: str, profile: bytes | None = None) -> bytes:
    formats.register_plugins()
    buffer = io.BytesIO()
    options: dict[str, object] = {"icc_profile": profile} if profile else {}
    if fmt in ("JPEG", "WEBP", "HEIF", "AVIF"):
        options["quality"] = 100 if fmt != "HEIF" else 95
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def srgb_of(data: bytes) -> Image.Image:
    """LittleCMS's sRGB rendering of the file (relative colorimetric intent), untagged."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        source = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB",
                                         renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


PROFILES = {
    "Adobe RGB PNG": lambda: encoded(flat(), "PNG", icc.matrix_profile("Adobe RGB (1998)")),
    "Display P3 JPEG": lambda: encoded(flat(), "JPEG", icc.matrix_profile("Display P3")),
    "Display P3 v4 WebP": lambda: encoded(flat(), "WEBP", icc.matrix_profile("Display P3", version=4)),
    "ProPhoto TIFF": lambda: encoded(flat(), "TIFF", icc.matrix_profile("ProPhoto RGB")),
    "grey gamma 1.8 PNG": lambda: encoded(flat("L", 128), "PNG", icc.grey_profile(1.8)),
    "v4 LUT PNG": lambda: encoded(flat(), "PNG", icc.lut_profile()),
    "CMYK JPEG with a profile": lambda: encoded(flat("CMYK", (10, 40, 200, 20)), "JPEG", icc.cmyk_profile()),
    "Display P3 HEIC": lambda: encoded(flat(), "HEIF", icc.matrix_profile("Display P3")),
}


@pytest.mark.reliability("colour profiles")
@pytest.mark.parametrize("name", PROFILES)
def test_a_profiled_picture_comes_back_in_its_colours_tagged_srgb(client, tmp_path: Path, name: str) -> None:
    data = PROFILES[name]()
    path = tmp_path / "photo"
    path.write_bytes(data)
    output = completed(client, str(path), upscale_factor=2, seed=5)
    assert colour.is_srgb(output.info.get("icc_profile"))
    reference = tmp_path / "reference.png"  # the engine's own drift on saturated colours cancels against it
    srgb_of(data).save(reference)
    same, _ = upscale(client, str(reference), "", upscale_factor=2, seed=5)
    centre = np.array(output.convert("RGB").getpixel((24, 16)), int)
    expected = np.array(Image.open(same).convert("RGB").getpixel((24, 16)), int)
    assert np.abs(centre - expected).max() <= 4, (centre, expected)


DEPTHS = {
    "dark 16-bit grey PNG": (lambda: encoded(Image.fromarray(np.full((16, 24), 200, np.uint16)), "PNG"), (1, 1, 1)),
    "16-bit RGB PNG": (lambda: png_files.png(np.full((16, 24, 3), 32896, np.uint16), 16, 2), (128, 128, 128)),
    "16-bit big-endian grey TIFF": (lambda: encoded(Image.frombytes(
        "I;16B", (24, 16), np.full((16, 24), 32896, ">u2").tobytes()), "TIFF"), (128, 128, 128)),
}


@pytest.mark.reliability("bit depth")
@pytest.mark.parametrize("name", DEPTHS)
def test_a_deep_picture_keeps_its_brightness(client, tmp_path: Path, name: str) -> None:
    make, expected = DEPTHS[name]
    path = tmp_path / "scan.png"
    path.write_bytes(make())
    output = completed(client, str(path), upscale_factor=2)
    centre = np.array(output.convert("RGB").getpixel((24, 16)), int)
    assert np.abs(centre - np.array(expected)).max() <= 6, centre


@pytest.mark.reliability("bit depth")
@pytest.mark.parametrize("mode", ["F", "I"])
def test_a_32_bit_picture_is_refused_by_name(client, tmp_path: Path, mode: str) -> None:
    path = tmp_path / "render.tif"
    Image.fromarray(np.linspace(0, 1, 384).reshape(16, 24).astype(np.float32 if mode == "F" else np.int32),
                    mode).save(path)
    refused(client, "pictures are not supported; export 8 or 16 bits", str(path), engine="local")


@pytest.mark.reliability("formats")
@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_phone_format_upscales_under_any_name(client, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "upload"  # no extension: the content decides
    path.write_bytes(encoded(flat(), fmt))
    assert completed(client, str(path), upscale_factor=2).size == (48, 32)


@pytest.mark.reliability("formats")
@pytest.mark.parametrize(("data", "what"), [(b"%PDF-1.7\n" + b"\0" * 64, "a PDF document"),
                                            (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "an SVG drawing"),
                                            (b"\x00\x00\x00\x0cJXL \r\n\x87\n" + b"\0" * 64, "a JPEG XL image")],
                         ids=["pdf", "svg", "jpeg xl"])
def test_an_unreadable_format_is_named_with_the_formats_read(client, tmp_path: Path, data: bytes, what: str) -> None:
    path = tmp_path / "picture.png"  # the name says PNG; the bytes say otherwise
    path.write_bytes(data)
    message = refused(client, what, str(path), engine="local")
    assert "HEIC/HEIF" in message and "AVIF" in message


@pytest.mark.reliability("names")
@pytest.mark.parametrize("stem", ["東京の夜景" * 16, "a" * 72, "CON", "photo. . ."])
def test_a_download_name_keeps_its_factor_and_seed(client, tmp_path: Path, stem: str) -> None:
    path = tmp_path / f"{stem}.png"
    flat().save(path)
    png, result = upscale(client, str(path), "", upscale_factor=2, seed=1916117763)
    name = Path(png).name  # the local engine uses no seed: its name stands there (core/runs/names.py names fal's)
    assert result["seed"] is None and name.endswith("_x2_local.png") and result["image"]["file_name"] == name
    assert len(name) <= 80 and len(name.encode()) <= 200 and name.split(".")[0].lower() != "con"
