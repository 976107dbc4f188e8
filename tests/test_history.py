"""The run history: survives restarts, never loses or duplicates a row, filters per owner, recovers from damage."""

from __future__ import annotations

import csv
import os
import sqlite3
import threading
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest

from core import schema
from core.inputs import images
from core.runs.history import BIN_DAYS, COLUMNS, TABLE_COLUMNS, History, export_csv
from core.runs.runs import Run
from core.sweep.sweep_store import SweepStore
from tests.conftest import upgraded_elsewhere_meanwhile


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("CLARITY_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def history(data_dir: Path) -> History:
    store = History.open_default()
    yield store
    store.close()


def make_run(owner: str = "", created_at: float | None = None, engine: str = "fal", sweep_id: str | None = None,
             **arguments: object) -> Run:
    values = {k: v for k, v in {**schema.defaults(), **arguments}.items() if v is not None}  # as validate() does
    run = Run(engine=engine, arguments=values, owner=owner, sweep_id=sweep_id)
    if created_at is not None:
        run.created_at = created_at
    return run


def finish(run: Run, seed: int = 1234) -> Run:
    run.status, run.seed, run.request_id = "completed", seed, f"req-{run.id}"
    run.started_at, run.finished_at = run.created_at + 1.0, run.created_at + 3.5
    run.width, run.height, run.timings = 1024, 768, {"inference": 2.25}
    return run


def test_a_run_survives_reopening_with_every_field(data_dir: Path) -> None:
    run = finish(make_run("alice", prompt="a red fox, watercolour", upscale_factor=3.5, creativity=0.8,
                          resemblance=0.1, guidance_scale=12.5, num_inference_steps=40, seed=7,
                          enable_safety_checker=False, image_url="https://example.com/fox.png"))
    run.model, run.sweep_id, run.cell, run.error_field = "realesrgan-x4plus", "sw1", "x=0.8", None
    with closing(History.open_default()) as first:
        first.save(run)
    with closing(History.open_default()) as again:
        loaded = again.get(run.id)
    assert loaded == run  # every attribute, arguments and timings included
    assert loaded.arguments["seed"] == 7 and loaded.seed == 1234  # asked for vs actually used


def test_saving_again_updates_the_row_instead_of_adding_one(history: History) -> None:
    run = make_run()
    history.save(run)
    run.status = "running"
    history.save(run)
    history.save(finish(run))
    assert history.count() == 1
    assert history.get(run.id).status == "completed"
    assert history.table(None)["status"].tolist() == ["completed"]


def test_concurrent_saves_from_many_threads_keep_every_row(history: History) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(50):
                run = make_run(f"owner{n}", prompt=f"thread {n} run {i}", num_inference_steps=4 + i % 40)
                history.save(run)
                run.status = "running"
                history.save(run)
        except BaseException as exc:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    frame = history.frame(None)
    assert len(frame) == 400 and frame["id"].is_unique
    assert set(frame["status"]) == {"running"}
    for row in frame.itertuples():
        n, i = (int(part) for part in row.prompt.removeprefix("thread ").split(" run "))
        assert row.owner == f"owner{n}" and row.num_inference_steps == 4 + i % 40


def test_table_is_newest_first_with_readable_columns(history: History) -> None:
    now = time.time()
    old, new = finish(make_run(created_at=now - 100)), make_run(created_at=now)
    history.save(old)
    history.save(new)
    table = history.table(None)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert table["id"].tolist() == [new.id, old.id]
    finished = table.iloc[1]
    assert finished["size"] == "1024×768" and finished["duration (s)"] == 2.5 and finished["seed"] == 1234
    when = datetime.fromisoformat(finished["time"])  # ISO 8601 with its zone: the instant is unambiguous
    assert when.tzinfo is not None and int(when.timestamp()) == int(old.created_at)
    assert table.iloc[0]["size"] == "" and table.iloc[0]["status"] == "queued"
    assert len(history.table(None, limit=1)) == 1


def test_search_and_filters(history: History) -> None:
    fox = finish(make_run(prompt="a red fox"))
    cat = make_run(prompt="a cat", negative_prompt="no foxes please", engine="local")
    percent = make_run(prompt="100% detail")
    for run in (fox, cat, percent):
        history.save(run)
    assert set(history.table(None, search="FOX")["id"]) == {fox.id, cat.id}  # prompt and negative prompt
    assert history.table(None, search=fox.request_id)["id"].tolist() == [fox.id]
    assert history.table(None, search=cat.id[:10])["id"].tolist() == [cat.id]
    assert history.table(None, search="0%")["id"].tolist() == [percent.id]  # % is literal, not a wildcard
    assert history.table(None, search="1_0").empty
    assert history.table(None, status="completed")["id"].tolist() == [fox.id]
    assert history.table(None, engine="local")["id"].tolist() == [cat.id]
    assert history.table(None, search="fox", engine="fal")["id"].tolist() == [fox.id]


def test_a_sweep_is_found_by_its_id_and_a_cell_by_its_label(history: History) -> None:
    # A user trial: the sweep id the Sweep tab shows found nothing in History's search.
    cells = [make_run(sweep_id="4612eb51e932") for _ in range(2)]
    for run, value in zip(cells, (0.3, 0.5), strict=True):
        run.cell = f"creativity={value}"
    for run in (*cells, make_run()):
        history.save(run)
    assert set(history.table(None, search="4612eb51e932")["id"]) == {run.id for run in cells}
    assert history.table(None, search="creativity=0.5")["id"].tolist() == [cells[1].id]


def test_owners_see_only_their_own_runs(history: History) -> None:
    alice, bob = make_run("alice", sweep_id="s1"), make_run("bob", sweep_id="s2")
    history.save(alice)
    history.save(bob)
    assert history.table("alice")["id"].tolist() == [alice.id]
    assert history.get(bob.id, "alice") is None and history.get(bob.id, "bob") == bob
    assert history.delete(bob.id, "alice") is False and history.get(bob.id) is not None
    assert [s.sweep_id for s in SweepStore(history).summaries("alice")] == ["s1"]
    assert history.runs_for_sweep("s2", "alice") == []
    assert len(history.table(None)) == 2  # the single-user local app sees everything
    stolen = make_run("alice")
    stolen.id = bob.id
    with pytest.raises(ValueError):
        history.save(stolen)
    assert history.get(bob.id).owner == "bob"


def test_delete_removes_output_but_keeps_a_shared_input(history: History, data_dir: Path) -> None:
    shared_input = data_dir / "inputs" / "in.png"
    shared_input.parent.mkdir(parents=True)
    shared_input.write_bytes(b"input")
    runs = [make_run() for _ in range(2)]
    for run in runs:
        run.input_path = str(shared_input)
        run.output_path = str(data_dir / "outputs" / f"{run.id}.png")
        Path(run.output_path).parent.mkdir(exist_ok=True)
        Path(run.output_path).write_bytes(b"output")
        history.save(run)
    assert history.delete(runs[0].id, None) is True and history.purge(None) == 1
    assert not Path(runs[0].output_path).exists() and shared_input.exists()
    assert history.get(runs[0].id) is None and history.count() == 1
    assert history.delete(runs[1].id, "") is True and history.purge("") == 1
    assert not Path(runs[1].output_path).exists() and not shared_input.exists()
    assert history.delete(runs[1].id, "") is False


def test_delete_removes_the_before_picture_made_for_the_slider(history: History, data_dir: Path) -> None:
    run = make_run()
    run.output_path = str(data_dir / "outputs" / f"{run.id}.png")
    before = images.before_path(run.id, data_dir)
    before.parent.mkdir(parents=True, exist_ok=True)
    Path(run.output_path).write_bytes(b"output")
    before.write_bytes(b"the input, resized")  # a copy of the visitor's picture: it must go with the run
    history.save(run)
    assert history.delete(run.id, None) is True and history.purge(None) == 1
    assert not before.exists()


def test_delete_never_touches_files_outside_the_data_dir(history: History, tmp_path: Path) -> None:
    outside = tmp_path / "precious.png"
    outside.write_bytes(b"keep me")
    run = make_run()
    run.output_path = str(outside)
    history.save(run)
    assert history.delete(run.id, None) is True and history.purge(None) == 1
    assert outside.read_bytes() == b"keep me"


def test_delete_moves_runs_to_a_bin_that_undo_empties_and_seven_days_purge(history: History, data_dir: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def made(owner: str = "", sweep_id: str | None = None) -> Run:
        run = make_run(owner, sweep_id=sweep_id)
        run.output_path = str(data_dir / "outputs" / f"{run.id}.png")
        Path(run.output_path).parent.mkdir(exist_ok=True)
        Path(run.output_path).write_bytes(b"paid for")
        history.save(run)
        return run

    kept, binned = made("alice"), made("alice")
    cells = [made("alice", sweep_id="s1") for _ in range(3)]
    assert history.delete(binned.id, "alice") is True
    assert history.get(binned.id, "alice") is None and Path(binned.output_path).exists()  # gone from view only
    assert history.table("alice")["id"].tolist() == [c.id for c in reversed(cells)] + [kept.id]
    assert history.table("alice", binned=True)["id"].tolist() == [binned.id]
    assert history.count("alice", binned=True) == 1
    assert history.get(binned.id, "alice", binned=True) is not None
    binned.status = "completed"
    history.save(binned)  # a save (a resume, a late update) never takes a run out of the bin
    assert history.get(binned.id, "alice") is None

    assert sorted(history.delete_sweep("s1", "alice")) == sorted(c.id for c in cells)
    assert history.runs_for_sweep("s1", "alice") == [] and SweepStore(history).summaries("alice") == []
    # Scoped: another owner can neither bin, put back nor empty what is not theirs.
    assert history.delete(kept.id, "bob") is False and history.delete_sweep("s1", "bob") == []
    assert history.undelete([binned.id], "bob") == 0 and history.purge("bob") == 0
    assert history.undelete([c.id for c in cells], "alice") == 3
    assert len(history.runs_for_sweep("s1", "alice")) == 3 and Path(cells[0].output_path).exists()

    moment = time.time()
    monkeypatch.setattr(time, "time", lambda: moment + 6 * 86400)
    assert history.purge(None, older_than=BIN_DAYS * 86400) == 0  # six days in the bin: still there
    monkeypatch.setattr(time, "time", lambda: moment + 8 * 86400)
    assert history.purge(None, older_than=BIN_DAYS * 86400) == 1  # eight: purged, with its file
    assert not Path(binned.output_path).exists() and history.get(binned.id, "alice", binned=True) is None
    assert Path(kept.output_path).exists()


def test_an_old_history_file_gains_the_bin_column_in_place(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, created_at REAL, owner TEXT, engine TEXT, model TEXT, "
                     "status TEXT)")
        conn.execute("INSERT INTO runs VALUES ('old', 1.0, '', 'local', NULL, 'completed')")
    history = History(path)
    assert history.delete("old", None) is True and history.undelete(["old"], None) == 1
    assert history.get("old") is not None


def test_pending_runs_and_marking_local_ones_interrupted(history: History) -> None:
    queued_fal, running_local, done = make_run(), make_run(engine="local"), finish(make_run())
    running_local.status = "running"
    for run in (queued_fal, running_local, done):
        history.save(run)
    assert {r.id for r in history.pending()} == {queued_fal.id, running_local.id}
    assert [r.id for r in history.pending("fal")] == [queued_fal.id]
    assert history.mark_interrupted("local") == 1
    interrupted = history.get(running_local.id)
    assert interrupted.status == "interrupted" and interrupted.error and interrupted.finished_at
    assert [r.id for r in history.pending()] == [queued_fal.id]


def test_sweeps_are_listed_with_their_counts(history: History) -> None:
    cells = [make_run(sweep_id="sweep-a", created_at=100.0 + i) for i in range(3)]
    finish(cells[0])
    cells[1].status = "failed"
    for run in cells:
        history.save(run)
    history.save(make_run(sweep_id="sweep-b", created_at=200.0))
    assert [r.id for r in history.runs_for_sweep("sweep-a", None)] == [r.id for r in cells]
    summaries = SweepStore(history).summaries(None)
    assert [s.sweep_id for s in summaries] == ["sweep-b", "sweep-a"]
    assert (summaries[1].total, summaries[1].completed, summaries[1].failed, summaries[1].active) == (3, 1, 1, 1)


def test_data_uris_are_not_stored_in_the_history(history: History) -> None:
    run = make_run(image_url="data:image/png;base64," + "A" * 100_000)
    history.save(run)
    assert "image_url" not in history.get(run.id).arguments
    assert len(history.frame(None)["image_url"][0]) < 100


def test_csv_export_has_one_row_per_run_and_every_column(history: History, tmp_path: Path) -> None:
    runs = [finish(make_run(prompt="a, \"quoted\"\nprompt")), make_run()]
    runs[1].arguments["fal_key"] = "secret-key-123"  # even if something slipped a key in, it is not stored
    for run in runs:
        history.save(run)
    path = export_csv(history.frame(None), tmp_path / "out" / "history.csv")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and list(rows[0]) == [c for c in COLUMNS if c != "owner"]
    assert {f.name for f in schema.PARAMETER_FIELDS} - {"seed"} <= set(rows[0]) and "requested_seed" in rows[0]
    by_id = {row["id"]: row for row in rows}
    assert by_id[runs[0].id]["prompt"] == "a, \"quoted\"\nprompt" and by_id[runs[0].id]["seed"] == "1234"
    assert "secret-key-123" not in path.read_text(encoding="utf-8")


def test_two_processes_upgrading_one_history_at_once_keep_it(data_dir: Path) -> None:
    # Seen in CI: the app upgraded the file while a reader opened it; both added the bin's column, the second
    # failed ("duplicate column name: deleted_at") and moved the user's whole history aside as damaged.
    with closing(History.open_default()) as first:
        first.save(make_run())
    path = data_dir / "history.sqlite3"
    with closing(sqlite3.connect(path)) as conn:  # the file as the version before the bin left it
        conn.execute("ALTER TABLE runs DROP COLUMN deleted_at")
        conn.commit()
    other = upgraded_elsewhere_meanwhile(path, "ALTER TABLE runs ADD COLUMN deleted_at REAL")
    with closing(History.open_default()) as second:
        other.join()
        assert second.notice is None
        assert len(second.frame(None)) == 1
    assert not [p for p in data_dir.iterdir() if ".corrupt-" in p.name]


def test_corrupt_file_is_moved_aside_and_a_fresh_store_opens(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    garbage = os.urandom(1000) + b"not a database" * 100
    (data_dir / "history.sqlite3").write_bytes(garbage)
    (data_dir / "history.sqlite3-wal").write_bytes(b"wal bytes")
    with closing(History.open_default()) as store:
        assert store.notice and "new, empty history" in store.notice
        moved = [p for p in data_dir.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
        assert len(moved) == 1 and moved[0].read_bytes() == garbage and moved[0].name in store.notice
        assert Path(f"{moved[0]}-wal").read_bytes() == b"wal bytes"
        run = make_run()
        store.save(run)
    with closing(History.open_default()) as reopened:
        assert reopened.notice is None and reopened.get(run.id) == run


def test_truncated_database_is_detected(data_dir: Path) -> None:
    path = data_dir / "history.sqlite3"
    with closing(History(path)) as store:
        for i in range(300):
            store.save(make_run(prompt=f"run {i} " + "x" * 500))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with closing(History(path)) as store:
        assert store.notice is not None and store.count() == 0
        store.save(make_run())
        assert store.count() == 1


def test_a_directory_in_the_way_is_moved_aside(data_dir: Path) -> None:
    (data_dir / "history.sqlite3").mkdir(parents=True)
    with closing(History.open_default()) as store:
        assert store.notice is not None
        store.save(make_run())
        assert store.count() == 1
    assert any(p.is_dir() and ".corrupt-" in p.name for p in data_dir.iterdir())


def test_an_unusable_location_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"a file where the data folder should be")
    with closing(History(blocker / "history.sqlite3")) as store:
        assert store.notice and "memory" in store.notice
        run = make_run()
        store.save(run)
        assert store.get(run.id) == run
    assert blocker.read_bytes() == b"a file where the data folder should be"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_moved_aside(data_dir: Path) -> None:
    path = data_dir / "history.sqlite3"
    with closing(History(path)) as store:
        store.save(make_run())
    path.chmod(0)
    with closing(History(path)) as store:
        assert store.notice is not None and store.count() == 0


def test_schema_version_is_recorded(history: History) -> None:
    with sqlite3.connect(history.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
