"""One rule decides what a visitor may see, and it fails closed: a visitor not identified yet, and a stranger,
see none of another visitor's runs, sweeps, presets or files, through every read path of the app."""

from __future__ import annotations

import asyncio
from pathlib import Path

import gradio as gr
import pytest

from components.common.session import Session
from components.history import history_panel
from components.sweep import sweep_reopen
from components.upscale import fetch_panel, presets_panel
from core import presets
from core.runs import store
from core.runs.runs import Run
from core.sweep.sweep_store import SweepRecord, SweepStore

READERS = {"an unidentified visitor": Session(shared=True), "a stranger": Session(shared=True, owner="b" * 32)}


@pytest.fixture
def alices(monkeypatch, fal_key, tmp_path) -> dict[str, str]:
    """Alice's history: a finished run with files, a sweep cell, a saved preset."""
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("FAL_KEY", fal_key)
    output = tmp_path / "data" / "outputs" / "alice.png"
    output.parent.mkdir(parents=True)
    output.write_bytes(b"\x89PNG")
    alice = "a" * 32
    run = Run(engine="fal", arguments={"prompt": "alice's secret"}, owner=alice, status="completed", seed=5,
              request_id="req-alice-1", input_path=str(output), output_path=str(output), width=2, height=2)
    cell = Run(engine="local", arguments={}, owner=alice, status="completed", sweep_id="sweep-alice", cell="x=1")
    for item in (run, cell):
        store.save(item)
    SweepStore(store.store()).save(SweepRecord("sweep-alice", "local", "upscale_factor", "1", owner=alice))
    presets.save("Alice look", "", {"creativity": 0.2}, owner=alice)
    return {"owner": alice, "run": run.id, "cell": cell.id, "request": "req-alice-1", "sweep": "sweep-alice"}


class Selected:
    def __init__(self, run_id: str) -> None:
        self.row_value = ["…", run_id]


@pytest.mark.parametrize("who", READERS)
def test_no_read_path_shows_another_visitors_data(alices, who) -> None:
    session = READERS[who]
    assert history_panel.history(session=session).empty
    assert history_panel.history_view("", "any", "any", session)[0].empty
    assert history_panel.select(session, Selected(alices["run"]))[0] is None
    with pytest.raises(gr.Error):
        presets_panel.apply_preset("alice-look", None, session)
    # Refused beside the button pressed: every output left as it was, only a line that says why.
    for said in (history_panel.restore(alices["run"], session), history_panel.reuse_seed(alices["run"], session),
                 history_panel.delete(alices["run"], "", "any", "any", session),
                 history_panel.delete_sweep(alices["cell"], "", "any", "any", session),
                 history_panel.put_back(alices["run"], "", "any", "any", session),
                 history_panel.undo([alices["run"], alices["cell"]], "", history_panel.BIN, "any", session)[:1],
                 asyncio.run(sweep_reopen.open_sweep(alices["sweep"], session))):
        lines = [value for value in said if isinstance(value, str)]
        assert len(lines) == 1 and all(isinstance(value, (str, type(gr.skip()))) for value in said), said
        assert alices["owner"] not in lines[0] and "completed" not in lines[0]  # nothing of hers is said
    assert history_panel.empty_bin("", "any", "any", session)[0].startswith("Emptied the bin: 0 runs")
    assert history_panel.history_view("", history_panel.BIN, "any", session)[0].empty
    exported = Path(history_panel.export_csv("", "any", "any", session)).read_text(encoding="utf-8-sig")
    assert "alice" not in exported and "req-alice-1" not in exported
    assert sweep_reopen.sweep_choices(session)["choices"] == []
    assert all(value != "alice-look" for _, value in presets_panel.choices(session.files_owner()))

    async def fetch() -> list[tuple]:
        return [shown async for shown in fetch_panel.fetch_request(alices["request"], session)]

    *_, (png, result, view, note) = asyncio.run(fetch())  # refused beside the Fetch box, nothing of hers shown
    assert png == result == view == gr.skip() and "not in your history" in note  # the run panel is left as it was
    assert store.store().get(alices["run"]) is not None  # nothing was deleted on the way


def test_the_owner_sees_all_of_it(alices) -> None:
    alice = Session(shared=True, owner=alices["owner"])
    assert set(history_panel.history(session=alice)["id"]) == {alices["run"], alices["cell"]}
    assert history_panel.select(alice, Selected(alices["run"]))[0] == alices["run"]
    assert [choice[1] for choice in sweep_reopen.sweep_choices(alice)["choices"]] == [alices["sweep"]]
    assert any(value == "alice-look" for _, value in presets_panel.choices(alice.files_owner()))


def test_an_unidentified_visitor_cannot_save_into_a_common_folder(monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    with pytest.raises(gr.Error, match="still loading"):
        presets_panel.save_preset("Mine", "", Session(shared=True))
    assert presets.saved("") == [] and presets.saved("unassigned-visitor") == []
