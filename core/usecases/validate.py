"""Arguments and input image of a run, checked before anything is sent: the schema's rules (``core/schema.py``),
the picture read by content (``core/inputs/``), and the output-size limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from core import config, schema
from core.engines import describe
from core.errors import InputError
from core.inputs import images
from core.inputs.images import InputImage
from core.inputs.region import Region

NO_IMAGE = "Give an image: upload a file, or paste an https:// URL or a data: URI."


def read_input(file: str | None, url: str | None) -> InputImage:
    """The input the visitor gave: the file first, else the URL or data URI, decoded and stored. InputError
    (field ``image``) when there is none or it cannot be read."""
    if file:
        return images.load_file(file)
    if url and url.strip():
        return images.load_url(url.strip())
    raise InputError(NO_IMAGE, "image")


@dataclass(frozen=True)
class Prepared:
    """A run's checked arguments, the stored input the engine gets (the region's crop when there is one) and, for a
    region, the whole picture it was cut from (what *Run the whole picture* runs)."""

    arguments: dict[str, Any]
    path: str | None
    whole_path: str | None = None


def cut(loaded: InputImage, region: Region | None) -> InputImage:
    """``loaded``, or the part of it ``region`` covers (checked to lie inside it), stored like any input: cut from
    the stored picture, so after its colours were converted to sRGB and before any engine sees it."""
    return loaded if region is None else _cut(loaded.path, region)


def cut_stored(path: str, region: Region) -> str:
    """The stored crop of a stored input (``cut``), by path: what a pre-flight prices."""
    return _cut(path, region).path


def _cut(path: str, region: Region) -> InputImage:
    with Image.open(path) as whole:
        region.inside(whole.width, whole.height)
        return images.store(region.crop(whole))


def prepare(parameters: Mapping[str, Any], image: str | None, engine: str, notes: list[str] | None = None,
            measure: bool = False) -> tuple[dict[str, Any], str | None]:
    """``prepare_input`` without a region: the arguments and the stored input."""
    found = prepare_input(parameters, image, engine, notes, measure)
    return found.arguments, found.path


def prepare_input(parameters: Mapping[str, Any], image: str | None, engine: str, notes: list[str] | None = None,
                  measure: bool = False, region: Region | None = None) -> Prepared:
    """Validated arguments and the stored input file (the picture as read: colours converted to sRGB through
    its profile). ``parameters`` are the endpoint's, ``image_url`` among them. An https URL is read too: an engine
    that fetches URLs (its descriptor's ``fetches_urls``) is handed it as it is (``image_url``) only when the
    picture is already upright 8-bit sRGB in a format it reads, else the stored, converted PNG. What was ignored
    or converted while reading the image (unreadable metadata, a colour profile) is appended to ``notes``.
    ``measure`` is kept for callers: the size is always known now. With a ``region`` the engine gets its crop
    (never the URL as it is) and the output-size limit is the crop's. InputError naming the field at fault."""
    raw = dict(parameters)
    url = str(raw.pop("image_url", None) or "").strip()
    arguments = schema.validate(raw, require_image=False)
    if not image and not url:
        raise InputError(NO_IMAGE, "image")
    whole = read_input(image, url)
    loaded = cut(whole, region)
    if not image and describe(engine).fetches_urls and loaded.source_url and region is None:
        arguments["image_url"] = schema.check_value("image_url", loaded.source_url)
    if notes is not None:
        notes.extend(whole.notes)
    out_w, out_h = schema.output_size(loaded.width, loaded.height, arguments["upscale_factor"])
    limit = config.max_output_megapixels()
    if out_w * out_h > limit * 1e6:
        raise InputError(f"The output would be {out_w}×{out_h} ({out_w * out_h / 1e6:.0f} MP); the limit is "
                         f"{limit:g} MP. Lower the upscale factor.", "upscale_factor")
    return Prepared(arguments, loaded.path, whole.path if region is not None else None)


def check_url_first(parameters: Mapping[str, Any], image: str | None, engine: str) -> None:
    """InputError naming ``image_url`` when a pasted https address is malformed — said before a key is asked for
    or anything is fetched (a data URI is read, and judged, by ``prepare``)."""
    pasted = str(parameters.get("image_url") or "").strip()
    if not image and describe(engine).fetches_urls and pasted and not pasted.lower().startswith("data:"):
        schema.check_value("image_url", pasted)
