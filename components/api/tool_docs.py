"""What each public endpoint says about itself, written from the parameter table (``core/usecases/values.py``) and
the engines' descriptors: the text an assistant reads when the endpoints are served as MCP tools, and the API page.

Gradio writes an MCP tool's description from the event's ``api_description`` and each parameter's from the
handler's docstring (its ``Args:`` lines, ``name: text``); the JSON schema beside it carries the types, bounds,
choices and defaults. Here each parameter's line says its meaning (``Param.help``), what it takes (bounds, or the
choices), its default and its unit, so a tool description never differs from the checks that refuse a value.
"""

from __future__ import annotations

from core import money
from core.engines import ENGINES, describe
from core.schema import plain
from core.sweep.axes import max_cells
from core.sweep.sweep_run import confirm_limits
from core.usecases.values import Param

# The unit of each parameter that has one (the rest are plain numbers, text or choices).
UNITS = {"upscale_factor": "times the input's width and height (the output has factor² times its pixels)",
         "offset": "runs", "limit": "runs"}
PICTURE = ("As an MCP tool: an http(s) URL of the picture, or the picture itself as a data: URI "
           "(data:image/png;base64,...).")
PRICED = ("upscale", "sweep", "sweep_price")


def _default(param: Param) -> str:
    if param.required:
        return "required"
    if param.default is None:
        if param.kind == "region":
            return "default: null (the whole picture)"
        return "default: none" if param.kind in ("file", "url") else "default: null (random)"
    if isinstance(param.default, bool):
        return f"default: {'true' if param.default else 'false'}"
    if isinstance(param.default, (int, float)):
        return f"default: {plain(param.default)}"
    return f"default: {param.default!r}" if param.default else "default: empty"


def line(param: Param) -> str:
    """One parameter as a docstring's ``Args:`` line: ``name: meaning Takes …; default …; unit: …``."""
    meaning = param.help.strip()
    if param.kind in ("file", "url"):
        meaning += " " + PICTURE
    text = f"{meaning} Takes {param.takes()}; {_default(param)}"
    if param.name in UNITS:
        text += f"; unit: {UNITS[param.name]}"
    if set(param.choices) == set(ENGINES):  # the engine to run on: what each costs
        text += ". " + price_sentence().rstrip(".")
    return f"{param.name}: {text}."


def price_sentence() -> str:
    """What each engine costs, from the descriptors: "Price: fal $0.03 per output megapixel …; local, lanczos free"."""
    paid = [f"{name} {money.cap(describe(name).price_per_output_megapixel)} per output megapixel"
            for name in ENGINES if describe(name).priced]
    free = [name for name in ENGINES if not describe(name).priced]
    words = "; ".join(paid) or "nothing"
    return (f"Price: {words} (output megapixels = input width × height × upscale_factor² / 1,000,000)"
            + (f"; {', '.join(free)} free." if free else "."))


def description(name: str, summary: str) -> str:
    """The endpoint's description: its summary, and for one that spends, the price and the sweep's limits."""
    text = summary
    if name in PRICED:
        text += " " + price_sentence()
    if name in ("sweep", "sweep_price"):
        price, cells = confirm_limits()
        text += (f" A sweep above {money.cap(price)} or {cells} cells runs only with confirm=true (otherwise it is "
                 f"refused, saying its price); at most {max_cells()} cells.")
    return text


def docstring(summary: str, params: tuple[Param, ...]) -> str:
    """The handler's docstring: the summary, then ``Args:`` with one ``line`` per parameter."""
    return summary + "\n\nArgs:\n" + "\n".join("    " + line(param) for param in params)
