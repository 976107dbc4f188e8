"""Local engine speed and memory: seconds per output megapixel for each model, tile size and thread count,
peak RSS of a 1024² → 4096² upscale, and (when torch is installed) ncnn against a PyTorch RRDBNet.

Run: python -m bench.local_engine        (about two minutes on 2 cores)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from bench._common import ROOT, report, timed  # noqa: E402
from core.upscale import (  # noqa: E402
    DEFAULT_OVERLAP,
    MODELS,
    THREADS,
    load_model,
    open_model,
    tile_count,
    upscale,
    upscale_array,
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
        seconds, _ = timed(lambda tile=tile: upscale_array(pixels, model, 4, tile, min(DEFAULT_OVERLAP, tile // 4)))
        out[str(tile)] = round(seconds / (pixels.shape[0] * pixels.shape[1] * 16 / 1e6), 3)
    return out


def thread_sweep(crop: Image.Image) -> dict[str, float]:
    """Fast model, default tile: seconds per output MP with 1 thread and with all of them."""
    pixels, out = np.asarray(crop), {}
    for threads in sorted({1, THREADS}):
        model = open_model("fast", threads)
        upscale_array(pixels, model, 4)  # warm-up
        seconds, _ = timed(lambda model=model: upscale_array(pixels, model, 4), 2)
        out[str(threads)] = round(seconds / (pixels.shape[0] * pixels.shape[1] * 16 / 1e6), 3)
    return out


CHILD = """
import io, json, resource, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from PIL import Image
from skimage import data
from core.upscale import load_model, upscale

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


def torch_rrdbnet(crop: Image.Image, ncnn_seconds: float) -> dict:
    """The x4plus architecture in PyTorch (random weights) on the same tile, and the ncnn/torch speed ratio."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return {"skipped": "torch is not installed"}

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

    torch.set_num_threads(THREADS)
    net = RRDBNet().eval()
    tile = torch.from_numpy(np.asarray(crop, np.float32).transpose(2, 0, 1)[None] / 255.0)
    with torch.inference_mode():
        net(tile[..., :32, :32])  # warm-up
        seconds, out = timed(lambda: net(tile))
    output = Image.new("RGB", (out.shape[3], out.shape[2]))
    return {"torch": torch.__version__, "threads": THREADS, "input": f"{crop.width}x{crop.height}",
            "best_s": round(seconds, 3), **per_mp(seconds, output),
            "ncnn_speed_over_torch": round(seconds / ncnn_seconds, 2)}


def main() -> None:
    fast_crop = PHOTO.crop((128, 0, 384, 256))  # 256² → 1024²: face, hair and the suit's edge
    quality_crop = PHOTO.crop((160, 40, 288, 168))  # 128² → 512²: the face
    figures = {"settings": {"threads": THREADS, "cpu_count": os.cpu_count(),
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
    figures["torch_rrdbnet_x4"] = torch_rrdbnet(quality_crop, figures["quality"]["best_s"])
    ratio = figures["torch_rrdbnet_x4"].get("ncnn_speed_over_torch")
    print("ncnn/torch speed: " + (f"ncnn x4plus is {ratio}× the speed of torch RRDBNet" if ratio
                                  else "skipped (torch is not installed)"))
    report("local_engine", figures)


if __name__ == "__main__":
    main()
