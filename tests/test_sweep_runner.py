"""Grid plans (cells, labels, arguments, cost) and the concurrent sweep runner."""

from __future__ import annotations

import asyncio

import pytest

from core import schema
from core.errors import CancelledRun, EngineError, InputError
from core.schema import estimated_price
from core.sweep.plan import Cell, parse_axis, plan_grid
from core.sweep.scheduler import cell_status, retry_failed, run_sweep


def _plan_3x3():
    return plan_grid({"prompt": "a cat"}, "creativity", parse_axis("creativity", "0.2-0.4 (+0.1)"),
                     "resemblance", parse_axis("resemblance", "0.4, 0.6, 0.8"))


# --- plan ----------------------------------------------------------------------------------------------------

def test_plan_has_one_cell_per_value_pair_with_labels_and_arguments() -> None:
    plan = _plan_3x3()
    assert plan.size == 9 and (plan.columns, plan.rows) == (3, 3)
    cell = plan.cell((1, 2))
    assert (cell.x_value, cell.y_value) == (0.3, 0.8)
    assert cell.label == "creativity=0.3 · resemblance=0.8"
    assert cell.arguments["creativity"] == 0.3 and cell.arguments["resemblance"] == 0.8
    assert cell.arguments["prompt"] == "a cat" and cell.arguments["upscale_factor"] == 2.0  # base + defaults
    assert [c.label for c in plan.cells[:3]] == [f"creativity={x} · resemblance=0.4" for x in ("0.2", "0.3", "0.4")]
    assert len({c.key for c in plan.cells}) == 9


def test_single_axis_plan() -> None:
    plan = plan_grid({}, "num_inference_steps", [10, 20])
    assert [c.label for c in plan.cells] == ["num_inference_steps=10", "num_inference_steps=20"]
    assert plan.rows == 1 and plan.cells[1].y_value is None and plan.cells[1].arguments["num_inference_steps"] == 20


def test_prompt_search_replace_changes_prompt_and_negative_prompt() -> None:
    base = {"prompt": "a cat on a cat mat", "negative_prompt": "ugly cat"}
    plan = plan_grid(base, "prompt_sr", ["cat", "dog"])
    assert plan.cells[0].arguments["prompt"] == "a cat on a cat mat"
    assert plan.cells[1].arguments["prompt"] == "a dog on a dog mat"
    assert plan.cells[1].arguments["negative_prompt"] == "ugly dog"
    with pytest.raises(InputError, match="does not occur"):
        plan_grid(base, "prompt_sr", ["bird", "dog"])


def test_image_axis_gives_each_cell_its_image() -> None:
    images = {"left": "/data/a.png", "right": "/data/b.png"}
    plan = plan_grid({"image_url": "https://example.com/x.png"}, "image", ["left", "right"], "seed", [1, 2],
                     images=images)
    assert plan.cell((1, 0)).image_path == "/data/b.png"
    assert "image_url" not in plan.cell((1, 0)).arguments  # the base image is not this cell's input
    assert plan.cell((0, 1)).arguments["seed"] == 2
    with pytest.raises(InputError, match="no image labelled 'middle'"):
        plan_grid({}, "image", ["left", "middle"], images=images)


def test_random_seed_value_omits_seed() -> None:
    plan = plan_grid({"seed": 5}, "seed", [None, 7])
    assert "seed" not in plan.cells[0].arguments and plan.cells[1].arguments["seed"] == 7
    assert plan.cells[0].label == "seed=random"


def test_grid_over_the_cell_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="this grid has 110 cells; the limit is 100"):
        plan_grid({}, "seed", list(range(11)), "num_inference_steps", list(range(4, 14)))
    monkeypatch.setenv("CLARITY_MAX_SWEEP_CELLS", "8")
    with pytest.raises(InputError, match="this grid has 9 cells; the limit is 8"):
        _plan_3x3()


def test_plan_rejects_the_same_axis_twice_and_bad_base_arguments() -> None:
    with pytest.raises(InputError, match="both sweep"):
        plan_grid({}, "seed", [1], "seed", [2])
    with pytest.raises(InputError) as caught:
        plan_grid({"guidance_scale": 99}, "seed", [1])
    assert caught.value.field == "guidance_scale"


def test_preflight_adds_up_cells_megapixels_price_and_time() -> None:
    plan = plan_grid({}, "upscale_factor", [1.0, 2.0])
    check = plan.preflight(1000, 500, seconds_per_megapixel=10.0, concurrency=2,
                           price_per_megapixel=lambda cell: schema.PRICE_PER_MEGAPIXEL)
    assert check.cells == 2
    assert check.total_output_megapixels == pytest.approx(0.5 + 2.0)
    assert check.estimated_price == pytest.approx(estimated_price(1000, 500, 1) + estimated_price(1000, 500, 2))
    assert check.estimated_seconds == pytest.approx(20.0)  # the longer cell, both running at once
    assert plan.preflight(1000, 500, seconds_per_megapixel=10.0, concurrency=1).estimated_seconds == \
        pytest.approx(25.0)
    assert plan.preflight(1000, 500).estimated_seconds is None
    assert check.needs_confirmation(price_limit=0.05, cell_limit=10)
    assert not check.needs_confirmation(price_limit=1.0, cell_limit=10)
    assert check.needs_confirmation(price_limit=1.0, cell_limit=1)


