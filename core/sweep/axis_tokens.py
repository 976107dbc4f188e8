"""Splitting an axis's text into values the way AUTOMATIC1111's X/Y/Z plot does (``csv_string_to_list_strip``:
Python's csv reader with ``skipinitialspace``, every value stripped), with errors that say what to write."""

from __future__ import annotations

import csv
import io

from core.errors import InputError


def split_values(text: str, label: str, name: str) -> list[str]:
    """Split CSV text into stripped tokens as A1111's X/Y/Z plot does (``csv.reader`` with skipinitialspace,
    not strict: spaces around commas and quoted values are allowed, quotes protect commas, lines are joined).
    Empty values at the end (a trailing comma) are skipped; an empty one between values, or a quote that is
    never closed, raises InputError on ``name`` (its message starts with ``label``) quoting the text and saying
    what to write instead."""
    try:
        list(csv.reader(io.StringIO(text), skipinitialspace=True, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):  # an open quote runs to the end of the text
            opened = text[_open_quote(text):].strip()
            raise InputError(f"{label}: the opening quote in `{opened}` is never closed; close the quotes: "
                             f"`{opened}\"`.", name) from None
    tokens = []
    for row in csv.reader(io.StringIO(text), skipinitialspace=True):
        row = [token.strip() for token in row]
        while row and not row[-1]:  # a comma at the end of the text or of a line
            row.pop()
        tokens += row
    if any(not token for token in tokens):
        kept = ", ".join(token if "," not in token else f'"{token}"' for token in tokens if token)
        raise InputError(f"{label}: there is an empty value between commas in `{text.strip()}`; remove "
                         f"the extra comma: `{kept}`.", name)
    return tokens


def _open_quote(text: str) -> int:
    """Where the quote that is never closed starts (csv's rules: a quote opens a value only at its start)."""
    position, start = 0, 0
    while position < len(text):
        while position < len(text) and text[position] == " ":
            position += 1
        if position < len(text) and text[position] == '"':
            start, position = position, position + 1
            while position < len(text):
                if text[position] == '"' and text[position + 1:position + 2] == '"':
                    position += 2
                elif text[position] == '"':
                    break
                else:
                    position += 1
            else:
                return start
        while position < len(text) and text[position] not in ",\n":
            position += 1
        position += 1
    return start
