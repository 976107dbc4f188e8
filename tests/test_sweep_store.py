"""A sweep is a record: kept when it starts, scoped by owner, and re-opened into the controls it was made with."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from components.common.session import Session
from components.sweep import sweep_actions, sweep_reopen
from core import config
from core.runs import store
from core.runs.history import History
from core.runs.runs import Run
from core.sweep.sweep_store import SweepRecord, SweepStore, input_of


@pytest.fixture
def history(tmp_path: Path) -> History:
    kept = History(tmp_path / "history.sqlite3")
    yield kept
    kept.close()


def test_a_record_survives_a_restart_with_everything_it_was_asked(tmp_path: Path, history: History) -> None:
    record = SweepRecord("s1", "local", "upscale_factor", "1, 1.5", "seed", "1-3", "fast",
                         {"creativity": 0.35, "seed": None}, "inputs/abc.png", "alice", 123.0)
    SweepStore(history).save(record)
    history.close()
    again = History(tmp_path / "history.sqlite3")
    try:
        assert SweepStore(again).get("s1", None) == record
        assert SweepStore(again).get("s1", "alice") == record
    finally:
        again.close()


def test_records_are_scoped_like_runs(history: History) -> None:
    sweeps = SweepStore(history)
    sweeps.save(SweepRecord("s1", "local", "upscale_factor", "1, 2", owner="alice"))
    assert sweeps.get("s1", "bob") is None and sweeps.get("s1", "") is None
    assert sweeps.get("s1", None) is not None  # single-user: everything
    assert sweeps.get("nothing", None) is None
    with pytest.raises(ValueError, match="another owner"):
        sweeps.save(SweepRecord("s1", "fal", "creativity", "0.1", owner="bob"))
    assert sweeps.get("s1", "alice").engine == "local"  # never overwritten


def test_summaries_count_the_runs_of_each_sweep_per_owner(history: History) -> None:
    for owner, sweep_id, status in (("alice", "a", "completed"), ("alice", "a", "failed"), ("bob", "b", "queued")):
        history.save(Run(engine="local", arguments={}, owner=owner, sweep_id=sweep_id, status=status))
    history.save(Run(engine="local", arguments={}, owner="alice"))  # not a sweep
    summaries = SweepStore(history).summaries("alice")
    assert [(s.sweep_id, s.total, s.completed, s.failed, s.active) for s in summaries] == [("a", 2, 1, 1, 0)]
    assert {s.sweep_id for s in SweepStore(history).summaries(None)} == {"a", "b"}


def test_the_input_is_kept_relative_to_the_data_dir_or_as_its_url(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert input_of(str(data / "inputs" / "x.png"), None, data) == "inputs/x.png"
    assert input_of(None, "https://example.com/a.png", data) == "https://example.com/a.png"
    assert input_of(None, "data:image/png;base64,AAAA", data) is None  # its file is kept; its text never
    assert input_of("/elsewhere/x.png", None, data) is None


def small_image(tmp_path: Path) -> str:
    path = tmp_path / "small.png"
    Image.new("RGB", (24, 16), "teal").save(path)
    return str(path)


async def run_sweep(**arguments) -> sweep_actions.SweepView:
    steps = [step async for step in sweep_actions.sweep(engine="local", session=Session(), **arguments)]
    return steps[-1][2]


def test_reopening_a_sweep_restores_its_axes_values_and_engine(tmp_path: Path) -> None:
    image = small_image(tmp_path)
    first = asyncio.run(run_sweep(image=image, x_axis="upscale_factor", x_values="1, 1.5"))
    asyncio.run(run_sweep(image=image, x_axis="upscale_factor", x_values="2, 1"))
    record = SweepStore(store.store()).get(first.plan.id, None)
    assert record is not None and record.parameters["upscale_factor"] == 2.0 and record.model == "fast"
    assert record.input and (config.data_dir() / record.input).is_file()

    csv, sheet, view, *controls, note = asyncio.run(sweep_reopen.open_sweep(first.plan.id, Session()))
    assert controls[:10] == ["upscale_factor", "1, 1.5", "", "", "local", False, "", "", "", ""]  # one seed
    assert controls[10]["open"] is False  # no Z or W axis: their fold stays shut
    assert view.plan.id == first.plan.id and len(view.runs) == 2 and Path(sheet).is_file()


def test_a_sweep_kept_before_records_reopens_from_its_cells(tmp_path: Path) -> None:
    history = store.store()
    for label, factor, seed in (("upscale_factor=1 · seed=7", 1.0, 7), ("upscale_factor=1.5 · seed=7", 1.5, 7)):
        history.save(Run(engine="local", arguments={"upscale_factor": factor, "seed": seed}, status="failed",
                         sweep_id="old", cell=label))
    controls = asyncio.run(sweep_reopen.open_sweep("old", Session()))[3:-1]
    assert controls[:6] == ("upscale_factor", "1, 1.5", "seed", "7", "local", False)


def test_a_reopened_sweep_reuses_its_sheet_and_csv_only_while_they_still_describe_its_runs(tmp_path: Path) -> None:
    # A 100-cell sweep took 8 s to re-open: every cell measured and the sheet drawn again, though its end wrote both.
    image = small_image(tmp_path)
    first = asyncio.run(run_sweep(image=image, x_axis="upscale_factor", x_values="1, 1.5, 2"))
    written = {path: Path(path).stat().st_mtime_ns for path in (first.sheet, first.csv)}
    csv, sheet, view, *_ = asyncio.run(sweep_reopen.open_sweep(first.plan.id, Session()))
    assert {path: Path(path).stat().st_mtime_ns for path in written} == written  # taken as they are
    assert len(pd.read_csv(csv, encoding="utf-8-sig")) == 3

    gone = view.runs[(1, 0)]
    store.store().delete(gone.id, None)  # a cell deleted since: the sheet and CSV no longer tell the truth
    csv, sheet, view, *_ = asyncio.run(sweep_reopen.open_sweep(first.plan.id, Session()))
    cells = pd.read_csv(csv, encoding="utf-8-sig")
    assert list(cells["label"]) == ["upscale_factor=1", "upscale_factor=1.5", "upscale_factor=2"]  # written again
    assert list(cells["status"]) == ["completed", "in the bin", "completed"]  # its cell kept, said to be in the bin
    assert gone.id not in set(cells["run_id"].dropna()) and Path(csv).stat().st_mtime_ns != written[first.csv]


def test_a_retried_cell_counts_once_as_its_latest_run_has_it(history: History) -> None:
    # A user trial: a sweep whose 3 cancelled cells were retried was listed as "9 runs · 6 done · 3 failed/cancelled".
    for cell, status, at in (("x=1", "completed", 1.0), ("x=2", "cancelled", 2.0), ("x=2", "completed", 9.0)):
        history.save(Run(engine="local", arguments={}, owner="alice", sweep_id="a", cell=cell, status=status,
                         created_at=at))
    (summary,) = SweepStore(history).summaries("alice")
    assert (summary.total, summary.completed, summary.failed, summary.created_at) == (2, 2, 0, 1.0)
