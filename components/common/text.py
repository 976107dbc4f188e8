"""Text from visitors, files and fal shown as text: never as Markdown or HTML.

``gr.Markdown`` renders links, images (fetched from wherever they point), raw HTML and bare URLs; sanitising
removes scripts, not a remote picture or a link. Every ASCII punctuation character may be backslash-escaped in
CommonMark, which makes it literal: so escaping all of them leaves nothing to interpret — no emphasis, link,
image, tag, entity, autolink or math — while the text reads exactly as written (``html.escape`` would show its
entities, ``&#x27;``, since the Markdown renderer escapes ``&`` again).
"""

from __future__ import annotations

import html
import re
from typing import Any

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def plain(value: Any, limit: int = 500) -> str:
    """``value`` as literal Markdown text on one line, cut to ``limit`` characters (with an ellipsis)."""
    text = _BREAKS.sub(" ", str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", text)


def toast(value: Any) -> str:
    """Text for a toast (``gr.Error``/``gr.Warning``/``gr.Info``), which Gradio renders as sanitised HTML: a
    picture or a link would still show, so ``<``, ``>`` and ``&`` are written as entities and read as themselves."""
    return html.escape(str(value), quote=False)


def code(value: Any, limit: int = 200) -> str:
    """``value`` in an inline code span that no backtick in it can close."""
    text = _BREAKS.sub(" ", str(value))[:limit]
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def counted(count: int, noun: str) -> str:
    """``count`` and the noun in the number it takes: "1 cell", "2 cells", "0 runs" (a plain ``s`` plural)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
