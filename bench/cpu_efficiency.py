"""CPU efficiency of the local engine: the networks' direct-convolution FLOPs per output megapixel, counted from
their ncnn .param files, ÷ the seconds the app's tiled upscale takes, against this CPU's fp32 FMA peak
(cores × FMA units × SIMD lanes × 2 × clock, each factor read from the machine).

Run: python -m bench.cpu_efficiency      (under a minute on 2 quiet cores; minutes when they are shared)
     BENCH_FMA_UNITS=1 BENCH_CPU_MHZ=3700 python -m bench.cpu_efficiency   (override the peak's assumptions)
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from bench._common import report  # noqa: E402
from core.engines import realesrgan as engine  # noqa: E402
from core.engines.realesrgan import MODELS, THREADS, tile_layout, weights_dir  # noqa: E402

# ---- FLOPs from the network definition ---------------------------------------------------------------------
# Hand calculation for RRDBNet (x4plus: 23 RRDB blocks, nf=64, gc=32, every conv 3×3, stride 1, "same" padding),
# multiply-adds per INPUT pixel:
#   conv_first 3→64: 3·64·9 = 1,728
#   one dense block: (64 + 96 + 128 + 160)·32·9 + 192·64·9 = 129,024 + 110,592 = 239,616; an RRDB is 3 of them
#   23 RRDBs: 23·3·239,616 = 16,533,504;  conv_body 64→64: 36,864
#   conv_up1 at 2× (4 pixels each): 4·36,864 = 147,456;  conv_up2 and conv_hr at 4× (16): 2·16·36,864 = 1,179,648
#   conv_last 64→3 at 4×: 16·1,728 = 27,648
#   total 17,926,848 per input pixel = 1,120,428 per output pixel → 2.2409 TFLOP per output megapixel.
# SRVGGNetCompact (the fast model, AnimeVideo v3 ×4): 3·64·9 + 16·64·64·9 + 64·48·9 = 619,200 per input pixel
#   = 38,700 per output pixel → 77.4 GFLOP per output megapixel.
# tests/test_flops.py checks the counter below against both.

SHAPE_KEEPING = {"PReLU", "ReLU", "Sigmoid", "Swish", "Clip", "TanH", "ELU", "Dropout", "BatchNorm", "Scale",
                 "Bias", "Noop", "HardSigmoid", "HardSwish", "Mish", "GELU", "Eltwise", "BinaryOp", "Split"}


@dataclass(frozen=True)
class Conv:
    """One convolution as the network runs it at a given input size."""

    name: str
    in_channels: int
    out_channels: int
    kernel: tuple[int, int]  # (h, w)
    stride: tuple[int, int]
    groups: int
    out_size: tuple[int, int]  # (h, w) of its output

    @property
    def macs(self) -> int:
        """Multiply-adds of the direct convolution."""
        return (self.out_size[0] * self.out_size[1] * self.out_channels * (self.in_channels // self.groups)
                * self.kernel[0] * self.kernel[1])


def _params(fields: list[str]) -> dict[int, float]:
    """``k=v`` layer parameters (arrays, whose keys are ≤ -23300, are skipped)."""
    out = {}
    for field in fields:
        key, _, value = field.partition("=")
        if int(key) > -23300:
            out[int(key)] = float(value)
    return out


def _conv_out(size: int, kernel: int, stride: int, dilation: int, pad0: int, pad1: int) -> int:
    if pad0 in (-233, -234):  # ncnn's SAME_UPPER / SAME_LOWER
        return -(-size // stride)
    return (size + pad0 + pad1 - dilation * (kernel - 1) - 1) // stride + 1


def convolutions(param_text: str, height: int, width: int, channels: int = 3) -> tuple[list[Conv], tuple]:
    """Every convolution of an ncnn .param network run on a ``channels``×height×width input, and the shape
    (c, h, w) of its last blob. Shapes are propagated through the graph; an unknown layer type raises."""
    lines = [line.split() for line in param_text.strip().splitlines()]
    if lines[0] != ["7767517"]:
        raise ValueError("not an ncnn .param file (magic 7767517)")
    shapes: dict[str, tuple[int, int, int]] = {}
    convs, last = [], (channels, height, width)
    for fields in lines[2:]:
        kind, name, n_in, n_out = fields[0], fields[1], int(fields[2]), int(fields[3])
        inputs, outputs = fields[4:4 + n_in], fields[4 + n_in:4 + n_in + n_out]
        p = _params(fields[4 + n_in + n_out:])
        ins = [shapes[blob] for blob in inputs]
        if kind == "Input":
            shape = (channels, height, width)
        elif kind in ("Convolution", "ConvolutionDepthWise"):
            (c, h, w), out_c = ins[0], int(p[0])
            kw = int(p.get(1, 1))
            kh = int(p.get(11, kw))
            dw = int(p.get(2, 1))
            dh, sw = int(p.get(12, dw)), int(p.get(3, 1))
            sh, pl = int(p.get(13, sw)), int(p.get(4, 0))
            pr, pt = int(p.get(15, pl)), int(p.get(14, pl))
            pb, groups = int(p.get(16, pt)), int(p.get(7, 1)) if kind == "ConvolutionDepthWise" else 1
            if int(p.get(6, 0)) != out_c * (c // groups) * kh * kw:
                raise ValueError(f"{name}: {int(p.get(6, 0))} weights do not fit {c}→{out_c} channels, {kh}×{kw}")
            shape = (out_c, _conv_out(h, kh, sh, dh, pt, pb), _conv_out(w, kw, sw, dw, pl, pr))
            convs.append(Conv(name, c, out_c, (kh, kw), (sh, sw), groups, shape[1:]))
        elif kind == "Concat":
            if int(p.get(0, 0)) != 0 or len({s[1:] for s in ins}) != 1:
                raise ValueError(f"{name}: only channel concatenation of equal sizes is supported")
            shape = (sum(s[0] for s in ins), *ins[0][1:])
        elif kind == "Interp":
            c, h, w = ins[0]
            out_h, out_w = int(p.get(3, 0)), int(p.get(4, 0))
            shape = (c, out_h or int(h * p.get(1, 1.0)), out_w or int(w * p.get(2, 1.0)))
        elif kind == "PixelShuffle":
            (c, h, w), r = ins[0], int(p.get(0, 1))
            shape = (c // (r * r), h * r, w * r)
        elif kind in SHAPE_KEEPING:
            shape = tuple(max(dims) for dims in zip(*ins, strict=True))
        else:
            raise ValueError(f"{name}: layer type {kind} is not known to the FLOP counter")
        for blob in outputs:
            shapes[blob] = shape
        last = shape
    return convs, last


def network_flops(param_text: str, height: int, width: int) -> int:
    """Direct-convolution FLOPs (2 per multiply-add) of one pass on a height×width RGB input."""
    return 2 * sum(conv.macs for conv in convolutions(param_text, height, width)[0])


def flops_per_output_mp(param_text: str, side: int = 64) -> float:
    """FLOPs per output megapixel (exact for "same"-padded networks, whose cost is linear in the pixels)."""
    _, (_, out_h, out_w) = convolutions(param_text, side, side)
    return network_flops(param_text, side, side) / (out_h * out_w / 1e6)


def param_text(model: str) -> str:
    """The shipped .param of the model's ×4 network."""
    return (weights_dir() / f"{MODELS[model].files[4]}.param").read_text()


