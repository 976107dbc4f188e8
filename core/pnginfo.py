"""Parameters in PNG text chunks: every output says which settings, seed and request made it.

Two chunks are written: ``clarity-studio`` (JSON the app reads back) and ``parameters`` (the one-line-per-part
text AUTOMATIC1111-style tools show). Reading never decodes pixels and never raises on a random file.

Every output PNG is tagged sRGB (an iCCP chunk holding ``core.inputs.colour.srgb_profile()``): the local
engine's as it is written, fal's when it is stamped; a fal output carrying another profile is converted to sRGB.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

from core.errors import InputError
from core.inputs import colour
from core.runs.runs import ignores_seed
from core.schema import ENDPOINT, FIELD_BY_NAME, PARAMETER_FIELDS, check_value

CHUNK = "clarity-studio"
TEXT_CHUNK = "parameters"
VERSION = 1
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _arguments(info: dict[str, Any]) -> dict[str, Any]:
    """Every parameter (defaults filled, for one left out or None too), with the seed actually used when known;
    never the image."""
    given = info.get("arguments") or {}
    values = {f.name: f.default if given.get(f.name) is None else given[f.name] for f in PARAMETER_FIELDS}
    if info.get("seed") is not None:
        values["seed"] = info["seed"]
    return values


RECORD_KEYS = ("image_url", "sweep_id", "cell", "region", "created_at")  # what reproduces the run beyond its arguments


def payload(info: dict[str, Any]) -> dict[str, Any]:
    """The JSON stored in the ``clarity-studio`` chunk for ``info``: ``arguments`` (every parameter, defaults
    filled), ``seed`` (the one used; None on an engine that uses none), ``request_id``, ``engine`` and ``model``
    apart, and when the run had them: ``image_url`` (the https URL the picture was given by), ``sweep_id`` and
    ``cell``, ``region`` (the part of the picture upscaled, "x,y widthxheight"), ``created_at`` (ISO 8601 with the
    zone's offset); each None otherwise."""
    arguments = _arguments(info)
    return {"endpoint": ENDPOINT, "arguments": arguments, "seed": info.get("seed"),
            "request_id": info.get("request_id"), "engine": info.get("engine"), "model": info.get("model"),
            **{key: info.get(key) for key in RECORD_KEYS}, "version": VERSION}


def parameters_text(info: dict[str, Any]) -> str:
    """The human-readable ``parameters`` text: prompt, negative prompt, then one line of settings."""
    arguments = _arguments(info)
    settings = {
        "Steps": arguments["num_inference_steps"], "CFG scale": arguments["guidance_scale"],
        "Seed": _seed_text(info, arguments),
        "Upscale factor": arguments["upscale_factor"], "Creativity": arguments["creativity"],
        "Resemblance": arguments["resemblance"], "Safety checker": arguments["enable_safety_checker"],
        "Engine": info.get("engine"), "Model": info.get("model"), "Request id": info.get("request_id"),
        "Sweep": info.get("sweep_id"), "Region": info.get("region"), "Image URL": info.get("image_url"),
        "Endpoint": ENDPOINT,
    }
    line = ", ".join(f"{key}: {value}" for key, value in settings.items() if value not in (None, ""))
    return f"{arguments['prompt']}\nNegative prompt: {arguments['negative_prompt']}\n{line}"


def _seed_text(info: dict[str, Any], arguments: dict[str, Any]) -> Any:
    """The seed as the text says it: the one used; "not used" on an engine that uses none (whatever was asked for:
    a sweep's grid seed is recorded in ``arguments``); else the one asked for, or "random"."""
    if info.get("seed") is not None:
        return info["seed"]
    if ignores_seed(str(info.get("engine"))):
        return "not used"
    return arguments["seed"] if arguments["seed"] is not None else "random"


def _pnginfo(info: dict[str, Any], keep: dict[str, Any] | None = None) -> PngImagePlugin.PngInfo:
    chunks = PngImagePlugin.PngInfo()
    for key, value in (keep or {}).items():  # other tools' text chunks survive a re-stamp
        if isinstance(key, str) and isinstance(value, str) and key not in (CHUNK, TEXT_CHUNK):
            chunks.add_text(key, value)
    chunks.add_text(CHUNK, json.dumps(payload(info), ensure_ascii=True, default=str))
    chunks.add_text(TEXT_CHUNK, parameters_text(info))  # iTXt (UTF-8) by itself when the prompt needs it
    return chunks


def _save(image: Image.Image, path: Path | io.BytesIO, chunks: PngImagePlugin.PngInfo, compress_level: int = 6,
          compress_type: int = -1) -> None:
    extra: dict[str, Any] = {key: image.info[key] for key in ("dpi", "exif") if image.info.get(key)}
    extra["icc_profile"] = colour.srgb_profile()  # the pixels are sRGB (converted when read): say so
    image.save(path, format="PNG", pnginfo=chunks, compress_level=compress_level, compress_type=compress_type,
               **extra)


def write_png(image: Image.Image, path: str | Path, info: dict[str, Any], *, compress_level: int = 6,
              compress_type: int = -1) -> None:
    """Write ``image`` as a PNG at ``path`` carrying its parameters (see ``payload``); lossless at any level and
    zlib strategy (``compress_type``, e.g. ``zlib.Z_RLE``; -1 is zlib's default)."""
    _save(image, Path(path), _pnginfo(info), compress_level, compress_type)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _text_chunk(key: str, value: str) -> bytes:
    try:
        return _chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
    except UnicodeEncodeError:  # iTXt: uncompressed UTF-8, no language tag
        return _chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8"))


def _profile_chunk() -> bytes:
    return _chunk(b"iCCP", b"sRGB\0\0" + zlib.compress(colour.srgb_profile()))


def _restamped(data: bytes, info: dict[str, Any], tag_srgb: bool = False) -> bytes:
    """The same PNG bytes with our two chunks (re)placed after IHDR, and an sRGB iCCP chunk when ``tag_srgb``;
    every other chunk is copied untouched."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    out, position, ours = [PNG_SIGNATURE], len(PNG_SIGNATURE), {CHUNK.encode(), TEXT_CHUNK.encode()}
    while position < len(data):
        if position + 12 > len(data):
            raise ValueError("truncated PNG")
        (length,), kind = struct.unpack(">I", data[position:position + 4]), data[position + 4:position + 8]
        end = position + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG")
        if not (kind in (b"tEXt", b"zTXt", b"iTXt") and data[position + 8:end - 4].split(b"\0", 1)[0] in ours):
            out.append(data[position:end])
        if kind == b"IHDR":
            out += [_text_chunk(CHUNK, json.dumps(payload(info), ensure_ascii=True, default=str)),
                    _text_chunk(TEXT_CHUNK, parameters_text(info))]
            if tag_srgb:
                out.append(_profile_chunk())
        position = end
    return b"".join(out)


def carries(path: str | Path, info: dict[str, Any]) -> bool:
    """Whether the PNG at ``path`` already carries exactly the chunks ``stamp_png(path, info)`` would write and
    an sRGB profile (read from the header only, never the pixels)."""
    try:
        with Image.open(path) as image:
            text = dict(image.info)  # the chunks before the pixels; ``image.text`` would decode them
    except Exception:  # not a PNG, or damaged: it needs stamping (or decoding) anyway
        return False
    ours = text.get(CHUNK) == json.dumps(payload(info), ensure_ascii=True, default=str)
    return ours and text.get(TEXT_CHUNK) == parameters_text(info) and colour.is_srgb(text.get("icc_profile"))


def stamp_png(path: str | Path, info: dict[str, Any]) -> None:
    """Put the parameter chunks and an sRGB profile into an existing PNG, replaced atomically: pixels and other
    chunks untouched when it has no profile or an sRGB one; converted to sRGB when it carries another (or is
    not a well-formed PNG). A PNG that already carries them (the local engine writes them with the pixels) is
    left as it is."""
    path = Path(path)
    if carries(path, info):
        return
    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as header:
            profile, srgb_chunk = header.info.get("icc_profile"), "srgb" in header.info
        if profile and not colour.is_srgb(profile):
            raise ValueError("another colour profile")
        stamped = _restamped(data, info, tag_srgb=not profile and not srgb_chunk)
    except Exception:  # not a well-formed PNG, or not sRGB: decode, convert, and write it as one
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            text = dict(getattr(image, "text", {}))
            converted, _ = colour.to_srgb(image, [])
            buffer = io.BytesIO()
            _save(converted, buffer, _pnginfo(info, text))
            stamped = buffer.getvalue()
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(stamped)
        os.chmod(tmp, path.stat().st_mode & 0o777)  # mkstemp makes it private; keep the file's own mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_png_metadata(source: str | Path | bytes) -> dict[str, Any] | None:
    """The whole ``clarity-studio`` record (arguments checked, see ``read_png_info``), or None."""
    try:
        stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        with Image.open(stream) as image:  # lazy: text chunks before the pixels are read, pixels are not
            raw = image.info.get(CHUNK)
        record = json.loads(raw) if isinstance(raw, str) else None
    except Exception:  # Pillow raises many kinds (SyntaxError, EOFError, struct.error…) on a damaged file
        return None
    if not isinstance(record, dict) or not isinstance(record.get("arguments"), dict):
        return None
    candidates = dict(record["arguments"])
    if candidates.get("seed") is None and record.get("seed") is not None:
        candidates["seed"] = record["seed"]  # the seed actually used, when only the top level has it
    arguments: dict[str, Any] = {}
    for name, value in candidates.items():
        if name in FIELD_BY_NAME and name != "image_url":  # unknown keys (a newer version) are ignored
            try:
                arguments[name] = check_value(name, value)
            except InputError:
                continue  # a damaged value: the caller falls back to the default for that field
    return {**record, "arguments": arguments}


def read_png_info(source: str | Path | bytes) -> dict[str, Any] | None:
    """The parameters stored in a PNG (each checked against the schema, the seed used included), or None."""
    record = read_png_metadata(source)
    return None if record is None else record["arguments"]
