"""The images axis (batch mode) with https:// URLs, fetched while the sweep runs inside Gradio's event loop."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.mark.reliability("hostile urls")
def test_an_image_axis_of_urls_runs_each_picture(client, web) -> None:
    urls = [f"{web.url}/image.png", f"{web.url}/image.bin"]
    before = len(web.hits)
    csv, sheet, _ = client.predict(None, "", engine="local", upscale_factor=1, x_axis="image",
                                x_values=", ".join(urls), y_axis="", y_values="", api_name="/sweep")
    cells = pd.read_csv(csv, encoding="utf-8-sig")
    assert list(cells["status"]) == ["completed", "completed"]
    assert sorted(web.hits[before:]) == ["/image.bin", "/image.png"]
