"""Colours as the picture means them (issue 22 §1): an embedded ICC profile is converted to sRGB when the picture
is read, so the stored input (the slider's "before", what fal is sent, what the local engine reads) holds
LittleCMS's sRGB rendering, and every output PNG is tagged sRGB.

The profiles are built by hand from published primaries and curves (``tests/icc_profiles.py``); none is
installed. Before the fix the profile was dropped (the numbers kept, their meaning lost) or copied onto the
stored input while outputs came back untagged: the gold Adobe RGB patch came back blue-shifted by 36 levels.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from core import pnginfo
from core.engines.fal import FalEngine
from core.engines.local import LocalEngine
from core.inputs import colour, images
from core.runs.runner import execute
from core.runs.runs import Run
from tests import icc_profiles as icc

SRGB = ImageCms.createProfile("sRGB")
PATCHES = [(200, 160, 40), (230, 30, 30), (40, 200, 60), (30, 50, 210), (128, 128, 128), (225, 180, 150),
           (30, 25, 20), (40, 190, 210)]  # gold, red, green, blue, grey, skin, near-black, cyan
SIDE = 16  # pixels per patch: flat enough that an upscaler keeps each patch's centre at its colour


def patches(mode: str = "RGB") -> Image.Image:
    """Eight flat patches, 4 × 2, each SIDE pixels square, in ``mode`` (RGB, RGBA, L, CMYK)."""
    image = Image.new("RGB", (4 * SIDE, 2 * SIDE))
    for index, rgb in enumerate(PATCHES):
        x, y = index % 4 * SIDE, index // 4 * SIDE
        image.paste(rgb, (x, y, x + SIDE, y + SIDE))
    if mode == "L":
        return image.convert("L")
    if mode == "CMYK":
        array = 255 - np.asarray(image, dtype=np.int16)
        black = array.min(axis=-1, keepdims=True)
        return Image.fromarray(np.concatenate([array - black, black], axis=-1).astype(np.uint8), "CMYK")
    if mode == "RGBA":
        image.putalpha(200)
    return image


def encoded(image: Image.Image, fmt: str, profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    options = {"icc_profile": profile} if profile else {}
    if fmt in ("JPEG", "WEBP"):
        options["quality"] = 100
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def littlecms_srgb(data: bytes) -> Image.Image:
    """What LittleCMS makes of the file's pixels through its own profile, as untagged 8-bit sRGB."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        source = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
        rgb_part = image.convert("RGB") if image.mode == "RGBA" else image
        return ImageCms.profileToProfile(rgb_part, source, SRGB, outputMode="RGB",
                                         renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


CASES: dict[str, Callable[[], bytes]] = {
    "png Adobe RGB (1998) v2": lambda: encoded(patches(), "PNG", icc.matrix_profile("Adobe RGB (1998)")),
    "png Display P3 v4": lambda: encoded(patches(), "PNG", icc.matrix_profile("Display P3", version=4)),
    "jpeg Display P3 (a phone photo)": lambda: encoded(patches(), "JPEG", icc.matrix_profile("Display P3")),
    "tiff ProPhoto RGB": lambda: encoded(patches(), "TIFF", icc.matrix_profile("ProPhoto RGB")),
    "webp Adobe RGB": lambda: encoded(patches(), "WEBP", icc.matrix_profile("Adobe RGB (1998)")),
    "png RGBA Display P3": lambda: encoded(patches("RGBA"), "PNG", icc.matrix_profile("Display P3")),
    "png v4 LUT profile": lambda: encoded(patches(), "PNG", icc.lut_profile()),
    "png grey gamma 1.8": lambda: encoded(patches("L"), "PNG", icc.grey_profile(1.8)),
    "tiff grey gamma 1.0 v4": lambda: encoded(patches("L"), "TIFF", icc.grey_profile(1.0, version=4)),
    "jpeg CMYK with a press profile": lambda: encoded(patches("CMYK"), "JPEG", icc.cmyk_profile()),
    "tiff CMYK with a press profile": lambda: encoded(patches("CMYK"), "TIFF", icc.cmyk_profile()),
}


def stored(data: bytes) -> tuple[images.InputImage, Image.Image]:
    loaded = images.load_bytes(data)
    with Image.open(loaded.path) as image:
        image.load()
    return loaded, image


def worst(a: Image.Image, b: Image.Image) -> int:
    return int(np.abs(np.asarray(a.convert("RGB"), np.int16) - np.asarray(b.convert("RGB"), np.int16)).max())


def test_the_gold_adobe_rgb_patch_of_the_report() -> None:
    data = encoded(Image.new("RGB", (32, 24), (200, 160, 40)), "PNG", icc.matrix_profile("Adobe RGB (1998)"))
    loaded, image = stored(data)
    assert image.getpixel((5, 5)) == (215, 161, 8)  # LittleCMS's sRGB rendering, not the raw (200, 160, 40)
    assert colour.is_srgb(image.info.get("icc_profile"))  # the "before" is sRGB and says so
    assert loaded.colour == "Adobe RGB (1998) → sRGB"
    assert any("Adobe RGB (1998) → sRGB" in note for note in loaded.notes), loaded.notes


@pytest.mark.parametrize("name", CASES)
def test_every_kind_of_profile_becomes_littlecms_srgb(name: str) -> None:
    data = CASES[name]()
    loaded, image = stored(data)
    assert worst(image, littlecms_srgb(data)) <= 1, name
    assert colour.is_srgb(image.info.get("icc_profile"))
    assert loaded.colour and loaded.colour.endswith("→ sRGB") and any("→ sRGB" in n for n in loaded.notes)
    if "RGBA" in name:
        assert image.mode == "RGBA" and image.getpixel((2, 2))[3] == 200  # alpha kept through the conversion


def test_an_srgb_profile_changes_nothing_and_says_nothing() -> None:
    data = encoded(patches(), "PNG", icc.matrix_profile("sRGB IEC61966-2.1"))
    loaded, image = stored(data)
    assert worst(image, patches()) == 0 and loaded.notes == () and loaded.colour is None
    again, same = stored(Path(loaded.path).read_bytes())  # re-reading a stored input is the identity
    assert worst(same, image) == 0 and again.notes == ()


@pytest.mark.parametrize(("profile", "said"), [
    (icc.matrix_profile("Display P3")[:200], "could not be read"),  # cut short
    (b"acsp" * 40, "could not be read"),
    (icc.cmyk_profile(), "does not fit"),  # a CMYK profile on RGB pixels
    (icc.grey_profile(), "does not fit"),
], ids=["truncated", "garbage", "cmyk on rgb", "grey on rgb"])
def test_an_unusable_profile_is_ignored_with_a_note_never_a_refusal(profile: bytes, said: str) -> None:
    loaded, image = stored(encoded(patches(), "PNG", profile))
    assert worst(image, patches()) <= 1  # taken as sRGB
    assert any(said in note for note in loaded.notes), loaded.notes


def test_the_run_details_say_what_was_converted(tmp_path: Path) -> None:
    from components.upscale import result

    loaded, _ = stored(encoded(patches(), "PNG", icc.matrix_profile("Display P3")))
    run = Run(engine="local", arguments={}, status="completed", input_path=loaded.path, seed=1)
    assert "Display P3 → sRGB" in result.details_markdown(run)
    plain_run = Run(engine="local", arguments={}, status="completed", input_path=stored(encoded(patches(), "PNG",
                                                                                              None))[0].path)
    assert "→ sRGB" not in result.details_markdown(plain_run)


# -- outputs: tagged sRGB, and the same colours as the engine makes of LittleCMS's rendering -----------------

def through_profile(path: str) -> Image.Image:
    """An output read through its own profile (as a colour-managed viewer shows it), as sRGB."""
    with Image.open(path) as image:
        image.load()
        profile = image.info.get("icc_profile")
        assert profile, "the output PNG carries no colour profile"
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(image.convert("RGB"), source, SRGB, outputMode="RGB")


def patch_centres(image: Image.Image) -> np.ndarray:
    scale = image.width / (4 * SIDE)
    return np.array([image.getpixel((int((index % 4 + 0.5) * SIDE * scale), int((index // 4 + 0.5) * SIDE * scale)))
                     for index in range(len(PATCHES))], dtype=np.int16)


def upscaled(engine: object, path: str, tmp_path: Path) -> str:
    run = Run(engine=getattr(engine, "name", "local"), arguments={"upscale_factor": 2, "seed": 7})

    async def go() -> None:
        async for _ in execute(engine, run, path):  # type: ignore[arg-type]
            pass

    asyncio.run(go())
    assert run.status == "completed" and run.output_path, run.error
    return run.output_path


@pytest.mark.parametrize("name", ["png Display P3 v4", "png Adobe RGB (1998) v2", "tiff CMYK with a press profile"])
@pytest.mark.parametrize("engine_id", ["local", "fal"])
def test_outputs_read_through_their_profile_match_the_same_engine_on_srgb(name: str, engine_id: str,
                                                                          request, tmp_path: Path) -> None:
    if engine_id == "fal":
        fal_server = request.getfixturevalue("fal_server")
        engine: object = FalEngine(request.getfixturevalue("fal_key"), poll_interval=0.01)
    else:
        engine = LocalEngine()
    data = CASES[name]()
    tagged = images.load_bytes(data).path
    reference_file = tmp_path / "reference.png"  # untagged sRGB holding LittleCMS's rendering of the input
    littlecms_srgb(data).save(reference_file)
    reference = images.load_bytes(reference_file.read_bytes()).path
    out, ref_out = upscaled(engine, tagged, tmp_path), upscaled(engine, reference, tmp_path)
    for path in (out, ref_out):
        with Image.open(path) as image:
            assert colour.is_srgb(image.info.get("icc_profile")), "every output is tagged sRGB"
    difference = np.abs(patch_centres(through_profile(out)) - patch_centres(through_profile(ref_out))).max()
    assert difference <= 4, (name, engine_id, difference)
    if engine_id == "fal":
        received = [fal_server.read_served(url) for url in fal_server.uploads()]
        assert len(received) == 2
        for sent in received:  # what fal received: an sRGB PNG (untagged or tagged sRGB)
            with Image.open(io.BytesIO(sent)) as image:
                assert image.format == "PNG" and colour.is_srgb(image.info.get("icc_profile", colour.srgb_profile()))
        with Image.open(io.BytesIO(received[0])) as first:
            assert worst(first, littlecms_srgb(data)) <= 1


def test_a_fal_output_without_a_profile_is_tagged_srgb_and_one_with_another_is_converted(tmp_path: Path) -> None:
    plain = tmp_path / "plain.png"
    patches().save(plain)
    pnginfo.stamp_png(plain, {"arguments": {}, "seed": 1, "engine": "fal"})
    with Image.open(plain) as image:
        assert colour.is_srgb(image.info.get("icc_profile")) and worst(image, patches()) == 0
    wide = tmp_path / "wide.png"
    wide.write_bytes(encoded(patches(), "PNG", icc.matrix_profile("Display P3")))
    pnginfo.stamp_png(wide, {"arguments": {}, "seed": 1, "engine": "fal"})
    with Image.open(wide) as image:
        assert colour.is_srgb(image.info.get("icc_profile"))
        assert worst(image, littlecms_srgb(encoded(patches(), "PNG", icc.matrix_profile("Display P3")))) <= 1
        assert pnginfo.read_png_info(wide) is not None


# -- what fal is sent for a pasted URL -----------------------------------------------------------------------

URL = "https://pictures.example/photo"


@pytest.mark.parametrize(("make", "as_is"), [
    (lambda: encoded(patches(), "PNG", None), True),
    (lambda: encoded(patches(), "JPEG", icc.matrix_profile("sRGB IEC61966-2.1")), True),
    (lambda: encoded(patches("L"), "WEBP", None), True),
    (lambda: encoded(patches(), "PNG", icc.matrix_profile("Display P3")), False),
    (lambda: encoded(patches(), "TIFF", None), False),  # a format fal is not said to read
    (lambda: encoded(patches(), "BMP", None), False),
    (lambda: encoded(patches("CMYK"), "JPEG", None), False),
    (lambda: encoded(Image.fromarray(np.full((8, 8), 30000, np.uint16)), "PNG", None), False),  # 16-bit
], ids=["srgb png", "srgb-tagged jpeg", "grey webp", "p3 png", "tiff", "bmp", "cmyk jpeg", "16-bit png"])
def test_a_url_goes_to_fal_as_it_is_only_when_it_already_is_8_bit_srgb(make: Callable[[], bytes],
                                                                         as_is: bool) -> None:
    data = make()
    loaded = images.load_url(URL, fetch=lambda url: data)
    assert (loaded.source_url == URL) is as_is


def test_a_turned_jpeg_url_is_sent_upright_not_as_is() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    patches().save(buffer, format="JPEG", exif=exif.tobytes())
    loaded = images.load_url(URL, fetch=lambda url: buffer.getvalue())
    assert loaded.source_url is None and (loaded.width, loaded.height) == (2 * SIDE, 4 * SIDE)


def test_prepare_hands_fal_the_url_or_the_converted_png(monkeypatch) -> None:
    from core.sharing import fetch
    from core.usecases import validate

    for data, expect_url in ((encoded(patches(), "PNG", None), True),
                             (encoded(patches(), "PNG", icc.matrix_profile("Adobe RGB (1998)")), False)):
        monkeypatch.setattr(fetch, "fetch_image_bytes", lambda url, data=data: data)
        notes: list[str] = []
        arguments, path = validate.prepare({"image_url": URL}, None, "fal", notes)
        assert path is not None
        assert (arguments.get("image_url") == URL) is expect_url
        assert expect_url or any("Adobe RGB (1998) → sRGB" in note for note in notes)


@pytest.mark.parametrize("wide", [False, True], ids=["srgb url: as it is", "display p3 url: converted"])
def test_a_pasted_url_on_fal_keeps_the_url_and_what_fal_received(client, fal_server, fal_key, monkeypatch,
                                                                 wide: bool) -> None:
    import fal_client

    from core import snippets
    from core.runs import store
    from core.sharing import fetch

    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    data = encoded(patches(), "PNG", icc.matrix_profile("Display P3") if wide else None)
    url = fal_client.SyncClient(key=fal_key).upload(data, "image/png", file_name="photo.png")
    monkeypatch.setattr(fetch, "fetch_image_bytes", lambda address: fal_server.read_served(address))
    _, result = client.predict(None, url, upscale_factor=2, engine="fal", api_name="/upscale")
    run = store.store().get(result["run_id"])
    assert run is not None and run.source_url == url
    (submit,) = fal_server.submits()
    received = submit.json["image_url"]
    assert run.arguments["image_url"] == received  # what fal received, which the snippet sends again
    assert received in snippets.subscribe_code(run.arguments)
    if wide:
        assert received != url  # the converted sRGB PNG, uploaded
        with Image.open(io.BytesIO(fal_server.read_served(received))) as sent:
            assert worst(sent, littlecms_srgb(data)) <= 1
    else:
        assert received == url
