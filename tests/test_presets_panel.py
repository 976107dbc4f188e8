"""Presets, share links, deep links and the code panel: handlers without a browser, then the running app.

The generated Python is run for real, as a subprocess, against the test fal server: what it submits must be
exactly what the form holds.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import gradio as gr
import pytest
from gradio_client import handle_file
from PIL import Image

from components.code import code_panel
from components.common.session import Session
from components.upscale import deeplink_panel, presets_panel
from core import config, presets, schema
from core.inputs.region import Region

FIELDS = [f.name for f in schema.PARAMETER_FIELDS]
URL = "https://images.example/cat.png"
NO_REGION = (False, "", "", "", "")  # the region switch off and its four boxes empty


def form(**changes: Any) -> list[Any]:
    """The parameter widgets' values in schema order: the defaults with ``changes``."""
    values = {**schema.defaults(), **changes}
    return [values[name] for name in FIELDS]


def request(query: dict[str, str] | None = None, **headers: str) -> gr.Request:
    """A gr.Request as Gradio rebuilds one off the wire: headers and the page's query parameters only."""
    return gr.Request(headers={"host": "studio.example:7860", **headers}, query_params=query or {})


def png_bytes(width: int = 12, height: int = 10) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def same(left: dict[str, Any], right: dict[str, Any]) -> bool:
    """Equal with the same key order and value types (2 and 2.0 are different requests)."""
    return list(left) == list(right) and all(type(left[k]) is type(right[k]) and left[k] == right[k] for k in left)


# -- presets ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", presets.shipped(), ids=lambda p: p.id)
def test_choosing_a_preset_fills_every_field_and_keeps_the_seed(preset: presets.Preset) -> None:
    values = presets_panel.apply_preset(preset.id, 1234, Session())
    expected = {**schema.defaults(), **preset.arguments, "seed": 1234}
    assert values == [expected[name] for name in FIELDS]


def test_a_preset_that_sets_a_seed_replaces_the_current_one() -> None:
    mine = presets.save("Seeded", "", {"seed": 77, "creativity": 0.5})
    values = dict(zip(FIELDS, presets_panel.apply_preset(mine.id, 1234, Session()), strict=True))
    assert values["seed"] == 77 and values["creativity"] == 0.5 and values["upscale_factor"] == 2.0


def test_gentle_restore_gives_its_own_values_over_the_defaults() -> None:
    values = dict(zip(FIELDS, presets_panel.apply_preset("gentle-restore", None, Session()), strict=True))
    assert values["creativity"] == 0.2 and values["resemblance"] == 0.85
    assert values["num_inference_steps"] == 18 and values["seed"] is None


def test_menu_lists_shipped_presets_first_and_marks_saved_ones() -> None:
    presets.save("Zebra scans", "For scanned zebras", {"creativity": 0.1})
    menu = presets_panel.choices()
    shipped = [(p.label, p.id) for p in presets.shipped()]
    custom = ("custom (matches no preset)", presets_panel.CUSTOM)
    assert menu == [*shipped, ("Zebra scans (saved)", "zebra-scans"), custom]
    assert presets_panel.choices(include_saved=False) == [*shipped, custom]


def test_the_menu_says_which_preset_the_form_matches_or_custom() -> None:
    form = dict(zip(FIELDS, presets_panel.apply_preset("gentle-restore", 7, Session()), strict=True))
    assert presets_panel.matching(list(form.values())) == "gentle-restore"  # the seed is the visitor's own
    assert presets_panel.matching(list({**form, "creativity": 0.21}.values())) == presets_panel.CUSTOM
    defaults = presets_panel.preset_values(presets.find("fal-defaults"))
    assert presets_panel.matching(defaults) == "fal-defaults"
    assert presets_panel.apply_preset(presets_panel.CUSTOM, None, Session()) == [gr.skip()] * len(FIELDS)
    presets.save("Plain mine", "", {})  # the same values as fal's defaults: the one chosen stays chosen
    assert presets_panel.matching(defaults, chosen="plain-mine") == "plain-mine"
    assert presets_panel.matching(defaults, chosen="balanced") == "fal-defaults"


def test_description_says_built_in_or_saved_and_delete_is_only_for_saved() -> None:
    text, delete = presets_panel.show_preset("gentle-restore", Session())
    assert "Built-in" in text and presets.find("gentle-restore").description in text
    assert delete.interactive is False
    presets.save("Mine", "My own look", {})
    text, delete = presets_panel.show_preset("mine", Session())
    assert "Your saved preset" in text and "My own look" in text and delete.interactive is True
    assert presets_panel.show_preset(None, Session())[0] == presets_panel.NO_PRESET


