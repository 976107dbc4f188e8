"""Sweeps and history as datasets (issue 29 §2): the zip loads offline with Hugging Face's ``datasets`` as an
``imagefolder`` with typed columns, prompts kept exact, no key and no server path, and only the visitor's own runs."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from components.common import dataset_export
from components.common.session import Session
from components.history import history_panel
from core import config, schema
from core.errors import InputError
from core.usecases import RunRequest, SweepRequest, export, run_one, run_sweep
from tests.conftest import api_client
from tests.reliability import noise_png

PROMPT = 'a "quoted" =SUM(A1)\nsecond line, café 東京'


def sweep(visitor: Session, photo: str, engine: str, x_axis: str, x_values: str) -> str:
    async def go() -> str:
        request = SweepRequest({**schema.defaults(), "prompt": PROMPT, "upscale_factor": 2}, photo, engine, x_axis,
                               x_values)
        async for progress in run_sweep(request, visitor):
            last = progress
        assert last.finished
        return last.plan.id

    return asyncio.run(go())


def load(zip_path: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder)
        names = archive.namelist()
    (root,) = {name.split("/")[0] for name in names}
    loaded = datasets.load_dataset("imagefolder", data_dir=str(folder / root), cache_dir=str(tmp_path / "cache"),
                                   split="train")
    return loaded, (folder / root / "metadata.jsonl").read_text(encoding="utf-8")


@pytest.fixture
def photo(tmp_path: Path) -> str:
    return noise_png(tmp_path / "photo.png", (40, 30), seed=11)


def test_a_fal_sweep_loads_as_an_imagefolder_with_typed_columns_and_exact_prompts(
        photo, fal_server, fal_key, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    me = Session()
    sweep_id = sweep(me, photo, "fal", "creativity", "0.2, 0.5, 0.8")
    written = export.sweep_dataset(sweep_id, me)
    assert (written.rows, written.skipped) == (3, 0)
    loaded, jsonl = load(written.path, tmp_path, monkeypatch)
    assert len(loaded) == 3
    features = {name: str(getattr(feature, "dtype", type(feature).__name__)) for name, feature in
                loaded.features.items()}
    assert features["image"] == "PIL.Image.Image"  # an Image feature: the pictures load as pictures
    assert {name: features[name] for name in ("creativity", "seed", "width", "psnr", "prompt", "request_id",
                                               "enable_safety_checker", "num_inference_steps")} == {
        "creativity": "float64", "seed": "int64", "width": "int64", "psnr": "float64", "prompt": "string",
        "request_id": "string", "enable_safety_checker": "bool", "num_inference_steps": "int64"}
    assert sorted(loaded["creativity"]) == [0.2, 0.5, 0.8] and set(loaded["prompt"]) == {PROMPT}
    assert set(loaded["x_axis"]) == {"creativity"} and all(loaded["sharpness"])
    assert loaded[0]["image"].size == (loaded[0]["width"], loaded[0]["height"])  # the output picture itself
    assert features["created_at"].startswith("timestamp")  # ISO 8601 with its zone reads back as a time
    for secret in (fal_key, fal_key.partition(":")[2], str(config.data_dir()), "data:image"):
        assert secret not in jsonl


def test_a_lanczos_sweep_exports_its_seed_as_null_and_strangers_cannot_export_it(photo, monkeypatch,
                                                                                 tmp_path) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    ann, ben = Session(shared=True, owner="a" * 32), Session(shared=True, owner="b" * 32)
    sweep_id = sweep(ann, photo, "lanczos", "upscale_factor", "1, 2")
    with pytest.raises(InputError, match="none with that id"):
        export.sweep_dataset(sweep_id, ben)
    loaded, _ = load(export.sweep_dataset(sweep_id, ann).path, tmp_path, monkeypatch)
    assert sorted(loaded["upscale_factor"]) == [1.0, 2.0] and set(loaded["seed"]) == {None}  # lanczos uses none
    sizes = sorted(image.size for image in loaded["image"])
    assert sizes == [(40, 30), (80, 60)]


def test_the_history_exports_as_filtered_and_says_what_it_left_out(photo, monkeypatch, tmp_path) -> None:
    me = Session()

    async def upscale(engine: str) -> None:
        parameters = {**schema.defaults(), "upscale_factor": 2, "prompt": PROMPT}
        async for _ in run_one(RunRequest(parameters, photo, engine), me):
            pass

    for engine in ("lanczos", "lanczos", "local"):
        asyncio.run(upscale(engine))
    file, line = history_panel.export_dataset("", history_panel.ANY, "lanczos", me)
    assert line.startswith("2 pictures") and "load_dataset" in line
    with zipfile.ZipFile(file.value["path"] if isinstance(file.value, dict) else file.value) as archive:
        rows = [json.loads(text) for text in archive.read(next(
            n for n in archive.namelist() if n.endswith("metadata.jsonl"))).decode().splitlines()]
    assert [row["engine"] for row in rows] == ["lanczos", "lanczos"]
    assert all(Image.open(photo).size != (row["width"], row["height"]) for row in rows)
    _, line = history_panel.export_dataset("no such prompt", history_panel.ANY, history_panel.ANY, me)
    assert line == "No finished run matches: there is nothing to export."
    _, line = dataset_export.sweep(object(), me)  # nothing on show in the Sweep tab
    assert "Run or re-open a sweep first" in line


def test_the_api_exports_the_history_and_refuses_a_bad_value_by_name(studio, photo, monkeypatch, tmp_path) -> None:
    from gradio_client import handle_file

    ann = api_client(studio)
    ann.predict(image=handle_file(photo), upscale_factor=2, engine="lanczos", api_name="/upscale")
    zip_path = ann.predict(engine="lanczos", api_name="/dataset")
    loaded, jsonl = load(Path(zip_path), tmp_path, monkeypatch)
    assert len(loaded) == 1 and loaded[0]["image"].size == (80, 60) and loaded[0]["engine"] == "lanczos"
    assert str(config.data_dir()) not in jsonl
    with pytest.raises(Exception, match="nothing to export"):
        ann.predict(engine="local", api_name="/dataset")
    with pytest.raises(Exception, match="sweep_id must be text"):
        ann.predict(sweep_id=5, api_name="/dataset")