# ---- the CPU's peak ----------------------------------------------------------------------------------------

def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo."""
    fields: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def fma_units(vendor: str, family: int, model: int, avx512: bool) -> tuple[int, str]:
    """fp32 FMA issues per cycle at the widest vector width (an assumption from the CPU generation)."""
    if os.environ.get("BENCH_FMA_UNITS"):
        return int(os.environ["BENCH_FMA_UNITS"]), "BENCH_FMA_UNITS"
    if vendor == "AuthenticAMD" and family >= 26:
        return 2, "AMD family 26 (Zen 5): two FMA pipes with a full 512-bit datapath"
    if vendor == "AuthenticAMD" and family == 25:
        return ((1, "AMD family 25 with AVX-512 (Zen 4): two 256-bit FMA pipes = one 512-bit FMA per cycle")
                if avx512 else (2, "AMD family 25 (Zen 3): two 256-bit FMA pipes"))
    if vendor == "AuthenticAMD" and family == 23:
        return (2, "AMD family 23 model ≥ 0x30 (Zen 2): two 256-bit FMA pipes") if model >= 0x30 else \
            (1, "AMD family 23 (Zen 1): 128-bit FMA pipes, one 256-bit FMA per cycle")
    if vendor == "GenuineIntel":
        return 2, ("Intel: two FMA ports (Haswell and later; Xeon Scalable Gold/Platinum at 512 bits) — "
                   "set BENCH_FMA_UNITS=1 for parts with one 512-bit unit")
    return 1, "unknown CPU: assumed one FMA per cycle (set BENCH_FMA_UNITS)"


def cpu_peak() -> dict[str, Any]:
    """fp32 FMA peak: cores × FMA units × SIMD lanes × 2 FLOPs × clock, with every factor and its source."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    cores = len(os.sched_getaffinity(0))
    if "avx512f" in flags:
        isa, lanes = "avx512f", 16
    elif {"avx2", "fma"} <= flags:
        isa, lanes = "avx2+fma", 8
    else:
        isa, lanes = "sse (no fma)", 4
    units, why = fma_units(info.get("vendor_id", ""), int(info.get("cpu family", 0)), int(info.get("model", 0)),
                           "avx512f" in flags)
    mhz_source = "BENCH_CPU_MHZ" if os.environ.get("BENCH_CPU_MHZ") else "/proc/cpuinfo cpu MHz"
    mhz = float(os.environ.get("BENCH_CPU_MHZ") or info.get("cpu MHz") or 0)
    spec = importlib.util.find_spec("ncnn")  # does this ncnn build carry AVX-512 convolution kernels?
    folder = Path(spec.origin).parent if spec and spec.origin else None
    avx512_kernels = any(b"Convolution_x86_avx512" in f.read_bytes() for f in folder.glob("*.so")) if folder else None
    per_core = units * lanes * 2 * mhz / 1e3
    return {"cores": cores, "cores_source": "os.sched_getaffinity", "cpu": info.get("model name"),
            "vendor": info.get("vendor_id"), "family": info.get("cpu family"), "model": info.get("model"),
            "isa": isa, "simd_fp32_lanes": lanes, "fma_units_per_core": units, "fma_units_assumption": why,
            "flops_per_fma": 2, "mhz": mhz, "mhz_source": mhz_source,
            "cpufreq_max_khz": _read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"),
            "ncnn_has_avx512_convolution": avx512_kernels,
            "per_core_gflops": round(per_core, 1), "gflops": round(cores * per_core, 1)}


