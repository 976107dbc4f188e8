"""Metadata never stops a picture (issue 13 §2): oversized, malformed or unreadable metadata is ignored and
said in a note (a console line), the pixels are decoded, and the real limits (file size, pixel count) hold."""

from __future__ import annotations

import pytest
from PIL import Image

from core.errors import InputError
from core.inputs import colour, images
from tests import png_files as files
from tests.png_files import chunk, expanding, jpeg_segment, red_jpeg, red_png, tiff_exif

BIG = expanding(1_500_000)  # ~1.5 MB of comment once expanded, a few KB in the file

# name → (file bytes, what the note must say; None: nothing worth a note)
CASES = {
    "png zTXt expanding to 1.5 MB": (lambda: red_png([chunk(b"zTXt", b"Comment\0\0" + BIG)]), "zTXt “Comment”"),
    "png zTXt after the pixels": (lambda: red_png(after=[chunk(b"zTXt", b"Comment\0\0" + BIG)]), "zTXt"),
    "png iTXt compressed, 1.5 MB": (lambda: red_png([chunk(b"iTXt", b"Comment\0\1\0\0\0" + BIG)]), "iTXt"),
    "png tEXt+zTXt over the text memory cap": (
        lambda: red_png([chunk(b"zTXt", f"k{i}".encode() + b"\0\0" + expanding(1_000_000)) for i in range(70)]),
        "zTXt"),
    "png zTXt with an unknown compression method": (
        lambda: red_png([chunk(b"zTXt", b"Comment\0\1xyz")]), "zTXt"),
    "png tEXt with a bad checksum": (lambda: red_png([chunk(b"tEXt", b"Comment\0hi", crc=1234)]),
                                     "bad checksum"),
    "png iCCP with an unknown compression method": (lambda: red_png([chunk(b"iCCP", b"icc\0\1xyz")]), "iCCP"),
    "png iCCP expanding to 1.5 MB": (lambda: red_png([chunk(b"iCCP", b"icc\0\0" + BIG)]), "iCCP"),
    "png iCCP without a name": (lambda: red_png([chunk(b"iCCP", b"iccprofile")]), "iCCP"),
    "png empty iCCP": (lambda: red_png([chunk(b"iCCP", b"")]), "iCCP"),
    "png iCCP that is not a profile": (
        lambda: red_png([chunk(b"iCCP", b"icc\0\0" + expanding(300))]), "ICC colour profile"),
    "png eXIf that is not TIFF": (lambda: red_png([chunk(b"eXIf", b"not a tiff at all")]), "EXIF block"),
    "png tEXt raw EXIF profile that is not hex": (
        lambda: red_png([chunk(b"tEXt", b"Raw profile type exif\0\nexif\n   12\nzzzz")]), "EXIF block"),
    "png eXIf orientation 9": (lambda: red_png([chunk(b"eXIf", tiff_exif(9))]), "orientation 9"),
    "png eXIf orientation 0": (lambda: red_png([chunk(b"eXIf", tiff_exif(0))]), "orientation 0"),
    "png eXIf orientation 65535": (lambda: red_png([chunk(b"eXIf", tiff_exif(65535))]), "orientation 65535"),
    "png eXIf orientation as text": (lambda: red_png([chunk(b"eXIf", tiff_exif(0x36, kind=2))]), "orientation"),
    "png eXIf orientation 9/2": (lambda: red_png([chunk(b"eXIf", tiff_exif((9, 2), kind=5))]), "orientation 4.5"),
    "png XMP orientation 9": (lambda: red_png([chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0"
                                                             b"<x tiff:Orientation=\"9\"/>")]), "orientation 9"),
    "jpeg APP1 EXIF that is not TIFF": (lambda: red_jpeg(jpeg_segment(0xE1, b"Exif\0\0garbage!!")), None),
    "jpeg EXIF orientation 9": (lambda: red_jpeg(jpeg_segment(0xE1, b"Exif\0\0" + tiff_exif(9))), "orientation 9"),
    "jpeg APP2 ICC profile cut short": (lambda: red_jpeg(jpeg_segment(0xE2, b"ICC_PROFILE\0")), "APP2"),
    "jpeg APP2 ICC profile that is not one": (
        lambda: red_jpeg(jpeg_segment(0xE2, b"ICC_PROFILE\0\1\1" + b"junk" * 30)), "ICC colour profile"),
    "jpeg APP14 Adobe cut short": (lambda: red_jpeg(jpeg_segment(0xEE, b"Adobe")), "APP14"),
    "jpeg APP0 JFIF cut short": (lambda: red_jpeg(jpeg_segment(0xE0, b"JFIF\0\1")), "APP0"),
    "webp EXIF that is not TIFF": (lambda: files.red_webp(exif=b"garbage!!"), "EXIF block"),
    "webp EXIF orientation 9": (lambda: files.red_webp(exif=b"Exif\0\0" + tiff_exif(9)), "orientation 9"),
    "webp ICC profile that is not one": (lambda: files.red_webp(icc_profile=b"junk" * 30), "ICC colour profile"),
    "tiff orientation 9": (lambda: files.red_tiff(tiffinfo={274: 9}), "orientation 9"),
    "tiff ICC profile that is not one": (lambda: files.red_tiff(icc_profile=b"junk" * 30), "ICC colour profile"),
}


