"""In Chromium: the upload box's file types are the picker's hint only — a HEIC photo and a file with no name
extension are taken (their content decides), and a PDF named ``.png`` is refused naming what it is."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from core.inputs import formats
from tests import browser_steps as steps
from tests.browser import browser_page

pytestmark = pytest.mark.browser


def heic() -> bytes:
    formats.register_plugins()
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 30)).save(buffer, format="HEIF", quality=90)
    return buffer.getvalue()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 60, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "make"), [("IMG_0001.HEIC", heic), ("upload", png), ("photo.heif", heic),
                                            ("scan.jpg.download", png)])
def test_a_picture_is_taken_whatever_its_name(studio, tmp_path: Path, name: str, make) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        steps.upload(page, str(path))  # waits for the size and price line
        assert "Input 40×30" in page.locator("#input-info").inner_text()


def test_the_upload_boxs_label_leaves_its_icon_clear(studio) -> None:
    # A user trial: the box's label ("Image (PNG, JPEG, WebP, …)") lay over the upload icon on the first screen
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        assert not page.evaluate("""() => {
            const label = document.querySelector('#input-file [data-testid=block-label]').getBoundingClientRect();
            const icon = document.querySelector('#input-file .icon-wrap').getBoundingClientRect();
            return label.left < icon.right && icon.left < label.right && label.top < icon.bottom
                && icon.top < label.bottom; }""")


def test_a_pdf_named_png_is_refused_naming_what_it_is(studio, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"%PDF-1.7\n" + b"\0" * 64)
    with browser_page(1366, 900) as page:
        steps.open_app(page, studio)
        page.locator("#input-file input[type=file]").set_input_files(str(path))
        page.locator("#input-info").get_by_text("a PDF document").wait_for()
        assert "HEIC/HEIF" in page.locator("#input-info").inner_text()
