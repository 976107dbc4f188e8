"""The slider's own download button saves the output under the same name as the Output PNG link,
``<input stem>_x<factor>_<seed>.png`` (it saved a random cache name; a user trial)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from components.upscale.action import View, render_view


def test_the_slider_offers_the_output_under_its_download_name(tmp_path) -> None:
    before, after = tmp_path / "input.png", tmp_path / "run-1.png"
    Image.new("RGB", (4, 3), "teal").save(before)
    Image.new("RGB", (8, 6), "teal").save(after)
    view = View(stage="done", before=str(before), after=str(after), after_name="rocket_x2_4125210696.png")
    first, second = render_view(view)[2]
    assert Path(second).name == "rocket_x2_4125210696.png"
    assert Path(second).read_bytes() == after.read_bytes()
    assert Path(first).read_bytes() == before.read_bytes()
