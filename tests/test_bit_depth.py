"""Bit depth from the file, never guessed from the data (issue 22 §2): every mode a real file opens as maps to
8-bit sRGB by its declared range, alpha kept where the mode has it; 32-bit float and integer pictures, which
declare no range, are refused by name before anything is spent.

Before the fix a dark 16-bit grey PNG (0–200 of 65535) came back mid-grey (the depth was guessed as 8 bits when
no sample exceeded 255) and a float TIFF "completed" all black. 16-bit RGB/RGBA PNG and TIFF are written here
byte by byte (Pillow cannot write them).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from core.errors import InputError
from core.inputs import images
from tests import png_files


def saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def grey16(values: list[int], fmt: str, mode: str = "I;16") -> bytes:
    """A 16-bit grey file, one row per value (8 pixels wide), in the byte order ``mode`` names."""
    array = np.repeat(np.array(values, dtype=np.uint16)[:, None], 8, axis=1)
    order = ">u2" if mode == "I;16B" else "<u2"
    image = Image.frombytes(mode, (8, len(values)), array.astype(order).tobytes())
    return saved(image, fmt)


def tiff16(samples: np.ndarray, byteorder: str = "<") -> bytes:
    """An uncompressed 16-bit-per-channel RGB (3 samples) or RGBA (4, unassociated alpha) TIFF (TIFF 6.0)."""
    height, width, channels = samples.shape
    e, data = byteorder, samples.astype(byteorder + "u2").tobytes()
    tags = [(256, 3, 1, width), (257, 3, 1, height), (258, 3, channels, -1), (259, 3, 1, 1), (262, 3, 1, 2),
            (273, 4, 1, -2), (277, 3, 1, channels), (278, 3, 1, height), (279, 4, 1, len(data)), (284, 3, 1, 1)]
    if channels == 4:
        tags.append((338, 3, 1, 2))
    bits_at = 8 + 2 + 12 * len(tags) + 4
    data_at = bits_at + 2 * channels
    out = (b"II" if e == "<" else b"MM") + struct.pack(e + "HI", 42, 8) + struct.pack(e + "H", len(tags))
    for tag, kind, count, value in tags:
        value = bits_at if value == -1 else data_at if value == -2 else value
        out += struct.pack(e + ("HHIHH" if kind == 3 and count == 1 else "HHII"), tag, kind, count,
                           *((value, 0) if kind == 3 and count == 1 else (value,)))
    return out + struct.pack(e + "I", 0) + struct.pack(e + f"{channels}H", *[16] * channels) + data


def rgb16(samples: list[tuple[int, ...]]) -> np.ndarray:
    return np.array([samples] * 4, dtype=np.uint16)  # 4 rows of the given pixels


# name → (file bytes, expected stored mode, expected first-column pixels (one per row, or the first pixel))
CASES: dict[str, tuple[Callable[[], bytes], str, list[tuple[int, ...]]]] = {
    "png 1-bit": (lambda: png_files.png(np.array([[0, 1, 0, 1]], np.uint8), 1, 0), "RGB", [(0, 0, 0)]),
    "png L": (lambda: saved(Image.new("L", (4, 4), 100), "PNG"), "RGB", [(100, 100, 100)]),
    "png LA": (lambda: saved(Image.new("LA", (4, 4), (100, 50)), "PNG"), "RGBA", [(100, 100, 100, 50)]),
    "png P": (lambda: saved(Image.new("RGB", (4, 4), (10, 20, 30)).convert("P", palette=Image.Palette.ADAPTIVE),
                            "PNG"), "RGB", [(10, 20, 30)]),
    "png 16-bit grey, a dark night scene": (lambda: grey16([0, 100, 200], "PNG"), "RGB",
                                            [(0, 0, 0), (0, 0, 0), (1, 1, 1)]),
    "png 16-bit grey, mid and white": (lambda: grey16([32896, 65535], "PNG"), "RGB", [(128,) * 3, (255,) * 3]),
    "tiff I;16 (little-endian)": (lambda: grey16([200, 32896], "TIFF"), "RGB", [(1,) * 3, (128,) * 3]),
    "tiff I;16B (big-endian)": (lambda: grey16([200, 32896], "TIFF", "I;16B"), "RGB", [(1,) * 3, (128,) * 3]),
    "png 16-bit grey+alpha": (lambda: png_files.png(np.array([[[32896, 32896]] * 4] * 4, np.uint16), 16, 4),
                              "RGBA", [(128, 128, 128, 128)]),
    "png RGB": (lambda: saved(Image.new("RGB", (4, 4), (1, 2, 3)), "PNG"), "RGB", [(1, 2, 3)]),
    "png RGBA": (lambda: saved(Image.new("RGBA", (4, 4), (1, 2, 3, 4)), "PNG"), "RGBA", [(1, 2, 3, 4)]),
    "png 16-bit RGB": (lambda: png_files.png(rgb16([(32896, 200, 65535)] * 4), 16, 2), "RGB", [(128, 0, 255)]),
    "png 16-bit RGBA": (lambda: png_files.png(rgb16([(32896, 0, 65535, 32896)] * 4), 16, 6), "RGBA",
                        [(128, 0, 255, 128)]),
    "tiff 16-bit RGB": (lambda: tiff16(rgb16([(32896, 200, 65535)] * 4)), "RGB", [(128, 0, 255)]),
    "tiff 16-bit RGB big-endian": (lambda: tiff16(rgb16([(32896, 200, 65535)] * 4), ">"), "RGB", [(128, 0, 255)]),
    "tiff 16-bit RGBA": (lambda: tiff16(rgb16([(32896, 0, 65535, 32896)] * 4)), "RGBA", [(128, 0, 255, 128)]),
    "jpeg CMYK (no profile)": (lambda: saved(Image.new("CMYK", (8, 8), (0, 0, 0, 0)), "JPEG", quality=100), "RGB",
                               [(255, 255, 255)]),
    "tiff CMYK (no profile)": (lambda: saved(Image.new("CMYK", (4, 4), (0, 255, 255, 0)), "TIFF"), "RGB",
                               [(255, 0, 0)]),
    "tiff YCbCr": (lambda: saved(Image.new("YCbCr", (4, 4), (128, 128, 128)), "TIFF", compression="tiff_deflate"),
                   "RGB", [(128, 128, 128)]),  # libtiff reads it (Pillow's own reader cannot, uncompressed)
    "tiff LAB (neutral mid-grey)": (lambda: saved(Image.new("LAB", (4, 4), (128, 128, 128)), "TIFF"), "RGB",
                                    [(119, 119, 119)]),
    "tiff LAB (white)": (lambda: saved(Image.new("LAB", (4, 4), (255, 128, 128)), "TIFF"), "RGB",
                         [(255, 255, 255)]),
}


@pytest.mark.parametrize(("mode", "value", "expected"), [("YCbCr", (128, 128, 128), (128, 128, 128)),
                                                         ("LAB", (255, 128, 128), (255, 255, 255)),
                                                         ("I;16B", 32896, (128, 128, 128)),
                                                         ("I;16L", 200, (1, 1, 1))])
def test_modes_made_in_memory(mode: str, value: object, expected: tuple[int, ...]) -> None:
    out = images.normalise(Image.new(mode, (4, 4), value))  # type: ignore[arg-type]
    assert out.mode == "RGB" and np.abs(np.array(out.getpixel((1, 1))) - expected).max() <= 1


@pytest.mark.parametrize("name", CASES)
def test_every_mode_maps_to_8_bit_srgb_by_its_declared_range(name: str) -> None:
    make, mode, rows = CASES[name]
    loaded = images.load_bytes(make())
    with Image.open(loaded.path) as image:
        assert image.mode == mode, name
        for row, expected in enumerate(rows):
            got = image.getpixel((0, row))
            assert np.abs(np.array(got, int) - np.array(expected, int)).max() <= 1, (name, row, got, expected)


def test_a_dark_16_bit_night_scene_stays_dark() -> None:
    values = np.linspace(0, 200, 64 * 48).reshape(48, 64).astype(np.uint16)
    loaded = images.load_bytes(saved(Image.fromarray(values), "PNG"))
    with Image.open(loaded.path) as image:
        assert np.asarray(image, np.float64).mean() < 1.0  # 0.39 expected; it came back 102.8 before


@pytest.mark.parametrize(("mode", "kind"), [("F", "32-bit float"), ("I", "32-bit integer")])
@pytest.mark.parametrize("values", ["0–1", "0–65535"])
def test_32_bit_pictures_are_refused_by_name(mode: str, kind: str, values: str) -> None:
    peak = 1.0 if values == "0–1" else 65535.0
    array = np.linspace(0, peak, 64).reshape(8, 8).astype(np.float32 if mode == "F" else np.int32)
    with pytest.raises(InputError, match=f"{kind} pictures are not supported; export 8 or 16 bits") as caught:
        images.load_bytes(saved(Image.fromarray(array, mode), "TIFF"))
    assert caught.value.field == "image"


def test_a_32_bit_picture_is_refused_before_anything_is_spent(client, tmp_path) -> None:
    from gradio_client import handle_file

    path = tmp_path / "render.tif"
    Image.fromarray(np.linspace(0, 1, 64).reshape(8, 8).astype(np.float32), "F").save(path)
    with pytest.raises(Exception, match="32-bit float pictures are not supported"):
        client.predict(handle_file(str(path)), None, engine="local", api_name="/upscale")
    from tests.reliability import history_rows

    assert history_rows() == []  # no run was recorded, nothing was sent
