"""Load: 20 visitors at once on a shared app, each running a 4-cell fal sweep through ``/sweep`` — every sweep
completes, and no visitor sees another's history, files or the key."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from gradio_client import handle_file

from core import config
from tests.conftest import api_client
from tests.reliability import noise_png
from testsupport.apps import free_port

SESSIONS = 20
CREATIVITY = (0.2, 0.4, 0.6, 0.8)


@pytest.fixture(scope="module")
def shared_app() -> Iterator[str]:
    """The app built and launched in shared mode (``CLARITY_SHARED=1``: sessions are built shared)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLARITY_SHARED", "1")
        import app

        demo = app.build()
        port = free_port()
        app.launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def visit(url: str, photo: str, address: str) -> dict[str, Any]:
    """One visitor from their own network address (as a Space's proxy reports it): a 4-cell sweep, then their
    history."""
    client = api_client(url, headers={"X-Forwarded-For": address})
    csv, sheet, _ = client.submit(handle_file(photo), "", engine="fal", x_axis="creativity",
                               x_values=", ".join(map(str, CREATIVITY)), y_axis="", y_values="",
                               api_name="/sweep").result(timeout=90)
    history, _ = client.predict(api_name="/history")
    return {"csv": Path(csv), "sheet": Path(sheet), "history": history}


def owners_of(run_ids: list[str]) -> set[str]:
    path = config.data_dir() / "history.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        marks = ", ".join("?" * len(run_ids))
        return {row[0] for row in conn.execute(f"SELECT owner FROM runs WHERE id IN ({marks})", run_ids)}


@pytest.mark.timeout(150)
def test_twenty_visitors_sweeping_at_once(shared_app, fal_server, fal_key, monkeypatch, tmp_path, case) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("FAL_KEY", fal_key)  # the Space owner's key, as a secret
    monkeypatch.setenv("CLARITY_PROXY_HOPS", "1")  # behind a proxy that reports each visitor's address
    fal_server.set_default(queue_polls=1, run_polls=1, logs=["working"])
    photos = [noise_png(tmp_path / f"visitor-{i}.png", (32, 24), seed=1000 + i) for i in range(SESSIONS)]
    case.tried = SESSIONS
    with ThreadPoolExecutor(SESSIONS) as pool:
        outcomes = list(pool.map(lambda n: visit(shared_app, photos[n], f"203.0.113.{n + 1}"), range(SESSIONS)))

    seen_runs: set[str] = set()
    owners: set[str] = set()
    problems: list[str] = []
    for number, outcome in enumerate(outcomes):
        cells = pd.read_csv(outcome["csv"])
        run_ids = list(cells["run_id"])
        mine = [row[-1] for row in outcome["history"]["data"]]
        checks = {
            "4 completed cells": list(cells["status"]) == ["completed"] * 4,
            "each cell's creativity": sorted(cells["x_value"]) == list(CREATIVITY),
            "its output files": all((config.data_dir() / p).is_file() for p in cells["output_path"]),  # relative
            "its history is its sweep and nothing else": sorted(mine) == sorted(run_ids),
            "runs no one else has": not seen_runs & set(run_ids),
            "one owner of its own": len(owners_of(run_ids)) == 1 and not owners & owners_of(run_ids),
            "no key in its CSV": fal_key not in outcome["csv"].read_text(),
            "no key in its history": fal_key not in str(outcome["history"]),
            "a contact sheet": outcome["sheet"].stat().st_size > 0,
        }
        problems += [f"visitor {number}: {name}" for name, ok in checks.items() if not ok]
        seen_runs |= set(run_ids)
        owners |= owners_of(run_ids)
        case.handled = (case.handled or 0) + all(checks.values())
    assert not problems, problems
    assert len(fal_server.submits()) == SESSIONS * 4 and len(fal_server.uploads()) == SESSIONS  # one upload each
    assert fal_key.encode() not in (config.data_dir() / "history.sqlite3").read_bytes()
