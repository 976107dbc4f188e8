"""Read, check and normalise input images; sizes, megapixels and price.

Every input (upload, https URL, data URI) becomes an 8-bit sRGB PNG (RGBA when it declares transparency) in the
data directory, tagged with an sRGB profile and named by the hash of its content, so a sweep or a re-run uploads
it once. Its format is decided by content (``core/inputs/formats.py``), its colours converted to sRGB through any
embedded profile (``core/inputs/colour.py``), its depth read from the file (``core/inputs/image_modes.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from core import config, money, storage
from core.errors import InputError
from core.inputs import colour, formats, image_meta, image_modes
from core.schema import estimated_price, output_size

FORMATS = formats.PILLOW_FORMATS  # decided by content, never by file name
COLOUR_CHUNK = "clarity-studio-colour"  # a stored input's text chunk: what its colours were converted from
_EIGHT_BIT_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA")
_DATA_URI = re.compile(r"^data:(image/[\w.+-]+)(?:;[\w=.+-]+)*;base64,(.*)$", re.S | re.I)


@dataclass(frozen=True)
class InputImage:
    """A checked, normalised input image on disk."""

    path: str  # PNG in the data directory
    width: int
    height: int
    digest: str  # sha256 of the normalised PNG
    source_url: str | None = None  # the https URL it came from, only when fal may fetch it as it is: 8-bit
    # sRGB, upright, in a format fal reads (formats.FAL_READS); otherwise fal is sent this stored, converted PNG
    notes: tuple[str, ...] = ()  # metadata ignored or colours converted while reading it, one console line each
    colour: str | None = None  # what its colours were converted from, e.g. "Display P3 → sRGB"

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


def describe(width: int, height: int, factor: float) -> str:
    """The preview line: input size → output size, output megapixels, estimated price (in ``core.money``'s words,
    as every price on the page)."""
    out_w, out_h = output_size(width, height, factor)
    return (f"Input {width}×{height} → output {out_w}×{out_h} ({out_w * out_h / 1e6:.2f} MP) · "
            f"estimated {money.cost(estimated_price(width, height, factor))} on fal")


def decode(data: bytes, name: str = "image", notes: list[str] | None = None) -> Image.Image:
    """Decode bytes into an upright 8-bit sRGB image (RGB, or RGBA with transparency), or raise InputError
    saying why not (an unreadable format is named from its bytes; 32-bit float/integer pixels are refused).

    Metadata that cannot be read (oversized or damaged text chunks, EXIF, ICC profiles) is ignored and said in
    ``notes`` (console lines), as is a colour conversion; the size and pixel-count limits apply all the same.
    """
    return _read(data, name, notes)[0]


def _read(data: bytes, name: str, notes: list[str] | None) -> tuple[Image.Image, bool]:
    """The decoded image and whether the file is, as it is, what the app makes of it: 8-bit sRGB, upright, in a
    format fal reads (so fal may fetch its URL itself)."""
    if not data:
        raise InputError(f"{name} is empty (0 bytes).", "image")
    if len(data) > config.max_upload_bytes():
        raise InputError(f"{name} is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{config.max_upload_bytes() / 2**20:.0f} MB.", "image")
    notes = [] if notes is None else notes
    formats.register_plugins()
    try:
        image = _open(data, name)
    except InputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if "ecompression" in type(exc).__name__:
            raise InputError(f"{name} is too large to decode safely.", "image") from None
        image = _without_metadata(data, name, notes, exc)
    except Exception as exc:  # Pillow raises many kinds (OSError, SyntaxError, ValueError, struct.error…)
        image = _without_metadata(data, name, notes, exc)
    image_modes.refuse_unranged(image, name)
    eight_bit = image.mode in _EIGHT_BIT_MODES and not (data.startswith(image_meta.PNG_SIGNATURE) and
                                                        len(data) > 25 and data[24] > 8)
    fal_reads = image.format in formats.FAL_READS and eight_bit
    out = normalise(image, notes)  # a note (metadata ignored, colours converted) means fal would see otherwise
    return out, fal_reads and not notes and out.info.get("upright", True)


def _open(data: bytes, name: str) -> Image.Image:
    """One decode of the first frame, refusing absurd sizes before the pixels are read."""
    limit = config.max_input_megapixels()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        if image.width * image.height > limit * 1e6:
            raise InputError(f"{name} is {image.width}×{image.height} "
                             f"({image.width * image.height / 1e6:.0f} MP); inputs are limited to "
                             f"{limit:g} MP.", "image")
        image.seek(0)  # the first frame of an animation
        image.load()
    if data.startswith(image_meta.PNG_SIGNATURE) and len(data) > 25:
        image_modes.png_key_to_pixel_scale(image, bit_depth=data[24])
    return image


def _without_metadata(data: bytes, name: str, notes: list[str], first: Exception) -> Image.Image:
    """A second decode without the file's metadata; if that fails too, the first failure is reported."""
    stripped, dropped = image_meta.strip(data)
    if dropped:
        try:
            image = _open(stripped, name)
        except InputError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise InputError(f"{name} is too large to decode safely.", "image") from None
        except Exception:  # the pixels are damaged as well: the first reason is the one to give
            pass
        else:
            reason = str(first) if not isinstance(first, UnidentifiedImageError) else "Pillow could not parse it"
            notes.append(f"Ignored metadata that could not be read ({', '.join(dropped)}): "
                         f"{reason[:200]}. The picture itself was decoded as usual.")
            return image
    if isinstance(first, UnidentifiedImageError) and formats.readable_label(data) is None:
        raise InputError(f"{name} is {formats.sniff(data)}, not an image this app can read "
                         f"({formats.label_list()}).", "image") from None
    label = formats.readable_label(data)
    reason = "Pillow could not parse it" if isinstance(first, UnidentifiedImageError) else str(first)
    raise InputError(f"{name} could not be decoded: it looks {f'like a {label} file, but ' if label else ''}"
                     f"truncated or damaged ({reason}).", "image") from None


