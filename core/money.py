"""Money in words that never contradict themselves: what something costs is rounded up to the cent, what is left
is rounded down, so "costs $0.03, $0.02 left" is what "$0.0288 against $0.0275" says, and never "$0.03, $0.03".
Amounts below a cent show four decimals ("$0.0042"), rounded the same ways, rather than "$0.00"."""

from __future__ import annotations

import math


def _words(value: float) -> str:
    return f"${value:,.2f}"


def cost(amount: float) -> str:
    """A price or a spend (USD), rounded up: to the cent, or to four decimals below a cent."""
    if amount <= 0:
        return "$0.00"
    if amount < 0.01:
        return f"${math.ceil(round(amount * 1e4, 9)) / 1e4:.4f}"
    return _words(math.ceil(round(amount * 100, 9)) / 100)


def left(amount: float) -> str:
    """What remains of a budget (USD), rounded down: to the cent, or to four decimals below a cent."""
    if amount <= 0:
        return "$0.00"
    if amount < 0.01:
        return f"${math.floor(round(amount * 1e4, 9)) / 1e4:.4f}"
    return _words(math.floor(round(amount * 100, 9)) / 100)


def cap(amount: float) -> str:
    """A cap as the owner set it (USD): to the cent, or as written below a cent."""
    return _words(amount) if amount >= 0.01 else f"${amount:g}"
