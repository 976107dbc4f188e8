"""The Sweep tab's buttons as the sweep on show has them: *Retry unfinished* is live only when a cell did not finish
(pressed with none, it answered with a red Error)."""

from __future__ import annotations

from components.sweep.sweep_actions import SweepView
from components.sweep.sweep_views import Phase, sweep_buttons
from core.runs.runs import Run
from core.sweep.plan import plan_grid


def _retry_live(view: SweepView) -> bool:
    return bool(sweep_buttons(view)[2]["interactive"])


def test_retry_is_offered_only_for_a_sweep_with_an_unfinished_cell() -> None:
    plan = plan_grid({}, "upscale_factor", [1, 2])
    first, second = (cell.key for cell in plan.cells)
    done = {key: Run(engine="local", arguments={}, status="completed") for key in (first, second)}
    assert not _retry_live(SweepView(plan, done, "local"))  # every cell finished: nothing to retry
    for status in ("failed", "cancelled", "interrupted"):
        one_left = {**done, second: Run(engine="local", arguments={}, status=status)}
        assert _retry_live(SweepView(plan, one_left, "local")), status
    assert not _retry_live(SweepView(None))  # no sweep on show
    running = {**done, second: Run(engine="local", arguments={}, status="running")}
    assert not _retry_live(SweepView(plan, running, "local", phase=Phase.RUNNING))  # while it runs
