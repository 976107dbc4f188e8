"""The Compare menus: every finished run reads differently, even two alike to the second."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from components.common.session import Session
from components.history import compare
from core.runs import store
from core.runs.runs import Run


def finished_local_run(tmp_path: Path, name: str, created_at: float) -> Run:
    output = tmp_path / f"{name}.png"
    Image.new("RGB", (20, 20), "teal").save(output)
    run = Run(engine="local", model="fast", arguments={"upscale_factor": 2}, input_name="astronaut.jpg",
              status="completed", output_path=str(output), width=20, height=20, created_at=created_at)
    store.save(run)
    return run


def test_two_runs_finished_in_one_second_read_differently_in_the_menus(tmp_path: Path) -> None:
    first = finished_local_run(tmp_path, "a", 1_700_000_000.2)
    second = finished_local_run(tmp_path, "b", 1_700_000_000.7)  # the same second, no seed on the local engine
    options = compare.choices(Session())[0]["choices"]
    texts = [text for text, _ in options]
    assert len(set(texts)) == 2  # a menu option a person (or a browser test) can pick by its words
    assert {value for _, value in options} == {first.id, second.id}
    for text, run_id in options:
        assert text.endswith(f" · run {run_id[:8]}")  # the id tells them apart


def test_runs_that_already_differ_keep_their_plain_labels(tmp_path: Path) -> None:
    finished_local_run(tmp_path, "a", 1_700_000_000)
    finished_local_run(tmp_path, "b", 1_700_000_005)
    assert all(" · run " not in text for text, _ in compare.choices(Session())[0]["choices"])


def test_the_differences_table_says_none_in_words_not_pythons_none(tmp_path: Path) -> None:
    # A lanczos run (no model) beside a local one showed "None" in the A/B table.
    local = finished_local_run(tmp_path, "a", 1_700_000_000.0)
    plain = Run(engine="lanczos", model=None, arguments={"upscale_factor": 2, "negative_prompt": ""},
                input_name="astronaut.jpg", status="completed", width=20, height=20)
    table = compare.differences(plain, local).set_index("parameter")
    assert table.loc["model", "A"] == "none" and table.loc["model", "B"] == "fast"
    assert "None" not in table.to_string()
