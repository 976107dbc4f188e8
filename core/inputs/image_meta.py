"""Metadata never stops a picture: what cannot be read is ignored, said in a note, and the pixels are decoded.

Pillow refuses some files whose pixels are fine because of their metadata: a PNG text chunk expanding beyond
``PngImagePlugin.MAX_TEXT_CHUNK`` (or all of them beyond ``MAX_TEXT_MEMORY``), an unknown compression method, a
damaged checksum on an ancillary chunk, a short JPEG APP segment. Its limits stay as they are, process-wide
(``ImageFile.LOAD_TRUNCATED_IMAGES`` stays off): when a decode fails, ``strip`` gives the same file without
its metadata for one more try, per decode. The pixel-count and file-size limits are checked by the caller on
both tries. EXIF orientation and ICC profiles are read after decoding, tolerantly (``upright``, ``icc``).
"""

from __future__ import annotations

import io
import numbers
import re
import struct
import zlib

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_PIXEL_CHUNKS = {b"tRNS", b"acTL", b"fcTL", b"fdAT"}  # ancillary chunks that say what the pixels are
ORIENTATION = 0x0112
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270,
              7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def _label(kind: bytes, body: bytes) -> str:
    name = kind.decode("latin-1")
    if kind in (b"tEXt", b"zTXt", b"iTXt", b"iCCP"):
        keyword = re.sub(r"[^\x20-\x7e]", "?", body.split(b"\0", 1)[0][:40].decode("latin-1"))
        return f"{name} “{keyword}”" if keyword else name
    return name


def _strip_png(data: bytes) -> tuple[bytes, list[str]]:
    out, dropped, position = [PNG_SIGNATURE], [], len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind, end = data[position + 4:position + 8], position + 12 + length
        if end > len(data):
            return data, []  # a truncated file: nothing to gain, the first error stands
        body = data[position + 8:end - 4]
        sound = struct.unpack(">I", data[end - 4:end])[0] == zlib.crc32(kind + body) & 0xFFFFFFFF
        critical = kind[:1].isupper()
        if critical or (kind in PNG_PIXEL_CHUNKS and sound):
            out.append(data[position:end])
        else:
            dropped.append(_label(kind, body) + ("" if sound else " (bad checksum)"))
        position = end
        if kind == b"IEND":
            break
    return b"".join(out), dropped


def _strip_jpeg(data: bytes) -> tuple[bytes, list[str]]:
    dropped: list[str]
    out, dropped, position = [data[:2]], [], 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is pixel data
            out.append(data[position:])
            return b"".join(out), dropped
        (length,) = struct.unpack(">H", data[position + 2:position + 4])
        end = position + 2 + length
        segment, payload = data[position:end], data[position + 4:end]
        adobe = marker == 0xEE and payload.startswith(b"Adobe") and len(payload) >= 12  # CMYK needs it
        if (0xE0 <= marker <= 0xEF and not adobe) or marker == 0xFE:
            tag = re.sub(rb"[^\x20-\x7e]", b"", payload.split(b"\0", 1)[0][:20]).decode("ascii")
            dropped.append(f"APP{marker - 0xE0} {tag}".strip() if marker != 0xFE else "COM")
        else:
            out.append(segment)
        position = end
    return data, []


def strip(data: bytes) -> tuple[bytes, list[str]]:
    """The same PNG or JPEG without its metadata (PNG: ancillary chunks other than tRNS and APNG frames;
    JPEG: APP and COM segments but a sound Adobe one) and the names of what was removed; other formats and
    files whose structure is broken come back unchanged with an empty list."""
    if data.startswith(PNG_SIGNATURE):
        return _strip_png(data)
    if data.startswith(b"\xff\xd8"):
        return _strip_jpeg(data)
    return data, []


def upright(image: Image.Image, notes: list[str]) -> Image.Image:
    """``image`` turned as its EXIF orientation says (1–8); an unreadable block or an odd value is ignored,
    with a note appended to ``notes``."""
    try:
        value = image.getexif().get(ORIENTATION)
    except Exception as exc:  # Pillow's EXIF and TIFF parsers raise many kinds on damaged data
        notes.append(f"Ignored the image's EXIF block, which could not be read ({_short(exc)}); "
                     f"the picture is used as stored.")
        return image
    number = _whole(value)
    if value is None or number == 1:
        return image
    if number in _TRANSPOSE:
        return image.transpose(_TRANSPOSE[number])
    shown = f"{float(value):g}" if isinstance(value, numbers.Real) and not isinstance(value, bool) else _short(value)
    notes.append(f"Ignored the EXIF orientation {shown}, which is not one of 1–8; "
                 f"the picture is used as stored.")
    return image


def _whole(value: object) -> int | None:
    """An orientation value as a whole number (a SHORT, or a RATIONAL such as 6/1), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return int(number) if number.is_integer() else None


def icc(image: Image.Image, mode: str, notes: list[str]) -> bytes | None:
    """The image's ICC profile if it parses and fits ``mode`` (an RGB profile for RGB/RGBA), else None; an
    unreadable one is noted."""
    profile = image.info.get("icc_profile")
    if not profile:
        return None
    try:
        from PIL import ImageCms

        parsed = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    except Exception as exc:  # littlecms refuses a damaged profile in several ways
        notes.append(f"Ignored the image's ICC colour profile, which could not be read ({_short(exc)}).")
        return None
    space = str(getattr(parsed.profile, "xcolor_space", "")).strip()
    return profile if space == "RGB" and mode in ("RGB", "RGBA") else None


def _short(value: object, limit: int = 120) -> str:
    text = str(value) if isinstance(value, BaseException) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
