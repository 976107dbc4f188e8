"""The contact sheet: one labelled tile per cell, legends, grey tiles for failures; and the per-cell CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.sweep.contact_sheet import SheetCell, cells_csv, contact_sheet, sheet_to_png

THUMB = 96
X_VALUES, Y_VALUES = [0.2, 0.4, 0.6], [0.5, 0.9]
SCARLET = (230, 20, 20)


def _cells(label_for: dict | None = None, failed: tuple[int, int] | None = None) -> list[SheetCell]:
    cells = []
    for y_index, y_value in enumerate(Y_VALUES):
        for x_index, x_value in enumerate(X_VALUES):
            key = (x_index, y_index)
            label = (label_for or {}).get(key, f"creativity={x_value} · resemblance={y_value}")
            image = None if key == failed else Image.new("RGB", (200, 100), SCARLET)
            cells.append(SheetCell(x_index, y_index, label, image, "failed: HTTP 500" if image is None else "ok"))
    return cells


def _sheet(**kwargs) -> np.ndarray:
    image = contact_sheet(_cells(**kwargs), "creativity", X_VALUES, "resemblance", Y_VALUES, thumb=THUMB)
    return np.asarray(image).astype(int)


def _changed_box(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the pixels that differ."""
    rows, columns = np.nonzero((a != b).any(axis=2))
    return rows.min(), columns.min(), rows.max(), columns.max()


def test_sheet_grows_with_the_grid() -> None:
    two_by_three = contact_sheet(_cells(), "creativity", X_VALUES, "resemblance", Y_VALUES, thumb=THUMB)
    one_row = contact_sheet(_cells()[:3], "creativity", X_VALUES, thumb=THUMB)
    assert two_by_three.width >= 3 * THUMB and two_by_three.height >= 2 * THUMB
    assert one_row.width < two_by_three.width  # no Y legend
    assert one_row.height < two_by_three.height - THUMB
    bigger = contact_sheet(_cells(), "creativity", X_VALUES, "resemblance", Y_VALUES, thumb=2 * THUMB)
    assert bigger.width > two_by_three.width and bigger.height > two_by_three.height