def test_preflight_uses_each_images_size_and_flags_oversized(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_MAX_OUTPUT_MP", "1")
    plan = plan_grid({"upscale_factor": 2}, "image", ["small", "big"], images={"small": "s.png", "big": "b.png"})
    check = plan.preflight(sizes={"s.png": (100, 100), "b.png": (1000, 1000)})
    assert check.total_output_megapixels == pytest.approx(0.04 + 4.0)
    assert check.oversized == ((1, 0),)
    with pytest.raises(InputError, match="unknown"):
        plan.preflight(sizes={"s.png": (100, 100)})


# --- runner --------------------------------------------------------------------------------------------------

def test_one_failing_cell_does_not_take_the_sweep_down() -> None:
    plan = _plan_3x3()
    updates: list[tuple[tuple[int, int], str]] = []

    async def run_cell(cell: Cell) -> str:
        await asyncio.sleep(0)
        if cell.key == (1, 1):
            raise EngineError("fal answered 500", request_id="req-11")
        return f"out-{cell.label}"

    results = asyncio.run(run_sweep(plan, run_cell, 3, lambda c, status, _: updates.append((c.key, status))))
    failures = {key: value for key, value in results.items() if isinstance(value, Exception)}
    assert len(results) == 9 and list(failures) == [(1, 1)]
    assert failures[(1, 1)].request_id == "req-11"
    assert results[(2, 0)] == "out-creativity=0.4 · resemblance=0.4"
    assert [status for key, status in updates if key == (1, 1)] == ["queued", "running", "failed"]
    assert [status for key, status in updates if key == (0, 0)] == ["queued", "running", "completed"]
    assert cell_status(results, (1, 1)) == "failed" and cell_status(results, (0, 0)) == "completed"


@pytest.mark.parametrize("concurrency", [1, 2, 4])
def test_concurrency_is_respected(concurrency: int) -> None:
    in_flight, peak = 0, 0

    async def run_cell(cell: Cell) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1
        return cell.x_index

    results = asyncio.run(run_sweep(_plan_3x3(), run_cell, concurrency))
    assert len(results) == 9
    assert peak == concurrency


def test_cancelling_the_sweep_cancels_running_cells_and_keeps_finished_ones() -> None:
    plan = _plan_3x3()
    results: dict = {}
    cancelled_inside: list[tuple[int, int]] = []
    statuses: dict = {}

    async def run_cell(cell: Cell) -> str:
        if cell.x_index == 0:
            return "done"
        try:
            await asyncio.Event().wait()  # a cell that runs until cancelled
        except asyncio.CancelledError:
            cancelled_inside.append(cell.key)  # where an engine would cancel its remote job
            raise
        return "never"

    async def main() -> None:
        task = asyncio.create_task(run_sweep(plan, run_cell, 2, lambda c, s, _: statuses.__setitem__(c.key, s),
                                             results=results))
        while len(cancelled_inside) == 0 and sum(s == "running" for s in statuses.values()) < 2:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    finished = {key for key, value in results.items() if value == "done"}
    assert finished and all(key[0] == 0 for key in finished)
    assert len(cancelled_inside) == 2  # exactly the cells that were running
    assert len(results) == 9
    unfinished = [key for key in results if key not in finished]
    assert all(isinstance(results[key], CancelledRun) for key in unfinished)
    assert all(statuses[key] == "cancelled" for key in unfinished)


def test_a_cell_cancelled_from_inside_does_not_cancel_the_sweep() -> None:
    async def run_cell(cell: Cell) -> str:
        await asyncio.sleep(0)
        if cell.key == (0, 0):
            raise asyncio.CancelledError  # e.g. the engine's own job was cancelled
        return "done"

    results = asyncio.run(run_sweep(_plan_3x3(), run_cell, 2))
    assert cell_status(results, (0, 0)) == "cancelled"
    assert [value for key, value in results.items() if key != (0, 0)] == ["done"] * 8


def test_retry_reruns_only_failed_cells() -> None:
    plan = _plan_3x3()
    calls: list[tuple[int, int]] = []
    broken = {(0, 0), (2, 2)}

    async def run_cell(cell: Cell) -> str:
        calls.append(cell.key)
        if cell.key in broken:
            raise EngineError("flaky")
        return f"ok {len(calls)}"

    async def main() -> dict:
        results = await run_sweep(plan, run_cell, 2)
        results[(1, 1)] = CancelledRun("user cancelled this one")
        kept = results[(0, 1)]
        calls.clear()
        broken.clear()
        await retry_failed(plan, results, run_cell, 2)
        assert results[(0, 1)] == kept
        return results

    results = asyncio.run(main())
    assert sorted(calls) == [(0, 0), (2, 2)]
    assert cell_status(results, (0, 0)) == "completed" and cell_status(results, (1, 1)) == "cancelled"

    calls.clear()
    asyncio.run(retry_failed(plan, results, run_cell, 2, include_cancelled=True))
    assert calls == [(1, 1)]


def test_a_broken_progress_callback_does_not_stop_the_sweep() -> None:
    async def run_cell(cell: Cell) -> int:
        return 1

    def on_update(cell: Cell, status: str, payload: object) -> None:
        raise RuntimeError("display broke")

    results = asyncio.run(run_sweep(_plan_3x3(), run_cell, 3, on_update))
    assert list(results.values()) == [1] * 9


def test_concurrency_below_one_is_refused() -> None:
    async def run_cell(cell: Cell) -> int:
        return 1

    with pytest.raises(InputError, match="at least 1"):
        asyncio.run(run_sweep(_plan_3x3(), run_cell, 0))
