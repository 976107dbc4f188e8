"""Hand-made PNG, JPEG and WebP files for the input tests: every way a PNG can declare transparency (PNG spec
§11.3.2: an alpha channel, a tRNS colour key for grey or RGB at any bit depth, tRNS alpha for palette entries),
and files whose metadata is oversized, malformed or unreadable while the pixels are fine."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

SIDE = 64


def disc(side: int = SIDE) -> np.ndarray:
    """A centred disc (True inside) whose corners lie outside it."""
    yy, xx = np.mgrid[:side, :side]
    return (yy - side / 2 + 0.5) ** 2 + (xx - side / 2 + 0.5) ** 2 < (side * 0.35) ** 2


def chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    value = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", value & 0xFFFFFFFF)


def _pack(samples: np.ndarray, depth: int) -> bytes:
    """Rows of samples (H, W·channels) as PNG scanlines with filter 0, packed to ``depth`` bits."""
    rows = []
    for row in samples:
        if depth < 8:
            bits = np.unpackbits(row.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:].reshape(-1)
            body = np.packbits(bits).tobytes()
        elif depth == 8:
            body = row.astype(np.uint8).tobytes()
        else:
            body = row.astype(">u2").tobytes()
        rows.append(b"\0" + body)
    return b"".join(rows)


def png(samples: np.ndarray, depth: int, colour_type: int, *, palette: bytes | None = None,
        trns: bytes | None = None, before: list[bytes] | None = None, after: list[bytes] | None = None) -> bytes:
    """A PNG from raw samples (H, W) or (H, W, C); ``before``/``after`` are extra chunks around IDAT."""
    height, width = samples.shape[:2]
    flat = samples.reshape(height, -1)
    out = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0))]
    out += before or []
    if palette is not None:
        out.append(chunk(b"PLTE", palette))
    if trns is not None:
        out.append(chunk(b"tRNS", trns))
    out.append(chunk(b"IDAT", zlib.compress(_pack(flat, depth))))
    out += after or []
    out.append(chunk(b"IEND", b""))
    return b"".join(out)


def grey_key(depth: int) -> bytes:
    """A grey PNG at ``depth`` bits: a white disc on black, black declared transparent by tRNS."""
    top = (1 << depth) - 1
    return png(disc().astype(np.uint32) * top, depth, 0, trns=struct.pack(">H", 0))


def grey_key_white(depth: int) -> bytes:
    """A black disc on white, white (the largest sample at that depth) declared transparent."""
    top = (1 << depth) - 1
    return png((~disc()).astype(np.uint32) * top, depth, 0, trns=struct.pack(">H", top))


def rgb_key(depth: int) -> bytes:
    """An orange disc on a magenta background, magenta declared transparent by an RGB tRNS key."""
    top = (1 << depth) - 1
    pixels = np.zeros((SIDE, SIDE, 3), np.uint32)
    pixels[:] = (top, 0, top)
    pixels[disc()] = (top, top // 2, 0)
    return png(pixels, depth, 2, trns=struct.pack(">HHH", top, 0, top))


def palette_key(depth: int, partial: bool = False) -> bytes:
    """A palette PNG: entry 0 (the background) transparent; ``partial`` gives entry 1 alpha 128 as well."""
    palette = bytes([0, 0, 0, 250, 250, 250]) + bytes(3 * ((1 << depth) - 2))
    trns = b"\x00\xff" if not partial else b"\x00\x80"
    return png(disc().astype(np.uint32), depth, 3, palette=palette, trns=trns)


def alpha_png(colour_type: int, depth: int) -> bytes:
    """Grey+alpha (4) or RGBA (6) at 8 or 16 bits: a disc, alpha 0 outside it."""
    top = (1 << depth) - 1
    channels = 2 if colour_type == 4 else 4
    pixels = np.full((SIDE, SIDE, channels), top, np.uint32)
    pixels[..., -1] = disc() * top
    return png(pixels, depth, colour_type)


def plain(mode: str, fmt: str, **options: object) -> bytes:
    """A Pillow-made file of ``mode`` in ``fmt`` (a disc drawn in it), with ``options`` passed to save."""
    grey = Image.fromarray((disc() * 255).astype(np.uint8), "L")
    if mode == "I;16":
        image = Image.fromarray((disc() * 65535).astype(np.uint16))
    elif mode in ("I", "F"):
        image = grey.convert(mode)
    else:
        image = grey.convert(mode) if mode != "RGBA" else grey.convert("RGB")
        if mode in ("RGBA", "LA", "PA"):
            image.putalpha(grey)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


# -- metadata that is oversized, malformed or unreadable, on a picture that is fine --------------------------

RED = (200, 40, 40)


def _red(fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), RED).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def red_png(before: list[bytes] | None = None, after: list[bytes] | None = None) -> bytes:
    """A 24×16 red PNG with extra chunks after IHDR (``before`` IDAT) and before IEND (``after``)."""
    data = _red("PNG")
    start, end = 8 + 25, data.rindex(b"IEND") - 4
    return data[:start] + b"".join(before or []) + data[start:end] + b"".join(after or []) + data[end:]


def tiff_exif(orientation: int | tuple[int, int], kind: int = 3) -> bytes:
    """A little-endian TIFF header with one IFD entry: Orientation of TIFF type ``kind`` (3 SHORT, 2 ASCII,
    5 RATIONAL given as (numerator, denominator))."""
    if kind == 5:
        entry, tail = struct.pack("<HHII", 0x0112, kind, 1, 26), struct.pack("<II", *orientation)
    else:
        entry, tail = struct.pack("<HHII", 0x0112, kind, 1, orientation), b""
    return b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 1) + entry + b"\x00\x00\x00\x00" + tail


def red_jpeg(segment: bytes) -> bytes:
    """A 24×16 red JPEG with one extra segment right after SOI."""
    data = _red("JPEG", quality=95)
    return data[:2] + segment + data[2:]


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload


def red_webp(**options: object) -> bytes:
    return _red("WEBP", lossless=True, **options)


def red_tiff(**options: object) -> bytes:
    return _red("TIFF", **options)


def expanding(size: int) -> bytes:
    """zlib data that expands to ``size`` bytes of text."""
    return zlib.compress(b"A" * size, 9)
