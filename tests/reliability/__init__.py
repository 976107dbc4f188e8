"""Reliability suite (issue 6): hostile inputs, injected fal faults and load, with a tried/handled/lost tally.

Helpers shared by the suite's modules; the fixtures (network guard, HTTPS test web server, tally) live in
``conftest.py`` beside this file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

from core import config
from core.runs.runs import FINAL_STATUSES, STATUSES

TIMEOUT = 60  # seconds one call may take before it counts as a hang


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` until it is true; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def history_rows(data_dir: Path | None = None) -> list[dict]:
    """Every row of the history, read through a fresh connection (not the app's), newest first."""
    from core.runs.history import FILE_NAME, History

    folder = data_dir or config.data_dir()
    path = folder / FILE_NAME
    if not path.exists():
        return []
    with contextlib.closing(History(path, folder)) as history:
        assert history.notice is None, f"the history had to be replaced: {history.notice}"
        return history.frame(None).to_dict("records")


def assert_history_sound(expected: int, *, final: bool = True, data_dir: Path | None = None) -> list[dict]:
    """The history opens, passes SQLite's integrity check, holds ``expected`` rows and no half-written one.

    A sound row has an id, an engine, a known status, a creation time; a final one (``final``) ended in a final
    status with a finish time; a completed one has its output file; a failed one says why.
    """
    from core.runs.history import FILE_NAME

    folder = data_dir or config.data_dir()
    if data_dir is None:  # the store the app itself holds agrees
        from core.runs import store

        assert store.store().count() == expected
    path = folder / FILE_NAME
    if path.exists():
        with contextlib.closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = history_rows(folder)
    assert len(rows) == expected, f"{len(rows)} rows, expected {expected}"
    for row in rows:
        assert row["id"] and row["engine"] in ("fal", "local") and row["created_at"] > 0, row
        assert row["status"] in STATUSES, row
        if final:
            assert row["status"] in FINAL_STATUSES and row["finished_at"], row
        if row["status"] == "completed":
            assert row["output_path"] and Path(row["output_path"]).is_file(), row
        if row["status"] in ("failed", "cancelled", "interrupted"):
            assert row["error"], row
    return rows


# -- hostile and awkward image files ----------------------------------------------------------------------------

def save_image(image: object, path: Path, **options: object) -> str:
    """Save a PIL image at ``path`` (format from the suffix unless ``format`` is given); returns the path."""
    image.save(path, **options)  # type: ignore[attr-defined]
    return str(path)


def noise_png(path: Path, size: tuple[int, int] = (48, 36), seed: int = 0) -> str:
    """A PNG of reproducible noise; a different ``seed`` gives different content (and a fresh fal upload)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return save_image(Image.fromarray(pixels), path)


def bomb_png(path: Path, side: int = 30000) -> str:
    """A valid 1-bit ``side``×``side`` PNG of zeros: ~100 KB on disk, 900 MP once decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    body = zlib.compress(row * side, 9)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return str(path)


# -- calling the public API -------------------------------------------------------------------------------

def upscale(client: Any, image: str | None, image_url: str = "", **params: Any) -> tuple[str, dict]:
    """One /upscale call on the local engine (unless ``engine`` is given), bounded in time."""
    params.setdefault("engine", "local")
    job = client.submit(handle_file(image) if image else None, image_url, api_name="/upscale", **params)
    return job.result(timeout=TIMEOUT)


def refused(client: Any, match: str, image: str | None, image_url: str = "", **params: Any) -> str:
    """The call fails with a message matching ``match``; nothing reaches the history."""
    with pytest.raises(Exception, match=match) as caught:
        upscale(client, image, image_url, **params)
    assert "Traceback" not in str(caught.value)
    assert_history_sound(0)
    return str(caught.value)


def completed(client: Any, image: str | None, image_url: str = "", **params: Any) -> Image.Image:
    """The call completes; the history holds exactly that run, with its file."""
    png, result = upscale(client, image, image_url, **params)
    assert result["status"] == "completed"
    rows = assert_history_sound(1)
    assert rows[0]["id"] == result["run_id"]
    output = Image.open(png)
    output.load()
    return output


def mean_colour(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=float).reshape(-1, 3).mean(axis=0)


def raw_call(base_url: str, values: dict[str, Any]) -> str:
    """POST /upscale as raw JSON (gradio_client refuses to send NaN or a lone surrogate); returns the error text."""
    import json

    import httpx

    from core.inputs import images

    data = {"image": None, "image_url": images.to_png_data_uri(noise_png(Path(config.data_dir()) / "raw.png")),
            "prompt": "p", "upscale_factor": 1, "negative_prompt": "n", "creativity": 0.35, "resemblance": 0.6,
            "guidance_scale": 4, "num_inference_steps": 18, "seed": None, "enable_safety_checker": True,
            "engine": "local", **values}
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as http:
        posted = http.post("gradio_api/call/upscale", content=json.dumps({"data": list(data.values())}),
                           headers={"content-type": "application/json"})
        if posted.status_code != 200:
            return f"HTTP {posted.status_code}: {posted.text}"
        stream = http.get(f"gradio_api/call/upscale/{posted.json()['event_id']}").text
    assert "event: complete" not in stream, stream
    return stream
