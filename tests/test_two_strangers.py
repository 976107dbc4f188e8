"""Two strangers on a shared app (a Space), over raw HTTP and the public API, as a prober would try it: nothing
of one visitor — files, identity, request ids, limits — reaches the other.

The page's own events are called here the way the page calls them (``/gradio_api/queue/join`` with an event's
``fn_index``), since any visitor can do that by hand.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file

from core import config, presets
from tests.conftest import api_client, launched_app
from tests.reliability import noise_png


@pytest.fixture(scope="module")
def shared_app() -> Iterator[tuple[Any, str]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLARITY_SHARED", "1")  # read when the app is built: its sessions start shared
        demo, url = launched_app()
    yield demo, url
    demo.close()


@pytest.fixture(autouse=True)
def _shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("CLARITY_PROXY_HOPS", "1")  # each stranger at their own address, as a Space's proxy says


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A picture of this test's own (the fal engine reuses an upload URL per picture, and the test server forgets
    its files between tests)."""
    return noise_png(tmp_path / "stranger.png", (40, 30), seed=zlib.crc32(request.node.name.encode()))


def stranger(url: str, address: str) -> Client:
    return api_client(url, headers={"X-Forwarded-For": address})


def page_event(demo: Any, url: str, name: str, data: list[Any], session_hash: str,
               address: str = "192.0.2.1") -> list[Any]:
    """Call the page's event whose handler is ``name`` as the page does; returns its output data."""
    index = next(i for i, fn in demo.fns.items() if getattr(fn.fn, "__name__", "") == name)
    headers = {"X-Forwarded-For": address}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as http:
        joined = http.post("gradio_api/queue/join", json={"data": data, "fn_index": index, "event_data": None,
                                                           "session_hash": session_hash, "trigger_id": None})
        joined.raise_for_status()
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session_hash}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    assert message.get("success"), message
                    return message["output"]["data"]
    raise AssertionError(f"{name} never completed")


def identify(demo: Any, url: str, client: Client, token: str) -> str:
    """What the page does on load with the value kept in this browser; returns the value it keeps after."""
    return page_event(demo, url, "open_page", [token, None], client.session_hash)[0]


def history_ids(client: Client) -> list[str]:
    return [row[-1] for row in client.predict(api_name="/history")[0]["data"]]


def owner_of(run_id: str) -> str:
    with closing(sqlite3.connect(config.data_dir() / "history.sqlite3")) as conn:
        return conn.execute("SELECT owner FROM runs WHERE id = ?", (run_id,)).fetchone()[0]


def test_no_file_of_the_data_directory_is_served_by_path(shared_app, photo) -> None:
    demo, url = shared_app
    alice = stranger(url, "198.51.100.1")
    identify(demo, url, alice, "")
    alice.predict(handle_file(photo), "", upscale_factor=1, engine="local", api_name="/upscale")
    alice.predict(handle_file(photo), "", upscale_factor=1, engine="local", x_axis="upscale_factor",
                  x_values="1, 1.5", y_axis="", y_values="", api_name="/sweep")
    page_event(demo, url, "export_csv", ["", "any", "any", None], alice.session_hash, "198.51.100.1")
    presets.save("Alice look", "", {"creativity": 0.2}, owner="someone")
    files = [path for path in config.data_dir().rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"history.sqlite3", "server-secret"} <= names and any(n.endswith(".csv") for n in names), names
    served = {}
    with httpx.Client(base_url=url, timeout=30) as http:
        for path in files:
            for route in ("gradio_api/file=", "file="):
                answer = http.get(route + str(path))
                served[f"{route}{path.relative_to(config.data_dir())}"] = answer.status_code
    assert all(code in (403, 404) for code in served.values()), {k: v for k, v in served.items() if v < 400}


