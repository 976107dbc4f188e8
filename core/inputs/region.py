"""A region of the input picture: a box in input pixels that a run or a sweep upscales instead of the whole picture.

The one place that says what a region may be, for every door (the page's four boxes, ``/upscale``, ``/sweep``,
``/sweep_price``, the MCP tools, deep links): whole numbers of pixels, ``x`` and ``y`` 0 or more, ``width`` and
``height`` at least ``MIN_SIDE`` (the app's own floor: fal publishes no minimum input size), inside the picture.
A refusal names the bound in the boxes' words ("Region x must be 0 or more, got -5"), the same on the page and from
the API. The crop is taken from the stored input — its colours already converted to sRGB (``core/inputs/images``)
— before any engine sees it, and stored like any input; the output is the crop upscaled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from core import money
from core.errors import InputError
from core.schema import estimated_price, output_size

MIN_SIDE = 64  # input pixels: the app's floor for a region's width and height (fal publishes none)
PARAMS = ("region_x", "region_y", "region_width", "region_height")  # the API's names, in this order
BOX = {"region_x": "x", "region_y": "y", "region_width": "width", "region_height": "height"}  # the page's words
CONTEXT_NOTE = ("The hosted model sees only the region: with less of the picture around it, a crop can come out "
                "a little differently from the same part of the whole picture.")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _whole(name: str, value: Any) -> int:
    """One box's value as whole pixels, or the refusal in the box's words."""
    what = f"Region {BOX[name]}"
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InputError(f"{what} must be a whole number of pixels, got {value[:40]!r}.", name) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{what} must be a whole number of pixels, got {value!r}.", name)
    floor = MIN_SIDE if name in ("region_width", "region_height") else 0
    if value < floor:  # said before "whole": -5.5 is first of all below the bound
        bound = "0 or more" if floor == 0 else f"at least {MIN_SIDE} pixels (the app's floor)"
        raise InputError(f"{what} must be {bound}, got {value:g}.", name)
    if not float(value).is_integer():
        raise InputError(f"{what} must be a whole number of pixels, got {value:g}.", name)
    if value > 10**6:
        raise InputError(f"{what} must be at most 1000000, got {value:g}.", name)
    return int(value)


@dataclass(frozen=True)
class Region:
    """A box of the input picture in input pixels: its top-left corner (``x``, ``y``) and its size."""

    x: int
    y: int
    width: int
    height: int

    @classmethod
    def checked(cls, values: Mapping[str, Any]) -> Region | None:
        """The region of ``values`` by API name (``PARAMS``): None when all four are empty (None or ""), else each
        a whole number within its bound; InputError naming the box at fault (a box given wrong first, then the
        boxes left empty: all four or none)."""
        given = [name for name in PARAMS if not _empty(values.get(name))]
        if not given:
            return None
        checked = {name: _whole(name, values[name]) for name in given}  # a bad box is named before missing ones
        missing = [name for name in PARAMS if name not in given]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise InputError(f"Give all four region boxes or none: {_listed([BOX[n] for n in missing])} {verb} "
                             "empty.", missing[0])
        return cls(*(checked[name] for name in PARAMS))

    @classmethod
    def parse(cls, text: str | None) -> Region | None:
        """A region as the history keeps it (``text``: "100,50 384x384"); None for none or a foreign value."""
        try:
            corner, size = str(text or "").split()
            x, y = corner.split(",")
            width, height = size.split("x")
            return cls(int(x), int(y), int(width), int(height))
        except ValueError:
            return None

    def values(self) -> dict[str, int]:
        """The region by API name (``region_x``…), for a request or a form."""
        return dict(zip(PARAMS, (self.x, self.y, self.width, self.height), strict=True))

    @property
    def text(self) -> str:
        """As the history's ``region`` column and the PNG info keep it: "100,50 384x384"."""
        return f"{self.x},{self.y} {self.width}x{self.height}"

    @property
    def label(self) -> str:
        """As a cell's label, a caption or a pre-flight says it: "region 384×384 at 100,50"."""
        return f"region {self.width}×{self.height} at {self.x},{self.y}"

    @property
    def tag(self) -> str:
        """As an output's file name carries it: "region-384x384+100+50"."""
        return f"region-{self.width}x{self.height}+{self.x}+{self.y}"

    @property
    def box(self) -> tuple[int, int, int, int]:
        """Left, top, right, bottom (Pillow's crop box)."""
        return self.x, self.y, self.x + self.width, self.y + self.height

    def inside(self, width: int, height: int) -> Region:
        """This region, when it lies inside a picture of ``width``×``height``; else InputError naming the side."""
        where = f"The region reaches outside the picture ({width}×{height})"
        for name, start, size, limit, word in (("region_x", self.x, self.width, width, "x"),
                                                ("region_y", self.y, self.height, height, "y")):
            if start >= limit:
                raise InputError(f"{where}: {word} is {start}.", name)
            if start + size > limit:
                side = "width" if word == "x" else "height"
                raise InputError(f"{where}: {word} + {side} is {start + size}.", name)
        return self

    def crop(self, image: Image.Image) -> Image.Image:
        """The region's pixels of ``image`` (already checked to lie inside it)."""
        return image.crop(self.box)


def from_corners(first: tuple[int, int], second: tuple[int, int], width: int, height: int) -> Region:
    """The region two clicked corners span (in either order), clamped to the picture and widened to the floor
    where the picture allows it."""
    left, right = sorted((first[0], second[0]))
    top, bottom = sorted((first[1], second[1]))
    w, h = max(MIN_SIDE, right - left), max(MIN_SIDE, bottom - top)
    w, h = min(w, width), min(h, height)
    left, top = max(0, min(left, width - w)), max(0, min(top, height - h))
    return Region(left, top, w, h)


def price_line(region: Region | None, width: int, height: int, factor: float) -> str:
    """The region's output size and fal price beside the whole picture's: "region 384×384 → 768×768, $0.02 ·
    whole 2048×1536 → 4096×3072, $0.38" (prices in ``core.money``'s words)."""
    whole = f"whole {width}×{height} → {'×'.join(map(str, output_size(width, height, factor)))}, " \
            f"{money.cost(estimated_price(width, height, factor))}"
    if region is None:
        return whole
    out = "×".join(map(str, output_size(region.width, region.height, factor)))
    return (f"region {region.width}×{region.height} → {out}, "
            f"{money.cost(estimated_price(region.width, region.height, factor))} · {whole}")
