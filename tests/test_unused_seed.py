"""A seed an engine does not use (local, lanczos) is never shown as if it made the picture: the console, the
PNG's parameters text and Compare's differences say "not used", whatever seed was asked for (a sweep draws one for
its grid, a single run asks none)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from components.history import compare
from components.upscale import console
from core import pnginfo, schema
from core.runs import events
from core.runs.runs import Run


def _settings_line(info: dict[str, object]) -> str:
    return pnginfo.parameters_text(info).splitlines()[-1]


def test_the_console_says_no_seed_was_used() -> None:
    line = console._words(events.Done(1.5, None, "local-1"))
    assert "None" not in line and "seed not used" in line
    assert "seed 42" in console._words(events.Done(1.5, 42, "req-1"))  # a seed used is named


def test_the_png_text_says_not_used_on_an_engine_without_a_seed() -> None:
    asked = {**schema.defaults(), "seed": 2569582006}  # a sweep cell: the grid's seed, recorded
    for engine in ("local", "lanczos"):
        for arguments in (asked, schema.defaults()):  # a sweep cell, a single run
            line = _settings_line({"arguments": arguments, "seed": None, "engine": engine})
            assert "Seed: not used" in line and "2569582006" not in line and "random" not in line, line
    fal = _settings_line({"arguments": asked, "seed": 2569582006, "engine": "fal"})
    assert "Seed: 2569582006" in fal


def _local_run(tmp_path: Path, name: str, arguments: dict[str, object]) -> Run:
    output = tmp_path / f"{name}.png"
    Image.new("RGB", (20, 20), "teal").save(output)
    return Run(engine="local", model="fast", arguments=arguments, input_name="a.png", status="completed",
               output_path=str(output), width=20, height=20)


def test_compare_lists_no_seed_between_two_runs_that_used_none(tmp_path: Path) -> None:
    cell = _local_run(tmp_path, "cell", {**schema.defaults(), "upscale_factor": 2, "seed": 2569582006})
    single = _local_run(tmp_path, "single", {**schema.defaults(), "upscale_factor": 2})
    table = compare.differences(cell, single)
    assert "seed" not in set(table["parameter"]), table
    fal = Run(engine="fal", arguments={**schema.defaults(), "upscale_factor": 2}, seed=7, status="completed")
    row = compare.differences(cell, fal).set_index("parameter").loc["seed"]
    assert row["A"] == "not used" and row["B"] == "7"
