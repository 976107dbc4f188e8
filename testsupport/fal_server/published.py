"""The input schema fal publishes for ``fal-ai/clarity-upscaler`` — the test server's own copy.

Written down here, apart from the app's ``core/schema.py``, on purpose: the server checks requests against what
fal publishes, so a wrong default, type or bound in the app's schema shows up as a 422 (or as a disagreement in
``tests/test_fal_schema.py``) instead of being agreed with. Only ``image_url`` is required; fal's page gives no
enumerations for this endpoint, and no upper bound for the seed (a non-negative integer; omitted = random).

Types are fal's names: ``string``, ``float``, ``integer``, ``boolean``. ``ge``/``le`` are inclusive bounds, as
fal's pydantic models say them (``Field(ge=..., le=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Input:
    """One input field of the endpoint, as fal's API page lists it."""

    name: str
    type: str  # "string", "float", "integer" or "boolean"
    default: Any = None  # None: no default (required, or the seed: random when omitted)
    ge: float | None = None
    le: float | None = None
    required: bool = False


INPUTS: tuple[Input, ...] = (
    Input("image_url", "string", required=True),
    Input("prompt", "string", "masterpiece, best quality, highres"),
    Input("upscale_factor", "float", 2, ge=1, le=4),
    Input("negative_prompt", "string", "(worst quality, low quality, normal quality:2)"),
    Input("creativity", "float", 0.35, ge=0, le=1),
    Input("resemblance", "float", 0.6, ge=0, le=1),
    Input("guidance_scale", "float", 4, ge=0, le=20),
    Input("num_inference_steps", "integer", 18, ge=4, le=50),
    Input("seed", "integer", ge=0),
    Input("enable_safety_checker", "boolean", True),
)