def _read(path: str) -> str | None:
    return Path(path).read_text().strip() if Path(path).exists() else None


# ---- the measurement ---------------------------------------------------------------------------------------

def computed_flops(model: str, width: int, height: int) -> int:
    """The FLOPs the app's tiling actually runs: every tile (overlap included) through the network."""
    info = MODELS[model]
    tile_h, ys = tile_layout(height, info.tile, info.overlap)
    tile_w, xs = tile_layout(width, info.tile, info.overlap)
    return len(ys) * len(xs) * network_flops(param_text(model), tile_h, tile_w)


def efficiency(model: str, image: Image.Image, walls: list[float], cpus: list[float], peak: dict) -> dict:
    """Throughput and fraction of peak, by wall time (all cores) and by CPU time (one core's peak)."""
    out_mp = image.width * image.height * 16 / 1e6
    useful = flops_per_output_mp(param_text(model)) * out_mp
    computed = computed_flops(model, image.width, image.height)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    info = MODELS[model]
    rows = tile_layout(image.height, info.tile, info.overlap)[1]
    columns = tile_layout(image.width, info.tile, info.overlap)[1]
    figures: dict[str, Any] = {
        "input": f"{image.width}x{image.height}", "output_mp": round(out_mp, 4),
        "tile": info.tile, "overlap": info.overlap, "threads": THREADS, "tiles": len(rows) * len(columns),
        "convolutions": len(convolutions(param_text(model), 16, 16)[0]),
        "gflop_per_output_mp": round(useful / out_mp / 1e9, 2), "computed_over_useful": round(computed / useful, 3),
        "runs": len(walls), "wall_s": _spread(walls), "cpu_s": _spread(cpus), "cpu_over_wall": round(cpu / wall, 2),
        "s_per_output_mp": round(wall / out_mp, 3), "cpu_s_per_output_mp": round(cpu / out_mp, 3)}
    for basis, seconds, ceiling in (("", wall, peak["gflops"]), ("cpu_", cpu, peak["per_core_gflops"]),
                                    ("best_", min(walls), peak["gflops"])):  # best: the least disturbed run
        for kind, flops in (("useful", useful), ("computed", computed)):
            gflops = flops / seconds / 1e9
            figures[f"{basis}{kind}_gflops"] = round(gflops, 1)
            figures[f"{basis}{kind}_fraction_of_peak"] = round(gflops / ceiling, 3)
    return figures


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def without_winograd(model: str) -> engine.Model:
    """The model with ncnn's Winograd convolutions off (sgemm / packed direct kernels do every multiply-add)."""
    loaded = engine.open_model(model)
    for scale, stem in loaded.info.files.items():
        net = type(loaded.nets[scale])()
        net.opt.use_vulkan_compute, net.opt.num_threads, net.opt.use_winograd_convolution = False, THREADS, False
        net.load_param(str(weights_dir() / f"{stem}.param"))
        net.load_model(str(weights_dir() / f"{stem}.bin"))
        loaded.nets[scale] = net
    return loaded