def test_no_stranger_reads_how_busy_the_app_is_from_gradios_monitoring_page(shared_app, photo) -> None:
    # Gradio's /monitoring/summary (on by default) answered anyone with every handler's name, its success rate and
    # timings: how much the Space's visitors had run, and how it went.
    demo, url = shared_app
    stranger(url, "198.51.100.7").predict(handle_file(photo), "", upscale_factor=1, engine="local",
                                          api_name="/upscale")
    with httpx.Client(base_url=url, timeout=30) as http:
        answer = http.get("monitoring/summary")
    assert answer.status_code in (403, 404) and "upscale" not in answer.text, answer.text[:300]


def test_results_and_details_carry_no_server_paths_or_owner_ids(shared_app, photo) -> None:
    demo, url = shared_app
    alice = stranger(url, "198.51.100.2")
    identify(demo, url, alice, "")
    _, result = alice.predict(handle_file(photo), "", upscale_factor=1, engine="local", api_name="/upscale")
    owner = owner_of(result["run_id"])
    data_dir = str(config.data_dir())
    history = alice.predict(api_name="/history")
    for shown in (json.dumps(result), json.dumps(history)):
        assert data_dir not in shown and owner not in shown


def test_a_forged_or_borrowed_owner_id_sees_nothing(shared_app, photo) -> None:
    demo, url = shared_app
    alice = stranger(url, "198.51.100.3")
    token = identify(demo, url, alice, "")
    _, result = alice.predict(handle_file(photo), "", upscale_factor=1, engine="local", api_name="/upscale")
    owner = owner_of(result["run_id"])
    assert history_ids(alice) == [result["run_id"]]

    for stolen in (owner,  # the id as the history file holds it
                   f"{owner}.{'0' * 64}",  # with a made-up signature
                   token[:-1] + ("0" if token[-1] != "0" else "1"),  # a signature off by one character
                   f"{owner}.{token.split('.')[1][:32]}"):  # a truncated signature
        mallory = stranger(url, "203.0.113.9")
        kept = identify(demo, url, mallory, stolen)
        assert kept != stolen and history_ids(mallory) == [], stolen
    again = stranger(url, "198.51.100.3")  # Alice reloading the page: her own token still works
    assert identify(demo, url, again, token) == token and history_ids(again) == [result["run_id"]]


def test_fetch_by_request_id_never_follows_a_strangers_request_with_the_spaces_key(
        shared_app, photo, fal_server, fal_key, monkeypatch) -> None:
    demo, url = shared_app
    monkeypatch.setenv("FAL_KEY", fal_key)  # the Space owner's key, as a secret
    fal_server.set_default(queue_polls=1, run_polls=1)
    alice, bob = stranger(url, "198.51.100.4"), stranger(url, "198.51.100.5")
    identify(demo, url, alice, "")
    identify(demo, url, bob, "")
    _, result = alice.predict(handle_file(photo), "", engine="fal", api_name="/upscale")
    request_id = result["request_id"]
    asked = len(fal_server.requests)
    with pytest.raises(Exception, match="not in your history"):
        bob.predict(request_id, api_name="/fetch")
    assert not [r for r in fal_server.requests[asked:] if request_id in r.path]  # nothing asked of fal
    assert history_ids(bob) == []
    _, again = alice.predict(request_id, api_name="/fetch")  # her own request: shown from her history
    assert again["run_id"] == result["run_id"]


def test_a_strangers_run_and_sweep_cannot_be_read_cancelled_or_retried_by_id(shared_app, photo) -> None:
    """/status, /cancel, /retry, /cells and /fetch look an id up in the caller's own history only: Bob, knowing
    Alice's run id, request id and sweep id, is told they are not in his; his 'latest' is his own (none)."""
    demo, url = shared_app
    alice, bob = stranger(url, "198.51.100.10"), stranger(url, "198.51.100.11")
    identify(demo, url, alice, "")
    identify(demo, url, bob, "")
    _, result = alice.predict(handle_file(photo), "", upscale_factor=1, engine="local", api_name="/upscale")
    summary = alice.predict(handle_file(photo), "", upscale_factor=1, engine="local", x_axis="upscale_factor",
                            x_values="1, 1.5", y_axis="", y_values="", api_name="/sweep")[2]
    for wanted in (result["run_id"], result["request_id"], summary["sweep_id"], "latest"):
        for endpoint in ("/status", "/cancel", "/retry"):
            with pytest.raises(Exception, match="in your history"):
                bob.predict(wanted, api_name=endpoint)
    for wanted in (summary["sweep_id"], "latest"):
        with pytest.raises(Exception, match="in your history"):
            bob.predict(wanted, api_name="/cells")
    with pytest.raises(Exception, match="in your history"):
        bob.predict(result["run_id"], api_name="/fetch")
    assert history_ids(bob) == []  # nothing ran for him, nothing of hers changed
    assert alice.predict(result["run_id"], api_name="/status")["status"] == "completed"
    pictures, cells = alice.predict(summary["sweep_id"], api_name="/cells")
    assert len(pictures) == 2 and cells["counts"] == {"completed": 2}
    assert len(history_ids(alice)) == 3


