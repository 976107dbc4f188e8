"""A region first, then the whole picture (issue 28): the region as a request field of every door, its one rule in
the boxes' words, the crop after the colour conversion, what a region run records (history, PNG info, file name,
result JSON, code), region sweeps labelled and priced at the region, the whole-picture run linked both ways, and
what the page shows (the price line, a new picture, the form after *Run the whole picture*, Compare)."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import pytest
from gradio_client import handle_file
from PIL import Image

from components.history import compare
from components.sweep import sweep_preflight, sweep_views
from components.upscale import image_input, region_panel, whole_picture
from components.upscale.action import download_name
from core import money, pnginfo, schema
from core.errors import InputError
from core.inputs.region import PARAMS, Region, from_corners, price_line
from core.runs import store
from core.runs.runs import Run
from core.sharing.visitor import Visitor
from core.usecases import RetryRequest, RunRequest, SweepRequest, control
from core.usecases.run import run_one
from core.usecases.whole import whole_of
from tests.followers import retried, swept
from tests.reliability import noise_png

REGION = Region(40, 30, 96, 64)


@pytest.fixture
def photo(tmp_path: Path) -> str:
    return noise_png(tmp_path / "street.png", (240, 160), seed=28)


def boxes(region: Region | None = None, **changed: object) -> dict[str, object]:
    """The four boxes by API name (``region_x``…), ``REGION``'s unless changed."""
    return {**(region or REGION).values(), **changed}


async def _run(request: RunRequest, visitor: Visitor | None = None) -> Run:
    run = None
    async for update in run_one(request, visitor or Visitor()):
        run = update.run
    assert run is not None
    return run


def run(values: dict[str, object], visitor: Visitor | None = None) -> Run:
    return asyncio.run(_run(RunRequest.checked(values), visitor))


# The rule: one place, the boxes' words.

@pytest.mark.parametrize(("changed", "words", "field"), [
    ({"region_x": -5}, "Region x must be 0 or more, got -5.", "region_x"),
    ({"region_y": -0.5}, "Region y must be 0 or more, got -0.5.", "region_y"),
    ({"region_x": 1.5}, "Region x must be a whole number of pixels, got 1.5.", "region_x"),
    ({"region_width": 30}, "Region width must be at least 64 pixels (the app's floor), got 30.", "region_width"),
    ({"region_height": "tall"}, "Region height must be a whole number of pixels, got 'tall'.", "region_height"),
    ({"region_x": True}, "Region x must be a whole number of pixels, got True.", "region_x"),
])
def test_each_box_is_refused_by_its_own_bound_in_box_words(changed, words, field) -> None:
    with pytest.raises(InputError) as refused:
        Region.checked(boxes(**changed))
    assert str(refused.value) == words and refused.value.field == field
    assert "region_x" not in str(refused.value)  # the page's words, never the API's name
    with pytest.raises(InputError) as from_page:  # the page's switch on: the very same rule and words
        region_panel.region_of(True, *boxes(**changed).values())
    assert str(from_page.value) == words


def test_empty_boxes_are_no_region_and_some_empty_are_named_in_plain_grammar() -> None:
    assert Region.checked({}) is None and Region.checked(dict.fromkeys(PARAMS, "")) is None
    assert Region.checked(dict.fromkeys(PARAMS)) is None
    with pytest.raises(InputError, match=r"^Give all four region boxes or none: x and width are empty\.$"):
        Region.checked(boxes(region_x="", region_width=None))
    with pytest.raises(InputError, match=r": height is empty\.$"):
        Region.checked(boxes(region_height=" "))
    assert Region.checked(boxes(region_x="40")) == REGION  # a box's text is a number
    assert region_panel.region_of(False, "", "", "", "") is None  # switch off: no region, whatever the boxes
    assert region_panel.region_of(False, -5, "x", None, 3) is None


def test_the_region_must_lie_inside_the_picture() -> None:
    with pytest.raises(InputError, match=r"^The region reaches outside the picture \(1024×768\): x \+ width is "
                                         r"1100\.$"):
        Region(1000, 0, 100, 100).inside(1024, 768)
    with pytest.raises(InputError, match=r"\(1024×768\): y is 800\.$"):
        Region(0, 800, 100, 100).inside(1024, 768)
    assert Region(924, 668, 100, 100).inside(1024, 768)
    assert from_corners((300, 200), (100, 50), 1024, 768) == Region(100, 50, 200, 150)
    assert from_corners((10, 10), (20, 20), 1024, 768) == Region(10, 10, 64, 64)  # widened to the floor


