"""A history that says when it shows part of itself (issue 13 §5): the History tab's notice, and ``offset`` /
``limit`` on the public ``/history`` API, documented in the README."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from components.common.session import Session
from components.history import history_panel
from core.runs import store
from core.runs.runs import Run

ROOT = Path(__file__).resolve().parent.parent


def save_runs(count: int, prompt: str = "a fox", engine: str = "local", start: float = 1_700_000_000.0) -> list[str]:
    """``count`` runs one minute apart; returns their ids newest first."""
    history = store.store()
    ids = []
    for i in range(count):
        run = Run(engine=engine, arguments={"prompt": f"{prompt} {i}"}, status="completed")
        run.created_at = start + i * 60
        history.save(run)
        ids.append(run.id)
    return ids[::-1]


def test_more_runs_than_the_table_shows_are_announced() -> None:
    save_runs(3013)
    frame, shown, *_ = history_panel.history_view("", history_panel.ANY, history_panel.ANY, Session())
    assert len(frame) == 500
    assert shown == "Newest 500 of 3,013 — search or filter to see older runs."


@pytest.mark.parametrize(("search", "engine", "rows"), [("", "any", 120), ("fox 1", "any", 31)])
def test_a_table_that_shows_everything_says_nothing(search: str, engine: str, rows: int) -> None:
    save_runs(120)
    frame, shown, *_ = history_panel.history_view(search, history_panel.ANY, engine, Session())
    assert len(frame) == rows and shown == ""


@pytest.mark.parametrize(("search", "engine"), [("", "fal"), ("no such words", "any")])
def test_a_table_that_shows_nothing_says_why(search: str, engine: str) -> None:
    # Before, a search or filter matching nothing left an empty gallery and table with no word.
    frame, shown, *_ = history_panel.history_view("", history_panel.ANY, history_panel.ANY, Session())
    assert frame.empty and shown.startswith("No runs yet")
    save_runs(12)
    frame, shown, *_ = history_panel.history_view(search, history_panel.ANY, engine, Session())
    assert frame.empty and shown == "No run matches this search and these filters: clear them to see every run."


def test_a_search_that_still_matches_too_many_is_announced_with_its_own_total() -> None:
    save_runs(600, prompt="a fox")
    save_runs(50, prompt="a cat")
    _, shown, *_ = history_panel.history_view("fox", history_panel.ANY, history_panel.ANY, Session())
    assert shown == "Newest 500 of 600 — search or filter to see older runs."


def test_the_api_pages_with_offset_and_limit(client) -> None:
    ids = save_runs(620)
    first = client.predict(api_name="/history")[0]["data"]
    assert [row[-1] for row in first] == ids[:500]  # defaults: the newest 500
    page = client.predict("", "any", "any", 500, 100, api_name="/history")[0]["data"]
    assert [row[-1] for row in page] == ids[500:600]
    tail = client.predict("", "any", "any", offset=600, api_name="/history")[0]["data"]
    assert [row[-1] for row in tail] == ids[600:]


@pytest.mark.parametrize(("offset", "limit", "words"), [(-1, 10, "offset must be a whole number from 0"),
                                                        (0, 0, "limit must be a whole number from 1 to 500"),
                                                        (0, 501, "limit must be a whole number from 1 to 500")])
def test_bad_paging_is_refused_with_the_rule(client, offset: int, limit: int, words: str) -> None:
    with pytest.raises(Exception, match=words):
        client.predict("", "any", "any", offset, limit, api_name="/history")


def test_the_api_keeps_its_parameters_first_and_the_readme_documents_paging() -> None:
    parameters = list(inspect.signature(history_panel.history).parameters)
    assert parameters[:5] == ["search", "status", "engine", "offset", "limit"]
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `history`"))
    assert re.search(r"`offset`", row) and re.search(r"`limit`", row) and "500" in row
