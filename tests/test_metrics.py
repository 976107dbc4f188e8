"""Fidelity, sharpness, difference maps and detail crops behave the way a user comparing outputs expects."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from core.errors import InputError
from core.sweep.metrics import PSNR_CAP, detail_crop, difference_map, fidelity, sharpness


@pytest.fixture
def photo() -> Image.Image:
    """A smooth gradient with a few hard edges: something between flat and noise."""
    y, x = np.mgrid[0:96, 0:128]
    red = (x * 2) % 256
    green = (y * 2) % 256
    blue = np.where((x // 16 + y // 16) % 2 == 0, 220, 40)
    return Image.fromarray(np.stack([red, green, blue], axis=2).astype(np.uint8), "RGB")


def _noisy(image: Image.Image, sigma: float, seed: int = 0) -> Image.Image:
    noise = np.random.default_rng(seed).normal(0, sigma, (image.height, image.width, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8))


def test_identical_image_has_maximal_fidelity(photo: Image.Image) -> None:
    assert fidelity(photo, photo) == {"psnr": PSNR_CAP, "ssim": 1.0}


def test_fidelity_downscales_the_output_to_the_input(photo: Image.Image) -> None:
    upscaled = photo.resize((photo.width * 2, photo.height * 2), Image.Resampling.LANCZOS)
    scores = fidelity(upscaled, photo)
    assert 30 < scores["psnr"] < PSNR_CAP
    assert scores["ssim"] > 0.9


@pytest.mark.parametrize("sigma", [2, 12, 40])
def test_fidelity_is_the_standard_psnr_and_ssim_to_the_digits_reported(photo: Image.Image, sigma: float) -> None:
    """The figures in the CSV (PSNR to 3 decimals, SSIM to 4) are scikit-image's PSNR of the 8-bit RGB pictures
    and SSIM of their 8-bit luma (as super-resolution results are reported), whatever precision the app uses."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    output = _noisy(photo, sigma, seed=sigma).resize((photo.width * 2, photo.height * 2), Image.Resampling.LANCZOS)
    downscaled = output.resize(photo.size, Image.Resampling.LANCZOS)
    reference, candidate = np.asarray(photo), np.asarray(downscaled)
    scores = fidelity(output, photo)
    assert round(scores["psnr"], 3) == round(float(peak_signal_noise_ratio(reference, candidate, data_range=255)), 3)
    luma = [np.asarray(picture.convert("L")) for picture in (photo, downscaled)]
    assert round(scores["ssim"], 4) == round(float(structural_similarity(*luma, data_range=255)), 4)


def test_a_colour_shift_lowers_psnr_while_the_structure_keeps_ssim(photo: Image.Image) -> None:
    """PSNR is over RGB, so an output whose colours drifted scores lower; SSIM is over luma: its structure."""
    shifted = Image.fromarray(np.clip(np.asarray(photo, dtype=np.int16) + [12, -12, 0], 0, 255).astype(np.uint8))
    scores = fidelity(shifted, photo)
    assert scores["psnr"] < 40 and scores["ssim"] > 0.9


def test_noisier_output_has_lower_psnr_and_ssim(photo: Image.Image) -> None:
    slightly, heavily = fidelity(_noisy(photo, 4), photo), fidelity(_noisy(photo, 30), photo)
    assert heavily["psnr"] < slightly["psnr"] < PSNR_CAP
    assert heavily["ssim"] < slightly["ssim"] < 1.0


def test_alpha_is_dropped_before_comparing(photo: Image.Image) -> None:
    with_alpha = photo.convert("RGBA")
    with_alpha.putalpha(30)
    assert fidelity(with_alpha, photo)["psnr"] == PSNR_CAP


def test_tiny_images_are_refused_with_a_message() -> None:
    tiny = Image.new("RGB", (2, 2))
    with pytest.raises(InputError, match="too small"):
        fidelity(tiny, tiny)


def test_blurred_image_is_less_sharp(photo: Image.Image) -> None:
    blurred = photo.filter(ImageFilter.GaussianBlur(2))
    assert sharpness(blurred) < sharpness(photo) / 2
    assert sharpness(Image.new("RGB", (32, 32), (90, 90, 90))) == 0.0


def test_difference_map_of_identical_images_is_black(photo: Image.Image) -> None:
    heat = difference_map(photo, photo.copy())
    assert heat.size == photo.size and heat.mode == "RGB"
    assert np.asarray(heat).max() == 0


def test_difference_map_shows_where_images_differ(photo: Image.Image) -> None:
    changed = photo.copy()
    changed.paste((0, 0, 0), (10, 10, 20, 20))
    heat = np.asarray(difference_map(photo, changed)).sum(axis=2)
    assert heat[12:18, 12:18].min() > 0  # the changed square lights up
    assert heat[40:, 40:].max() == 0  # the rest stays black


def test_small_differences_are_amplified(photo: Image.Image) -> None:
    shifted = Image.fromarray((np.asarray(photo).astype(np.int16) + 3).clip(0, 255).astype(np.uint8))
    plain = np.asarray(difference_map(photo, shifted, gain=1)).astype(int).sum()
    amplified = np.asarray(difference_map(photo, shifted, gain=8)).astype(int).sum()
    assert amplified > plain > 0


def test_difference_map_resizes_the_second_image(photo: Image.Image) -> None:
    bigger = photo.resize((photo.width * 2, photo.height * 2), Image.Resampling.LANCZOS)
    heat = difference_map(photo, bigger)
    assert heat.size == photo.size
    assert np.asarray(heat).mean() < 40  # the same picture: mostly dark


def test_detail_crop_takes_the_same_region_at_output_pixels(photo: Image.Image) -> None:
    output = photo.resize((photo.width * 3, photo.height * 3), Image.Resampling.NEAREST)
    crop = detail_crop(output, (16, 8, 48, 40), photo.size)
    assert crop.size == (96, 96)
    expected = photo.crop((16, 8, 48, 40)).resize((96, 96), Image.Resampling.NEAREST)
    assert np.array_equal(np.asarray(crop), np.asarray(expected))


def test_detail_crop_is_clamped_and_refuses_boxes_outside(photo: Image.Image) -> None:
    output = photo.resize((photo.width * 2, photo.height * 2))
    assert detail_crop(output, (100, 80, 200, 200), photo.size).size == (56, 32)
    with pytest.raises(InputError, match="outside"):
        detail_crop(output, (500, 500, 600, 600), photo.size)
