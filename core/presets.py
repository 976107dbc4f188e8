"""Presets: named parameter sets merged over the schema defaults.

Shipped presets are the JSON files in the repository's ``presets/`` folder; a visitor's own presets live in
``<data dir>/presets/<owner>/``. Each file is ``{"label", "description", "arguments", "order"?}``, where
``arguments`` holds endpoint field names (never ``image_url``) and only the keys the preset changes.
Listing order is ``order`` (an optional integer, default 1000) then the label, so files can be renamed
without reshuffling the menu. The preset id is the file name without ``.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core import config
from core.errors import InputError
from core.schema import FIELD_BY_NAME, PARAMETER_FIELDS, check_value, defaults

log = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "presets"
TOP_LEVEL_KEYS = ("label", "description", "arguments", "order")
DEFAULT_ORDER = 1000
MAX_LABEL_CHARS = 80
MAX_DESCRIPTION_CHARS = 1000
MAX_SLUG_CHARS = 60
LOCAL_OWNER_DIR = "local"
_PARAMETER_NAMES = tuple(f.name for f in PARAMETER_FIELDS)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# JSON types each field kind accepts in a file; check_value is lenient with strings (form input), files are not.
_JSON_TYPES: dict[str, tuple[type, ...]] = {"float": (int, float), "int": (int, float), "bool": (bool,),
                                            "str": (str,)}


@dataclass(frozen=True)
class Preset:
    """One preset. ``arguments`` holds only the keys its file sets."""

    id: str
    label: str
    description: str
    arguments: dict[str, Any] = field(default_factory=dict)
    source: Literal["shipped", "saved"] = "shipped"
    path: Path | None = None
    order: int = DEFAULT_ORDER


def merged(preset: Preset) -> dict[str, Any]:
    """Every parameter: the schema defaults with the preset's arguments on top."""
    return {**defaults(), **preset.arguments}


def _clean_arguments(arguments: Any, where: str, *, strict: bool) -> dict[str, Any]:
    """Validated arguments in schema order; ``strict`` refuses JSON values of the wrong type."""
    if not isinstance(arguments, dict):
        raise InputError(f"{where}: \"arguments\" must be an object of parameter names to values.", None)
    for key in arguments:
        if key == "image_url":
            raise InputError(f"{where}: \"image_url\" cannot be part of a preset (a preset works on any "
                             f"image).", "image_url")
        if key not in _PARAMETER_NAMES:
            raise InputError(f"{where}: unknown parameter \"{key}\" in arguments; a preset may set "
                             f"{', '.join(_PARAMETER_NAMES)}.", None)
    clean: dict[str, Any] = {}
    for name in _PARAMETER_NAMES:
        if name not in arguments:
            continue
        value = arguments[name]
        kind = FIELD_BY_NAME[name].kind
        wrong_type = isinstance(value, bool) and kind != "bool" or not isinstance(value, _JSON_TYPES[kind])
        if strict and wrong_type and not (name == "seed" and value is None):
            raise InputError(f"{where}: \"{name}\" must be {_kind_words(kind)}, not {json.dumps(value)}.", name)
        try:
            clean[name] = check_value(name, value)
        except InputError as exc:
            raise InputError(f"{where}: \"{name}\": {exc.message}", name) from None
    return clean


def _kind_words(kind: str) -> str:
    return {"float": "a number", "int": "a whole number", "bool": "true or false", "str": "text"}[kind]


def _check_text(data: dict[str, Any], key: str, where: str, limit: int, *, required: bool) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise InputError(f"{where}: \"{key}\" must be text.", None)
    value = value.strip()
    if required and not value:
        raise InputError(f"{where}: \"{key}\" must not be empty.", None)
    if len(value) > limit:
        raise InputError(f"{where}: \"{key}\" is {len(value)} characters; at most {limit}.", None)
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise InputError(f"{where}: \"{key}\" contains control characters.", None)
    return value


def _from_data(data: Any, preset_id: str, where: str, source: str, path: Path | None) -> Preset:
    if not isinstance(data, dict):
        raise InputError(f"{where}: a preset must be a JSON object with \"label\", \"description\" and "
                         f"\"arguments\".", None)
    unknown = [key for key in data if key not in TOP_LEVEL_KEYS]
    if unknown:
        raise InputError(f"{where}: unknown key \"{unknown[0]}\"; a preset file has "
                         f"{', '.join(TOP_LEVEL_KEYS)}.", None)
    if "arguments" not in data:
        raise InputError(f"{where}: \"arguments\" is missing.", None)
    order = data.get("order", DEFAULT_ORDER)
    if isinstance(order, bool) or not isinstance(order, int):
        raise InputError(f"{where}: \"order\" must be a whole number.", None)
    return Preset(
        id=preset_id,
        label=_check_text(data, "label", where, MAX_LABEL_CHARS, required=True),
        description=_check_text(data, "description", where, MAX_DESCRIPTION_CHARS, required=source == "shipped"),
        arguments=_clean_arguments(data["arguments"], where, strict=True),
        source=source,  # type: ignore[arg-type]
        path=path,
        order=order,
    )


