"""A sweep's contact sheet (a labelled grid of thumbnails) and its per-cell CSV.

The sheet has the X axis legend along the top, the Y axis legend down the left, and every tile carries its own
label, so a crop of the sheet still says which settings made it. Failed or missing cells are grey tiles that
show their status. Text uses Pillow's scalable default font (``ImageFont.load_default(size=...)``).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from core import config, storage
from core.csv_export import write_csv
from core.schema import PARAMETER_FIELDS
from core.sweep.axes import AXES, format_value

BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
MUTED_TILE = (200, 200, 200)
TILE_BACKGROUND = (238, 238, 238)
CSV_LEADING = ("x_index", "y_index", "z_index", "w_index", "label", "status", "x_value", "y_value", "z_value",
               "w_value")
CSV_TRAILING = ("request_id", "engine", "psnr", "ssim", "sharpness", "error")


class SheetCell(NamedTuple):
    """One tile of a sheet; a plain ``(x_index, y_index, label, image, status_text)`` tuple works too."""

    x_index: int
    y_index: int
    label: str
    image: Image.Image | str | Path | None  # an image, a path to one, or None for a failed/missing cell
    status_text: str = ""


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


DRAWN_AS = str.maketrans({"×": "x"})  # Pillow's built-in font has no "×": a region's "302×302" drew a box


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> str:
    """``text`` shortened with an ellipsis until it fits ``width`` pixels (in signs the sheet's font draws)."""
    text = text.translate(DRAWN_AS)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int, max_lines: int) -> list[str]:
    """Words of ``text`` in lines no wider than ``width``; the last line gets an ellipsis if cut."""
    text = text.translate(DRAWN_AS)
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += " …"
    return [_fit(draw, line, font, width) for line in lines]


def _axis_title(name: str | None) -> str:
    if not name:
        return ""
    return AXES[name].label if name in AXES else name


def sheet_thumb(cells: int) -> int:
    """A sheet's tile size in pixels for a grid of ``cells``: 384, or 256 above 25 cells."""
    return 384 if cells <= 25 else 256


_TILES_KEPT = 128  # tiles of the last sweeps' outputs: 128 at 384 px are ~57 MB, at 256 px ~25 MB
_tiles: OrderedDict[tuple[str, int, int, int], Image.Image] = OrderedDict()
_tiles_lock = threading.Lock()


def _tile_key(path: str | Path, size: int) -> tuple[str, int, int, int]:
    found = os.stat(path)
    return str(path), found.st_size, found.st_mtime_ns, size


def keep_tile(path: str | Path, image: Image.Image, size: int) -> None:
    """Make the sheet tile of the picture at ``path`` now, from ``image`` already decoded (a sweep does it as each
    cell is measured), so the sheet at the sweep's end pastes it instead of reading the whole output again. Kept
    while the file is unchanged (keyed by path, size and modification time), the last ``_TILES_KEPT``."""
    key = _tile_key(path, size)
    tile = _thumbnail(image, size)
    with _tiles_lock:
        _tiles[key] = tile
        while len(_tiles) > _TILES_KEPT:
            _tiles.popitem(last=False)


def _tile_of(path: str | Path, size: int) -> Image.Image:
    key = _tile_key(path, size)
    with _tiles_lock:
        kept = _tiles.get(key)
    return kept if kept is not None else _thumbnail(path, size)


