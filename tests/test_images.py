"""Reading inputs: every mode becomes RGB(A), EXIF orientation is applied, bad files get a clear message."""

from __future__ import annotations

import base64
import io
import threading

import numpy as np
import pytest
from PIL import Image

from core.errors import InputError
from core.inputs import images


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_exif_orientation_is_applied() -> None:
    wide = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    loaded = images.load_bytes(encode(wide, "JPEG", exif=exif))
    assert (loaded.width, loaded.height) == (20, 40)


@pytest.mark.parametrize(("mode", "expected"), [("RGBA", "RGBA"), ("CMYK", "RGB"), ("L", "RGB"), ("P", "RGB"),
                                                ("I;16", "RGB"), ("LA", "RGBA"), ("1", "RGB")])
def test_every_mode_becomes_rgb_or_rgba(mode: str, expected: str) -> None:
    source = Image.new(mode, (9, 7))
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    loaded = images.load_bytes(encode(source, fmt))
    with Image.open(loaded.path) as stored:
        assert stored.mode == expected and stored.size == (9, 7)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    ramp = np.linspace(0, 65535, 64, dtype=np.uint16).reshape(8, 8)
    loaded = images.load_bytes(encode(Image.fromarray(ramp), "PNG"))
    with Image.open(loaded.path) as stored:
        values = np.asarray(stored.convert("L"))
    assert values.min() == 0 and values.max() == 255 and len(np.unique(values)) > 32


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    loaded = images.load_bytes(buffer.getvalue())
    with Image.open(loaded.path) as stored:
        red, green, blue = stored.convert("RGB").getpixel((4, 4))
    assert red > 200 and blue < 50


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"hello, I am text pretending to be a PNG", "not an image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image"),
])
def test_bad_bytes_get_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        images.load_bytes(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_refused(fmt: str) -> None:
    data = encode(Image.effect_noise((64, 64), 50).convert("RGB"), fmt)
    with pytest.raises(InputError, match="truncated|damaged|not an image"):
        images.load_bytes(data[: len(data) // 2])


def test_an_absurdly_large_image_is_refused_before_decoding() -> None:
    bomb = encode(Image.new("1", (30000, 30000)), "PNG")  # small file, 900 MP when decoded
    with pytest.raises(InputError, match="limited to|too large"):
        images.load_bytes(bomb)


def test_data_uri_and_same_content_is_stored_once() -> None:
    png = encode(Image.new("RGB", (5, 3), "green"), "PNG")
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    first, second = images.load_url(uri), images.load_bytes(png)
    assert first.path == second.path and (first.width, first.height) == (5, 3)
    with pytest.raises(InputError):
        images.load_url("data:image/png;base64,@@@@")


def test_describe_gives_output_size_megapixels_and_price() -> None:
    assert images.describe(512, 512, 2) == ("Input 512×512 → output 1024×1024 (1.05 MP) · estimated $0.04 on fal")


def test_the_same_picture_stored_by_many_runs_at_once_is_stored_for_each(tmp_path, monkeypatch) -> None:
    """A batch of four submits of one photo lost a run: two writers shared one temporary file name."""
    monkeypatch.setenv("CLARITY_DATA_DIR", str(tmp_path))
    picture = Image.effect_noise((300, 200), 60).convert("RGB")  # large enough that writes overlap
    start, errors, stored = threading.Barrier(8), [], []

    def store() -> None:
        start.wait()
        try:
            stored.append(images.store(picture).path)
        except OSError as exc:
            errors.append(exc)

    for _ in range(30):
        threads = [threading.Thread(target=store) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with Image.open(stored[-1]) as written:
            assert written.size == (300, 200)
        for path in (tmp_path / "inputs").iterdir():
            path.unlink()  # every round writes afresh
    assert errors == [] and len(stored) == 240 and len(set(stored)) == 1
