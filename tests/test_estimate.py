"""Estimates that hold: learned from what this machine and engine took, told with their basis, never invented."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from components.common.session import Session
from components.sweep import sweep_preflight
from core.inputs.images import InputImage
from core.runs import store
from core.runs.runs import Run
from core.sweep import estimate
from core.sweep.axes import AXES
from core.sweep.sweep_store import SweepRecord, SweepStore


def finished_run(megapixels: float, seconds: float, *, engine: str = "local", model: str | None = "fast",
                 owner: str = "", at: float = 1000.0, sweep_id: str | None = None) -> Run:
    side = round((megapixels * 1e6) ** 0.5)
    return Run(engine=engine, arguments={}, owner=owner, status="completed", created_at=at, started_at=at,
               finished_at=at + seconds, width=side, height=side, model=model, sweep_id=sweep_id)


def test_the_fit_finds_the_fixed_part_and_the_rate_and_shrugs_off_a_slow_first_run() -> None:
    points = [(mp, 0.5 + 2.0 * mp) for mp in (0.25, 1.0, 2.0, 4.0)] + [(1.0, 9.0)]  # one run loaded the model
    per_cell, per_mp = estimate.fit(points)
    assert per_cell == pytest.approx(0.5, abs=0.05) and per_mp == pytest.approx(2.0, abs=0.05)
    assert estimate.fit([(1.0, 3.0), (1.0, 5.0)]) == (0.0, 4.0)  # one size only: all of it per MP


def test_rates_come_from_the_engine_and_models_own_runs_of_this_owner() -> None:
    history = store.store()
    assert estimate.rates(history, "local", "fast", None) is None
    for mp, seconds in ((0.5, 1.5), (1.0, 2.5), (2.0, 4.5)):
        history.save(finished_run(mp, seconds, owner="alice"))
    history.save(finished_run(1.0, 60.0, model="quality", owner="alice"))
    history.save(finished_run(1.0, 99.0, owner="bob"))
    found = estimate.rates(history, "local", None, "alice")  # no model chosen: the engine's first, fast
    assert (found.runs, found.model) == (3, "fast")
    assert found.seconds_per_cell == pytest.approx(0.5, abs=0.01)
    assert found.seconds_per_megapixel == pytest.approx(2.0, abs=0.01)
    assert found.basis() == "from your last 3 local fast runs, 2.00 s per output MP + 0.5 s per cell"
    assert estimate.rates(history, "local", "quality", "alice").seconds_per_megapixel == pytest.approx(60.0, abs=0.1)
    assert estimate.rates(history, "local", "fast", "carol") is None  # another visitor's runs are not theirs


def test_the_time_around_the_cells_is_learned_from_finished_sweeps() -> None:
    history, sweeps = store.store(), SweepStore(store.store())
    for number, (mp, outside) in enumerate(((1.0, 1.5), (2.0, 2.0), (4.0, 3.0))):
        sweeps.save(SweepRecord(f"s{number}", "local", "upscale_factor", "2", model="fast", created_at=100.0 * number))
        history.save(finished_run(mp, 1.0, at=100.0 * number + 0.5, sweep_id=f"s{number}"))
        sweeps.finished(f"s{number}", 100.0 * number + 1.0 + outside)  # cells from +0.5 to +1.5
    found = estimate.rates(history, "local", "fast", None)
    assert found.sweeps == 3
    assert found.sweep_seconds == pytest.approx(1.0, abs=0.01)
    assert found.sweep_seconds_per_megapixel == pytest.approx(0.5, abs=0.01)
    assert estimate.sweep_seconds(found, 10.0, 2.0) == pytest.approx(12.0, abs=0.05)


def test_a_sweep_with_runs_deleted_for_good_teaches_nothing_about_the_time_around_its_cells() -> None:
    # A user trial: 3 of a 4-cell sweep's runs deleted for good; its one run's short span against the sweep's
    # whole wall made the time "around the cells" ~25 s per MP, and the next estimate three times too long
    history, sweeps = store.store(), SweepStore(store.store())
    sweeps.save(SweepRecord("whole", "local", "upscale_factor", "2", model="fast", created_at=0.0))
    history.save(finished_run(1.0, 1.0, at=0.5, sweep_id="whole"))
    sweeps.finished("whole", 2.0)
    sweeps.save(SweepRecord("purged", "local", "seed", "1-4", model="fast", created_at=100.0))
    history.save(finished_run(1.0, 1.0, at=130.5, sweep_id="purged"))  # the last of four cells, the others gone
    sweeps.finished("purged", 131.6)
    found = estimate.rates(history, "local", "fast", None)
    assert found.sweeps == 1  # the whole one: 1 s around its 1 MP cell (the purged one would add ~30 s)
    assert found.sweep_seconds + found.sweep_seconds_per_megapixel == pytest.approx(1.0, abs=0.01)


def preflight_text(tmp_path: Path, x_values: str) -> str:
    path = tmp_path / "in.png"
    Image.new("RGB", (1000, 1000)).save(path)
    form = {"loaded": InputImage(str(path), 1000, 1000, "d"), "engine": "local", "x_axis": "upscale_factor",
            "x_values": x_values, "y_axis": "", "upscale_factor": 2.0, "prompt": "a", "negative_prompt": "b",
            "session": Session()}
    return sweep_preflight.preflight({key: key for key in form}, form)[0]


def test_the_preflight_says_first_run_until_there_is_history_then_the_time_and_its_basis(tmp_path: Path) -> None:
    assert "first run: no estimate" in preflight_text(tmp_path, "1, 2")
    for mp in (1.0, 2.0, 4.0):
        store.save(finished_run(mp, 1.0 + 1.0 * mp))
    text = preflight_text(tmp_path, "1, 2")  # 1 MP and 4 MP, one after the other locally: 2 s + 5 s
    assert "about 7 s — from your last 3 local fast runs, 1.00 s per output MP + 1.0 s per cell" in text


def test_an_engine_axis_with_an_engine_never_run_names_it(tmp_path: Path) -> None:
    # A user trial: "first run: no estimate" for a local × lanczos sweep after many lanczos runs, with no word of
    # which engine had none.
    path = tmp_path / "in.png"
    Image.new("RGB", (1000, 1000)).save(path)
    for mp in (1.0, 2.0):
        store.save(finished_run(mp, 0.1 * mp, engine="lanczos", model=None))
    form = {"loaded": InputImage(str(path), 1000, 1000, "d"), "engine": "local", "x_axis": "upscale_factor",
            "x_values": "1, 2", "y_axis": "engine", "y_values": "local:fast, lanczos", "upscale_factor": 2.0,
            "prompt": "a", "negative_prompt": "b", "session": Session()}
    text = sweep_preflight.preflight({key: key for key in form}, form)[0]
    assert "first run: no estimate (no finished run of local:fast yet)" in text, text


@pytest.mark.parametrize("bar", ["fal", "local"])
def test_an_engine_axis_times_each_cell_at_its_own_engines_rate(tmp_path: Path, bar: str) -> None:
    # A user trial: with the Engine bar on fal, a local:fast × lanczos sweep said "first run: no estimate" though
    # both had runs; on local, lanczos cells were charged local's 7.9 s (about 35 s said, about 20 s taken).
    path = tmp_path / "in.png"
    Image.new("RGB", (1000, 1000)).save(path)
    for mp in (1.0, 2.0, 4.0):
        store.save(finished_run(mp, 4.0 * mp))  # local fast: 4 s per output MP
        store.save(finished_run(mp, 0.1 * mp, engine="lanczos", model=None))  # lanczos: 0.1 s per output MP
    form = {"loaded": InputImage(str(path), 1000, 1000, "d"), "engine": bar, "x_axis": "upscale_factor",
            "x_values": "1, 2", "y_axis": "engine", "y_values": "local:fast, lanczos", "upscale_factor": 2.0,
            "prompt": "a", "negative_prompt": "b", "session": Session()}
    text = sweep_preflight.preflight({key: key for key in form}, form)[0]
    # one after the other: local 1 MP + 4 MP (4 + 16 s), lanczos the same (0.1 + 0.4 s): about 20.5 s, not 40
    assert "about 20 s" in text or "about 21 s" in text, text
    assert "local fast runs, 4.00 s per output MP" in text and "lanczos runs, 0.10 s per output MP" in text


def test_cells_that_run_at_once_share_the_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.sweep.plan import plan_grid

    plan = plan_grid({"upscale_factor": 1.0}, "seed", [1, 2, 3, 4], None, None)
    one = plan.preflight(1000, 1000, seconds_per_megapixel=2.0, seconds_per_cell=1.0, concurrency=1)
    four = plan.preflight(1000, 1000, seconds_per_megapixel=2.0, seconds_per_cell=1.0, concurrency=4)
    assert (one.estimated_seconds, four.estimated_seconds) == (12.0, 3.0)


def test_the_preflight_asks_for_values_before_any_are_typed_and_warns_only_on_bad_ones(tmp_path: Path) -> None:
    untyped = preflight_text(tmp_path, "  ")
    assert not untyped.startswith("Warning") and "Type the X values" in untyped
    assert f"`{AXES['upscale_factor'].example}`" in untyped  # the chosen axis's own example
    assert preflight_text(tmp_path, "1, 9").startswith("Warning: Upscale factor axis: `9` is too large")


def test_the_preflight_names_every_free_engine_and_says_a_fal_sweep_needs_a_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    path = tmp_path / "in.png"
    Image.new("RGB", (200, 100)).save(path)
    base = {"loaded": InputImage(str(path), 200, 100, "d"), "engine": "local", "x_axis": "engine",
            "x_values": "local, lanczos", "y_axis": "", "upscale_factor": 2.0, "prompt": "a", "negative_prompt": "b",
            "session": Session()}

    def line(**changed: object) -> str:
        form = {**base, **changed}
        return sweep_preflight.preflight({key: key for key in form}, form)[0]

    assert "free on the local and lanczos engines" in line() and "Warning" not in line()
    on_fal = line(engine="fal", x_axis="creativity", x_values="0.3, 0.5")
    assert "estimated" in on_fal and "Warning: No fal key" in on_fal  # priced, and said it cannot run yet
    assert "Warning: No fal key" in line(x_values="local, fal")


def test_with_fal_among_an_engine_axis_every_cell_is_handed_out_and_each_engine_keeps_its_own_pace() -> None:
    # As sweep_run hands them out: all cells at once when fal is among the engines (its queue runs two at a new
    # account's limit) while the lanczos cells run beside them, two at a time. Held to two cells at once in all,
    # the lanczos cells would wait behind fal's.
    from core.sweep.plan import plan_grid

    plan = plan_grid({"upscale_factor": 2.0}, "engine", ["fal", "fal", "lanczos", "lanczos"], None, None)

    def seconds(cell, megapixels: float) -> float:
        return 10.0 if cell.x_value == "fal" else 1.0

    def lane(cell) -> tuple[str, int]:
        return str(cell.x_value), 2

    every_cell = plan.preflight(100, 100, concurrency=4, seconds_of=seconds, lane_of=lane)
    two_in_all = plan.preflight(100, 100, concurrency=2, seconds_of=seconds, lane_of=lane)
    assert (every_cell.estimated_seconds, two_in_all.estimated_seconds) == (10.0, 11.0)
