"""What the fake clarity-upscaler runner does: validate like fal (pydantic v2 shapes) against fal's published
schema (``published.py``, not the app's), read the input, resize.

The output is a real PNG of exactly ``round(w·f) × round(h·f)`` so callers can check sizes end to end.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import math
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PIL import Image

from testsupport.fal_server.published import INPUTS, Input

ErrorItem = dict[str, Any]
_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w=.+-]+)*;base64,(.*)$", re.S)

LOAD_ERROR = ("Failed to load the image. Please ensure the image file is not corrupted and is in a "
              "supported format.", "image_load_error")
DOWNLOAD_ERROR = ("Failed to download the file. Please check if the URL is accessible and try again.",
                  "file_download_error")


def _error(field: str, msg: str, kind: str, value: Any = None, ctx: dict | None = None) -> ErrorItem:
    item: ErrorItem = {"loc": ["body", field], "msg": msg, "type": kind}
    if value is not None:
        item["input"] = value
    if ctx:
        item["ctx"] = ctx
    return item


MAX_RANDOM_SEED = 2**32 - 1  # the range this server draws a random seed from (fal publishes none)


def _number(field: Input, value: Any) -> tuple[float | None, ErrorItem | None]:
    """pydantic's lax number parsing: numbers and numeric strings, never booleans."""
    integer = field.type == "integer"
    kind = "int" if integer else "float"
    label = "integer" if integer else "number"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None, _error(field.name, f"Input should be a valid {label}", f"{kind}_type", value)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None, _error(field.name, f"Input should be a valid {label}, unable to parse string as "
                                f"{'an integer' if integer else 'a number'}",
                                f"{kind}_parsing", value)
    if not math.isfinite(value):
        return None, _error(field.name, "Input should be a finite number", "finite_number", value)
    if integer and value != int(value):
        return None, _error(field.name, "Input should be a valid integer, got a number with a fractional part",
                            "int_from_float", value)
    value = int(value) if integer else float(value)
    if field.ge is not None and value < field.ge:
        return None, _error(field.name, f"Input should be greater than or equal to {field.ge:g}",
                            "greater_than_equal", value, {"ge": field.ge})
    if field.le is not None and value > field.le:
        return None, _error(field.name, f"Input should be less than or equal to {field.le:g}",
                            "less_than_equal", value, {"le": field.le})
    return value, None


def validate(arguments: Any) -> tuple[dict[str, Any], list[ErrorItem]]:
    """Clean arguments with defaults filled, and every validation error (unknown keys are ignored, like fal)."""
    if not isinstance(arguments, dict):
        return {}, [{"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"}]
    clean: dict[str, Any] = {}
    errors: list[ErrorItem] = []
    for field in INPUTS:
        value = arguments.get(field.name)
        if field.name not in arguments or (value is None and field.name == "seed"):
            if field.required:
                errors.append(_error(field.name, "Field required", "missing"))
            elif field.default is not None:
                clean[field.name] = field.default
            continue
        if field.type in ("float", "integer"):
            number, error = _number(field, value)
            errors.extend([error] if error else [])
            clean[field.name] = number
        elif field.type == "boolean":
            lax = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
            if isinstance(value, bool):
                clean[field.name] = value
            elif isinstance(value, (int, str)) and str(value).strip().lower() in lax:
                clean[field.name] = lax[str(value).strip().lower()]
            else:
                errors.append(_error(field.name, "Input should be a valid boolean", "bool_parsing", value))
        elif not isinstance(value, str):
            errors.append(_error(field.name, "Input should be a valid string", "string_type", value))
        else:
            clean[field.name] = value
    return clean, errors


def read_image(url: str, read_served: Callable[[str], bytes | None]) -> Image.Image | ErrorItem:
    """Decode a data URI or a URL this server serves; anything else cannot be downloaded here (no network)."""
    if url.startswith("data:"):
        match = _DATA_URI.match(url)
        try:
            data = base64.b64decode(match.group(3), validate=False) if match else b""
        except (binascii.Error, ValueError):
            data = b""
    elif url.startswith(("https://", "http://")):
        served = read_served(url)
        if served is None:
            return _error("image_url", *DOWNLOAD_ERROR, url)
        data = served
    else:
        return _error("image_url", *DOWNLOAD_ERROR, url[:100])
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        return _error("image_url", *LOAD_ERROR, url[:100])
    return image


_made: OrderedDict[tuple[bytes, tuple[int, int], str], bytes] = OrderedDict()  # the last few outputs
_made_lock = threading.Lock()


def _output_png(image: Image.Image, size: tuple[int, int]) -> bytes:
    """The input resized and encoded as PNG, made once per input (by its pixels' digest), size and mode.

    fal makes its outputs on its own machines: a submit there is a queue insert, not a second of this machine's
    CPU. Encoding a 1 MP PNG here takes ~0.4 s, so a 12-cell sweep of one picture would otherwise spend ~5 s of the
    shared cores standing in for fal's GPUs, and the app under test would be measured against that."""
    key = (hashlib.sha256(image.tobytes()).digest(), size, image.mode)
    with _made_lock:
        if key in _made:
            _made.move_to_end(key)
            return _made[key]
    buffer = io.BytesIO()
    image.resize(size, Image.Resampling.BICUBIC).save(buffer, format="PNG")
    with _made_lock:
        _made[key] = buffer.getvalue()
        while len(_made) > 8:
            _made.popitem(last=False)
    return buffer.getvalue()


def upscale(arguments: dict[str, Any], read_served: Callable[[str], bytes | None]
            ) -> tuple[int, Any, bytes | None]:
    """Run the fake model: ``(200, output-without-url, png)`` or ``(422, {"detail": [...]}, None)``.

    The caller stores the PNG and fills in ``image.url``.
    """
    clean, errors = validate(arguments)
    if errors:
        return 422, {"detail": errors}, None
    image = read_image(clean["image_url"], read_served)
    if isinstance(image, dict):
        return 422, {"detail": [image]}, None
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    factor = clean["upscale_factor"]
    size = max(1, round(image.width * factor)), max(1, round(image.height * factor))
    png = _output_png(image, size)
    seed = clean.get("seed")
    if seed is None:
        seed = random.randint(0, MAX_RANDOM_SEED)
    name = "".join(random.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=12))
    result = {
        "image": {"url": None, "content_type": "image/png", "file_name": f"{name}.png", "file_size": len(png),
                  "width": size[0], "height": size[1]},
        "seed": seed,
        "timings": {"inference": 0.0},
    }
    return 200, result, png
