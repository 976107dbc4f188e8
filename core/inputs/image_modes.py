"""Pixel modes: which images carry transparency, and how any Pillow mode becomes RGB or RGBA.

Transparency is declared three ways (PNG spec §11.3.2, Pillow's "Image file formats" and "Modes" pages):
an alpha band (RGBA, LA, PA; premultiplied RGBa, La; 16-bit PNG grey+alpha and RGBA open as RGBA; WebP and
TIFF alpha), a colour key in ``info["transparency"]`` (PNG tRNS for grey at 1/2/4/8/16 bits — modes 1, L,
I;16 — and for RGB at 8/16 bits; GIF's transparent index in L), and per-entry alpha for palettes (P, with an
index or a byte string). Every other image is opaque and becomes RGB.

Depth comes from the mode Pillow gives the file, never from the pixel values: 16-bit grey (``I;16`` in any byte
order) is scaled from 0–65535, however dark the picture; 16-bit-per-channel RGB/RGBA PNG and TIFF already open
as 8-bit modes, their high byte kept (a scale by 1/256, at most one level from exact rounding). Modes with no
declared range — 32-bit float (``F``) and 32-bit integer (``I``) — are refused by name (``refuse_unranged``).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.errors import InputError

GREY_MODES = ("1", "L", "I", "I;16", "I;16L", "I;16B", "I;16N")  # a grey colour key applies to these
PREMULTIPLIED = {"RGBa": "RGBA", "La": "LA"}
ALPHA_MODES = ("RGBA", "LA", "PA", *PREMULTIPLIED)  # not LAB: its "A" band is the a* colour axis
SIXTEEN_BIT_GREY = ("I;16", "I;16L", "I;16B", "I;16N")
UNRANGED = {"F": "32-bit float", "I": "32-bit integer"}  # no declared white: any mapping to 8 bits is a guess


def refuse_unranged(image: Image.Image, name: str = "The image") -> None:
    """Raise InputError naming the mode when the pixels have no declared range (``UNRANGED``)."""
    kind = UNRANGED.get(image.mode)
    if kind:
        raise InputError(f"{name} is a {kind} picture (mode {image.mode}): {kind} pictures are not supported; "
                         f"export 8 or 16 bits.", "image")


def colour_key(image: Image.Image) -> int | tuple[int, int, int] | None:
    """The colour declared transparent (grey level or RGB triple, in the image's own sample scale), or None."""
    key = image.info.get("transparency")
    if image.mode in GREY_MODES and isinstance(key, int) and not isinstance(key, bool):
        return key
    if image.mode == "RGB" and isinstance(key, (tuple, list)) and len(key) == 3:
        return tuple(int(value) for value in key)  # type: ignore[return-value]
    return None


def png_key_to_pixel_scale(image: Image.Image, bit_depth: int) -> None:
    """Put a PNG tRNS key on the scale of the pixels Pillow decoded: 2- and 4-bit grey samples are widened
    to 0–255 (×85, ×17) but their key is not; 16-bit RGB samples are cut to their high byte but the key is
    not (so a 16-bit colour key matches the 256 levels sharing its high byte: the nearest 8 bits can say)."""
    key = colour_key(image)
    if key is None:
        return
    if image.mode == "L" and bit_depth in (2, 4):
        image.info["transparency"] = key * (255 // ((1 << bit_depth) - 1))
    elif image.mode == "RGB" and bit_depth == 16 and isinstance(key, tuple):
        image.info["transparency"] = tuple(value >> 8 for value in key)


def has_alpha(image: Image.Image) -> bool:
    """Whether the image declares any transparency (an alpha band, a colour key, palette alpha)."""
    if image.mode in ALPHA_MODES:
        return True
    if image.mode == "P":
        return image.info.get("transparency") is not None
    return colour_key(image) is not None


def _grey8(image: Image.Image) -> np.ndarray:
    """(H, W) uint8 of a grey image; 16-bit grey is scaled from its declared 0–65535 (never guessed from the
    values: a dark 16-bit picture stays dark)."""
    if image.mode == "1":
        return np.asarray(image.convert("L"))
    if image.mode == "L":
        return np.asarray(image)
    if image.mode not in SIXTEEN_BIT_GREY:
        raise InputError(f"{UNRANGED.get(image.mode, image.mode)} pictures are not supported; export 8 or 16 bits.",
                         "image")
    array = np.asarray(image, dtype=np.float64)
    return (array / 65535.0 * 255).round().clip(0, 255).astype(np.uint8)


def _key_mask(image: Image.Image, key: int | tuple[int, int, int]) -> np.ndarray:
    """(H, W) bool: True where a pixel is not the key colour (opaque)."""
    if image.mode == "1":
        mask: np.ndarray = np.asarray(image.convert("L")) != (255 if key else 0)
        return mask
    array = np.asarray(image)
    if array.ndim == 2:
        mask = array != key
        return mask
    mask = np.any(array[..., :3] != np.asarray(key, dtype=array.dtype), axis=-1)
    return mask


def to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    """The image as RGBA when it declares transparency, else RGB; ``info`` is left empty (no stale key)."""
    mode = image.mode
    if mode in PREMULTIPLIED:  # undo the premultiplication before anything else
        image, mode = image.convert(PREMULTIPLIED[mode]), PREMULTIPLIED[mode]
    key = colour_key(image)
    if mode in ALPHA_MODES or (mode == "P" and image.info.get("transparency") is not None):
        out = image.convert("RGBA")
    elif mode in GREY_MODES:
        out = Image.fromarray(_grey8(image), "L").convert("RGB")
        if key is not None:
            out.putalpha(Image.fromarray((_key_mask(image, key) * 255).astype(np.uint8), "L"))
    else:
        out = image.convert("RGB")
        if key is not None:
            out.putalpha(Image.fromarray((_key_mask(image, key) * 255).astype(np.uint8), "L"))
    if out is image:
        out = image.copy()
    out.info = {}
    return out
