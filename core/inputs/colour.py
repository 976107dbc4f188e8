"""Colours as the picture means them: an embedded ICC profile is honoured by converting the pixels to sRGB.

Every picture is read into sRGB once, here, when it is decoded (``core/inputs/images.py``), so both engines,
fal's upload, the slider's "before", thumbnails, metrics and sweeps all see the same pixels. The conversion is
LittleCMS's (Pillow's ``ImageCms``) with the relative colorimetric intent: colours inside sRGB keep their
appearance, colours outside it (a Display P3 or Adobe RGB red, say) are clipped to the nearest sRGB colour.
Any profile LittleCMS reads works: matrix/TRC or LUT-based, ICC v2 or v4, RGB, grey (with its own tone curve)
and CMYK; CIELAB pixels go through LittleCMS's built-in Lab profile. A profile that cannot be parsed, or that
does not fit the pixels (a CMYK profile on RGB pixels), is ignored with a note — never a refusal. A profile
that already renders as sRGB (within one level on a probe of 4096 colours) is left alone, so re-reading a
stored input changes nothing. Outputs and stored inputs carry ``srgb_profile()`` (PNG iCCP).
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms

from core.inputs import image_modes

INTENT = ImageCms.Intent.RELATIVE_COLORIMETRIC


@functools.lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The ICC profile every output PNG and stored input is tagged with: LittleCMS's built-in sRGB (588 bytes),
    its creation date zeroed so the same picture is stored as the same bytes in every process."""
    data = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return data[:24] + bytes(12) + data[36:]


@functools.lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class Profile:
    """A parsed embedded profile: LittleCMS's handle, its colour space (``RGB``, ``GRAY``, ``CMYK``…), its name."""

    handle: ImageCms.ImageCmsProfile
    space: str
    name: str
    digest: str  # sha256 of its bytes


def parse(data: bytes | None, notes: list[str]) -> Profile | None:
    """The profile in ``data`` (an ``icc_profile`` as Pillow reads it), or None; unreadable → a note."""
    if not data:
        return None
    try:
        handle = ImageCms.ImageCmsProfile(io.BytesIO(data))
        space = str(handle.profile.xcolor_space).strip()
    except Exception as exc:  # LittleCMS refuses a damaged profile in several ways (OSError, PyCMSError…)
        notes.append(f"Ignored the image's ICC colour profile, which could not be read ({_short(exc)}); its "
                     f"colours are taken as sRGB.")
        return None
    try:
        name = (ImageCms.getProfileDescription(handle) or "").strip()
    except Exception:  # a profile without a readable description is still a profile
        name = ""
    return Profile(handle, space, name or f"an unnamed {space} profile", hashlib.sha256(data).hexdigest())


def is_srgb(data: bytes | None) -> bool:
    """Whether an ICC profile (bytes) renders as sRGB: an RGB profile changing no probe colour by more than one
    level. False for None, an unreadable profile, or any other space."""
    profile = parse(data, [])
    return profile is not None and profile.space == "RGB" and _renders_as_srgb(profile.digest, profile.handle, "RGB")


def to_srgb(image: Image.Image, notes: list[str]) -> tuple[Image.Image, str | None]:
    """``image`` (any 8- or 16-bit mode, upright) as 8-bit sRGB: RGB, or RGBA when it declares transparency.

    Returns the image and what was converted (``"Display P3 → sRGB"``), or None when nothing was; raises
    ``ImageCms.PyCMSError`` only if LittleCMS fails on a profile it parsed (the caller notes it and goes on).
    """
    if image.mode == "LAB":  # CIELAB pixels mean the same everywhere: LittleCMS's Lab (D50) profile
        lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
        return _apply(image, _transform(lab, "LAB")), "CIELAB → sRGB"
    profile = parse(image.info.get("icc_profile"), notes)
    if profile is not None and profile.space == "CMYK" and image.mode == "CMYK":
        return _apply(image, _transform(profile.handle, "CMYK")), f"{profile.name} → sRGB"
    out = image_modes.to_rgb_or_rgba(image)
    if profile is None:
        return out, None
    grey = image.mode in (*image_modes.GREY_MODES, "LA", "La") and profile.space == "GRAY"
    if not (profile.space == "RGB" and image.mode != "CMYK") and not grey:
        notes.append(f"Ignored the image's colour profile ({profile.name}: {profile.space or 'unknown'} colours), "
                     f"which does not fit its {image.mode} pixels; its colours are taken as sRGB.")
        return out, None
    if _renders_as_srgb(profile.digest, profile.handle, "L" if grey else "RGB"):
        return out, None
    colour = out.getchannel(0) if grey else out.convert("RGB")
    converted = _apply(colour, _transform(profile.handle, "L" if grey else "RGB"))
    if out.mode == "RGBA":
        converted.putalpha(out.getchannel("A"))
    return converted, f"{profile.name} → sRGB"


def _transform(handle: ImageCms.ImageCmsProfile, mode: str) -> ImageCms.ImageCmsTransform:
    """A transform from ``handle`` (pixels in ``mode``) to 8-bit sRGB; built per use (LittleCMS's one-pixel
    cache makes a shared transform unsafe across threads), a few milliseconds."""
    return ImageCms.buildTransform(handle, _srgb(), mode, "RGB", renderingIntent=INTENT)


def _apply(image: Image.Image, transform: ImageCms.ImageCmsTransform) -> Image.Image:
    converted = ImageCms.applyTransform(image, transform)
    assert converted is not None  # None only for an in-place transform
    return converted


def _probe(mode: str) -> Image.Image:
    if mode == "L":
        return Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16), "L")
    levels = np.arange(0, 256, 17, dtype=np.uint8)  # 16 levels per channel: 4096 colours
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(64, 64, 3)
    return Image.fromarray(grid, "RGB")


_verdicts: dict[tuple[str, str], bool] = {}  # (sha256 of the profile, mode) → renders as sRGB


def _renders_as_srgb(digest: str, handle: ImageCms.ImageCmsProfile, mode: str) -> bool:
    """Whether converting through this profile changes no probe colour by more than one level (an sRGB profile
    by any maker, or a grey profile with sRGB's curve). Remembered by the profile's sha256."""
    known = _verdicts.get((digest, mode))
    if known is None:
        probe = _probe(mode)
        converted = np.asarray(_apply(probe, _transform(handle, mode)), dtype=np.int16)
        expected = np.asarray(probe.convert("RGB"), dtype=np.int16)
        known = bool(np.abs(converted - expected).max() <= 1)
        if len(_verdicts) >= 64:
            _verdicts.clear()
        _verdicts[(digest, mode)] = known
    return known


def _short(value: BaseException, limit: int = 120) -> str:
    text = str(value) or type(value).__name__
    return text if len(text) <= limit else text[:limit] + "…"
