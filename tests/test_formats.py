"""The formats phones and the web use (issue 22 §3): HEIC/HEIF (pillow-heif) and AVIF (Pillow 12) are read with
their EXIF orientation and colour profile; the format is decided by content, never the name; an unreadable file
is refused naming what it is (sniffed from its bytes) and what the app reads, from one list in core.

Before the fix a HEIC photo was refused as "not an image this app can read (PNG, JPEG, WebP, GIF, BMP or TIFF)",
and Gradio's upload box refused, on the server, a file whose name did not look like an image.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from core.errors import InputError
from core.inputs import colour, formats, images
from tests import icc_profiles as icc

ROOT = Path(__file__).resolve().parents[1]


def photo() -> Image.Image:
    """A 40×20 landscape: red on the left half, blue on the right."""
    image = Image.new("RGB", (40, 20), (220, 30, 30))
    image.paste((30, 30, 220), (20, 0, 40, 20))
    return image


def encoded(fmt: str, orientation: int | None = None, profile: bytes | None = None) -> bytes:
    formats.register_plugins()
    options: dict[str, object] = {"quality": 95}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    if profile:
        options["icc_profile"] = profile
    buffer = io.BytesIO()
    photo().save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heic_and_avif_photos_are_read(fmt: str) -> None:
    data = encoded(fmt)
    assert data[4:8] == b"ftyp"  # a real ISO-BMFF file, as phones write
    loaded = images.load_bytes(data)
    with Image.open(loaded.path) as image:
        left, right = image.getpixel((5, 10)), image.getpixel((35, 10))
    assert (loaded.width, loaded.height) == (40, 20)
    assert left[0] > 180 and left[2] < 80 and right[2] > 180 and right[0] < 80


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_their_exif_orientation_turns_the_picture(fmt: str) -> None:
    loaded = images.load_bytes(encoded(fmt, orientation=6))  # "rotate 90° clockwise to show"
    assert (loaded.width, loaded.height) == (20, 40)
    with Image.open(loaded.path) as image:
        top, bottom = image.getpixel((10, 5)), image.getpixel((10, 35))
    assert top[0] > 180 and bottom[2] > 180  # the left (red) half is now on top


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_their_display_p3_profile_is_converted(fmt: str) -> None:
    profile = icc.matrix_profile("Display P3")
    data = encoded(fmt, profile=profile)
    loaded = images.load_bytes(data)
    assert loaded.colour == "Display P3 → sRGB"
    with Image.open(io.BytesIO(data)) as raw:
        expected = ImageCms.profileToProfile(raw.convert("RGB"), ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                                             ImageCms.createProfile("sRGB"),
                                             renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    with Image.open(loaded.path) as image:
        assert colour.is_srgb(image.info.get("icc_profile"))
        difference = np.abs(np.asarray(image, np.int16) - np.asarray(expected, np.int16)).max()
    assert difference <= 1


@pytest.mark.parametrize("name", ["photo", "photo.txt", "IMG_0001.HEIC.download", "photo.png"])
def test_the_format_is_decided_by_content_never_the_name(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(encoded("HEIF"))
    assert images.load_file(path).width == 40


def test_the_upload_box_passes_any_name_on_to_the_content_check() -> None:
    import gradio as gr
    from gradio.data_classes import FileData

    from components.upscale.image_input import FILE_TYPES

    box = gr.File(file_types=FILE_TYPES, type="filepath")
    for name in ("/tmp/upload", "/tmp/IMG_0001.HEIC", "/tmp/photo.avif", "/tmp/a.jpg.download"):
        assert str(box.preprocess(FileData(path=name, orig_name=Path(name).name))) == name
    assert FILE_TYPES is None  # any list is a filter in Gradio's page (tests/test_browser_formats.py)
    with pytest.raises(gr.Error, match="Invalid file type"):  # what the box did with ["image"] only
        gr.File(file_types=["image"], type="filepath").preprocess(FileData(path="/tmp/upload", orig_name="upload"))


def test_a_heic_upload_runs_end_to_end(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(encoded("HEIF", orientation=6))
    png, result = client.predict(handle_file(str(path)), None, upscale_factor=2, engine="local",
                                 api_name="/upscale")
    assert (result["image"]["width"], result["image"]["height"]) == (40, 80)
    assert Path(png).name == "IMG_0001_x2_local.png"  # the local engine uses no seed: its name instead


@pytest.mark.parametrize(("data", "what"), [
    (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "a PDF document"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG drawing"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n" + b"\0" * 40, "a JPEG XL image"),
    (b"8BPS\x00\x01" + b"\0" * 40, "a Photoshop PSD file"),
    (b"PK\x03\x04" + b"\0" * 40, "a ZIP archive"),
    (b"\x00\x00\x00\x18ftypmp42" + b"\0" * 40, "an MP4 video"),
    (b"<!DOCTYPE html><html><body>404</body></html>", "a web page (HTML)"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\0" * 40, "a WAV audio file"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 10, "could not be decoded"),  # a damaged picture is another message
], ids=["pdf", "svg", "jpeg xl", "psd", "zip", "mp4", "html", "wav", "damaged png"])
def test_an_unreadable_file_is_named_from_its_bytes(data: bytes, what: str) -> None:
    with pytest.raises(InputError) as caught:
        images.load_bytes(data, "The file")
    message = str(caught.value)
    assert what in message
    if "decoded" not in what:
        assert formats.label_list() in message  # and the formats it can read


def test_one_list_of_formats_feeds_the_picker_the_message_and_the_readme() -> None:
    labels = [entry.label for entry in formats.READABLE]
    assert {"HEIC/HEIF", "AVIF"} <= set(labels)
    assert formats.PILLOW_FORMATS == images.FORMATS
    assert {".heic", ".avif", ".tif"} <= set(formats.EXTENSIONS)
    source = (ROOT / "components/upscale/image_input.py").read_text()
    assert 'label=f"Image ({formats.label_list()})"' in source
    readme = (ROOT / "README.md").read_text()
    assert formats.label_list("and") in readme or formats.label_list() in readme
    assert not re.search(r"PNG, JPEG, WebP, GIF, BMP(,)? (or|and) TIFF\b", readme)  # no older, shorter list
