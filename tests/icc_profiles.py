"""ICC profiles for the colour tests, written by hand from published primaries, white points and tone curves
(ICC.1:2001-04 for v2, ICC.1:2022 for v4; the numbers from each space's own specification): Display P3 (DCI-P3
primaries, D65, the sRGB curve), Adobe RGB (1998) (γ 563/256), ProPhoto/ROMM RGB (D50, γ 1.8), grey with a
γ 1.8 curve, a v4 profile whose colours are a LUT (lut16 A2B0, not a matrix), and a CMYK press profile (a LUT
from ink to XYZ). No profile file is downloaded or installed: each is a few hundred bytes built here.
"""

from __future__ import annotations

import struct

import numpy as np

D50 = np.array([0.9642, 1.0, 0.8249])
D65_XY = (0.3127, 0.3290)
BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
SRGB_CURVE = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)  # parametric curve type 3: g, a, b, c, d

SPACES = {  # name: (red, green, blue primaries as xy, white xy, curve: a gamma or a parametric type-3 tuple)
    "Display P3": (((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), D65_XY, SRGB_CURVE),
    "Adobe RGB (1998)": (((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), D65_XY, 563 / 256),
    "ProPhoto RGB": (((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001)), (0.3457, 0.3585), 1.8),
    "sRGB IEC61966-2.1": (((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), D65_XY, SRGB_CURVE),
}


def _xyz(xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz_d50(name: str) -> np.ndarray:
    """(3, 3) matrix: linear RGB of the named space → XYZ (D50, Bradford-adapted), columns = the primaries."""
    primaries, white, _ = SPACES[name]
    columns = np.stack([_xyz(p) for p in primaries], axis=1)
    scale = np.linalg.solve(columns, _xyz(white))
    matrix = columns * scale
    cone_white, cone_d50 = BRADFORD @ _xyz(white), BRADFORD @ D50
    adapt = np.linalg.inv(BRADFORD) @ np.diag(cone_d50 / cone_white) @ BRADFORD
    return adapt @ matrix


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(values: np.ndarray) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in values)


def _curve(curve: float | tuple[float, ...]) -> bytes:
    if isinstance(curve, tuple):
        return b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + b"".join(_s15(v) for v in curve)
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(curve * 256)) + b"\0\0"


def _text(text: str, version: int) -> tuple[bytes, bytes]:
    """(desc, cprt) tags: v2 'desc'/'text' types, v4 'mluc'."""
    if version >= 4:
        def mluc(value: str) -> bytes:
            body = value.encode("utf-16-be")
            return b"mluc\0\0\0\0" + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(body), 28) + body
        return mluc(text), mluc("No copyright, test profile")
    ascii_text = text.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text + b"\0" * 12 + b"\0" * 67
    return desc, b"text\0\0\0\0" + b"No copyright, test profile\0"


def _profile(space: bytes, device_class: bytes, version: int, tags: dict[bytes, bytes]) -> bytes:
    """Header, tag table and 4-byte-aligned tag data."""
    table, data = [], b""
    offset = 128 + 4 + 12 * len(tags)
    for signature, body in tags.items():
        table.append(signature + struct.pack(">II", offset + len(data), len(body)))
        data += body + b"\0" * (-len(body) % 4)
    size = offset + len(data)
    version_word = {2: 0x02100000, 4: 0x04300000}[version]
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", version_word) + device_class + space + b"XYZ "
              + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 4 + b"\0" * 4 + b"\0" * 8 + b"\0" * 8
              + struct.pack(">I", 1) + b"".join(_s15(v) for v in D50) + b"test" + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(table) + data


def matrix_profile(name: str, version: int = 2, description: str | None = None) -> bytes:
    """An RGB matrix/TRC display profile of a space in ``SPACES``, v2 or v4."""
    _, _, curve = SPACES[name]
    matrix = rgb_to_xyz_d50(name)
    desc, cprt = _text(description or name, version)
    tags = {b"desc": desc, b"cprt": cprt, b"wtpt": _xyz_tag(D50),
            b"rXYZ": _xyz_tag(matrix[:, 0]), b"gXYZ": _xyz_tag(matrix[:, 1]), b"bXYZ": _xyz_tag(matrix[:, 2])}
    for channel in (b"rTRC", b"gTRC", b"bTRC"):
        tags[channel] = _curve(curve)
    return _profile(b"RGB ", b"mntr", version, tags)


def grey_profile(gamma: float = 1.8, version: int = 2) -> bytes:
    """A grey display profile whose tone curve is ``gamma`` (not sRGB's): mid-grey 128 is not sRGB's 128."""
    desc, cprt = _text(f"Gray Gamma {gamma:g}", version)
    return _profile(b"GRAY", b"mntr", version, {b"desc": desc, b"cprt": cprt, b"wtpt": _xyz_tag(D50),
                                                b"kTRC": _curve(gamma)})


def _lut16(inputs: int, grid: int, table: np.ndarray, input_curve: np.ndarray) -> bytes:
    """An 'mft2' tag: identity matrix, ``input_curve`` (n,) on every input, the CLUT ``table`` (grid^inputs, 3)
    of XYZ values (PCS encoding: 1.0 ↦ 32768), identity output curves."""
    matrix = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    head = b"mft2\0\0\0\0" + struct.pack(">BBBB", inputs, 3, grid, 0) + matrix
    curve = np.round(np.clip(input_curve, 0, 1) * 65535).astype(">u2")
    clut = np.round(np.clip(table, 0, 65535 / 32768) * 32768).astype(">u2")
    out_curve = np.array([0, 65535], dtype=">u2")
    return (head + struct.pack(">HH", len(curve), 2) + curve.tobytes() * inputs + clut.tobytes()
            + out_curve.tobytes() * 3)


def lut_profile(version: int = 4) -> bytes:
    """A v4 RGB profile whose colours are a lookup table (lut16 A2B0 into XYZ), not a matrix: Adobe RGB's
    primaries behind a γ 2.2 input curve."""
    matrix = rgb_to_xyz_d50("Adobe RGB (1998)")
    corners = np.array([[r, g, b] for r in (0, 1) for g in (0, 1) for b in (0, 1)], dtype=float)
    table = corners @ matrix.T
    curve = np.linspace(0, 1, 256) ** 2.2
    desc, cprt = _text("LUT RGB test (v4)", version)
    return _profile(b"RGB ", b"mntr", version, {b"desc": desc, b"cprt": cprt, b"wtpt": _xyz_tag(D50),
                                                b"A2B0": _lut16(3, 2, table, curve)})


def cmyk_profile(version: int = 2) -> bytes:
    """A CMYK output profile (lut16 A2B0, ink → XYZ): each ink takes away its complementary light, black all."""
    matrix = rgb_to_xyz_d50("sRGB IEC61966-2.1")
    nodes = []
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    nodes.append(np.array([1 - c, 1 - m, 1 - y]) * (1 - k) * 0.9 + 0.02)
    table = np.array(nodes) @ matrix.T
    desc, cprt = _text("Test Press CMYK", version)
    return _profile(b"CMYK", b"prtr", version, {b"desc": desc, b"cprt": cprt, b"wtpt": _xyz_tag(D50),
                                                b"A2B0": _lut16(4, 2, table, np.linspace(0, 1, 256))})
