"""Validation at, inside and beyond every bound, wrong types, and the published defaults."""

from __future__ import annotations

import math

import pytest

from core import schema
from core.errors import InputError

URL = "https://example.com/photo.png"


def test_defaults_are_the_published_ones() -> None:
    assert schema.defaults() == {
        "prompt": "masterpiece, best quality, highres", "upscale_factor": 2.0,
        "negative_prompt": "(worst quality, low quality, normal quality:2)", "creativity": 0.35,
        "resemblance": 0.6, "guidance_scale": 4.0, "num_inference_steps": 18, "seed": None,
        "enable_safety_checker": True}
    assert [f.name for f in schema.FIELDS] == [
        "image_url", "prompt", "upscale_factor", "negative_prompt", "creativity", "resemblance",
        "guidance_scale", "num_inference_steps", "seed", "enable_safety_checker"]


def test_validate_fills_defaults_and_omits_a_random_seed() -> None:
    clean = schema.validate({"image_url": URL})
    assert "seed" not in clean
    assert clean["upscale_factor"] == 2.0 and clean["num_inference_steps"] == 18


BOUNDED = [(f.name, f.minimum, f.maximum) for f in schema.FIELDS if f.numeric]


@pytest.mark.parametrize(("name", "low", "high"), BOUNDED)
def test_every_bound_is_inclusive_and_beyond_is_refused_with_the_field_named(name, low, high) -> None:
    for value in (low, high, (low + high) / 2 if name not in ("num_inference_steps", "seed") else int(low + 1)):
        assert schema.validate({"image_url": URL, name: value})[name] == value
    span = (high - low) or 1
    for value in (low - span * 0.01 - (1 if schema.FIELD_BY_NAME[name].kind == "int" else 0),
                  high + span * 0.01 + (1 if schema.FIELD_BY_NAME[name].kind == "int" else 0)):
        with pytest.raises(InputError) as caught:
            schema.validate({"image_url": URL, name: value})
        assert caught.value.field == name
        assert schema.FIELD_BY_NAME[name].label in str(caught.value)


@pytest.mark.parametrize("bad", ["abc", math.nan, math.inf, [1], {"a": 1}, True])
@pytest.mark.parametrize("name", ["upscale_factor", "creativity", "num_inference_steps", "seed"])
def test_wrong_types_and_non_finite_numbers_are_refused(name, bad) -> None:
    with pytest.raises(InputError) as caught:
        schema.validate({"image_url": URL, name: bad})
    assert caught.value.field == name


def test_integers_must_be_whole_and_numeric_strings_are_accepted() -> None:
    with pytest.raises(InputError, match="whole number"):
        schema.validate({"image_url": URL, "num_inference_steps": 18.5})
    assert schema.validate({"image_url": URL, "creativity": "0.5", "seed": "42"})["seed"] == 42
    assert "seed" not in schema.validate({"image_url": URL, "seed": ""})


def test_texts_and_booleans() -> None:
    with pytest.raises(InputError, match="too long"):
        schema.validate({"image_url": URL, "prompt": "x" * (schema.MAX_PROMPT_CHARS + 1)})
    with pytest.raises(InputError, match="control characters"):
        schema.validate({"image_url": URL, "prompt": "a\x00b"})
    assert schema.validate({"image_url": URL, "prompt": "ünïcødé 🎨"})["prompt"] == "ünïcødé 🎨"
    with pytest.raises(InputError) as caught:
        schema.validate({"image_url": URL, "enable_safety_checker": "maybe"})
    assert caught.value.field == "enable_safety_checker"


@pytest.mark.parametrize("url", ["http://example.com/a.png", "file:///etc/passwd", "ftp://x/y.png", "https://",
                                 "data:text/plain;base64,aGk=", "javascript:alert(1)", ""])
def test_image_url_must_be_https_or_an_image_data_uri(url) -> None:
    with pytest.raises(InputError) as caught:
        schema.validate({"image_url": url})
    assert caught.value.field == "image_url"


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(InputError, match="Unknown parameter 'scheduler'"):
        schema.validate({"image_url": URL, "scheduler": "ddim"})


def test_output_size_and_price() -> None:
    assert schema.output_size(37, 23, 1.5) == (round(55.5), round(34.5))
    assert schema.estimated_price(1000, 1000, 2) == pytest.approx(4 * 0.03)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("seed", 1e20, "Seed: 100,000,000,000,000,000,000 is too large; "
                   "the seed must be a whole number from 0 to 4,294,967,295."),
    ("seed", -1, "Seed: -1 is too small; the seed must be a whole number from 0 to 4,294,967,295."),
    ("seed", 2.5, "Seed: 2.5 is not a whole number; the seed must be a whole number from 0 to 4,294,967,295."),
    ("guidance_scale", 1e308, "Guidance scale: a number of 309 digits is too large; "
                              "the guidance scale must be a number from 0 to 20."),
    ("creativity", 1.25, "Creativity: 1.25 is too large; the creativity must be a number from 0 to 1."),
    ("num_inference_steps", 51, "Inference steps: 51 is too large; "
                                "the inference steps must be a whole number from 4 to 50."),
])
def test_bounds_are_said_in_plain_numbers(name: str, value: float, message: str) -> None:
    with pytest.raises(InputError) as caught:
        schema.check_value(name, value)
    assert str(caught.value) == message


@pytest.mark.parametrize(("minimum", "maximum", "value", "side"),
                         [(None, 10, 11, "too large"), (0, None, -1, "too small")])
def test_a_field_bounded_on_one_side_is_checked_on_that_side_only(minimum: float | None, maximum: float | None,
                                                                   value: float, side: str) -> None:
    """A number field may have one bound (or none): the check names the side it broke, and never crashes comparing
    a number with a missing bound (it raised TypeError before: ``None <= value``)."""
    field = schema.Field("knob", "float", "Knob", "", default=1.0, minimum=minimum, maximum=maximum)
    assert schema._check_number(field, 5) == 5.0
    assert schema._check_number(schema.Field("free", "int", "Free", ""), "-7") == -7
    with pytest.raises(InputError, match=side):
        schema._check_number(field, value)


@pytest.mark.parametrize("url", ["data:text/plain;base64,aGVsbG8=", "data:image/png,abc", "http:",
                                 "http://example.com/a.png", "ftp://example.com/a.png"])
def test_a_refused_url_is_told_in_plain_words_a_page_shows_as_written(url: str) -> None:
    """The page shows a refusal as Markdown: nothing in it may read as an HTML tag (``<type>`` vanished, leaving
    "data:image/;base64"), and the refused value is quoted once, the sentence ending after it."""
    with pytest.raises(InputError) as caught:
        schema.validate({"image_url": url})
    message = caught.value.message
    assert "<" not in message and ">" not in message, message
    assert not message.endswith("'.") and "data:image/png;base64," in message, message