def test_the_confirmation_threshold_and_the_hard_cap_hold_on_the_api(shared_app, photo, fal_server, fal_key,
                                                                      monkeypatch) -> None:
    demo, url = shared_app
    monkeypatch.setenv("FAL_KEY", fal_key)
    monkeypatch.setenv("CLARITY_CONFIRM_PRICE", "0.00001")
    fal_server.set_default(queue_polls=1, run_polls=1)
    caller = stranger(url, "198.51.100.6")
    sweep = {"engine": "fal", "x_axis": "seed", "x_values": "1, 2", "y_axis": "", "y_values": "",
             "api_name": "/sweep"}
    with pytest.raises(Exception, match="confirm=True"):
        caller.predict(handle_file(photo), "", **sweep)
    assert fal_server.submits() == []  # refused before anything reached fal
    csv, _, _ = caller.predict(handle_file(photo), "", confirm=True, **sweep)
    assert len(Path(csv).read_text(encoding="utf-8-sig").splitlines()) == 3
    with pytest.raises(Exception, match="limited to 100 cells"):
        caller.predict(handle_file(photo), "", confirm=True, **{**sweep, "x_values": "1-101"})


def test_opening_more_sessions_does_not_multiply_the_job_limit(shared_app, photo, fal_server, fal_key,
                                                               monkeypatch) -> None:
    demo, url = shared_app
    monkeypatch.setenv("FAL_KEY", fal_key)
    monkeypatch.setenv("CLARITY_MAX_JOBS_PER_VISITOR", "1")
    fal_server.set_default(stall=True)
    first = stranger(url, "198.51.100.7")
    job = first.submit(handle_file(photo), "", engine="fal", api_name="/upscale")
    deadline = time.time() + 30
    while not fal_server.submits() and time.time() < deadline:
        time.sleep(0.1)
    try:
        for _ in range(3):  # each a new session, as a script opens them: the same address, the same limit
            with pytest.raises(Exception, match="from your network address"):
                stranger(url, "198.51.100.7").predict(handle_file(photo), "", engine="fal", api_name="/upscale")
        assert len(fal_server.submits()) == 1
    finally:
        fal_server.set_default(stall=False)
        job.cancel()


def test_a_giant_request_body_is_refused_before_it_is_read(shared_app, monkeypatch) -> None:
    _, url = shared_app
    monkeypatch.setenv("CLARITY_MAX_UPLOAD_MB", "1")  # a data URI over ~1.3 MB is refused at the door
    uri = "data:image/png;base64," + "A" * (3 * 2**20)
    body = json.dumps({"data": [None, uri, "p", 2, "n", 0.35, 0.6, 4, 18, None, True, "local"]}).encode()
    with httpx.Client(base_url=url, timeout=30) as http:
        declared = http.post("gradio_api/call/upscale", content=body, headers={"content-type": "application/json"})

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            for start in range(0, len(body), 2**16):
                yield body[start:start + 2**16]

        streamed = http.post("gradio_api/call/upscale", content=chunks(), headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "limited to 1 MB" in declared.json()["error"]
    assert streamed.status_code in (400, 413)  # refused while it streams (FastAPI may report it as unreadable)