def test_the_api_refuses_a_bad_region_with_the_same_words_as_the_page(client, photo) -> None:
    for changed, words in (({"region_x": -5}, "Region x must be 0 or more"),
                           ({"region_width": None}, "width is empty"),
                           ({"region_x": 200}, "The region reaches outside the picture (240×160): x + width is 296")):
        with pytest.raises(Exception, match=words.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
            client.predict(handle_file(photo), None, engine="lanczos", api_name="/upscale", **boxes(**changed))


# A region run: what it runs on and what it records.

def test_upscale_runs_on_the_region_and_records_it(client, photo) -> None:
    png, result = client.predict(handle_file(photo), None, engine="lanczos", upscale_factor=2, api_name="/upscale",
                                 **boxes())
    assert (result["image"]["width"], result["image"]["height"]) == (192, 128)  # the region's 96×64, ×2
    assert result["region"] == REGION.values()
    assert result["image"]["file_name"] == "street_x2_lanczos_region-96x64+40+30.png" == Path(png).name  # one name
    with Image.open(photo) as source, Image.open(png) as output:
        expected = source.convert("RGB").crop(REGION.box).resize((192, 128), Image.Resampling.LANCZOS)
        assert np.array_equal(np.asarray(output.convert("RGB")), np.asarray(expected))  # the crop, upscaled
    stamped = pnginfo.read_png_metadata(png)
    assert stamped is not None and stamped["region"] == "40,30 96x64"
    assert "Region: 40,30 96x64" in pnginfo.parameters_text(stamped)
    page, _ = client.predict(api_name="/history")
    frame = pd.DataFrame(page["data"], columns=page["headers"])
    assert frame.iloc[0]["region"] == "40,30 96x64"
    # Old positional calls stay valid: the four come last, and without them the whole picture runs.
    _, whole = client.predict(handle_file(photo), None, engine="lanczos", upscale_factor=2, api_name="/upscale")
    assert (whole["image"]["width"], whole["image"]["height"]) == (480, 320) and whole["region"] is None


def test_the_crop_is_cut_after_the_colours_are_converted_to_srgb(tmp_path) -> None:
    from tests.icc_profiles import matrix_profile

    pixels = np.random.default_rng(3).integers(0, 256, (160, 240, 3), dtype=np.uint8)
    path = tmp_path / "p3.png"
    Image.fromarray(pixels).save(path, icc_profile=matrix_profile("Display P3"))
    done = run({"image": str(path), "engine": "lanczos", "upscale_factor": 1, **boxes()})
    assert done.status == "completed" and done.whole_path and done.input_path
    with Image.open(done.whole_path) as whole, Image.open(done.input_path) as crop:
        converted = np.asarray(whole.convert("RGB"))
        assert not np.array_equal(converted, pixels)  # the whole picture was converted…
        assert np.array_equal(np.asarray(crop.convert("RGB")), converted[30:94, 40:136])  # …and the crop cut from it


def test_copy_as_code_of_a_region_run_cuts_the_region_first(photo) -> None:
    from core import snippets

    done = run({"image": photo, "engine": "lanczos", **boxes()})
    code = snippets.subscribe_code(done.replay_arguments(), done.input_name, Region.parse(done.region))
    assert ".crop((40, 30, 136, 94))" in code and "96×64 pixels at x=40, y=30" in code
    assert "fal_client.upload_file(\"region.png\")" in code
    assert "crop(" not in snippets.subscribe_code(done.replay_arguments(), done.input_name)


# Sweeps: every cell on the region, said everywhere, priced at the region.

def test_a_region_sweep_runs_labels_and_prices_every_cell_at_the_region(client, photo) -> None:
    csv, sheet, summary = client.predict(handle_file(photo), None, engine="lanczos", x_axis="upscale_factor",
                                         x_values="1, 2", y_axis="", y_values="", api_name="/sweep", **boxes())
    cells = pd.read_csv(csv, encoding="utf-8-sig")
    assert all(label.endswith(" · region 96×64 at 40,30") for label in cells["label"])
    assert set(cells["region"]) == {"region 96×64 at 40,30"}
    assert [cell["label"] for cell in summary["cells"]] == list(cells["label"])
    pictures, shown = client.predict(summary["sweep_id"], api_name="/cells")
    assert all("region 96×64 at 40,30" in picture["caption"] for picture in pictures)
    assert {(cell["result"]["image"]["width"], cell["result"]["image"]["height"]) for cell in shown["cells"]} \
        == {(96, 64), (192, 128)}
    dry = client.predict(handle_file(photo), None, engine="fal", x_axis="creativity", x_values="0.3, 0.5",
                         y_axis="", y_values="", dry_run=True, api_name="/sweep", **boxes())[2]
    quote = client.predict(handle_file(photo), None, engine="fal", x_axis="creativity", x_values="0.3, 0.5",
                           api_name="/sweep_price", upscale_factor=2, **boxes())
    region_mp = 192 * 128 / 1e6
    assert quote["region"] == "region 96×64 at 40,30" and dry["region"] == quote["region"]
    assert quote["output_megapixels"] == pytest.approx(2 * region_mp, abs=1e-4)
    assert quote["price_usd"] == pytest.approx(2 * region_mp * schema.PRICE_PER_MEGAPIXEL, abs=1e-6)
    assert quote["price"] == money.cost(quote["price_usd"])
    assert all(label.endswith("region 96×64 at 40,30") for label in dry["labels"])


def test_a_past_region_sweep_retries_its_cells_on_the_region(photo) -> None:
    """Reopened from the history (a sweep of another day, or /retry by id), a region sweep is still a region
    sweep: its unfinished cell re-runs on the same part, and is labelled and recorded as a region run."""
    me = Visitor()
    request = SweepRequest({**schema.defaults(), "upscale_factor": 2}, photo, "lanczos", "upscale_factor", "1, 2",
                           region=REGION)
    sweep_id = swept(request, me)
    cells, _ = control.sweep_cells(sweep_id, me)
    lost = cells[1][1]
    assert lost is not None and lost.region == REGION.text
    lost.status = "failed"  # as an interrupted cell is left
    store.save(lost)
    asked = control.retry_request(sweep_id, me)
    assert isinstance(asked, RetryRequest) and asked.plan.region == REGION.text
    retried(asked, me)
    cells, summary = control.sweep_cells(sweep_id, me)
    again = cells[1][1]
    assert summary["counts"] == {"completed": 2} and again is not None and again.id != lost.id
    assert again.region == REGION.text and (again.width, again.height) == (192, 128)  # the region at ×2


def test_a_region_is_refused_on_an_image_axis(client, photo) -> None:
    with pytest.raises(Exception, match="A region is a part of one picture"):
        client.predict(handle_file(photo), None, engine="lanczos", x_axis="image", x_values="a.png, b.png",
                       y_axis="", y_values="", api_name="/sweep", **boxes())


# Then the whole picture, linked both ways.

def test_the_whole_picture_runs_with_the_region_runs_settings_and_both_link(photo) -> None:
    me = Visitor()
    region_run = run({"image": photo, "engine": "lanczos", "upscale_factor": 2, "seed": 9, **boxes()}, me)
    found = whole_of(region_run.id, me)
    assert found.request.region is None and found.request.linked_run == region_run.id
    assert found.parameters["upscale_factor"] == 2 and found.request.engine == "lanczos"
    assert found.line == f"whole 240×160 → 480×320, {money.cost(0.48 * 0.32 * schema.PRICE_PER_MEGAPIXEL)}"
    whole = asyncio.run(_run(found.request, me))
    assert (whole.width, whole.height) == (480, 320) and whole.region is None
    again = store.store().get(region_run.id)
    assert whole.linked_run == region_run.id and again is not None and again.linked_run == whole.id
    table = store.store().table(None)
    links = dict(zip(table["id"], table["linked run"], strict=True))
    assert links[whole.id] == region_run.id and links[region_run.id] == whole.id
    with pytest.raises(InputError, match="already of the whole picture"):
        whole_of(whole.id, me)


def test_the_whole_picture_from_the_form_keeps_the_pictures_own_name(tmp_path) -> None:
    """The page's form holds the region run's stored input under "<stem>.png"; the whole-picture run it makes is
    still of "harbour.jpg", so History and Compare name one picture, not two."""
    jpeg = tmp_path / "harbour.jpg"
    with Image.open(noise_png(tmp_path / "harbour-source.png", (240, 160), seed=3)) as source:
        source.convert("RGB").save(jpeg, quality=95)
    me = Visitor()
    region_run = run({"image": str(jpeg), "engine": "lanczos", "upscale_factor": 2, **boxes()}, me)
    found = whole_of(region_run.id, me)
    in_the_form = tmp_path / "form" / "harbour.png"  # as the form's image box serves it
    in_the_form.parent.mkdir()
    shutil.copy(found.request.image, in_the_form)
    whole = asyncio.run(_run(RunRequest({"upscale_factor": 2}, str(in_the_form), "lanczos",
                                        linked_run=region_run.id), me))
    assert region_run.input_name == "harbour.jpg" and whole.input_name == "harbour.jpg"
    assert whole.linked_run == region_run.id


def test_a_link_to_another_picture_is_not_made(photo, tmp_path) -> None:
    region_run = run({"image": photo, "engine": "lanczos", **boxes()})
    other = noise_png(tmp_path / "other.png", (240, 160), seed=5)
    unrelated = asyncio.run(_run(RunRequest({"upscale_factor": 2}, other, "lanczos", linked_run=region_run.id),
                                 Visitor()))
    assert unrelated.linked_run is None and store.store().get(region_run.id).linked_run is None


# What the page shows.

def _loaded(photo: str):
    from core.inputs import images

    return images.load_file(photo)


def test_a_picture_with_the_switch_off_is_priced_whole_without_a_warning(photo) -> None:
    loaded = _loaded(photo)
    for empty in ("", None):
        _, line = region_panel.shown(loaded, 2, False, empty, empty, empty, empty)
        assert line == price_line(None, 240, 160, 2) and "Warning" not in line
    _, line = region_panel.shown(loaded, 2, True, *REGION.values().values())
    assert line == (f"region 96×64 → 192×128, {money.cost(0.192 * 0.128 * schema.PRICE_PER_MEGAPIXEL)} · "
                    f"whole 240×160 → 480×320, {money.cost(0.48 * 0.32 * schema.PRICE_PER_MEGAPIXEL)}")
    _, refused = region_panel.shown(loaded, 2, True, -5, 30, 96, 64)
    assert refused == "Warning: Region x must be 0 or more, got -5."


def test_a_new_picture_clears_the_boxes_and_unticks_the_switch(photo) -> None:
    typed = region_panel.cleared(_loaded(photo), 2, None, True, "10", "20", "96", "64", "the last picture's")
    on, x, y, width, height, corner, picture, line, pending, _ = typed
    assert (on, x, y, width, height, corner, pending) == (False, "", "", "", "", None, None)
    assert picture is not None and "Warning" not in line


def test_a_new_picture_leaves_alone_the_boxes_that_were_empty_when_it_came(photo) -> None:
    # Under load the clearing of a new picture landed after the user had typed x (the line said "x is empty"):
    # boxes that were empty when the picture came are not written, so what is typed meanwhile is kept.
    on, *boxes, corner, picture, line, pending, _ = region_panel.cleared(_loaded(photo), 2, None, False, "", "", "",
                                                                         "", None)
    assert all(value == gr.skip() for value in (on, *boxes)), (on, boxes)
    assert picture is not None and "Warning" not in line


def test_a_switch_ticked_over_empty_boxes_as_a_new_picture_loads_stays_ticked(photo) -> None:
    # A user trial: "Run on the region" ticked within half a second of an upload was unticked by the upload's
    # clearing, while the region typed next stayed in the boxes (an Upscale would have run the whole picture).
    on, *boxes, corner, picture, line, pending, _ = region_panel.cleared(_loaded(photo), 2, None, True, "", "", "", "",
                                                                         "the last picture's")
    assert all(value == gr.skip() for value in (on, *boxes)), (on, boxes)
    assert corner is None and picture is not None
    assert "whole 240×160" in line and "Warning" not in line  # no region typed yet: the whole picture's price
    # a region of the last picture is still cleared, its switch with it
    on, *boxes, _, _, line, _, _ = region_panel.cleared(_loaded(photo), 2, None, True, "", "", "96", "",
                                                        "the last picture's")
    assert on is False and boxes[2] == "" and "Warning" not in line


def test_a_region_typed_while_a_new_picture_loads_is_kept_for_it(photo) -> None:
    # A user trial: with the box emptied and a new file chosen, a region typed in the next second was erased when
    # the picture arrived (8 times in 8): its clearing found the boxes the user had typed meanwhile.
    loaded = _loaded(photo)
    *_, digest = region_panel.cleared(None, 2, None, True, "1", "2", "3", "4", "an older picture's")
    assert digest is None  # the box emptied: the last picture's region goes with it
    typed = region_panel.cleared(loaded, 2, None, True, "10", "20", "96", "64", None)  # typed while it loaded
    assert all(value == gr.skip() for value in typed[:5]) and typed[-1] == loaded.digest  # kept
    assert "region 96×64" in typed[7]  # and the new picture drawn and priced with it
    again = region_panel.cleared(_loaded(photo), 2, None, True, "10", "20", "96", "64", loaded.digest)
    assert all(value == gr.skip() for value in again[:5])  # the same picture loaded again: nothing cleared
    digest = loaded.digest
    other = Path(photo).with_name("other.png")
    Image.new("RGB", (50, 40), "navy").save(other)
    on, x, *_ = region_panel.cleared(_loaded(str(other)), 2, None, True, "10", "20", "96", "64", digest)
    assert on is False and x == ""  # another picture: the last one's region goes


def test_run_the_whole_picture_fills_the_form_with_the_switch_off(photo) -> None:
    me = Visitor()
    region_run = run({"image": photo, "engine": "lanczos", "upscale_factor": 3, **boxes()}, me)
    params = {f.name: object() for f in schema.PARAMETER_FIELDS}
    shown = [object(), object()]  # the region run's Output PNG and Result JSON on the Upscale tab
    form = whole_picture.Form(params, object(), object(), object(), _panel(), object(),  # type: ignore[arg-type]
                              shown=shown)
    values = whole_picture.fill(form, region_run.id, me)
    assert values[list(params).index("upscale_factor")] == 3 and len(values) == len(form.outputs())
    rest = values[len(params):]
    image, url, engine, on, x, y, width, height, linked, view, png, result = rest
    assert png is None and result is None  # the region run's files go with its slider
    assert (url, engine, on, x, y, width, height, linked) == ("", "lanczos", False, "", "", "", "", region_run.id)
    with Image.open(image) as whole:
        assert whole.size == (240, 160)
    assert "whole 240×160 → 720×480" in view.details and "Press Upscale" in view.details


def _panel() -> region_panel.RegionPanel:
    return region_panel.RegionPanel(*(object() for _ in range(11)))  # type: ignore[arg-type]


def test_compare_marks_region_runs_and_lines_them_up_with_the_whole_run(photo) -> None:
    me = Visitor()
    region_run = run({"image": photo, "engine": "lanczos", "upscale_factor": 2, **boxes()}, me)
    whole = asyncio.run(_run(whole_of(region_run.id, me).request, me))
    assert "region 96×64 at 40,30" in compare.label(region_run) and "region" not in compare.label(whole)
    pair = compare._pair(whole.id, region_run.id, me)  # type: ignore[arg-type]
    with Image.open(pair.pictures[0]) as part, Image.open(whole.output_path) as full:
        assert part.size == (192, 128)
        assert np.array_equal(np.asarray(part), np.asarray(full.crop((80, 60, 272, 188))))
    captions = [caption for _, caption in compare.crops_at(pair)]
    assert captions[0].startswith("A · ") and "480×320" in captions[0] and "shown at the region 96×64" in captions[0]
    assert captions[1].startswith("B · ") and "192×128" in captions[1]  # B's own size
    differs = compare.differences(whole, region_run)
    row = differs[differs["parameter"] == "region"].iloc[0]
    assert (row["A"], row["B"]) == ("the whole picture", "region 96×64 at 40,30")


def test_the_sweep_tab_says_and_prices_the_region_it_sweeps(photo) -> None:
    loaded = _loaded(photo)
    picture, line = sweep_views.input_shown(loaded, photo, None, True, *REGION.values().values())
    assert "the **region 96×64 at 40,30** of **street\\.png** (240×160)" in line
    _, whole_line = sweep_views.input_shown(loaded, photo, None, False, *REGION.values().values())
    assert "region" not in whole_line
    names = {name: name for name in ("loaded", "engine", "x_axis", "x_values", "region_on", *PARAMS)}
    text, _ = sweep_preflight.preflight(names, {"loaded": loaded, "engine": "fal", "x_axis": "creativity",
                                                "x_values": "0.3, 0.5", "region_on": True, **boxes()})
    assert "**2 cells** · each on the **region 96×64 at 40,30**" in text
    price = 2 * 0.096 * 0.064 * 4 * schema.PRICE_PER_MEGAPIXEL  # upscale factor 2 by default
    assert money.cost(price) in text
    refused, _ = sweep_preflight.preflight(names, {"loaded": loaded, "engine": "fal", "x_axis": "creativity",
                                                   "x_values": "0.3", "region_on": True, **boxes(region_x=-1)})
    assert refused == "Warning: Region x must be 0 or more, got -1."


def test_download_name_and_result_of_a_region_run(photo) -> None:
    done = run({"image": photo, "engine": "lanczos", "upscale_factor": 2, **boxes()})
    assert download_name(done) == "street_x2_lanczos_region-96x64+40+30.png"
    with Image.open(io.BytesIO(Path(done.output_path or "").read_bytes())) as out:
        assert out.size == (192, 128)


def test_a_link_brings_a_region_for_the_picture_that_comes_next(photo) -> None:
    from core import deeplink

    link = deeplink.parse_query({"region_x": "40", "region_y": "30", "region_width": "96", "region_height": "64"})
    assert link.region == REGION and link.errors == []
    on, *values, corner, picture, line, pending, _ = region_panel.cleared(_loaded(photo), 2, link.region)
    assert on is True and values == ["40", "30", "96", "64"] and pending is None and line.startswith("region 96×64")
    refused = deeplink.parse_query({"region_x": "-5", "region_y": "30", "region_width": "96", "region_height": "64"})
    assert refused.region is None
    assert refused.errors == ["The region was not applied: Region x must be 0 or more, got -5."]


def test_history_names_the_region_and_offers_the_whole_picture_only_for_a_region_run(photo) -> None:
    from components.common.session import Session
    from components.history import history_panel

    me = Session()
    region_run = run({"image": photo, "engine": "lanczos", **boxes()}, me)
    whole = run({"image": photo, "engine": "lanczos"}, me)
    assert "region 96×64 at 40,30" in history_panel.caption(region_run)
    assert "region" not in history_panel.caption(whole)
    assert history_panel.whole_offered(region_run.id, me)["visible"] is True
    assert history_panel.whole_offered(whole.id, me)["visible"] is False


def test_the_mcp_tools_describe_the_region_parameters() -> None:
    from components.api import tool_docs
    from core.usecases.values import ENDPOINTS

    for name in ("upscale", "sweep", "sweep_price"):
        names = [param.name for param in ENDPOINTS[name]]
        region = names.index("region_x")
        assert names[region:region + 4] == list(PARAMS)  # after the older parameters, so old calls stay valid
        assert all(name in ("vary_seed", "z_axis", "z_values", "w_axis", "w_values")  # what came after the region
                   for name in names[region + 4:])
        text = tool_docs.docstring("", ENDPOINTS[name])
        assert "region_x: The region's left edge" in text and "default: null (the whole picture)" in text


def test_the_contact_sheet_draws_a_regions_size_in_signs_its_font_has() -> None:
    from core.sweep.contact_sheet import SheetCell, contact_sheet

    def sheet(label: str) -> np.ndarray:
        return np.asarray(contact_sheet([SheetCell(0, 0, label, None, "missing")], "upscale_factor", [2], thumb=96))

    assert np.array_equal(sheet("region 302×302 at 5,5"), sheet("region 302x302 at 5,5"))  # never a box


def test_a_retry_of_a_region_run_runs_the_same_region_and_records_it(photo) -> None:
    from core.usecases import control

    me = Visitor()
    region_run = run({"image": photo, "engine": "lanczos", "upscale_factor": 2, **boxes()}, me)
    asked = control.retry_request(region_run.id, me)
    assert isinstance(asked, RunRequest) and asked.region == REGION
    again = asyncio.run(_run(asked, me))
    assert again.region == region_run.region and (again.width, again.height) == (192, 128)


def test_the_line_under_the_picture_says_a_region_switched_on_but_unusable_would_be_refused(photo) -> None:
    # A user trial: with the switch on and a region past the picture's edge, the line priced the whole picture
    # as if a run would make it; Upscale refused it.
    loaded = _loaded(photo)
    line = image_input.describe(loaded, 2, None, True, 200, 10, 96, 64)
    assert line.startswith("The region is not usable, so Upscale would be refused") and "240×160" in line, line
    assert "A run is of the region" in image_input.describe(loaded, 2, None, True, 10, 10, 96, 64)
    assert image_input.describe(loaded, 2, None, False, 200, 10, 96, 64).startswith("Input 240×160")
    with pytest.raises(InputError):  # and the run is refused, as the line says
        region_panel.region_of(True, 200, 10, 96, 64).inside(loaded.width, loaded.height)
