"""The History tab's handlers: restore puts every field back exactly; copy-as-code reproduces the run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pandas as pd
from gradio_client import handle_file
from PIL import Image

from components.common.session import Session
from components.history import history_panel
from components.upscale import pnginfo_panel
from core import schema
from core.runs import store
from core.runs.runs import Run
from tests.test_presets_panel import run_snippet

ODD = {"prompt": 'a "quoted" 🎨 prompt,\nsecond line', "upscale_factor": 3.35, "negative_prompt": "",
       "creativity": 0.07, "resemblance": 1.0, "guidance_scale": 12.3, "num_inference_steps": 49,
       "seed": 4294967295, "enable_safety_checker": False}


def saved_run(tmp_path: Path, owner: str = "", **changes) -> Run:
    source = tmp_path / "input.png"
    Image.new("RGB", (10, 8), "purple").save(source)
    run = Run(engine="fal", arguments={**ODD, "image_url": "https://example.com/a.png", **changes},
              input_path=str(source), status="completed", seed=ODD["seed"], owner=owner)
    store.save(run)
    return run


def test_restore_puts_every_field_back_exactly(tmp_path: Path) -> None:
    run = saved_run(tmp_path)
    values = history_panel.restore(run.id, Session())
    restored = dict(zip([f.name for f in schema.PARAMETER_FIELDS], values, strict=False))
    assert restored == ODD
    assert values[len(ODD)] == run.input_path  # the input image goes back into the form too
    assert values[len(ODD) + 2] == "fal"  # and its engine
    assert values[len(ODD) + 5:len(ODD) + 7] == [None, None]  # the last run's Output PNG and JSON go


def test_another_visitors_run_cannot_be_restored(tmp_path: Path) -> None:
    run = saved_run(tmp_path, owner="alice")
    mallory = Session(owner="mallory", shared=True)
    *form, line = history_panel.restore(run.id, mallory)
    assert all(isinstance(value, type(gr.skip())) for value in form)  # nothing of alice's reaches the form
    assert "Select a run" in line  # said beside the button, not as a badge on every widget it would have filled


def test_copy_as_code_sends_exactly_the_runs_arguments(client, fal_server, fal_key, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    photo = tmp_path / "photo.png"
    Image.linear_gradient("L").resize((32, 24)).convert("RGB").save(photo)
    client.predict(handle_file(str(photo)), "", creativity=0.42, seed=99, num_inference_steps=7, engine="fal",
                   api_name="/upscale")
    sent_by_app = fal_server.submits()[-1].json
    frame = history_panel.history(session=Session())
    row = frame.iloc[0].tolist()
    _, _, _, code, _ = history_panel.select(Session(), SimpleNamespace(row_value=row))
    assert fal_key not in code
    run_snippet(code, tmp_path, fal_key)
    assert fal_server.submits()[-1].json == sent_by_app


def test_csv_export_has_one_row_per_run_and_every_schema_column(tmp_path: Path) -> None:
    for seed in (1, 2, 3):
        saved_run(tmp_path, seed=seed)
    path = history_panel.export_csv("", history_panel.ANY, history_panel.ANY, Session())
    frame = pd.read_csv(path)
    assert len(frame) == 3
    assert {f.name for f in schema.FIELDS} <= set(frame.columns)


def test_a_png_made_by_the_app_gives_its_parameters_back(client, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.radial_gradient("L").resize((20, 16)).convert("RGB").save(photo)
    png, _ = client.predict(handle_file(str(photo)), "", creativity=0.8, seed=31, upscale_factor=1.5,
                            engine="local", api_name="/upscale")
    notice, button, found = pnginfo_panel.inspect(png)
    assert "Clarity Studio" in notice and button.visible
    values = dict(zip([f.name for f in schema.PARAMETER_FIELDS], pnginfo_panel.apply(found), strict=True))
    assert values["creativity"] == 0.8 and values["upscale_factor"] == 1.5
    assert values["seed"] is None  # the local engine uses none: the 31 asked for made nothing, and is not carried
    assert pnginfo_panel.inspect(str(photo))[2] is None  # a plain PNG carries nothing


def test_a_sweep_cells_thumbnail_names_its_swept_values() -> None:
    # Every cell of a sweep read "second.jpg ×2 · seed 3390285127 · fal": what tells them apart comes first.
    cells = [Run(engine="fal", arguments={"upscale_factor": 2}, input_name="second.jpg", seed=3390285127,
                 status="completed", sweep_id="s1", cell=f"creativity={value}") for value in (0.2, 0.5)]
    captions = [history_panel.caption(run) for run in cells]
    assert captions == ["creativity=0.2 · second.jpg ×2 · seed 3390285127 · fal",
                        "creativity=0.5 · second.jpg ×2 · seed 3390285127 · fal"]


def test_the_line_beside_the_buttons_goes_when_the_table_or_the_selection_changes(tmp_path: Path) -> None:
    """A refusal ("Select a run … first") stayed after the Status filter moved to the bin, where it meant nothing;
    the line now describes the table and selection on show. Read again unchanged, the table keeps a line still
    true."""
    run = saved_run(tmp_path)
    skip = type(gr.skip())
    any_ = history_panel.ANY
    *view, line = history_panel.refreshed("", any_, any_, Session(), "")
    key = view[history_panel.KEY_AT]
    assert line == ""  # a table never shown before
    assert isinstance(history_panel.refreshed("", any_, any_, Session(), key)[-1], skip)  # the same table
    assert history_panel.refreshed("", history_panel.BIN, any_, Session(), key)[-1] == ""  # the bin
    assert history_panel.refreshed("input", any_, any_, Session(), key)[-1] == ""  # a search
    saved_run(tmp_path, seed=5)  # a new run: the same filters, another table
    assert history_panel.refreshed("", any_, any_, Session(), key)[-1] == ""
    assert history_panel.select_row(Session(), SimpleNamespace(row_value=[run.id]))[-1] == ""  # type: ignore[arg-type]


def test_the_tables_exports_go_with_the_table_they_were_of(tmp_path: Path) -> None:
    saved_run(tmp_path)
    *_, key, csv, zipped, line = history_panel.history_view("", history_panel.ANY, history_panel.ANY, Session())
    assert csv is None and zipped.visible is False and line == ""  # another table: its exports emptied
    *_, csv, zipped, line = history_panel.history_view("", history_panel.ANY, history_panel.ANY, Session(), key)
    assert all(isinstance(value, type(gr.skip())) for value in (csv, zipped, line))  # the same table: kept


def test_the_run_json_says_times_to_the_millisecond() -> None:
    # A user trial: the Run JSON read "queued_seconds": 0.020734786987304688.
    run = Run(engine="local", arguments={"upscale_factor": 2}, status="completed", created_at=1000.0,
              queued_seconds=0.020734786987304688, started_at=1000.0207347869873, finished_at=1003.4567891234,
              running_seconds=2.98765432109, timings={"inference": 2.123456789})
    store.save(run)
    details = history_panel.select(Session(), SimpleNamespace(row_value=[run.id]))[2]
    assert details["queued_seconds"] == 0.021 and details["running_seconds"] == 2.988
    assert details["timings"] == {"inference": 2.123}
    assert all(len(repr(value)) <= 8 for name, value in details.items() if name.endswith("_seconds") and value)


def test_a_selection_the_table_no_longer_holds_is_dropped_and_undo_follows_the_bin(tmp_path: Path) -> None:
    """A run selected, then searched out of the table, stayed selected (Delete acted on it); after Put back of the
    last deletion, Undo still read "Undo delete (1 run)" and then said "Nothing to undo"."""
    kept, other = saved_run(tmp_path), saved_run(tmp_path, seed=5)
    any_ = history_panel.ANY
    *_, selected, _, details, _, _, deleted, undo = history_panel.shown_again("", any_, any_, Session(), "", kept.id)
    assert isinstance(selected, type(gr.skip()))  # still in the table: still selected
    *_, selected, _, details, _, _, deleted, undo = history_panel.shown_again(other.id, any_, any_, Session(), "",
                                                                              kept.id)
    assert selected is None and details == {}  # searched out of the table: nothing selected, no details
    assert history_panel.delete(selected, other.id, any_, any_, Session())[5].startswith("Select a run")

    gone = history_panel.delete(kept.id, "", any_, any_, Session())
    assert gone[6] == [kept.id] and gone[7]["value"] == "Undo delete (1 run)"
    back = history_panel.put_back(kept.id, "", history_panel.BIN, any_, Session(), None, [kept.id])
    assert back[0] is None and back[5] == "Put back 1 run."  # it left the bin's table, and the selection
    assert back[6] == [] and back[7] == {"__type__": "update", "interactive": False, "value": "Undo delete"}


def test_a_yes_to_emptying_a_bin_that_changed_since_deletes_nothing(tmp_path: Path) -> None:
    """The question beside Empty the bin names how many runs go: a yes given after the bin changed (a run deleted
    in another tab) would destroy one the visitor never agreed to, so it deletes nothing and says why."""
    first, second = saved_run(tmp_path), saved_run(tmp_path)
    store.store().delete(first.id, None)
    asked = history_panel.ask_empty(Session())
    assert asked[1].startswith("**Delete 1 run and its files for good?**") and asked[3] == [first.id]
    store.store().delete(second.id, None)  # meanwhile
    answer = history_panel.empty_agreed(asked[3], "", history_panel.BIN, history_panel.ANY, Session())
    assert answer[0].startswith("The bin changed since you asked: nothing was deleted.")
    assert len(store.store().table(None, binned=True)) == 2
    emptied = history_panel.empty_agreed([second.id, first.id], "", history_panel.BIN, history_panel.ANY, Session())
    assert emptied[0].startswith("Emptied the bin: 2 runs deleted for good")
    assert store.store().table(None, binned=True).empty


def test_emptying_a_filtered_bin_says_how_many_of_its_runs_are_not_shown(tmp_path: Path) -> None:
    # A user trial: the bin filtered to lanczos showed 1 run; "Delete 2 runs and their files for good?" did not
    # say the other was hidden by the filter, in the one step that cannot be undone.
    shown, hidden = saved_run(tmp_path), saved_run(tmp_path)
    hidden_run = store.store().get(hidden.id)
    assert hidden_run is not None
    store.save(replace(hidden_run, engine="lanczos"))
    for run in (shown, hidden):
        store.store().delete(run.id, None)
    asked = history_panel.ask_empty(Session(), "", "fal")
    assert asked[1].startswith("**Delete 2 runs (1 of them not shown by your search or filter) and their files")
    assert "not shown" not in history_panel.ask_empty(Session(), "", history_panel.ANY)[1]


def test_a_local_sweep_cell_carries_no_seed_in_its_json_its_code_or_a_restore(tmp_path: Path) -> None:
    """A user trial: a local (and a lanczos) sweep cell's Run JSON and Copy as code carried the sweep's random seed
    ("seed": 1406060838), which those engines never used: pasted to run on fal, it pins a seed nobody chose. An
    engine axis still gives the fal cells the sweep's seed."""
    import asyncio

    from core import schema
    from core.usecases import SweepRequest, run_sweep

    photo = tmp_path / "photo.png"
    Image.new("RGB", (24, 16), "teal").save(photo)

    async def sweep() -> None:
        request = SweepRequest({**schema.defaults(), "upscale_factor": 1}, str(photo), "local",
                               "engine", "local:fast, lanczos")
        async for _ in run_sweep(request, Session()):
            pass

    asyncio.run(sweep())
    cells = store.store().frame(None)["id"].tolist()
    assert len(cells) == 2
    for run_id in cells:
        run = store.store().get(run_id)
        assert run is not None and run.status == "completed"
        details = history_panel.select(Session(), SimpleNamespace(row_value=[run_id]))[2]
        assert details["seed"] is None and "seed" not in details["arguments"], details["arguments"]
        assert "seed" not in run.replay_arguments()
        code = history_panel.select(Session(), SimpleNamespace(row_value=[run_id]))[3]
        assert '"seed"' not in code and "'seed'" not in code, code
        names = [f.name for f in schema.PARAMETER_FIELDS]
        assert history_panel.restore(run_id, Session())[names.index("seed")] is None  # the form's seed: empty
    old = Run(engine="local", arguments={"upscale_factor": 2, "seed": 1406060838}, status="completed", seed=7)
    assert "seed" not in old.replay_arguments()  # a row an older version wrote
