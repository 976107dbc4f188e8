"""Local engine speed and memory: seconds per output megapixel for each model, tile size and thread count,
peak RSS of a 1024² → 4096² upscale, and (when torch is installed) each model's ncnn network against its PyTorch
twin (SRVGGNetCompact, RRDBNet) on the same single tile, interleaved.

Run: python -m bench.local_engine        (about two minutes on 2 cores)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from bench._common import ROOT, report, timed  # noqa: E402
from core.engines.realesrgan import (
    DEFAULT_OVERLAP,
    MODELS,
    THREADS,
    load_model,
    open_model,
    tile_count,
    upscale,
    upscale_array,
    weights_dir,
)

TILE_SWEEP = (64, 96, 128, 160, 256)
PHOTO = Image.fromarray(data.astronaut())  # 512×512


def per_mp(seconds: float, image: Image.Image) -> dict[str, float]:
    megapixels = image.width * image.height / 1e6
    return {"s_per_output_mp": round(seconds / megapixels, 3), "output_mp_per_s": round(megapixels / seconds, 3)}


def model_speed(model: str, crop: Image.Image, repeat: int) -> dict:
    """First call (model loading excluded) and the best of ``repeat`` warm calls, at ×4."""
    load_model(model)
    first, result = timed(lambda: upscale(crop, 4, model))
    best, result = timed(lambda: upscale(crop, 4, model), repeat)
    return {"input": f"{crop.width}x{crop.height}", "output": f"{result.width}x{result.height}",
            "tiles": tile_count(crop.width, crop.height, MODELS[model].tile), "first_call_s": round(first, 3),
            "best_s": round(best, 3), **per_mp(best, result)}


def tile_sweep() -> dict[str, float]:
    """Fast model, 512² → 2048²: seconds per output MP for each tile size (overlap as shipped)."""
    model, pixels = load_model("fast"), np.asarray(PHOTO)
    out = {}
    for tile in TILE_SWEEP:
        seconds, _ = timed(partial(upscale_array, pixels, model, 4, tile, min(DEFAULT_OVERLAP, tile // 4)))
        out[str(tile)] = round(seconds / (pixels.shape[0] * pixels.shape[1] * 16 / 1e6), 3)
    return out


def thread_sweep(crop: Image.Image) -> dict[str, float]:
    """Fast model, default tile: seconds per output MP with 1 thread and with all of them."""
    pixels, out = np.asarray(crop), {}
    for threads in sorted({1, THREADS}):
        model = open_model("fast", threads)
        upscale_array(pixels, model, 4)  # warm-up
        seconds, _ = timed(partial(upscale_array, pixels, model, 4), 2)
        out[str(threads)] = round(seconds / (pixels.shape[0] * pixels.shape[1] * 16 / 1e6), 3)
    return out


NCNN_OPTIONS = {"default": {}, "no_lightmode": {"lightmode": False}, "bf16_storage": {"use_bf16_storage": True},
                "fp16_arithmetic": {"use_fp16_arithmetic": True},
                "no_winograd63": {"use_winograd63_convolution": False},
                "no_packing": {"use_packing_layout": False}, "no_sgemm": {"use_sgemm_convolution": False}}


def option_sweep(model: str, repeat: int = 5) -> dict[str, dict[str, float]]:
    """ncnn's options one at a time on the model's tile, interleaved: median seconds, and the largest pixel
    change against the defaults (grey levels of 255)."""
    side = MODELS[model].tile
    pixels = np.asarray(PHOTO.crop((160, 40, 160 + side, 40 + side)), np.float32) / 255.0
    nets = {}
    for name, options in NCNN_OPTIONS.items():
        net = open_model(model)
        for scale, inner in net.nets.items():  # a fresh copy with the option set before loading the weights
            fresh = type(inner)()
            fresh.opt.use_vulkan_compute, fresh.opt.num_threads = False, THREADS
            for key, value in options.items():
                setattr(fresh.opt, key, value)
            stem = net.info.files[scale]
            fresh.load_param(str(weights_dir() / f"{stem}.param"))
            fresh.load_model(str(weights_dir() / f"{stem}.bin"))
            net.nets[scale] = fresh
        nets[name] = net
    outputs = {name: net.run(4, pixels) for name, net in nets.items()}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in nets}
    for _ in range(repeat):
        for name, net in nets.items():
            times[name].append(timed(partial(net.run, 4, pixels))[0])
    base = np.clip(outputs["default"], 0, 1) * 255
    return {name: {"median_s": round(statistics.median(times[name]), 3),
                   "max_pixel_change": float(np.abs(np.round(np.clip(outputs[name], 0, 1) * 255) - np.round(base))
                                             .max())}
            for name in nets}


CHILD = """
import io, json, resource, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from PIL import Image
from skimage import data
from core.engines.realesrgan import load_model, upscale

