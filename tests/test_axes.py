"""The sweep axis syntax (A1111's X/Y/Z plot), checked against what a user types and expects."""

from __future__ import annotations

import pytest

from core.errors import InputError
from core.schema import FIELD_BY_NAME, NUMERIC_FIELDS
from core.sweep.axes import AXES, AXIS_CHOICES, format_value, parse_axis


@pytest.mark.parametrize(("name", "text", "expected"), [
    # A1111's own examples
    ("seed", "1-5", [1, 2, 3, 4, 5]),
    ("seed", "1-5 (+2)", [1, 3, 5]),
    ("seed", "10-5 (-3)", [10, 7]),
    ("upscale_factor", "1-3 (+0.5)", [1.0, 1.5, 2.0, 2.5, 3.0]),
    ("creativity", "0.0-1.0 [6]", [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ("seed", "1-10 [5]", [1, 3, 5, 7, 10]),  # ints truncated like A1111's numpy astype(int)
    ("num_inference_steps", "10-20 [5]", [10, 12, 15, 17, 20]),
    # descending without a step, mixed lists, spaces, quotes
    ("seed", "5-1", [5, 4, 3, 2, 1]),
    ("seed", "1-3, 7, 10-20 (+5)", [1, 2, 3, 7, 10, 15, 20]),
    ("seed", " 1 - 3 ,\"7\"", [1, 2, 3, 7]),
    ("seed", "4-4", [4]),
    ("seed", "7, 7, 3", [7, 7, 3]),  # duplicates kept in order, as A1111 does
    ("seed", "random, 3", [None, 3]),
    # float end points land exactly
    ("creativity", "0-1 (+0.1)", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
    ("creativity", "0.35-0.65 [4]", [0.35, 0.45, 0.55, 0.65]),
    ("creativity", "0.65-0.35 [4]", [0.65, 0.55, 0.45, 0.35]),
    ("creativity", "0-1 (+0.3)", [0.0, 0.3, 0.6, 0.9]),  # never overshoots the end
    ("creativity", ".2-.4 (+.1)", [0.2, 0.3, 0.4]),
    ("creativity", "0-1 [4]", [0.0, 0.33, 0.67, 1.0]),  # rounded to the field's step for display
    ("upscale_factor", "1-4 (+0.25)", [1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 3.75, 4.0]),
    ("guidance_scale", "2.5, 7", [2.5, 7.0]),
    # other kinds
    ("enable_safety_checker", "true, off, No, 1", [True, False, False, True]),
    ("prompt", "a photo, sharp | a painting", ["a photo, sharp", "a painting"]),
    ("image", "first, \"second, with comma\"", ["first", "second, with comma"]),
])
def test_parse_axis_values(name: str, text: str, expected: list) -> None:
    values = parse_axis(name, text)
    assert values == expected
    assert [type(v) for v in values] == [type(v) for v in expected]


def test_float_range_ends_exactly_at_one() -> None:
    values = parse_axis("creativity", "0-1 (+0.1)")
    assert len(values) == 11 and values[-1] == 1.0 and values[3] == 0.3


def test_int_fields_get_ints_and_float_fields_get_floats() -> None:
    assert all(isinstance(v, int) for v in parse_axis("num_inference_steps", "10-30 [3]"))
    assert all(isinstance(v, float) for v in parse_axis("upscale_factor", "1-4"))


@pytest.mark.parametrize(("name", "text", "quoted"), [
    ("creativity", "0.2-", "`0.2-`"),
    ("creativity", "0.1, abc", "`abc`"),
    ("seed", "1-5 (+)", "`1-5 (+)`"),
    ("seed", "1-5 [x]", "`1-5 [x]`"),
    ("seed", "1--", "`1--`"),
])
def test_malformed_token_is_quoted_with_a_hint(name: str, text: str, quoted: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_axis(name, text)
    assert quoted in caught.value.message
    assert "a-b (+step)" in caught.value.message
    assert caught.value.field == name


@pytest.mark.parametrize(("name", "text", "value"), [
    ("creativity", "0.5-1.5", "1.5"),
    ("guidance_scale", "-1", "-1"),
    ("seed", "-5--1", "-5"),
    ("num_inference_steps", "1-10 [5]", "1"),
    ("upscale_factor", "0.5, 2", "0.5"),
])
def test_out_of_bounds_value_names_axis_and_value(name: str, text: str, value: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_axis(name, text)
    message = caught.value.message
    assert AXES[name].label in message and value in message
    assert "too large" in message or "too small" in message
    assert caught.value.field == name


def test_a_value_out_of_bounds_is_said_once_and_its_range_named_only_when_it_came_from_one() -> None:
    with pytest.raises(InputError) as single:
        parse_axis("upscale_factor", "2, 6")
    assert single.value.message == ("Upscale factor axis: `6` is too large; the upscale factor must be a number "
                                    "from 1 to 4.")
    with pytest.raises(InputError) as ranged:
        parse_axis("creativity", "0.5-1.5")
    assert "(in the range `0.5-1.5`)" in ranged.value.message
    assert ranged.value.message.count("from 0 to 1") == 1  # the bounds said once, not twice


@pytest.mark.parametrize(("name", "text", "words"), [
    ("creativity", "", "no values"),
    ("creativity", "   ", "no values"),
    ("creativity", "0.1,,0.2", "empty value"),
    ("seed", "1.5", "whole number"),
    ("seed", "1-5 (-1)", "goes away from 5"),
    ("seed", "1-5 (0)", "step of 0"),
    ("creativity", "0-1 [1]", "at least 2"),
    ("seed", "1-1000000", "limited to 100 cells"),
    ("enable_safety_checker", "maybe", "`maybe` is not true or false"),
    ("prompt", "a photo |", "empty alternative"),
    ("prompt_sr", "\"unclosed", "quotes"),
])
def test_bad_axis_text_is_explained(name: str, text: str, words: str) -> None:
    with pytest.raises(InputError, match=words.replace("(", r"\(")):
        parse_axis(name, text, prompt="\"unclosed")


def test_unknown_axis_lists_the_choices() -> None:
    with pytest.raises(InputError, match="creativity"):
        parse_axis("denoise", "0.5")


def test_axis_limit_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_MAX_SWEEP_CELLS", "4")
    assert parse_axis("seed", "1-4") == [1, 2, 3, 4]
    with pytest.raises(InputError, match="limited to 4 cells"):
        parse_axis("seed", "1-5")


def test_prompt_search_replace_needs_the_first_value_in_the_prompt() -> None:
    assert parse_axis("prompt_sr", "cat, dog, \"red, fox\"", prompt="a cat") == ["cat", "dog", "red, fox"]
    assert parse_axis("prompt_sr", "blurry, grain", negative_prompt="blurry") == ["blurry", "grain"]
    with pytest.raises(InputError, match="`dog`.*does not occur in the prompt"):
        parse_axis("prompt_sr", "dog, cat", prompt="a cat")


def test_axes_are_derived_from_the_schema() -> None:
    for name in NUMERIC_FIELDS:
        assert AXES[name].label == FIELD_BY_NAME[name].label
        assert AXES[name].kind == FIELD_BY_NAME[name].kind
    assert {"prompt_sr", "image", "enable_safety_checker", "prompt", "negative_prompt"} <= set(AXES)
    assert [name for _, name in AXIS_CHOICES] == list(AXES)


@pytest.mark.parametrize("name", list(AXES))
def test_every_documented_example_parses(name: str) -> None:
    example = AXES[name].example
    values = parse_axis(name, example, prompt=example.split(",")[0])
    assert len(values) >= 2


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("creativity", 0.35, "0.35"),
    ("upscale_factor", 2.0, "2"),
    ("guidance_scale", 0.1 + 0.2, "0.30000000000000004"),  # not hidden: such a value was really sent
    ("seed", None, "random"),
    ("enable_safety_checker", False, "false"),
    ("prompt", "x" * 100, "x" * 39 + "…"),
])
def test_format_value(name: str, value: object, shown: str) -> None:
    assert format_value(name, value) == shown
