"""The X/Y/Z syntax as people type it (issue 13 §4): quoted values are read as AUTOMATIC1111's X/Y/Z plot reads
them (Python's csv reader with skipinitialspace: spaces around commas and around quoted values are allowed,
quotes protect commas), and every error quotes the token and says what to write instead."""

from __future__ import annotations

import pytest

from core.errors import InputError
from core.sweep.axes import parse_axis

PROMPT = "a red, fox and a cat in café 東京, best quality"

# (axis, what the user typed, the values)
READS = [
    # lists
    ("seed", "1, 2, 3", [1, 2, 3]),
    ("seed", "1,2,3", [1, 2, 3]),
    ("seed", "  1 ,   2 ,3  ", [1, 2, 3]),
    ("creativity", "0.2, 0.35, 0.5", [0.2, 0.35, 0.5]),
    # quoted values, with and without spaces around them
    ("seed", '"1", "2"', [1, 2]),
    ("seed", '"1" , "2"', [1, 2]),
    ("seed", ' "1" ,"2" ', [1, 2]),
    ("prompt_sr", 'cat, "red, fox" , dog', ["cat", "red, fox", "dog"]),
    ("prompt_sr", 'cat , "red, fox",dog', ["cat", "red, fox", "dog"]),
    ("prompt_sr", '"cat" , "red, fox" , "dog"', ["cat", "red, fox", "dog"]),
    ("prompt_sr", '"a red, fox", "a blue, bird"', ["a red, fox", "a blue, bird"]),
    ("prompt_sr", 'cat, "a ""quoted"" dog"', ["cat", 'a "quoted" dog']),
    ("prompt_sr", 'cat, " dog "', ["cat", "dog"]),  # stripped, as A1111 strips
    ("image", '"first, one" , second', ["first, one", "second"]),
    # ranges
    ("seed", "1-3", [1, 2, 3]),
    ("seed", "1 - 3", [1, 2, 3]),
    ('seed', '"1-3", 9', [1, 2, 3, 9]),
    ("seed", "1-5 (+2)", [1, 3, 5]),
    ("seed", "10-5 (-3)", [10, 7]),
    ("creativity", "0.35-0.65 [4]", [0.35, 0.45, 0.55, 0.65]),
    # negatives and decimals
    ("seed", "0, 3", [0, 3]),
    ("upscale_factor", "1.5, 2., 3e0", [1.5, 2.0, 3.0]),
    ("upscale_factor", "1.5, 2.", [1.5, 2.0]),
    ("creativity", ".25, .5", [0.25, 0.5]),
    ("creativity", "+0.25", [0.25]),
    ("creativity", '"-0"', [0.0]),
    ("seed", "5-1 (-2)", [5, 3, 1]),
    # trailing commas (A1111 skips empty values)
    ("seed", "1, 2,", [1, 2]),
    ("seed", "1, 2, ", [1, 2]),
    ("creativity", "0.2, 0.5 ,  ", [0.2, 0.5]),
    ("prompt_sr", "cat, dog,", ["cat", "dog"]),
    # several lines
    ("seed", "1,\n2", [1, 2]),
    # unicode
    ("prompt_sr", "café, 東京, naïve", ["café", "東京", "naïve"]),
    ("prompt_sr", 'café, "東京, 大阪", 👩‍🚀', ["café", "東京, 大阪", "👩‍🚀"]),
    ("prompt", "café 東京 | ราตรีสวัสดิ์", ["café 東京", "ราตรีสวัสดิ์"]),
    ("image", "фото, 写真", ["фото", "写真"]),
    ("enable_safety_checker", ' "true" , no,', [True, False]),
]


@pytest.mark.parametrize(("name", "text", "values"), READS)
def test_reads(name: str, text: str, values: list) -> None:
    prompt = PROMPT if name == "prompt_sr" else ""
    got = parse_axis(name, text, prompt=prompt)
    assert got == values and [type(v) for v in got] == [type(v) for v in values]


# (axis, what the user typed, the token the message quotes, what it says to write instead)
ERRORS = [
    ("prompt_sr", '"red, fox', '`"red, fox`', 'close the quotes: `"red, fox"`'),
    ("seed", '1, "2', '`"2`', 'close the quotes: `"2"`'),
    ("seed", "1,,2", "`1,,2`", "`1, 2`"),
    ("seed", "1, , 2", "`1, , 2`", "`1, 2`"),
    ("creativity", "0.1, abc", "`abc`", "a-b (+step)"),
    ("creativity", "0.2-", "`0.2-`", "a-b (+step)"),
    ("seed", "1–5", "`1–5`", "`1-5`"),  # an en dash typed by a word processor
    ("seed", "−3", "`−3`", "`-3`"),  # a Unicode minus sign
    ("seed", "1-5 (0)", "`1-5 (0)`", "`1-5 (+1)`"),
    ("seed", "1-5 (-1)", "`1-5 (-1)`", "`1-5 (+1)`"),
    ("seed", "5-1 (+2)", "`5-1 (+2)`", "`5-1 (-2)`"),
    ("creativity", "0-1 [1]", "`0-1 [1]`", "`0-1 [2]`"),
    ("seed", "1-1000000", "`1-1000000`", "[100]"),
    ("upscale_factor", ".5e1", "`.5e1`", "from 1 to 4"),
    ("creativity", "0.5-1.5", "`0.5-1.5`", "from 0 to 1"),
    ("seed", "1.5", "`1.5`", "whole number"),
    ("enable_safety_checker", "maybe", "`maybe`", "true or false"),
    ("prompt", "a photo |", "`a photo |`", "remove the extra |"),
    ("prompt_sr", "dog, cat", "`dog`", "put a piece of the prompt first"),
]


@pytest.mark.parametrize(("name", "text", "token", "instead"), ERRORS)
def test_errors_quote_the_token_and_say_what_to_write(name: str, text: str, token: str, instead: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_axis(name, text, prompt="a cat")
    assert token in caught.value.message and instead in caught.value.message, caught.value.message
    assert caught.value.field == name