def normalise(image: Image.Image, notes: list[str] | None = None) -> Image.Image:
    """Apply EXIF orientation, convert the colours to sRGB through the embedded profile (``colour.to_srgb``)
    and any mode to 8-bit RGBA when it declares transparency (alpha band, tRNS colour key, palette alpha), else
    RGB; 16-bit grey is scaled by its declared range. Unreadable metadata and conversions are noted.

    ``info`` holds only ``colour`` (what was converted, e.g. ``"Display P3 → sRGB"``) and ``upright: False``
    when the EXIF orientation turned the picture."""
    notes = [] if notes is None else notes
    upright = image_meta.upright(image, notes)
    image_modes.refuse_unranged(upright)
    try:
        out, converted = colour.to_srgb(upright, notes)
    except Exception as exc:  # LittleCMS parsed the profile but cannot use it: the pixels are taken as sRGB
        notes.append(f"Ignored the image's colour profile, which LittleCMS could not apply ({exc}); its colours "
                     f"are taken as sRGB.")
        out, converted = image_modes.to_rgb_or_rgba(upright), None
    if out is image:
        out = image.copy()
    out.info = {}
    if converted:
        notes.append(f"Colours converted to sRGB: {converted} (LittleCMS, relative colorimetric intent; colours "
                     f"outside sRGB are clipped to its edge).")
        out.info["colour"] = converted
    if upright is not image:
        out.info["upright"] = False
    return out


def store(image: Image.Image, source_url: str | None = None, notes: tuple[str, ...] = ()) -> InputImage:
    """Write the normalised image as an sRGB-tagged PNG under ``data/inputs`` named by its hash; what its colours
    were converted from (``info["colour"]``) goes in a text chunk, read back by ``stored_colour``."""
    converted = image.info.get("colour")
    chunks = PngImagePlugin.PngInfo()
    if converted:
        chunks.add_itxt(COLOUR_CHUNK, str(converted))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", icc_profile=colour.srgb_profile(), pnginfo=chunks)
    png = buffer.getvalue()
    digest = hashlib.sha256(png).hexdigest()
    folder = config.data_dir() / "inputs"
    path = folder / f"{digest[:32]}.png"
    if not path.exists():  # a temporary file of its own: runs storing the same picture at once each rename theirs
        # whole or not at all; a full disk or a read-only folder is a StorageError saying so (core/storage.py)
        storage.write_atomic(path, lambda out: out.write(png), "store the input image")
    return InputImage(str(path), image.width, image.height, digest, source_url, tuple(notes),
                      str(converted) if converted else None)


