"""Image metrics for comparing outputs: fidelity to the input, sharpness, difference heat maps, detail crops.

Fidelity compares the output, downscaled (Lanczos) to the input's size, with the input (alpha dropped): PSNR
over the RGB channels (10·log10(255² / MSE), the MSE from ``skimage.metrics.mean_squared_error``), so a colour
shift counts, and SSIM (``structural_similarity``) over luma (Y′ = 0.299 R + 0.587 G + 0.114 B, Pillow's "L"), as
super-resolution results are usually reported: SSIM measures structure, and over one channel it takes a third
of the time of three (a sweep measures every cell, and twelve cells finishing together wait for it:
bench/sweep.py, case d). Identical images have an infinite PSNR; it is reported as ``PSNR_CAP`` (100 dB) so
tables, CSV and JSON hold a finite number.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from core.errors import InputError

PSNR_CAP = 100.0  # dB reported for identical images (8-bit noise of one level in one pixel is far below this)
_SSIM_WINDOW = 7  # skimage's default window; smaller images use the largest odd window that fits

# A black → purple → orange → yellow → white ramp (inferno-like) so that small differences stand out on black
_ANCHORS = np.array([[0, 0, 0], [80, 18, 123], [190, 55, 82], [250, 140, 10], [252, 255, 164], [255, 255, 255]],
                    dtype=np.float64)
_LUT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_ANCHORS)), _ANCHORS[:, channel])
                 for channel in range(3)], axis=1).round().astype(np.uint8)


def _rgb(image: Image.Image) -> Image.Image:
    """RGB with any alpha dropped (not composited: compare colours, not backgrounds)."""
    return image if image.mode == "RGB" else image.convert("RGB")


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def downscaled(output: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The output as :func:`fidelity` compares it: RGB (alpha dropped), Lanczos-resized to ``size`` (the input's).
    Handing this to ``fidelity`` in place of the output gives the same figures without resizing again."""
    return _resized(_rgb(output), size)


def fidelity(output: Image.Image, input: Image.Image) -> dict[str, float]:
    """How faithful an output is to its input: ``{"psnr": dB over RGB (capped at 100), "ssim": 0..1 over luma}``."""
    # Imported here: skimage.metrics pulls in scipy.stats (~1.5 s), which the app's start-up should not pay.
    from skimage.metrics import mean_squared_error, structural_similarity

    # float32: half the memory traffic of skimage's float64 default, the same figures to the digits reported
    # (a sweep measures every cell, and twelve cells finishing together wait for it: bench/sweep.py, case d)
    original, compared = _rgb(input), downscaled(output, input.size)
    reference = np.asarray(original, dtype=np.float32)
    candidate = np.asarray(compared, dtype=np.float32)
    smallest = min(reference.shape[:2])
    if smallest < 3:
        raise InputError(f"Images of {input.width}×{input.height} are too small to compare.", "image")
    error = float(mean_squared_error(reference, candidate))  # PSNR's own definition, from the one MSE
    psnr = PSNR_CAP if error == 0 else min(PSNR_CAP, 10 * math.log10(255.0 ** 2 / error))
    window = min(_SSIM_WINDOW, smallest if smallest % 2 else smallest - 1)
    ssim = float(structural_similarity(_luma(original), _luma(compared), data_range=255, win_size=window))
    return {"psnr": psnr, "ssim": ssim}


def _luma(image: Image.Image) -> np.ndarray:
    return np.asarray(_rgb(image).convert("L"), dtype=np.float32)


def sharpness(image: Image.Image) -> float:
    """Mean gradient energy: the mean of squared horizontal + vertical luma differences (0–255 units).

    Higher is crisper. Compare images of the same size: the number is per pixel, so upscaling lowers it.
    """
    luma = np.asarray(_rgb(image).convert("L"), dtype=np.float64)
    if min(luma.shape) < 2:
        return 0.0
    corner = luma[:-1, :-1]
    dx = (luma[:-1, 1:] - corner).ravel()
    dy = (luma[1:, :-1] - corner).ravel()
    # squared in place and summed, in float64 (exact: integer differences, sums far below 2**53): 40 % less CPU on a
    # 1 MP output than one float32 array of dx² + dy², and one thread (np.dot would call OpenBLAS, whose threads
    # spin on the cores the other cells' measuring needs); a sweep measures every cell (bench/sweep.py, case d)
    return float((np.square(dx, out=dx).sum() + np.square(dy, out=dy).sum()) / dx.size)


def difference_map(a: Image.Image, b: Image.Image, gain: float = 4.0) -> Image.Image:
    """A heat map of |a − b| (b resized to a's size), amplified by ``gain``; identical images give black."""
    first = np.asarray(_rgb(a), dtype=np.float64)
    second = np.asarray(_resized(_rgb(b), a.size), dtype=np.float64)
    # the largest channel difference, so a change in one colour is not diluted by the other two
    difference = np.abs(first - second).max(axis=2) * gain
    index = np.clip(difference, 0, 255).round().astype(np.uint8)
    return Image.fromarray(_LUT[index], "RGB")


def detail_crop(image: Image.Image, box_in_input_coords: tuple[float, float, float, float],
                input_size: tuple[int, int]) -> Image.Image:
    """The region ``(x0, y0, x1, y1)`` of the input, cut from an output at 1:1 output pixels."""
    x0, y0, x1, y1 = box_in_input_coords
    in_w, in_h = input_size
    if in_w <= 0 or in_h <= 0:
        raise InputError(f"Input size {in_w}×{in_h} is not a size.", "image")
    scale_x, scale_y = image.width / in_w, image.height / in_h
    left, right = sorted((round(x0 * scale_x), round(x1 * scale_x)))
    top, bottom = sorted((round(y0 * scale_y), round(y1 * scale_y)))
    left, top = max(0, left), max(0, top)
    right, bottom = min(image.width, right), min(image.height, bottom)
    if right <= left or bottom <= top:
        raise InputError(f"The crop box {tuple(box_in_input_coords)} lies outside the {in_w}×{in_h} input.",
                         "image")
    return image.crop((left, top, right, bottom))
