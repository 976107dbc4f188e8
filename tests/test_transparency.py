"""Transparency is kept for every mode that can carry it, and every other mode comes out opaque (issue 13 §1).

One table: each row is a file (or an in-memory Pillow image) and whether its stored input and the local
engine's output must be RGBA with the disc's corners transparent, or RGB.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.inputs import images
from tests import png_files as files

TRANSPARENT = {  # name → bytes of a file whose corners are declared transparent
    "png 1-bit grey, tRNS key": lambda: files.grey_key(1),
    "png 1-bit grey, tRNS key white": lambda: files.grey_key_white(1),
    "png 2-bit grey, tRNS key white": lambda: files.grey_key_white(2),
    "png 4-bit grey, tRNS key white": lambda: files.grey_key_white(4),
    "png 8-bit grey, tRNS key": lambda: files.grey_key(8),
    "png 16-bit grey (I;16), tRNS key": lambda: files.grey_key(16),
    "png 16-bit grey (I;16), tRNS key white": lambda: files.grey_key_white(16),
    "png 8-bit RGB, tRNS colour key": lambda: files.rgb_key(8),
    "png 16-bit RGB, tRNS colour key": lambda: files.rgb_key(16),
    "png 1-bit palette, tRNS": lambda: files.palette_key(1),
    "png 4-bit palette, tRNS alpha per entry": lambda: files.palette_key(4, partial=True),
    "png 8-bit palette, tRNS": lambda: files.palette_key(8),
    "png 8-bit grey+alpha (LA)": lambda: files.alpha_png(4, 8),
    "png 16-bit grey+alpha": lambda: files.alpha_png(4, 16),
    "png 8-bit RGBA": lambda: files.alpha_png(6, 8),
    "png 16-bit RGBA": lambda: files.alpha_png(6, 16),
    "gif, transparent index": lambda: files.plain("P", "GIF", transparency=0),
    "gif grey (opens as L), transparent index": lambda: files.plain("L", "GIF", transparency=0),
    "webp RGBA": lambda: files.plain("RGBA", "WEBP", lossless=True),
    "tiff RGBA": lambda: files.plain("RGBA", "TIFF"),
    "tiff LA": lambda: files.plain("LA", "TIFF"),
    "tiff PA": lambda: files.plain("PA", "TIFF"),
}
OPAQUE = {
    "png 1-bit grey": lambda: files.png(files.disc().astype(np.uint8), 1, 0),
    "png 8-bit grey": lambda: files.plain("L", "PNG"),
    "png 16-bit grey": lambda: files.plain("I;16", "PNG"),
    "png 8-bit RGB": lambda: files.plain("RGB", "PNG"),
    "png palette": lambda: files.plain("P", "PNG"),
    "jpeg grey": lambda: files.plain("L", "JPEG"),
    "jpeg RGB": lambda: files.plain("RGB", "JPEG"),
    "jpeg CMYK": lambda: files.plain("CMYK", "JPEG"),
    "gif": lambda: files.plain("P", "GIF"),
    "bmp RGB": lambda: files.plain("RGB", "BMP"),
    "bmp 1-bit": lambda: files.plain("1", "BMP"),
    "webp RGB": lambda: files.plain("RGB", "WEBP"),
    "tiff CMYK": lambda: files.plain("CMYK", "TIFF"),
    "tiff LAB": lambda: files.plain("LAB", "TIFF"),
}  # 32-bit grey (I) and float (F) have no declared range: refused, see tests/test_bit_depth.py


def stored(data: bytes) -> Image.Image:
    with Image.open(images.load_bytes(data).path) as image:
        image.load()
        return image


def assert_disc_cut_out(image: Image.Image) -> None:
    """RGBA, the corners fully transparent and the disc's centre fully opaque."""
    assert image.mode == "RGBA", image.mode
    alpha = np.asarray(image.getchannel("A"))
    height, width = alpha.shape
    corners = [alpha[0, 0], alpha[0, -1], alpha[-1, 0], alpha[-1, -1]]
    assert max(corners) == 0, corners
    assert alpha[height // 2, width // 2] >= 128


@pytest.mark.parametrize("name", TRANSPARENT)
def test_declared_transparency_is_kept(name: str) -> None:
    assert_disc_cut_out(stored(TRANSPARENT[name]()))


@pytest.mark.parametrize("name", OPAQUE)
def test_modes_without_transparency_come_out_opaque(name: str) -> None:
    image = stored(OPAQUE[name]())
    assert image.mode == "RGB" and "transparency" not in image.info


def test_a_colour_key_keeps_the_colours_that_differ_from_it() -> None:
    image = stored(files.rgb_key(16))
    assert image.getpixel((32, 32)) == (255, 127, 0, 255)  # the orange disc, opaque
    assert image.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize(("mode", "transparent"), [
    ("RGBA", True), ("LA", True), ("PA", True), ("La", True), ("RGBa", True),
    ("1", False), ("L", False), ("P", False), ("RGB", False), ("RGBX", False), ("CMYK", False), ("YCbCr", False),
    ("LAB", False), ("HSV", False), ("I;16", False), ("I;16B", False), ("I;16L", False),
])
def test_every_pillow_mode_in_memory(mode: str, transparent: bool) -> None:
    image = Image.new(mode, (8, 6))
    if transparent:  # alpha 0 on the left half, 255 on the right
        alpha = Image.new("L", (8, 6), 0)
        alpha.paste(255, (4, 0, 8, 6))
        bands = list(image.split())
        bands[-1] = alpha
        image = Image.merge(mode, bands)
    out = images.normalise(image)
    assert out.mode == ("RGBA" if transparent else "RGB")
    if transparent:
        assert out.getpixel((0, 0))[3] == 0 and out.getpixel((7, 5))[3] == 255
    buffer = io.BytesIO()
    out.save(buffer, format="PNG")  # storable as it is


@pytest.mark.parametrize("name", ["png 1-bit grey, tRNS key", "png 8-bit grey, tRNS key",
                                  "png 16-bit grey (I;16), tRNS key", "png 8-bit RGB, tRNS colour key"])
def test_the_local_engine_keeps_the_alpha(name: str) -> None:
    from core.engines.realesrgan import upscale

    source = Image.open(io.BytesIO(TRANSPARENT[name]()))
    source.load()
    output = upscale(source, 2)
    assert output.size == (128, 128)
    assert_disc_cut_out(output)
