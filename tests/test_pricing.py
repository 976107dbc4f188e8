"""Money is priced from each engine's own descriptor (``EngineInfo.price_per_output_megapixel``), never from one
constant: a sweep over an engine axis prices each cell at its own engine's rate, a reservation is settled at the
rate of the engine each run used, and a free engine costs nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core import schema
from core.engines import describe, lanczos
from core.runs.runs import Run
from core.sharing import spending
from core.sweep.axes import parse_axis
from core.sweep.plan import plan_grid
from core.usecases import admission
from core.usecases.sweep import preflight
from tests.reliability import noise_png

ONE_MP = (1000, 1000)


@pytest.fixture
def priced_baseline(monkeypatch: pytest.MonkeyPatch) -> float:
    """The Lanczos engine as if it cost $0.01 per output megapixel (a second priced engine)."""
    real = lanczos.info
    monkeypatch.setattr(lanczos, "info", lambda: replace(real(), price_per_output_megapixel=0.01))
    return 0.01


def test_each_cell_of_an_engine_axis_is_priced_at_its_own_engines_rate(tmp_path: Path, priced_baseline) -> None:
    photo = noise_png(tmp_path / "p.png", (500, 500))
    plan = plan_grid({}, "engine", parse_axis("engine", "fal, lanczos, local"), "upscale_factor",
                     parse_axis("upscale_factor", "2"))
    cost = preflight(plan, "fal", photo)
    assert cost is not None
    fal, baseline, local = (cost.prices[cell.key] for cell in plan.cells)
    assert fal == pytest.approx(1.0 * schema.PRICE_PER_MEGAPIXEL) and baseline == pytest.approx(priced_baseline)
    assert local == 0 and cost.estimated_price == pytest.approx(fal + baseline)


def test_a_run_is_settled_at_the_rate_of_the_engine_it_ran_on(priced_baseline) -> None:
    done = {"status": "completed", "width": ONE_MP[0], "height": ONE_MP[1]}
    assert spending.run_cost(Run(engine="lanczos", arguments={}, **done), 0.5) == pytest.approx(priced_baseline)
    assert spending.run_cost(Run(engine="fal", arguments={}, **done), 0.5) == pytest.approx(schema.PRICE_PER_MEGAPIXEL)
    assert spending.run_cost(Run(engine="local", arguments={}, **done), 0.5) == 0


def test_a_single_run_is_priced_by_its_engine(tmp_path: Path, priced_baseline) -> None:
    photo = noise_png(tmp_path / "p.png", (500, 500))
    assert admission.price("lanczos", photo, 2.0) == pytest.approx(priced_baseline)
    assert admission.price("fal", photo, 2.0) == pytest.approx(describe("fal").price_per_output_megapixel)
    assert admission.price("local", photo, 2.0) == 0
