"""One choice from a menu, acted on once.

Gradio 6.31's Dropdown sends its ``.input`` event twice when an option is clicked with the mouse (once when it is
chosen with the keyboard), as two requests that arrive together: re-opening a past sweep ran twice, and the page
redrew the grid, crops and metrics of the second copy after the first (``tests/test_browser_sweeps.py``). The
handler of such a menu asks :func:`repeated` first and leaves everything as it is for the echo.
"""

from __future__ import annotations

import threading
import time

ECHO_S = 1.0  # the two requests of one click arrive within a few milliseconds; a person choosing again takes longer
_KEPT = 1024  # pages' last choices remembered, the oldest forgotten first

_last: dict[tuple[str, str], tuple[str, float]] = {}  # (page, menu) → (its last choice, when)
_lock = threading.Lock()


def repeated(page: str | None, menu: str, choice: str | None, within: float = ECHO_S) -> bool:
    """Whether ``choice`` is the last choice of ``menu`` acted on for this page (Gradio's session hash: one browser
    tab), less than ``within`` seconds ago: this call is the echo of the same click. Another choice in between
    (A, B, then A again) is never an echo; nor is a call with no page (the API, a test)."""
    if not page:
        return False
    key, now = (page, menu), time.monotonic()
    with _lock:
        last = _last.pop(key, None)
        _last[key] = (str(choice), now)
        while len(_last) > _KEPT:
            _last.pop(next(iter(_last)))
    return last is not None and last[0] == str(choice) and now - last[1] < within
