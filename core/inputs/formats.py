"""The picture formats the app reads, in one place, and what an unreadable file is (sniffed from its bytes).

Every list a person sees — the upload box's label, the README, the refusal message — and the decoder itself
(``Image.open(..., formats=PILLOW_FORMATS)``) read ``READABLE``. The format is always decided by the file's
content: a name or an extension is at most a hint for the browser's file picker. HEIC/HEIF is read through
``pillow-heif`` (a Pillow plugin on PyPI, registered on first use); AVIF by Pillow itself (12+).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    """One readable format: its Pillow id, the name people know it by, its usual extensions."""

    pillow: str
    label: str
    extensions: tuple[str, ...]


READABLE = (
    Format("PNG", "PNG", (".png", ".apng")),
    Format("JPEG", "JPEG", (".jpg", ".jpeg", ".jpe", ".jfif")),
    Format("WEBP", "WebP", (".webp",)),
    Format("GIF", "GIF", (".gif",)),
    Format("BMP", "BMP", (".bmp", ".dib")),
    Format("TIFF", "TIFF", (".tif", ".tiff")),
    Format("HEIF", "HEIC/HEIF", (".heic", ".heif", ".hif")),
    Format("AVIF", "AVIF", (".avif",)),
)
PILLOW_FORMATS = tuple(entry.pillow for entry in READABLE)
FAL_READS = ("PNG", "JPEG", "WEBP")  # what a pasted URL may hold to be passed to fal as it is (docs/fal-protocol.md)
EXTENSIONS = tuple(extension for entry in READABLE for extension in entry.extensions)  # names seen on such files


def label_list(conjunction: str = "or") -> str:
    """``PNG, JPEG, WebP, GIF, BMP, TIFF, HEIC/HEIF or AVIF``: the readable formats as a sentence's list."""
    labels = [entry.label for entry in READABLE]
    return f"{', '.join(labels[:-1])} {conjunction} {labels[-1]}"


_registered = threading.Lock()
_done = False


def register_plugins() -> None:
    """Teach Pillow to open HEIC/HEIF (pillow-heif); idempotent and cheap after the first call."""
    global _done
    if _done:
        return
    with _registered:
        if not _done:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _done = True


_ISO_BRANDS = {b"heic": "a HEIC image", b"heix": "a HEIC image", b"heim": "a HEIC image", b"heis": "a HEIC image",
               b"hevc": "a HEIC image sequence", b"mif1": "a HEIF image", b"msf1": "a HEIF image sequence",
               b"avif": "an AVIF image", b"avis": "an AVIF image sequence", b"jxl ": "a JPEG XL image",
               b"crx ": "a Canon CR3 raw photo", b"qt  ": "a QuickTime video", b"isom": "an MP4 video",
               b"mp41": "an MP4 video", b"mp42": "an MP4 video", b"M4V ": "an MP4 video", b"3gp4": "a 3GP video",
               b"jp2 ": "a JPEG 2000 image"}
_MAGIC = (
    (b"%PDF", "a PDF document"), (b"8BPS", "a Photoshop PSD file"), (b"\x76\x2f\x31\x01", "an OpenEXR image"),
    (b"#?RADIANCE", "a Radiance HDR image"), (b"\xff\x0a", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "a JPEG XL image"), (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", "a JPEG 2000 codestream"), (b"\x00\x00\x01\x00", "a Windows icon (ICO)"),
    (b"\x00\x00\x02\x00", "a Windows cursor (CUR)"), (b"icns", "a macOS icon (ICNS)"),
    (b"DDS ", "a DirectDraw texture (DDS)"), (b"qoif", "a QOI image"), (b"FUJIFILMCCD-RAW", "a Fujifilm RAF raw photo"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"), (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"Rar!", "a RAR archive"), (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"), (b"OggS", "an Ogg audio or video file"), (b"ID3", "an MP3 audio file"),
    (b"fLaC", "a FLAC audio file"), (b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"), (b"FLV", "a Flash video"),
    (b"P1", "a Netpbm image"), (b"P2", "a Netpbm image"), (b"P3", "a Netpbm image"), (b"P4", "a Netpbm image"),
    (b"P5", "a Netpbm image"), (b"P6", "a Netpbm image"), (b"\x0a\x05\x01", "a PCX image"),
    (b"gimp xcf", "a GIMP XCF file"), (b"SIMPLE  =", "a FITS image"), (b"\x00\x00\x00\x00\x00\x00", "zero bytes"),
)


_READABLE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
                   (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))


def readable_label(data: bytes) -> str | None:
    """The label of the readable format ``data`` starts like (its signature only), or None."""
    head = data[:16]
    for magic, label in _READABLE_MAGIC:
        if head.startswith(magic):
            return label
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "AVIF" if brand in (b"avif", b"avis") else "HEIC/HEIF" if brand in _HEIF_BRANDS else None
    return None


_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def sniff(data: bytes) -> str:
    """What ``data`` looks like, from its first bytes only (never a name): ``"a PDF document"``, ``"an SVG
    drawing"``, ``"a HEIC image"``…, or ``"not a picture format it recognises"``."""
    head = data[:64]
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _ISO_BRANDS.get(head[8:12], "an ISO media file (MP4 family)")
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WAVE": "a WAV audio file", b"AVI ": "an AVI video", b"WEBP": "a WebP image"}.get(
            head[8:12], "a RIFF file")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF-based file (perhaps a camera raw photo)"
    text = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower():
        return "an SVG drawing (vector graphics, not pixels)"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "a web page (HTML)"
    if text.startswith((b"{", b"[")):
        return "JSON text"
    if text and all(32 <= byte < 127 or byte in (9, 10, 13) for byte in text[:256]):
        return "plain text"
    return "not a picture format it recognises"
