"""The Sweep tab's Metrics plot keeps honest scales and says what each metric compares: an auto-scaled axis drew a
0.1 dB PSNR spread as a dramatic curve, and "sharpness" fell from 291 at ×1 to 24 at ×4 with no word that it
depends on the output's size (a user trial)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from components.sweep import sweep_views as views
from components.sweep.sweep_actions import SweepView
from core import schema
from core.sweep.axes import parse_axis
from core.sweep.plan import plan_grid
from core.sweep.sweep_run import Phase


def shown(tmp_path: Path, axis: str, text: str, metric: str, values: dict[str, list[float]]) -> tuple[dict, str]:
    plan = plan_grid(schema.defaults(), axis, parse_axis(axis, text))
    csv = tmp_path / "cells.csv"
    pd.DataFrame({"label": [cell.label for cell in plan.cells], "x_value": [cell.x_value for cell in plan.cells],
                  "y_value": None, **values}).to_csv(csv, index=False)
    plot, note = views.plot(SweepView(plan, csv=str(csv)), None, metric)
    return plot.constructor_args, note


def test_a_tenth_of_a_decibel_is_drawn_as_the_small_thing_it_is(tmp_path: Path) -> None:
    args, note = shown(tmp_path, "creativity", "0.3, 0.4, 0.5", "psnr", {"psnr": [31.02, 31.08, 31.12]})
    low, high = args["y_lim"]
    assert low == 0 and high >= 40  # 0.1 dB on an axis from 0: a flat line, as it should look
    assert args["y_title"] == "PSNR against the input (dB)"
    assert "compares each output" in note and "with the input" in note
    assert "span 31.02–31.12 dB (a spread of 0.1 dB)" in note  # the spread said in numbers


def test_ssim_spans_zero_to_one_and_sharpness_warns_across_factors(tmp_path: Path) -> None:
    args, note = shown(tmp_path, "creativity", "0.3, 0.5", "ssim", {"ssim": [0.91, 0.92]})
    assert args["y_lim"] == [0.0, 1.0] and "structure" in note
    args, note = shown(tmp_path, "upscale_factor", "1, 2, 4", "sharpness", {"sharpness": [291.0, 80.0, 24.0]})
    assert args["y_lim"][0] == 0 and args["y_lim"][1] >= 291
    assert "falls as the output grows" in note and "not comparable across factors" in note


def test_while_a_new_sweep_runs_the_last_sweeps_views_are_cleared(tmp_path: Path) -> None:
    plan = plan_grid(schema.defaults(), "creativity", parse_axis("creativity", "0.3, 0.5"))
    running = SweepView(plan, phase=Phase.RUNNING)  # no CSV yet: its cells are still running
    sheet, crop_input, _, _, _, cells, against, metrics = views.render_results(running)
    assert sheet is None and crop_input is None and metrics.empty
    assert cells["choices"] == [] and against["choices"] == ["input"]
    plot, note = views.plot(running, None, "psnr")
    assert plot.constructor_args.get("value").empty  # the last sweep's points are gone (empty, never None)
    assert "Measured when the sweep ends" in note
