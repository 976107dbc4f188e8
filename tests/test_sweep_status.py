"""Saying what fal is doing: the sweep's live line (running, waiting in fal's queue and where, why) and the
pre-flight's time in waves at the account's observed concurrency."""

from __future__ import annotations

import pytest

from components.sweep import sweep_preflight
from components.sweep.sweep_actions import SweepView
from components.sweep.sweep_status import note_position, progress
from core.inputs.images import InputImage
from core.runs import events, store
from core.runs.runner import Update
from core.runs.runs import Run
from core.sweep import estimate
from core.sweep.plan import plan_grid
from tests.test_estimate import finished_run
from tests.test_sweep_run import input_image


def test_the_live_line_counts_running_cells_and_those_waiting_in_fals_queue_and_says_why() -> None:
    plan = plan_grid({}, "seed", list(range(7)))
    runs: dict = {}
    for index, cell in enumerate(plan.cells):
        status = "running" if index < 2 else "completed" if index == 6 else "queued"
        runs[cell.key] = Run(engine="fal", arguments={}, status=status, request_id=f"r{index}" if index < 6 else "x")
    view = SweepView(plan, runs, "fal", message="running…")
    for position, cell in enumerate(plan.cells[2:6]):
        note_position(view.positions, cell, Update(runs[cell.key], [events.QueuePosition(position)], "queued"))
    line = progress(view)
    assert "7 cells: 2 running, 4 waiting in fal's queue (positions 0–3), 1 completed" in line
    assert "concurrency limit" in line and "not a fault" in line
    note_position(view.positions, plan.cells[2], Update(runs[plan.cells[2].key], [], "running"))
    assert plan.cells[2].key not in view.positions  # running: no place in the queue any more


def test_no_limit_is_blamed_when_nothing_waits_at_fal() -> None:
    plan = plan_grid({}, "seed", [1, 2])
    runs = {cell.key: Run(engine="fal", arguments={}, status="running", request_id="r") for cell in plan.cells}
    line = progress(SweepView(plan, runs, "fal"))
    assert "2 running" in line and "concurrency limit" not in line


def test_the_accounts_concurrency_is_learned_from_runs_that_overlapped() -> None:
    history = store.store()
    assert estimate.observed_concurrency(history, "fal", "ann") is None
    assert estimate.workers(history, "fal", "ann", 24) == estimate.NEW_ACCOUNT_CONCURRENCY  # fal's default: 2
    for start in (0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 20.0):  # waves of 3 ten seconds long
        history.save(finished_run(1.0, 10.0, engine="fal", model=None, owner="ann", at=1000.0 + start))
    history.save(finished_run(1.0, 10.0, engine="fal", model=None, owner="bob", at=1000.0))
    assert estimate.observed_concurrency(history, "fal", "ann") == 3
    assert estimate.workers(history, "fal", "ann", 24) == 3 and estimate.workers(history, "fal", "ann", 2) == 2
    assert estimate.workers(history, "local", "ann", 24) == 1


def test_the_preflight_time_is_waves_at_the_observed_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLARITY_SWEEP_CONCURRENCY", raising=False)
    history = store.store()
    for start in (0.0, 0.0, 0.0):  # three 1 MP runs of 4 s at once: 4 s per MP, concurrency 3
        history.save(finished_run(1.0, 4.0, engine="fal", model=None, at=1000.0 + start))
    form = {"loaded": InputImage(input_image(500, 500), 500, 500, "d"), "engine": "fal", "x_axis": "seed",
            "x_values": "1-12", "y_axis": "", "upscale_factor": 2.0, "prompt": "a", "negative_prompt": "b"}
    cost = sweep_preflight.estimate(form, "").cost
    assert cost is not None and cost.estimated_seconds == pytest.approx(4 * 4.0)  # ceil(12 / 3) waves of 4 s


def test_the_line_and_the_tiles_say_the_same_of_cells_waiting_on_this_machine() -> None:
    # A user trial: the line said "1 running, 4 being sent, 7 completed" while the same local cells' tiles said
    # "queued": local cells are not sent anywhere, they wait their turn here.
    from components.sweep import sweep_views
    from core.sweep.sweep_run import Phase

    plan = plan_grid({}, "upscale_factor", [1, 1.5, 2, 2.5])
    runs = {plan.cells[0].key: Run(engine="local", arguments={}, status="completed"),
            plan.cells[1].key: Run(engine="local", arguments={}, status="running", request_id="local-1")}
    view = SweepView(plan, runs, "local", phase=Phase.RUNNING, message="running…")
    assert "4 cells: 1 running, 2 waiting their turn on this machine, 1 completed" in progress(view)
    captions = [item["caption"] for item in sweep_views.render_grid(view)[1].value]
    assert captions[1:] == ["upscale_factor=1.5 — running", "upscale_factor=2 — waiting its turn",
                            "upscale_factor=2.5 — waiting its turn"], captions


def test_one_cell_is_said_in_the_singular() -> None:
    # A user trial: "Sweep 895b733bf2df · 1 cells: 1 completed" (and History's "Moved sweep … (1 runs)")
    plan = plan_grid({}, "seed", [1])
    runs = {plan.cells[0].key: Run(engine="fal", arguments={}, status="completed")}
    assert "· 1 cell: 1 completed" in progress(SweepView(plan, runs, "fal"))
