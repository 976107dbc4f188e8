"""The input fields of ``fal-ai/clarity-upscaler`` (docs/fal-protocol.md, "Input"): types, defaults, bounds, help.

Widgets, validation, sweep axes, snippets and CSV columns all read this module; no bound is typed twice.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from core.errors import InputError

ENDPOINT = "fal-ai/clarity-upscaler"
PRICE_PER_MEGAPIXEL = 0.03  # USD per output megapixel, fal's published price (an estimate)
MAX_SEED = 2**32 - 1
MAX_PROMPT_CHARS = 2000


@dataclass(frozen=True)
class Field:
    """One input field of the endpoint."""

    name: str
    kind: str  # "str", "float", "int", "bool", "url"
    label: str
    help: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    required: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int")


FIELDS: tuple[Field, ...] = (
    Field("image_url", "url", "Image URL", "The picture to upscale: an https:// address or a data: URI.",
          required=True),
    Field("prompt", "str", "Prompt",
          "What the picture shows and how it should look. The model adds detail that fits these words.",
          default="masterpiece, best quality, highres"),
    Field("upscale_factor", "float", "Upscale factor",
          "How many times wider and taller the result is. You pay for the output's megapixels.",
          default=2.0, minimum=1.0, maximum=4.0, step=0.05),
    Field("negative_prompt", "str", "Negative prompt", "What the model should avoid adding.",
          default="(worst quality, low quality, normal quality:2)"),
    Field("creativity", "float", "Creativity",
          "How much new detail the model may invent (the denoise strength). Higher looks sharper but "
          "strays further from the original; faces and text change first.",
          default=0.35, minimum=0.0, maximum=1.0, step=0.01),
    Field("resemblance", "float", "Resemblance",
          "How closely the result keeps the shapes of the input (the ControlNet tile weight). Raise it "
          "when creativity changes things it should not.",
          default=0.6, minimum=0.0, maximum=1.0, step=0.01),
    Field("guidance_scale", "float", "Guidance scale",
          "How strictly the prompt is followed. Low values are gentle; high values can look overcooked.",
          default=4.0, minimum=0.0, maximum=20.0, step=0.1),
    Field("num_inference_steps", "int", "Inference steps",
          "Diffusion steps per tile. More steps refine detail and take longer; 18 is a good balance.",
          default=18, minimum=4, maximum=50, step=1),
    Field("seed", "int", "Seed",
          "Same seed and same settings give the same picture. Leave empty for a random seed; the seed used "
          "is shown after the run.",
          default=None, minimum=0, maximum=MAX_SEED, step=1),
    Field("enable_safety_checker", "bool", "Safety checker",
          "Let fal blank out results its safety checker flags. Turn off only for images you are sure of.",
          default=True),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
PARAMETER_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.name != "image_url")
NUMERIC_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.numeric)


def defaults() -> dict[str, Any]:
    """The endpoint's defaults for every parameter (seed None = random)."""
    return {f.name: f.default for f in PARAMETER_FIELDS}


_DATA_URI = re.compile(r"^data:image/[\w.+-]+(;[\w=.+-]+)*;base64,[A-Za-z0-9+/=\s]+$", re.S)


def _broken_unicode(value: str) -> bool:
    """A lone surrogate: JSON can carry one, UTF-8 (the history, an HTTP request) cannot."""
    return any("\ud800" <= c <= "\udfff" for c in value)


def _check_url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("Image URL: give an https:// address or a data: URI of an image.", "image_url")
    value = value.strip()
    if _broken_unicode(value):
        raise InputError("Image URL: contains broken Unicode (a lone surrogate).", "image_url")
    if value.lower().startswith("data:"):
        if not _DATA_URI.match(value):
            raise InputError("Image URL: this data URI is not a base64-encoded image; it should begin like "
                             "data:image/png;base64, followed by the picture's bytes in base64.", "image_url")
        return value
    if not value.lower().startswith("https://") or len(value) <= len("https://"):
        raise InputError(f"Image URL: {value[:40]!r} is neither an https:// address nor a data: URI such as "
                         "“data:image/png;base64,…”; only those two are accepted.", "image_url")
    if len(value) > 4096 or any(c.isspace() for c in value):
        raise InputError("Image URL: this address is too long or contains spaces.", "image_url")
    return value


def plain(number: float) -> str:
    """A number as people write it: 4,294,967,295 and 0.35, never 4.29497e+09."""
    if not math.isfinite(number):
        return str(number)
    if abs(number) >= 1e21:
        return f"a number of {len(str(int(abs(number))))} digits"
    if float(number).is_integer():
        return f"{int(number):,}"
    return f"{number:,.6f}".rstrip("0").rstrip(".")


