"""When the machine runs out (issue 27 §1): a full disk (a real small tmpfs, and injected ENOSPC/EDQUOT/EFBIG/EROFS),
a busy or damaged history database (a second connection holding ``BEGIN EXCLUSIVE``, and injected
``sqlite3.OperationalError``s) at each write site. The run ends in words saying what ran out, never ``running``
when it is not, no half-written file is left, a paid result fal finished is kept and saved again on its own, and
new paid work is refused until it is."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sqlite3
import subprocess
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core import config, storage
from core.errors import StudioError
from core.runs import store, thumbs, unsaved
from core.runs.runs import Run
from core.storage import StorageError
from core.usecases import RunRequest, SweepRequest, Visitor, run_one, run_sweep
from tests.reliability import noise_png, wait_for

pytestmark = pytest.mark.reliability("resource")

ERRNOS = {"disk full": errno.ENOSPC, "quota": errno.EDQUOT, "file too large": errno.EFBIG,
          "read-only": errno.EROFS}
WORDS = {errno.ENOSPC: "disk is full", errno.EDQUOT: "quota is used up", errno.EFBIG: "larger than the server allows",
         errno.EROFS: "read-only"}
SQLITE = {"locked": ("database is locked", "history database is busy"),
          "full": ("database or disk is full", "disk is full"),
          "not a database": ("file is not a database", "damaged")}


@pytest.fixture(autouse=True)
def _nothing_waiting() -> Iterator[None]:
    unsaved.forget_all()
    yield
    unsaved.forget_all()


@pytest.fixture
def photo(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Noise, unique to the test (the fal engine uploads a content once per process): a large output PNG.
    return noise_png(tmp_path / "photo.png", (96, 96), seed=zlib.crc32(request.node.nodeid.encode()))


def drain(updates: Any) -> list[Any]:
    async def go() -> list[Any]:
        return [update async for update in updates]

    return asyncio.run(go())


def fal_run(photo: str, key: str, **parameters: Any) -> list[Any]:
    request = RunRequest({"upscale_factor": 4, **parameters}, photo, "fal")
    return drain(run_one(request, Visitor(typed_key=key)))


def rows(data_dir: Path) -> list[dict[str, Any]]:
    """The history as another process sees it."""
    with contextlib.closing(sqlite3.connect(data_dir / "history.sqlite3")) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM runs ORDER BY created_at")]


def leftovers(data_dir: Path) -> list[str]:
    """Half-written files anywhere in the data directory."""
    return [str(p) for p in data_dir.rglob("*") if p.suffix in (".part", ".tmp") or ".part" in p.name]


def failure(updates: list[Any]) -> str:
    return next(e.message for u in updates for e in u.events if type(e).__name__ == "Failure")


# -- a real small filesystem ---------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 4 MB tmpfs as the data directory (mounted as root, as the sessions and CI here run)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({done.stderr.strip()}); the injected cases cover it")
    data_dir = mount / "data"
    monkeypatch.setenv("CLARITY_DATA_DIR", str(data_dir))
    try:
        yield data_dir
    finally:
        with contextlib.suppress(Exception):
            store.store().close()
        store._stores.clear()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(data_dir: Path, leave: int) -> Path:
    """Fill the disk until about ``leave`` bytes are free; the filler file is returned (delete it to free)."""
    filler = data_dir / "filler.bin"
    with open(filler, "wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 16384)
    stat = os.statvfs(data_dir)
    assert stat.f_bavail * stat.f_frsize < 16384 * 2
    with open(filler, "r+b") as out:
        out.truncate(max(0, filler.stat().st_size - leave))
    return filler


def test_a_full_disk_under_a_paid_run_keeps_the_result_at_fal_and_saves_it_once_space_is_freed(
        small_disk: Path, photo: str, fal_server: Any, fal_key: str, case: Any) -> None:
    case.tried = 4  # the run's words and status, no partial file, the next paid run refused, the result saved
    store.store()  # the history exists before the disk fills (as on a Space that ran before)
    from PIL import Image

    from core.inputs import images

    with Image.open(photo) as image:
        images.store(image.convert("RGB"))  # the input too: the disk fills with the output
    filler = fill(small_disk, leave=96 * 1024)
    updates = fal_run(photo, fal_key)
    message = failure(updates)
    request_id = updates[-1].run.request_id
    assert request_id and f"request {request_id}" in message
    assert "fal finished this run; the server's disk is full" in message and "saved when space is freed" in message
    assert len(fal_server.submits()) == 1
    assert not leftovers(small_disk)
    assert [row["status"] for row in rows(small_disk)] == ["unsaved"]

    with pytest.raises(StorageError, match="the server's disk is full"):
        fal_run(photo, fal_key, seed=2)
    assert len(fal_server.submits()) == 1  # refused up front: nothing sent, nothing spent

    filler.unlink()  # space is freed; the next run saves the waiting result first, then runs
    second = fal_run(photo, fal_key, seed=3)
    assert second[-1].stage == "done"
    saved = {row["request_id"]: row for row in rows(small_disk)}
    assert saved[request_id]["status"] == "completed" and Path(saved[request_id]["output_path"]).is_file()
    assert not saved[request_id]["error"]
    assert not unsaved.waiting() and not leftovers(small_disk)


def test_a_full_disk_under_a_free_run_fails_in_words_without_a_partial_file(small_disk: Path,
                                                                             tmp_path: Path) -> None:
    photo = noise_png(tmp_path / "large.png", (200, 200), seed=5)  # its output is larger than the room set aside
    store.store()
    from PIL import Image

    from core.inputs import images

    with Image.open(photo) as image:
        images.store(image.convert("RGB"))
    fill(small_disk, leave=64 * 1024)
    updates = drain(run_one(RunRequest({"upscale_factor": 4}, photo, "lanczos"), Visitor()))
    assert updates[-1].stage == "failed" and "the server's disk is full" in failure(updates)
    assert [row["status"] for row in rows(small_disk)] == ["failed"]
    assert not leftovers(small_disk)


# -- injected errors at each write site ------------------------------------------------------------------------

@contextlib.contextmanager
def rename_fails(code: int, under: str = "") -> Iterator[None]:
    """``os.replace`` (the rename that puts a written file in place) fails with ``code`` for targets under
    ``under``: the temporary file exists by then, so a leftover would show."""
    real = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if under in str(dst):
            raise OSError(code, os.strerror(code), str(dst))
        real(src, dst, *args, **kwargs)

    os.replace = replace  # type: ignore[assignment]
    try:
        yield
    finally:
        os.replace = real


@pytest.mark.parametrize("code", ERRNOS.values(), ids=ERRNOS.keys())
def test_the_fal_output_save_fails(code: int, photo: str, fal_server: Any, fal_key: str, tmp_path: Path) -> None:
    with rename_fails(code, under="outputs"):
        updates = fal_run(photo, fal_key)
    message = failure(updates)
    assert WORDS[code] in message and "fal finished this run" in message and updates[-1].run.request_id in message
    data_dir = config.data_dir()
    assert [row["status"] for row in rows(data_dir)] == ["unsaved"] and not leftovers(data_dir)
    assert asyncio.run(unsaved.save_again()) == 0  # the rename works again: saved on its own
    row = rows(data_dir)[0]
    assert row["status"] == "completed" and Path(row["output_path"]).is_file()


def test_a_waiting_result_is_saved_on_its_own_while_the_app_runs(photo: str, fal_server: Any, fal_key: str,
                                                                  tmp_path: Path) -> None:
    with rename_fails(errno.ENOSPC, under="outputs"):
        fal_run(photo, fal_key)
    assert len(unsaved.waiting()) == 1
    unsaved.keep_saving(interval=0.1)  # the app's loop (every 30 s), made quick for the test
    try:
        wait_for(lambda: not unsaved.waiting(), what="the waiting result to be saved by the loop")
    finally:
        unsaved.keep_saving()
    row = rows(config.data_dir())[0]
    assert row["status"] == "completed" and Path(row["output_path"]).is_file()


@pytest.mark.parametrize("code", ERRNOS.values(), ids=ERRNOS.keys())
def test_the_local_output_save_fails(code: int, photo: str, tmp_path: Path) -> None:
    with rename_fails(code, under="outputs"):
        updates = drain(run_one(RunRequest({"upscale_factor": 2}, photo, "lanczos"), Visitor()))
    assert updates[-1].stage == "failed" and WORDS[code] in failure(updates)
    data_dir = config.data_dir()
    assert [row["status"] for row in rows(data_dir)] == ["failed"] and not leftovers(data_dir)
    assert not unsaved.waiting()  # a free engine's result is not kept anywhere: nothing to wait for


@pytest.mark.parametrize("code", ERRNOS.values(), ids=ERRNOS.keys())
def test_storing_the_input_fails_so_nothing_is_sent(code: int, photo: str, fal_server: Any, fal_key: str,
                                                    tmp_path: Path) -> None:
    with rename_fails(code, under="inputs"), pytest.raises(StorageError, match=WORDS[code]):
        fal_run(photo, fal_key)
    assert not fal_server.submits() and not leftovers(config.data_dir())


@pytest.mark.parametrize("code", ERRNOS.values(), ids=ERRNOS.keys())
def test_a_thumbnail_save_fails(code: int, photo: str, tmp_path: Path) -> None:
    run = Run(engine="lanczos", arguments={}, input_path=photo)
    with rename_fails(code, under="thumbs"):
        assert thumbs.thumbnail(run, tmp_path) is None  # no thumbnail, never an error in the History
    assert not leftovers(tmp_path / "thumbs")
    assert thumbs.thumbnail(run, tmp_path)  # made once it can be


class Flaky:
    """A history connection whose statements matching ``when`` raise ``error`` while ``on`` is set."""

    def __init__(self, conn: sqlite3.Connection, error: BaseException, when: Callable[[str], bool]) -> None:
        self.conn, self.error, self.when, self.on = conn, error, when, True

    def execute(self, sql: str, *args: Any) -> Any:
        if self.on and self.when(sql):
            raise self.error
        return self.conn.execute(sql, *args)

    def cursor(self) -> Any:
        return Flaky(self.conn.cursor(), self.error, lambda sql: self.on and self.when(sql))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("conn", "error", "when", "on"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.conn, name, value)  # a cursor's row_factory


def flaky_history(error: BaseException, when: Callable[[str], bool]) -> Flaky:
    history = store.store()
    flaky = Flaky(history._conn, error, when)
    history._conn = flaky  # type: ignore[assignment]
    return flaky


@pytest.mark.parametrize("kind", SQLITE, ids=SQLITE.keys())
def test_the_history_refuses_the_first_save_so_nothing_is_sent(kind: str, photo: str, fal_server: Any,
                                                                fal_key: str) -> None:
    text, words = SQLITE[kind]
    flaky_history(sqlite3.OperationalError(text), lambda sql: sql.startswith("INSERT INTO runs"))
    with pytest.raises(StorageError, match=words) as refused:
        fal_run(photo, fal_key)
    assert "nothing was spent" in str(refused.value) or "Nothing was sent and nothing was spent" in str(refused.value)
    assert not fal_server.submits()


@pytest.mark.parametrize("kind", SQLITE, ids=SQLITE.keys())
def test_the_history_refuses_the_last_save_the_row_is_written_later(kind: str, photo: str, fal_server: Any,
                                                                    fal_key: str, tmp_path: Path) -> None:
    text, _ = SQLITE[kind]
    flaky = flaky_history(sqlite3.OperationalError(text), lambda sql: False)
    updates: list[Any] = []

    async def go() -> None:
        async for update in run_one(RunRequest({"upscale_factor": 2}, photo, "fal"), Visitor(typed_key=fal_key)):
            updates.append(update)
            if update.stage == "downloading":  # from here on the history refuses every write
                flaky.when = lambda sql: sql.startswith("INSERT INTO runs")

    asyncio.run(go())
    assert updates[-1].stage == "done" and Path(updates[-1].run.output_path).is_file()
    assert [row["status"] for row in rows(config.data_dir())] == ["running"]  # the history could not be told yet
    flaky.on = False
    asyncio.run(unsaved.save_again())  # what the app does every 30 s
    assert [row["status"] for row in rows(config.data_dir())] == ["completed"]


def budget_env(monkeypatch: pytest.MonkeyPatch, fal_key: str) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("FAL_KEY", fal_key)
    monkeypatch.setenv("CLARITY_RUNS_PER_MINUTE", "0")


def space_visitor() -> Visitor:
    return Visitor(owner="stranger", shared=True, address="203.0.113.9")


@pytest.mark.parametrize("kind", SQLITE, ids=SQLITE.keys())
def test_the_budget_reservation_fails(kind: str, photo: str, fal_server: Any, fal_key: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from core.sharing import budget

    budget_env(monkeypatch, fal_key)
    text, words = SQLITE[kind]
    ledger = budget.ledger()
    ledger._conn = Flaky(ledger._conn, sqlite3.OperationalError(text), lambda sql: "INSERT" in sql)  # type: ignore
    with pytest.raises(StorageError, match=words):
        drain(run_one(RunRequest({"upscale_factor": 2}, photo, "fal"), space_visitor()))
    assert not fal_server.submits()


def test_a_database_held_by_another_process_is_busy_nothing_is_spent(photo: str, fal_server: Any, fal_key: str,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    from core.sharing import budget

    budget_env(monkeypatch, fal_key)
    budget.ledger()  # the ledger's table exists
    holder = sqlite3.connect(config.data_dir() / "history.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StudioError) as refused:
            drain(run_one(RunRequest({"upscale_factor": 2}, photo, "fal"), space_visitor()))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "the history database is busy" in str(refused.value) and "nothing was spent — try again" in str(
        refused.value)
    assert not fal_server.submits()


@pytest.mark.parametrize("kind", SQLITE, ids=SQLITE.keys())
def test_a_sweep_record_fails(kind: str, photo: str) -> None:
    text, words = SQLITE[kind]
    flaky_history(sqlite3.OperationalError(text), lambda sql: sql.startswith("INSERT INTO sweeps"))
    from core.schema import PARAMETER_FIELDS

    defaults = {f.name: f.default for f in PARAMETER_FIELDS if f.name != "image_url"}
    request = SweepRequest(defaults, photo, "lanczos", x_axis="upscale_factor", x_values="1.5, 2")
    with pytest.raises(StorageError, match=words):
        drain(run_sweep(request, Visitor()))


def test_storage_words_every_kind() -> None:
    for code, words in WORDS.items():
        assert words in str(storage.error(OSError(code, os.strerror(code)), "save it"))
    for text, words in SQLITE.values():
        assert words in str(storage.error(sqlite3.OperationalError(text), "save it"))
    assert storage.error(OSError(errno.ENOENT, "gone"), "save it") is None  # not a resource: passes through


# -- through the public API: the words reach the caller, never an empty error ------------------------------------

def api_error(client: Any, photo: str, **params: Any) -> str:
    from gradio_client import handle_file

    with pytest.raises(Exception) as failed:
        client.submit(handle_file(photo), "", engine="fal", api_name="/upscale", **params).result(timeout=120)
    return str(failed.value)


def test_the_api_says_the_disk_is_full_and_keeps_the_result(client: Any, photo: str, fal_server: Any,
                                                            fal_key: str, monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    with rename_fails(errno.ENOSPC, under="outputs"):
        said = api_error(client, photo)
        assert [row["status"] for row in rows(config.data_dir())] == ["unsaved"]
        refused = api_error(client, photo, seed=9)  # the disk still full: the next paid run is refused up front
    assert "the server's disk is full" in said and "kept at fal as request" in said
    assert "upstream Gradio app has raised an exception" not in said
    assert "No new paid runs for now" in refused and "disk is full" in refused and len(fal_server.submits()) == 1


def test_the_api_says_the_history_is_busy(client: Any, photo: str, fal_server: Any, fal_key: str,
                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from core.sharing import budget

    budget_env(monkeypatch, fal_key)
    budget.ledger()
    holder = sqlite3.connect(config.data_dir() / "history.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        said = api_error(client, photo)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "the history database is busy" in said and "nothing was spent — try again" in said
    assert not fal_server.submits()
