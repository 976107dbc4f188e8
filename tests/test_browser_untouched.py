"""What the form shows is what runs: opening every accordion and tab, touching nothing, changes no value.

Each path opens the app (plain, after a preset, from a deep link), opens every accordion and every tab without
changing anything, runs twice on fal (the test server records what it received) and checks that exactly the
form's values were sent, with no seed (random), and that the two runs used two different seeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from skimage import data as samples

from core import presets, schema
from tests import browser_steps as steps
from tests.browser import browser_page

pytestmark = pytest.mark.browser


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A small photo, a different one per test: the fal engine reuses an upload of the same picture by its hash,
    and the test server forgets its files between tests."""
    offset = 8 * (sum(map(ord, request.node.name)) % 32)
    path = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[offset:offset + 96, 192:288]).save(path)
    return str(path)


@pytest.fixture
def on_fal(fal_server, fal_key, monkeypatch):
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=0, run_polls=1, run_time=0.1)
    return fal_server


def run_twice(page, fal_server) -> tuple[list[dict], list[int]]:
    """Press Upscale twice, each time until done; the arguments fal received and the seeds the runs used."""
    seeds: list[int] = []
    request_id = ""
    for _ in range(2):
        page.locator("#run-button").click()
        page.wait_for_function("old => { const text = document.querySelector('#console textarea').value;"
                               " return text.includes('Done in') && !(old && text.includes(old)); }",
                               arg=request_id, timeout=60_000)
        text = steps.console_text(page)
        request_id = steps.request_id_in(text)
        seeds.append(int(text.split("· seed ")[1].split(" ")[0]))
    sent = [{k: v for k, v in request.json.items() if k != "image_url"} for request in fal_server.submits()]
    return sent, seeds


def expected(values: dict) -> dict:
    return {name: value for name, value in values.items() if value is not None}


def check(page, fal_server, values: dict) -> None:
    page.locator("#engine").get_by_text("fal", exact=True).click()  # the app was built before FAL_KEY was set
    steps.open_everything(page)
    steps.open_tab(page, "Upscale")
    sent, seeds = run_twice(page, fal_server)
    assert sent == [expected(values)] * 2
    assert "seed" not in sent[0] and seeds[0] != seeds[1]


def test_opening_every_accordion_and_tab_changes_nothing_that_runs(studio, photo, on_fal) -> None:
    with browser_page() as page:
        steps.open_app(page, studio)
        steps.upload(page, photo)
        check(page, on_fal, schema.defaults())
        assert page.locator("#param-seed input, #param-seed textarea").first.input_value() == ""


def test_a_preset_then_opening_everything_runs_the_preset(studio, photo, on_fal) -> None:
    with browser_page() as page:
        steps.open_app(page, studio)
        steps.choose(page, "preset", "Gentle restore")
        page.locator("#preset-description").get_by_text("gentle-restore").wait_for()
        steps.wait_value(page, "#param-creativity input[type=number]", "0.2")
        steps.upload(page, photo)
        check(page, on_fal, presets.merged(presets.find("gentle-restore")))


def test_a_deep_link_then_opening_everything_runs_the_link(studio, photo, on_fal) -> None:
    with browser_page() as page:
        steps.open_app(page, studio + "?preset=gentle-restore&creativity=0.5")
        steps.wait_value(page, "#param-creativity input[type=number]", "0.5")
        steps.upload(page, photo)
        check(page, on_fal, {**presets.merged(presets.find("gentle-restore")), "creativity": 0.5})