def range_text(field: Field) -> str:
    """What a numeric field takes, e.g. "the seed must be a whole number from 0 to 4,294,967,295"."""
    kind = "a whole number" if field.kind == "int" else "a number"
    low, high = field.minimum, field.maximum
    if low is None or high is None:
        return f"the {field.label.lower()} must be {kind}"
    return f"the {field.label.lower()} must be {kind} from {plain(low)} to {plain(high)}"


def _check_number(field: Field, value: object) -> int | float:
    if isinstance(value, bool):
        raise InputError(f"{field.label}: expected a number, got {value!r}.", field.name)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text) if text else math.nan
        except ValueError:
            raise InputError(f"{field.label}: {text[:40]!r} is not a number.", field.name) from None
    if not isinstance(value, (int, float)):
        raise InputError(f"{field.label}: expected a number, got {type(value).__name__}.", field.name)
    if not math.isfinite(value):
        raise InputError(f"{field.label}: must be a finite number.", field.name)
    if field.kind == "int":
        if value != int(value):
            raise InputError(f"{field.label}: {plain(value)} is not a whole number; {range_text(field)}.",
                             field.name)
        value = int(value)
    else:
        value = float(value)
    too_small = field.minimum is not None and value < field.minimum
    if too_small or (field.maximum is not None and value > field.maximum):
        side = "too small" if too_small else "too large"
        raise InputError(f"{field.label}: {plain(value)} is {side}; {range_text(field)}.", field.name)
    return value


def nearest_in_range(name: str, value: object) -> float | None:
    """The numeric field ``name``'s value nearest to ``value`` within its bounds (what a slider keeps of a number
    typed past its end: 9 → 4 for the upscale factor), or None when ``value`` is not a finite number."""
    field = FIELD_BY_NAME[name]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if field.minimum is not None:
        number = max(number, field.minimum)
    return min(number, field.maximum) if field.maximum is not None else number


def check_value(name: str, value: Any) -> Any:
    """One field's clean value, or an InputError that names the field."""
    field = FIELD_BY_NAME.get(name)
    if field is None:
        raise InputError(f"{name!r} is not a parameter of {ENDPOINT}.", None)
    if field.kind == "url":
        return _check_url(value)
    if field.name == "seed" and (value is None or (isinstance(value, str) and not value.strip())):
        return None
    if field.numeric:
        return _check_number(field, value)
    if field.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")
        raise InputError(f"{field.label}: expected true or false, got {value!r}.", field.name)
    if value is None:  # left out: the endpoint's default (fal's own rule), never an empty prompt
        value = field.default
    if not isinstance(value, str):
        raise InputError(f"{field.label}: expected text, got {type(value).__name__}.", field.name)
    if len(value) > MAX_PROMPT_CHARS:
        raise InputError(f"{field.label}: {len(value)} characters is too long "
                         f"(at most {MAX_PROMPT_CHARS}).", field.name)
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise InputError(f"{field.label}: contains control characters.", field.name)
    if _broken_unicode(value):
        raise InputError(f"{field.label}: contains broken Unicode (a lone surrogate).", field.name)
    return value


def validate(raw: dict[str, Any], *, require_image: bool = True) -> dict[str, Any]:
    """Clean arguments for the endpoint (defaults filled, seed omitted when random). A value that is None was
    left out: it takes the field's default, as fal does.

    Raises InputError naming the first bad field. Unknown keys are refused.
    """
    unknown = sorted(set(raw) - set(FIELD_BY_NAME))
    if unknown:
        raise InputError(f"Unknown parameter {unknown[0]!r}; {ENDPOINT} takes "
                         f"{', '.join(FIELD_BY_NAME)}.", None)
    clean: dict[str, Any] = {}
    for field in FIELDS:
        if field.name == "image_url":
            if raw.get("image_url") not in (None, ""):
                clean["image_url"] = _check_url(raw["image_url"])
            elif require_image:
                raise InputError("Give an image: upload a file, or paste an https:// URL or a data: URI.",
                                 "image_url")
            continue
        given = raw.get(field.name)
        value = check_value(field.name, field.default if given is None else given)  # None: left out
        if value is not None:
            clean[field.name] = value
    return clean


def output_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """The output size for a factor: ``round(w·f) × round(h·f)``."""
    return max(1, round(width * factor)), max(1, round(height * factor))


def estimated_price(width: int, height: int, factor: float) -> float:
    """Estimated fal price in USD for one run (output megapixels × the published rate)."""
    out_w, out_h = output_size(width, height, factor)
    return out_w * out_h / 1e6 * PRICE_PER_MEGAPIXEL