def test_save_then_it_is_listed_and_selected_at_once(tmp_path: Path) -> None:
    menu, description, label, about = presets_panel.save_preset(
        "Old photos", "Scans of prints", Session(), *form(creativity=0.15, resemblance=0.9, seed=5,
                                                           upscale_factor=3))
    assert menu.value == "old-photos" and ("Old photos (saved)", "old-photos") in menu.choices
    assert "Scans of prints" in description and (label, about) == ("", "")
    saved = presets.find("old-photos")
    assert saved.source == "saved" and saved.path.is_relative_to(config.data_dir())
    assert saved.arguments["creativity"] == 0.15 and saved.arguments["upscale_factor"] == 3.0
    assert presets_panel.apply_preset("old-photos", None, Session())[FIELDS.index("seed")] == 5


def test_saved_presets_belong_to_their_owner() -> None:
    presets_panel.save_preset("Alice look", "", Session(owner="alice", shared=True), *form())
    assert ("Alice look (saved)", "alice-look") in presets_panel.choices("alice")
    assert all(value != "alice-look" for _, value in presets_panel.choices("bob"))
    with pytest.raises(gr.Error, match="no preset"):
        presets_panel.apply_preset("alice-look", None, Session(owner="bob", shared=True))


@pytest.mark.parametrize(("label", "words"), [("", "Give the preset a name"), ("Balanced", "built-in"),
                                              ("!!!", "Latin letter")])
def test_save_refusals_are_messages(label: str, words: str) -> None:
    with pytest.raises(gr.Error, match=words):
        presets_panel.save_preset(label, "", Session(), *form())


def test_delete_a_saved_preset_but_never_a_shipped_one() -> None:
    presets.save("Throwaway", "", {"seed": 1})
    menu = presets_panel.delete_preset("throwaway", Session())
    assert menu.value is None and all(value != "throwaway" for _, value in menu.choices)
    assert presets.find("throwaway") is None
    with pytest.raises(gr.Error, match="built-in preset and cannot be deleted"):
        presets_panel.delete_preset("balanced", Session())
    assert presets.find("balanced") is not None
    with pytest.raises(gr.Error, match="Choose one of your saved presets"):
        presets_panel.delete_preset(None, Session())


# -- share links ------------------------------------------------------------------------------------------------

def test_share_link_holds_the_preset_and_only_what_differs() -> None:
    gentle = presets.merged(presets.find("gentle-restore"))
    values = [{**gentle, "creativity": 0.5, "seed": 42}[name] for name in FIELDS]
    link = deeplink_panel.share_link(request({"__theme": "dark", "seed": "1"}), "gentle-restore", URL, *values)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://studio.example:7860/"
    assert parse_qsl(parts.query) == [("__theme", "dark"), ("preset", "gentle-restore"), ("image_url", URL),
                                      ("creativity", "0.5"), ("seed", "42")]
    # Opening it gives back the same form.
    opened = deeplink_panel.load_link(request(dict(parse_qsl(parts.query))), Session())
    assert opened[:len(FIELDS)] == values and opened[len(FIELDS)] == URL


def test_share_link_carries_the_region_when_its_switch_is_on() -> None:
    values = form(seed=3)
    link = deeplink_panel.share_link(request(), None, URL, *values, True, "40", "30", "96", "64")
    query = dict(parse_qsl(urlsplit(link).query))
    assert {name: query[name] for name in ("region_x", "region_y", "region_width", "region_height")} == \
        {"region_x": "40", "region_y": "30", "region_width": "96", "region_height": "64"}
    assert deeplink_panel.link_region(request(query), "") == Region(40, 30, 96, 64)  # opened: the same part
    off = deeplink_panel.share_link(request(), None, URL, *values, False, "40", "30", "96", "64")
    assert "region_x" not in off  # the switch off: the whole picture, whatever the boxes hold
    with pytest.raises(gr.Error, match="Region width must be at least 64"):
        deeplink_panel.share_link(request(), None, URL, *values, True, "40", "30", "20", "64")


def test_share_link_follows_the_proxy_address() -> None:
    link = deeplink_panel.share_link(request(**{"x-forwarded-host": "me-studio.hf.space, proxy.internal",
                                                "x-forwarded-proto": "https"}), None, "", *form(seed=3))
    assert link == "https://me-studio.hf.space/?seed=3"


@pytest.mark.parametrize("image", ["/tmp/gradio/0a1b/photo.png", "C:\\Users\\me\\photo.png",
                                   "data:image/png;base64," + base64.b64encode(png_bytes()).decode()])
