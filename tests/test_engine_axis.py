"""The engine axis: one grid compares the hosted clarity result with the free local baselines — each cell on its
own engine, only fal's cells priced, a knob an engine ignores marked on that engine's cells."""

from __future__ import annotations

import zlib
from pathlib import Path

import pandas as pd
import pytest
from gradio_client import handle_file

from components.sweep import sweep_views
from components.sweep.sweep_actions import request_of
from core import schema
from core.errors import InputError
from core.inputs.images import estimated_price
from core.sweep.axes import parse_axis
from core.usecases.sweep import plan_sweep, preflight
from tests.reliability import noise_png


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return noise_png(tmp_path / "compare.png", (40, 30), seed=zlib.crc32(request.node.name.encode()))


def test_engine_values_are_read_and_checked() -> None:
    assert parse_axis("engine", "fal, local:fast , LOCAL:quality, local") == ["fal", "local:fast", "local:quality",
                                                                             "local"]
    with pytest.raises(InputError, match=r"`local:best` is not an engine; write one of fal, local, local:fast"):
        parse_axis("engine", "fal, local:best")


def test_each_cell_runs_on_its_engine_and_only_fals_are_priced(client, photo, fal_server, fal_key,
                                                               monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    form = {"engine": "fal", "x_axis": "engine", "x_values": "fal, local:fast", "y_axis": "creativity",
            "y_values": "0.2, 0.5", **schema.defaults(), "image": photo, "image_url": None}
    plan, image_path = plan_sweep(request_of(form), "")
    cost = preflight(plan, "fal", image_path)
    assert cost.estimated_price == pytest.approx(2 * estimated_price(40, 30, 2.0))  # two fal cells, two free

    csv, _, _ = client.predict(handle_file(photo), None, engine="fal", x_axis="engine", x_values="fal, local:fast",
                            y_axis="creativity", y_values="0.2, 0.5", api_name="/sweep")
    cells = pd.read_csv(csv, encoding="utf-8-sig")
    assert list(cells["status"]) == ["completed"] * 4
    assert list(zip(cells["engine"], cells["model"].fillna(""), strict=True)) == [
        ("fal", ""), ("local", "fast"), ("fal", ""), ("local", "fast")]
    assert len(fal_server.submits()) == 2  # the local cells never reached fal

    runs = {(int(row.x_index), int(row.y_index)): row for row in cells.itertuples()}
    assert runs[(0, 0)].creativity == 0.2 and runs[(0, 1)].creativity == 0.5
    labels = [sweep_views.ignored_note(plan, cell) and cell.label + sweep_views.ignored_note(plan, cell)
              for cell in plan.cells]
    marked = [label for label in labels if "· local ignores creativity" in label]
    assert len(marked) == 2 and all(label.startswith("engine=local:fast") for label in marked)


def test_an_engine_axis_needs_a_key_only_for_the_engines_that_do(client, photo, monkeypatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    with pytest.raises(Exception, match="No fal key"):
        client.predict(handle_file(photo), None, engine="local", x_axis="engine", x_values="fal, local:fast",
                       y_axis="", y_values="", api_name="/sweep")
    csv, _, _ = client.predict(handle_file(photo), None, engine="local", x_axis="engine",
                            x_values="local:fast, local:quality", upscale_factor=1, y_axis="", y_values="",
                            api_name="/sweep")
    cells = pd.read_csv(csv, encoding="utf-8-sig")
    assert list(cells["model"]) == ["fast", "quality"] and set(cells["status"]) == {"completed"}
    # A user trial: a sweep too large to run without confirming, with a fal cell and no key, asked to confirm its
    # price first; confirming would only have been refused for the key.
    with pytest.raises(Exception, match="No fal key"):
        client.predict(handle_file(photo), None, engine="local", x_axis="engine", x_values="fal, local:fast",
                       y_axis="upscale_factor", y_values="1-2 [9]", api_name="/sweep")  # 18 cells


@pytest.mark.browser
def test_the_engine_axis_in_the_sweep_tab(studio, photo, fal_server, fal_key, monkeypatch) -> None:
    from tests import browser_steps as steps
    from tests.browser import browser_page, screenshot

    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.upload(page, photo)
        steps.open_tab(page, "Sweep")
        steps.choose(page, "sweep-x-axis", "Engine")
        page.locator("#sweep-x-values textarea, #sweep-x-values input").first.fill("fal, local:fast")
        steps.choose(page, "sweep-y-axis", "Creativity")
        page.locator("#sweep-y-values textarea, #sweep-y-values input").first.fill("0.2, 0.5")
        page.locator("#sweep-preflight").get_by_text("4 cells").wait_for()
        assert "on fal" in page.locator("#sweep-preflight").inner_text()  # only fal's cells are priced
        page.locator("#sweep-run").click()
        page.locator("#sweep-progress").get_by_text("4 completed").wait_for(timeout=120_000)
        page.wait_for_function("() => document.querySelectorAll('#sweep-grid .gallery-item img').length === 4")
        captions = [caption for caption, _ in steps.gallery(page, "sweep-grid")]
        assert sum("· local ignores creativity" in caption for caption in captions) == 2
        screenshot(page, "engine-axis")