def test_each_image_is_shown_once_per_cell() -> None:
    pixels = _sheet()
    scarlet = (pixels == SCARLET).all(axis=2)
    # each 200×100 picture fits a THUMB-wide tile at half its width: THUMB × THUMB/2 scarlet pixels per tile
    assert scarlet.sum() == pytest.approx(6 * THUMB * THUMB // 2, rel=0.05)


def test_cell_label_is_drawn_and_a_different_label_changes_that_tile_only() -> None:
    base = _sheet()
    changed = _sheet(label_for={(1, 0): "creativity=0.4 · something else"})
    top, left, bottom, right = _changed_box(base, changed)
    other = _sheet(label_for={(2, 1): "creativity=0.6 · something else"})
    other_top, other_left, _, _ = _changed_box(base, other)
    assert other_top > bottom and other_left > right  # each label sits in its own cell, further right and down
    strip = base[top:bottom + 1, left:right + 1]
    assert len(np.unique(strip.reshape(-1, 3), axis=0)) > 2  # anti-aliased text, not a flat area
    assert not (base[top:bottom + 1, left:right + 1] == SCARLET).all(axis=2).any()  # below the picture


def test_failed_cell_is_a_grey_tile_with_its_status() -> None:
    ok, failed = _sheet(), _sheet(failed=(2, 0))
    top, left, bottom, right = _changed_box(ok, failed)
    assert bottom - top >= THUMB * 0.9 and right - left >= THUMB * 0.9  # the whole tile changed
    tile = failed[top:bottom + 1, left:right + 1]
    grey = (tile == tile[2, 2]).all(axis=2)
    assert tile[2, 2][0] == tile[2, 2][1] == tile[2, 2][2] and grey.mean() > 0.8
    assert not grey.all()  # the status text is written on it
    other = np.asarray(contact_sheet(
        [c if (c.x_index, c.y_index) != (2, 0) else c._replace(status_text="cancelled") for c in _cells(failed=(2, 0))],
        "creativity", X_VALUES, "resemblance", Y_VALUES, thumb=THUMB)).astype(int)
    assert (other[top:bottom + 1, left:right + 1] != tile).any()


def test_missing_cells_are_grey_and_still_labelled_from_the_axes() -> None:
    full = _sheet()
    without_first = np.asarray(contact_sheet(_cells()[1:], "creativity", X_VALUES, "resemblance", Y_VALUES,
                                             thumb=THUMB)).astype(int)
    top, left, bottom, right = _changed_box(full, without_first)
    assert bottom - top >= THUMB * 0.9  # the first tile went grey
    described = [SheetCell(0, 0, "creativity=0.2 · resemblance=0.5", None, "missing"), *_cells()[1:]]
    unlabelled = [SheetCell(0, 0, "", None, "missing"), *_cells()[1:]]
    as_described = np.asarray(contact_sheet(described, "creativity", X_VALUES, "resemblance", Y_VALUES,
                                            thumb=THUMB)).astype(int)
    without_label = np.asarray(contact_sheet(unlabelled, "creativity", X_VALUES, "resemblance", Y_VALUES,
                                             thumb=THUMB)).astype(int)
    assert np.array_equal(without_first, as_described)
    assert not np.array_equal(without_first, without_label)


def test_axis_legends_change_with_the_values() -> None:
    base = _sheet()
    renamed = np.asarray(contact_sheet(_cells(), "creativity", [0.25, 0.4, 0.6], "resemblance", Y_VALUES,
                                       thumb=THUMB)).astype(int)
    top, left, bottom, right = _changed_box(base, renamed)
    assert bottom < THUMB // 2  # only the top legend over the first column changed
    y_renamed = np.asarray(contact_sheet(_cells(), "creativity", X_VALUES, "Resemblance", [0.55, 0.9],
                                         thumb=THUMB)).astype(int)
    _, _, _, right = _changed_box(base, y_renamed)
    first_scarlet_column = np.nonzero((base == SCARLET).all(axis=2).any(axis=0))[0].min()
    assert right < first_scarlet_column  # the left legend, not the tiles


def test_plain_tuples_and_paths_work(tmp_path) -> None:
    path = tmp_path / "cell.png"
    Image.new("RGBA", (50, 50), (*SCARLET, 255)).save(path)
    sheet = contact_sheet([(0, 0, "seed=1", str(path), "ok")], "seed", [1], thumb=THUMB)
    assert (np.asarray(sheet) == SCARLET).all(axis=2).sum() == THUMB * THUMB
    saved = sheet_to_png(sheet, tmp_path / "sweeps" / "sheet.png")
    with Image.open(saved) as reopened:
        assert reopened.format == "PNG" and reopened.size == sheet.size


def test_cells_csv_has_one_row_per_cell_with_parameters_and_metrics(tmp_path) -> None:
    rows = [
        {"x_index": 0, "y_index": 0, "label": "creativity=0.2", "status": "completed", "request_id": "req-1",
         "arguments": {"creativity": 0.2, "prompt": "a cat, sharp", "seed": 42},
         "metrics": {"psnr": 31.5, "ssim": 0.91}, "image_url": "data:image/png;base64," + "A" * 500},
        {"x_index": 1, "y_index": 0, "label": "creativity=0.4", "status": "failed", "request_id": None,
         "arguments": {"creativity": 0.4, "prompt": "a cat, sharp"}, "error": "fal answered 500"},
    ]
    path = cells_csv(rows, tmp_path / "out" / "cells.csv")
    frame = pd.read_csv(path)
    assert len(frame) == 2
    assert list(frame.columns[:4]) == ["x_index", "y_index", "label", "status"]
    assert frame.loc[0, "prompt"] == "a cat, sharp" and frame.loc[1, "creativity"] == 0.4
    assert frame.loc[0, "seed"] == 42 and frame.loc[0, "request_id"] == "req-1"
    assert frame.loc[0, "psnr"] == 31.5 and pd.isna(frame.loc[1, "psnr"])
    assert frame.loc[1, "error"] == "fal answered 500"
    assert len(frame.loc[0, "image_url"]) < 100  # data URIs are shortened