def status(key):  # VmHWM is this process's own peak; ru_maxrss also counts the parent when spawned by vfork
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key + ":"))
    return int(line.split()[1]) / 1024

image = Image.fromarray(data.astronaut()).resize(({size}, {size}), Image.Resampling.LANCZOS)
load_model({model!r})
before = status("VmRSS")
start = time.perf_counter()
result = upscale(image, 4, {model!r}, tile={tile})
seconds = time.perf_counter() - start
figures = {{"output": f"{{result.width}}x{{result.height}}", "tile": {tile}, "seconds": round(seconds, 2),
           "s_per_output_mp": round(seconds / (result.width * result.height / 1e6), 3),
           "rss_after_model_load_mb": round(before), "peak_rss_mb": round(status("VmHWM")),
           "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}}
if {png}:
    start = time.perf_counter()
    result.save(io.BytesIO(), format="PNG")
    figures["png_save_s"] = round(time.perf_counter() - start, 2)
print(json.dumps(figures))
"""


def in_child(model: str, size: int, tile: int, png: bool = False) -> dict:
    """A ``size``² → ×4 upscale in a fresh process: its peak RSS and time."""
    code = CHILD.format(root=str(ROOT), model=model, size=size, tile=tile, png=png)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def torch_networks():
    """The two local networks rebuilt in PyTorch (random weights): SRVGGNetCompact (the fast model's
    AnimeVideo v3: 16 convs, 64 features, PReLU, pixel shuffle) and RRDBNet (x4plus: 23 RRDB blocks)."""
    import torch
    from torch import nn

    class SRVGGNetCompact(nn.Module):
        def __init__(self, feats: int = 64, convs: int = 16, scale: int = 4) -> None:
            super().__init__()
            layers: list[nn.Module] = [nn.Conv2d(3, feats, 3, 1, 1), nn.PReLU(feats)]
            for _ in range(convs):
                layers += [nn.Conv2d(feats, feats, 3, 1, 1), nn.PReLU(feats)]
            layers += [nn.Conv2d(feats, 3 * scale * scale, 3, 1, 1), nn.PixelShuffle(scale)]
            self.body, self.scale = nn.Sequential(*layers), scale

        def forward(self, x):
            return self.body(x) + nn.functional.interpolate(x, scale_factor=self.scale, mode="nearest")

    class DenseBlock(nn.Module):
        def __init__(self, feats: int = 64, grow: int = 32) -> None:
            super().__init__()
            self.convs = nn.ModuleList(nn.Conv2d(feats + i * grow, grow if i < 4 else feats, 3, 1, 1)
                                       for i in range(5))
            self.act = nn.LeakyReLU(0.2, inplace=True)

        def forward(self, x):
            features = [x]
            for i, conv in enumerate(self.convs):
                out = conv(torch.cat(features, 1))
                if i == 4:
                    return out * 0.2 + x
                features.append(self.act(out))

    class RRDB(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.Sequential(DenseBlock(), DenseBlock(), DenseBlock())

        def forward(self, x):
            return self.blocks(x) * 0.2 + x

    class RRDBNet(nn.Module):  # Real-ESRGAN x4plus: 23 RRDB blocks, 64 features, 32 growth
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Conv2d(3, 64, 3, 1, 1)
            self.body = nn.Sequential(*(RRDB() for _ in range(23)))
            self.body_conv = nn.Conv2d(64, 64, 3, 1, 1)
            self.up1, self.up2 = nn.Conv2d(64, 64, 3, 1, 1), nn.Conv2d(64, 64, 3, 1, 1)
            self.hr, self.last = nn.Conv2d(64, 64, 3, 1, 1), nn.Conv2d(64, 3, 3, 1, 1)
            self.act = nn.LeakyReLU(0.2, inplace=True)

        def forward(self, x):
            feat = self.first(x)
            feat = feat + self.body_conv(self.body(feat))
            feat = self.act(self.up1(nn.functional.interpolate(feat, scale_factor=2, mode="nearest")))
            feat = self.act(self.up2(nn.functional.interpolate(feat, scale_factor=2, mode="nearest")))
            return self.last(self.act(self.hr(feat)))

    return {"fast": SRVGGNetCompact, "quality": RRDBNet}


def against_torch(model: str, repeat: int) -> dict:
    """The model's ncnn network and its PyTorch twin on the same single tile (the model's tile size, cut from
    the photo), interleaved ``repeat`` times after a warm-up each: medians and the speed ratio."""
    try:
        import torch
    except ImportError:
        return {"skipped": "torch is not installed"}
    torch.set_num_threads(THREADS)
    side = MODELS[model].tile
    crop = PHOTO.crop((160, 40, 160 + side, 40 + side))
    pixels = np.asarray(crop, np.float32) / 255.0
    net, twin = load_model(model), torch_networks()[model]().eval()
    tensor = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]

    def ncnn_once() -> None:
        net.run(4, pixels)

    def torch_once() -> None:
        with torch.inference_mode():
            twin(tensor)

    ncnn_once()  # warm-up: allocations, oneDNN primitives
    torch_once()
    ncnn_s, torch_s = [], []
    for _ in range(repeat):
        # each library's OpenMP threads keep spinning for a while after its calls (torch's for ~200 ms), so the
        # first call after the other library's shares the cores with them: each round times a second call
        ncnn_s.append(timed(ncnn_once, 2)[0])
        torch_s.append(timed(torch_once, 2)[0])
    ncnn_median, torch_median = statistics.median(ncnn_s), statistics.median(torch_s)
    output = Image.new("RGB", (side * 4, side * 4))
    return {"torch": torch.__version__, "threads": THREADS, "tile": f"{side}x{side}", "repeats": repeat,
            "ncnn_median_s": round(ncnn_median, 3), "torch_median_s": round(torch_median, 3),
            "ncnn_speed": per_mp(ncnn_median, output), "torch_speed": per_mp(torch_median, output),
            "ncnn_speed_over_torch": round(torch_median / ncnn_median, 2),
            "spread": [round(min(t / n for t, n in zip(torch_s, ncnn_s, strict=True)), 2),
                       round(max(t / n for t, n in zip(torch_s, ncnn_s, strict=True)), 2)]}


def torch_in_child(model: str, repeat: int) -> dict:
    """``against_torch`` in a fresh process: in this one, the earlier benchmarks' ncnn nets and thread pools
    moved the ratio by up to 40 % from run to run."""
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.local_engine import against_torch; "
            f"print(json.dumps(against_torch({model!r}, {repeat})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    fast_crop = PHOTO.crop((128, 0, 384, 256))  # 256² → 1024²: face, hair and the suit's edge
    quality_crop = PHOTO.crop((160, 40, 288, 168))  # 128² → 512²: the face
    figures: dict[str, Any] = {"settings": {"threads": THREADS, "cpu_count": os.cpu_count(),
                            **{f"{name}_tile": MODELS[name].tile for name in MODELS}, "overlap": DEFAULT_OVERLAP}}
    # Fresh processes first, while this one is still small (see CHILD about ru_maxrss).
    figures["fast_1024_to_4096"] = in_child("fast", 1024, MODELS["fast"].tile, png=True)
    figures["fast_1024_to_4096"]["whole_output_float32_would_be_mb"] = round(4096 * 4096 * 3 * 4 / 2**20)
    figures["quality_peak_rss_mb_by_tile"] = {str(tile): in_child("quality", 128, tile)["peak_rss_mb"]
                                              for tile in (64, 96, 128)}
    figures["fast"] = model_speed("fast", fast_crop, repeat=3)
    figures["quality"] = model_speed("quality", quality_crop, repeat=1)
    figures["fast_s_per_output_mp_by_tile"] = tile_sweep()
    figures["fast_s_per_output_mp_by_threads"] = thread_sweep(fast_crop)
    figures["fast_ncnn_options"] = option_sweep("fast")
    figures["torch"] = {"fast": torch_in_child("fast", repeat=5), "quality": torch_in_child("quality", repeat=3)}
    for model, twin in (("fast", "SRVGGNetCompact"), ("quality", "RRDBNet")):
        ratio = figures["torch"][model].get("ncnn_speed_over_torch")
        print(f"ncnn/torch speed, {model}: " + (f"ncnn is {ratio}× the speed of torch {twin} on the same tile"
                                                if ratio else "skipped (torch is not installed)"))
    # ncnn against PyTorch is context, not a goal (issue 18): shown unjudged; bench/cpu_efficiency.py measures
    # the engine against the CPU's peak instead.
    figures["goals"] = {"torch.fast.ncnn_speed_over_torch": {"goal": None},
                        "torch.quality.ncnn_speed_over_torch": {"goal": None},
                        "fast_1024_to_4096.peak_rss_mb": {"goal": "<= 1024"},
                        "fast.s_per_output_mp": {"goal": None}, "quality.s_per_output_mp": {"goal": None}}
    report("local_engine", figures)


if __name__ == "__main__":
    main()