def stored_colour(path: str | Path | None) -> str | None:
    """What a stored input's colours were converted from (``"Adobe RGB (1998) → sRGB"``), read from its header
    only; None when nothing was converted, or for a missing or foreign file."""
    if not path:
        return None
    try:
        with Image.open(path) as image:
            value = image.info.get(COLOUR_CHUNK)
    except Exception:  # a removed or damaged file: nothing to say
        return None
    return str(value) if value else None


_seen: OrderedDict[tuple[str, str], InputImage] = OrderedDict()  # (data dir, sha256 of raw bytes) → stored
_seen_lock = threading.Lock()
SEEN_LIMIT = 256


def load_bytes(data: bytes, name: str = "The image") -> InputImage:
    """Check, decode, normalise and store image bytes; the same bytes again skip decoding (a re-run, a preview
    then Upscale) as long as the stored file is still there."""
    key = (str(config.data_dir()), hashlib.sha256(data).hexdigest())
    with _seen_lock:
        known = _seen.get(key)
    if known is not None and Path(known.path).is_file():
        return known
    notes: list[str] = []
    loaded = store(decode(data, name, notes), notes=tuple(notes))
    with _seen_lock:
        _seen[key] = loaded
        while len(_seen) > SEEN_LIMIT:
            _seen.popitem(last=False)
    return loaded


def load_file(path: str | Path) -> InputImage:
    """Check and store an uploaded file (its type decided by content, not by name)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > config.max_upload_bytes():
            raise InputError(f"The file is {size / 2**20:.1f} MB; the limit is "
                             f"{config.max_upload_bytes() / 2**20:.0f} MB.", "image")
        data = path.read_bytes()
    except OSError:
        raise InputError("The uploaded file could not be read.", "image") from None
    return load_bytes(data, "The file")


def decode_data_uri(uri: str) -> bytes:
    """The bytes of a ``data:image/...;base64,`` URI, or InputError. Its size is judged from the base64 text's
    length before anything is decoded or copied (4 characters carry 3 bytes)."""
    uri = uri.strip()
    comma = uri.find(",")
    if comma < 0 or not _DATA_URI.match(uri[: comma + 1]):
        raise InputError("This data URI is not a base64-encoded image; it should begin like data:image/png;base64, "
                         "followed by the picture in base64.",
                         "image_url")
    spaces = sum(uri.count(blank, comma) for blank in " \t\r\n")
    size = (len(uri) - comma - 1 - spaces) * 3 // 4
    if size > config.max_upload_bytes():
        raise InputError(f"The data URI holds about {size / 2**20:.0f} MB; the limit is "
                         f"{config.max_upload_bytes() / 2**20:.0f} MB.", "image_url")
    payload = uri[comma + 1:]
    try:
        return base64.b64decode(re.sub(r"\s+", "", payload) if spaces else payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("This data URI's base64 payload is damaged.", "image_url") from None


def load_url(url: str, fetch: Callable[[str], bytes] | None = None) -> InputImage:
    """Load a data URI or an https URL (fetched with ``fetch(url) -> bytes``, see core.sharing.fetch)."""
    url = url.strip()
    if url.lower().startswith("data:"):
        return load_bytes(decode_data_uri(url), "The data URI")
    if fetch is None:
        from core.sharing.fetch import fetch_image_bytes

        fetch = fetch_image_bytes
    data = fetch(url)
    notes: list[str] = []
    image, as_is = _read(data, "The image at that URL", notes)
    return store(image, source_url=url if as_is else None, notes=tuple(notes))


def to_png_data_uri(path: str | Path) -> str:
    """A PNG file as a data URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def before_path(run_id: str, data_dir: Path | None = None) -> Path:
    """Where runs made before 2026-11-29 kept their "before" picture (the input at the output's size); the slider
    now shows the stored input itself, and deleting a run still removes such a file."""
    return (data_dir or config.data_dir()) / "outputs" / f"{run_id}.before.png"
