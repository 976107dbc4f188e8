"""What each engine uses, and sweeps over a knob the engine ignores refused by name before they run."""

from __future__ import annotations

import pytest
from gradio_client import handle_file
from PIL import Image
from skimage import data as samples

from core import schema
from core.engines import ENGINES, describe
from core.errors import InputError
from core.runs import store
from core.sweep.ignored import refuse_ignored

LOCAL_IGNORES = ("prompt", "negative_prompt", "creativity", "resemblance", "guidance_scale",
                 "num_inference_steps", "seed", "enable_safety_checker")  # no diffusion, no randomness


def test_the_descriptor_says_what_each_engine_uses() -> None:
    assert describe("local").ignored == LOCAL_IGNORES
    assert describe("fal").ignored == ()
    assert describe("local").runs_at_once == 1 and describe("local").price_per_output_megapixel == 0
    assert describe("fal").price_per_output_megapixel == schema.PRICE_PER_MEGAPIXEL
    assert describe("fal").webhooks and describe("fal").resumable_by_request_id
    assert set(describe("local").models) == {"fast", "quality"}
    assert {describe(name).id for name in ENGINES} == set(ENGINES)
    with pytest.raises(ValueError):
        describe("gpu")


@pytest.mark.parametrize("axis", [*LOCAL_IGNORES, "prompt_sr"])
def test_a_local_sweep_over_an_ignored_knob_is_refused_by_name(axis: str) -> None:
    with pytest.raises(InputError, match=f"The local engine ignores {axis}: these cells would be identical; "
                                         "choose fal or another axis"):
        refuse_ignored("local", "upscale_factor", axis)


@pytest.mark.parametrize("axis", ["upscale_factor", "image", None])
def test_axes_the_engine_uses_go_ahead(axis: str | None) -> None:
    refuse_ignored("local", axis)
    for name in LOCAL_IGNORES:
        refuse_ignored("fal", name, axis)


def test_the_sweep_api_refuses_an_ignored_axis_before_anything_runs(client, tmp_path) -> None:
    photo = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[:64, :64]).save(photo)
    with pytest.raises(Exception, match="The local engine ignores creativity: these cells would be identical"):
        client.predict(handle_file(str(photo)), "", engine="local", x_axis="creativity", x_values="0.2, 0.5",
                       y_axis="", y_values="", api_name="/sweep")
    assert store.store().count() == 0  # nothing ran


def test_the_sweep_api_default_axis_is_one_the_default_engine_uses(client, tmp_path) -> None:
    photo = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()[:48, :48]).save(photo)
    csv, sheet, _ = client.predict(handle_file(str(photo)), "", engine="local", x_values="1, 1.5", y_axis="",
                                y_values="", api_name="/sweep")
    assert store.store().count() == 2
