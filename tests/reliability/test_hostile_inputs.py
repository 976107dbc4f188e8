"""Hostile inputs through the public ``/upscale`` API: each gets a clear message or the right result, never a
crash, a hang or a damaged history (after every case the store opens, passes its integrity check and holds
exactly the rows it should, none half-written)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.reliability import (
    assert_history_sound,
    bomb_png,
    completed,
    mean_colour,
    noise_png,
    raw_call,
    refused,
    save_image,
    upscale,
)

# -- files ---------------------------------------------------------------------------------------------------

def test_zero_bytes(client, tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    refused(client, r"empty \(0 bytes\)", str(empty))


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_truncated_file(client, tmp_path: Path, kind: str) -> None:
    whole = io.BytesIO()
    Image.effect_noise((96, 96), 80).convert("RGB").save(whole, format=kind)
    cut = tmp_path / f"cut.{kind.lower()}"
    cut.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    refused(client, "truncated or damaged", str(cut))


def test_text_renamed_png(client, tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("meeting notes, definitely not a picture\n" * 20)
    refused(client, "not an image this app can read", str(fake))


def test_svg(client, tmp_path: Path) -> None:
    svg = tmp_path / "drawing.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" '
                   'fill="red"/><script>alert(1)</script></svg>')
    refused(client, "not an image this app can read", str(svg))


def test_animated_gif_uses_the_first_frame(client, tmp_path: Path) -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((220, 20, 20), (20, 20, 220), (20, 220, 20))]
    gif = save_image(frames[0], tmp_path / "blink.gif", save_all=True, append_images=frames[1:], duration=100,
                     loop=0)
    output = completed(client, gif, upscale_factor=2)
    red, green, blue = mean_colour(output)
    assert output.size == (80, 60) and red > 150 and blue < 80 and green < 80


def test_cmyk_jpeg_is_converted(client, tmp_path: Path) -> None:
    jpeg = save_image(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), tmp_path / "print.jpg", quality=95)
    assert Image.open(jpeg).mode == "CMYK"
    output = completed(client, jpeg, upscale_factor=2)
    red, green, blue = mean_colour(output)
    assert output.mode in ("RGB", "RGBA") and red > 180 and green < 80 and blue < 80  # red stays red


def test_16_bit_png_is_scaled_not_clipped(client, tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (32, 1))
    png = save_image(Image.fromarray(ramp, "I;16"), tmp_path / "deep.png")
    output = np.asarray(completed(client, png, upscale_factor=2).convert("L"), dtype=float)
    assert output.shape == (64, 128)
    assert output[:, :16].mean() < 70 and output[:, -16:].mean() > 185  # a dark-to-light ramp, not white


def test_rgba_keeps_its_transparency_on_the_local_engine(client, tmp_path: Path) -> None:
    pixels = np.zeros((30, 40, 4), dtype=np.uint8)
    pixels[:, :, :3] = (30, 140, 220)
    pixels[:, 20:, 3] = 255  # the left half fully transparent
    png = save_image(Image.fromarray(pixels, "RGBA"), tmp_path / "cutout.png")
    output = completed(client, png, upscale_factor=2)
    assert output.mode == "RGBA" and output.size == (80, 60)
    alpha = np.asarray(output.getchannel("A"), dtype=float)
    assert alpha[:, :30].max() < 30 and alpha[:, 50:].min() > 225


def test_exif_rotation_is_applied(client, tmp_path: Path) -> None:
    image = Image.new("RGB", (60, 40), (250, 250, 250))
    image.paste((200, 0, 0), (0, 0, 20, 40))  # a red band on the left as stored
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    jpeg = save_image(image, tmp_path / "phone.jpg", exif=exif, quality=95)
    output = completed(client, jpeg, upscale_factor=2)
    assert output.size == (80, 120)  # upright: portrait
    top = mean_colour(output.crop((0, 0, 80, 30)))
    assert top[0] > 150 and top[1] < 90  # the stored left band is now at the top


def test_one_pixel(client, tmp_path: Path) -> None:
    png = save_image(Image.new("RGB", (1, 1), (10, 200, 90)), tmp_path / "dot.png")
    output = completed(client, png, upscale_factor=3)
    assert output.size == (3, 3) and abs(mean_colour(output) - (10, 200, 90)).max() < 40


def test_decompression_bomb(client, tmp_path: Path) -> None:
    refused(client, r"too large to decode safely|inputs are limited to 16 MP", bomb_png(tmp_path / "bomb.png"))


def test_extreme_aspect_ratio(client, tmp_path: Path) -> None:
    strip = save_image(Image.linear_gradient("L").resize((4000, 3)).convert("RGB"), tmp_path / "strip.png")
    assert completed(client, strip, upscale_factor=1.5).size == (6000, 4)  # round(3 × 1.5) = 4


def test_output_over_the_limit_is_refused_before_anything_runs(client, tmp_path: Path) -> None:
    big = save_image(Image.new("RGB", (3000, 3000), (90, 90, 90)), tmp_path / "big.png")
    refused(client, r"output would be 12000×12000 .*limit is 64 MP", big, upscale_factor=4)


@pytest.mark.parametrize(("uri", "match"), [
    ("data:image/png;base64,iVBORw0KGgo%%%notbase64", "not a base64-encoded image|damaged"),
    ("data:text/html;base64,PGgxPmhpPC9oMT4=", "not a base64-encoded image"),
    ("data:image/png;base64,dGhpcyBpcyBub3QgYSBwbmc=", "not an image this app can read"),
])
def test_bad_data_uri(client, uri: str, match: str) -> None:
    refused(client, match, None, uri)


# -- URLs in shared mode (CLARITY_SHARED=1: core.config.shared_mode() is read per call) -------------------------

NOT_PUBLIC = "not a public internet address"


@pytest.mark.reliability("hostile urls")
@pytest.mark.parametrize(("url", "match"), [
    ("file:///etc/passwd", r"Only https:// image URLs can be fetched; this one begins with “file:”"),
    ("ftp://ftp.example.com/cat.png", r"Only https:// image URLs can be fetched; this one begins with “ftp:”"),
    ("http://example.com/cat.png", r"Only https:// image URLs can be fetched; this one begins with “http:”"),
    ("not a url", r"^“not a url” is not an image address: paste an https:// URL"),  # said "not not a url:."
    ("example.com/cat.png", r"^“example.com/cat.png” is not an image address"),
    ("https://10.0.0.7/cat.png", NOT_PUBLIC),
    ("https://192.168.1.1/cat.png", NOT_PUBLIC),
    ("https://172.16.0.1/cat.png", NOT_PUBLIC),
    ("https://[::1]/cat.png", NOT_PUBLIC),
    ("https://169.254.10.20/cat.png", NOT_PUBLIC),  # link-local
    ("https://169.254.169.254/latest/meta-data/iam/security-credentials/", NOT_PUBLIC),  # cloud metadata
    ("https://0.0.0.0/cat.png", NOT_PUBLIC),
])
def test_url_refused_in_shared_mode(client, shared, url: str, match: str) -> None:
    refused(client, match, None, url)


@pytest.mark.reliability("hostile urls")
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_server_refused_in_shared_mode(client, shared, web, host: str) -> None:
    before = len(web.hits)
    refused(client, NOT_PUBLIC, None, f"https://{host}:{web.port}/image.png")
    assert len(web.hits) == before  # refused before any request left the app


@pytest.mark.reliability("hostile urls")
@pytest.mark.parametrize(("target", "match"), [
    ("https://10.1.2.3/cat.png", NOT_PUBLIC),
    ("https://169.254.169.254/latest/meta-data/", NOT_PUBLIC),
    ("https://127.0.0.1:{port}/image.png", NOT_PUBLIC),  # the same server by its address: loopback
    ("http://localhost:{port}/image.png", r"Only https:// image URLs can be fetched; this one begins with “http:”"),
])
def test_redirect_into_a_forbidden_address(client, shared, web, only_the_test_host, target: str,
                                           match: str) -> None:
    from urllib.parse import quote

    before = len(web.hits)
    refused(client, match, None, f"{web.named_url}/redirect?to={quote(target.format(port=web.port))}")
    assert web.hits[before:] == ["/redirect"]  # the first hop was fetched, the forbidden one never


@pytest.mark.reliability("hostile urls")
def test_redirect_within_the_allowed_host_is_followed(client, shared, web, only_the_test_host) -> None:
    output = completed(client, None, f"{web.named_url}/redirect?to=/image.png", upscale_factor=1)
    assert output.size == (32, 24)  # proves the patch lets the test host through, so the refusals above mean it


@pytest.mark.reliability("hostile urls")
def test_redirect_loop(client, shared, web, only_the_test_host) -> None:
    refused(client, "redirects too many times", None, f"{web.named_url}/loop")


@pytest.mark.reliability("hostile urls")
@pytest.mark.parametrize(("path", "match"), [
    ("/missing.png", "answered HTTP 404"),
    ("/page.html", r"not an image \(its content type is text/html\)"),
    ("/fake.png", "not an image this app can read"),
])
def test_bad_answers(client, web, path: str, match: str) -> None:
    refused(client, match, None, web.url + path)


@pytest.mark.reliability("hostile urls")
def test_a_length_over_the_upload_limit_is_refused_before_the_body_is_read(client, web, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_MAX_UPLOAD_MB", "1")  # the server declares 1 GB and never sends it
    refused(client, r"larger than the upload limit \(1 MB\)", None, web.url + "/huge-declared.png")


@pytest.mark.reliability("hostile urls")
def test_a_body_over_the_upload_limit_is_refused_while_it_streams(client, web, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_MAX_UPLOAD_MB", "1")  # 64 MiB with no length: reading stops soon after 1 MiB
    refused(client, r"larger than the upload limit \(1 MB\)", None, web.url + "/huge-stream.png")
    assert web.streamed < 512, f"{web.streamed} of 1024 chunks had been sent when the run was refused"


@pytest.mark.reliability("hostile urls")
@pytest.mark.parametrize("shared_mode", ["0", "1"])
@pytest.mark.parametrize("url", ["https://[::1/cat.png", "https://exa mple.com/cat.png", "https://example.com:99999/",
                                 "https://xn--/cat.png", "https://" + "a" * 300 + ".com/cat.png"])
def test_malformed_url(client, monkeypatch: pytest.MonkeyPatch, url: str, shared_mode: str) -> None:
    monkeypatch.setenv("CLARITY_SHARED", shared_mode)
    refused(client, "not a valid address|could not be found|could not be reached|not a public", None, url)


@pytest.mark.reliability("hostile urls")
@pytest.mark.timeout(30)
@pytest.mark.parametrize("seconds", [5, 120])
def test_a_server_that_does_not_answer_in_time(client, web, monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    monkeypatch.setenv("CLARITY_FETCH_TIMEOUT", "1")
    # 5 s is well inside the default 15 s: only a timeout read at this call refuses it. 120 s: never answers.
    refused(client, "did not answer in time", None, f"{web.url}/slow?seconds={seconds}")


# -- parameters ------------------------------------------------------------------------------------------------

@pytest.fixture
def small(tmp_path: Path) -> str:
    return noise_png(tmp_path / "small.png", (16, 12))


@pytest.mark.reliability("hostile parameters")
@pytest.mark.parametrize(("params", "match"), [  # each named by the parameter (core/usecases/values.py)
    ({"upscale_factor": 0.5}, "upscale_factor must be a number from 1 to 4, got 0.5"),
    ({"upscale_factor": 4.01}, "upscale_factor must be a number from 1 to 4, got 4.01"),
    ({"creativity": -0.1}, "creativity must be a number from 0 to 1, got -0.1"),
    ({"resemblance": 1.5}, "resemblance must be a number from 0 to 1, got 1.5"),
    ({"num_inference_steps": 3}, "num_inference_steps must be a whole number from 4 to 50, got 3"),
    ({"num_inference_steps": 7.5}, "num_inference_steps must be a whole number from 4 to 50, got 7.5"),
    ({"seed": -1}, r"seed must be a whole number from 0 to 4,294,967,295 or null \(random\), got -1"),
    ({"seed": 2**40}, "seed must be a whole number from 0 to 4,294,967,295 .*got 1,099,511,627,776"),
    ({"guidance_scale": 1e308}, "guidance_scale must be a number from 0 to 20, got a number of 309 digits"),
    ({"creativity": "a lot"}, "creativity must be a number from 0 to 1, got 'a lot'"),
    ({"upscale_factor": [2, 3]}, "upscale_factor must be a number from 1 to 4, got a list"),
    ({"upscale_factor": None}, "upscale_factor must be a number from 1 to 4, got null"),
    ({"seed": True}, "seed must be a whole number .*, got true"),
    ({"seed": {"$ne": 0}}, "seed must be a whole number .*, got a dict"),
    ({"enable_safety_checker": "maybe"}, "enable_safety_checker must be true or false, got 'maybe'"),
    ({"prompt": "x" * 100_000}, r"prompt must be text of at most 2,000 characters, .*\(100,000 characters\)"),
    ({"negative_prompt": "blurry\x00; DROP TABLE runs;--"}, "negative_prompt must be plain text: contains control "
     "characters"),
    ({"engine": "gpu"}, "engine must be one of 'fal', 'local', 'lanczos', got 'gpu'"),
    ({"engine": "fal"}, "No fal key"),  # no FAL_KEY in the test environment
])
def test_bad_parameter(client, small: str, params: dict[str, Any], match: str) -> None:
    refused(client, match, small, **params)


@pytest.mark.reliability("hostile parameters")
@pytest.mark.parametrize(("values", "match"), [
    ({"upscale_factor": float("nan")}, "upscale_factor must be a number from 1 to 4, got NaN"),
    ({"seed": float("nan")}, "seed must be a whole number .*, got NaN"),
    ({"guidance_scale": float("-inf")}, "guidance_scale must be a number from 0 to 20, got -infinity"),
    ({"prompt": "broken \ud800 half"}, "prompt must be plain text: contains broken Unicode"),
    ({"image_url": "https://example.com/\udfff.png"}, "The image URL is not a valid address"),
    ({"image_url": "https://example.com/\udfff.png", "engine": "fal"}, "Image URL: contains broken Unicode"),
])
def test_values_gradio_client_cannot_send(studio: str, values: dict[str, Any], match: str) -> None:
    import re

    text = raw_call(studio, values)
    assert re.search(match, text), text
    assert_history_sound(0)


@pytest.mark.reliability("hostile parameters")
def test_a_dict_for_a_text_field_is_refused_by_name(client, small: str) -> None:
    refused(client, "prompt must be text of at most 2,000 characters, got a dict", small, prompt={"$gt": ""})


@pytest.mark.reliability("hostile parameters")
def test_huge_url_is_refused(client) -> None:
    refused(client, "too long or contains spaces", None, "https://example.com/" + "a" * 100_000, engine="fal")


@pytest.mark.reliability("hostile parameters")
@pytest.mark.parametrize("prompt", [
    "\u202eRTL override\u202c \u200fמרחב\u200f \u200d👩‍🚀 e\u0301\ufeff",
    "ｆｕｌｌｗｉｄｔｈ \U0001f600 " + "\u0300" * 500,  # combining marks stacked on one letter
])
def test_odd_unicode_is_kept_exactly(client, small: str, prompt: str) -> None:
    from core.runs import store

    completed(client, small, prompt=prompt, negative_prompt=prompt, upscale_factor=1)
    run = store.store().frame(None).iloc[0]
    assert run["prompt"] == prompt and run["negative_prompt"] == prompt


@pytest.mark.reliability("hostile parameters")
def test_numbers_as_strings_are_refused_and_a_null_seed_is_accepted(client, small: str) -> None:
    refused(client, "upscale_factor must be a number from 1 to 4, got '1.5'", small, upscale_factor="1.5")
    refused(client, "seed must be a whole number .*, got ''", small, seed="")  # the API's random seed is null
    refused(client, "num_inference_steps must be a whole number from 4 to 50, got '20'", small,
            num_inference_steps="20")
    png, result = upscale(client, small, upscale_factor=1.5, seed=None, num_inference_steps=20)
    assert result["status"] == "completed" and Image.open(png).size == (24, 18)
    assert result["seed"] is None  # the local engine uses no seed: none is drawn, none reported
    assert_history_sound(1)
