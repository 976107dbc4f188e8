"""The echo of one click on a menu (Gradio's Dropdown sends .input twice) is told from a person choosing again."""

from __future__ import annotations

import pytest

from components.common import repeats


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(repeats.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(repeats, "_last", {})
    return now


def test_the_same_choice_again_at_once_is_an_echo_and_later_it_is_a_choice(_clock: list[float]) -> None:
    assert not repeats.repeated("tab-1", "past sweeps", "a")
    assert repeats.repeated("tab-1", "past sweeps", "a")  # the second request of the same click
    _clock[0] += repeats.ECHO_S + 0.5
    assert not repeats.repeated("tab-1", "past sweeps", "a")  # chosen again a while later: acted on


def test_another_choice_page_or_menu_in_between_is_never_an_echo() -> None:
    assert not repeats.repeated("tab-1", "past sweeps", "a")
    assert not repeats.repeated("tab-1", "past sweeps", "b")
    assert not repeats.repeated("tab-1", "past sweeps", "a")  # A, B, then A again: the person chose A again
    assert not repeats.repeated("tab-2", "past sweeps", "a")  # another tab's click
    assert not repeats.repeated("tab-1", "presets", "a")  # another menu
    assert not repeats.repeated(None, "past sweeps", "a") and not repeats.repeated(None, "past sweeps", "a")  # API
