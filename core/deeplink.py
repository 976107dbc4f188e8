"""Deep links: parameters in the page's query string, read on load and written by "copy link".

``?preset=gentle-restore&seed=42&creativity=0.3`` applies the preset first, then the explicit parameters on
top; ``region_x``, ``region_y``, ``region_width`` and ``region_height`` (all four) choose a region of the picture
that comes next. Each bad parameter is refused on its own with a message; the good ones still apply. A share link holds
only what differs from the defaults (or from its shipped preset) and never a key, a local path or a data URI.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from core import config, presets
from core.errors import InputError
from core.inputs.region import PARAMS as REGION_PARAMS
from core.inputs.region import Region
from core.schema import FIELD_BY_NAME, PARAMETER_FIELDS, check_value, defaults

PRESET_PARAM = "preset"
# Gradio reads these itself (theme, API page); they are not ours to judge.
GRADIO_PARAMS = frozenset({"__theme", "view"})
RANDOM_SEED_WORDS = ("", "random", "none")
_SHOWN_CHARS = 40  # how much of a refused value a message repeats


@dataclass
class DeepLink:
    """What a query string asks for: validated ``values``, a ``preset`` id, an https ``image_url``, ``errors``."""

    values: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    image_url: str | None = None
    errors: list[str] = field(default_factory=list)
    region: Region | None = None  # region_x, region_y, region_width, region_height: for the picture that comes next

    def arguments(self) -> dict[str, Any]:
        """Every parameter the page should show: schema defaults, then the preset, then explicit values."""
        arguments = {**defaults(), **self.values}
        if self.image_url:
            arguments["image_url"] = self.image_url
        return arguments


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…")


def _parse_image_url(raw: str) -> str:
    text = raw.strip()
    if not text.lower().startswith("https://"):
        raise InputError("only https:// addresses can come from a link (upload files in the page).", "image_url")
    url: str = check_value("image_url", text)
    return url


def _parse_value(name: str, raw: Any) -> Any:
    if name == "seed" and isinstance(raw, str) and raw.strip().lower() in RANDOM_SEED_WORDS:
        return None
    return check_value(name, raw)


def parse_query(params: Mapping[str, str], owner: str = "") -> DeepLink:
    """Read deep-link parameters; the preset applies first, explicit parameters override it."""
    link = DeepLink()
    preset_id = params.get(PRESET_PARAM)
    if preset_id is not None:
        preset = presets.find(preset_id.strip(), owner) if preset_id.strip() else None
        if preset is None:
            link.errors.append(f"preset={_shown(preset_id)} ignored: there is no preset with that id.")
        else:
            link.preset = preset.id
            link.values.update(preset.arguments)
    for name in params:
        if name in GRADIO_PARAMS or name == PRESET_PARAM or not name:
            continue
        if name not in FIELD_BY_NAME and name not in REGION_PARAMS:
            # The value is not repeated: an unknown parameter might be something private pasted by mistake.
            link.errors.append(f"{name[:_SHOWN_CHARS]}: unknown parameter, ignored.")
    for fld in FIELD_BY_NAME.values():  # schema order, so messages come in the order of the form
        if fld.name not in params:
            continue
        raw = params[fld.name]
        try:
            if fld.name == "image_url":
                link.image_url = _parse_image_url(raw)
            else:
                link.values[fld.name] = _parse_value(fld.name, raw)
        except InputError as exc:
            link.errors.append(f"{fld.name}={_shown(raw)} refused: {exc.message}")
    link.values = {name: link.values[name] for name in FIELD_BY_NAME if name in link.values}
    try:  # the region's one rule (core/inputs/region.py), in the boxes' words
        link.region = Region.checked({name: params[name] for name in REGION_PARAMS if name in params})
    except InputError as exc:
        link.errors.append(f"The region was not applied: {exc.message}")
    return link


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""  # an empty seed means random
    return repr(value) if isinstance(value, float) else str(value)  # repr: floats survive the round trip


def _shareable_image(value: Any) -> bool:
    if not isinstance(value, str) or not value.lower().startswith("https://"):
        return False  # data URIs and local paths stay private (and would not fit in a link anyway)
    return "@" not in urlsplit(value).netloc  # no user:password@ credentials


def _leaks_key(text: str) -> bool:
    key = config.env_fal_key()
    return bool(key and len(key) >= 8 and key in text)


def share_query(arguments: dict[str, Any], preset_id: str | None = None, region: Region | None = None) -> str:
    """A query string for these arguments: the preset (if shipped) and only the values that differ from it, then
    the ``region`` (its four values) when one is given.

    A saved preset exists only for its owner, so its values are written out in full instead of its id.
    """
    base = defaults()
    pairs: list[tuple[str, str]] = []
    shipped = {p.id: p for p in presets.shipped()}
    if preset_id in shipped:
        base = presets.merged(shipped[preset_id])
        pairs.append((PRESET_PARAM, preset_id))
    image_url = arguments.get("image_url")
    if _shareable_image(image_url):
        with suppress(InputError):  # an address the endpoint would refuse is not worth sharing
            pairs.append(("image_url", check_value("image_url", image_url)))
    for fld in PARAMETER_FIELDS:
        value = _parse_value(fld.name, arguments.get(fld.name, fld.default))
        if value != base[fld.name]:  # 2 == 2.0 and None == None: only real changes are written
            pairs.append((fld.name, _query_text(value)))
    if region is not None:
        pairs += [(name, str(value)) for name, value in region.values().items()]
    return urlencode([(k, v) for k, v in pairs if not _leaks_key(v)])


def share_url(base_url: str, arguments: dict[str, Any], preset_id: str | None = None,
              region: Region | None = None) -> str:
    """``base_url`` with the share query; its own unrelated parameters (e.g. ``__theme``) are kept."""
    parts = urlsplit(base_url)
    ours = set(FIELD_BY_NAME) | {PRESET_PARAM} | set(REGION_PARAMS)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ours]
    query = "&".join(q for q in (urlencode(kept), share_query(arguments, preset_id, region)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
