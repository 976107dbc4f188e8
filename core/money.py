"""Money in words that never contradict themselves: what something costs is rounded up to the cent, what is left
is rounded down, so "costs $0.03, $0.02 left" is what "$0.0288 against $0.0275" says, and never "$0.03, $0.03".
Amounts below a cent show four decimals ("$0.0042"), rounded the same ways, rather than "$0.00"."""

from __future__ import annotations

import math
from collections.abc import Callable


def _rounded(amount: float, direction: Callable[[float], int]) -> str:
    if amount <= 0:
        return "$0.00"
    places = 4 if amount < 0.01 else 2
    scale = 10 ** places
    # round() first: 0.07 * 100 is 7.000000000000001 in binary, which must not round up to 8 cents
    return f"${direction(round(amount * scale, 9)) / scale:,.{places}f}"


def cost(amount: float) -> str:
    """A price or a spend (USD), rounded up: to the cent, or to four decimals below a cent."""
    return _rounded(amount, math.ceil)


def left(amount: float) -> str:
    """What remains of a budget (USD), rounded down: to the cent, or to four decimals below a cent."""
    return _rounded(amount, math.floor)


def cap(amount: float) -> str:
    """A cap as the owner set it (USD): to the cent, or as written below a cent."""
    return f"${amount:,.2f}" if amount >= 0.01 else f"${amount:g}"