def load_file(path: str | Path, source: Literal["shipped", "saved"] = "shipped") -> Preset:
    """Read and validate one preset file; InputError names the file (and the key or line) on any fault."""
    path = Path(path)
    where = f"Preset file {path.name}"
    if not _ID.match(path.stem) or path.suffix != ".json":
        raise InputError(f"{where}: the file name must be a lowercase id like gentle-restore.json.", None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot be read ({exc.__class__.__name__}).", None) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
                         None) from None
    return _from_data(data, path.stem, where, source, path)


def _sorted(presets: list[Preset]) -> list[Preset]:
    return sorted(presets, key=lambda p: (p.order, p.label.casefold(), p.id))


def shipped() -> list[Preset]:
    """The presets shipped in the repository's ``presets/`` folder, in menu order."""
    return _sorted([load_file(path, "shipped") for path in SHIPPED_DIR.glob("*.json")])


def owner_dir(owner: str = "") -> Path:
    """The folder of an owner's saved presets; the owner id is hashed, so it can never escape the data dir."""
    name = LOCAL_OWNER_DIR
    if owner:
        name = "owner-" + hashlib.sha256(owner.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return config.data_dir() / "presets" / name


def saved(owner: str = "") -> list[Preset]:
    """An owner's saved presets, in menu order. A damaged file is skipped (and logged), not fatal."""
    folder = owner_dir(owner)
    presets = []
    for path in folder.glob("*.json") if folder.is_dir() else ():
        try:
            presets.append(load_file(path, "saved"))
        except InputError as exc:
            log.warning("Skipping saved preset: %s", exc)
    return _sorted(presets)


def slugify(label: str) -> str:
    """The preset id a label gets: lowercase ASCII letters and digits joined by dashes ('' if none)."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_SLUG_CHARS].strip("-")


def save(label: str, description: str, arguments: dict[str, Any], owner: str = "") -> Preset:
    """Validate and store a preset for ``owner``; saving the same label again replaces it.

    ``image_url`` in ``arguments`` is dropped (a preset works on any image); a random seed (None) is not
    stored. Refuses a label whose id is a shipped preset's, or that has no letters or digits.
    """
    if not isinstance(label, str) or not label.strip():
        raise InputError("Give the preset a name.", None)
    if not isinstance(description, str):
        raise InputError("The preset description must be text.", None)
    preset_id = slugify(label)
    if not preset_id:
        raise InputError(f"Preset name {label[:40]!r}: use at least one Latin letter or digit "
                         f"(the name becomes the preset's id).", None)
    if any(p.id == preset_id for p in shipped()):
        raise InputError(f"Preset name {label.strip()!r}: {preset_id!r} is a built-in preset; choose another "
                         f"name.", None)
    if not isinstance(arguments, dict):
        raise InputError("Preset arguments must be a mapping of parameter names to values.", None)
    values = {k: v for k, v in arguments.items() if k != "image_url"}
    clean = _clean_arguments(values, f"Preset {label.strip()[:40]!r}", strict=False)
    if clean.get("seed") is None:
        clean.pop("seed", None)
    data = {"label": label.strip(), "description": description.strip(), "arguments": clean}
    preset = _from_data(data, preset_id, f"Preset {label.strip()[:40]!r}", "saved", None)
    folder = owner_dir(owner)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{preset_id}.json"
    # Write to a temporary file and rename, so a crash never leaves a half-written preset behind.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Preset(preset.id, preset.label, preset.description, preset.arguments, "saved", path, preset.order)


def delete(preset_id: str, owner: str = "") -> bool:
    """Delete one of ``owner``'s saved presets; False if there is none by that id (shipped ones never go)."""
    if not isinstance(preset_id, str) or not _ID.match(preset_id):
        return False
    path = owner_dir(owner) / f"{preset_id}.json"
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def all_presets(owner: str = "") -> list[Preset]:
    """Shipped presets, then the owner's saved ones."""
    return shipped() + saved(owner)


def find(preset_id: str, owner: str = "") -> Preset | None:
    """The preset with this id (a shipped one wins over a saved one), or None."""
    if not isinstance(preset_id, str) or not _ID.match(preset_id):
        return None
    for preset in all_presets(owner):
        if preset.id == preset_id:
            return preset
    return None