def test_share_link_has_no_key_and_no_path(image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "5f0c2a9e-key-id:0123456789abcdef0123456789abcdef"
    monkeypatch.setenv("FAL_KEY", key)
    link = deeplink_panel.share_link(request(), None, image, *form(prompt=f"a fox {key}", seed=9))
    assert key not in link and "key-id" not in link
    assert "photo" not in link and "Users" not in link and "base64" not in link and "%2F" not in link
    assert dict(parse_qsl(urlsplit(link).query)) == {"seed": "9"}


def test_share_link_from_a_bad_form_is_a_message() -> None:
    with pytest.raises(gr.Error, match="Creativity"):
        deeplink_panel.share_link(request(), None, "", *form(creativity=7))


# -- deep links on page load -------------------------------------------------------------------------------------

def test_deep_link_fills_the_form_the_url_and_the_menu() -> None:
    query = {"preset": "gentle-restore", "creativity": "0.5", "seed": "42", "image_url": URL}
    outputs = deeplink_panel.load_link(request(query), Session())
    expected = {**presets.merged(presets.find("gentle-restore")), "creativity": 0.5, "seed": 42}
    assert outputs[:len(FIELDS)] == [expected[name] for name in FIELDS]
    url, menu, notice = outputs[len(FIELDS):]
    assert url == URL and menu.value == "custom" and notice == ""  # the link changed a value of the preset's
    kept = deeplink_panel.load_link(request({"preset": "gentle-restore", "seed": "42"}), Session())
    assert kept[len(FIELDS) + 1].value == "gentle-restore"  # the seed alone: the form still matches it


def test_each_refused_parameter_is_shown_and_the_rest_applies() -> None:
    query = {"creativity": "lots", "seed": "-1", "upscale_factor": "2.5", "image_url": "http://plain.example/a.png",
             "prompt": "<img src=x onerror=alert(1)>"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs = deeplink_panel.load_link(request(query), Session())
    values = dict(zip(FIELDS, outputs, strict=False))
    assert values["upscale_factor"] == 2.5 and values["creativity"] == 0.35  # refused: the default stays
    assert values["prompt"] == query["prompt"]  # text is text; the widget shows it, it never runs
    url, menu, notice = outputs[len(FIELDS):]
    assert url == gr.skip()  # the http:// address was refused: the URL box stays as it is
    shown = [line.replace("\\", "") for line in notice.splitlines()[1:]]  # as rendered: escapes gone
    assert [line.split("=")[0] for line in shown] == ["- image_url", "- creativity", "- seed"]
    assert len([w for w in caught if "refused" in str(w.message)]) == 3  # one gr.Warning each
    bad = {"creativity": "<script>alert(1)</script>"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notice = deeplink_panel.load_link(request(bad), Session())[-1]
    assert "<script>" not in notice and "<script>" not in str(caught[0].message)  # toasts render HTML


def test_a_plain_visit_leaves_the_form_alone_but_lists_saved_presets() -> None:
    presets.save("Night shots", "", {"guidance_scale": 6})
    for query in ({}, {"__theme": "dark"}):
        outputs = deeplink_panel.load_link(request(query), Session())
        assert all(value == gr.skip() for value in outputs[:len(FIELDS) + 1])
        menu, notice = outputs[-2:]
        assert ("Night shots (saved)", "night-shots") in menu.choices and notice == ""


# -- code panel (handler) ---------------------------------------------------------------------------------------

def test_code_uses_the_uploaded_files_name_only() -> None:
    subscribe, queue, body, curl = code_panel.code_for("/tmp/gradio/4f2e9a/holiday photo.png", URL, seed=3)
    assert 'fal_client.upload_file("holiday photo.png")' in subscribe and "/tmp" not in subscribe + queue
    assert URL not in subscribe  # the file wins, as it does for Upscale
    assert '"seed": 3' in subscribe and "<an https:// URL" in body and "$FAL_KEY" in curl


def test_code_for_a_form_on_a_region_cuts_the_region_out_first() -> None:
    """With *Run on the region* ticked, Upscale sends fal only that part: so does the code the form writes."""
    subscribe, queue, body, curl = code_panel.code_for("/tmp/gradio/ab12/harbour.png", "", region_on=True,
                                                       region_x="40", region_y="30", region_width="96",
                                                       region_height="64")
    for script in (subscribe, queue):
        assert 'Image.open("harbour.png").crop((40, 30, 136, 94)).save("region.png")' in script
        assert 'fal_client.upload_file("region.png")' in script
    assert "region" in body.lower() and "region" in curl.lower()  # the body's image is the cut-out part
    off = code_panel.code_for("/tmp/gradio/ab12/harbour.png", "", region_on=False, region_x="40")
    assert "crop(" not in off[0]  # the switch off: the whole picture, whatever the boxes hold
    refused = code_panel.code_for("/tmp/gradio/ab12/harbour.png", "", region_on=True, region_x="-5",
                                  region_y="0", region_width="96", region_height="64")
    assert all(text.startswith("# No code for this form yet: Region x must be 0 or more") for text in refused)


def test_code_shows_the_reason_instead_of_code() -> None:
    outputs = code_panel.code_for(None, "http://plain.example/a.png")
    reason = "# No code for this form yet: Image URL: 'http://plain.example/a.png' is neither an https://"
    assert all(text.startswith(reason) for text in outputs)
    assert code_panel.code_for(None, URL, creativity=3)[0].startswith("# No code for this form yet: Creativity")


# -- the running app --------------------------------------------------------------------------------------------

def run_snippet(code: str, folder: Path, key: str) -> str:
    """Run a generated script as a user would (its own process, FAL_KEY in the environment)."""
    script = folder / "snippet.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "FAL_KEY": key}  # HTTPS_PROXY and SSL_CERT_FILE (fal's hosts → the test server): conftest
    done = subprocess.run([sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_generated_subscribe_code_sends_exactly_the_form(client, fal_server, fal_key, tmp_path: Path) -> None:
    fal_server.script(run_polls=4, logs=["loading the models", "tile 1/2", "tile 2/2"])
    image_url = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    changes = {"prompt": 'a "quoted" prompt, 100% sharp', "upscale_factor": 3, "creativity": 0.45,
               "num_inference_steps": 20, "seed": 42, "enable_safety_checker": False}
    subscribe, queue, body, curl = client.predict(None, image_url, *form(**changes), *NO_REGION, api_name="/code")
    assert fal_key not in subscribe
    output = run_snippet(subscribe, tmp_path, fal_key)
    sent = fal_server.submits()[-1].json
    expected = schema.validate({"image_url": image_url, **dict(zip(FIELDS, form(**changes), strict=True))})
    assert same(sent, expected) and sent["upscale_factor"] == 3.0
    lines = output.splitlines()
    assert lines[:3] == ["loading the models", "tile 1/2", "tile 2/2"]  # each log line once, in order
    assert "'seed': 42" in lines[-1] and fal_server.url in lines[-1]


def test_generated_code_uploads_the_form_file_by_name(client, fal_server, fal_key, tmp_path: Path) -> None:
    photo = tmp_path / "upload" / "garden.png"
    photo.parent.mkdir()
    photo.write_bytes(png_bytes(16, 12))
    subscribe = client.predict(handle_file(str(photo)), URL, *form(seed=None), *NO_REGION, api_name="/code")[0]
    assert 'fal_client.upload_file("garden.png")' in subscribe and str(tmp_path) not in subscribe
    assert '"seed"' not in subscribe  # a random seed is left out, as Upscale leaves it out
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "garden.png").write_bytes(photo.read_bytes())
    run_snippet(subscribe, workdir, fal_key)
    sent = fal_server.submits()[-1].json
    assert sent["image_url"] in fal_server.uploads()
    assert fal_server.read_served(sent["image_url"]) == photo.read_bytes()
    assert same({k: v for k, v in sent.items() if k != "image_url"}, schema.validate({}, require_image=False))


def test_the_code_endpoint_stays_off_the_api_page(client) -> None:
    documented = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert "/upscale" in documented and "/code" not in documented


def test_the_menu_left_on_the_preset_the_form_holds_changes_nothing() -> None:
    # A user trial: with "fal defaults" showing, the menu opened and closed with Escape was applied again as the
    # person typed 4 into Upscale factor; the factor went back to 2. Leaving the menu on the preset the form
    # already holds writes nothing; choosing another one fills the form.
    held = presets_panel.preset_values(presets.find("fal-defaults"), 7)
    assert presets_panel.apply_preset("fal-defaults", 7, Session(), *held) == [gr.skip()] * len(FIELDS)
    chosen = dict(zip(FIELDS, presets_panel.apply_preset("gentle-restore", 7, Session(), *held), strict=True))
    assert chosen == dict(zip(FIELDS, presets_panel.preset_values(presets.find("gentle-restore"), 7), strict=True))
    assert chosen != dict(zip(FIELDS, held, strict=True))
