"""The seed is one of the knobs the local and lanczos engines ignore (issue 23 §5), with the same treatment as
the others: a run there records no seed (``seed: null``, "seed not used"), its download name carries none, *Reuse
this seed* is not offered for it (Upscale tab and History), and a Seed axis on such an engine is refused by name
instead of spending a minute on identical cells. Fetch by request id loads any id in the history, whatever its
engine (``local-…`` ids included)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from gradio_client import handle_file
from PIL import Image

from components.common.session import Session
from components.history import history_panel
from components.upscale.action import View, render_view
from core.engines import ENGINES, describe
from core.runs import store
from core.runs.runs import Run

SEEDLESS = [engine for engine in ENGINES if describe(engine).ignores("seed")]


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "fox.png"
    Image.new("RGB", (40, 30), "orange").save(path)
    return str(path)


def test_the_engines_without_randomness_say_they_ignore_the_seed() -> None:
    assert set(SEEDLESS) == {"local", "lanczos"} and not describe("fal").ignores("seed")


@pytest.mark.parametrize("engine", SEEDLESS)
def test_a_run_records_no_seed_and_its_name_carries_none(client, photo, engine: str) -> None:
    png, result = client.predict(handle_file(photo), "", engine=engine, upscale_factor=2, seed=7,
                                 api_name="/upscale")
    assert result["seed"] is None
    assert result["image"]["file_name"] == "fox_x2.png" and Path(png).name == "fox_x2.png"
    run = store.store().get(result["run_id"])
    assert run.seed is None and run.arguments["seed"] == 7  # asked for: recorded, so it can be replayed on fal


@pytest.mark.parametrize("engine", SEEDLESS)
def test_the_page_says_seed_not_used_and_offers_no_reuse(engine: str) -> None:
    from components.upscale import result

    run = Run(engine=engine, arguments={"upscale_factor": 2}, status="completed", seed=3390285127, width=8,
              height=8, finished_at=1.0, started_at=0.5, created_at=0.0)  # a row from an older version kept one
    assert "**Seed** not used" in result.details_markdown(run) and "3390285127" not in result.details_markdown(run)
    assert run.seed_used is None
    shown = render_view(View(stage="done", seed=run.seed_used))
    assert shown[6]["visible"] is False  # Reuse this seed
    with_seed = render_view(View(stage="done", seed=42))
    assert with_seed[6]["visible"] is True


@pytest.mark.parametrize("engine", SEEDLESS)
def test_history_offers_no_reuse_of_a_seed_the_engine_did_not_use(engine: str) -> None:
    session = Session()
    run = Run(engine=engine, arguments={"upscale_factor": 2, "seed": 5}, status="completed", seed=3390285127,
              owner=session.scope() or "")
    fal = Run(engine="fal", arguments={"upscale_factor": 2}, status="completed", seed=11, owner=run.owner)
    for each in (run, fal):
        store.save(each)
    assert history_panel.seed_offered(run.id, session)["visible"] is False
    assert history_panel.seed_offered(fal.id, session)["visible"] is True
    value, line = history_panel.reuse_seed(run.id, session)
    assert "uses no seed" in line and "3390285127" not in line
    assert "seed 3390285127" not in history_panel.caption(run)


@pytest.mark.parametrize("engine", SEEDLESS)
def test_a_seed_axis_is_refused_by_name_like_a_creativity_axis(client, photo, engine: str) -> None:
    for axis, values in (("seed", "1-3"), ("creativity", "0.3, 0.5")):
        with pytest.raises(Exception, match=f"ignores {axis}: these cells would be identical"):
            client.predict(handle_file(photo), "", engine=engine, x_axis=axis, x_values=values, y_axis="",
                           y_values="", api_name="/sweep")


def test_fetch_by_a_local_request_id_loads_the_run_from_the_history(client, photo) -> None:
    _, result = client.predict(handle_file(photo), "", engine="local", upscale_factor=2, api_name="/upscale")
    assert result["request_id"].startswith("local-")
    png, fetched = client.predict(result["request_id"], api_name="/fetch")
    assert fetched["run_id"] == result["run_id"] and fetched["seed"] is None and Path(png).is_file()


def test_the_history_table_shows_no_seed_for_an_engine_that_uses_none() -> None:
    from core.runs.history import TABLE_COLUMNS

    history = store.store()
    old = Run(engine="local", arguments={"seed": 3390285127}, status="completed", seed=3390285127)  # a sweep cell
    fal = Run(engine="fal", arguments={}, status="completed", seed=11)
    for run in (old, fal):
        history.save(run)
    table = history.table(None)
    seeds = dict(zip(table["id"], table["seed"], strict=True))
    assert seeds[fal.id] == 11 and pd.isna(seeds[old.id])
    assert "seed" in TABLE_COLUMNS


@pytest.mark.parametrize("engine", SEEDLESS)
def test_a_sweeps_csv_and_the_compare_menu_name_no_seed_for_such_an_engine(client, photo, engine: str) -> None:
    from components.history import compare

    sheet_csv, _, _ = client.predict(handle_file(photo), "", engine=engine, x_axis="upscale_factor", x_values="1, 2",
                                  y_axis="", y_values="", api_name="/sweep")
    rows = pd.read_csv(sheet_csv, encoding="utf-8-sig")
    assert rows["seed"].isna().all()  # the grid's drawn seed is recorded with the arguments, not shown as used
    run = store.store().get(rows["run_id"][0])
    assert "seed" not in compare.label(run)
