"""Test setup. The fal test server's environment (a proxy that takes fal's host names to it, and the test CA)
is prepared at import time, before any test builds an httpx client (see ``testsupport/fal_server/__init__.py``)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from testsupport.apps import free_port  # noqa: E402  (the path must be set first)
from testsupport.fal_server import prepare_environment  # noqa: E402

_ENVIRONMENT = prepare_environment()
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
# One Gradio temp dir for the whole session: the in-process app checks uploads against it on every call.
# setdefault: importing this module again (``from tests.conftest import ...``) must not move it under a running app.
os.environ.setdefault("CLARITY_TEST_GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="clarity-gradio-"))
os.environ["GRADIO_TEMP_DIR"] = os.environ["CLARITY_TEST_GRADIO_TEMP_DIR"]

import pytest  # noqa: E402

pytest_plugins = ["testsupport.fal_server.fixtures"]


def _outside_gradios_reach() -> Path:
    """A folder for the tests' data directories outside the system's temp directory and the working directory, as
    a Space's persistent ``/data`` is: Gradio hands out, unasked, only files in those two (and its cache), so a
    handler that gives the page a data-directory file without ``components.common.files.served`` fails here as it
    fails on a Space (a user trial: every picture shown in the form was an Error with ``CLARITY_DATA_DIR`` set)."""
    for parent in (Path("/var/tmp"), Path.home() / ".cache"):
        temp, here = Path(tempfile.gettempdir()).resolve(), Path.cwd().resolve()
        if parent.is_dir() and os.access(parent, os.W_OK) and not parent.resolve().is_relative_to(temp) \
                and not parent.resolve().is_relative_to(here):
            return Path(tempfile.mkdtemp(prefix="clarity-test-data-", dir=parent))
    raise RuntimeError("no writable folder outside the temp and working directories for the tests' data")


@pytest.fixture(scope="session")
def _data_root() -> Iterator[Path]:
    root = _outside_gradios_reach()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _data_root: Path) -> None:
    """Keep every test's data in its own folder, outside Gradio's reach (``_outside_gradios_reach``)."""
    monkeypatch.setenv("CLARITY_DATA_DIR", str(_data_root / tmp_path.name / "data"))


@pytest.fixture(autouse=True)
def _working_fal_account() -> None:
    """Each test starts with the Space's fal account working: a refusal another test's run met is that test's
    (the account's state is the process's: core/sharing/owner.py)."""
    from core.sharing import owner

    owner.account_ok()


@pytest.fixture(autouse=True)
def _fresh_fal_engines() -> None:
    """Each test makes its own fal engine for a key, as a fresh app would: an engine strangers used keeps telling
    them less (it stays the Space's), and one keeps the uploads it made to another test's fal server."""
    from core.engines import fal

    fal._engines.clear()



def launched_app() -> tuple[object, str]:
    """The whole app built and launched in-process on a free port: (demo, base URL).

    Launched a second time if Gradio's own first look at the page fails: ``launch`` asks for it once with a 3 s
    timeout and gives up at the first timeout ("When localhost is not accessible, a shareable link must be
    created"), which a loaded CI machine met once while this process served another app and its browsers."""
    import app

    for attempt in (1, 2):
        demo = app.build()
        port = free_port()
        try:
            app.launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
        except ValueError as exc:
            demo.close()
            if attempt == 2 or "localhost is not accessible" not in str(exc):
                raise
            continue
        return demo, f"http://127.0.0.1:{port}/"
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def studio() -> Iterator[str]:
    """The app launched in-process once per session; yields its base URL.

    Each test still has its own data directory: the handlers read ``CLARITY_DATA_DIR`` when they run.
    """
    demo, url = launched_app()
    yield url
    demo.close()


def api_client(url: str, **kwargs: Any):
    """A gradio_client session on the app at ``url`` (``kwargs``: ``Client``'s, e.g. ``headers``).

    Its requests wait up to 60 s: ``Client`` reads the app's config with httpx's default of 5 s, and on a loaded
    CI machine one read took longer (a ReadTimeout before the test began; the same read takes ~0.04 s at idle).
    """
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs={"timeout": 60}, **kwargs)


@pytest.fixture
def client(studio: str):
    """A fresh gradio_client session on the running app (its own gr.State, like a new browser tab)."""
    return api_client(studio)


def upgraded_elsewhere_meanwhile(path: Path, add_column: str) -> threading.Thread:
    """Another process takes the file's write lock, adds ``add_column`` (the upgrade this version makes) half a
    second later and commits, while this process opens the same file."""
    held = threading.Event()

    def upgrade() -> None:
        with closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(0.5)
            other.execute(add_column)
            other.execute("COMMIT")

    thread = threading.Thread(target=upgrade)
    thread.start()
    held.wait(5)
    return thread