def _thumbnail(image: Image.Image | str | Path, size: int) -> Image.Image:
    """The image scaled to fit ``size × size``, alpha composited over the tile background."""
    if not isinstance(image, Image.Image):
        with Image.open(image) as opened:
            image = opened.copy()
    # fit up or down: outputs of different factors are compared at the same tile size
    scale = size / max(image.width, image.height)
    fitted = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reducing_gap: a box reduction first, then Lanczos over the last factor of 3 or more (Pillow's documented
    # shortcut, "indistinguishable from fair resampling in most cases"): a 1 MP output's tile in ~4 ms, not ~9
    image = image.resize(fitted, Image.Resampling.LANCZOS, reducing_gap=3.0) if fitted != image.size else image
    tile = Image.new("RGB", image.size, TILE_BACKGROUND)
    if "A" in image.getbands():
        tile.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
    else:
        tile.paste(image.convert("RGB"))
    return tile


def _default_label(x_axis_name: str, x_value: Any, y_axis_name: str | None, y_value: Any) -> str:
    """The label of a cell nobody described (a missing cell), from its axis values."""
    parts = [f"{x_axis_name}={format_value(x_axis_name, x_value)}"]
    if y_axis_name:
        parts.append(f"{y_axis_name}={format_value(y_axis_name, y_value)}")
    return " · ".join(parts)


def contact_sheet(cells: Sequence[SheetCell | tuple[Any, ...]], x_axis_name: str, x_values: Sequence[Any],
                  y_axis_name: str | None = None, y_values: Sequence[Any] | None = None,
                  thumb: int = 384) -> Image.Image:
    """A labelled grid: axis legends on top and left, one labelled tile per cell, grey tiles for failures."""
    columns, rows = max(1, len(x_values)), max(1, len(y_values or []))
    legend_font, cell_font = _font(max(12, thumb // 16)), _font(max(10, thumb // 20))
    gap = max(4, thumb // 48)
    legend_line = int(legend_font.getbbox("Ag")[3]) + gap  # whole pixels (typed float)
    cell_line = int(cell_font.getbbox("Ag")[3]) + gap // 2
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    placed = {(cell[0], cell[1]): SheetCell(*cell) for cell in cells}
    labels = {(column, row): _wrap(measure, placed[(column, row)].label if (column, row) in placed else _default_label(
        x_axis_name, x_values[column] if x_values else None, y_axis_name, (y_values or [None])[row]),
        cell_font, thumb, max_lines=3) for row in range(rows) for column in range(columns)}
    label_strip = max([1, *map(len, labels.values())]) * cell_line + gap  # a label wraps, never cut short
    y_texts = [format_value(y_axis_name or "", value, 60) for value in (y_values or [])]
    left = 0
    if y_values:
        widest = max(measure.textlength(text, font=legend_font) for text in [*y_texts, _axis_title(y_axis_name)])
        left = min(thumb, int(widest)) + 2 * gap
    top = 2 * legend_line + gap
    tile_w, tile_h = thumb + gap, thumb + label_strip + gap
    sheet = Image.new("RGB", (left + columns * tile_w + gap, top + rows * tile_h + gap), BACKGROUND)
    draw = ImageDraw.Draw(sheet)

    # legends: the X axis title centred over the grid, each value over its column; Y values beside their rows
    title = _fit(draw, _axis_title(x_axis_name), legend_font, columns * tile_w)
    draw.text((left + columns * tile_w / 2, gap), title, font=legend_font, fill=INK, anchor="ma")
    for column, value in enumerate(x_values):
        text = _fit(draw, format_value(x_axis_name, value, 60), legend_font, thumb)
        draw.text((left + gap + column * tile_w + thumb / 2, gap + legend_line), text, font=legend_font,
                  fill=INK, anchor="ma")
    if y_values:
        draw.text((gap, gap + legend_line), _fit(draw, _axis_title(y_axis_name), legend_font, left - gap),
                  font=legend_font, fill=INK)
        for row, text in enumerate(y_texts):
            draw.text((gap, top + row * tile_h + thumb / 2), _fit(draw, text, legend_font, left - 2 * gap),
                      font=legend_font, fill=INK, anchor="lm")

    for row in range(rows):
        for column in range(columns):
            x, y = left + gap + column * tile_w, top + row * tile_h
            cell = placed.get((column, row))
            if cell is not None and cell.image is not None:
                picture = _thumbnail(cell.image, thumb) if isinstance(cell.image, Image.Image) else _tile_of(
                    cell.image, thumb)
                sheet.paste(picture, (x + (thumb - picture.width) // 2, y + (thumb - picture.height) // 2))
            else:
                draw.rectangle((x, y, x + thumb - 1, y + thumb - 1), fill=MUTED_TILE)
                status = (cell.status_text if cell else "") or ("no image" if cell else "missing")
                lines = _wrap(draw, status, legend_font, thumb - 2 * gap, max_lines=4)
                block = len(lines) * legend_line
                for number, line in enumerate(lines):
                    draw.text((x + thumb / 2, y + (thumb - block) / 2 + number * legend_line), line,
                              font=legend_font, fill=INK, anchor="ma")
            for number, line in enumerate(labels[(column, row)]):
                draw.text((x, y + thumb + gap // 2 + number * cell_line), line, font=cell_font, fill=INK)
    return sheet


def stacked(sheets: Sequence[tuple[str, Image.Image]]) -> Image.Image:
    """Sheets one under another, each under its title (a sweep's Z and W values); a single untitled sheet as is."""
    if len(sheets) == 1 and not sheets[0][0]:
        return sheets[0][1]
    width = max(sheet.width for _, sheet in sheets)
    font = _font(max(18, min(32, width // 40)))
    gap = 8
    line = int(font.getbbox("Ag")[3]) + 2 * gap
    page = Image.new("RGB", (width, sum(line + sheet.height for _, sheet in sheets)), BACKGROUND)
    draw, top = ImageDraw.Draw(page), 0
    for title, sheet in sheets:
        draw.text((gap, top + gap), _fit(draw, title, font, width - 2 * gap), font=font, fill=INK)
        draw.line((0, top + line - 2, width, top + line - 2), fill=MUTED_TILE, width=2)
        page.paste(sheet, (0, top + line))
        top += line + sheet.height
    return page


def sheet_to_png(image: Image.Image, path: str | Path) -> Path:
    """Write the sheet as a PNG (parent folders created) and return its path. Fast compression (level 1): the sheet
    is written after a sweep's last cell, while ``/sweep`` waits for it, and level 6 took twice as long (115 ms
    against 55 ms for a 12-cell sheet of 4712×517) for a file a sixth smaller."""
    path = Path(path)
    storage.write_atomic(path, lambda out: image.save(out, format="PNG", compress_level=1), "save the contact sheet")
    return path


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Nested dicts (``arguments``, ``metrics``, ``timings``) become columns; data URIs are shortened."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                flat.setdefault(inner, inner_value)
        else:
            flat[key] = value  # a top-level value wins over the same name inside a nested dict
    for key, value in flat.items():
        if isinstance(value, str) and value.startswith("data:") and len(value) > 80:
            flat[key] = f"{value[:40]}… ({len(value)} characters)"
    return flat


def cells_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """One CSV row per cell: position, label, status, every parameter, seed, request id, metrics."""
    frame = pd.DataFrame([_flat(row) for row in rows])
    parameters = tuple(field.name for field in PARAMETER_FIELDS)
    ordered = [name for name in (*CSV_LEADING, *parameters, *CSV_TRAILING) if name in frame.columns]
    frame = frame[ordered + [name for name in frame.columns if name not in ordered]]
    return write_csv(frame, path, config.data_dir())  # no formulas, no server paths, UTF-8 with BOM