def main() -> None:
    photo = Image.fromarray(data.astronaut())  # 512×512
    images = {"quality": photo.crop((160, 40, 288, 168)),  # 128² → 512²: the face, ~5 s a run
              "fast": photo.crop((128, 0, 384, 256))}  # 256² → 1024², ~0.3 s a run
    cases: dict[str, tuple[str, Image.Image, Callable[[], Any]]] = {}
    for model, image in images.items():
        cases[model] = (model, image, partial(engine.upscale, image, 4, model))  # the app's call, its defaults
        info, side = MODELS[model], MODELS[model].tile  # context: one tile of the model's size, Winograd off
        one_tile = image.crop((0, 0, side, side))
        cases[f"{model}_no_winograd"] = (model, one_tile, partial(
            engine.upscale_array, np.asarray(one_tile), without_winograd(model), 4, info.tile, info.overlap))
    runs = {"quality": 7, "fast": 9, "quality_no_winograd": 3, "fast_no_winograd": 5}
    for *_, action in cases.values():
        action()  # warm-up: ncnn's allocations and thread pool (model loading excluded, as after a first job)
    walls: dict[str, list[float]] = {case: [] for case in cases}
    cpus: dict[str, list[float]] = {case: [] for case in cases}
    load_before = os.getloadavg()
    for round_ in range(max(runs.values())):  # interleaved, so every case sees the same neighbours
        for case, (*_, action) in cases.items():
            if round_ < runs[case]:
                wall0, cpu0 = time.perf_counter(), time.process_time()
                action()
                walls[case].append(time.perf_counter() - wall0)
                cpus[case].append(time.process_time() - cpu0)
    peak = cpu_peak()
    figures: dict[str, Any] = {"peak": peak, "load_average_before_after": [round(load_before[0], 2),
                                                                           round(os.getloadavg()[0], 2)]}
    for case, (model, image, _) in cases.items():
        figures[case] = efficiency(model, image, walls[case], cpus[case], peak)
        print(f"{case}: {figures[case]['useful_gflops']} GFLOP/s useful = "
              f"{figures[case]['useful_fraction_of_peak']:.1%} of {peak['gflops']} GFLOP/s peak (wall); "
              f"{figures[case]['cpu_useful_fraction_of_peak']:.1%} of one core's peak per CPU second")
    figures["goals"] = {f"{case}.{kind}": {"goal": None, "floor": "peak.per_core_gflops" if "cpu" in kind
                                           else "peak.gflops"}
                        for case, kinds in (("quality", ("useful", "computed", "cpu_useful", "best_useful")),
                                            ("quality_no_winograd", ("computed", "cpu_computed")),
                                            ("fast", ("useful", "cpu_useful")))
                        for kind in (f"{k}_fraction_of_peak" for k in kinds)}
    report("cpu_efficiency", figures)


if __name__ == "__main__":
    main()