@pytest.mark.parametrize("name", CASES)
def test_unreadable_metadata_is_ignored_and_said(name: str) -> None:
    make, said = CASES[name]
    loaded = images.load_bytes(make())
    with Image.open(loaded.path) as stored:
        assert stored.size == (24, 16) and stored.convert("RGB").getpixel((12, 8))[0] > 150  # the red picture
        assert colour.is_srgb(stored.info.get("icc_profile"))  # tagged sRGB: an unreadable profile is not kept
    if said:
        assert any(said in note for note in loaded.notes), loaded.notes


@pytest.mark.parametrize("exif", [tiff_exif(6), tiff_exif((6, 1), kind=5)], ids=["short 6", "rational 6/1"])
def test_a_sound_orientation_still_turns_the_picture(exif: bytes) -> None:
    loaded = images.load_bytes(red_png([chunk(b"eXIf", exif)]))
    assert (loaded.width, loaded.height) == (16, 24) and loaded.notes == ()


def test_a_sound_srgb_profile_is_kept_without_a_note() -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    loaded = images.load_bytes(files.red_webp(icc_profile=srgb))
    with Image.open(loaded.path) as stored:
        assert colour.is_srgb(stored.info.get("icc_profile"))
    assert loaded.notes == ()


@pytest.mark.parametrize("where", ["before", "after"])
def test_the_pixel_limit_holds_whatever_the_metadata(tmp_path, where: str) -> None:
    from pathlib import Path

    from tests.reliability import bomb_png

    data = Path(bomb_png(tmp_path / "bomb.png")).read_bytes()
    extra = chunk(b"zTXt", b"Comment\0\0" + BIG)
    data = data[:33] + extra + data[33:] if where == "before" else data[:-12] + extra + data[-12:]
    with pytest.raises(InputError, match="limited to 16 MP|too large to decode safely"):
        images.load_bytes(data)


def test_the_file_size_limit_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_MAX_UPLOAD_MB", "1")
    data = red_png([chunk(b"tEXt", b"Comment\0" + b"x" * 1_100_000)])
    with pytest.raises(InputError, match="the limit is 1 MB"):
        images.load_bytes(data)


def test_damaged_pixels_are_still_refused_with_metadata_around_them() -> None:
    data = red_png([chunk(b"zTXt", b"Comment\0\0" + BIG)])
    idat = data.index(b"IDAT")
    broken = data[:idat + 6] + bytes(b ^ 0xFF for b in data[idat + 6:idat + 20]) + data[idat + 20:]
    with pytest.raises(InputError, match="truncated or damaged|not an image"):
        images.load_bytes(broken)
