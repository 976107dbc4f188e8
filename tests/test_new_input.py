"""The run panel when the form's picture changes: it says what the form holds now. A file refused and taken out of
the box leaves no picture, and the panel must not claim a new one is there."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from PIL import Image

from components.upscale import run_panel
from components.upscale.action import View
from core.inputs import images
from core.runs import store
from core.runs.runs import Run


def _shown_run(tmp_path: Path) -> View:
    output = tmp_path / "out.png"
    Image.new("RGB", (20, 20), "teal").save(output)
    run = Run(engine="local", arguments={"upscale_factor": 2}, input_name="coffee.png", status="completed",
              output_path=str(output))
    store.save(run)
    return View(stage="done", run_id=run.id)


def test_a_refused_file_leaves_no_picture_and_the_panel_says_so(tmp_path: Path) -> None:
    view, _, _ = run_panel.new_input(_shown_run(tmp_path), None)  # the refusal empties the loaded input
    assert view.details.startswith("The form has no picture now.") and "coffee.png ×2" in view.details
    assert "new picture" not in view.details


def test_a_new_picture_is_named_as_one(tmp_path: Path) -> None:
    photo = tmp_path / "new.png"
    Image.new("RGB", (32, 24), "navy").save(photo)
    view, _, _ = run_panel.new_input(_shown_run(tmp_path), images.load_file(str(photo)))
    assert view.details.startswith("A new picture is in the form.") and "coffee.png ×2" in view.details


def test_a_picture_given_after_the_box_was_emptied_is_named_as_new(tmp_path: Path) -> None:
    photo = tmp_path / "next.png"
    Image.new("RGB", (32, 24), "olive").save(photo)
    emptied, _, _ = run_panel.new_input(_shown_run(tmp_path), None)  # Clear (or a refused file) first
    view, _, _ = run_panel.new_input(emptied, images.load_file(str(photo)))  # then a new upload
    assert isinstance(view, View) and view.details.startswith("A new picture is in the form.")
    assert "coffee.png ×2" in view.details and "no picture" not in view.details


def test_a_picture_put_in_the_form_by_restore_keeps_its_note_and_takes_the_old_files_away(tmp_path: Path) -> None:
    """Restore and *Run the whole picture* put a picture in the form with a note of their own: the note stays, but
    the Output PNG and Result JSON of the run shown before go with the slider (they were left behind)."""
    photo = tmp_path / "whole.png"
    Image.new("RGB", (32, 24), "maroon").save(photo)
    said = run_panel.set_aside("The whole picture of coffee.png ×2 is in the form with its settings.")
    view, file, result = run_panel.new_input(said, images.load_file(str(photo)))
    assert file is None and result is None  # emptied
    assert not isinstance(view, View)  # the note is left as it is (gr.skip())


def test_a_file_and_an_image_url_both_given_say_which_is_used(tmp_path: Path) -> None:
    # Before, the line priced the file and said nothing of the URL typed beside it; the run used the file.
    from components.upscale import image_input

    photo = tmp_path / "tabby.png"
    Image.new("RGB", (60, 40), "orange").save(photo)
    path, line, loaded = image_input.preview(str(photo), "https://example.com/other.png", 2)
    assert loaded is not None and (loaded.width, loaded.height) == (60, 40)
    assert "the file is used, not the image URL" in line
    _, alone, _ = image_input.preview(str(photo), "  ", 2)
    assert "image URL" not in alone


def test_the_price_line_says_a_free_engine_is_free_and_the_price_is_fals(tmp_path: Path) -> None:
    # A user trial: on the local and lanczos engines the line said "estimated $0.03 on fal" and nothing more,
    # which read as if fal would be used.
    from components.upscale import image_input

    photo = tmp_path / "tabby.png"
    Image.new("RGB", (600, 400), "orange").save(photo)
    _, on_fal, loaded = image_input.preview(str(photo), None, 2, None, "fal")
    assert "estimated $" in on_fal and "free" not in on_fal
    for engine in ("local", "lanczos"):
        _, line, _ = image_input.preview(str(photo), None, 2, None, engine)
        assert line.startswith(on_fal) and f"free on the {engine} engine" in line, line
        described = image_input.describe(loaded, 2, None, True, 10, 10, 96, 64, engine=engine)
        assert "A run is of the region" in described and f"free on the {engine} engine" in described


def test_an_image_url_refused_is_said_in_a_toast_once_as_well_as_in_the_line() -> None:
    # A user trial: a bad image URL's warning sat only in the line under the preview, far from the URL box.
    from components.upscale import image_input

    with pytest.warns(UserWarning, match="https"):
        _, line, loaded = image_input.url_given(None, "ftp://example.com/cat.png", 2)
    assert loaded is None and line.startswith("Warning: ") and "https" in line
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same refusal again (Enter, then the box left): no second toast
        assert image_input.url_given(None, "ftp://example.com/cat.png", 2, line)[1] == line


def _photo(tmp_path: Path, name: str, colour: str) -> str:
    path = tmp_path / name
    Image.new("RGB", (32, 24), colour).save(path)
    return str(path)


def test_a_restore_note_stays_with_its_picture_and_goes_with_it(tmp_path: Path) -> None:
    # A user trial: "Restored mytest.jpg ×2 … into the form: press Upscale to run it again" stayed in the console
    # and under the output after that picture was cleared and another uploaded.
    restored_file = _photo(tmp_path, "mytest.png", "olive")  # the picture Restore put in the form
    note = run_panel.put_aside(_shown_run(tmp_path), "Restored mytest.jpg ×2, 14:02, completed into the form: press "
                                                     "Upscale to run it again.")
    note = run_panel.pinned(note, restored_file, "")
    kept, file, result = run_panel.new_input(note, images.load_file(restored_file))  # its own picture, loaded
    assert not isinstance(kept, View) and file is None and result is None  # the note stays, old files go
    emptied, _, _ = run_panel.new_input(note, None)  # Clear
    assert isinstance(emptied, View) and emptied.details.startswith("The form has no picture now.")
    assert "Restored" not in emptied.details and "coffee.png ×2" in emptied.details  # the run it set aside
    other = images.load_file(_photo(tmp_path, "other.png", "navy"))
    view, _, _ = run_panel.new_input(emptied, other)  # then another picture
    assert isinstance(view, View) and view.details.startswith("A new picture is in the form.")
    assert "coffee.png ×2" in view.details and "Restored" not in "\n".join(view.lines)
    again, _, _ = run_panel.new_input(note, other)  # straight from the note to another picture, too
    assert isinstance(again, View) and again.details.startswith("A new picture is in the form.")


def test_a_note_not_yet_tied_to_its_picture_waits_for_it(tmp_path: Path) -> None:
    """Restore's own picture may be loaded before its note is tied to it: that picture keeps the note."""
    restored_file = _photo(tmp_path, "mytest.png", "olive")
    note = run_panel.put_aside(None, "Restored mytest.jpg ×2 into the form: press Upscale to run it again.")
    kept, _, _ = run_panel.new_input(note, images.load_file(restored_file))
    assert not isinstance(kept, View)
    assert run_panel.pinned(note, restored_file, "").picture == images.load_file(restored_file).digest


def test_a_new_picture_after_a_refusal_claims_no_last_run(tmp_path: Path) -> None:
    # A value refused before anything ran: no run was made, so none is "in the History tab".
    refused = View(stage="failed", lines=["Error: seed: not a number"], error="seed: not a number")
    view, _, _ = run_panel.new_input(refused, images.load_file(_photo(tmp_path, "new.png", "navy")))
    assert view.details == "A new picture is in the form."
