"""Deep links: a shared link brings back the same settings; bad parameters are refused one by one, by name."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from core import deeplink, presets, schema

URL = "https://example.com/photos/cat.png?size=large&v=2"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLARITY_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _open(query: str, owner: str = "") -> deeplink.DeepLink:
    """What the page reads: the query as Gradio's request.query_params presents it."""
    return deeplink.parse_query(dict(parse_qsl(query, keep_blank_values=True)), owner)


def _random_sets(count: int) -> list[dict[str, Any]]:
    rng = random.Random(20260101)
    prompts = ["", "a cat", "über Käse & Brot = 100%?", "line one\nline two", "'quotes' \"double\" #hash +plus",
               "猫 🐈", schema.defaults()["prompt"]]
    sets = []
    for _ in range(count):
        arguments: dict[str, Any] = {}
        for field in schema.PARAMETER_FIELDS:
            if rng.random() < 0.5:
                continue  # leave it at the default
            if field.kind == "float":
                arguments[field.name] = rng.choice([field.minimum, field.maximum, field.default,
                                                    rng.uniform(field.minimum, field.maximum)])
            elif field.kind == "int":
                arguments[field.name] = rng.choice([None, 0, rng.randint(0, schema.MAX_SEED)]) if \
                    field.name == "seed" else rng.randint(int(field.minimum), int(field.maximum))
            elif field.kind == "bool":
                arguments[field.name] = rng.random() < 0.5
            else:
                arguments[field.name] = rng.choice(prompts)
        if rng.random() < 0.5:
            arguments["image_url"] = URL
        sets.append(arguments)
    return sets


HAND_SETS: list[dict[str, Any]] = [
    {},
    {"creativity": 0.1 + 0.2, "seed": 0},
    {"upscale_factor": 3, "creativity": 0.5, "seed": 42},
    {"prompt": "", "negative_prompt": "", "enable_safety_checker": False},
    {"guidance_scale": 1e-07, "resemblance": 1 / 3, "num_inference_steps": 50},
    {"image_url": URL, "prompt": "a&b=c?d#e%20f+g"},
]


@pytest.mark.parametrize("preset_id", [None, "gentle-restore", "large-print-4x"])
def test_share_then_open_gives_back_the_same_arguments(preset_id: str | None) -> None:
    for arguments in HAND_SETS + _random_sets(60):
        link = _open(deeplink.share_query(arguments, preset_id))
        assert link.errors == []
        assert link.arguments() == {**schema.defaults(), **arguments}, arguments
        assert link.preset == preset_id


def test_share_holds_only_what_differs() -> None:
    assert deeplink.share_query(schema.defaults()) == ""
    assert deeplink.share_query({"seed": 5}) == "seed=5"
    gentle = presets.merged(presets.find("gentle-restore"))
    assert deeplink.share_query(gentle, "gentle-restore") == "preset=gentle-restore"
    # Back at the schema default but not at the preset's value: it must be written, or the preset would win.
    query = deeplink.share_query({**gentle, "creativity": schema.defaults()["creativity"]}, "gentle-restore")
    assert dict(parse_qsl(query)) == {"preset": "gentle-restore", "creativity": "0.35"}


def test_preset_then_explicit_parameters() -> None:
    link = _open("preset=gentle-restore&seed=42")
    gentle = presets.find("gentle-restore")
    assert link.errors == [] and link.preset == "gentle-restore"
    assert link.arguments() == {**presets.merged(gentle), "seed": 42}
    link = _open("creativity=0.5&preset=gentle-restore")
    assert link.values["creativity"] == 0.5
    assert link.values["resemblance"] == gentle.arguments["resemblance"]


def test_bad_parameters_are_refused_one_by_one() -> None:
    link = _open("creativity=lots&upscale_factor=9&num_inference_steps=2.5&enable_safety_checker=maybe"
                 "&seed=-1&guidance_scale=6&prompt=a+fox&preset=no-such-preset")
    assert link.values == {"prompt": "a fox", "guidance_scale": 6.0}
    assert link.preset is None
    refused = {message.split("=")[0] for message in link.errors}
    assert refused == {"creativity", "upscale_factor", "num_inference_steps", "enable_safety_checker", "seed",
                       "preset"}
    assert any("too large" in m for m in link.errors if m.startswith("upscale_factor"))
    assert any("'lots'" in m for m in link.errors)


def test_unknown_parameters_are_listed_but_gradios_own_are_not() -> None:
    link = _open("__theme=dark&view=api&creativity=0.4&fal_key=super-secret-value&utm_source=x")
    assert link.values == {"creativity": 0.4}
    assert sorted(link.errors) == ["fal_key: unknown parameter, ignored.", "utm_source: unknown parameter, ignored."]
    assert "super-secret-value" not in " ".join(link.errors)


@pytest.mark.parametrize("image_url", ["http://example.com/a.png", "data:image/png;base64,iVBORw0KGgo=",
                                       "/etc/passwd", "file:///etc/passwd", "https://"])
def test_only_https_images_come_from_a_link(image_url: str) -> None:
    link = deeplink.parse_query({"image_url": image_url, "seed": "1"})
    assert link.image_url is None and link.values == {"seed": 1}
    assert len(link.errors) == 1 and link.errors[0].startswith("image_url=")
    assert deeplink.parse_query({"image_url": URL}).image_url == URL


@pytest.mark.parametrize("image_url", ["data:image/png;base64," + "A" * 400, "/tmp/gradio/abc/photo.png",
                                       "C:\\Users\\me\\photo.png", "http://example.com/a.png",
                                       "https://user:pass@example.com/a.png"])
def test_private_images_never_go_into_a_share_link(image_url: str) -> None:
    url = deeplink.share_url("https://studio.example/", {"image_url": image_url, "seed": 3})
    assert url == "https://studio.example/?seed=3"


def test_no_key_in_a_share_link(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "0b1c2d3e-4f5a:9f8e7d6c5b4a3928"
    monkeypatch.setenv("FAL_KEY", key)
    query = deeplink.share_query({"fal_key": key, "key": key, "prompt": f"oops {key}", "seed": 9})
    assert query == "seed=9"


def test_a_saved_preset_is_written_out_so_others_can_open_the_link() -> None:
    mine = presets.save("My look", "", {"creativity": 0.55, "guidance_scale": 9})
    query = deeplink.share_query(presets.merged(mine), mine.id)
    assert "preset" not in dict(parse_qsl(query))
    link = _open(query, owner="someone-else")
    assert link.errors == [] and link.arguments() == presets.merged(mine)
    # Its owner can open it by id.
    assert _open(f"preset={mine.id}").values == mine.arguments
    assert _open(f"preset={mine.id}", owner="someone-else").errors


def test_share_url_keeps_the_theme_and_replaces_old_parameters() -> None:
    url = deeplink.share_url("https://studio.example/app/?__theme=dark&seed=1&preset=balanced#top",
                             {**presets.merged(presets.find("fast-draft")), "seed": 2}, "fast-draft")
    parts = urlsplit(url)
    assert (parts.path, parts.fragment) == ("/app/", "top")
    assert parse_qsl(parts.query) == [("__theme", "dark"), ("preset", "fast-draft"), ("seed", "2")]
