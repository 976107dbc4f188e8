"""bench/cpu_efficiency's FLOP counter and CPU peak: hand-computed figures for a tiny network and for the shipped
models' structure (no timing here)."""

from __future__ import annotations

import os

import pytest

from bench.cpu_efficiency import (
    computed_flops,
    convolutions,
    cpu_peak,
    flops_per_output_mp,
    fma_units,
    network_flops,
    param_text,
)

# Input 3 ch → conv 3→8 (3×3, pad 1) → ReLU → conv 8→4 (3×3, stride 2, pad 1) → Interp ×2 → conv 4→4 (1×1)
# → Split → Concat (8 ch) → conv 8→12 (3×3, pad 1) → PixelShuffle 2 → 3 ch at twice the input's size.
TINY = """7767517
9 10
Input            in      0 1 data
Convolution      c1      1 1 data a 0=8 1=3 4=1 5=1 6=216
ReLU             r1      1 1 a b
Convolution      c2      1 1 b c 0=4 1=3 3=2 4=1 5=1 6=288 9=2 -23310=1,2.000000e-01
Interp           up      1 1 c d 0=1 1=2.000000e+00 2=2.000000e+00
Convolution      c3      1 1 d e 0=4 1=1 5=1 6=16
Split            sp      1 2 e e0 e1
Concat           cat     2 1 e0 e1 f
Convolution      c4      1 1 f g 0=12 1=3 4=1 5=1 6=864
PixelShuffle     ps      1 1 g output 0=2
"""


def test_tiny_network_by_hand() -> None:
    convs, last = convolutions(TINY, 10, 12)
    assert [(c.in_channels, c.out_channels, c.out_size) for c in convs] == [
        (3, 8, (10, 12)), (8, 4, (5, 6)), (4, 4, (10, 12)), (8, 12, (10, 12))]
    assert last == (3, 20, 24)
    macs = 10 * 12 * 8 * 3 * 9 + 5 * 6 * 4 * 8 * 9 + 10 * 12 * 4 * 4 + 10 * 12 * 12 * 8 * 9  # 140,160
    assert network_flops(TINY, 10, 12) == 2 * macs == 280_320
    assert flops_per_output_mp(TINY, side=10) == pytest.approx(2 * 116_800 / (20 * 20) * 1e6)  # 10² in, 20² out


def test_counter_refuses_what_it_cannot_count() -> None:
    with pytest.raises(ValueError, match="weights do not fit"):
        convolutions(TINY.replace("6=216", "6=217"), 8, 8)
    with pytest.raises(ValueError, match="Pooling is not known"):
        convolutions(TINY.replace("ReLU             r1", "Pooling          r1"), 8, 8)


def rrdbnet_macs_per_input_pixel(blocks: int = 23, nf: int = 64, gc: int = 32) -> int:
    """Real-ESRGAN x4plus by hand: conv_first, 23 RRDBs of 3 dense blocks, conv_body, two ×2 upsampling convs,
    conv_hr and conv_last at 4× (16 output pixels per input pixel); every conv 3×3."""
    dense = sum((nf + i * gc) * gc * 9 for i in range(4)) + (nf + 4 * gc) * nf * 9
    return 3 * nf * 9 + blocks * 3 * dense + nf * nf * 9 + 4 * nf * nf * 9 + 2 * 16 * nf * nf * 9 + 16 * nf * 3 * 9


def test_quality_model_matches_rrdbnet_by_hand() -> None:
    text = param_text("quality")
    convs, last = convolutions(text, 20, 24)
    assert len(convs) == 1 + 23 * 3 * 5 + 5 and last == (3, 80, 96)
    assert rrdbnet_macs_per_input_pixel() == 17_926_848
    assert network_flops(text, 20, 24) == 2 * 20 * 24 * rrdbnet_macs_per_input_pixel()
    assert flops_per_output_mp(text) == pytest.approx(2 * 17_926_848 / 16 * 1e6)  # 2.2409 TFLOP per output MP


def test_fast_model_matches_srvggnet_by_hand() -> None:
    text = param_text("fast")
    convs, last = convolutions(text, 20, 24)
    assert len(convs) == 18 and last == (3, 80, 96)
    per_input_pixel = 3 * 64 * 9 + 16 * 64 * 64 * 9 + 64 * 48 * 9  # 619,200
    assert flops_per_output_mp(text) == pytest.approx(2 * per_input_pixel / 16 * 1e6)  # 77.4 GFLOP per output MP


def test_tiles_count_their_overlap() -> None:
    text = param_text("quality")
    assert computed_flops("quality", 90, 60) == network_flops(text, 60, 90)  # one tile: nothing extra
    # 128² at the shipped 96 px tile and 12 px overlap: 2×2 tiles of 70², 1.196× the useful work
    assert computed_flops("quality", 128, 128) == 4 * network_flops(text, 70, 70)


def test_peak_is_the_product_of_its_factors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_FMA_UNITS", "1")
    monkeypatch.setenv("BENCH_CPU_MHZ", "3000")
    peak = cpu_peak()
    assert peak["cores"] == len(os.sched_getaffinity(0))
    assert peak["fma_units_per_core"] == 1 and peak["mhz"] == 3000 and peak["mhz_source"] == "BENCH_CPU_MHZ"
    assert peak["gflops"] == pytest.approx(peak["cores"] * peak["simd_fp32_lanes"] * 2 * 3.0, abs=0.1)


def test_fma_units_by_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_FMA_UNITS", raising=False)
    assert fma_units("AuthenticAMD", 26, 2, True)[0] == 2  # Zen 5
    assert fma_units("AuthenticAMD", 25, 17, True)[0] == 1  # Zen 4: 512-bit as two 256-bit halves
    assert fma_units("AuthenticAMD", 25, 1, False)[0] == 2  # Zen 3
    assert fma_units("GenuineIntel", 6, 143, True)[0] == 2
